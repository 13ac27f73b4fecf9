package columnar

import "sync"

// pqPageShare holds the decompressed bytes of data pages that more than one
// reader needs: a long table's samples rarely end where a page does (the
// bench file's pages hold 65,536 rows, its samples 60,000), so that nearly
// every page holds the end of one sample and the start of the next, which
// workers read at the same time or one after the other. A cursor that
// decompresses a page it reads only part of leaves the bytes here with the
// count of the page's rows it did not read; a cursor that finds the page
// here takes its rows off that count, and the page leaves the share when no
// row is left (or, past the share's bound, the oldest page leaves first).
// The bytes are never written after they are shared: a cursor still
// decoding a page that has left the share keeps it alive.
type pqPageShare struct {
	mu    sync.Mutex
	pages []pqSharedPage
	bytes int // of the pages held
}

type pqSharedPage struct {
	off  int64  // file offset of the page header: the key
	data []byte // the page's bytes, decompressed
	left int64  // rows of the page that no cursor has read yet
}

// pqShareMaxBytes bounds the bytes a share holds: the pages of the samples
// being read by a few workers. A variable for tests.
var pqShareMaxBytes = 16 << 20

// take returns the bytes of the page at off, or nil, and takes used rows off
// the page's count.
func (s *pqPageShare) take(off int64, used int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.pages {
		if p := &s.pages[i]; p.off == off {
			data := p.data
			s.use(i, used)
			return data
		}
	}
	return nil
}

// put leaves the bytes of the page at off, of which left rows are still to
// be read; or, when another cursor put the same page meanwhile, takes the
// rows it read (rows-left) off that page's count.
func (s *pqPageShare) put(off int64, data []byte, rows, left int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.pages {
		if s.pages[i].off == off {
			s.use(i, rows-left)
			return
		}
	}
	for len(s.pages) > 0 && s.bytes+len(data) > pqShareMaxBytes {
		s.remove(0)
	}
	if len(data) > pqShareMaxBytes {
		return
	}
	s.pages = append(s.pages, pqSharedPage{off: off, data: data, left: left})
	s.bytes += len(data)
}

// use takes used rows off page i's count, removing it when none are left.
func (s *pqPageShare) use(i int, used int64) {
	if s.pages[i].left -= used; s.pages[i].left <= 0 {
		s.remove(i)
	}
}

func (s *pqPageShare) remove(i int) {
	s.bytes -= len(s.pages[i].data)
	s.pages = append(s.pages[:i], s.pages[i+1:]...)
}
