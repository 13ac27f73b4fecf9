package columnar

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// An AtomicFile written with UseDirectIO holds exactly the bytes written,
// whatever their number (below, at and beyond the alignment and the
// buffer) and the sizes of the writes, in a folder of the test's and, where
// there is one, in /dev/shm (tmpfs, which may refuse O_DIRECT: the writes
// then go through the page cache); Abort leaves no file.
func TestAtomicFileDirectIO(t *testing.T) {
	dirs := []string{t.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "colnorm-test-*"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			dirs = append(dirs, d)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, dir := range dirs {
		for _, n := range []int{0, 1, directIOAlign - 1, directIOAlign, directIOAlign + 1, directIOBuffer - 1, directIOBuffer, directIOBuffer + 1, 3*directIOBuffer + directIOBuffer/2 + 7} {
			want := make([]byte, n)
			for i := range want {
				want[i] = byte(r.Uint32())
			}
			path := filepath.Join(dir, "out.bin")
			f, err := CreateAtomic(path)
			if err != nil {
				t.Fatal(err)
			}
			direct := f.UseDirectIO()
			for rest := want; len(rest) > 0; {
				k := min(len(rest), 1+r.IntN(3*directIOAlign))
				if r.IntN(10) == 0 {
					k = min(len(rest), directIOBuffer+r.IntN(directIOBuffer)) // larger than the buffer
				}
				if m, err := f.Write(rest[:k]); err != nil || m != k {
					t.Fatalf("%s: write of %d bytes: %d, %v", dir, k, m, err)
				}
				rest = rest[k:]
			}
			if err := f.Commit(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: %d bytes written (direct I/O %v), %d read back, first difference at %d", dir, n, direct, len(got), firstDiff(got, want))
			}
			if n == directIOBuffer+1 {
				t.Logf("%s: direct I/O %v", dir, direct)
			}
		}
		// Abort: no file, no temporary file.
		f, err := CreateAtomic(filepath.Join(dir, "aborted.bin"))
		if err != nil {
			t.Fatal(err)
		}
		f.UseDirectIO()
		f.Write(make([]byte, directIOBuffer+5))
		f.Abort()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() != "out.bin" {
				t.Errorf("%s: %s left after Abort", dir, e.Name())
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
