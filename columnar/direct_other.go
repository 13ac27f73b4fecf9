//go:build !linux

package columnar

import (
	"errors"
	"os"
)

var errDirectOff = errors.New("cannot turn O_DIRECT off")

// setDirect: O_DIRECT is used on Linux only.
func setDirect(f *os.File, on bool) bool { return !on }
