package kernels

import "math"

// Digamma returns ψ(x) = d/dx ln Γ(x) for x > 0 (NaN for x ≤ 0 and NaN,
// +Inf for +Inf).
//
// Method: the recurrence ψ(x) = ψ(x+1) - 1/x lifts x to at least 10, where
// the asymptotic series
//
//	ψ(x) = ln x - 1/(2x) - Σ_{k≥1} B_2k / (2k x^2k)
//
// truncated after the x^-14 term is accurate to about 1e-16 relative. The
// reciprocals of the lifted steps are summed from the smallest term up. The
// error is a few units in the last place, like R's digamma (which follows
// Amos's algorithm); DESeq2's dispersion search only uses ψ inside its
// gradient, so last-bit differences do not move its decisions in practice.
func Digamma(x float64) float64 {
	switch {
	case math.IsNaN(x) || x <= 0:
		return math.NaN()
	case math.IsInf(x, 1):
		return x
	}
	// Collect the lifting steps: ψ(x) = ψ(x+n) - Σ_{i<n} 1/(x+i).
	var shift float64
	if x < 10 {
		n := int(math.Ceil(10 - x))
		for i := n - 1; i >= 0; i-- { // largest x+i first: smallest terms first
			shift += 1 / (x + float64(i))
		}
		x += float64(n)
	}
	inv := 1 / x
	inv2 := inv * inv
	// B_2k/(2k): 1/12, -1/120, 1/252, -1/240, 1/132, -691/32760, 1/12.
	series := inv2 * (1.0/12 - inv2*(1.0/120-inv2*(1.0/252-inv2*(1.0/240-inv2*(1.0/132-inv2*(691.0/32760-inv2*(1.0/12)))))))
	return math.Log(x) - 0.5*inv - series - shift
}
