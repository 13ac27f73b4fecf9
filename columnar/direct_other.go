//go:build !linux

package columnar

import "os"

// setDirect uses O_DIRECT on Linux only: elsewhere it never turns it on,
// and turning it off succeeds.
func setDirect(f *os.File, on bool) bool { return !on }
