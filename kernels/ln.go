package kernels

import "math"

// ln 2 split for exact products: ln2Hi has 42 significant bits, so E·ln2Hi
// is exact for every |E| < 2^11, and ln2Hi + ln2Lo is within 2^-97 of ln 2.
const (
	ln2Hi = 0x1.62e42fefa38p-01
	ln2Lo = 0x1.ef35793c7673p-45
)

// lnEntry is one interval of Ln's table: inv ≈ 1/z and -ln(inv) = hi + lo.
type lnEntry struct {
	inv, hi, lo float64
}

// Ln returns the natural logarithm of x, within 1 ulp of ln x and nearly
// always correctly rounded (worst 0.502 ulp seen), in 0.55 to 0.7 of
// math.Log's time on amd64 (BenchmarkLn, 2,000 arguments, call included;
// the less the machine is loaded, the lower). It is a leaf function with
// no FMA, for hot loops.
//
// Special cases are math.Log's: Ln(+Inf) = +Inf, Ln(0) = -Inf,
// Ln(x < 0) = NaN, Ln(NaN) = NaN, and Ln(1) = +0. A subnormal x is scaled
// by 2^54 and the exponent taken back exactly, so it is as accurate as a
// normal one (math.Log's amd64 assembly is not: it gives -709.09 for
// 2^-1074, whose ln is -744.44; golang/go#56600).
//
// Method. For a normal x = 1.f·2^E', subtracting the bits of
// (1 + log2Split/256)/2 ≈ √2/2 from x's bits leaves E in the top 12 bits
// and an index k in the next 8, such that x = 2^E·z with z = 1.f (E = E')
// below 1 + log2Split/256 ≈ √2 and z = 1.f/2 (E = E'+1) above: z lies in
// [0.707, 1.414), E = 0 around 1, and k numbers z's interval of width 2^-8
// (z >= 1) or 2^-9 (z < 1) in increasing z. lnTable[k] (ln_table.go,
// written by TestLnTable from 300-bit arithmetic) holds inv, a multiple
// of 2^-8 close to 1/z over the interval (exactly 1 for the two intervals
// next to z = 1), and T = -ln(inv) as hi + lo with hi a multiple of 2^-42.
// Then
//
//	ln x = E·ln 2 + T + ln(1+r),  r = z·inv - 1,  |r| < 0.0048
//
// r is exact without an FMA: z = zh + zl with zh the top 44 bits of z's
// significand; inv has at most 9 significant bits, so zh·inv and zl·inv
// are exact, zh·inv - 1 is exact (Sterbenz), and so is their sum, since
// r is a multiple of 2^-60 (z >= 1) or 2^-61 (z < 1) below 2^-7 or 2^-8
// (TestLnTable checks the bounds) and so fits in 53 bits. Also
// hi' = E·ln2Hi + T.hi is exact (ln2Hi has 42 bits, |E| <= 1074, both
// multiples of 2^-42 below 2^10), and s + sLo = hi' + r is a two-sum
// (|hi'| > |r| or hi' = 0, also checked). ln(1+r) is the Taylor series
//
//	ln(1+r) = r + r²·(-1/2 + r/3 - r²/4 + r³/5 - r⁴/6 + r⁵/7 - r⁶/8) + δ,
//	|δ| <= |r|⁹/9 (alternating, decreasing terms)
//
// and the result is s + (sLo + E·ln2Lo + T.lo + r²·p(r)), the small terms
// summed in plain arithmetic before the one final rounding.
//
// Error bound. The small terms are below about 2^-8 of the result, so
// their rounding costs at most a few 2^-10 ulp. |ln x| >= 2^-9 except in
// the two intervals where inv = 1, T = 0 and ln x ≈ r with |r| < 2^-8;
// in every interval δ is below 2^-67 of ln x (TestLnTable checks 2^-66
// from each interval's bounds on r and ln z). E·(ln2Hi + ln2Lo) is good
// to 2^-86 (|E| <= 1074, and where E != 0, |ln x| > 0.34) and T to 2^-96
// (lo's rounding). So before the final rounding the value is within about
// 0.005 ulp of ln x, and Ln is within about 0.505 ulp. Tests (ln_test.go): TestLnTable rebuilds the table and checks
// r's bounds; TestLnAccuracy compares Ln with a double-double reference
// (300-bit ln where that cannot decide the rounding) on 8 million inputs
// over the whole exponent range, subnormals, close to 1 (1 ± 1e-10 ..
// 0.5), DESeq2's arguments, and at and around every power of two and
// interval edge: the worst error was 0.502 ulp and 139 of 8,099,221 results
// were not correctly rounded; TestLnSpecialCases checks the special cases,
// E·ln 2 at powers of two and subnormals.
func Ln(x float64) float64 {
	b := math.Float64bits(x)
	if b-minNormalBits >= infBits-minNormalBits { // not positive, normal and finite
		switch {
		case x > 0 && x < 0x1p-1022: // subnormal
			// the bits of x·2^54 with 54 taken from the exponent: below
			// zero as a field, but right as an integer for what follows
			b = math.Float64bits(x*0x1p54) - 54<<52
		case x == 0:
			return math.Inf(-1)
		case x < 0:
			return math.NaN()
		default: // +Inf, NaN
			return x
		}
	}
	tmp := b - lnSplitBits
	i := (tmp >> 44) & 0xff
	e := float64(int64(tmp) >> 52)
	zb := b - tmp&(0xfff<<52)
	t := &lnTable[i]
	// r = z·inv - 1, exactly: z = zh + zl with zh the top 44 bits of z's
	// significand; inv has at most 9 significant bits, so zh·inv and
	// zl·inv are exact, zh·inv - 1 is exact (Sterbenz), and so is their
	// sum, as r fits in 53 bits.
	zh := math.Float64frombits(zb &^ (1<<9 - 1))
	zl := math.Float64frombits(zb) - zh
	r := (zh*t.inv - 1) + zl*t.inv
	hi := e*ln2Hi + t.hi // exact: both are multiples of 2^-42, below 2^10
	s := hi + r
	sLo := (hi - s) + r // exact: |hi| > |r|, or hi = 0
	// ln(1+r) - r = r²·p(r), p by Estrin's scheme
	r2 := r * r
	p := (-0.5 + r*(1.0/3)) + r2*(-0.25+r*(1.0/5)) + (r2*r2)*((-1.0/6+r*(1.0/7))+r2*(-1.0/8))
	return s + ((sLo + (e*ln2Lo + t.lo)) + r2*p)
}

const (
	minNormalBits = 0x0010000000000000 // 0x1p-1022
	infBits       = 0x7ff0000000000000
	// lnSplitBits are the bits of (1 + log2Split/256)/2: x's bits minus
	// these have E in their top 12 bits and z's table index below.
	lnSplitBits = (1022<<52 | log2Split<<44)
)
