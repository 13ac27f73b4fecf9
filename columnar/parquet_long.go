package columnar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Long Parquet: three columns gene id, sample id, value, one row per (gene,
// sample) pair.
//
// Open reads the gene and sample columns once. Genes and samples are
// numbered in order of first appearance. When every sample's rows are
// contiguous (the usual case: written sample by sample, or sorted by sample)
// the scan records each sample's row range and whether it lists the genes in
// the canonical order; ReadColumn then reads that range of the value column
// alone (canonical order) or with the gene column (any other order). When the
// rows are not grouped by sample, they are regrouped once at open into a
// Spill, in passes that each collect as many samples as the spill budget
// holds.
//
// A pair listed twice, or missing, is an InputError naming the sample and
// the gene.

// pqLongBatch is the number of rows read from each column at a time (a
// variable for the tests).
var pqLongBatch = 4096

// longParquet is a long Parquet file.
type longParquet struct {
	path    string
	q       *pqFile     // nil once regrouped into the spill
	genes   *pqInterner // frozen after open; maps ids for runs in another order
	samples []string
	integer bool
	runs    []pqLongRun // grouped by sample: run j holds sample j
	spill   *Spill      // not grouped: the regrouped columns
}

// pqLongRun is the rows [start, end) of one sample.
type pqLongRun struct {
	start, end int64
	ordered    bool // the run lists every gene, in the canonical order
}

const (
	pqLongGeneCol   = 0
	pqLongSampleCol = 1
	pqLongValueCol  = 2
)

// openParquetLong opens q as a long table.
func openParquetLong(q *pqFile, opts Options) (*longParquet, error) {
	if len(q.cols) != 3 || q.cols[0].kind != pqString || q.cols[1].kind != pqString || !q.cols[2].numeric() {
		desc := ""
		for i, c := range q.cols {
			if i > 0 {
				desc += ", "
			}
			desc += fmt.Sprintf("%s %s", c.name, c.desc)
		}
		return nil, inputErrorf(q.path, "a long table has three columns: gene id (string), sample id (string) and a numeric value; this file has %d: %s", len(q.cols), desc)
	}
	s := &longParquet{path: q.path, q: q, genes: newPQInterner(), integer: q.cols[pqLongValueCol].integer()}
	samples := newPQInterner()
	grouped, err := s.index(samples)
	if err != nil {
		return nil, err
	}
	s.samples = samples.names
	s.genes.frozen = true
	if grouped {
		if err := s.checkRuns(); err != nil {
			return nil, err
		}
		if s.runsSeekable() {
			q.sharePages(pqLongValueCol) // a page holds the end of one sample and the start of the next
			return s, nil
		}
		if err := s.spillRuns(opts); err != nil {
			return nil, err
		}
		q.close() // everything is in the spill now
		s.q = nil
		return s, nil
	}
	s.runs = nil
	samples.frozen = true
	if err := s.regroup(samples, opts); err != nil {
		return nil, err
	}
	q.close() // everything is in the spill now
	s.q = nil
	return s, nil
}

// index scans the gene and sample columns: it numbers the genes and the
// samples, and, when the rows are grouped by sample, records the runs and
// reports a gene listed twice for a sample. It returns whether the rows
// are grouped by sample.
//
// The sample column is read first, alone (sampleRuns): it is small, and
// gives the runs. When the rows are grouped, the first run numbers the
// genes, and the gene ids of the other runs, most of the file's bytes, are
// read in blocks of runs by a worker per thread (scanGenes), each checking
// its runs against that numbering.
func (s *longParquet) index(samples *pqInterner) (grouped bool, err error) {
	grouped, err = s.sampleRuns(samples)
	s.samples = samples.names
	if err != nil || !grouped {
		if err == nil {
			err = s.internGenes()
		}
		return grouped, err
	}
	if len(s.runs) == 0 {
		return true, nil
	}
	first := s.scanGenes(0, 1, s.genes)
	if first.err != nil {
		return false, first.err
	}
	s.genes.frozen = true
	rest := len(s.runs) - 1
	blocks := min(rest, 4*runtime.GOMAXPROCS(0)) // a few blocks a worker, to even out their ends
	scans := make([]pqGeneScan, blocks)
	pqParallel(blocks, func(b int) {
		scans[b] = s.scanGenes(1+b*rest/blocks, 1+(b+1)*rest/blocks, s.genes)
	})
	// The first error in row order, as one scan of the file would meet it:
	// a gene listed twice anywhere comes before one that the first sample
	// lacks, which the whole file must be read to tell.
	for _, sc := range scans {
		if sc.err != nil {
			return false, sc.err
		}
	}
	for _, sc := range scans {
		if sc.missing != nil {
			return false, sc.missing
		}
	}
	return true, nil
}

// sampleRuns reads the sample column: it numbers the samples in order of
// first appearance and, if every sample's rows are contiguous, records
// their runs (each marked ordered until scanGenes finds otherwise). It
// returns whether they are. Blocks of rows are read by a worker per
// thread (scanSamples) and joined in row order: a block's names, in its
// own order of first appearance, keep the file's order when numbered
// block after block, and a run may go on from one block into the next.
func (s *longParquet) sampleRuns(samples *pqInterner) (grouped bool, err error) {
	N := s.q.numRows()
	blocks := int(min(int64(4*runtime.GOMAXPROCS(0)), max(1, N/pqIndexBlockRows)))
	scans := make([]pqSampleScan, blocks)
	pqParallel(blocks, func(b int) {
		scans[b] = s.scanSamples(int64(b)*N/int64(blocks), int64(b+1)*N/int64(blocks))
	})
	for _, sc := range scans {
		if sc.err != nil {
			return false, sc.err
		}
	}
	grouped = true
	for _, sc := range scans {
		ids := make([]int, len(sc.names.names))
		for i, name := range sc.names.names {
			ids[i] = int(samples.id([]byte(name)))
		}
		grouped = grouped && sc.grouped
		for k, r := range sc.runs {
			if !grouped {
				break
			}
			last, id := len(s.runs)-1, ids[r.sample]
			switch {
			case k == 0 && id == last: // the run of the previous block's last sample goes on
				s.runs[last].end = r.end
			case id == len(s.runs): // a sample not seen before
				s.runs = append(s.runs, pqLongRun{start: r.start, end: r.end, ordered: true})
			default: // a sample seen before, in an earlier run
				grouped = false
			}
		}
	}
	if !grouped {
		s.runs = nil
	}
	return grouped, nil
}

// pqIndexBlockRows is the fewest rows that sampleRuns reads in a block of
// their own (a variable for the tests).
var pqIndexBlockRows int64 = 1 << 20

// pqSampleScan is what scanSamples found in a block of rows.
type pqSampleScan struct {
	names   *pqInterner  // the block's samples, in its order of first appearance
	runs    []pqBlockRun // while grouped: the block's runs, in order
	grouped bool         // each sample's rows in the block are contiguous
	err     error
}

// pqBlockRun is the rows [start, end) of the block's sample number sample.
type pqBlockRun struct {
	sample     int
	start, end int64
}

// scanSamples reads the sample ids of rows [start, end). A run of rows
// with one key (the sample column of a grouped file is mostly such runs)
// costs one lookup.
func (s *longParquet) scanSamples(start, end int64) pqSampleScan {
	res := pqSampleScan{names: newPQInterner(), grouped: true}
	sc := newPQIDCursor(s.q, pqLongSampleCol, "sample id", res.names, start, end)
	defer sc.close()
	var buf []int32
	var one [1]int32
	for row := start; row < end; {
		c, err := sc.nextKeys()
		if err != nil {
			return pqSampleScan{err: err}
		}
		if c.n == 0 {
			return pqSampleScan{err: s.q.dataError(pqLongSampleCol, errors.New("the sample column is shorter than the file"))}
		}
		keys := one[:]
		if one[0] = c.key; !c.repeat { // a run of one key: its first row is all that matters
			keys = c.list(&buf)
		}
		for i := 0; i < len(keys); {
			k, j := keys[i], i+1
			for j < len(keys) && keys[j] == k {
				j++
			}
			id := k
			if c.dict {
				if id, err = sc.idOf(k, c.row+int64(i)); err != nil {
					return pqSampleScan{err: err}
				}
			}
			res.see(id, c.row+int64(i))
			i = j
		}
		row += int64(c.n)
	}
	if len(res.runs) > 0 {
		res.runs[len(res.runs)-1].end = end
	}
	return res
}

// see takes rows of sample id from row on: the current run goes on, or
// the next begins; a sample seen before, in an earlier run, means the rows
// are not grouped.
func (res *pqSampleScan) see(id int32, row int64) {
	cur := len(res.runs) - 1
	switch {
	case !res.grouped || int(id) == cur:
	case int(id) == len(res.runs):
		if cur >= 0 {
			res.runs[cur].end = row
		}
		res.runs = append(res.runs, pqBlockRun{sample: int(id), start: row})
	default:
		res.grouped, res.runs = false, nil
	}
}

// pqParallel calls f(b) for every block b in [0, blocks), on a worker per
// thread.
func pqParallel(blocks int, f func(b int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), blocks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := int(next.Add(1) - 1); b < blocks; b = int(next.Add(1) - 1) {
				f(b)
			}
		}()
	}
	wg.Wait()
}

// internGenes numbers the genes of rows that are not grouped by sample, in
// order of first appearance.
func (s *longParquet) internGenes() error {
	gc := newPQIDCursor(s.q, pqLongGeneCol, "gene id", s.genes, 0, s.q.numRows())
	defer gc.close()
	gids := make([]int32, pqLongBatch)
	for {
		n, err := gc.read(gids)
		if err != nil || n == 0 {
			return err
		}
	}
}

// pqGeneScan is what scanGenes found in its runs.
type pqGeneScan struct {
	err error // a read error, or the first gene listed twice for a sample
	// missing, without err, is the error for the first gene id that genes
	// (frozen, by the first sample) lack: the first sample has no row for it.
	missing error
}

// scanGenes reads the gene ids of runs [a, b): it numbers them in genes
// (unless frozen), marks a run not ordered when its genes are not 0, 1, 2,
// ... in order, and reports the first gene listed twice for a sample (and,
// for frozen genes, the first unknown gene id).
func (s *longParquet) scanGenes(a, b int, genes *pqInterner) (res pqGeneScan) {
	runs := s.runs[a:b]
	gc := newPQIDCursor(s.q, pqLongGeneCol, "gene id", genes, runs[0].start, runs[len(runs)-1].end)
	defer gc.close()
	gc.absent, gc.plainNames = genes.frozen, true
	var stamp []int32 // stamp[g] is 1 + the run in which gene g was last seen, once that run is out of order
	var buf []int32
	k, row := 0, runs[0].start
	for k < len(runs) {
		c, err := gc.nextKeys()
		if err != nil {
			return pqGeneScan{err: err}
		}
		if c.n == 0 {
			return pqGeneScan{err: s.q.dataError(pqLongGeneCol, errors.New("the gene column is shorter than the file"))}
		}
		for c.n > 0 { // the rows of run k, then of the next runs
			r, sample := &runs[k], a+k
			m := int(min(int64(c.n), r.end-row))
			base := int32(c.row - r.start)
			ordered := r.ordered && gc.inOrder(&c, m, int(base)) // genes base, base+1, ...: one comparison of bytes
			if row += int64(m); row == r.end {
				k++
			}
			if ordered {
				continue
			}
			if c.plain != nil {
				if err := gc.resolvePlain(&c); err != nil {
					return pqGeneScan{err: err}
				}
			}
			seg := c.first(m)
			c.drop(m)
			mark := int32(sample + 1)
			part := seg.list(&buf)
			t := 0
			if r.ordered { // ids 0, 1, 2, ... from the run's start: none twice
				if seg.dict {
					memo := gc.memo
					for ; t < m; t++ {
						key := part[t]
						if uint(key) >= uint(len(memo)) || memo[key] < 0 {
							if _, err := gc.lookupMemo(key, seg.row+int64(t)); err != nil {
								return pqGeneScan{err: err}
							}
						}
						if memo[key] != base+int32(t) {
							break
						}
					}
				} else {
					for t < m && part[t] == base+int32(t) {
						t++
					}
				}
				if t < m { // out of order from here: mark the genes of its rows so far
					r.ordered = false
					stamp = pqGrowZeros(stamp, len(genes.names))
					for g := range base + int32(t) {
						stamp[g] = mark
					}
				}
			}
			for ; t < m; t++ {
				g := part[t]
				if seg.dict {
					if g, err = gc.idOf(g, seg.row+int64(t)); err != nil {
						return pqGeneScan{err: err}
					}
				}
				if g < 0 {
					continue // a gene the first sample lacks (gc.firstAbsent)
				}
				if int(g) >= len(stamp) { // a gene the first run numbered just now
					stamp = pqGrowZeros(stamp, len(genes.names))
				}
				if stamp[g] == mark {
					return pqGeneScan{err: &InputError{File: s.path, Sample: s.samples[sample], Gene: genes.names[g],
						Msg: "this gene and sample have two rows in the long table"}}
				}
				stamp[g] = mark
			}
		}
	}
	if gc.sawAbsent {
		return pqGeneScan{missing: s.missingPair(s.samples[0], gc.firstAbsent)}
	}
	return pqGeneScan{}
}

// pqGrowZeros returns s lengthened with zeros to n, if it is shorter.
func pqGrowZeros(s []int32, n int) []int32 {
	if len(s) < n {
		s = append(s, make([]int32, n-len(s))...)
	}
	return s
}

// pqReadIDs reads the next batch of gene and sample ids, as many rows of each.
func pqReadIDs(gc, sc *pqIDCursor, gids, sids []int32) (int, error) {
	n, err := gc.read(gids)
	if err != nil {
		return 0, err
	}
	m, err := sc.read(sids[:n])
	if err != nil {
		return 0, err
	}
	if n == 0 || m != n {
		return 0, gc.q.dataError(pqLongSampleCol, errors.New("the gene and sample columns have different lengths"))
	}
	return n, nil
}

// checkRuns checks that every run lists every gene (a run cannot list one
// twice: index saw to that), and reports the first gene missing otherwise.
func (s *longParquet) checkRuns() error {
	G := int64(len(s.genes.names))
	for j := range s.runs {
		r := &s.runs[j]
		if r.end-r.start == G {
			continue
		}
		r.ordered = false
		seen := make([]bool, G)
		gc := newPQIDCursor(s.q, pqLongGeneCol, "gene id", s.genes, r.start, r.end)
		ids := make([]int32, pqLongBatch)
		for {
			n, err := gc.read(ids)
			if err != nil {
				gc.close()
				return err
			}
			if n == 0 {
				break
			}
			for _, g := range ids[:n] {
				seen[g] = true
			}
		}
		gc.close()
		for g, ok := range seen {
			if !ok {
				return s.missing(j, g)
			}
		}
	}
	return nil
}

// pqLongDirectRows is the size of row group up to which ReadColumn reads a
// sample's rows in place, whatever the number of genes.
var pqLongDirectRows int64 = 1 << 17

// runsSeekable reports whether ReadColumn can read a sample's rows without
// decoding many more rows than those: the row groups are small (at most
// pqLongDirectRows rows, or 4 samples' worth), or the columns that ReadColumn
// reads have offset indexes to seek with. Otherwise a row group of millions
// of rows (pyarrow's default) would be decoded from its start for every
// sample.
func (s *longParquet) runsSeekable() bool {
	cols := []int{pqLongValueCol}
	for _, r := range s.runs {
		if !r.ordered {
			cols = append(cols, pqLongGeneCol)
			break
		}
	}
	limit := max(4*int64(len(s.genes.names)), pqLongDirectRows)
	for g := range len(s.q.rgStart) - 1 {
		if s.q.rgStart[g+1]-s.q.rgStart[g] <= limit {
			continue
		}
		for _, c := range cols {
			if s.q.chunkMeta(g, c).indexOffset == 0 {
				return false
			}
		}
	}
	return true
}

// spillRuns copies the samples of a file grouped by sample into a spill, in
// one sequential pass holding one column at a time.
func (s *longParquet) spillRuns(opts Options) (err error) {
	q := s.q
	G, N := len(s.genes.names), q.numRows()
	s.spill, err = NewColumnSpill(opts.TempDir, G, 0, opts.spillBudget())
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.spill.Close()
			s.spill = nil
		}
	}()
	vc := newPQNumCursor(q, pqLongValueCol, 0, N)
	defer vc.close()
	var gc *pqIDCursor
	for _, r := range s.runs {
		if !r.ordered {
			gc = newPQIDCursor(q, pqLongGeneCol, "gene id", s.genes, 0, N)
			defer gc.close()
			break
		}
	}
	vals := make([]float64, G)
	col := make([]float64, G)
	gids := make([]int32, G)
	for j, r := range s.runs { // in file order, one after the other, G rows each (checkRuns)
		if n, err := vc.read(vals); err != nil {
			return err
		} else if n != G {
			return q.dataError(pqLongValueCol, errors.New("the value column is shorter than the id columns"))
		}
		out := vals
		if gc != nil {
			if n, err := gc.read(gids); err != nil {
				return err
			} else if n != G {
				return q.dataError(pqLongGeneCol, errors.New("the gene column is shorter than the sample column"))
			}
			if !r.ordered {
				for i, g := range gids {
					col[g] = vals[i]
				}
				out = col
			}
		}
		if err := s.spill.WriteColumn(j, out); err != nil {
			return err
		}
	}
	s.runs = nil
	return nil
}

// missing is the error for sample j lacking a row for gene g.
func (s *longParquet) missing(j, g int) error { return s.missingPair(s.samples[j], s.genes.names[g]) }

func (s *longParquet) missingPair(sample, gene string) error {
	return &InputError{File: s.path, Sample: sample, Gene: gene,
		Msg: "the long table has no row for this gene and sample (every sample needs one row per gene)"}
}

// regroup reads rows that are not grouped by sample into a spill, in passes
// that each collect the samples that fit the spill budget.
func (s *longParquet) regroup(samples *pqInterner, opts Options) (err error) {
	q := s.q
	G, S, N := len(s.genes.names), len(s.samples), q.numRows()
	s.spill, err = NewColumnSpill(opts.TempDir, G, 0, opts.spillBudget())
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.spill.Close()
			s.spill = nil
		}
	}()
	per := max(1, opts.spillBudget()/(8*G+(G+7)/8)) // samples per pass: values and "seen" bits
	per = min(per, S)
	buf := make([]float64, per*G)
	seen := make([]uint64, (per*G+63)/64)
	gids := make([]int32, pqLongBatch)
	sids := make([]int32, pqLongBatch)
	vals := make([]float64, pqLongBatch)
	for s0 := 0; s0 < S; s0 += per {
		s1 := min(S, s0+per)
		clear(seen)
		err := func() error {
			gc := newPQIDCursor(q, pqLongGeneCol, "gene id", s.genes, 0, N)
			defer gc.close()
			sc := newPQIDCursor(q, pqLongSampleCol, "sample id", samples, 0, N)
			defer sc.close()
			vc := newPQNumCursor(q, pqLongValueCol, 0, N)
			defer vc.close()
			for row := int64(0); row < N; {
				n, err := pqReadIDs(gc, sc, gids, sids)
				if err != nil {
					return err
				}
				if m, err := vc.read(vals[:n]); err != nil {
					return err
				} else if m != n {
					return q.dataError(pqLongValueCol, errors.New("the value column is shorter than the id columns"))
				}
				for i, g := range gids[:n] {
					sm := int(sids[i])
					if sm < s0 || sm >= s1 {
						continue
					}
					k := (sm-s0)*G + int(g)
					if seen[k/64]&(1<<(k%64)) != 0 {
						return &InputError{File: q.path, Sample: s.samples[sm], Gene: s.genes.names[g],
							Msg: "this gene and sample have two rows in the long table"}
					}
					seen[k/64] |= 1 << (k % 64)
					buf[k] = vals[i]
				}
				row += int64(n)
			}
			return nil
		}()
		if err != nil {
			return err
		}
		for sm := s0; sm < s1; sm++ {
			for g := 0; g < G; g++ {
				if k := (sm-s0)*G + g; seen[k/64]&(1<<(k%64)) == 0 {
					return s.missing(sm, g)
				}
			}
			if err := s.spill.WriteColumn(sm, buf[(sm-s0)*G:(sm-s0+1)*G]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *longParquet) Path() string      { return s.path }
func (s *longParquet) Genes() []string   { return s.genes.names }
func (s *longParquet) Samples() []string { return s.samples }
func (s *longParquet) Integer() bool     { return s.integer }

func (s *longParquet) Close() error {
	var err error
	if s.spill != nil {
		err = s.spill.Close()
	}
	if s.q != nil {
		if e := s.q.close(); err == nil {
			err = e
		}
	}
	return err
}

// ReadColumn reads sample j: from the spill, or from the sample's rows.
func (s *longParquet) ReadColumn(j int, dst []float64) error {
	G := len(s.genes.names)
	if len(dst) != G {
		panic("columnar: ReadColumn: dst length does not match the number of genes")
	}
	if s.spill != nil {
		if G == 0 {
			return nil
		}
		return s.spill.ReadColumn(j, dst)
	}
	r := s.runs[j]
	q := s.q
	if r.ordered {
		return q.readNumbers(pqLongValueCol, r.start, dst)
	}
	gc := newPQIDCursor(q, pqLongGeneCol, "gene id", s.genes, r.start, r.end)
	defer gc.close()
	vc := newPQNumCursor(q, pqLongValueCol, r.start, r.end)
	defer vc.close()
	gids := make([]int32, pqLongBatch)
	vals := make([]float64, pqLongBatch)
	for {
		n, err := gc.read(gids)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if m, err := vc.read(vals[:n]); err != nil {
			return err
		} else if m != n {
			return q.dataError(pqLongValueCol, errors.New("the value column is shorter than the id columns"))
		}
		for i, g := range gids[:n] {
			dst[g] = vals[i]
		}
	}
}

// readInt32s reads sample j's values as the 32-bit integers they are
// stored as, when they are INT32 with no nulls, read in place in the
// canonical order, for the cache (see int32Reader); ok says whether it did.
func (s *longParquet) readInt32s(j int, counts []int32) (ok bool, err error) {
	if s.spill != nil || !s.runs[j].ordered || !s.q.cols[pqLongValueCol].int32Counts() {
		return false, nil
	}
	if len(counts) != len(s.genes.names) {
		panic("columnar: readInt32s: counts length does not match the number of genes")
	}
	return s.q.readInt32s(pqLongValueCol, s.runs[j].start, counts)
}

// pqInterner numbers names in order of first appearance.
type pqInterner struct {
	ids    map[string]int32
	names  []string
	frozen bool // no new names: id reports an unknown name as -1 (and is safe for concurrent use)

	joinOnce sync.Once
	joined   []byte   // frozen names: the names as PLAIN byte arrays, one after the other (join)
	starts   []uint32 // name k is joined[starts[k]:starts[k+1]]
}

// join returns the names, frozen, PLAIN-encoded one after the other (a
// 4-byte little-endian length, then the bytes), and where each begins
// (and the last ends).
func (t *pqInterner) join() (joined []byte, starts []uint32) {
	t.joinOnce.Do(func() {
		t.starts = make([]uint32, 0, len(t.names)+1)
		for _, name := range t.names {
			t.starts = append(t.starts, uint32(len(t.joined)))
			t.joined = binary.LittleEndian.AppendUint32(t.joined, uint32(len(name)))
			t.joined = append(t.joined, name...)
		}
		t.starts = append(t.starts, uint32(len(t.joined)))
	})
	return t.joined, t.starts
}

func newPQInterner() *pqInterner { return &pqInterner{ids: make(map[string]int32)} }

// reserve makes room for n names in an interner that has none yet: the
// first dictionary's entries, which a file's first row group usually
// lists all of (the map would otherwise grow a dozen times).
func (t *pqInterner) reserve(n int) {
	if len(t.names) == 0 && !t.frozen {
		t.ids = make(map[string]int32, n)
	}
}

func (t *pqInterner) id(v []byte) int32 {
	if id, ok := t.ids[string(v)]; ok {
		return id
	}
	if t.frozen {
		return -1
	}
	name := string(v)
	id := int32(len(t.names))
	t.ids[name] = id
	t.names = append(t.names, name)
	return id
}

// pqIDCursor reads a string column over a range of rows as ids given by an
// pqInterner. A dictionary-encoded page costs one lookup of the name per
// dictionary entry used, not per row, and the rows' ids are the memo of
// their dictionary indexes. The indexes of a page with no nulls are read
// as encoded, run by run, and so are its names when they are PLAIN (pqKeys).
type pqIDCursor struct {
	q     *pqFile
	c     int
	what  string
	names *pqInterner
	pc    *pqPageCursor
	buf   []int32 // the ids of the rows of the current page, from pos on
	pos   int
	keys  []int32      // the keys of a page that is not read run by run, or of a stretch of a run unpacked
	dict  uint64       // the serial number of the dictionary memo is for
	memo  []int32      // ids of dict's entries; -2 until looked up
	page  pqByteArrays // the strings of the page read last
	guess int32        // the id the next entry looked up is likely to have
	// absent makes a name that frozen names lack read as id -1 instead of
	// failing the read; the first such name is kept in firstAbsent.
	absent, sawAbsent bool
	firstAbsent       string

	// The page being read run by run: left rows from row on, after skip
	// more values; run is the run being read, from value at on.
	runs   *pqHybridRuns
	left   int
	row    int64
	skip   int
	run    pqRun
	at     int
	inv    []byte // inverse16's answer for dictionary invFor
	invFor uint64
	invBuf []byte
	// plainNames makes nextKeys hand out a page of PLAIN names with no
	// nulls as encoded (pqKeys.plain); split is resolvePlain's buffers.
	plainNames bool
	split      pqValues
}

func newPQIDCursor(q *pqFile, c int, what string, names *pqInterner, start, end int64) *pqIDCursor {
	ic := &pqIDCursor{q: q, c: c, what: what, names: names, pc: q.cursor(c, start, end)}
	ic.pc.asEncoded = true
	return ic
}

func (ic *pqIDCursor) close() { ic.pc.close() }

// read fills ids with the next rows' ids and returns how many it read: all
// of them unless the range ends.
func (ic *pqIDCursor) read(ids []int32) (int, error) {
	n := 0
	for n < len(ids) {
		if ic.pos == len(ic.buf) {
			if err := ic.load(); err == io.EOF {
				break
			} else if err != nil {
				return n, err
			}
		}
		k := copy(ids[n:], ic.buf[ic.pos:])
		ic.pos += k
		n += k
	}
	return n, nil
}

// pqKeys is a stretch of consecutive rows of one page, as nextKeys reads
// them: their keys, which are dictionary indexes (dict: idOf maps them to
// ids) or else the rows' ids. The keys are one of: key for every row
// (repeat, a run of one value); the 16-bit indexes as encoded, two bytes a
// row, little endian (packed16); or keys. Or, for a cursor that takes
// them (plainNames), the rows' names PLAIN-encoded as the page has them
// (plain), until resolvePlain turns them into ids. Valid until the next
// nextKeys.
type pqKeys struct {
	row      int64 // the first row
	n        int   // the rows
	dict     bool
	repeat   bool
	key      int32
	packed16 []byte
	keys     []int32
	plain    []byte // first and drop do not take it: resolvePlain first
}

// list returns the rows' keys, in buf unless they are a list already.
func (k *pqKeys) list(buf *[]int32) []int32 {
	if !k.repeat && k.packed16 == nil {
		return k.keys[:k.n]
	}
	*buf = pqGrow(*buf, k.n)
	out := (*buf)[:k.n]
	if k.repeat {
		for i := range out {
			out[i] = k.key
		}
	} else {
		pqUnpackBits(out, k.packed16, 16)
	}
	return out
}

// first returns the first m rows of k.
func (k pqKeys) first(m int) pqKeys {
	k.n = m
	if k.packed16 != nil {
		k.packed16 = k.packed16[:2*m]
	}
	if k.keys != nil {
		k.keys = k.keys[:m]
	}
	return k
}

// drop drops the first m rows of k.
func (k *pqKeys) drop(m int) {
	k.row += int64(m)
	k.n -= m
	if k.packed16 != nil {
		k.packed16 = k.packed16[2*m:]
	}
	if k.keys != nil {
		k.keys = k.keys[m:]
	}
}

// nextKeys reads the next rows of the range: a page, or a stretch of one
// run of a page's indexes (up to pqLongBatch rows); no rows at the end of
// the range.
func (ic *pqIDCursor) nextKeys() (pqKeys, error) {
	for ic.left == 0 {
		p, row, err := ic.pc.next()
		if err == io.EOF {
			return pqKeys{}, nil
		} else if err != nil {
			return pqKeys{}, err
		}
		n := int(min(int64(p.rows), ic.pc.end-row))
		if n == 0 { // a page of no rows is skipped
			continue
		}
		if err := ic.setPage(p); err != nil {
			return pqKeys{}, err
		}
		if p.runs == nil {
			if b := &ic.page; b.dict == 0 && b.plain != nil { // names as encoded
				c := pqKeys{row: row, n: n, plain: b.plain}
				if ic.plainNames {
					return c, nil
				}
				return c, ic.resolvePlain(&c)
			}
			return ic.pageKeys(row, n)
		}
		ic.runs, ic.left, ic.row, ic.skip, ic.run, ic.at = p.runs, n, row, p.skip, pqRun{}, 0
	}
	return ic.runKeys()
}

// setPage takes the strings of page p: its dictionary's entries, for which
// the memo starts anew when the dictionary is another, or its values.
func (ic *pqIDCursor) setPage(p *pqPage) error {
	b, err := pqStringsOf(p, &ic.q.cols[ic.c])
	if err != nil {
		return ic.q.dataError(ic.c, err)
	}
	if b.dict != 0 && b.dict == ic.dict { // the same dictionary: its entries as split already, if they were
		ic.page.idx, ic.page.defs = b.idx, b.defs
		return nil
	}
	ic.page, ic.dict = b, b.dict
	if b.dict != 0 {
		ic.names.reserve(b.entries())
		ic.memo = pqGrow(ic.memo, b.entries())
		for i := range ic.memo {
			ic.memo[i] = -2
		}
	}
	return nil
}

// pageKeys returns the n rows from row of the page read last (ic.page),
// which is not read run by run: a dictionary page's indexes, or the ids of
// a page of values.
func (ic *pqIDCursor) pageKeys(row int64, n int) (pqKeys, error) {
	q, b := ic.q, &ic.page
	keys := b.idx // a dictionary page of a required column: the indexes are the keys
	if b.dict == 0 || b.defs != nil {
		ic.keys = pqGrow(ic.keys, n)
		if err := b.keys(ic.keys); err != nil {
			return pqKeys{}, q.dataError(ic.c, err)
		}
		keys = ic.keys
	} else if len(keys) < n {
		return pqKeys{}, q.dataError(ic.c, errPQShortPage)
	}
	keys = keys[:n]
	if b.dict != 0 {
		return pqKeys{row: row, n: n, dict: true, keys: keys}, nil
	}
	ic.buf = pqGrow(ic.buf, n) // plain values: a lookup per row
	for i, k := range keys {
		id, err := ic.lookup(&ic.page, k, row+int64(i))
		if err != nil {
			return pqKeys{}, err
		}
		ic.buf[i] = id
	}
	return pqKeys{row: row, n: n, keys: ic.buf[:n]}, nil
}

// runKeys returns the next rows of the page read run by run: the rest of
// the current run, or of the next, up to pqLongBatch rows.
func (ic *pqIDCursor) runKeys() (pqKeys, error) {
	for ic.at == ic.run.n || ic.skip > 0 {
		if ic.at == ic.run.n {
			r, err := ic.runs.next()
			if err != nil {
				return pqKeys{}, ic.q.dataError(ic.c, fmt.Errorf("the dictionary indexes: %w", err))
			}
			ic.run, ic.at = r, 0
		}
		d := min(ic.skip, ic.run.n-ic.at)
		ic.at += d
		ic.skip -= d
	}
	n := min(ic.left, ic.run.n-ic.at, pqLongBatch)
	k := pqKeys{row: ic.row, n: n, dict: true}
	switch width := ic.runs.width; {
	case !ic.run.bitPacked:
		k.repeat, k.key = true, int32(ic.run.value)
	case width == 16:
		k.packed16 = ic.run.packed[2*ic.at : 2*(ic.at+n)]
	default:
		ic.keys = pqGrow(ic.keys, n)
		k.keys = ic.keys[:n]
		pqUnpackAt(k.keys, ic.run.packed, width, ic.at)
	}
	ic.at += n
	ic.left -= n
	ic.row += int64(n)
	return k, nil
}

// resolvePlain turns the PLAIN names of c into their ids.
func (ic *pqIDCursor) resolvePlain(c *pqKeys) error {
	data, offs, err := pqPlainByteArrays(c.plain, c.n, ic.split.data[:0], ic.split.offs[:0])
	ic.split.data, ic.split.offs = data, offs
	if err != nil {
		return ic.q.dataError(ic.c, err)
	}
	b := pqByteArrays{data: data, offs: offs}
	ic.buf = pqGrow(ic.buf, c.n)
	for i := range c.n {
		id, err := ic.lookup(&b, int32(i), c.row+int64(i))
		if err != nil {
			return err
		}
		ic.buf[i] = id
	}
	c.keys, c.plain, c.dict = ic.buf[:c.n], nil, false
	return nil
}

// inOrder reports whether the first m rows of c list the frozen names a,
// a+1, ..., a+m-1, and drops them from c if they do. It compares the keys
// as encoded: 16-bit dictionary indexes with the dictionary's inverse
// (inverse16), PLAIN names with the names' PLAIN bytes (join). Other keys
// it leaves to the caller.
func (ic *pqIDCursor) inOrder(c *pqKeys, m, a int) bool {
	names := ic.names
	if !names.frozen || a+m > len(names.names) {
		return false
	}
	switch {
	case c.packed16 != nil:
		inv := ic.inverse16()
		if inv == nil || !bytes.Equal(c.packed16[:2*m], inv[2*a:2*(a+m)]) {
			return false
		}
		c.drop(m)
	case c.plain != nil:
		joined, starts := names.join()
		want := joined[starts[a]:starts[a+m]]
		if !bytes.HasPrefix(c.plain, want) {
			return false
		}
		c.plain = c.plain[len(want):]
		c.row += int64(m)
		c.n -= m
	default:
		return false
	}
	return true
}

// idOf returns the id of key k of the dictionary page nextKeys read last,
// the key of the given row (for the errors: a null, a key beyond the
// dictionary, a name unknown to frozen names).
func (ic *pqIDCursor) idOf(k int32, row int64) (int32, error) {
	if uint(k) < uint(len(ic.memo)) {
		if id := ic.memo[k]; id >= 0 {
			return id, nil
		}
	}
	return ic.lookupMemo(k, row)
}

// lookupMemo is idOf for a key not yet in the memo.
func (ic *pqIDCursor) lookupMemo(k int32, row int64) (int32, error) {
	id, err := ic.lookup(&ic.page, k, row) // fails for k outside the dictionary, which memo spans
	if err != nil {
		return 0, err
	}
	ic.memo[k] = id
	return id, nil
}

// inverse16 returns, for the dictionary of the page read last, the entry
// of every name as 16-bit little-endian numbers, 2 bytes a name in the
// names' order, when the names are frozen and the dictionary lists each of
// them once (and so has at most 2^16 entries); else nil. A row range
// whose packed16 keys equal the inverse's bytes for names [a, a+m) lists
// the names a, a+1, ..., a+m-1. Entries that frozen names lack leave it
// nil (their rows are met, in row order, by idOf).
func (ic *pqIDCursor) inverse16() []byte {
	if ic.invFor == ic.dict {
		return ic.inv
	}
	ic.invFor, ic.inv = ic.dict, nil
	G := len(ic.names.names)
	if !ic.names.frozen || ic.page.entries() != G || G > 1<<16 {
		return nil
	}
	inv := pqGrow(ic.invBuf, 2*G)
	ic.invBuf = inv
	if g0, ok := ic.rotation(); ok {
		for k := range G {
			id := g0 + k
			if id >= G {
				id -= G
			}
			ic.memo[k] = int32(id)
			binary.LittleEndian.PutUint16(inv[2*id:], uint16(k))
		}
		ic.inv = inv
		return inv
	}
	for k := range G {
		id := ic.memo[k]
		if id < 0 {
			v, err := ic.page.entry(k)
			if err != nil {
				return nil
			}
			if id = ic.find(v); id < 0 {
				return nil
			}
			ic.memo[k] = id
		}
		binary.LittleEndian.PutUint16(inv[2*id:], uint16(k))
	}
	for id := range G { // a name listed twice leaves another's bytes as they were
		if ic.memo[binary.LittleEndian.Uint16(inv[2*id:])] != int32(id) {
			return nil
		}
	}
	ic.inv = inv
	return inv
}

// rotation reports whether the dictionary of the page read last lists
// the frozen names g0, g0+1, ..., G-1, 0, 1, ..., g0-1, as a file written
// sample by sample, each in the names' order, has it in a row group that
// begins with name g0; and returns g0. It compares the dictionary's PLAIN
// values as encoded, not split yet (pqByteArrays.plain), with the names'
// (join): no lookup an entry.
func (ic *pqIDCursor) rotation() (g0 int, ok bool) {
	plain := ic.page.plain
	first, _, ok := pqNextPlain(plain)
	if !ok {
		return 0, false
	}
	if g0 = int(ic.find(first)); g0 < 0 {
		return 0, false
	}
	joined, starts := ic.names.join()
	cut := starts[g0]
	tail := uint32(len(joined)) - cut // the bytes of names g0 to G-1
	return g0, len(plain) >= len(joined) && bytes.Equal(plain[:tail], joined[cut:]) && bytes.Equal(plain[tail:len(joined)], joined[:cut])
}

// load reads the next rows' ids into buf.
func (ic *pqIDCursor) load() error {
	k, err := ic.nextKeys()
	if err != nil {
		return err
	}
	if k.n == 0 {
		return io.EOF
	}
	ic.pos = 0
	if !k.dict {
		ic.buf = k.keys
		return nil
	}
	keys := k.list(&ic.keys) // k.keys is nil unless it is ic.keys already
	ic.buf = pqGrow(ic.buf, k.n)
	for i, key := range keys {
		id, err := ic.idOf(key, k.row+int64(i))
		if err != nil {
			return err
		}
		ic.buf[i] = id
	}
	return nil
}

// lookup returns the id of entry k of b, the key of the given row. It
// tries ic.guess first, the id after the last one looked up: a dictionary
// lists a chunk's genes in order of first appearance, which for a file
// written sample by sample is the order of the genes' ids from some gene on,
// so that a byte comparison replaces most hash lookups.
func (ic *pqIDCursor) lookup(b *pqByteArrays, k int32, row int64) (int32, error) {
	q := ic.q
	if k < 0 {
		return 0, inputErrorf(q.path, "row %d has no %s (null in column %q)", row+1, ic.what, q.cols[ic.c].name)
	}
	v, err := b.entry(int(k))
	if err != nil {
		return 0, q.dataError(ic.c, err)
	}
	id := ic.find(v)
	if id < 0 && ic.absent {
		if !ic.sawAbsent {
			ic.sawAbsent, ic.firstAbsent = true, string(v)
		}
		return -1, nil
	} else if id < 0 {
		return 0, inputErrorf(q.path, "row %d: %s %q changed since the file was opened", row+1, ic.what, v)
	}
	return id, nil
}

// find returns the id of name v, numbering it unless the names are frozen
// (-1 then for a name they lack).
func (ic *pqIDCursor) find(v []byte) int32 {
	names := ic.names.names
	id := ic.guess
	if int(id) >= len(names) || names[id] != string(v) {
		if id = ic.names.id(v); id < 0 {
			return id
		}
	}
	ic.guess = id + 1
	if int(ic.guess) == len(ic.names.names) {
		ic.guess = 0
	}
	return id
}

// pqNumCursor reads a numeric column over a range of rows.
type pqNumCursor struct {
	q   *pqFile
	c   int
	pc  *pqPageCursor
	buf []float64
	pos int
}

func newPQNumCursor(q *pqFile, c int, start, end int64) *pqNumCursor {
	return &pqNumCursor{q: q, c: c, pc: q.cursor(c, start, end)}
}

func (nc *pqNumCursor) close() { nc.pc.close() }

func (nc *pqNumCursor) read(dst []float64) (int, error) {
	n := 0
	for n < len(dst) {
		if nc.pos == len(nc.buf) {
			p, row, err := nc.pc.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return n, err
			}
			m := int(min(int64(p.rows), nc.pc.end-row))
			nc.buf, nc.pos = pqGrow(nc.buf, m), 0
			err = pqDecodeNumbers(p, &nc.q.cols[nc.c], nc.buf)
			if err != nil {
				return n, nc.q.dataError(nc.c, err)
			}
		}
		k := copy(dst[n:], nc.buf[nc.pos:])
		nc.pos += k
		n += k
	}
	return n, nil
}
