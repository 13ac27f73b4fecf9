package qc

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/colnorm/colnorm/kernels"
)

// MaxComponents is the number of principal components PrincipalComponents
// returns at most (plotPCA shows two; colnorm writes four).
const MaxComponents = 4

// PCA holds the sample scores and variance fractions of the leading
// principal components.
type PCA struct {
	// Scores[j][c] is sample j's coordinate on component c (m x k).
	Scores [][]float64
	// VarFrac[c] is component c's share of the total variance, d_c²/Σd²,
	// where the sum runs over all min(m, ntop) components (len k).
	VarFrac []float64
}

// ErrSVD reports that the singular value decomposition did not converge.
var ErrSVD = errors.New("qc: PCA: singular value decomposition did not converge")

// PrincipalComponents computes the PCA of DESeq2's plotPCA, that is
// prcomp(t(x)) for x = top, the ntop most variable genes (rows, in the order
// TopVariable gives them) by m samples (columns):
//
//  1. X is the m x ntop matrix of samples by genes, each gene centred by its
//     mean over samples (R's colMeans); genes are not scaled.
//  2. X = U·D·Vᵀ is its thin singular value decomposition with
//     d_1 >= d_2 >= ... >= d_r, r = min(m, ntop).
//  3. Scores are X·V (= U·D, computed as prcomp computes them) for the first
//     k = min(4, m, ntop) components.
//  4. VarFrac_c = sdev_c² / Σ_{all r components} sdev², with
//     sdev = d / √max(1, m-1) as prcomp reports it (the factor cancels).
//
// A component's sign is free in R; here it is fixed so that the score with
// the largest absolute value (the first of equal ones) is positive.
//
// The work is one SVD of the m x ntop matrix, O(m·ntop·min(m, ntop)) time,
// so it is bounded by the smaller dimension squared times the larger.
//
// Edge cases: no samples or no genes give an empty PCA. With m = 1, or when
// every centred value is zero, there is no variance to split: the scores are
// zero and every VarFrac is 0 (R divides 0 by 0 and gives NaN). When m <= 4
// the last component is the null direction left by centring: its scores are
// rounding noise and its VarFrac is ~1e-30, as in R. Values must be finite.
// Rows of different lengths panic.
func PrincipalComponents(top [][]float64) (PCA, error) {
	ntop := len(top)
	if ntop == 0 || len(top[0]) == 0 {
		return PCA{}, nil
	}
	m := len(top[0])
	x := mat.NewDense(m, ntop, nil)
	for g, row := range top {
		if len(row) != m {
			panic("qc: PrincipalComponents: rows of different lengths")
		}
		mean := centreMean(row)
		for j, v := range row {
			x.Set(j, g, v-mean)
		}
	}
	r := min(m, ntop)
	k := min(MaxComponents, r)

	var svd mat.SVD
	if !svd.Factorize(x, mat.SVDThinV) {
		return PCA{}, ErrSVD
	}
	d := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)

	var scores mat.Dense
	scores.Mul(x, v.Slice(0, ntop, 0, k))

	out := PCA{Scores: make([][]float64, m), VarFrac: make([]float64, k)}
	for j := range out.Scores {
		out.Scores[j] = make([]float64, k)
		for c := range k {
			out.Scores[j][c] = scores.At(j, c)
		}
	}
	fixSigns(out.Scores, k)

	scale := math.Sqrt(float64(max(1, m-1)))
	var total float64
	sd2 := make([]float64, r)
	for c := range r {
		s := d[c] / scale
		sd2[c] = s * s
		total += sd2[c]
	}
	if total > 0 {
		for c := range k {
			out.VarFrac[c] = sd2[c] / total
		}
	}
	return out, nil
}

// centreMean is R's colMeans of one gene: a sum close to R's long double sum
// (compensated), divided by the count.
func centreMean(row []float64) float64 {
	return kernels.SumCompensated(row) / float64(len(row))
}

// fixSigns flips each of the first k columns of scores so that its entry of
// largest absolute value (the first of equal ones) is positive.
func fixSigns(scores [][]float64, k int) {
	for c := range k {
		best, at := -1.0, 0
		for j, row := range scores {
			if a := math.Abs(row[c]); a > best {
				best, at = a, j
			}
		}
		if scores[at][c] < 0 {
			for _, row := range scores {
				row[c] = -row[c]
			}
		}
	}
}
