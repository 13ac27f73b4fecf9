package edger

import (
	"context"
	"fmt"
	"math"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// Method names an edgeR normalization method.
type Method string

// The calcNormFactors methods.
const (
	TMM           Method = "tmm"
	TMMwsp        Method = "tmmwsp"
	RLE           Method = "rle"
	UpperQuartile Method = "upperquartile"
)

// Defaults of calcNormFactors.
const (
	DefaultLogratioTrim = 0.3
	DefaultSumTrim      = 0.05
	DefaultACutoff      = -1e10
	DefaultP            = 0.75
)

// Options configure NormFactors; the zero value of a field means edgeR's default.
type Options struct {
	Method       Method
	RefSample    int     // 1-based reference column for TMM/TMMwsp; 0 chooses as edgeR does
	LogratioTrim float64 // 0 means 0.3
	SumTrim      float64 // 0 means 0.05
	NoWeighting  bool    // doWeighting = FALSE
	ACutoff      float64 // 0 means -1e10
	P            float64 // upper-quartile quantile; 0 means 0.75
	Pass         pass.Options
}

func (o *Options) defaults() {
	if o.LogratioTrim == 0 {
		o.LogratioTrim = DefaultLogratioTrim
	}
	if o.SumTrim == 0 {
		o.SumTrim = DefaultSumTrim
	}
	if o.ACutoff == 0 {
		o.ACutoff = DefaultACutoff
	}
	if o.P == 0 {
		o.P = DefaultP
	}
}

// Factors are edgeR's per-sample results.
type Factors struct {
	Samples    []string
	LibSize    []float64 // column sums
	NormFactor []float64 // calcNormFactors
	// SizeFactor is lib × norm factor divided by the geometric mean of that
	// product over samples: a DESeq2-style size factor.
	SizeFactor []float64
	RefSample  int // 0-based reference column of TMM/TMMwsp; -1 otherwise
}

// EffectiveLibSize returns lib_j × f_j, edgeR's normalized library sizes.
func (f *Factors) EffectiveLibSize() []float64 {
	out := make([]float64, len(f.LibSize))
	for j := range out {
		out[j] = f.LibSize[j] * f.NormFactor[j]
	}
	return out
}

// firstPass holds what pass 1 gathers.
type firstPass struct {
	lib     []float64 // per sample
	sqrtSum []float64 // per sample: Σ√x
	keep    []bool    // per gene: some count > 0
	kept    int
	logSum  kernels.ExactSums // per gene (RLE): Σ ln x over samples, exact
	zeros   []int32
	// quantile[j] is quantile7(x_j, needs.quantileP)/lib_j over every gene,
	// when the pass was asked for it: that is the quantile of the kept
	// genes when every gene is kept, and unused otherwise.
	quantile []float64
}

// firstPassNeeds says which of the optional sums the first pass gathers.
type firstPassNeeds struct {
	rle       bool    // logSum and zeros
	sqrtSum   bool    // sqrtSum
	quantileP float64 // quantile, for this p; 0 for none
}

func runFirstPass(ctx context.Context, src columnar.Source, needs firstPassNeeds, opts pass.Options) (*firstPass, error) {
	G, S := len(src.Genes()), len(src.Samples())
	fp := &firstPass{lib: make([]float64, S), keep: make([]bool, G)}
	if needs.sqrtSum {
		fp.sqrtSum = make([]float64, S)
	}
	if needs.rle {
		fp.logSum, fp.zeros = kernels.NewExactSums(G), make([]int32, G)
	}
	// Each worker marks the genes with a count > 0 in its own slice, in the
	// same sweep as Σx (kernels.Sum's bits) and Σ√x; the marks are OR-ed
	// at the end (in any order: the result is the same).
	marks := make([][]uint8, opts.Workers(src))
	for w := range marks {
		marks[w] = make([]uint8, G)
	}
	var scratch []countQuantile
	var allGenes []int32
	var allKept []bool
	if needs.quantileP > 0 {
		fp.quantile, scratch = make([]float64, S), make([]countQuantile, len(marks))
		allGenes, allKept = make([]int32, G), make([]bool, G)
		for i := range allGenes {
			allGenes[i], allKept[i] = int32(i), true
		}
	}
	// the pass checks that every count is whole unless fractional counts
	// are allowed
	whole := !opts.AllowFractional && !opts.NoCheck
	work := func(w, j int, col []float64) error {
		mark := marks[w][:len(col)]
		if needs.sqrtSum {
			fp.lib[j], fp.sqrtSum[j] = sumsAndMarks(col, mark)
		} else {
			fp.lib[j] = sumAndMarks(col, mark, whole)
		}
		if fp.quantile != nil {
			fp.quantile[j] = scratch[w].quantile7(col, allGenes, allKept, needs.quantileP) / fp.lib[j]
		}
		return nil
	}
	var err error
	if needs.rle {
		err = pass.Run(ctx, src, opts, work, func(_ int, col []float64) error {
			kernels.LogSumsExact(fp.logSum, fp.zeros, col)
			return nil
		})
	} else {
		// Columns held as 32-bit counts give the same sums, marks and
		// quantiles without float64s.
		err = pass.RunCounts(ctx, src, opts, func(w, j int, c []uint32) error {
			mark := marks[w][:len(c)]
			fp.lib[j] = sumAndMarksCounts(c, mark)
			if needs.sqrtSum {
				fp.sqrtSum[j] = sqrtSumCounts(c)
			}
			if fp.quantile != nil {
				fp.quantile[j] = scratch[w].quantile7Counts(c, allGenes, needs.quantileP) / fp.lib[j]
			}
			return nil
		}, work)
	}
	if err != nil {
		return nil, err
	}
	for _, mark := range marks {
		for i, m := range mark {
			if m != 0 {
				fp.keep[i] = true
			}
		}
	}
	for _, k := range fp.keep {
		if k {
			fp.kept++
		}
	}
	return fp, nil
}

// sumsAndMarks returns Σx (kernels.Sum's order) and Σ√x of col, in gene
// order, and sets mark[i] to 1 where col[i] > 0.
func sumsAndMarks(col []float64, mark []uint8) (lib, sqrtSum float64) {
	mark = mark[:len(col)]
	for i, v := range col {
		lib += v
		sqrtSum += math.Sqrt(v)
		mark[i] |= uint8(b2i(v > 0))
	}
	return lib, sqrtSum
}

// sumAndMarks returns Σx of col with kernels.Sum's bits and sets mark[i] to
// 1 where col[i] > 0. With whole set, every col[i] must be a whole number
// in [0, 2^53): then every partial sum below 2^53 is exact, in any order, so
// four running sums (which do not wait on each other's additions) give
// kernels.Sum's bits whenever their total is below 2^53; otherwise, or
// without whole, Σx is taken again in order.
func sumAndMarks(col []float64, mark []uint8, whole bool) float64 {
	mark = mark[:len(col)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(col); i += 4 {
		v := col[i : i+4 : i+4]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		m := mark[i : i+4 : i+4]
		m[0] |= uint8(b2i(v[0] > 0))
		m[1] |= uint8(b2i(v[1] > 0))
		m[2] |= uint8(b2i(v[2] > 0))
		m[3] |= uint8(b2i(v[3] > 0))
	}
	for ; i < len(col); i++ {
		s0 += col[i]
		mark[i] |= uint8(b2i(col[i] > 0))
	}
	// Partial sums of non-negative numbers only grow, even rounded, so a
	// total below 2^53 means no partial sum reached it.
	if sum := (s0 + s1) + (s2 + s3); whole && sum < kernels.MaxExactCount {
		return sum
	}
	return kernels.Sum(col)
}

// sumAndMarksCounts is sumAndMarks for counts given as 32-bit integers:
// the sum is exact (below 2^53 for fewer than 2^21 genes, and then
// kernels.Sum's bits), taken again in order beyond.
func sumAndMarksCounts(c []uint32, mark []uint8) float64 {
	mark = mark[:len(c)]
	var sum uint64
	for i, v := range c {
		sum += uint64(v)
		mark[i] |= uint8(b2i(v > 0))
	}
	return kernels.CountSum(c, sum)
}

// sqrtSumCounts is Σ√x of counts given as 32-bit integers, in gene order
// (sumsAndMarks' Σ√x, bit for bit).
func sqrtSumCounts(c []uint32) float64 {
	var s float64
	for _, v := range c {
		s += math.Sqrt(float64(v))
	}
	return s
}

// gatherKept appends col[i] for the kept genes to dst[:0].
func gatherKept(dst, col []float64, keep []bool) []float64 {
	dst = dst[:0]
	for i, v := range col {
		if keep[i] {
			dst = append(dst, v)
		}
	}
	return dst
}

// NormFactors runs calcNormFactors on src.
func NormFactors(ctx context.Context, src columnar.Source, opts Options) (*Factors, error) {
	opts.defaults()
	switch opts.Method {
	case TMM, TMMwsp, RLE, UpperQuartile:
	default:
		return nil, fmt.Errorf("edger: unknown method %q", opts.Method)
	}
	S := len(src.Samples())
	if opts.RefSample < 0 || opts.RefSample > S {
		return nil, &columnar.InputError{File: src.Path(), Msg: fmt.Sprintf("reference sample %d is out of range 1..%d", opts.RefSample, S)}
	}
	// TMM needs Σ√x only when it chooses the reference by it (tmmFactors
	// then takes them in a pass of their own)
	needs := firstPassNeeds{rle: opts.Method == RLE, sqrtSum: opts.Method == TMMwsp && opts.RefSample == 0}
	// TMM's reference and the upper-quartile factors come from quantiles,
	// which the first pass takes on the way (used when no gene is zero in
	// every sample, which only the end of the pass tells)
	switch {
	case opts.Method == TMM && opts.RefSample == 0:
		needs.quantileP = 0.75
	case opts.Method == UpperQuartile:
		needs.quantileP = opts.P
	}
	fp, err := runFirstPass(ctx, src, needs, opts.Pass)
	if err != nil {
		return nil, err
	}
	// The first pass checked every count; the later passes read the same
	// columns again and need not.
	opts.Pass.NoCheck = true
	for j, l := range fp.lib {
		if l == 0 {
			return nil, &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: fmt.Sprintf("every count of this sample is zero: its library size is 0, so its counts per million are 0/0 (NaN in edgeR's cpm) and no %s factor can scale it: remove the sample", opts.Method)}
		}
	}
	f := &Factors{Samples: src.Samples(), LibSize: fp.lib, NormFactor: make([]float64, S), RefSample: -1}
	if fp.kept == 0 || S == 1 {
		for j := range f.NormFactor {
			f.NormFactor[j] = 1
		}
	} else {
		var raw []float64
		switch opts.Method {
		case UpperQuartile:
			raw, err = upperQuartiles(ctx, src, fp, opts.P, opts.Pass)
		case RLE:
			raw, err = rleFactors(ctx, src, fp, opts.Pass)
		case TMM, TMMwsp:
			raw, f.RefSample, err = tmmFactors(ctx, src, fp, opts)
		}
		if err != nil {
			return nil, err
		}
		copy(f.NormFactor, raw)
		kernels.Recentre(f.NormFactor)
	}
	f.SizeFactor = f.EffectiveLibSize()
	kernels.Recentre(f.SizeFactor)
	return f, nil
}

// quantiles gives quantile7(kept counts of sample j, p)/lib_j: from the
// first pass when it took them and every gene is kept (then the kept counts
// are all the counts), else from a pass of its own.
func quantiles(ctx context.Context, src columnar.Source, fp *firstPass, p float64, opts pass.Options) ([]float64, error) {
	if fp.quantile != nil && fp.kept == len(fp.keep) {
		pass.Replan(opts, -1)
		return fp.quantile, nil
	}
	q := make([]float64, len(src.Samples()))
	scratch := make([]countQuantile, opts.Workers(src))
	var keptGenes []int32
	for i, k := range fp.keep {
		if k {
			keptGenes = append(keptGenes, int32(i))
		}
	}
	work := func(w, j int, col []float64) error {
		q[j] = scratch[w].quantile7(col, keptGenes, fp.keep, p) / fp.lib[j]
		return nil
	}
	return q, pass.Run(ctx, src, opts, work, nil)
}

func upperQuartiles(ctx context.Context, src columnar.Source, fp *firstPass, p float64, opts pass.Options) ([]float64, error) {
	q, err := quantiles(ctx, src, fp, p, opts)
	if err != nil {
		return nil, err
	}
	for j, v := range q {
		if v == 0 {
			return nil, &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: fmt.Sprintf("the %g quantile of this sample's counts is zero, so edgeR's upperquartile factors are NaN; use tmm or tmmwsp, or a higher --p", p)}
		}
	}
	return q, nil
}

// rleFactors: median over genes with a positive geometric mean of x_ij/gm_i, over lib_j.
func rleFactors(ctx context.Context, src columnar.Source, fp *firstPass, opts pass.Options) ([]float64, error) {
	S := len(src.Samples())
	gm, ok := RLEGeoMeans(fp.logSum, fp.zeros, fp.keep, S) // exp(rowMeans(log(data)))
	if !ok {
		return nil, &columnar.InputError{File: src.Path(), Msg: RLENoGenes}
	}
	f := make([]float64, S)
	scratch := make([][]float64, opts.Workers(src))
	work := func(w, j int, col []float64) error {
		f[j], scratch[w] = RLEFactor(scratch[w], col, gm, fp.lib[j])
		return nil
	}
	return f, pass.Run(ctx, src, opts, work, nil)
}

// tmmFactors chooses the reference column, reads it, and runs TMM or TMMwsp
// of every sample against it.
func tmmFactors(ctx context.Context, src columnar.Source, fp *firstPass, opts Options) ([]float64, int, error) {
	S := len(src.Samples())
	ref := opts.RefSample - 1
	if ref < 0 {
		var q []float64
		if opts.Method == TMM {
			var err error
			if q, err = quantiles(ctx, src, fp, 0.75, opts.Pass); err != nil {
				return nil, 0, err
			}
		}
		if fp.sqrtSum == nil && !referenceByQuantiles(q) {
			var err error
			if fp.sqrtSum, err = sqrtSums(ctx, src, opts.Pass); err != nil {
				return nil, 0, err
			}
		}
		ref = ChooseReference(fp.sqrtSum, q)
	}
	full := make([]float64, len(src.Genes()))
	if err := src.ReadColumn(ref, full); err != nil {
		return nil, 0, err
	}
	refCol := NewTMMReference(full, fp.keep, fp.lib[ref], opts.Method)
	f := make([]float64, S)
	scratch := make([]TMMScratch, opts.Pass.Workers(src))
	work := func(w, j int, col []float64) error {
		f[j] = scratch[w].Factor(col, refCol, fp.lib[j], opts)
		return nil
	}
	counts := func(w, j int, col []uint32) error {
		f[j] = scratch[w].FactorCounts(col, refCol, fp.lib[j], opts)
		return nil
	}
	if err := pass.RunCounts(ctx, src, opts.Pass, counts, work); err != nil {
		return nil, 0, err
	}
	return f, ref, nil
}

// sqrtSums runs a pass for SqrtSum of every sample.
func sqrtSums(ctx context.Context, src columnar.Source, opts pass.Options) ([]float64, error) {
	sq := make([]float64, len(src.Samples()))
	work := func(_, j int, col []float64) error {
		sq[j] = SqrtSum(col)
		return nil
	}
	return sq, pass.Run(ctx, src, opts, work, nil)
}

// argmaxFirst is R's which.max: the first index of the largest value.
func argmaxFirst(x []float64) int {
	best := 0
	for j, v := range x {
		if v > x[best] {
			best = j
		}
	}
	return best
}
