package deseq2

import (
	"context"
	"errors"
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
	Pass     pass.Options
}

// Factors is one value per sample.
type Factors struct {
	Samples    []string
	LibSize    []float64 // column sums
	SizeFactor []float64
}

// GeoMeans holds the result of pass 1: the log geometric means ℓ_i and the
// library sizes.
type GeoMeans struct {
	LogGeoMean []float64 // per gene; -Inf where the gene cannot be used
	LibSize    []float64 // per sample
}

// LogGeoMeans runs pass 1: library sizes and per-gene log geometric means
// for the method.
func LogGeoMeans(ctx context.Context, src columnar.Source, method Method, opts pass.Options) (*GeoMeans, error) {
	G, S := len(src.Genes()), len(src.Samples())
	sum, comp := make([]float64, G), make([]float64, G)
	zeros := make([]int32, G)
	lib := make([]float64, S)
	work := func(_, j int, col []float64) error {
		lib[j] = kernels.Sum(col)
		return nil
	}
	reduce := func(_ int, col []float64) error {
		kernels.LogSums(sum, comp, zeros, col)
		return nil
	}
	if err := pass.Run(ctx, src, opts, work, reduce); err != nil {
		return nil, err
	}
	if method != Ratio && method != PosCounts {
		return nil, fmt.Errorf("deseq2: unknown size factor method %q", method)
	}
	m := float64(S)
	ell := sum // ℓ overwrites the sums
	for i := range ell {
		total := kernels.CompensatedTotal(sum[i], comp[i])
		switch {
		case method == Ratio && zeros[i] > 0:
			ell[i] = math.Inf(-1) // rowMeans(log(counts)) with a log(0)
		case method == Ratio:
			ell[i] = total / m
		case int(zeros[i]) == S:
			ell[i] = math.Inf(-1) // poscounts: geometric mean 0 for an all-zero gene
		default:
			// poscounts: log(exp(sum(log(x[x > 0])) / length(x))), as DESeq2 writes it
			ell[i] = math.Log(math.Exp(total / m))
		}
	}
	return &GeoMeans{LogGeoMean: ell, LibSize: lib}, nil
}

// SizeFactors estimates DESeq2 size factors for every sample of src.
func SizeFactors(ctx context.Context, src columnar.Source, opts Options) (*Factors, error) {
	if opts.Method == "" {
		opts.Method = Ratio
	}
	if opts.Controls != nil && len(opts.Controls) != len(src.Genes()) {
		panic("deseq2: Controls must have one entry per gene")
	}
	geo, err := LogGeoMeans(ctx, src, opts.Method, opts.Pass)
	if err != nil {
		return nil, err
	}
	for j, lib := range geo.LibSize {
		if lib == 0 {
			return nil, &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: "every count of this sample is zero: DESeq2 has no size factor for it (NA, or every gene has a zero); remove the sample"}
		}
	}
	usable := 0
	for i, l := range geo.LogGeoMean {
		if !math.IsInf(l, -1) && (opts.Controls == nil || opts.Controls[i]) {
			usable++
		}
	}
	if usable == 0 {
		return nil, noUsableGenes(src, opts)
	}
	sf, err := MediansOfRatios(ctx, src, geo.LogGeoMean, opts.Controls, opts.Pass)
	if err != nil {
		return nil, err
	}
	if opts.Method == PosCounts {
		Recentre(sf)
	}
	return &Factors{Samples: src.Samples(), LibSize: geo.LibSize, SizeFactor: sf}, nil
}

// errEveryGeneHasAZero marks the failure of ratio size factors when every gene
// has a zero count.
var errEveryGeneHasAZero = errors.New("every gene has a zero")

// EveryGeneHasAZero reports whether err is the failure of ratio size factors
// on data where every gene has at least one zero (poscounts works there).
func EveryGeneHasAZero(err error) bool { return errors.Is(err, errEveryGeneHasAZero) }

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
	ie := &columnar.InputError{File: src.Path(), Msg: msg}
	if opts.Method == Ratio && opts.Controls == nil {
		ie.Err = errEveryGeneHasAZero
	}
	return ie
}

// MediansOfRatios runs pass 2: for each sample, exp of the median of
// ln c_ij - logGeo_i over the genes with a finite logGeo_i, c_ij > 0 and
// (when controls is not nil) controls[i]. A sample without any such gene is
// an InputError (DESeq2 answers NA there).
func MediansOfRatios(ctx context.Context, src columnar.Source, logGeo []float64, controls []bool, opts pass.Options) ([]float64, error) {
	S := len(src.Samples())
	sf := make([]float64, S)
	scratch := make([][]float64, opts.Workers(src))
	work := func(w, j int, col []float64) error {
		scratch[w] = kernels.LogRatios(scratch[w], col, logGeo, controls)
		if len(scratch[w]) == 0 {
			return &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: "no gene with a positive count and a finite geometric mean in this sample (all zero?): DESeq2 answers NA here; remove the sample"}
		}
		sf[j] = math.Exp(kernels.Median(scratch[w]))
		return nil
	}
	if err := pass.Run(ctx, src, opts, work, nil); err != nil {
		return nil, err
	}
	return sf, nil
}

// Recentre divides the factors by their geometric mean, exp(mean(ln s)),
// so that their product is 1 (DESeq2 estimateSizeFactors for poscounts).
func Recentre(sf []float64) {
	logs := make([]float64, len(sf))
	kernels.LogInto(logs, sf)
	g := math.Exp(kernels.MeanR(logs))
	for j := range sf {
		sf[j] /= g
	}
}

// Scale says what Normalize writes.
type Scale int

const (
	Plain  Scale = iota // c_ij / s_j
	Log2p1              // log2(c_ij / s_j + 1)
)

// Normalize writes c_ij / s_j (or log2 of it plus one) for every sample of
// src to sink, in sample order.
func Normalize(ctx context.Context, src columnar.Source, sf []float64, scale Scale, sink columnar.Sink, opts pass.Options) error {
	work := func(_, j int, col []float64) error {
		kernels.DivideInto(col, col, sf[j])
		if scale == Log2p1 {
			kernels.Log2p1Into(col, col)
		}
		return nil
	}
	return pass.Run(ctx, src, opts, work, sink.WriteColumn)
}
