package edger

import (
	"context"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// FilterOptions are filterByExpr's arguments; zero values mean edgeR's defaults.
type FilterOptions struct {
	MinCount      float64 // 10
	MinTotalCount float64 // 15
	LargeN        float64 // 10
	MinProp       float64 // 0.7
}

func (o *FilterOptions) defaults() {
	if o.MinCount == 0 {
		o.MinCount = 10
	}
	if o.MinTotalCount == 0 {
		o.MinTotalCount = 15
	}
	if o.LargeN == 0 {
		o.LargeN = 10
	}
	if o.MinProp == 0 {
		o.MinProp = 0.7
	}
}

// MinSampleSize is filterByExpr's n: the smallest non-empty group size (all
// samples when group is nil), then, above large.n, large.n + (n - large.n)·min.prop.
func MinSampleSize(group []string, samples int, o FilterOptions) float64 {
	o.defaults()
	n := float64(samples)
	if group != nil {
		sizes := map[string]int{}
		for _, g := range group {
			sizes[g]++
		}
		n = float64(samples)
		for _, c := range sizes {
			if float64(c) < n {
				n = float64(c)
			}
		}
	}
	if n > o.LargeN {
		n = o.LargeN + (n-o.LargeN)*o.MinProp
	}
	return n
}

// FilterByExpr returns edgeR's filterByExpr keep flags for every gene: the
// gene has CPM >= cutoff in at least n - 1e-14 samples, with cutoff =
// min.count/median(lib)·1e6, and a total count >= min.total.count - 1e-14
// (the total summed exactly, then rounded once).
// lib are the library sizes (lib × TMM factor for edgeR's DGEList usage);
// group gives one label per sample, or nil for one group.
func FilterByExpr(ctx context.Context, src columnar.Source, lib []float64, group []string, o FilterOptions, opts pass.Options) ([]bool, error) {
	o.defaults()
	if err := checkLibSizes(src, lib); err != nil {
		return nil, err
	}
	n := MinSampleSize(group, len(src.Samples()), o)
	cutoff := o.MinCount / kernels.Median(append([]float64(nil), lib...)) * 1e6
	G := len(src.Genes())
	above := make([]int32, G)
	total := kernels.NewExactSums(G) // exact: the same bits when shards of samples are merged
	reduce := func(j int, col []float64) error {
		scale := 1e6 / lib[j]
		for i, y := range col {
			if y*scale >= cutoff {
				above[i]++
			}
			total.Add(i, y)
		}
		return nil
	}
	if err := pass.Run(ctx, src, opts, nil, reduce); err != nil {
		return nil, err
	}
	const tol = 1e-14
	keep := make([]bool, G)
	for i := range keep {
		keep[i] = float64(above[i]) >= n-tol && total.Float64(i) >= o.MinTotalCount-tol
	}
	return keep, nil
}

// FilterThreshold keeps the genes with at least minSamples samples whose
// count is >= minCount and (when minCPM > 0) whose CPM on the column sums is
// >= minCPM.
func FilterThreshold(ctx context.Context, src columnar.Source, minCount, minCPM float64, minSamples int, opts pass.Options) ([]bool, error) {
	G := len(src.Genes())
	hits := make([]int32, G)
	reduce := func(j int, col []float64) error {
		scale := 0.0
		if minCPM > 0 {
			scale = 1e6 / kernels.Sum(col)
		}
		for i, y := range col {
			if y >= minCount && (minCPM <= 0 || y*scale >= minCPM) {
				hits[i]++
			}
		}
		return nil
	}
	if err := pass.Run(ctx, src, opts, nil, reduce); err != nil {
		return nil, err
	}
	keep := make([]bool, G)
	for i := range keep {
		keep[i] = int(hits[i]) >= minSamples
	}
	return keep, nil
}

// WriteKept copies the rows of the kept genes of src, unchanged, to sink
// (which was created for the kept genes only).
func WriteKept(ctx context.Context, src columnar.Source, keep []bool, sink columnar.Sink, opts pass.Options) error {
	opts.NoCheck = true
	work := func(_, _ int, col []float64) error {
		k := 0
		for i, v := range col {
			if keep[i] {
				col[k] = v
				k++
			}
		}
		return nil
	}
	nKept := 0
	for _, k := range keep {
		if k {
			nKept++
		}
	}
	return pass.Run(ctx, src, opts, work, func(j int, col []float64) error { return sink.WriteColumn(j, col[:nKept]) })
}
