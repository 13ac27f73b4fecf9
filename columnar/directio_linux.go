//go:build linux && (amd64 || arm64)

package columnar

import (
	"os"
	"syscall"
)

// setDirectIO turns O_DIRECT on or off for f: writes that go from the
// program's memory to the disk without the page cache. It reports whether
// the flag could be set.
func setDirectIO(f *os.File, on bool) bool {
	c, err := f.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	c.Control(func(fd uintptr) {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if errno != 0 {
			return
		}
		if on {
			flags |= syscall.O_DIRECT
		} else {
			flags &^= syscall.O_DIRECT
		}
		_, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags)
		ok = errno == 0
	})
	return ok
}
