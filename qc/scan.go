package qc

import (
	"context"
	"math"
	"slices"
	"sync"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// ScanOptions configure Scan.
type ScanOptions struct {
	NTop        int    // PCA on this many most variable genes (DESeq2 plotPCA: 500)
	MaxHeatmap  int    // correlations and clustering on at most this many samples
	RatioCurves int    // log-ratio curves for at most this many samples (default 12)
	TempDir     string // for the VST rows of the heatmap samples
	// PCAOnly computes the PCA alone: no box summaries, ratio curves,
	// correlations or clustering (for a before/after comparison).
	PCAOnly bool
	Pass    pass.Options
}

// Box is a five-number summary: minimum, quartiles (R's type 7) and maximum.
type Box struct{ Min, Q1, Median, Q3, Max float64 }

// RatioCurve is one sample's sorted log ratios ln(c_ij) - ℓ_i against the
// genes' log geometric means, over the genes median-of-ratios uses (finite
// ℓ_i, c_ij > 0), at 101 evenly spaced probabilities; the median of the log
// ratios is ln of the size factor.
type RatioCurve struct {
	Sample    int
	Quantiles []float64
	Median    float64
	N         int
}

// Result is what Scan finds.
type Result struct {
	NTop int // genes in the PCA
	PCA  PCA
	// Heatmap lists the samples (indices) that Cor, Dist and the clustering
	// cover: all of them, or MaxHeatmap evenly spaced ones.
	Heatmap   []int
	Cor, Dist [][]float64
	Merge     [][2]int // hclust merge, heights and order (1-based into Heatmap)
	Height    []float64
	Order     []int
	BoxBefore []Box // per sample: log2(count + 1)
	BoxAfter  []Box // per sample: log2(count / size factor + 1)
	Curves    []RatioCurve
	Outliers  []Outlier // set by FlagOutliers
}

// EvenlySpaced returns n of the indices 0..m-1 at positions
// round(seq(1, m, length.out = n)) (all of them when n >= m).
func EvenlySpaced(m, n int) []int {
	switch {
	case n <= 0:
		return nil
	case n == 1 && m > 0:
		return []int{0}
	}
	if n >= m {
		out := make([]int, m)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, n)
	by := float64(m-1) / float64(n-1)
	for k := range out {
		out[k] = int(math.RoundToEven(1+float64(k)*by)) - 1
	}
	out[n-1] = m - 1
	return out
}

// heatmapRowsInMemory bounds the heatmap samples' VST values that Scan
// holds in memory at once: the whole store when it fits, else a block of
// rows read back from its temporary file (16 MiB: 4,000 genes of 500
// samples, which the pairs' sums take in chunks of chunkRows anyway).
const heatmapRowsInMemory = 16 << 20

// Scan computes the sample QC of src on its VST values (model), in passes
// over the sample columns:
//
//  1. each column's VST, its box summaries before and after normalization,
//     the log-ratio curves of a few samples, every gene's variance over
//     samples (Welford's update in sample order: the same as R's two-pass
//     rowVars to about 1e-15 relative), and the heatmap samples' VST
//     columns, which go to a temporary row-block store;
//  2. the VST of the NTop most variable genes (stable decreasing order of
//     variance) gathered into an NTop x m matrix for the PCA;
//  3. over the stored heatmap rows, block by block in gene order, the
//     Euclidean distances and centred cross-products of every pair
//     (Pairwise), then Pearson correlations and complete-linkage clustering.
//
// Memory: a few values per gene, NTop x m for the PCA, and
// MaxHeatmap² for the pairs; the heatmap rows stay on disk beyond
// heatmapRowsInMemory.
func Scan(ctx context.Context, src columnar.Source, model *deseq2.VSTModel, opts ScanOptions) (*Result, error) {
	G, m := len(src.Genes()), len(src.Samples())
	if opts.RatioCurves == 0 {
		opts.RatioCurves = 12
	}
	sf, ell := model.Factors.SizeFactor, model.Factors.LogGeoMean
	res := &Result{
		Heatmap:   EvenlySpaced(m, opts.MaxHeatmap),
		BoxBefore: make([]Box, m),
		BoxAfter:  make([]Box, m),
	}
	if opts.PCAOnly {
		res.Heatmap, opts.RatioCurves = nil, -1
	}
	heatPos := make(map[int]int, len(res.Heatmap))
	for k, j := range res.Heatmap {
		heatPos[j] = k
	}
	curvePos := map[int]int{}
	for _, j := range EvenlySpaced(m, max(opts.RatioCurves, 0)) {
		curvePos[j] = len(res.Curves)
		res.Curves = append(res.Curves, RatioCurve{Sample: j})
	}
	store, err := deseq2.NewRowStoreWithin(opts.TempDir, G, len(res.Heatmap), heatmapRowsInMemory)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	colMeans := make([]float64, len(res.Heatmap))

	// Pass 1.
	mean, m2 := make([]float64, G), make([]float64, G)
	workers := opts.Pass.Workers(src)
	scratch := make([][]float64, workers)
	var mu sync.Mutex
	n := 0
	err = pass.Run(ctx, src, opts.Pass, func(w, j int, col []float64) error {
		if scratch[w] == nil {
			scratch[w] = make([]float64, G)
		}
		tmp := scratch[w]
		if opts.PCAOnly {
			model.Trend.TransformInto(col, col, sf[j])
			return nil
		}
		qs := countQuartiles(tmp, col)
		res.BoxBefore[j] = qs.box(func(c float64) float64 { return math.Log2(c + 1) })
		res.BoxAfter[j] = qs.box(func(c float64) float64 { return math.Log2(c/sf[j] + 1) })
		if k, ok := curvePos[j]; ok {
			mu.Lock()
			res.Curves[k] = ratioCurve(j, col, ell)
			mu.Unlock()
		}
		model.Trend.TransformInto(col, col, sf[j])
		return nil
	}, func(j int, v []float64) error {
		n++
		for i, x := range v {
			d := x - mean[i]
			mean[i] += d / float64(n)
			m2[i] += d * (x - mean[i])
		}
		if k, ok := heatPos[j]; ok {
			colMeans[k] = kernels.MeanR(v)
			return store.WriteColumn(k, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Pass 2: the most variable genes.
	for i := range m2 {
		m2[i] /= float64(m - 1)
	}
	top := TopVariable(m2, opts.NTop)
	res.NTop = len(top)
	rows := make([][]float64, len(top))
	for r := range rows {
		rows[r] = make([]float64, m)
	}
	one := make([]float64, 1)
	err = pass.Run(ctx, src, opts.Pass, nil, func(j int, col []float64) error {
		for r, g := range top {
			one[0] = col[g]
			rows[r][j] = model.Trend.TransformInto(one, one, sf[j])[0]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.PCA, err = PrincipalComponents(rows); err != nil {
		return nil, err
	}

	if opts.PCAOnly {
		return res, nil
	}
	// Pass 3: pairs of heatmap samples.
	pw := NewPairwise(len(res.Heatmap), colMeans, opts.Pass.Threads)
	if _, err := deseq2.EachBlock(ctx, store, nil, func(_, n int, block []float64) error {
		pw.AddColumns(block, n)
		return nil
	}); err != nil {
		return nil, err
	}
	res.Cor, res.Dist = pw.Correlation(), pw.Distances()
	res.Merge, res.Height, res.Order = HClustComplete(res.Dist)
	return res, nil
}

// quantilePoint is what R's type-7 quantile interpolates: the order
// statistics x(lo) and x(hi) and the weight g of x(hi) (see
// kernels.Quantile7).
type quantilePoint struct{ lo, hi, g float64 }

// quantilePointOf finds the type-7 quantile p of x, reordering x.
func quantilePointOf(x []float64, p float64) quantilePoint {
	h := 1 + float64(len(x)-1)*p
	lo := math.Floor(h)
	q := quantilePoint{lo: kernels.Select(x, int(lo)-1), g: h - lo}
	q.hi = q.lo
	if q.g > 0 {
		q.hi = slices.Min(x[int(lo):]) // x(lo+1) once Select has run
	}
	return q
}

// under is the type-7 quantile of f(x) for a non-decreasing f, in
// kernels.Quantile7's form: f maps the order statistics to those of f(x).
func (q quantilePoint) under(f func(float64) float64) float64 {
	a := f(q.lo)
	if q.g == 0 {
		return a
	}
	if b := f(q.hi); b != a {
		return (1-q.g)*a + q.g*b
	}
	return a
}

// quartiles are a column's minimum, type-7 quartiles and maximum as order
// statistics, so that the box summaries of several monotone transforms of
// the column need no transform of every value.
type quartiles struct {
	min, max   float64
	q1, q2, q3 quantilePoint
}

// countQuartiles finds the quartiles of col, using tmp (len(col)) as scratch.
func countQuartiles(tmp, col []float64) quartiles {
	copy(tmp, col)
	return quartiles{min: slices.Min(tmp), max: slices.Max(tmp),
		q1: quantilePointOf(tmp, 0.25), q2: quantilePointOf(tmp, 0.5), q3: quantilePointOf(tmp, 0.75)}
}

// box is the five-number summary of f(col) for a non-decreasing f.
func (q quartiles) box(f func(float64) float64) Box {
	return Box{Min: f(q.min), Q1: q.q1.under(f), Median: q.q2.under(f), Q3: q.q3.under(f), Max: f(q.max)}
}

// ratioCurve is sample j's ranked log ratios against ℓ.
func ratioCurve(j int, col, ell []float64) RatioCurve {
	var r []float64
	for i, c := range col {
		if c > 0 && !math.IsInf(ell[i], -1) {
			r = append(r, math.Log(c)-ell[i])
		}
	}
	out := RatioCurve{Sample: j, N: len(r)}
	if len(r) == 0 {
		out.Median = math.NaN()
		return out
	}
	slices.Sort(r)
	out.Median = kernels.Quantile7(slices.Clone(r), 0.5)
	for k := 0; k <= 100; k++ {
		out.Quantiles = append(out.Quantiles, kernels.Quantile7(r, float64(k)/100))
	}
	return out
}

// FlagOutliers applies Outliers to a Scan: the correlation rule over the
// heatmap samples, the PC-space rule over all samples with their groups
// (nil: one group).
func FlagOutliers(res *Result, groups []string) []Outlier {
	m := len(res.PCA.Scores)
	if len(res.Heatmap) == m {
		return Outliers(m, res.Cor, res.PCA.Scores, groups)
	}
	byPC := Outliers(m, nil, res.PCA.Scores, groups)
	byCor := Outliers(len(res.Heatmap), res.Cor, nil, nil)
	merged := map[int]Outlier{}
	for _, o := range byPC {
		merged[o.Sample] = o
	}
	for _, o := range byCor {
		j := res.Heatmap[o.Sample]
		if p, ok := merged[j]; ok {
			p.MedianCor = o.MedianCor
			p.Reasons = append(p.Reasons, o.Reasons...)
			merged[j] = p
		} else {
			o.Sample = j
			merged[j] = o
		}
	}
	var out []Outlier
	for _, o := range merged {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Outlier) int { return a.Sample - b.Sample })
	return out
}
