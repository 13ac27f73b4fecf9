package qc

import (
	"context"

	"github.com/colnorm/colnorm/deseq2"
)

// eachRowMajor calls fn with every block of the store's gene rows in gene
// order, transposed to row-major (block[i*samples+a] is the block's gene i
// in sample a), as Pairwise.AddBlock takes them.
func eachRowMajor(ctx context.Context, store *deseq2.RowStore, fn func(block []float64, rows int)) error {
	m := store.Samples()
	var rowMajor []float64
	_, err := deseq2.EachBlock(ctx, store, nil, func(_, n int, block []float64) error {
		if len(rowMajor) < n*m {
			rowMajor = make([]float64, n*m)
		}
		for a := 0; a < m; a++ {
			for i, v := range block[a*n : (a+1)*n] {
				rowMajor[i*m+a] = v
			}
		}
		fn(rowMajor[:n*m], n)
		return nil
	})
	return err
}
