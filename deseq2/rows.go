package deseq2

import (
	"context"
	"io"
	"sync"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

// RowBlocks serves a genes x samples matrix in blocks of consecutive genes,
// for the per-gene fits (dispersions) that need all of a gene's samples at
// once. Within a block of n genes, value (gene r, sample j) is at
// dst[j*n+r]. columnar.Spill implements it on disk; RowMatrix in memory.
type RowBlocks interface {
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

// rowsInMemory is the largest matrix (in bytes of float64 values) that
// ReadRows keeps in memory; larger ones go to a temporary file.
const rowsInMemory = 64 << 20

// ReadRows reads the raw counts of the given genes (all genes when genes is
// nil) of every sample of src, in one pass, into a RowBlocks: in memory up
// to 64 MiB, otherwise in a temporary file in tempDir (the system's when
// empty) read back in blocks of about 64 MiB. Close the returned closer when
// done.
func ReadRows(ctx context.Context, src columnar.Source, genes []int, opts pass.Options, tempDir string) (RowBlocks, io.Closer, error) {
	G, S := len(src.Genes()), len(src.Samples())
	if genes != nil {
		G = len(genes)
	}
	if int64(G)*int64(S)*8 <= rowsInMemory {
		m := NewRowMatrix(G, S)
		err := pass.Run(ctx, src, opts, func(_, j int, col []float64) error {
			dst := m.Column(j)
			if genes == nil {
				copy(dst, col)
			} else {
				for k, g := range genes {
					dst[k] = col[g]
				}
			}
			return nil
		}, nil)
		if err != nil {
			return nil, nil, err
		}
		return m, nopCloser{}, nil
	}
	sp, err := columnar.NewColumnSpill(tempDir, G, S, rowsInMemory)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	buf := make([][]float64, opts.Workers(src))
	err = pass.Run(ctx, src, opts, func(w, j int, col []float64) error {
		out := col
		if genes != nil {
			if buf[w] == nil {
				buf[w] = make([]float64, G)
			}
			out = buf[w]
			for k, g := range genes {
				out[k] = col[g]
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return sp.WriteColumn(j, out)
	}, nil)
	if err != nil {
		sp.Close()
		return nil, nil, err
	}
	return sp, sp, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
