package deseq2

import (
	"context"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

// RowBlocks serves a genes x samples matrix in blocks of consecutive genes,
// for the per-gene fits (dispersions) that need all of a gene's samples at
// once. Within a block of n genes, value (gene r, sample j) is at
// dst[j*n+r]. columnar.Spill implements it on disk; RowMatrix in memory.
type RowBlocks interface {
	Genes() int
	Samples() int
	NumBlocks() int
	BlockGenes() int
	ReadBlock(b int, dst []float64) (n int, err error)
}

// RowMatrix is a RowBlocks held in memory as one block.
type RowMatrix struct {
	genes, samples int
	values         []float64 // sample-major: values[j*genes+r]
}

// NewRowMatrix makes a zero genes x samples RowMatrix.
func NewRowMatrix(genes, samples int) *RowMatrix {
	return &RowMatrix{genes: genes, samples: samples, values: make([]float64, genes*samples)}
}

func (m *RowMatrix) Genes() int      { return m.genes }
func (m *RowMatrix) Samples() int    { return m.samples }
func (m *RowMatrix) NumBlocks() int  { return 1 }
func (m *RowMatrix) BlockGenes() int { return m.genes }

// ReadBlock copies the matrix into dst.
func (m *RowMatrix) ReadBlock(b int, dst []float64) (int, error) {
	copy(dst, m.values)
	return m.genes, nil
}

// Column is sample j's values, to fill or read in place.
func (m *RowMatrix) Column(j int) []float64 { return m.values[j*m.genes : (j+1)*m.genes] }

// rowsInMemory is the largest matrix (in bytes of float64 values) that a
// RowStore keeps in memory; larger ones go to a temporary file, read back in
// blocks of about this size.
const rowsInMemory = 64 << 20

// RowStore is a RowBlocks filled sample column by sample column: a
// RowMatrix up to 64 MiB, otherwise a temporary file (columnar.Spill).
// WriteColumn may be called concurrently for different samples.
type RowStore struct {
	RowBlocks
	mem   *RowMatrix
	spill *columnar.Spill
	mu    sync.Mutex
}

// NewRowStore makes a store for genes x samples values; the temporary file,
// if one is needed, goes to dir (the system's when empty).
func NewRowStore(dir string, genes, samples int) (*RowStore, error) {
	return NewRowStoreWithin(dir, genes, samples, rowsInMemory)
}

// NewRowStoreWithin is NewRowStore keeping at most budget bytes of values
// in memory: the whole matrix when it fits, else blocks of about budget
// bytes read back from the file.
func NewRowStoreWithin(dir string, genes, samples, budget int) (*RowStore, error) {
	if int64(genes)*int64(samples)*8 <= int64(budget) {
		m := NewRowMatrix(genes, samples)
		return &RowStore{RowBlocks: m, mem: m}, nil
	}
	sp, err := columnar.NewColumnSpill(dir, genes, samples, budget)
	if err != nil {
		return nil, err
	}
	return &RowStore{RowBlocks: sp, spill: sp}, nil
}

// WriteColumn stores sample j's values.
func (s *RowStore) WriteColumn(j int, v []float64) error {
	if s.mem != nil {
		copy(s.mem.Column(j), v)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spill.WriteColumn(j, v)
}

// Close removes the temporary file, if any.
func (s *RowStore) Close() error {
	if s.spill != nil {
		return s.spill.Close()
	}
	return nil
}

// ReadRows reads the raw counts of the given genes (all genes when genes is
// nil) of every sample of src, in one pass, into a RowStore, and returns
// the store's RowMatrix or Spill. Close the returned closer when done.
func ReadRows(ctx context.Context, src columnar.Source, genes []int, opts pass.Options, tempDir string) (RowBlocks, io.Closer, error) {
	G, S := len(src.Genes()), len(src.Samples())
	if genes != nil {
		G = len(genes)
	}
	store, err := NewRowStore(tempDir, G, S)
	if err != nil {
		return nil, nil, err
	}
	// The pass reads the genes in ascending order (pass.Options.Rows), at
	// the positions at of the sorted distinct genes; the store gets them in
	// the order asked.
	var at []int
	if genes != nil {
		rows := slices.Clone(genes)
		slices.Sort(rows)
		rows = slices.Compact(rows)
		if !slices.Equal(rows, genes) {
			at = make([]int, len(genes))
			for k, g := range genes {
				at[k], _ = slices.BinarySearch(rows, g)
			}
		}
		opts.Rows = rows
	}
	buf := make([][]float64, opts.Workers(src))
	err = pass.Run(ctx, src, opts, func(w, j int, col []float64) error {
		if at == nil {
			return store.WriteColumn(j, col)
		}
		if buf[w] == nil {
			buf[w] = make([]float64, G)
		}
		for k, p := range at {
			buf[w][k] = col[p]
		}
		return store.WriteColumn(j, buf[w])
	}, nil)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store.RowBlocks, store, nil
}

// EachBlock calls fn for every block of rows in gene order, with the block's
// first gene g0, its number of genes n and its values (gene r, sample j at
// block[j*n+r]). A RowMatrix (or a RowStore in memory) passes its own
// values, which fn may overwrite; other blocks are read into buf, reused
// across calls (allocated when shorter than a block). It returns buf.
func EachBlock(ctx context.Context, rows RowBlocks, buf []float64, fn func(g0, n int, block []float64) error) ([]float64, error) {
	if s, ok := rows.(*RowStore); ok {
		rows = s.RowBlocks
	}
	if rm, ok := rows.(*RowMatrix); ok {
		if err := ctx.Err(); err != nil {
			return buf, err
		}
		return buf, fn(0, rm.genes, rm.values)
	}
	if need := rows.BlockGenes() * rows.Samples(); len(buf) < need {
		buf = make([]float64, need)
	}
	g0 := 0
	for b := 0; b < rows.NumBlocks(); b++ {
		if err := ctx.Err(); err != nil {
			return buf, err
		}
		n, err := rows.ReadBlock(b, buf)
		if err != nil {
			return buf, err
		}
		if err := fn(g0, n, buf[:n*rows.Samples()]); err != nil {
			return buf, err
		}
		g0 += n
	}
	return buf, nil
}

// EachGene calls, block by block, the function newWorker made for each of
// threads goroutines with every gene's index and its counts. Within a block
// the workers take the next gene not yet taken (an atomic counter), so a
// worker with cheap genes does not wait for one with costly ones (genes
// that go to the dispersion grid search cost many times more); fn must
// therefore write per-gene results only, which makes them independent of
// the workers. y is the worker's own scratch. Blocks are read as EachBlock
// reads them, into buf; it returns buf.
func EachGene(ctx context.Context, rows RowBlocks, threads int, buf []float64, newWorker func() func(i int, y []float64)) ([]float64, error) {
	m := rows.Samples()
	workers := make([]func(int, []float64), threads)
	ys := make([][]float64, threads)
	for w := range workers {
		workers[w] = newWorker()
		ys[w] = make([]float64, m)
	}
	return EachBlock(ctx, rows, buf, func(g0, n int, block []float64) error {
		var wg sync.WaitGroup
		var next atomic.Int64 // the block's next gene not yet taken
		for w := range workers {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				y := ys[w]
				for r := int(next.Add(1) - 1); r < n; r = int(next.Add(1) - 1) {
					for j := range y {
						y[j] = block[j*n+r]
					}
					workers[w](g0+r, y)
				}
			}(w)
		}
		wg.Wait()
		return nil
	})
}
