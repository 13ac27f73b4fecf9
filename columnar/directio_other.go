//go:build !linux || !(amd64 || arm64)

package columnar

import "os"

// setDirectIO reports that O_DIRECT is not at hand: writes go through the
// page cache.
func setDirectIO(*os.File, bool) bool { return false }
