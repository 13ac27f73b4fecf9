package kernels

import (
	"math"
	"math/bits"
)

// logTableSize bounds the counts whose logarithm comes from logTable: most
// RNA-seq counts are below it, and its 512 KiB stay in a core's L2 cache.
const logTableSize = 1 << 16

// logTable[k] = math.Log(k), so LogCount returns exactly the bits math.Log
// would (logTable[0] = -Inf).
var logTable = func() *[logTableSize]float64 {
	t := new([logTableSize]float64)
	for k := range t {
		t[k] = math.Log(float64(k))
	}
	return t
}()

// LogCount returns ln v with the same bits as math.Log(v): from a table for
// whole numbers below 2^16, the common case for counts, and by math.Log
// otherwise (larger or fractional values; ln 0 = -Inf, NaN stays NaN).
func LogCount(v float64) float64 {
	// uint16(int(v)) equals v exactly for the whole numbers 0 to 65535
	// (and -0): any other v (larger, fractional, negative, NaN, infinite)
	// takes math.Log's path.
	if k := uint16(int(v)); float64(k) == v {
		return logTable[k]
	}
	return logOutsideTable(v)
}

// LogUint32 is LogCount of a 32-bit count, with the same bits: by index
// into the table below 2^16, by math.Log above.
func LogUint32(c uint32) float64 {
	if c < logTableSize {
		return logTable[c]
	}
	return logOutsideTable(float64(c))
}

// logOutsideTable is math.Log, kept out of line so that LogCount is small
// enough to be inlined into the loops that call it.
//
//go:noinline
func logOutsideTable(v float64) float64 { return math.Log(v) }

// posInf and negInf are the infinities as variables, loaded once rather
// than built by math.Inf inside hot loops.
var posInf, negInf = math.Inf(1), math.Inf(-1)

// MaxExactCount is 2^53: larger counts are not all representable in float64.
const MaxExactCount = 1 << 53

// IsCount reports whether v is a valid count: 0 <= v < 2^53 and, unless
// fractional, whole (float64(int64(v)) == v is v == math.Trunc(v) there,
// without a call). NaN, infinities and negatives are not counts.
func IsCount(v float64, fractional bool) bool {
	return v >= 0 && v < MaxExactCount && (fractional || float64(int64(v)) == v)
}

// UsableGenes returns the indices i, in order, of the genes with a finite
// logRef[i] and (when use is not nil) use[i]: the genes whose ratios enter
// DESeq2's median of ratios.
func UsableGenes(logRef []float64, use []bool) []int32 {
	if use != nil && len(use) != len(logRef) {
		panic(badLength)
	}
	var idx []int32
	for i, r := range logRef {
		if !math.IsInf(r, 0) && !math.IsNaN(r) && (use == nil || use[i]) {
			idx = append(idx, int32(i))
		}
	}
	return idx
}

// LogSumAccumulator adds per-gene log counts into ExactSums fast: a log of
// a count of 2 or more is at least ln 2 > 1/2, so it is a whole multiple of
// 2^-53 below 2^6, and l * 2^53 is a whole number below 2^59 that a 128-bit
// integer per gene sums exactly with one add and carry. Other values (logs of
// fractional counts) go to the ExactSums directly. Flush folds the integers
// into the ExactSums; the result has the very bits that adding every value
// with ExactSums.Add gives.
//
// A sweep adds to one 64-bit word per gene (pending), folded into the
// 128-bit sums every foldEvery columns: each column adds at most 2^59 to a
// gene (l < 64), so that foldEvery = 16 columns stay below 2^63. One word
// per gene instead of two keeps a sweep's state (with the column and the
// zero counts) within a core's L2 cache.
type LogSumAccumulator struct {
	fixed   []uint64 // per gene: lo, hi of the folded sum of l * 2^53
	pending []uint64 // per gene: the sum of l * 2^53 since the last fold
	columns int      // columns added since the last fold
	exact   ExactSums
}

// foldEvery is the number of columns after which pending is folded into
// fixed (see LogSumAccumulator).
const foldEvery = 16

// NewLogSumAccumulator accumulates into exact.
func NewLogSumAccumulator(exact ExactSums) *LogSumAccumulator {
	return &LogSumAccumulator{fixed: make([]uint64, 2*exact.Len()), pending: make([]uint64, exact.Len()), exact: exact}
}

// fold adds pending into fixed and clears it.
func (a *LogSumAccumulator) fold() {
	fixed := a.fixed[:2*len(a.pending)]
	for i, p := range a.pending {
		var c uint64
		fixed[2*i], c = bits.Add64(fixed[2*i], p, 0)
		fixed[2*i+1] += c
	}
	clear(a.pending)
	a.columns = 0
}

// AddCounts checks one sample's counts, sums them and accumulates their
// logarithms, in a single sweep over x: every x[i] must be a count
// (IsCount: 0 <= x[i] < 2^53, and whole unless fractional is true). It
// returns the column sum, added in order, and bad = -1; at the first value
// that is not a count it stops and returns its index as bad, with x[:bad]
// already accumulated (the caller then abandons the accumulator). A zero
// count is counted in zeros[i]; every other count adds LogCount(x[i]) to
// gene i: from a table of ln k * 2^53 (whole numbers, see the type) for whole
// counts below 2^16, by math.Log otherwise. x is not modified. Over the same
// columns it gives LogSumsExact's bits.
func (a *LogSumAccumulator) AddCounts(zeros []int32, x []float64, fractional bool) (sum float64, bad int) {
	if len(a.pending) != len(x) || len(zeros) != len(x) {
		panic(badLength)
	}
	pending := a.pending[:len(x)]
	// Whole counts are summed as integers: below 2^53 every partial sum of
	// whole numbers is exact in float64 too, so the integer sum is the
	// in-order float64 sum. A fractional value, or a sum reaching 2^53,
	// makes the sum be taken again in order.
	var whole uint64
	inOrder := false
	for i, v := range x {
		// The common case first, in one conversion: a whole count below
		// 2^16 (k = 0 for -0 too, a count of zero). Everything else, valid
		// or not, takes the checks below.
		if k := int64(v); float64(k) == v && uint64(k) < logTableSize {
			// Branch-free: entries 0 and 1 of the table are 0 (ln 1 = 0,
			// and a zero adds nothing), and k-1 is negative only for k = 0.
			pending[i] += logFixedTable[k]
			zeros[i] += int32(uint64(k-1) >> 63)
			whole += uint64(k)
			continue
		}
		if !IsCount(v, fractional) {
			return Sum(x[:i]), i
		}
		if k := int64(v); float64(k) == v {
			whole += uint64(k)
		} else {
			inOrder = true
		}
		if l := math.Log(v); l >= 0.5 && l < 64 {
			pending[i] += uint64(l * 0x1p53)
		} else {
			a.exact.Add(i, l) // a fractional count: l < 1/2, maybe negative
		}
	}
	if a.columns++; a.columns >= foldEvery {
		a.fold()
	}
	if inOrder || whole >= MaxExactCount {
		return Sum(x), -1
	}
	return float64(whole), -1
}

// AddUint32s is AddCounts for whole counts given as 32-bit integers, all
// of them valid: the same sums and bits as AddCounts of their float64
// values, without the checks and conversions. It returns the column sum,
// added in order (exact below 2^53, as it always is for fewer than 2^21
// genes).
func (a *LogSumAccumulator) AddUint32s(zeros []int32, x []uint32) float64 {
	if len(a.pending) != len(x) || len(zeros) != len(x) {
		panic(badLength)
	}
	pending, zeros := a.pending[:len(x)], zeros[:len(x)]
	var whole uint64
	for i, k := range x {
		whole += uint64(k)
		if k < logTableSize {
			// Branch-free, as in AddCounts: entries 0 and 1 are 0.
			pending[i] += logFixedTable[k]
			zeros[i] += int32((uint64(k) - 1) >> 63)
			continue
		}
		pending[i] += logFixedCount(k)
	}
	if a.columns++; a.columns >= foldEvery {
		a.fold()
	}
	return CountSum(x, whole) // AddCounts' sum in order
}

// AddUint32sPair is AddUint32s of two columns x and y (of the same genes)
// in one sweep, with the same bits as the two calls: each gene's sums are
// read and written once for both, and the exact sums do not depend on the
// order of the additions. It returns the two column sums.
func (a *LogSumAccumulator) AddUint32sPair(zeros []int32, x, y []uint32) (sumX, sumY float64) {
	if len(a.pending) != len(x) || len(y) != len(x) || len(zeros) != len(x) {
		panic(badLength)
	}
	if a.columns+2 > foldEvery { // two columns at most 2^60 more a gene
		a.fold()
	}
	pending, zeros, y := a.pending[:len(x)], zeros[:len(x)], y[:len(x)]
	var wholeX, wholeY uint64
	for i, k := range x {
		j := y[i]
		wholeX += uint64(k)
		wholeY += uint64(j)
		if k < logTableSize && j < logTableSize {
			// Branch-free, as in AddCounts: entries 0 and 1 are 0.
			pending[i] += logFixedTable[k] + logFixedTable[j]
			zeros[i] += int32((uint64(k)-1)>>63) + int32((uint64(j)-1)>>63)
			continue
		}
		pending[i] += logFixedCount(k) + logFixedCount(j)
		zeros[i] += int32((uint64(k)-1)>>63) + int32((uint64(j)-1)>>63)
	}
	if a.columns += 2; a.columns >= foldEvery {
		a.fold()
	}
	return CountSum(x, wholeX), CountSum(y, wholeY)
}

// logFixedCount is ln k * 2^53 as a whole number (0 for k = 0 and 1), from
// the table below 2^16.
func logFixedCount(k uint32) uint64 {
	if k < logTableSize {
		return logFixedTable[k]
	}
	return uint64(logOutsideTable(float64(k)) * 0x1p53) // l in [ln 2^16, ln 2^32)
}

// CountSum is the float64 sum of the counts x added in order, given their
// integer sum whole: whole itself below 2^53, where every partial sum is
// exact, and the in-order sum beyond.
func CountSum(x []uint32, whole uint64) (sum float64) {
	if whole < MaxExactCount {
		return float64(whole)
	}
	for _, k := range x {
		sum += float64(k)
	}
	return sum
}

// logFixedTable[k] = logTable[k] * 2^53, a whole number for k >= 2 (see
// LogSumAccumulator); entries 0 and 1 are 0, so that adding them is adding
// nothing.
var logFixedTable = func() []uint64 {
	t := make([]uint64, logTableSize)
	for k := 2; k < logTableSize; k++ {
		t[k] = uint64(logTable[k] * 0x1p53)
	}
	return t
}()

// Flush adds the whole-number sums to the ExactSums and clears them.
func (a *LogSumAccumulator) Flush() {
	a.fold()
	for i := 0; i < len(a.fixed)/2; i++ {
		lo, hi := a.fixed[2*i], a.fixed[2*i+1]
		if lo|hi != 0 {
			a.exact.addFixed53(i, lo, hi)
			a.fixed[2*i], a.fixed[2*i+1] = 0, 0
		}
	}
}
