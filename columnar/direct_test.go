package columnar

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestDirectFile: an output written in pieces of many sizes through a
// directFile (blocks of 64 KiB here) has every byte in order, the last
// partial block included, and the temporary file is gone; with O_DIRECT
// on (the file systems that allow it), a block it refuses (misaligned
// here) is written through the page cache, and so is the rest. Abort
// leaves nothing.
func TestDirectFile(t *testing.T) {
	defer func(n int) { directBlock = n }(directBlock)
	directBlock = 64 << 10
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, 3*directBlock+777)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, misalign := range []bool{false, true} {
		path := filepath.Join(dir, "out.bin")
		out, err := createOutput(path)
		if err != nil {
			t.Fatal(err)
		}
		d, direct := out.(*directFile)
		t.Logf("O_DIRECT: %v", direct)
		if misalign {
			if !direct {
				continue // this file system takes no O_DIRECT writes
			}
			d.block = d.block[1:] // neither the address nor the length is aligned
		}
		rest := data
		for _, n := range []int{1, 1000, directBlock, 3, directBlock + 5, 70000} {
			n = min(n, len(rest))
			if k, err := out.Write(rest[:n]); err != nil || k != n {
				t.Fatalf("wrote %d of %d bytes: %v", k, n, err)
			}
			rest = rest[n:]
		}
		if _, err := out.Write(rest); err != nil {
			t.Fatal(err)
		}
		if direct && d.direct == misalign {
			t.Errorf("misaligned blocks %v: O_DIRECT on = %v after the writes", misalign, d.direct)
		}
		if err := out.Commit(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("misaligned %v: read back %d bytes, wrote %d (equal prefix: %v)", misalign, len(got), len(data), bytes.HasPrefix(data, got))
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("the folder holds %d files, want the output alone", len(entries))
		}
		os.Remove(path)
	}
	out, err := createOutput(filepath.Join(dir, "aborted.bin"))
	if err != nil {
		t.Fatal(err)
	}
	out.Write(data)
	if err := out.Abort(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("after Abort the folder holds %d files", len(entries))
	}
}
