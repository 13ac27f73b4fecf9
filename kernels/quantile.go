package kernels

import (
	"cmp"
	"math"
	"slices"
)

// Quantile7 returns R's quantile(x, p, type = 7): with h = 1 + (n-1)p,
// lo = ⌊h⌋ and hi = ⌈h⌉ (1-based), q = x(lo), and where h > lo and
// x(hi) != x(lo), q = (1-g)·x(lo) + g·x(hi) with g = h - lo (R's form, not
// x(lo) + g·(x(hi) - x(lo))). x(k) is the k-th smallest value. It reorders x
// in place and allocates nothing. The quantile of nothing is NaN.
func Quantile7(x []float64, p float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	h := 1 + float64(n-1)*p
	lo := math.Floor(h)
	hi := math.Ceil(h)
	qlo := Select(x, int(lo)-1)
	if hi == lo {
		return qlo
	}
	// x(hi) is the smallest value after position lo-1 once Select has run.
	qhi := x[int(lo)]
	for _, v := range x[int(lo)+1:] {
		if v < qhi {
			qhi = v
		}
	}
	if qhi == qlo {
		return qlo
	}
	g := h - lo
	return (1-g)*qlo + g*qhi
}

// AverageRanks sets rank[i] to the rank of x[i] among x (1-based), with tied
// values sharing the mean of their ranks, as R's rank(ties.method =
// "average"). order is scratch space of len(x) and is left holding the
// indices of x in increasing order of value (tied indices in no particular
// order: the ranks do not depend on it). Both are returned.
func AverageRanks(rank []float64, order []int, x []float64) ([]float64, []int) {
	n := len(x)
	if len(rank) != n || len(order) != n {
		panic(badLength)
	}
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	for i := 0; i < n; {
		k := i + 1
		for k < n && x[order[k]] == x[order[i]] {
			k++
		}
		r := float64(i+1+k) / 2 // mean of ranks i+1 .. k
		for m := i; m < k; m++ {
			rank[order[m]] = r
		}
		i = k
	}
	return rank, order
}

// SumCompensated returns the sum of x with Neumaier's compensation: close to
// R's long double sum() and independent of magnitude cancellation.
func SumCompensated(x []float64) float64 {
	s, c := neumaier(x)
	return s + c
}
