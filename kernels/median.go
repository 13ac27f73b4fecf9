package kernels

import "math"

// Median returns the median of x as R's median() does: the middle value for
// an odd count, the mean (a+b)/2 of the two middle values for an even count,
// and NaN for an empty x. It reorders x in place (quickselect, expected O(n),
// exact) and allocates nothing. x must not hold NaN.
func Median(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	k := n / 2
	hi := Select(x, k)
	if n%2 == 1 {
		return hi
	}
	// The lower middle value is the largest of x[:k], all <= hi after Select.
	lo := x[0]
	for _, v := range x[1:k] {
		if v > lo {
			lo = v
		}
	}
	return (lo + hi) / 2
}

// Select reorders x so that x[k] is the value that would be there if x were
// sorted, every value before it is <= x[k] and every value after it is
// >= x[k], and returns x[k]. It panics when k is out of range.
func Select(x []float64, k int) float64 {
	if k < 0 || k >= len(x) {
		panic("kernels: Select index out of range")
	}
	lo, hi := 0, len(x)-1
	for hi > lo {
		// median of three as pivot, moved to x[hi]
		mid := lo + (hi-lo)/2
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[mid] < x[hi] {
			x[mid], x[hi] = x[hi], x[mid]
		}
		pivot := x[hi]
		// three-way partition: < pivot, == pivot, > pivot (Dijkstra), so ties cost nothing
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch v := x[i]; {
			case v < pivot:
				x[lt], x[i] = x[i], x[lt]
				lt++
				i++
			case v > pivot:
				x[gt], x[i] = x[i], x[gt]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return x[k]
		}
	}
	return x[k]
}
