package columnar

import (
	"os"
	"syscall"
)

// setDirect turns O_DIRECT on or off for f, and reports whether it did.
// It turns it on only on ext4, XFS and btrfs: local disks, where direct
// writes of large blocks are fast; over NFS each would wait for the server.
func setDirect(f *os.File, on bool) bool {
	raw, err := f.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	raw.Control(func(fd uintptr) {
		if on {
			var st syscall.Statfs_t
			if syscall.Fstatfs(int(fd), &st) != nil {
				return
			}
			switch uint32(st.Type) {
			case 0xEF53, 0x58465342, 0x9123683E: // ext2/3/4, XFS, btrfs
			default:
				return
			}
		}
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if e != 0 {
			return
		}
		if on {
			flags |= syscall.O_DIRECT
		} else {
			flags &^= syscall.O_DIRECT
		}
		_, _, e = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags)
		ok = e == 0
	})
	return ok
}
