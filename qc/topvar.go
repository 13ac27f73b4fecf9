package qc

import (
	"math"
	"slices"

	"github.com/colnorm/colnorm/kernels"
)

// DefaultTop is the number of most variable genes DESeq2's plotPCA uses.
const DefaultTop = 500

// RowVar returns the sample variance of one gene's values across samples,
// Σ(x_j - x̄)² / (n-1), computed as matrixStats rowVars does: the mean
// first, then the sum of squared deviations from it. The mean is R's mean
// (a compensated sum divided by n, then one correction pass) and the
// squared deviations are summed with compensation, so the result is as
// close to R's long double arithmetic as float64 allows; only the order of
// genes by variance depends on it.
//
// Edge cases: fewer than two values give NaN (R gives NA); NaN or ±Inf in
// row give NaN.
func RowVar(row []float64) float64 {
	n := len(row)
	if n < 2 {
		return math.NaN()
	}
	mean := kernels.MeanR(row)
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return math.NaN()
	}
	var s, c float64 // Neumaier's compensated sum of squared deviations
	for _, v := range row {
		d := v - mean
		sq := float64(d * d)
		t := s + sq
		if s >= sq { // both are non-negative
			c += (s - t) + sq
		} else {
			c += (sq - t) + s
		}
		s = t
	}
	return (s + c) / float64(n-1)
}

// TopVariable returns the indices of the min(ntop, len(vars)) largest
// variances, in the stable decreasing order of vars: larger first, and equal
// values in increasing index order. This is R's
// order(vars, decreasing = TRUE)[seq_len(ntop)] (R's order is stable also
// when decreasing). NaN values (R's NA) sort last, as R's na.last = TRUE puts
// them. A negative ntop is treated as 0. vars is not modified.
func TopVariable(vars []float64, ntop int) []int {
	ntop = max(0, min(ntop, len(vars)))
	idx := make([]int, len(vars))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		va, vb := vars[a], vars[b]
		switch {
		case math.IsNaN(va) && math.IsNaN(vb):
			return 0
		case math.IsNaN(va):
			return 1
		case math.IsNaN(vb):
			return -1
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	return idx[:ntop:ntop]
}
