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
	if n >= bucketMinN {
		if m, ok := bucketMedian(x, k); ok {
			return m
		}
	}
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

// bucketMinN is the length from which Median first narrows x down with a
// histogram: below it, quickselect alone is as fast.
const bucketMinN = 512

// medianBuckets is the number of histogram buckets bucketMedian uses; its
// counts live on the stack.
const medianBuckets = 1024

// bucketMedian is Median for a long x: one pass finds the range, a second
// counts the values in medianBuckets equal-width buckets, a third moves the
// values of the buckets that hold the middle rank(s) to the front of x, and
// quickselect finishes on those few. The bucket of v is
// floor((v - min) * scale), a non-decreasing function of v, so buckets keep
// the order of the values and the result is exactly Median's. ok is false
// when the range is not finite (Median then uses quickselect on all of x).
func bucketMedian(x []float64, k int) (median float64, ok bool) {
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if lo == hi {
		return lo, true
	}
	scale := medianBuckets / (hi - lo)
	if math.IsInf(hi-lo, 0) || math.IsInf(scale, 0) || math.IsNaN(scale) {
		return 0, false
	}
	bucket := func(v float64) int {
		b := int((v - lo) * scale)
		return min(b, medianBuckets-1)
	}
	var counts [medianBuckets]int32
	for _, v := range x {
		counts[bucket(v)]++
	}
	bFirst, bK, below := middleBuckets(counts[:], len(x), k)
	m := 0
	for i, v := range x {
		if b := bucket(v); b >= bFirst && b <= bK {
			x[m], x[i] = x[i], x[m]
			m++
		}
	}
	cand := x[:m]
	kk := k - below
	upper := Select(cand, kk)
	if len(x)%2 == 1 {
		return upper, true
	}
	lower := cand[0]
	for _, v := range cand[1:kk] {
		lower = max(lower, v)
	}
	return (lower + upper) / 2, true
}

// middleBuckets returns, for n values counted in histogram buckets of
// increasing values, the buckets bFirst <= bK that hold the upper middle
// rank k (0-based) and the lower one (k-1 for an even n, else k), and the
// number of values in the buckets before bFirst.
func middleBuckets(counts []int32, n, k int) (bFirst, bK, below int) {
	first := k
	if n%2 == 0 {
		first = k - 1
	}
	bFirst, bK = -1, -1
	seen := 0
	for b, c := range counts {
		if bFirst < 0 && seen+int(c) > first {
			bFirst, below = b, seen
		}
		if seen+int(c) > k {
			bK = b
			break
		}
		seen += int(c)
	}
	return bFirst, bK, below
}
