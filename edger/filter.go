package edger

import (
	"context"
	"fmt"
	"math"

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
	cutoff := FilterCutoff(lib, o)
	G := len(src.Genes())
	above := make([]int32, G)
	total := kernels.NewExactSums(G) // exact: the same bits when shards of samples are merged
	reduce := func(j int, col []float64) error {
		FilterAccumulate(above, total, col, lib[j], cutoff)
		return nil
	}
	if err := pass.Run(ctx, src, opts, nil, reduce); err != nil {
		return nil, err
	}
	return FilterKeep(above, total, n, o), nil
}

// FilterCutoff is filterByExpr's CPM cutoff min.count / median(lib) · 1e6.
func FilterCutoff(lib []float64, o FilterOptions) float64 {
	o.defaults()
	return o.MinCount / kernels.Median(append([]float64(nil), lib...)) * 1e6
}

// FilterAccumulate adds one sample (library size lib) to filterByExpr's
// per-gene counts: above[i]++ where the CPM reaches cutoff, total[i] += count.
func FilterAccumulate(above []int32, total kernels.ExactSums, col []float64, lib, cutoff float64) {
	scale := 1e6 / lib
	for i, y := range col {
		if y*scale >= cutoff {
			above[i]++
		}
		total.Add(i, y)
	}
}

// FilterKeep is filterByExpr's decision from the accumulated counts: at
// least n - 1e-14 samples above the cutoff and a total count of at least
// min.total.count - 1e-14.
func FilterKeep(above []int32, total kernels.ExactSums, n float64, o FilterOptions) []bool {
	o.defaults()
	const tol = 1e-14
	keep := make([]bool, len(above))
	for i := range keep {
		keep[i] = float64(above[i]) >= n-tol && total.Float64(i) >= o.MinTotalCount-tol
	}
	return keep
}

// CheckLibSizes is CPM's check that every library size is positive and
// finite; file names the input in the message.
func CheckLibSizes(file string, samples []string, lib []float64) error {
	for j, l := range lib {
		if !(l > 0) || math.IsInf(l, 0) {
			return &columnar.InputError{File: file, Sample: samples[j],
				Msg: fmt.Sprintf("library size %v: CPM needs a positive library size (edgeR stops here); remove the sample", l)}
		}
	}
	return nil
}

// FilterThreshold keeps the genes with at least minSamples samples whose
// count is >= minCount and (when minCPM > 0) whose CPM on the column sums is
// >= minCPM.
func FilterThreshold(ctx context.Context, src columnar.Source, minCount, minCPM float64, minSamples int, opts pass.Options) ([]bool, error) {
	G := len(src.Genes())
	hits := make([]int32, G)
	reduce := func(j int, col []float64) error {
		ThresholdAccumulate(hits, col, minCount, minCPM)
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

// ThresholdAccumulate counts, per gene, whether one sample's count is >=
// minCount and (when minCPM > 0) its CPM on the column sum >= minCPM.
func ThresholdAccumulate(hits []int32, col []float64, minCount, minCPM float64) {
	scale := 0.0
	if minCPM > 0 {
		scale = 1e6 / kernels.Sum(col)
	}
	for i, y := range col {
		if y >= minCount && (minCPM <= 0 || y*scale >= minCPM) {
			hits[i]++
		}
	}
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
