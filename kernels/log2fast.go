package kernels

import "math"

// The fast path of Log2: a table-driven approximation of log2 x carried to
// about 64 bits, accepted when it decides the rounding, and the
// double-double series of log2Exact otherwise.
//
// For a normal x = 1.f·2^E, the index i is the top 8 bits of f. Where
// 1.f >= 1 + log2Split/256 (about √2) the mantissa is halved and E raised by
// one, so z = 1.f or 1.f/2 lies in [0.707, 1.414) and log2 x = E + log2 z,
// with E = 0 around 1 where the result is small. log2Table[i] holds inv, a
// multiple of 2^-8 close to 1/z over z's interval (exactly 1 for the two
// intervals next to z = 1), and T = -log2(inv) as a double-double
// (hi + lo, from 300-bit arithmetic: log2_table.go). Then
//
//	r = z·inv - 1	exact by one FMA: z·inv is a multiple of 2^-60 (z >= 1)
//			or 2^-61 (z < 1) and |r| < 2^-7 (z >= 1) or 2^-8 (z < 1)
//			(TestLog2Table checks both), so r fits in 53 bits
//	log2 z = T + log2(1 + r),  |r| <= 0.0048
//	ln(1+r) = r - r²/2 + r³(1/3 - r/4 + r²/5 - r³/6 + r⁴/7 - r⁵/8) + δ,
//	          |δ| <= |r|⁹/9 <= 2^-72.6·|r|
//
// with r - r²/2 in double-double (r² by FMA), the product by 1/ln 2 in
// double-double, and E + T + log2(1+r) summed exactly up to the final
// normalization. Every neglected term is below 2^-66 of the result (the
// result is at least log2(1 + 1/256) > 2^-7.5 unless i is 0 or 255 and
// E = 0, where T = 0 and every error is relative to r), so the
// approximation y = yHi + yLo is within 2^-13 ulp of log2 x.
//
// log2Exact is within about 0.002 ulp of log2 x before its final rounding
// (its double-double ln m is good to 1e-20; the plain Horner sum of the
// series beyond s²/3, at most 2e-4 of the result, costs below 0.0015 ulp).
// So when y is farther than log2Margin (1/64) ulp from a rounding midpoint,
// log2 x, y and log2Exact's unrounded value all lie on the same side of it,
// and yHi is log2Exact's result; otherwise (about 3% of inputs) log2Exact
// decides. TestLog2FastMatchesExact compares the two on millions of inputs.

// log2Split is the first index i whose mantissas 1 + i/256 .. are halved.
const log2Split = 106

// log2Margin is the distance from a rounding midpoint, in units of the
// result's smaller neighbouring gap, below which log2Fast defers to
// log2Exact.
const log2Margin = 1.0 / 64

// log2Entry is one interval of the table: inv ≈ 1/z and -log2(inv) = hi + lo.
type log2Entry struct {
	inv, hi, lo float64
}

// log2Fast returns Log2(x) for a positive normal finite x and ok = true, or
// ok = false when the approximation is too close to a rounding midpoint to
// decide it (the caller then calls log2Exact).
func log2Fast(x float64) (y float64, ok bool) {
	yHi, yLo := log2FastParts(x)
	if yLo == 0 {
		return yHi, true
	}
	// the gap below |yHi| (the smaller of its two gaps)
	a := math.Float64bits(yHi) &^ (1 << 63)
	gap := math.Float64frombits(a) - math.Float64frombits(a-1)
	return yHi, math.Abs(yLo) <= (0.5-log2Margin)*gap
}

// log2FastParts is log2Fast's approximation yHi + yLo of log2 x, with
// yHi = yHi + yLo rounded (a normalized double-double).
func log2FastParts(x float64) (yHi, yLo float64) {
	b := math.Float64bits(x)
	i := (b >> 44) & 0xff
	half := (i + (256 - log2Split)) >> 8 // 1 when i >= log2Split
	e := float64(int64(b>>52) - 1023 + int64(half))
	z := math.Float64frombits(b&(1<<52-1) | (1023-half)<<52)
	t := &log2Table[i]
	r := math.FMA(z, t.inv, -1) // exact
	// ln(1+r) = (sHi + sLo): r - r²/2 in double-double plus the cubic tail
	r2 := r * r
	h := 0.5 * r2
	hl := 0.5 * math.FMA(r, r, -r2)
	sHi := r - h
	sLo := (r - sHi) - h // exact: |h| < |r|/256
	p := 1.0/3 + r*(-1.0/4+r*(1.0/5+r*(-1.0/6+r*(1.0/7+r*(-1.0/8)))))
	sLo += r2*r*p - hl
	// log2(1+r) = (sHi + sLo)·(1/ln 2)
	pHi := sHi * invLn2Hi
	pLo := math.FMA(sHi, invLn2Hi, -pHi) + (sHi*invLn2Lo + sLo*invLn2Hi)
	// E + T + log2(1+r)
	aHi, aLo := fastTwoSum(e, t.hi) // |e| >= 1 > |t.hi|, or e = 0
	bHi, bLo := twoSum(aHi, pHi)
	lo := aLo + bLo + t.lo + pLo
	return fastTwoSum(bHi, lo)
}
