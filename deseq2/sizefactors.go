package deseq2

import (
	"context"
	"fmt"
	"math"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// Method names a DESeq2 size factor estimator.
type Method string

// The size factor methods.
const (
	Ratio     Method = "ratio"     // median of ratios to the geometric means (DESeq2's default)
	PosCounts Method = "poscounts" // geometric means over positive counts; works when every gene has a zero
)

// Options configure SizeFactors.
type Options struct {
	Method Method
	// Controls, when not nil, marks the genes whose ratios enter the median
	// (DESeq2 controlGenes, e.g. ERCC spike-ins); the geometric means still
	// use every gene.
	Controls []bool
	// FallbackToPosCounts makes Ratio use poscounts where every gene has a
	// zero (Factors.Method then says so), from the same first pass.
	FallbackToPosCounts bool
	Pass                pass.Options
}

// Factors is one value per sample.
type Factors struct {
	Method     Method // the method used (poscounts after a fall-back)
	Samples    []string
	LibSize    []float64 // column sums
	SizeFactor []float64
	// LogGeoMean is ℓ_i, the reference each sample's ratios were taken
	// against (-Inf for genes left out); one value per gene.
	LogGeoMean []float64
}

// GeneLogSums is the state of pass 1, from which either method's log
// geometric means follow without reading the data again.
type GeneLogSums struct {
	Total   []float64 // per gene: Σ_j ln c_ij over the positive counts, correctly rounded
	Zeros   []int32   // per gene: the number of zero counts
	LibSize []float64 // per sample: the column sum
	// Exact holds the per-gene sums before rounding: sums over shards of
	// samples merge (kernels.ExactSums.Merge) to the bits of one pass over
	// all samples.
	Exact kernels.ExactSums
}

// NewGeneLogSums rounds merged exact sums into the state of pass 1.
func NewGeneLogSums(exact kernels.ExactSums, zeros []int32, lib []float64) *GeneLogSums {
	g := &GeneLogSums{Total: make([]float64, exact.Len()), Zeros: zeros, LibSize: lib, Exact: exact}
	for i := range g.Total {
		g.Total[i] = exact.Float64(i)
	}
	return g
}

// LogGeoMeans returns ℓ_i for the method: -Inf where the gene cannot be used.
func (g *GeneLogSums) LogGeoMeans(method Method) []float64 {
	S := len(g.LibSize)
	m := float64(S)
	ell := make([]float64, len(g.Total))
	for i, total := range g.Total {
		switch {
		case method == Ratio && g.Zeros[i] > 0:
			ell[i] = math.Inf(-1) // rowMeans(log(counts)) with a log(0)
		case method == Ratio:
			ell[i] = total / m
		case int(g.Zeros[i]) == S:
			ell[i] = math.Inf(-1) // poscounts: geometric mean 0 for an all-zero gene
		default:
			// poscounts: log(exp(sum(log(x[x > 0])) / length(x))), as DESeq2 writes it
			ell[i] = math.Log(math.Exp(total / m))
		}
	}
	return ell
}

// SumLogs runs pass 1: library sizes and per-gene sums of log counts. The
// sums are exact (kernels.ExactSums) and rounded once, so they do not depend
// on the order of the samples, the number of threads or a split into shards.
func SumLogs(ctx context.Context, src columnar.Source, opts pass.Options) (*GeneLogSums, error) {
	G, S := len(src.Genes()), len(src.Samples())
	lib := make([]float64, S)
	// Exact sums do not depend on the order of the additions, so each worker
	// sums its own columns and the workers' sums are merged at the end: no
	// serial reduction, and the same bits for any number of threads. The
	// workers check the counts, sum them and take their logarithms in one
	// sweep (LogSumAccumulator.AddCounts; the pass's own check is skipped).
	workers := opts.Workers(src)
	exact, zeros := make([]kernels.ExactSums, workers), make([][]int32, workers)
	acc := make([]*kernels.LogSumAccumulator, workers)
	for w := range exact {
		exact[w], zeros[w] = kernels.NewExactSums(G), make([]int32, G)
		acc[w] = kernels.NewLogSumAccumulator(exact[w])
	}
	checked := opts
	checked.NoCheck = true
	checked.KeepCounts = true
	// A worker keeps one sample's counts until its next, and sweeps the
	// genes' sums once for both (AddUint32sPair): with KeepCounts,
	// pass.RunCounts leaves a column as it is until the worker's next call
	// has returned.
	type heldColumn struct {
		j      int
		counts []uint32
	}
	held := make([]heldColumn, workers)
	counts := func(w, j int, c []uint32) error {
		if h := held[w]; h.counts != nil {
			lib[h.j], lib[j] = acc[w].AddUint32sPair(zeros[w], h.counts, c)
			held[w] = heldColumn{}
			return nil
		}
		held[w] = heldColumn{j, c}
		return nil
	}
	work := func(w, j int, col []float64) error {
		var bad int
		if lib[j], bad = acc[w].AddCounts(zeros[w], col, opts.AllowFractional); bad >= 0 {
			return pass.CountError(src, j, bad, col[bad])
		}
		return nil
	}
	if err := pass.RunCounts(ctx, src, checked, counts, work); err != nil {
		return nil, err
	}
	for w, a := range acc {
		if h := held[w]; h.counts != nil {
			lib[h.j] = a.AddUint32s(zeros[w], h.counts)
		}
		a.Flush()
	}
	for w := 1; w < workers; w++ {
		exact[0].Merge(exact[w])
		for i, z := range zeros[w] {
			zeros[0][i] += z
		}
	}
	return NewGeneLogSums(exact[0], zeros[0], lib), nil
}

// GeoMeans holds the log geometric means ℓ_i and the library sizes.
type GeoMeans struct {
	LogGeoMean []float64 // per gene; -Inf where the gene cannot be used
	LibSize    []float64 // per sample
}

// LogGeoMeans runs pass 1 and returns the method's log geometric means.
func LogGeoMeans(ctx context.Context, src columnar.Source, method Method, opts pass.Options) (*GeoMeans, error) {
	if method != Ratio && method != PosCounts {
		return nil, fmt.Errorf("deseq2: unknown size factor method %q", method)
	}
	g, err := SumLogs(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	return &GeoMeans{LogGeoMean: g.LogGeoMeans(method), LibSize: g.LibSize}, nil
}

// SizeFactors estimates DESeq2 size factors for every sample of src.
func SizeFactors(ctx context.Context, src columnar.Source, opts Options) (*Factors, error) {
	f, _, err := sizeFactors(ctx, src, opts, false)
	return f, err
}

// sizeFactors is SizeFactors; with baseMeans it also returns rough base
// means of the factors (roughMeans), summed in the medians pass, when the
// factors are final there (ratio factors; poscounts factors are recentred
// after it, and then the means are nil: BaseMeans makes them in a pass of
// its own).
func sizeFactors(ctx context.Context, src columnar.Source, opts Options, baseMeans bool) (*Factors, *roughMeans, error) {
	if opts.Method == "" {
		opts.Method = Ratio
	}
	if opts.Method != Ratio && opts.Method != PosCounts {
		return nil, nil, fmt.Errorf("deseq2: unknown size factor method %q", opts.Method)
	}
	if opts.Controls != nil && len(opts.Controls) != len(src.Genes()) {
		panic("deseq2: Controls must have one entry per gene")
	}
	sums, err := SumLogs(ctx, src, opts.Pass)
	if err != nil {
		return nil, nil, err
	}
	for j, lib := range sums.LibSize {
		if lib == 0 {
			return nil, nil, &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: "every count of this sample is zero: DESeq2 has no size factor for it (NA, or every gene has a zero); remove the sample"}
		}
	}
	ell := sums.LogGeoMeans(opts.Method)
	if usableGenes(ell, opts.Controls) == 0 {
		if opts.Method != Ratio || opts.Controls != nil || !opts.FallbackToPosCounts {
			return nil, nil, noUsableGenes(src, opts)
		}
		opts.Method = PosCounts
		if ell = sums.LogGeoMeans(PosCounts); usableGenes(ell, nil) == 0 {
			return nil, nil, noUsableGenes(src, opts)
		}
	}
	var means *roughMeans
	if baseMeans && opts.Method == Ratio {
		means = newRoughMeans(opts.Pass.Workers(src), len(src.Genes()))
	}
	sf, err := mediansOfRatios(ctx, src, ell, opts.Controls, opts.Pass, means)
	if err != nil {
		return nil, nil, err
	}
	if opts.Method == PosCounts {
		kernels.Recentre(sf)
	}
	return &Factors{Method: opts.Method, Samples: src.Samples(), LibSize: sums.LibSize, SizeFactor: sf, LogGeoMean: ell}, means, nil
}

// usableGenes counts the genes with a finite ℓ (among the controls, if given).
func usableGenes(ell []float64, controls []bool) int {
	n := 0
	for i, l := range ell {
		if !math.IsInf(l, -1) && (controls == nil || controls[i]) {
			n++
		}
	}
	return n
}

func noUsableGenes(src columnar.Source, opts Options) error {
	var msg string
	switch {
	case opts.Controls != nil && opts.Method == Ratio:
		msg = "every control gene contains at least one zero, cannot compute log geometric means (DESeq2 fails here); --method poscounts works"
	case opts.Controls != nil:
		msg = "every control gene is zero in every sample; no size factors can be estimated from them"
	case opts.Method == Ratio:
		msg = "every gene contains at least one zero, cannot compute log geometric means (DESeq2 fails here); use --method poscounts, which works"
	default:
		msg = "every gene is zero in every sample; no size factors can be estimated"
	}
	return &columnar.InputError{File: src.Path(), Msg: msg}
}

// MediansOfRatios runs pass 2: for each sample, exp of the median of
// ln c_ij - logGeo_i over the genes with a finite logGeo_i, c_ij > 0 and
// (when controls is not nil) controls[i]. A sample without any such gene is
// an InputError (DESeq2 answers NA there).
func MediansOfRatios(ctx context.Context, src columnar.Source, logGeo []float64, controls []bool, opts pass.Options) ([]float64, error) {
	return mediansOfRatios(ctx, src, logGeo, controls, opts, nil)
}

// mediansOfRatios is MediansOfRatios; when means is not nil, each worker
// also adds the sample's normalized counts to it (roughMeans), with the
// sample's factor, final as soon as its median is known.
func mediansOfRatios(ctx context.Context, src columnar.Source, logGeo []float64, controls []bool, opts pass.Options, means *roughMeans) ([]float64, error) {
	S := len(src.Samples())
	sf := make([]float64, S)
	scratch := make([]kernels.RatioMedian, opts.Workers(src))
	usable := kernels.UsableGenes(logGeo, controls)
	// Pass 1 checked every count of the same file.
	opts.NoCheck = true
	// setFactor sets sample j's factor from the median m of its n ratios.
	setFactor := func(j int, m float64, n int) error {
		if n == 0 {
			return &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: "no gene with a positive count and a finite geometric mean in this sample (all zero?): DESeq2 answers NA here; remove the sample"}
		}
		sf[j] = math.Exp(m)
		return nil
	}
	counts := func(w, j int, c []uint32) error {
		m, n := scratch[w].LogRatioMedianCounts(c, logGeo, usable)
		if err := setFactor(j, m, n); err != nil {
			return err
		}
		if means != nil {
			means.addCounts(w, c, sf[j])
		}
		return nil
	}
	work := func(w, j int, col []float64) error {
		m, n := scratch[w].LogRatioMedian(col, logGeo, usable)
		if err := setFactor(j, m, n); err != nil {
			return err
		}
		if means != nil {
			means.add(w, col, sf[j])
		}
		return nil
	}
	if err := pass.RunCounts(ctx, src, opts, counts, work); err != nil {
		return nil, err
	}
	return sf, nil
}

// Scale says what Normalize writes.
type Scale int

const (
	Plain  Scale = iota // c_ij / s_j
	Log2p1              // log2(c_ij / s_j + 1)
)

// Normalize writes c_ij / s_j (or log2 of it plus one) for every sample of
// src to sink, in sample order, as functions of the counts
// (pass.WriteMapped with normalizedOf).
func Normalize(ctx context.Context, src columnar.Source, sf []float64, scale Scale, sink columnar.Sink, opts pass.Options) error {
	return pass.WriteMapped(ctx, src, opts, sink, func(j int) func(float64) float64 {
		return normalizedOf(sf[j], scale)
	})
}

// normalizedOf is Normalize's value of a count of a sample with size
// factor s: the bits of kernels.DivideInto and then Log2p1Into.
func normalizedOf(s float64, scale Scale) func(c float64) float64 {
	if scale == Log2p1 {
		return func(c float64) float64 { return math.Log2(c/s + 1) }
	}
	return func(c float64) float64 { return c / s }
}
