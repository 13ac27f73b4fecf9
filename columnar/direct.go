package columnar

import (
	"errors"
	"os"
)

// directBlock is the size of the blocks a directFile writes: a multiple of
// the logical block size of any disk (a variable for the tests).
var directBlock = 4 << 20

var errDirectOff = errors.New("cannot turn O_DIRECT off")

// directFile is an AtomicFile whose blocks go from an aligned buffer to the
// disk with O_DIRECT, where the system and the file system allow it (Linux;
// ext4, XFS, btrfs): no copy into the page cache, whose fresh pages cost
// more than the write itself on virtual machines, and little left for the
// sync of Commit. The last, partial block is written through the page
// cache. A block the file system refuses after all is written through the
// page cache too, and so is everything after it.
type directFile struct {
	a      *AtomicFile
	block  []byte // directBlock bytes, page-aligned (mapAnonymous)
	n      int    // bytes in block
	direct bool
}

// createOutput creates path as an AtomicFile, written with O_DIRECT
// (directFile) where it can be.
func createOutput(path string) (committer, error) {
	a, err := CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	if !setDirect(a.File, true) {
		return a, nil
	}
	block, err := mapAnonymous(directBlock)
	if err != nil {
		setDirect(a.File, false)
		return a, nil
	}
	return &directFile{a: a, block: block, direct: true}, nil
}

func (d *directFile) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		k := copy(d.block[d.n:], p[done:])
		d.n += k
		done += k
		if d.n == len(d.block) {
			if err := d.flush(); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// flush writes the bytes in block.
func (d *directFile) flush() error {
	n, err := d.a.File.Write(d.block[:d.n])
	if err != nil && d.direct { // refused: the rest through the page cache
		d.direct = false
		if setDirect(d.a.File, false) {
			var m int
			m, err = d.a.File.Write(d.block[n:d.n])
			n += m
		}
	}
	d.n = 0
	return err
}

// Commit writes the last block through the page cache, then syncs, closes
// and renames the file (AtomicFile.Commit).
func (d *directFile) Commit() error {
	defer d.release()
	if d.direct && !setDirect(d.a.File, false) {
		d.a.Abort()
		return &os.PathError{Op: "write", Path: d.a.final, Err: errDirectOff}
	}
	d.direct = false
	if err := d.flush(); err != nil {
		d.a.Abort()
		return err
	}
	return d.a.Commit()
}

func (d *directFile) Abort() error {
	defer d.release()
	return d.a.Abort()
}

func (d *directFile) release() {
	if d.block != nil {
		unmapAnonymous(d.block)
		d.block = nil
	}
}
