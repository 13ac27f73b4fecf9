package deseq2

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// GeneDispersions estimates the gene-wise dispersion of every gene of rows
// (raw counts) with size factors sf, on `threads` goroutines (0: one per
// CPU). Genes whose counts are all zero get a zero GeneDispersion (Estimate
// 0, which no trend uses). The result does not depend on threads.
func GeneDispersions(ctx context.Context, rows RowBlocks, sf []float64, threads int) ([]GeneDispersion, error) {
	m := rows.Samples()
	if m < 2 {
		return nil, fmt.Errorf("deseq2: dispersions need at least 2 samples (%d given): the number of samples equals the number of model coefficients", m)
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	maxDisp := MaxDispersion(m)
	out := make([]GeneDispersion, rows.Genes())
	_, err := EachGene(ctx, rows, threads, nil, func() func(int, []float64) {
		f := newDispersionFitter(sf, maxDisp)
		return func(i int, y []float64) { out[i], _ = f.gene(y) }
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// vstMinBaseMean is the base mean that the genes of vst()'s subset exceed.
const vstMinBaseMean = 5

// VSTSubset returns the genes that DESeq2's vst() fits its trend on: of the
// genes whose mean normalized count exceeds 5, ordered by that mean (ties in
// gene order), those at positions round(seq(1, n, length.out = nsub)). The
// choice is deterministic: vst() draws no random numbers. It fails as vst()
// does with fewer than nsub genes or fewer than nsub genes above 5.
func VSTSubset(baseMean []float64, nsub int) ([]int, error) {
	if len(baseMean) < nsub {
		return nil, fmt.Errorf("fewer genes (%d) than --nsub %d: use the full VST (no --nsub)", len(baseMean), nsub)
	}
	var above []int
	for i, bm := range baseMean {
		if bm > vstMinBaseMean {
			above = append(above, i)
		}
	}
	if len(above) < nsub {
		return nil, fmt.Errorf("fewer genes with a mean normalized count above 5 (%d) than --nsub %d: use the full VST (no --nsub)", len(above), nsub)
	}
	slices.SortStableFunc(above, func(a, b int) int { return cmp.Compare(baseMean[a], baseMean[b]) })
	if nsub == 1 {
		return above[:1], nil
	}
	pos := seqLength(1, float64(len(above)), nsub)
	out := make([]int, nsub)
	for k, p := range pos {
		out[k] = above[int(math.RoundToEven(p))-1]
	}
	return out, nil
}

// VSTOptions configure FitVST.
type VSTOptions struct {
	Fit FitType // Parametric (default) or MeanFit
	// NSub > 0 fits the trend on NSub genes as DESeq2's vst() does
	// (VSTSubset); 0 fits every gene as varianceStabilizingTransformation.
	NSub int
	// Controls, when not nil, marks the control genes (spike-ins) whose
	// ratios alone give the size factors (DESeq2 controlGenes).
	Controls []bool
	TempDir  string // for the rows of a large matrix; "" is the system's
	Pass     pass.Options
}

// VSTModel is a fitted blind VST: the size factors and the trend.
type VSTModel struct {
	Factors *Factors
	Trend   *Trend
	Genes   []GeneDispersion // of the genes fitted (the subset with NSub)
	Subset  []int            // the fitted genes' indices with NSub; nil otherwise
}

// GridFits counts the fitted genes whose estimate came from the grid search.
func (m *VSTModel) GridFits() int {
	n := 0
	for _, g := range m.Genes {
		if g.Grid {
			n++
		}
	}
	return n
}

// FitVST fits DESeq2's blind variance-stabilizing transformation to src:
// ratio size factors (poscounts where every gene has a zero, noted in
// Factors.Method), gene-wise dispersions for the design ~1, and the trend.
// It reads the columns three times: the log sums, the medians (with NSub
// also the base means that choose the subset; a pass of their own after
// the poscounts fall-back), and the rows of the genes fitted.
// Memory: the per-gene state, plus NSub x samples counts with NSub, or
// about 64 MiB of row blocks (a temporary file beyond that) without.
func FitVST(ctx context.Context, src columnar.Source, opts VSTOptions) (*VSTModel, error) {
	if opts.Fit == "" {
		opts.Fit = Parametric
	}
	if opts.Fit != Parametric && opts.Fit != MeanFit {
		return nil, fmt.Errorf("deseq2: unknown fit type %q (parametric or mean)", opts.Fit)
	}
	if m := len(src.Samples()); m < 2 {
		return nil, &columnar.InputError{File: src.Path(), Msg: fmt.Sprintf("the VST needs at least 2 samples (%d given): with one sample no dispersion can be estimated", m)}
	}
	// With NSub the base means that choose the subset come from the medians
	// pass when they can (ratio factors are final once a sample's median is
	// known), otherwise from a pass of their own.
	f, rough, err := sizeFactors(ctx, src, Options{Method: Ratio, FallbackToPosCounts: opts.Controls == nil, Controls: opts.Controls, Pass: opts.Pass}, opts.NSub > 0)
	if err != nil {
		return nil, err
	}
	var subset []int
	if opts.NSub > 0 {
		var bm []float64
		if rough != nil {
			rm, k := rough.means(len(f.SizeFactor))
			if bm, err = settleMeans(ctx, src, f.SizeFactor, rm, k, vstMinBaseMean, opts.Pass); err != nil {
				return nil, err
			}
		} else {
			pass.Replan(opts.Pass, +1)
			if bm, err = BaseMeans(ctx, src, f.SizeFactor, opts.Pass); err != nil {
				return nil, err
			}
		}
		if subset, err = VSTSubset(bm, opts.NSub); err != nil {
			return nil, &columnar.InputError{File: src.Path(), Msg: err.Error()}
		}
	}
	rows, closer, err := ReadRows(ctx, src, subset, opts.Pass, opts.TempDir)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	genes, err := GeneDispersions(ctx, rows, f.SizeFactor, opts.Pass.Threads)
	if err != nil {
		return nil, err
	}
	trend, err := FitTrend(genes, opts.Fit)
	if err != nil {
		return nil, &columnar.InputError{File: src.Path(), Msg: err.Error()}
	}
	return &VSTModel{Factors: f, Trend: trend, Genes: genes, Subset: subset}, nil
}

// TransformInto writes the VST of sample counts (divided by the size factor
// sf) to dst (DESeq2 getVarianceStabilizedData), with q = c/sf:
//
//	parametric: log2 of (1 + a₁ + 2a₀q + 2√(a₀q(1 + a₁ + a₀q))) / (4a₀)
//	mean:       (2 asinh(√(ᾱq)) - ln ᾱ - ln 4) / ln 2
//
// both computed as natural logarithms divided by ln 2, as DESeq2 does.
// Within a sample the transform is a function of the count alone
// (kernels.MapCounts takes small whole counts from a table).
func (t *Trend) TransformInto(dst, counts []float64, sf float64) []float64 {
	return kernels.MapCounts(dst, counts, t.transformOf(sf))
}

// transformOf returns the transform of one count of a sample of size
// factor sf.
func (t *Trend) transformOf(sf float64) func(c float64) float64 {
	ln2 := math.Log(2)
	switch t.Type {
	case Parametric:
		a0, a1 := t.A0, t.A1
		return func(c float64) float64 {
			q := c / sf
			return math.Log((1+a1+2*a0*q+2*math.Sqrt(a0*q*(1+a1+a0*q)))/(4*a0)) / ln2
		}
	case MeanFit:
		a := t.MeanDisp
		return func(c float64) float64 {
			q := c / sf
			return (2*math.Asinh(math.Sqrt(a*q)) - math.Log(a) - math.Log(4)) / ln2
		}
	}
	panic("deseq2: unknown trend type " + string(t.Type))
}

// WriteVST writes the VST of every sample of src to sink, column by column,
// as functions of the counts (pass.WriteMapped).
func WriteVST(ctx context.Context, src columnar.Source, model *VSTModel, sink columnar.Sink, opts pass.Options) error {
	sf := model.Factors.SizeFactor
	return pass.WriteMapped(ctx, src, opts, sink, func(j int) func(float64) float64 {
		return model.Trend.transformOf(sf[j])
	})
}
