package columnar

import (
	"slices"
	"sync"
	"sync/atomic"
)

// pqPageShare holds the decompressed bytes of data pages that more than one
// reader needs: a long table's samples rarely end where a page does (the
// bench file's pages hold 65,536 rows, its samples 60,000), so that nearly
// every page holds the end of one sample and the start of the next, which
// workers read at the same time or one after the other. The first cursor
// to claim a page it reads only part of decompresses it, and leaves it
// here with the count of the page's rows it did not read; a cursor that
// claims the page after takes its rows off that count (waiting, if the
// page is still being decompressed, rather than decompressing it a second
// time: workers reading neighbouring samples meet at the same page at
// nearly the same moment). The page leaves the share when no row is left
// (or, past the share's bound, the oldest page leaves first).
//
// The bytes are never written after they are shared. They are held in a
// pqPageBuf, counted: by the share while the page is in it and by each
// cursor until it moves on to another page, so that the buffer goes back
// to be used again when the last of them lets go, instead of leaving a
// page's worth of garbage for every page of the file.
type pqPageShare struct {
	mu    sync.Mutex
	pages []*pqSharedPage
	bytes int // of the pages held
}

type pqSharedPage struct {
	off  int64      // file offset of the page header: the key
	buf  *pqPageBuf // the page's bytes, decompressed (nil until ready); one of its holds is the share's while listed
	left int64      // rows of the page that no cursor has claimed yet
	// ready is closed once the claiming cursor has decompressed the page
	// (buf set) or failed to (buf nil); waiters are the cursors waiting
	// for it, each given a hold of buf then.
	ready   chan struct{}
	waiters int32
	listed  bool // in pages
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

// claim looks up the page at off for a cursor that reads used of its rows
// rows. When another cursor has claimed the page it returns the page's
// bytes, held once for the caller, waiting until they are ready. Otherwise
// (or when that cursor failed to decompress them) it returns nil, and the
// caller must decompress the page and call fill with the bytes, held once
// for the caller, or with nil when it fails; for a page with rows left for
// others, fill hands them the bytes.
func (s *pqPageShare) claim(off, used, rows int64) (buf *pqPageBuf, fill func(*pqPageBuf)) {
	s.mu.Lock()
	for _, p := range s.pages {
		if p.off != off {
			continue
		}
		if p.buf != nil { // ready
			p.buf.holds.Add(1)
			buf = p.buf
			s.use(p, used)
			s.mu.Unlock()
			return buf, nil
		}
		p.waiters++
		s.use(p, used)
		s.mu.Unlock()
		<-p.ready
		if p.buf == nil { // the other cursor failed: this one tries
			return nil, noFill
		}
		return p.buf, nil
	}
	if used >= rows { // no other cursor reads this page
		s.mu.Unlock()
		return nil, noFill
	}
	p := &pqSharedPage{off: off, left: rows - used, ready: make(chan struct{}), listed: true}
	s.pages = append(s.pages, p)
	s.mu.Unlock()
	return nil, func(b *pqPageBuf) { s.fill(p, b) }
}

// noFill is claim's fill for a page no other cursor waits for.
func noFill(*pqPageBuf) {}

// fill makes page p ready with the bytes b (held once by the claiming
// cursor), or nil when they could not be decompressed: the waiters get a
// hold each, and the share one while it lists the page.
func (s *pqPageShare) fill(p *pqSharedPage, b *pqPageBuf) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(p.ready)
	if b == nil {
		if p.listed {
			s.unlist(p)
		}
		return
	}
	b.holds.Add(p.waiters)
	p.buf = b
	if !p.listed {
		return
	}
	n := len(b.data)
	if n > pqShareMaxBytes {
		s.unlist(p)
		return
	}
	for len(s.pages) > 0 && s.bytes+n > pqShareMaxBytes {
		oldest := s.pages[0]
		if oldest == p {
			break
		}
		if oldest.buf == nil { // still being decompressed: it stays
			break
		}
		s.remove(oldest)
	}
	if s.bytes+n > pqShareMaxBytes {
		s.unlist(p)
		return
	}
	b.holds.Add(1)
	s.bytes += n
}

// use takes used rows off page p's count, removing it when none are left.
func (s *pqPageShare) use(p *pqSharedPage, used int64) {
	if p.left -= used; p.left <= 0 {
		s.remove(p)
	}
}

// remove takes page p out of the list, letting go of the share's hold
// when the page is ready (a page not yet ready then never takes one).
func (s *pqPageShare) remove(p *pqSharedPage) {
	if p.buf != nil {
		s.bytes -= len(p.buf.data)
		p.buf.release()
	}
	s.unlist(p)
}

// unlist takes page p out of the list.
func (s *pqPageShare) unlist(p *pqSharedPage) {
	if i := slices.Index(s.pages, p); i >= 0 {
		s.pages = slices.Delete(s.pages, i, i+1)
	}
	p.listed = false
}
