package columnar

import (
	"path/filepath"
	"sync"
	"testing"
)

// TestPQPageShareCounts follows a page through the share: put with the rows
// its reader did not read, taken by the readers of the rest, gone once no
// row is left; a page put twice (two readers that missed it at the same
// time) counts both readers' rows; the bytes held stay within the bound,
// the oldest page leaving first.
func TestPQPageShareCounts(t *testing.T) {
	var s pqPageShare
	a := testPageBuf("page a")
	s.put(100, a, 10, 6) // the reader read 4 of 10 rows
	a.release()          // ... and moved on
	if got := s.take(100, 3); got != a {
		t.Fatalf("take: %v, want page a", got)
	}
	if len(s.pages) != 1 || s.pages[0].left != 3 || a.holds.Load() != 2 {
		t.Fatalf("after taking 3 of the 6 rows left: %+v, %d holds; want one page with 3 left, held by the share and a reader", s.pages, a.holds.Load())
	}
	a.release()
	if got := s.take(100, 3); got != a || len(s.pages) != 0 || s.bytes != 0 {
		t.Fatalf("after the last rows: %v, %d pages, %d bytes; want page a, none left", got, len(s.pages), s.bytes)
	}
	if a.holds.Load() != 1 {
		t.Fatalf("the last reader's page: %d holds, want 1 (the reader's; the share let go)", a.holds.Load())
	}
	a.release()
	if got := s.take(100, 1); got != nil {
		t.Fatalf("take of a page gone: %v", got)
	}
	// Two readers decompress the same page: the second put counts its rows.
	b1, b2 := testPageBuf("b1"), testPageBuf("b2")
	s.put(200, b1, 10, 7)
	s.put(200, b2, 10, 5) // this reader read 5
	if len(s.pages) != 1 || s.pages[0].left != 2 || s.pages[0].buf != b1 || b2.holds.Load() != 1 {
		t.Fatalf("after two puts: %+v, b2 held %d times; want b1 with 2 rows left, b2 held by its reader alone", s.pages, b2.holds.Load())
	}
	s.take(200, 2)
	if len(s.pages) != 0 || b1.holds.Load() != 2 {
		t.Fatalf("pages left: %+v; b1 held %d times, want 2 (two readers)", s.pages, b1.holds.Load())
	}
	// The bound: the oldest pages leave to make room, and the share lets go of them.
	defer func(n int) { pqShareMaxBytes = n }(pqShareMaxBytes)
	pqShareMaxBytes = 10
	bufs := []*pqPageBuf{testPageBuf("1234"), testPageBuf("1234"), testPageBuf("1234")}
	for i, b := range bufs {
		s.put(int64(i+1), b, 2, 1)
	}
	if len(s.pages) != 2 || s.pages[0].off != 2 || s.pages[1].off != 3 || s.bytes != 8 || bufs[0].holds.Load() != 1 {
		t.Fatalf("bounded to 10 bytes: %d pages (%+v), %d bytes, page 1 held %d times; want pages 2 and 3, 8 bytes, page 1 held by its reader alone",
			len(s.pages), s.pages, s.bytes, bufs[0].holds.Load())
	}
	big := testPageBuf("12345678901")
	s.put(4, big, 2, 1) // larger than the bound: not held
	if len(s.pages) != 0 || s.bytes != 0 || big.holds.Load() != 1 {
		t.Fatalf("a page larger than the bound: %d pages, %d bytes held; it has %d holds, want 1", len(s.pages), s.bytes, big.holds.Load())
	}
}

// testPageBuf is a page buffer holding data, held once.
func testPageBuf(data string) *pqPageBuf {
	b := &pqPageBuf{data: []byte(data)}
	b.holds.Store(1)
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
