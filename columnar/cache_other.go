//go:build !unix

package columnar

// mapAnonymous falls back to the Go heap where there is no mmap.
func mapAnonymous(size int) ([]byte, error) { return make([]byte, size), nil }

func unmapAnonymous([]byte) {}
