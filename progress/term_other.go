//go:build !linux

package progress

import "os"

// IsTerminal reports whether f is a character device, the closest test
// without a system-specific ioctl (it also says yes for /dev/null).
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
