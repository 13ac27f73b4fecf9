//go:build unix

package columnar

import "syscall"

// mapAnonymous maps size bytes of private anonymous memory: outside the Go
// heap, and resident only once touched.
func mapAnonymous(size int) ([]byte, error) {
	return syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func unmapAnonymous(b []byte) { syscall.Munmap(b) }
