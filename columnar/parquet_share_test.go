package columnar

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestPQPageShareCounts follows pages through the share: the first claim
// decompresses and fills, later claims take their rows off the page's
// count and hold its bytes, and the page leaves the share (which lets go
// of its hold) once no row is left; a claim of a page being decompressed
// waits for it and gets a hold, or nil when the decompression fails; a
// page read whole is not shared; the bytes held stay within the bound,
// the oldest ready page leaving first, and a page beyond the bound still
// reaches its waiters.
func TestPQPageShareCounts(t *testing.T) {
	var s pqPageShare
	held := pqPageBufsHeld.Load()
	if b, fill := s.claim(100, 4, 10); b != nil || fill == nil { // the reader of 4 of 10 rows
		t.Fatalf("first claim: %v, want nil and a fill", b)
	} else {
		a := testPageBuf("page a")
		fill(a)
		if len(s.pages) != 1 || s.pages[0].left != 6 || a.holds.Load() != 2 || s.bytes != 6 {
			t.Fatalf("after fill: %d pages, %d bytes, %d holds; want one page with 6 rows left, held by the share and its reader", len(s.pages), s.bytes, a.holds.Load())
		}
		a.release() // its reader moves on
		b1, _ := s.claim(100, 3, 10)
		b2, _ := s.claim(100, 3, 10)
		if b1 != a || b2 != a || len(s.pages) != 0 || s.bytes != 0 || a.holds.Load() != 2 {
			t.Fatalf("after the other readers: %d pages, %d bytes, %d holds; want page a, none left, held by the two readers", len(s.pages), s.bytes, a.holds.Load())
		}
		a.release()
		a.release()
	}
	if b, fill := s.claim(100, 1, 10); b != nil || fill == nil {
		t.Fatal("a claim of a page gone does not decompress it again")
	} else {
		fill(nil) // ... and fails
	}
	if len(s.pages) != 0 {
		t.Fatalf("a failed page stays listed: %d pages", len(s.pages))
	}
	// A page read whole is not listed.
	if b, fill := s.claim(300, 10, 10); b != nil || fill == nil {
		t.Fatal("a page read whole: want nil and a fill")
	} else {
		whole := testPageBuf("whole")
		fill(whole)
		if len(s.pages) != 0 || whole.holds.Load() != 1 {
			t.Fatalf("a page read whole is listed (%d pages) or held %d times", len(s.pages), whole.holds.Load())
		}
		whole.release()
	}
	// Claims of a page being decompressed wait for it.
	// waitFor claims first of page off's 10 rows, then starts two claims
	// of 4 rows each, which wait.
	waitFor := func(off, first int64) (chan *pqPageBuf, func(*pqPageBuf)) {
		_, fill := s.claim(off, first, 10)
		got := make(chan *pqPageBuf)
		for range 2 {
			go func() { b, _ := s.claim(off, 4, 10); got <- b }()
		}
		time.Sleep(20 * time.Millisecond)
		select {
		case b := <-got:
			t.Fatalf("a claim of page %d returned %v before its bytes were ready", off, b)
		default:
		}
		return got, fill
	}
	got, fill := waitFor(200, 2)
	b := testPageBuf("page b")
	fill(b)
	if g1, g2 := <-got, <-got; g1 != b || g2 != b || b.holds.Load() != 3 || len(s.pages) != 0 {
		t.Fatalf("waiters got %v and %v, %d holds, %d pages; want page b held by its three readers, gone from the share", g1, g2, b.holds.Load(), len(s.pages))
	}
	for range 3 {
		b.release()
	}
	got, fill = waitFor(250, 2)
	fill(nil)
	if g1, g2 := <-got, <-got; g1 != nil || g2 != nil || len(s.pages) != 0 {
		t.Fatalf("after a failed decompression, waiters got %v and %v (%d pages); want nil, nil and none", g1, g2, len(s.pages))
	}
	// The bound: the oldest ready pages leave to make room, and the share lets go of them.
	defer func(n int) { pqShareMaxBytes = n }(pqShareMaxBytes)
	pqShareMaxBytes = 10
	var bufs []*pqPageBuf
	for off := range int64(3) {
		_, fill := s.claim(off, 1, 2)
		bufs = append(bufs, testPageBuf("1234"))
		fill(bufs[off])
	}
	if len(s.pages) != 2 || s.pages[0].off != 1 || s.pages[1].off != 2 || s.bytes != 8 || bufs[0].holds.Load() != 1 {
		t.Fatalf("bounded to 10 bytes: %d pages, %d bytes, page 0 held %d times; want pages 1 and 2, 8 bytes, page 0 held by its reader alone",
			len(s.pages), s.bytes, bufs[0].holds.Load())
	}
	got, fill = waitFor(4, 1)         // a row left for a fourth reader
	big := testPageBuf("12345678901") // larger than the bound: not listed, but handed to the waiters
	fill(big)
	if g1, g2 := <-got, <-got; g1 != big || g2 != big || len(s.pages) != 2 || s.bytes != 8 || big.holds.Load() != 3 {
		t.Fatalf("a page larger than the bound: waiters got %v, %v; %d pages, %d bytes listed, %d holds; want it held by its three readers alone, pages 1 and 2 still listed", g1, g2, len(s.pages), s.bytes, big.holds.Load())
	}
	s.claim(1, 1, 2)
	s.claim(2, 1, 2)
	bufs[1].release() // the holds those claims took
	bufs[2].release()
	for _, b := range append(bufs, big, big, big) {
		b.release()
	}
	if n := pqPageBufsHeld.Load() - held; n != 0 {
		t.Fatalf("%d page buffers still held", n)
	}
}

// testPageBuf is a page buffer from the pool holding data, held once.
func testPageBuf(data string) *pqPageBuf {
	b := newPQPageBuf()
	b.data = []byte(data)
	return b
}

// TestParquetLongSharedPages reads a long file whose pages straddle the
// samples (pages of 700 values, samples of 1,500 rows, row groups ending
// inside samples), in order, backwards and concurrently: the values are
// right, a page read in part is held for the next sample, and the share is
// empty once every sample has been read.
func TestParquetLongSharedPages(t *testing.T) {
	defer func(a, b, c int, d int64) {
		pqLongRowGroupRows, pqValuePageValues, pqLongPageRows, pqLongDirectRows = a, b, c, d
	}(pqLongRowGroupRows, pqValuePageValues, pqLongPageRows, pqLongDirectRows)
	pqLongRowGroupRows, pqValuePageValues, pqLongPageRows, pqLongDirectRows = 4000, 700, 900, 0
	m := newPQMatrix(1500, 9, 8, true, 0)
	path := filepath.Join(t.TempDir(), "long.parquet")
	pqWriteSink(t, path, m, SinkOptions{Layout: LayoutLong, Integer: true})
	src := pqOpen(t, path, Options{})
	long, ok := src.(*longParquet)
	if !ok || long.spill != nil || long.q.shares == nil {
		t.Fatalf("opened as %T (spill %v): want a long table read in place, its value pages shared", src, ok && long.spill != nil)
	}
	share := long.q.shares[pqLongValueCol]
	dst := make([]float64, len(m.genes))
	held := pqPageBufsHeld.Load()
	check := func(j int) {
		t.Helper()
		if err := src.ReadColumn(j, dst); err != nil {
			t.Fatalf("ReadColumn(%d): %v", j, err)
		}
		// The page buffers out are the share's: every reader let go of its own.
		if out, inShare := pqPageBufsHeld.Load()-held, int64(len(share.pages)); out != inShare {
			t.Fatalf("after sample %d: %d page buffers out of the pool, %d of them in the share", j, out, inShare)
		}
		for g, v := range dst {
			if v != m.cols[j][g] {
				t.Fatalf("sample %d, gene %d: %v, want %v", j, g, v, m.cols[j][g])
			}
		}
	}
	check(0)
	if len(share.pages) != 1 || share.pages[0].left != 700-1500%700 {
		t.Fatalf("after sample 0: %+v, want the page of rows 1400-2099 with %d rows left", share.pages, 700-1500%700)
	}
	for j := 1; j < len(m.samples); j++ {
		check(j)
	}
	if len(share.pages) != 0 {
		t.Fatalf("after every sample in order, %d pages held", len(share.pages))
	}
	for j := len(m.samples) - 1; j >= 0; j-- {
		check(j)
	}
	if len(share.pages) != 0 {
		t.Fatalf("after every sample backwards, %d pages held", len(share.pages))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := make([]float64, len(m.genes))
			for j := w; j < len(m.samples); j += 4 {
				if err := src.ReadColumn(j, d); err != nil {
					errs <- err
					return
				}
				for g, v := range d {
					if v != m.cols[j][g] {
						t.Errorf("concurrent: sample %d, gene %d: %v, want %v", j, g, v, m.cols[j][g])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(share.pages) != 0 {
		t.Errorf("after every sample read by 4 workers, %d pages held", len(share.pages))
	}
}
