package kernels

import "math"

// LogInto sets dst[i] = ln(x[i]) and returns dst; ln 0 is -Inf.
// dst may alias x.
func LogInto(dst, x []float64) []float64 {
	if len(dst) != len(x) {
		panic(badLength)
	}
	for i, v := range x {
		dst[i] = math.Log(v)
	}
	return dst
}

// Sum returns x[0] + x[1] + ... in order. Counts below 2^53 sum exactly.
func Sum(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

// MeanR returns the mean of x as R's mean() computes it: the sum divided by
// n, then corrected by the mean of the residuals. R sums in long double; here
// the sum is compensated (a double-double s + c) and the residual sum
// s + c - n*m is formed with one fused multiply-add, which agrees with R to
// the last bit in all but pathological cases. The mean of nothing is NaN.
func MeanR(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	n := float64(len(x))
	s, c := neumaier(x)
	m := (s + c) / n
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return m
	}
	return m + (math.FMA(-n, m, s)+c)/n
}

// neumaier returns the compensated sum of x as a pair: the running sum s and
// the accumulated compensation c, whose total is s + c.
func neumaier(x []float64) (s, c float64) {
	for _, v := range x {
		t := s + v
		if math.Abs(s) >= math.Abs(v) {
			c += (s - t) + v
		} else {
			c += (v - t) + s
		}
		s = t
	}
	return s, c
}

// Recentre divides x by its geometric mean exp(mean(ln x)), R's mean, so
// that the product of x is 1: DESeq2's poscounts size factors and edgeR's
// normalization factors are re-centred this way. One zero or NaN makes every
// value NaN or Inf, as in R.
func Recentre(x []float64) {
	logs := LogInto(make([]float64, len(x)), x)
	g := math.Exp(MeanR(logs))
	for j := range x {
		x[j] /= g
	}
}
