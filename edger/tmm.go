package edger

import (
	"math"
	"slices"

	"github.com/colnorm/colnorm/kernels"
)

// This file is edgeR's .calcFactorTMM for one sample against the reference,
// computed without sorting and with few logarithms.
//
// The trim. With n rows kept by the filter and average ranks (R's rank),
// row i survives the log-ratio trim when loL <= rank(M_i) <= hiL. The
// average rank of a value v is less(v) + (equal(v)+1)/2, a non-decreasing
// function of v, so each of the two conditions keeps every value on one side
// of a boundary value b and decides b's tie group as a whole:
//
//   - rank >= t, for 1 < t <= n: with p = ⌈t⌉ and b the p-th smallest value,
//     values below b fail (their ranks are at most p-1 < t), values above b
//     pass (their ranks are at least p+1), and b passes when
//     less(b) + (equal(b)+1)/2 >= t. For t <= 1 all pass, for t > n (or a
//     NaN t) none do.
//   - rank <= t, for 1 <= t < n: with p = ⌊t⌋ and b the p-th smallest value,
//     values below b pass, values above b fail, and b passes when its
//     average rank is <= t. For t >= n all pass, for t < 1 (or NaN) none do.
//
// So four order statistics (two of M, two of A) and the counts of their
// ties replace the two sorts.
//
// Approximate keys. In the common case (every positive count and library
// size between 1e-100 and 1e100, each count at most its library size, so
// that x/nO and r/nR lie in [1e-200, 1] and every M and A is finite and below
// 700 in magnitude; and an A cutoff below -1000, which every such A passes)
// the order statistics are found on cheap keys:
// kM_i = ln x_i - ln r_i and kA_i = ln x_i + ln r_i, the logarithms from
// kernels.LogCount and computed once for the reference. For each row,
// kM_i = g(M_i) + e_i with g(M) = M·ln 2 + ln nO - ln nR, a strictly
// increasing function, and |e_i| < 1e-12 (a few rounding errors of
// logarithms below 700 in magnitude; likewise for A with
// g(A) = 2A·ln 2 + ln nO + ln nR). Let eps = 1e-10 bound |e_i|. The p-th
// smallest key k' is within eps of g(b), b the p-th smallest exact value,
// so a row with key < k' - 2eps has its exact value below b, and a row with
// key > k' + 2eps above it. Only the rows in the window between (the tie
// group of b and any value within about 2e-10 of it) get exact M or A:
// b is the (p - below)-th smallest of their exact values, below being the
// number of keys under the window. The exact M (edgeR's M, by kernels.Log2)
// is then computed for the rows that survive both trims, which enter the
// weighted mean; everything else is decided by its key.
//
// Outside the common case the keys are the exact M and A themselves,
// eps = 0, and the same selection runs on every finite row (edgeR's filter).
//
// The sums add the surviving rows in gene order as before, so the factor has
// the bits of the sorting implementation (see tmm_old_test.go).

// keyEps bounds |key - g(exact)| for the approximate keys (see above).
const keyEps = 1e-10

// fastMin and fastMax bound the positive counts and library sizes of the
// fast path: within them, with counts at most their library sizes, every
// quotient is a normal float64 and every logarithm is below 700 in
// magnitude.
const (
	fastMin = 1e-100
	fastMax = 1e100
)

// fastACutoff: every A of the fast path is above -700, so a cutoff below
// this one keeps them all.
const fastACutoff = -1000

// tmmReference is what every sample's TMM needs from the reference column,
// computed once. Its slices run over the kept genes (some count > 0), in
// order.
type tmmReference struct {
	nR     float64
	gene   []int32   // gene index of each kept gene
	r      []float64 // reference count
	rq     []float64 // r/nR
	log2RQ []float64 // Log2(r/nR)
	lnR    []float64 // LogCount(r)
	vR     []float64 // (nR-r)/nR/r, the reference's half of the variance
	rSmall []int16   // r when it is a whole number below memoSide, else -1
	pos    []posRow  // the positions (into the slices above) with r > 0
	lnRMax float64   // the largest lnR
	fast   bool      // nR and every positive r within [fastMin, fastMax], r <= nR
}

// posRow is a reference row with r > 0: its position in tmmReference's
// slices, its gene, and LogCount(r), together for fastRows' one sweep.
type posRow struct {
	at, gene int32
	lnR      float64
}

// newTMMReference prepares the reference column ref (all genes) with
// library size nR for the genes with keep[i].
func newTMMReference(ref []float64, keep []bool, nR float64) *tmmReference {
	t := &tmmReference{nR: nR, fast: nR >= fastMin && nR <= fastMax, lnRMax: math.Inf(-1)}
	for i, r := range ref {
		if !keep[i] {
			continue
		}
		k := int32(len(t.gene))
		t.gene = append(t.gene, int32(i))
		t.r = append(t.r, r)
		t.rq = append(t.rq, r/nR)
		t.log2RQ = append(t.log2RQ, kernels.Log2(r/nR))
		t.lnR = append(t.lnR, kernels.LogCount(r))
		t.vR = append(t.vR, (nR-r)/nR/r)
		small := int16(-1)
		if r >= 0 && r < memoSide && float64(int(r)) == r {
			small = int16(r)
		}
		t.rSmall = append(t.rSmall, small)
		if r > 0 {
			t.pos = append(t.pos, posRow{at: k, gene: int32(i), lnR: kernels.LogCount(r)})
			t.lnRMax = max(t.lnRMax, kernels.LogCount(r))
			if r < fastMin || r > fastMax || r > nR {
				t.fast = false
			}
		}
	}
	return t
}

// tmmScratch is one worker's reusable memory for TMM and TMMwsp.
type tmmScratch struct {
	// TMM rows that pass the filter: position into the reference slices,
	// count, and the two keys.
	at     []int32
	x      []float64
	floats []float64 // a sample of counts as float64s, off the fast path
	kM, kA []float64
	sel    []float64 // selection scratch
	rows   []int32   // the rows of the buckets that hold the order statistics
	// the keys' histograms, filled as the keys are made or by orderStats
	histM, histA keyHist
	// bucketOf's parameters for the keys being selected
	bMin, bScale float64
	win          []float64 // exact values of a window
	terms        []float64
	cand         []int32 // rows that may survive the trims
	// memoM's memory: M by (count, reference count), valid where the stamp
	// is memoGen
	memo      []float64
	memoStamp []uint32
	memoGen   uint32
	// log2Obs's memory: Log2(x/nO) by whole x, valid where the stamp is
	// memoGen
	obsMemo  []float64
	obsStamp []uint32
	// TMMwsp's A and M* by (count, reference count), valid where wspStamp
	// is memoGen
	memoA, memoShrunk []float64
	wspStamp          []uint32

	// TMMwsp: the reference counts of the rows, the counts positive in only
	// one column, and a window's exact tuples
	wr, obsOnly, refOnly []float64
	tuples               []wspTuple
	singleHist           []int32   // sortSingles' histogram
	large                []float64 // and its counts outside it

	// exactSums makes tmm sum edgeR's exact M for every row rather than
	// the key's M (mFromKey): the bits of the sorting implementation, which
	// the tests compare against.
	exactSums bool
}

// trimBound is one of the four conditions of the trim, resolved: all or
// none of the rows pass, or a row passes by its key and, in the window
// [lo, hi], by its exact value against b.
type trimBound struct {
	all, none bool
	lower     bool    // the condition is rank >= t (else rank <= t)
	lo, hi    float64 // the window of keys
	b         float64 // the boundary value (exact)
	tieIn     bool    // whether rows equal to b pass
}

// verdicts of trimBound.byKey
const (
	fails = iota
	passes
	undecided // in the window: byValue decides
)

// byKey decides a row by its key where it can.
func (tb *trimBound) byKey(k float64) int {
	switch {
	case tb.all:
		return passes
	case tb.none:
		return fails
	case k < tb.lo:
		if tb.lower {
			return fails
		}
		return passes
	case k > tb.hi:
		if tb.lower {
			return passes
		}
		return fails
	}
	return undecided
}

// sure is the key beyond which every row passes: above it for a lower
// bound, below it for an upper one (±Inf when all pass: -Inf for a lower
// bound, +Inf for an upper one; a bound where none pass is never asked).
func (tb *trimBound) sure() float64 {
	switch {
	case tb.all && tb.lower:
		return math.Inf(-1)
	case tb.all:
		return math.Inf(1)
	case tb.lower:
		return tb.hi
	}
	return tb.lo
}

// floor is the smallest key a lower bound may pass (-Inf for all).
func (tb *trimBound) floor() float64 {
	if tb.all {
		return math.Inf(-1)
	}
	return tb.lo
}

// ceil is the largest key an upper bound may pass (+Inf for all).
func (tb *trimBound) ceil() float64 {
	if tb.all {
		return math.Inf(1)
	}
	return tb.hi
}

// b2i is 1 for true and 0 for false (compiled without a branch).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// byValue decides a row of the window by its exact value v.
func (tb *trimBound) byValue(v float64) bool {
	switch {
	case v == tb.b:
		return tb.tieIn
	case v > tb.b:
		return tb.lower
	default:
		return !tb.lower
	}
}

// position returns the 1-based position of the order statistic that decides
// "rank >= t" (lower) or "rank <= t" among n values, or resolves the
// condition for every value at once.
func position(t float64, n int, lower bool) (p int, all, none bool) {
	nf := float64(n)
	if lower {
		switch {
		case t <= 1:
			return 0, true, false
		case !(t <= nf):
			return 0, false, true
		}
		return int(math.Ceil(t)), false, false
	}
	switch {
	case t >= nf:
		return 0, true, false
	case !(t >= 1):
		return 0, false, true
	}
	return int(math.Floor(t)), false, false
}

// trimBounds resolves "rank >= tLo" and "rank <= tHi" over keys (with
// bound eps; exact(c) is row c's exact value; span holds the smallest and
// largest key).
func (s *tmmScratch) trimBounds(keys []float64, h *keyHist, eps, tLo, tHi float64, exact func(c int) float64) (lo, hi trimBound) {
	n := len(keys)
	pLo, allLo, noneLo := position(tLo, n, true)
	pHi, allHi, noneHi := position(tHi, n, false)
	lo = trimBound{all: allLo, none: noneLo, lower: true}
	hi = trimBound{all: allHi, none: noneHi, lower: false}
	if pLo == 0 && pHi == 0 {
		return lo, hi
	}
	// the second position defaults to the first when only one is needed
	p1, p2 := pLo, pHi
	if p1 == 0 {
		p1 = p2
	} else if p2 == 0 {
		p2 = p1
	}
	os1, os2 := s.orderStats(keys, h, p1, p2)
	if pLo != 0 {
		s.resolve(&lo, keys, os1, eps, pLo, tLo, exact)
	}
	if pHi != 0 {
		s.resolve(&hi, keys, os2, eps, pHi, tHi, exact)
	}
	return lo, hi
}

// selectBuckets is the number of equal-width buckets orderStats sorts the
// keys into before selecting within the one or two that hold the positions.
const selectBuckets = 2048

// keyHist counts keys into selectBuckets equal-width buckets by
// ⌊(v-min)·scale⌋, clamped to the first and last bucket. Any min and scale
// give buckets in the order of the keys; a range close to the keys' spreads
// them best.
type keyHist struct {
	min, scale float64
	counts     []int32
	filled     bool // counts hold the current keys
	usable     bool // min and scale are finite
	// of holds each key's bucket when the keys' sweep counted them
	// (fastRows), else nothing: orderStats then computes them again
	of []uint16
}

// reset sets the buckets' range to [lo, hi] and clears the counts.
func (h *keyHist) reset(lo, hi float64) {
	if len(h.counts) != selectBuckets {
		h.counts = make([]int32, selectBuckets)
	}
	clear(h.counts)
	h.min, h.scale = lo, selectBuckets/(hi-lo)
	h.usable = lo < hi && !math.IsInf(hi-lo, 0) && !math.IsInf(h.scale, 0) && !math.IsNaN(h.scale)
	h.filled = false
	h.of = h.of[:0]
}

// fill counts keys over the range from their smallest to their largest.
func (h *keyHist) fill(keys []float64) {
	span := keyRange(keys)
	h.reset(span[0], span[1])
	h.filled = true
	if !h.usable {
		return
	}
	for _, v := range keys {
		h.counts[h.bucket(v)]++
	}
}

// bucket is the bucket of v (0 for -Inf).
func (h *keyHist) bucket(v float64) int {
	return bucketIn(v, h.min, h.scale)
}

// bucketIn is ⌊(v-lo)·scale⌋ clamped to [0, selectBuckets-1] (0 for -Inf).
func bucketIn(v, lo, scale float64) int {
	return max(0, min(int((v-lo)*scale), selectBuckets-1)) & (selectBuckets - 1)
}

// orderStat is the p-th smallest key k and, when orderStats used buckets,
// its bucket and the number of keys in lower buckets.
type orderStat struct {
	k         float64
	bucketed  bool
	bucket    int
	belowKeys int
}

// bucketOf is the bucket of key v (for the keys orderStats last selected
// among): ⌊(v-min)·scale⌋ clamped to
// [0, selectBuckets-1], a non-decreasing function of v (so keys in a lower
// bucket are smaller than keys in a higher one), also for v outside the keys'
// range.
func (s *tmmScratch) bucketOf(v float64) int {
	return max(0, min(int((v-s.bMin)*s.bScale), selectBuckets-1))
}

// orderStats returns the p1-th and p2-th smallest of keys (1-based); span
// holds the smallest and largest key. Long
// keys are counted into equal-width buckets; the p-th smallest lies in the
// bucket where the running count reaches p, and quickselect finishes among
// the keys of that bucket (and the other position's) only, which orderStats
// leaves in s.rows (their indices) for resolve.
func (s *tmmScratch) orderStats(keys []float64, h *keyHist, p1, p2 int) (o1, o2 orderStat) {
	if !h.filled {
		h.fill(keys)
	}
	if !h.usable || len(keys) < selectBuckets/4 {
		s.sel = append(s.sel[:0], keys...)
		o1.k = kernels.Select(s.sel, p1-1)
		switch {
		case p2 == p1:
			o2.k = o1.k
		case p2 > p1:
			o2.k = kernels.Select(s.sel[p1:], p2-1-p1)
		default:
			o2.k = kernels.Select(s.sel[:p1-1], p2-1)
		}
		return o1, o2
	}
	s.bMin, s.bScale = h.min, h.scale
	counts := h.counts
	// the bucket holding the p-th smallest, and how many keys lie below it
	find := func(p int) orderStat {
		seen := 0
		for b, c := range counts {
			if seen+int(c) >= p {
				return orderStat{bucketed: true, bucket: b, belowKeys: seen}
			}
			seen += int(c)
		}
		panic("edger: orderStats position out of range")
	}
	o1, o2 = find(p1), find(p2)
	s.rows, s.sel = s.rows[:0], s.sel[:0]
	if len(h.of) == len(keys) {
		b1, b2 := uint16(o1.bucket), uint16(o2.bucket)
		for c, b := range h.of {
			if b == b1 || b == b2 {
				s.rows = append(s.rows, int32(c))
				s.sel = append(s.sel, keys[c])
			}
		}
	} else {
		for c, v := range keys {
			if b := s.bucketOf(v); b == o1.bucket || b == o2.bucket {
				s.rows = append(s.rows, int32(c))
				s.sel = append(s.sel, v)
			}
		}
	}
	// In the union of the two buckets' keys, the lower bucket's come first.
	i1, i2 := p1-1-o1.belowKeys, p2-1-o2.belowKeys
	switch {
	case o1.bucket < o2.bucket:
		i2 += int(counts[o1.bucket])
	case o2.bucket < o1.bucket:
		i1 += int(counts[o2.bucket])
	}
	o1.k = kernels.Select(s.sel, i1)
	o2.k = kernels.Select(s.sel, i2)
	return o1, o2
}

// window counts the rows whose key is below lo and calls in(c) for every
// row c whose key lies in [lo, hi], in place order. Where [lo, hi] lies
// within the order statistic's bucket it looks only at the rows of that
// bucket (s.rows): lower buckets hold only keys below the window.
func (s *tmmScratch) window(keys []float64, os orderStat, lo, hi float64, in func(c int)) (below int) {
	if os.bucketed && s.bucketOf(lo) == os.bucket && s.bucketOf(hi) == os.bucket {
		below = os.belowKeys
		for _, c := range s.rows {
			key := keys[c]
			if s.bucketOf(key) != os.bucket {
				continue
			}
			switch {
			case key < lo:
				below++
			case key <= hi:
				in(int(c))
			}
		}
		return below
	}
	for c, key := range keys {
		switch {
		case key < lo:
			below++
		case key <= hi:
			in(c)
		}
	}
	return below
}

// resolve finds the exact p-th smallest value b, given the p-th smallest
// key, and whether b's tie group passes the condition against t; the exact
// values are computed only for the window of keys around it (window).
func (s *tmmScratch) resolve(tb *trimBound, keys []float64, os orderStat, eps float64, p int, t float64, exact func(c int) float64) {
	tb.lo, tb.hi = os.k-2*eps, os.k+2*eps
	s.win = s.win[:0]
	below := s.window(keys, os, tb.lo, tb.hi, func(c int) { s.win = append(s.win, exact(c)) })
	win := s.win
	tb.b = kernels.Select(win, p-below-1)
	less, equal := below, 0
	for _, v := range win {
		if v < tb.b {
			less++
		} else if v == tb.b {
			equal++
		}
	}
	rank := float64(2*less+equal+1) / 2 // the average of ranks less+1 .. less+equal
	if tb.lower {
		tb.tieIn = rank >= t
	} else {
		tb.tieIn = rank <= t
	}
}

// tmm is edgeR's .calcFactorTMM of the sample col (all genes, library size
// nO) against the reference.
func (s *tmmScratch) tmm(col []float64, ref *tmmReference, nO float64, o Options) float64 {
	fast := fastCase(ref, nO, o)
	if fast {
		fast = s.fastRows(col, ref, nO)
		s.newMemo()
	}
	if !fast {
		s.exactRows(col, ref, nO, o)
	}
	return s.trimmedMean(ref, nO, o, fast)
}

// tmmCounts is tmm of a sample given as 32-bit counts: the same factor,
// with the logarithms of the fast path by index (fastRowsCounts).
func (s *tmmScratch) tmmCounts(col []uint32, ref *tmmReference, nO float64, o Options) float64 {
	fast := fastCase(ref, nO, o)
	if fast {
		fast = s.fastRowsCounts(col, ref, nO)
		s.newMemo()
	}
	if !fast {
		s.exactRows(s.asFloats(col), ref, nO, o)
	}
	return s.trimmedMean(ref, nO, o, fast)
}

// asFloats is col as float64s, in the scratch space.
func (s *tmmScratch) asFloats(col []uint32) []float64 {
	s.floats = slices.Grow(s.floats[:0], len(col))[:len(col)]
	for i, c := range col {
		s.floats[i] = float64(c)
	}
	return s.floats
}

// fastCase reports whether the sample may take the fast path (see the top
// of this file), before its counts are seen.
func fastCase(ref *tmmReference, nO float64, o Options) bool {
	return ref.fast && nO >= fastMin && nO <= fastMax && o.ACutoff < fastACutoff
}

// trimmedMean is the rest of tmm once the rows are collected, by fastRows
// (fast) or exactRows: the trims and the weighted mean of M.
func (s *tmmScratch) trimmedMean(ref *tmmReference, nO float64, o Options, fast bool) float64 {
	eps := keyEps
	if !fast {
		eps = 0
	}
	n := len(s.at)
	// max|M| < 1e-6: nothing kept (R's max of nothing is -Inf), or the
	// reference itself.
	if n == 0 {
		return 1
	}
	if fast {
		// |kM - c| > 1e-6 puts |M| above 1e-6/ln 2 - 1e-12 > 1e-6.
		c := math.Log(nO) - math.Log(ref.nR)
		big := false
		for _, k := range s.kM {
			if math.Abs(k-c) > 1e-6 {
				big = true
				break
			}
		}
		if !big {
			maxAbs := math.Inf(-1)
			for c := range s.at {
				maxAbs = math.Max(maxAbs, math.Abs(s.exactM(c, ref, nO)))
			}
			if maxAbs < 1e-6 {
				return 1
			}
		}
	} else {
		maxAbs := math.Inf(-1)
		for _, m := range s.kM {
			maxAbs = math.Max(maxAbs, math.Abs(m))
		}
		if maxAbs < 1e-6 {
			return 1
		}
	}
	nf := float64(n)
	loL := math.Floor(nf*o.LogratioTrim) + 1
	hiL := nf + 1 - loL
	loS := math.Floor(nf*o.SumTrim) + 1
	hiS := nf + 1 - loS
	exactM := func(c int) float64 { return s.exactM(c, ref, nO) }
	exactA := func(c int) float64 { return s.exactA(c, ref, nO) }
	if !fast {
		exactM = func(c int) float64 { return s.kM[c] }
		exactA = func(c int) float64 { return s.kA[c] }
	}
	mLo, mHi := s.trimBounds(s.kM, &s.histM, eps, loL, hiL, exactM)
	aLo, aHi := s.trimBounds(s.kA, &s.histA, eps, loS, hiS, exactA)

	if mLo.none || mHi.none || aLo.none || aHi.none {
		return 1 // no row survives: 0/0 (or the mean of nothing) is NaN, so f = 0
	}
	// The rows that may survive, found without branches: the keys of the
	// others are below a lower bound's window or above an upper bound's.
	s.cand = slices.Grow(s.cand[:0], n)[:n]
	kept := 0
	mFloor, mCeil := mLo.floor(), mHi.ceil()
	aFloor, aCeil := aLo.floor(), aHi.ceil()
	for c := range s.kM {
		km, ka := s.kM[c], s.kA[c]
		s.cand[kept] = int32(c)
		kept += b2i(km >= mFloor) & b2i(km <= mCeil) & b2i(ka >= aFloor) & b2i(ka <= aCeil)
	}

	// The surviving rows in gene order: Σ(M/v)/Σ(1/v) by Neumaier's
	// compensated sums (kernels.SumCompensated's arithmetic), or mean(M).
	// On the fast path a row whose four keys lie beyond the windows passes
	// without more ado and takes M from its key (mFromKey); the rows of a
	// window are decided by their exact M (and A), which they then use.
	cM := math.Log(nO) - math.Log(ref.nR)
	keyM := fast && !s.exactSums
	sureM0, sureM1 := mLo.sure(), mHi.sure()
	sureA0, sureA1 := aLo.sure(), aHi.sure()
	var st, ct, sw, cw float64
	s.terms = s.terms[:0]
	for _, c32 := range s.cand[:kept] {
		c := int(c32)
		km, ka := s.kM[c], s.kA[c]
		var m float64
		if keyM && km > sureM0 && km < sureM1 && ka > sureA0 && ka < sureA1 {
			m = (km - cM) * invLn2 // the key's M (see mFromKey)
		} else {
			vmLo, vmHi := mLo.byKey(km), mHi.byKey(km)
			vaLo, vaHi := aLo.byKey(ka), aHi.byKey(ka)
			if vmLo == fails || vmHi == fails || vaLo == fails || vaHi == fails {
				continue
			}
			switch {
			case !fast:
				m = km // the exact M
			case vmLo == undecided || vmHi == undecided || s.exactSums:
				m = s.memoM(c, ref, nO)
			default:
				m = (km - cM) * invLn2
			}
			if vmLo == undecided && !mLo.byValue(m) || vmHi == undecided && !mHi.byValue(m) {
				continue
			}
			if vaLo == undecided || vaHi == undecided {
				a := exactA(c)
				if vaLo == undecided && !aLo.byValue(a) || vaHi == undecided && !aHi.byValue(a) {
					continue
				}
			}
		}
		if o.NoWeighting {
			s.terms = append(s.terms, m)
			continue
		}
		x, vR := s.x[c], ref.vR[s.at[c]]
		if !keyM {
			v := (nO-x)/nO/x + vR
			st, ct = neumaierAdd(st, ct, m/v)
			sw, cw = neumaierAdd(sw, cw, 1/v)
			continue
		}
		// edgeR's v with two divisions rather than four: nO - x is exact
		// (whole numbers below 2^53, or x within a factor 2 of nO) or
		// correctly rounded, nO·x cannot overflow on the fast path, and
		// both terms are >= 0, so v and w are within a few ulps of edgeR's.
		w := 1 / ((nO-x)/(nO*x) + vR)
		st, ct = neumaierAdd(st, ct, m*w)
		sw, cw = neumaierAdd(sw, cw, w)
	}
	var f float64
	if o.NoWeighting {
		f = kernels.MeanR(s.terms)
	} else {
		f = (st + ct) / (sw + cw)
	}
	if math.IsNaN(f) {
		f = 0
	}
	return math.Pow(2, f)
}

// neumaierAdd adds v to the compensated sum (s, c), as
// kernels.SumCompensated does for each term.
func neumaierAdd(s, c, v float64) (float64, float64) {
	t := s + v
	if math.Abs(s) >= math.Abs(v) {
		c += (s - t) + v
	} else {
		c += (v - t) + s
	}
	return t, c
}

// invLn2 is 1/ln 2 rounded.
const invLn2 = 1 / math.Ln2

// mFromKey: the M that enters TMM's weighted mean. edgeR's M of a row is
// log2 of the rounded quotient (x/nO)/(r/nR); exactM computes it with
// kernels.Log2, about 10 ns a row, and the sum of 2,000 samples takes it
// tens of millions of times. On the fast path the rows that survive the
// trims by their keys take M = (kM - (ln nO - ln nR))/ln 2 instead, from
// the key kM = ln x - ln r already made. Each of the five logarithms and
// three roundings is within an ulp of a value at most 461 in magnitude
// (the fast path's bound), so |M - edgeR's M| < 4e-13, and below 1e-14
// for counts and library sizes under 1e7. The weighted mean of such M is
// within the same bound of edgeR's (the weights are positive), and the
// factor 2^mean within 3e-13 relative: far inside the 1e-9 of the
// contract. Which rows survive is decided exactly as before (the windows
// take exact M), so the trims are edgeR's. tmmScratch.exactSums makes
// every row take exactM, the sorting implementation's bits, for the tests.

// exactM is edgeR's M of row c: log2((x/nO)/(r/nR)).
func (s *tmmScratch) exactM(c int, ref *tmmReference, nO float64) float64 {
	return kernels.Log2((s.x[c] / nO) / ref.rq[s.at[c]])
}

// memoSide bounds the whole counts whose M memoM keeps: most rows that
// survive the trims have both counts below it, in a few hundred distinct
// pairs per sample.
const memoSide = 64

// memoObs bounds the whole counts whose Log2(x/nO) log2Obs keeps.
const memoObs = 1024

// memoM is exactM, remembered for the sample's rows whose count and
// reference count are whole numbers below memoSide (M is a function of the
// two counts and the library sizes).
func (s *tmmScratch) memoM(c int, ref *tmmReference, nO float64) float64 {
	at := s.at[c]
	x, rs := s.x[c], ref.rSmall[at]
	if rs < 0 || !(x < memoSide) || float64(int(x)) != x {
		return s.exactM(c, ref, nO)
	}
	k := int(x)*memoSide + int(rs)
	if s.memoStamp[k] == s.memoGen {
		return s.memo[k]
	}
	m := s.exactM(c, ref, nO)
	s.memo[k], s.memoStamp[k] = m, s.memoGen
	return m
}

// newMemo starts memoM afresh for a new sample.
func (s *tmmScratch) newMemo() {
	if s.memo == nil {
		s.memo = make([]float64, memoSide*memoSide)
		s.memoStamp = make([]uint32, memoSide*memoSide)
		s.obsMemo = make([]float64, memoObs)
		s.obsStamp = make([]uint32, memoObs)
		s.memoA = make([]float64, memoSide*memoSide)
		s.memoShrunk = make([]float64, memoSide*memoSide)
		s.wspStamp = make([]uint32, memoSide*memoSide)
	}
	s.memoGen++
	if s.memoGen == 0 { // wrapped: forget every stamp
		clear(s.memoStamp)
		clear(s.obsStamp)
		clear(s.wspStamp)
		s.memoGen = 1
	}
}

// exactA is edgeR's A of row c: (log2(x/nO) + log2(r/nR))/2.
func (s *tmmScratch) exactA(c int, ref *tmmReference, nO float64) float64 {
	return (s.log2Obs(s.x[c], nO) + ref.log2RQ[s.at[c]]) / 2
}

// log2Obs is Log2(x/nO), remembered for whole x below memoObs: the exact A
// of a window's tie group takes it many times.
func (s *tmmScratch) log2Obs(x, nO float64) float64 {
	if !(x < memoObs) || float64(int(x)) != x {
		return kernels.Log2(x / nO)
	}
	k := int(x)
	if s.obsStamp[k] == s.memoGen {
		return s.obsMemo[k]
	}
	l := kernels.Log2(x / nO)
	s.obsMemo[k], s.obsStamp[k] = l, s.memoGen
	return l
}

// fastRows collects the rows positive in both columns with their
// approximate keys. It reports false, leaving the rows unusable, when a
// count is outside [fastMin, fastMax] or above nO.
func (s *tmmScratch) fastRows(col []float64, ref *tmmReference, nO float64) bool {
	r := s.startRows(ref, nO)
	// locals, so that the loop keeps them in registers
	at, xs, kM, kA, ofM, ofA := r.at, r.xs, r.kM, r.kA, r.ofM, r.ofA
	countsM, countsA := r.countsM, r.countsA
	minM, scaleM, minA, scaleA := r.minM, r.scaleM, r.minA, r.scaleA
	n, bad := 0, 0
	for _, row := range ref.pos {
		x := col[row.gene]
		lx, lr := kernels.LogCount(x), row.lnR // LogCount(0) = -Inf
		km, ka := lx-lr, lx+lr
		at[n], xs[n], kM[n], kA[n] = row.at, x, km, ka
		in := b2i(x > 0)
		bad |= in & (b2i(x < fastMin) | b2i(x > fastMax) | b2i(x > nO))
		bm, ba := bucketIn(km, minM, scaleM), bucketIn(ka, minA, scaleA)
		ofM[n], ofA[n] = uint16(bm), uint16(ba)
		countsM[bm] += int32(in)
		countsA[ba] += int32(in)
		n += in
	}
	return s.endRows(r, n, bad == 0)
}

// fastRowsCounts is fastRows of a sample given as 32-bit counts: the same
// rows, keys and histograms, with LogCount's logarithms by index
// (kernels.LogUint32). A positive count is at least 1 and below 2^32, so
// within [fastMin, fastMax]; only a count above nO leaves the fast path.
func (s *tmmScratch) fastRowsCounts(col []uint32, ref *tmmReference, nO float64) bool {
	r := s.startRows(ref, nO)
	at, xs, kM, kA, ofM, ofA := r.at, r.xs, r.kM, r.kA, r.ofM, r.ofA
	countsM, countsA := r.countsM, r.countsA
	minM, scaleM, minA, scaleA := r.minM, r.scaleM, r.minA, r.scaleA
	n, bad := 0, 0
	for _, row := range ref.pos {
		k := col[row.gene]
		x := float64(k)
		lx, lr := kernels.LogUint32(k), row.lnR // -Inf for 0
		km, ka := lx-lr, lx+lr
		at[n], xs[n], kM[n], kA[n] = row.at, x, km, ka
		in := b2i(k > 0)
		bad |= in & b2i(x > nO)
		bm, ba := bucketIn(km, minM, scaleM), bucketIn(ka, minA, scaleA)
		ofM[n], ofA[n] = uint16(bm), uint16(ba)
		countsM[bm] += int32(in)
		countsA[ba] += int32(in)
		n += in
	}
	return s.endRows(r, n, bad == 0)
}

// rowSweep is what a fastRows sweep fills, every slice of the length of
// the reference's positive rows: each row is written, and kept (n moves
// on) only when its count is positive, without branches; the histograms
// of the keys are counted on the way, over ranges that hold most keys: kM
// within ±8 of ln nO - ln nR (log ratios up to e^8), kA from 0 (two counts
// of 1) to ln nO + the largest ln r.
type rowSweep struct {
	at                         []int32
	xs, kM, kA                 []float64
	ofM, ofA                   []uint16 // the keys' buckets
	countsM, countsA           *[selectBuckets]int32
	minM, scaleM, minA, scaleA float64
}

// startRows readies the scratch space and the histograms for a fastRows
// sweep against ref.
func (s *tmmScratch) startRows(ref *tmmReference, nO float64) rowSweep {
	N := len(ref.pos)
	r := rowSweep{
		at:  slices.Grow(s.at[:0], N)[:N],
		xs:  slices.Grow(s.x[:0], N)[:N],
		kM:  slices.Grow(s.kM[:0], N)[:N],
		kA:  slices.Grow(s.kA[:0], N)[:N],
		ofM: slices.Grow(s.histM.of[:0], N)[:N],
		ofA: slices.Grow(s.histA.of[:0], N)[:N],
	}
	c := math.Log(nO) - math.Log(ref.nR)
	s.histM.reset(c-8, c+8)
	s.histA.reset(0, math.Log(nO)+ref.lnRMax)
	r.countsM, r.countsA = (*[selectBuckets]int32)(s.histM.counts), (*[selectBuckets]int32)(s.histA.counts)
	r.minM, r.scaleM, r.minA, r.scaleA = s.histM.min, s.histM.scale, s.histA.min, s.histA.scale
	return r
}

// endRows keeps the first n rows of the sweep r, and its histograms and
// buckets when ok (every count within the fast path's bounds); it
// reports ok.
func (s *tmmScratch) endRows(r rowSweep, n int, ok bool) bool {
	s.at, s.x, s.kM, s.kA = r.at[:n], r.xs[:n], r.kM[:n], r.kA[:n]
	if !ok {
		return false
	}
	s.histM.filled, s.histA.filled = s.histM.usable, s.histA.usable
	s.histM.of, s.histA.of = r.ofM[:n], r.ofA[:n]
	return true
}

// keyRange returns the smallest and largest of keys (plain comparisons:
// keys are never NaN).
func keyRange(keys []float64) [2]float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range keys {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return [2]float64{lo, hi}
}

// exactRows collects the rows edgeR keeps, finite M and A with A > ACutoff,
// with their exact M and A as keys.
func (s *tmmScratch) exactRows(col []float64, ref *tmmReference, nO float64, o Options) {
	s.at, s.x, s.kM, s.kA = s.at[:0], s.x[:0], s.kM[:0], s.kA[:0]
	for k, g := range ref.gene {
		x, r := col[g], ref.r[k]
		logR := kernels.Log2((x / nO) / (r / ref.nR))
		absE := (kernels.Log2(x/nO) + kernels.Log2(r/ref.nR)) / 2
		if math.IsInf(logR, 0) || math.IsNaN(logR) || math.IsInf(absE, 0) || math.IsNaN(absE) || !(absE > o.ACutoff) {
			continue
		}
		s.at = append(s.at, int32(k))
		s.x = append(s.x, x)
		s.kM = append(s.kM, logR)
		s.kA = append(s.kA, absE)
	}
	s.histM.filled, s.histA.filled = false, false
}
