package columnar

import (
	"sync"
	"sync/atomic"
)

// pqPageShare holds the decompressed bytes of data pages that more than one
// reader needs: a long table's samples rarely end where a page does (the
// bench file's pages hold 65,536 rows, its samples 60,000), so that nearly
// every page holds the end of one sample and the start of the next, which
// workers read at the same time or one after the other. A cursor that
// decompresses a page it reads only part of leaves the bytes here with the
// count of the page's rows it did not read; a cursor that finds the page
// here takes its rows off that count, and the page leaves the share when no
// row is left (or, past the share's bound, the oldest page leaves first).
// The bytes are never written after they are shared. They are held in a
// pqPageBuf, counted: by the share while the page is in it and by each
// cursor until it moves on to another page, so that the buffer goes back
// to be used again when the last of them lets go, instead of leaving a
// page's worth of garbage for every page of the file.
type pqPageShare struct {
	mu    sync.Mutex
	pages []pqSharedPage
	bytes int // of the pages held
}

type pqSharedPage struct {
	off  int64      // file offset of the page header: the key
	buf  *pqPageBuf // the page's bytes, decompressed; one of its holds is the share's
	left int64      // rows of the page that no cursor has read yet
}

// pqPageBuf is the decompressed bytes of a page that more than one holder
// may read (see pqPageShare); it goes back to pqPageBufs when the last
// holder releases it.
type pqPageBuf struct {
	data  []byte
	holds atomic.Int32
}

var (
	pqPageBufs     = sync.Pool{New: func() any { return new(pqPageBuf) }}
	pqPageBufsHeld atomic.Int64 // buffers out of the pool: for the tests
)

// newPQPageBuf returns a buffer from the pool, held once (by the caller).
func newPQPageBuf() *pqPageBuf {
	b := pqPageBufs.Get().(*pqPageBuf)
	b.holds.Store(1)
	pqPageBufsHeld.Add(1)
	return b
}

// release lets go of one hold; the last one hands the buffer back.
func (b *pqPageBuf) release() {
	switch n := b.holds.Add(-1); {
	case n == 0:
		pqPageBufsHeld.Add(-1)
		pqPageBufs.Put(b)
	case n < 0:
		panic("columnar: a page buffer released more times than it was held")
	}
}

// pqShareMaxBytes bounds the bytes a share holds: the pages of the samples
// being read by a few workers. A variable for tests.
var pqShareMaxBytes = 16 << 20

// take returns the bytes of the page at off, held once for the caller, or
// nil, and takes used rows off the page's count.
func (s *pqPageShare) take(off int64, used int64) *pqPageBuf {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.pages {
		if p := &s.pages[i]; p.off == off {
			buf := p.buf
			buf.holds.Add(1)
			s.use(i, used)
			return buf
		}
	}
	return nil
}

// put leaves the bytes of the page at off, of which left rows are still to
// be read, holding buf once more for the share; or, when another cursor
// put the same page meanwhile, takes the rows it read (rows-left) off that
// page's count.
func (s *pqPageShare) put(off int64, buf *pqPageBuf, rows, left int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.pages {
		if s.pages[i].off == off {
			s.use(i, rows-left)
			return
		}
	}
	n := len(buf.data)
	for len(s.pages) > 0 && s.bytes+n > pqShareMaxBytes {
		s.remove(0)
	}
	if n > pqShareMaxBytes {
		return
	}
	buf.holds.Add(1)
	s.pages = append(s.pages, pqSharedPage{off: off, buf: buf, left: left})
	s.bytes += n
}

// use takes used rows off page i's count, removing it when none are left.
func (s *pqPageShare) use(i int, used int64) {
	if s.pages[i].left -= used; s.pages[i].left <= 0 {
		s.remove(i)
	}
}

func (s *pqPageShare) remove(i int) {
	s.bytes -= len(s.pages[i].buf.data)
	s.pages[i].buf.release()
	s.pages = append(s.pages[:i], s.pages[i+1:]...)
}
