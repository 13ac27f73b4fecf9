package kernels

import (
	"math"
	"math/bits"
)

// ExactSums is a set of n exact float64 accumulators ("slots"): each holds
// the sum of the values added to it as a 256-bit two's-complement fixed-point
// number with 128 fraction bits, so additions are integer additions. The sum
// therefore does not depend on the order of the additions, and two sets
// merge (Merge) to the very bits that adding every value to one set gives:
// sums over sample shards computed on different machines combine to the
// result of one run over all samples.
//
// Every value added must be finite with |x| < 2^100 (Add panics otherwise).
// Binary digits below 2^-128 are dropped (truncated toward zero) when a value
// is added; no natural logarithm of a positive float64 and no count below
// 2^53 has such digits, so sums of log counts and of counts are exact. Up to
// 2^27 values of magnitude below 2^100 sum without overflow (far more for
// logs, which are below 2^10).
//
// The zero value holds no slots; use NewExactSums. The words are exposed
// (Words, ExactSumsFrom) for serialisation: 4 uint64 per slot, least
// significant first.
type ExactSums struct {
	w []uint64
}

const (
	exactWords    = 4   // 256 bits a slot
	exactFracBits = 128 // the fixed point's fraction bits
	exactMaxBit   = 227 // a value's highest bit may sit at most here (|x| < 2^100)
)

// NewExactSums returns n slots, each holding 0.
func NewExactSums(n int) ExactSums { return ExactSums{w: make([]uint64, exactWords*n)} }

// ExactSumsFrom wraps the words of a serialised set (4 per slot); it panics
// when len(words) is not a multiple of 4.
func ExactSumsFrom(words []uint64) ExactSums {
	if len(words)%exactWords != 0 {
		panic("kernels: ExactSums words must come in fours")
	}
	return ExactSums{w: words}
}

// Len is the number of slots.
func (e ExactSums) Len() int { return len(e.w) / exactWords }

// Words returns the underlying words (4 per slot, least significant first);
// they alias e.
func (e ExactSums) Words() []uint64 { return e.w }

// Add adds x to slot i exactly (up to the truncation below 2^-128). It
// panics when x is NaN, infinite or |x| >= 2^100.
func (e ExactSums) Add(i int, x float64) {
	b := math.Float64bits(x)
	exp := int(b>>52) & 0x7ff
	mant := b & (1<<52 - 1)
	if exp == 0x7ff {
		panic("kernels: ExactSums.Add of a NaN or infinite value")
	}
	if exp == 0 {
		exp = 1 // subnormal: no implicit bit
	} else {
		mant |= 1 << 52
	}
	// x = ±mant·2^(exp-1075); in the fixed point its bit 0 sits at shift.
	shift := exp - 1075 + exactFracBits
	if shift < 0 {
		if shift <= -64 {
			return
		}
		mant >>= uint(-shift)
		shift = 0
	}
	if mant == 0 {
		return
	}
	if shift+52 > exactMaxBit {
		panic("kernels: ExactSums.Add of a value of magnitude 2^100 or more")
	}
	k, r := shift/64, uint(shift%64)
	lo := mant << r
	var hi uint64
	if r > 0 {
		hi = mant >> (64 - r)
	}
	w := e.w[exactWords*i : exactWords*i+exactWords : exactWords*i+exactWords]
	var c uint64
	if b>>63 == 0 {
		w[k], c = bits.Add64(w[k], lo, 0)
		for k++; k < exactWords; k++ {
			w[k], c = bits.Add64(w[k], hi, c)
			hi = 0
			if c == 0 {
				break
			}
		}
	} else {
		w[k], c = bits.Sub64(w[k], lo, 0)
		for k++; k < exactWords; k++ {
			w[k], c = bits.Sub64(w[k], hi, c)
			hi = 0
			if c == 0 {
				break
			}
		}
	}
}

// addFixed53 adds the non-negative number (hi·2^64 + lo)·2^-53 to slot i:
// in the fixed point (2^-128 units) that is the 128-bit integer shifted left
// by 75 bits, across words 1 to 3.
func (e ExactSums) addFixed53(i int, lo, hi uint64) {
	const shift = exactFracBits - 53 - 64 // 11: bits above word 0
	w := e.w[exactWords*i : exactWords*i+exactWords : exactWords*i+exactWords]
	var c uint64
	w[1], c = bits.Add64(w[1], lo<<shift, 0)
	w[2], c = bits.Add64(w[2], lo>>(64-shift)|hi<<shift, c)
	w[3], _ = bits.Add64(w[3], hi>>(64-shift), c)
}

// Merge adds every slot of o to the same slot of e. It panics when the
// numbers of slots differ.
func (e ExactSums) Merge(o ExactSums) {
	if len(e.w) != len(o.w) {
		panic(badLength)
	}
	for s := 0; s < len(e.w); s += exactWords {
		var c uint64
		for k := 0; k < exactWords; k++ {
			e.w[s+k], c = bits.Add64(e.w[s+k], o.w[s+k], c)
		}
	}
}

// Float64 returns slot i's sum rounded to the nearest float64 (ties to
// even): the correctly rounded sum of the values added.
func (e ExactSums) Float64(i int) float64 {
	w := e.w[exactWords*i : exactWords*i+exactWords]
	var mag [exactWords]uint64
	copy(mag[:], w)
	neg := mag[exactWords-1]>>63 != 0
	if neg { // two's complement: negate
		var c uint64 = 1
		for k := range mag {
			mag[k], c = bits.Add64(^mag[k], 0, c)
		}
	}
	v := roundFixed(&mag)
	if neg {
		v = -v
	}
	return v
}

// roundFixed returns mag·2^-exactFracBits, for a non-negative fixed-point
// number mag, rounded to the nearest float64 (ties to even). The 53 bits
// from the highest set one down make the mantissa; the bit below them and
// whether any bit further below is set decide the rounding. Every result
// is a normal float64 or 0: the lowest bit is 2^-128, the highest 2^127.
func roundFixed(mag *[exactWords]uint64) float64 {
	t := exactWords - 1
	for t >= 0 && mag[t] == 0 {
		t--
	}
	if t < 0 {
		return 0
	}
	top := 64*t + 63 - bits.LeadingZeros64(mag[t]) // the highest set bit
	s := top - 52                                  // the mantissa's lowest bit
	if s <= 0 {
		return math.Ldexp(float64(mag[0]), -exactFracBits) // below 2^53: exact
	}
	m := fixedBitsFrom(mag, s) & (1<<53 - 1)
	if fixedBitsFrom(mag, s-1)&1 == 1 && (m&1 == 1 || fixedAnyBelow(mag, s-1)) {
		m++ // may reach 2^53, still exact as a float64
	}
	return math.Ldexp(float64(m), s-exactFracBits)
}

// fixedBitsFrom returns the 64 bits of mag from bit b up.
func fixedBitsFrom(mag *[exactWords]uint64, b int) uint64 {
	k, o := b/64, uint(b%64)
	r := mag[k] >> o
	if o > 0 && k+1 < exactWords {
		r |= mag[k+1] << (64 - o)
	}
	return r
}

// fixedAnyBelow reports whether any bit of mag below bit b is set.
func fixedAnyBelow(mag *[exactWords]uint64, b int) bool {
	k := b / 64
	for _, w := range mag[:k] {
		if w != 0 {
			return true
		}
	}
	return mag[k]&(1<<uint(b%64)-1) != 0
}

// LogSumsExact accumulates, per gene, the natural logarithms of one sample's
// positive counts: for every i with x[i] > 0 it adds ln x[i] to slot i of
// sums; for x[i] == 0 it counts the zero in zeros[i]. The totals
// (sums.Float64(i)) are the correctly rounded sums, whatever the order in
// which samples (or shards of samples, merged with ExactSums.Merge) arrive.
func LogSumsExact(sums ExactSums, zeros []int32, x []float64) {
	if sums.Len() != len(x) || len(zeros) != len(x) {
		panic(badLength)
	}
	for i, v := range x {
		if v > 0 {
			sums.Add(i, LogCount(v))
		} else {
			zeros[i]++
		}
	}
}
