package deseq2

import (
	"testing"

	"github.com/colnorm/colnorm/bench"
)

// BenchmarkGeneDispersion times the gene-wise dispersion estimate of one
// gene over 2,000 samples (dispersionFitter.gene: the starting value, the
// line search on the Cox–Reid likelihood, and the grid search where it
// does not converge), the VST's fit of its nsub genes one at a time. The
// genes are 64 of the benchmark generator's with a mean above 5 (the ones
// vst() fits on), taken in turn; the size factors are the generator's.
func BenchmarkGeneDispersion(b *testing.B) {
	const genes, samples = 2000, 2000
	m := bench.New(bench.Params{Genes: genes, Samples: samples, Seed: 1})
	rows := make([][]float64, genes)
	for i := range rows {
		rows[i] = make([]float64, samples)
	}
	col := make([]float64, genes)
	for j := 0; j < samples; j++ {
		if err := m.ReadColumn(j, col); err != nil {
			b.Fatal(err)
		}
		for i, v := range col {
			rows[i][j] = v
		}
	}
	var picked [][]float64
	for i, mean := range m.GeneMeans() {
		if mean > 5 && len(picked) < 64 {
			picked = append(picked, rows[i])
		}
	}
	if len(picked) < 64 {
		b.Fatalf("only %d genes with a mean above 5", len(picked))
	}
	f := newDispersionFitter(m.TrueSizeFactors(), MaxDispersion(samples))
	k, iters := 0, 0
	for b.Loop() {
		d, ok := f.gene(picked[k])
		if !ok {
			b.Fatal("an all-zero gene")
		}
		iters += d.Iter
		k = (k + 1) % len(picked)
	}
	b.ReportMetric(float64(iters)/float64(b.N), "tries/gene")
}
