package edger

import (
	"math"

	"github.com/colnorm/colnorm/kernels"
)

// The per-column steps of calcNormFactors, exported so that a run split into
// shards of samples (package shard) computes each sample's numbers with the
// very code of NormFactors, and the merged result has the same bits.

// WithDefaults returns o with edgeR's default in every zero field.
func (o Options) WithDefaults() Options {
	o.defaults()
	return o
}

// SqrtSum returns Σ_i √x_i, summed in gene order: edgeR's TMMwsp reference
// is the sample with the largest (which.max(colSums(sqrt(x)))).
func SqrtSum(col []float64) float64 {
	var s float64
	for _, v := range col {
		s += math.Sqrt(v)
	}
	return s
}

// ColumnQuantile returns quantile7(col[keep], p) / lib (R's type 7 quantile
// of the kept genes' counts over the library size) and the scratch slice,
// reused for the kept counts.
func ColumnQuantile(scratch, col []float64, keep []bool, p, lib float64) (float64, []float64) {
	scratch = gatherKept(scratch, col, keep)
	return kernels.Quantile7(scratch, p) / lib, scratch
}

// RLEFactor returns median_i(x_i / gm_i over genes with gm_i > 0) / lib, the
// unscaled RLE factor of one sample, and the scratch slice.
func RLEFactor(scratch, col, gm []float64, lib float64) (float64, []float64) {
	r := scratch[:0]
	for i, v := range col {
		if gm[i] > 0 {
			r = append(r, v/gm[i])
		}
	}
	return kernels.Median(r) / lib, r
}

// RLENoGenes is the message when RLEGeoMeans finds no usable gene.
const RLENoGenes = "every gene has a zero count, so edgeR's RLE factors are NA; use tmm, tmmwsp, or DESeq2's poscounts"

// RLEGeoMeans returns the geometric means exp(Σ_j ln x_ij / S) of the genes
// with a positive count somewhere (keep) and no zero; 0 for the others. ok is
// false when no gene has a positive geometric mean (edgeR's RLE is NA).
func RLEGeoMeans(logSums kernels.ExactSums, zeros []int32, keep []bool, samples int) (gm []float64, ok bool) {
	gm = make([]float64, len(keep))
	for i := range gm {
		if keep[i] && zeros[i] == 0 {
			gm[i] = math.Exp(logSums.Float64(i) / float64(samples))
			ok = ok || gm[i] > 0
		}
	}
	return gm, ok
}

// ChooseReference is edgeR's choice of the TMM/TMMwsp reference column:
// which.max(sqrtSum) (TMMwsp, or TMM when q is nil), or for TMM the sample
// whose upper quartile q_j (ColumnQuantile with p = 0.75) is closest to the
// mean of q, unless the median of q is below 1e-20.
func ChooseReference(sqrtSum, q []float64) int {
	if !referenceByQuantiles(q) {
		return argmaxFirst(sqrtSum)
	}
	mean := kernels.MeanR(q)
	ref := 0
	best := math.Inf(1)
	for j, v := range q {
		if d := math.Abs(v - mean); d < best {
			best, ref = d, j
		}
	}
	return ref
}

// referenceByQuantiles reports whether ChooseReference chooses by the
// upper quartiles q rather than by the sums of square roots: q is not nil
// and its median is not below 1e-20 (a NaN median chooses by q).
func referenceByQuantiles(q []float64) bool {
	return q != nil && !(kernels.Median(append([]float64(nil), q...)) < 1e-20)
}

// TMMReference is the reference column of TMM or TMMwsp, prepared once
// (its kept counts and their logarithms) for every sample's Factor.
type TMMReference struct {
	tmm *tmmReference
	wsp *wspReference
}

// NewTMMReference prepares the reference column full (every gene) of
// library size nR for the method (TMM or TMMwsp); keep marks the genes with
// a positive count in some sample.
func NewTMMReference(full []float64, keep []bool, nR float64, method Method) *TMMReference {
	if method == TMM {
		return &TMMReference{tmm: newTMMReference(full, keep, nR)}
	}
	return &TMMReference{wsp: newWSPReference(full, keep, nR)}
}

// TMMScratch is one worker's reusable memory for Factor.
type TMMScratch struct{ s tmmScratch }

// Factor returns the unscaled TMM (or TMMwsp, as ref was prepared) factor
// of the sample col (every gene) with library size nO against ref. o must
// carry its defaults.
func (t *TMMScratch) Factor(col []float64, ref *TMMReference, nO float64, o Options) float64 {
	if ref.tmm != nil {
		return t.s.tmm(col, ref.tmm, nO, o)
	}
	return t.s.tmmwsp(col, ref.wsp, nO, o)
}

// FactorCounts is Factor of a sample given as 32-bit counts (TMM's fast
// path takes their logarithms by index; TMMwsp reads them as float64s).
func (t *TMMScratch) FactorCounts(col []uint32, ref *TMMReference, nO float64, o Options) float64 {
	if ref.tmm != nil {
		return t.s.tmmCounts(col, ref.tmm, nO, o)
	}
	return t.s.tmmwsp(t.s.asFloats(col), ref.wsp, nO, o)
}
