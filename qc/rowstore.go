package qc

import (
	"context"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
)

// rowStoreMemory is the largest store (bytes of float64 values) kept in
// memory; larger ones go to a temporary file, read back in blocks this size.
const rowStoreMemory = 64 << 20

// rowStore keeps sample columns written once and serves them back as blocks
// of gene rows, in memory when small and on disk otherwise.
type rowStore struct {
	mem   *deseq2.RowMatrix
	spill *columnar.Spill
	rows  deseq2.RowBlocks
}

func newRowStore(dir string, genes, samples int) (*rowStore, error) {
	if int64(genes)*int64(samples)*8 <= rowStoreMemory {
		m := deseq2.NewRowMatrix(genes, samples)
		return &rowStore{mem: m, rows: m}, nil
	}
	sp, err := columnar.NewColumnSpill(dir, genes, samples, rowStoreMemory)
	if err != nil {
		return nil, err
	}
	return &rowStore{spill: sp, rows: sp}, nil
}

// WriteColumn stores sample k's column.
func (s *rowStore) WriteColumn(k int, v []float64) error {
	if s.mem != nil {
		copy(s.mem.Column(k), v)
		return nil
	}
	return s.spill.WriteColumn(k, v)
}

// EachBlock calls fn with every block of gene rows in gene order, row-major
// (block[i*samples+a] is the block's gene i in sample a).
func (s *rowStore) EachBlock(ctx context.Context, fn func(block []float64, rows int)) error {
	m := s.rows.Samples()
	buf := make([]float64, s.rows.BlockGenes()*m)
	rowMajor := make([]float64, len(buf))
	for b := 0; b < s.rows.NumBlocks(); b++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := s.rows.ReadBlock(b, buf)
		if err != nil {
			return err
		}
		for a := 0; a < m; a++ {
			col := buf[a*n : (a+1)*n]
			for i, v := range col {
				rowMajor[i*m+a] = v
			}
		}
		fn(rowMajor[:n*m], n)
	}
	return nil
}

// Close removes the temporary file, if any.
func (s *rowStore) Close() error {
	if s.spill != nil {
		return s.spill.Close()
	}
	return nil
}
