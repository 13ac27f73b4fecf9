package combatseq

import (
	"math"
	"math/bits"
)

// extended is a number in the x87 80-bit extended format (a 64-bit
// significand with an explicit leading bit), which R uses to accumulate
// sum(), rowSums(), colSums() and rowMeans() on x86-64. Adding doubles to an
// extended in the same order as R gives the same bits as R's long double
// accumulator, and so the same double at the end.
//
// The value is (-1)^neg * mant * 2^(exp-63); mant has its top bit set, or is
// zero for the value zero. Only finite values are handled; the exponent range
// is not limited (sums of doubles never approach the extended format's).
type extended struct {
	neg  bool
	exp  int
	mant uint64
}

// add sets e to e + v rounded to 64 significant bits, to nearest, ties to
// even, as the x87 FPU does in its default extended precision. NaN and
// infinities are not supported (the callers never add them).
func (e *extended) add(v float64) {
	if v == 0 {
		return
	}
	f := fromFloat64(v)
	if e.mant == 0 {
		*e = f
		return
	}
	*e = addExtended(*e, f)
}

// fromFloat64 converts a finite non-zero double exactly.
func fromFloat64(v float64) extended {
	frac, exp := math.Frexp(math.Abs(v)) // v = frac * 2^exp, frac in [0.5, 1)
	m := uint64(math.Ldexp(frac, 53))    // exact: 53 significant bits
	sh := bits.LeadingZeros64(m)
	return extended{neg: v < 0, exp: exp + 10 - sh, mant: m << sh}
}

// addExtended returns a + b rounded to 64 significant bits (both non-zero).
func addExtended(a, b extended) extended {
	if a.exp < b.exp || (a.exp == b.exp && a.mant < b.mant) {
		a, b = b, a // |a| >= |b|
	}
	d := a.exp - b.exp
	// Significands as 128-bit hi:lo with the binary point after bit 63 of hi;
	// bits shifted out below lo are kept as a sticky flag.
	ahi, alo := a.mant, uint64(0)
	bhi, blo, sticky := shiftRight128(b.mant, 0, d)
	exp := a.exp
	var hi, lo uint64
	if a.neg == b.neg {
		var c uint64
		lo, c = bits.Add64(alo, blo, 0)
		hi, c = bits.Add64(ahi, bhi, c)
		if c != 0 { // carry out: shift right one, keeping the lost bit sticky
			sticky = sticky || lo&1 != 0
			lo = lo>>1 | hi<<63
			hi = hi>>1 | 1<<63
			exp++
		}
	} else {
		var br uint64
		// A sticky remainder of b means the true difference is a little less
		// than a - (b truncated): borrow one unit from the last place.
		lo, br = bits.Sub64(alo, blo, 0)
		hi, _ = bits.Sub64(ahi, bhi, br)
		if sticky {
			lo, br = bits.Sub64(lo, 1, 0)
			hi, _ = bits.Sub64(hi, 0, br)
		}
		if hi == 0 && lo == 0 && !sticky {
			return extended{}
		}
		// Normalize left. The sticky bits lie below lo; shifting left by up to
		// one place (the only case where they matter) is exact enough: a
		// cancellation of two or more places only happens when d <= 1, and
		// then nothing was shifted out of 128 bits.
		n := bits.LeadingZeros64(hi)
		if hi == 0 {
			n = 64 + bits.LeadingZeros64(lo)
		}
		if n > 0 {
			hi, lo = shiftLeft128(hi, lo, n)
			if sticky {
				lo |= 1 // the borrowed unit keeps the value below the true one
			}
			exp -= n
		}
	}
	return roundExtended(a.neg, exp, hi, lo, sticky)
}

func shiftRight128(hi, lo uint64, n int) (uint64, uint64, bool) {
	switch {
	case n == 0:
		return hi, lo, false
	case n < 64:
		sticky := lo<<(64-n) != 0
		return hi >> n, lo>>n | hi<<(64-n), sticky
	case n == 64:
		return 0, hi, lo != 0
	case n < 128:
		sticky := lo != 0 || hi<<(128-n) != 0
		return 0, hi >> (n - 64), sticky
	}
	return 0, 0, hi != 0 || lo != 0
}

func shiftLeft128(hi, lo uint64, n int) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n < 64:
		return hi<<n | lo>>(64-n), lo << n
	case n < 128:
		return lo << (n - 64), 0
	}
	return 0, 0
}

// divInt returns e / k rounded to 64 significant bits (k > 0), as R's
// rowMeans divides its long double sum by the number of columns.
func (e extended) divInt(k int) extended {
	if e.mant == 0 {
		return e
	}
	// (mant * 2^64) / k: a quotient of up to 128 bits.
	qhi, r := bits.Div64(0, e.mant, uint64(k))
	qlo, r := bits.Div64(r, 0, uint64(k))
	sticky := r != 0
	exp := e.exp
	n := bits.LeadingZeros64(qhi)
	if qhi == 0 {
		n = 64 + bits.LeadingZeros64(qlo)
	}
	// Normalize so that the top bit of hi is set; the quotient's value is
	// q * 2^(exp-63-64).
	hi, lo := shiftLeft128(qhi, qlo, n)
	exp -= n
	return roundExtended(e.neg, exp, hi, lo, sticky)
}

// roundExtended rounds the normalized 128-bit mantissa hi:lo (top bit of hi
// set), with sticky for nonzero bits below lo, to 64 bits, to nearest with
// ties to even: the round bit is the top bit of lo. A carry out of hi
// renormalizes to 2^63 and one more in the exponent.
func roundExtended(neg bool, exp int, hi, lo uint64, sticky bool) extended {
	round := lo>>63 != 0
	rest := lo<<1 != 0 || sticky
	if round && (rest || hi&1 != 0) {
		hi++
		if hi == 0 {
			hi = 1 << 63
			exp++
		}
	}
	return extended{neg: neg, exp: exp, mant: hi}
}

// float64 rounds e to the nearest double, ties to even (as C's conversion
// from long double to double).
func (e extended) float64() float64 {
	if e.mant == 0 {
		return 0
	}
	m := e.mant >> 11
	rem := e.mant & (1<<11 - 1)
	half := uint64(1 << 10)
	if rem > half || (rem == half && m&1 != 0) {
		m++
	}
	v := math.Ldexp(float64(m), e.exp-52)
	if e.neg {
		v = -v
	}
	return v
}

// sumR returns R's sum(x): the doubles added in order to a long double
// accumulator, then rounded to double.
func sumR(x []float64) float64 {
	var e extended
	for _, v := range x {
		e.add(v)
	}
	return e.float64()
}
