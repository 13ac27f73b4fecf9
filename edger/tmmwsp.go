package edger

import (
	"cmp"
	"math"
	"slices"

	"github.com/colnorm/colnorm/kernels"
)

// This file is edgeR's .calcFactorTMMwsp for one sample against the
// reference, by selection (see tmm.go for the keys and their windows).
//
// TMMwsp trims by position in stable sorts: by M with ties broken by the
// shrunk log ratio M* and then by the row's place in the vector, and by A
// with ties broken by place. Both orders are total, so "position in
// [lo, hi]" is "at or after the lo-th row and at or before the hi-th row" in
// that order, and two selections per order find those rows. The keys
// kM = ln obs - ln ref and kA = ln obs + ln ref are within 1e-12 of strictly
// increasing functions of M and A (A = log2(p_o·p_r)/2 here), so only rows
// whose key is in a window around the selected key need their exact
// (M, M*, place) or (A, place); the others are before or after by key alone.

// wspReference is what every sample's TMMwsp needs from the reference,
// computed once, over the kept genes in order.
type wspReference struct {
	nR     float64
	lnRMax float64   // the largest lnR
	gene   []int32   // gene index
	r      []float64 // reference count
	lnR    []float64 // LogCount(r)
}

func newWSPReference(ref []float64, keep []bool, nR float64) *wspReference {
	t := &wspReference{nR: nR, lnRMax: math.Inf(-1)}
	for i, r := range ref {
		if keep[i] {
			t.gene = append(t.gene, int32(i))
			t.r = append(t.r, r)
			t.lnR = append(t.lnR, kernels.LogCount(r))
			t.lnRMax = max(t.lnRMax, kernels.LogCount(r))
		}
	}
	return t
}

// wspTuple is a row's place in one of TMMwsp's total orders: by v, then
// tie, then place.
type wspTuple struct {
	v, tie float64
	place  int
}

func compareWSP(a, b wspTuple) int {
	if c := cmp.Compare(a.v, b.v); c != 0 {
		return c
	}
	if c := cmp.Compare(a.tie, b.tie); c != 0 {
		return c
	}
	return cmp.Compare(a.place, b.place)
}

// posBound is "at or after the p-th row" (lower) or "at or before it" in
// a total order: rows with a key below lo come before that row, rows with a
// key above hi after it, and the rest compare their exact tuples with b.
type posBound struct {
	none   bool
	lower  bool
	lo, hi float64
	b      wspTuple
}

// byKey decides a row by its key where it can (fails, passes, undecided);
// pb must not be none.
func (pb *posBound) byKey(k float64) int {
	switch {
	case k < pb.lo:
		if pb.lower {
			return fails
		}
		return passes
	case k > pb.hi:
		if pb.lower {
			return passes
		}
		return fails
	}
	return undecided
}

// byTuple decides a row of the window by its exact tuple.
func (pb *posBound) byTuple(t wspTuple) bool {
	c := compareWSP(t, pb.b)
	if pb.lower {
		return c >= 0
	}
	return c <= 0
}

// positionBounds resolves "position >= lo" and "position <= hi" (1-based)
// in the total order given by exact, over keys (bound eps).
func (s *tmmScratch) positionBounds(keys []float64, h *keyHist, eps float64, lo, hi int, exact func(c int) wspTuple) (pLo, pHi posBound) {
	n := len(keys)
	lo = max(lo, 1)
	pLo, pHi = posBound{lower: true}, posBound{}
	if lo > hi || lo > n {
		pLo.none, pHi.none = true, true
		return pLo, pHi
	}
	os1, os2 := s.orderStats(keys, h, lo, hi)
	s.resolveTuple(&pLo, keys, os1, eps, lo, exact)
	s.resolveTuple(&pHi, keys, os2, eps, hi, exact)
	return pLo, pHi
}

// resolveTuple finds the p-th row in the total order given the p-th smallest
// key: the (p - below)-th of the window's rows by exact tuple.
func (s *tmmScratch) resolveTuple(pb *posBound, keys []float64, os orderStat, eps float64, p int, exact func(c int) wspTuple) {
	pb.lo, pb.hi = os.k-2*eps, os.k+2*eps
	s.tuples = s.tuples[:0]
	below := s.window(keys, os, pb.lo, pb.hi, func(c int) { s.tuples = append(s.tuples, exact(c)) })
	// The window's tuples come in place order; when they share v and tie
	// (a tie group, the common case) that is their order already.
	t := s.tuples
	same := true
	for _, u := range t[1:] {
		if u.v != t[0].v || u.tie != t[0].tie {
			same = false
			break
		}
	}
	if same {
		pb.b = t[p-below-1]
		return
	}
	pb.b = selectTuple(t, p-below-1)
}

// selectTuple reorders t so that t[k] (0-based) is the tuple a sort by
// compareWSP would put there, and returns it: quickselect with a
// median-of-three pivot. The tuples are distinct (their places are), so a
// two-way partition suffices.
func selectTuple(t []wspTuple, k int) wspTuple {
	less := func(a, b wspTuple) bool { return compareWSP(a, b) < 0 }
	lo, hi := 0, len(t)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if less(t[mid], t[lo]) {
			t[mid], t[lo] = t[lo], t[mid]
		}
		if less(t[hi], t[lo]) {
			t[hi], t[lo] = t[lo], t[hi]
		}
		if less(t[mid], t[hi]) {
			t[mid], t[hi] = t[hi], t[mid]
		}
		pivot := t[hi] // the median of the three
		i := lo
		for j := lo; j < hi; j++ {
			if less(t[j], pivot) {
				t[i], t[j] = t[j], t[i]
				i++
			}
		}
		t[i], t[hi] = t[hi], t[i]
		switch {
		case k < i:
			hi = i - 1
		case k > i:
			lo = i + 1
		default:
			return t[i]
		}
	}
	return t[k]
}

// tmmwsp is edgeR's .calcFactorTMMwsp of the sample col (all genes, library
// size nO) against the reference.
func (s *tmmScratch) tmmwsp(col []float64, ref *wspReference, nO float64, o Options) float64 {
	const eps = 1e-14 // "positive"
	nR := ref.nR
	// The rows positive in both, in gene order, then the singles paired by
	// size: the e largest counts positive only in the sample with the e
	// largest positive only in the reference, each in decreasing order.
	s.x, s.wr = s.x[:0], s.wr[:0]
	s.kM, s.kA = s.kM[:0], s.kA[:0]
	s.obsOnly, s.refOnly = s.obsOnly[:0], s.refOnly[:0]
	fast := nO >= fastMin && nO <= fastMax && nR >= fastMin && nR <= fastMax
	// the largest counts of the rows, for the fast path
	largestX, largestR := 0.0, 0.0
	// the keys' histograms, counted on the way over the ranges tmm uses
	c0 := math.Log(nO) - math.Log(nR)
	s.histM.reset(c0-8, c0+8)
	s.histA.reset(0, math.Log(nO)+ref.lnRMax)
	hM, hA := &s.histM, &s.histA
	for k, g := range ref.gene {
		x, r := col[g], ref.r[k]
		po, pr := x > eps, r > eps
		switch {
		case po && pr:
			lx, lr := kernels.LogCount(x), ref.lnR[k]
			km, ka := lx-lr, lx+lr
			s.x = append(s.x, x)
			s.wr = append(s.wr, r)
			s.kM = append(s.kM, km)
			s.kA = append(s.kA, ka)
			hM.counts[hM.bucket(km)]++
			hA.counts[hA.bucket(ka)]++
			if x > largestX {
				largestX = x
			}
			if r > largestR {
				largestR = r
			}
		case po:
			s.obsOnly = append(s.obsOnly, x)
		case pr:
			s.refOnly = append(s.refOnly, r)
		}
	}
	if e := min(len(s.obsOnly), len(s.refOnly)); e > 0 {
		s.sortSingles(s.obsOnly)
		s.sortSingles(s.refOnly)
		for i := 1; i <= e; i++ {
			x, r := s.obsOnly[len(s.obsOnly)-i], s.refOnly[len(s.refOnly)-i]
			lx, lr := kernels.LogCount(x), kernels.LogCount(r)
			km, ka := lx-lr, lx+lr
			s.x = append(s.x, x)
			s.wr = append(s.wr, r)
			s.kM = append(s.kM, km)
			s.kA = append(s.kA, ka)
			hM.counts[hM.bucket(km)]++
			hA.counts[hA.bucket(ka)]++
			if x > largestX {
				largestX = x
			}
			if r > largestR {
				largestR = r
			}
		}
	}
	n := len(s.x)
	if n == 0 {
		return 1
	}
	// every count is above 1e-14, so only large values leave the fast path
	fast = fast && largestX <= min(nO, fastMax) && largestR <= min(nR, fastMax)
	s.newMemo()
	m := func(c int) float64 { return s.memoLogRatio(s.x[c], s.wr[c], nO, nR) }
	a := func(c int) float64 {
		x, r := s.x[c], s.wr[c]
		k := memoIndex(x, r)
		if k >= 0 && s.wspStamp[k] == s.memoGen {
			return s.memoA[k]
		}
		v := 0.5 * kernels.Log2((x/nO)*(r/nR))
		if k >= 0 {
			s.memoA[k], s.memoShrunk[k], s.wspStamp[k] = v, mShrunkOf(x, r, nO, nR), s.memoGen
		}
		return v
	}
	mShrunk := func(c int) float64 {
		x, r := s.x[c], s.wr[c]
		k := memoIndex(x, r)
		if k >= 0 && s.wspStamp[k] == s.memoGen {
			return s.memoShrunk[k]
		}
		v := mShrunkOf(x, r, nO, nR)
		if k >= 0 {
			s.memoA[k], s.memoShrunk[k], s.wspStamp[k] = 0.5*kernels.Log2((x/nO)*(r/nR)), v, s.memoGen
		}
		return v
	}
	keyEpsilon := keyEps
	if !fast {
		// the keys become the exact M and A
		for c := range s.kM {
			s.kM[c], s.kA[c] = m(c), a(c)
		}
		keyEpsilon = 0
		hM.filled, hA.filled = false, false // orderStats counts the exact keys
	} else {
		hM.filled, hA.filled = hM.usable, hA.usable
	}

	// max|M| < 1e-6 gives 1; as in tmm, a key off by more than 1e-6 from
	// ln nO - ln nR settles it
	big := false
	if fast {
		for _, k := range s.kM {
			if math.Abs(k-c0) > 1e-6 {
				big = true
				break
			}
		}
	}
	if !big {
		maxAbs := 0.0
		for c := range s.x {
			maxAbs = math.Max(maxAbs, math.Abs(m(c)))
		}
		if maxAbs < 1e-6 {
			return 1
		}
	}

	tupleM := func(c int) wspTuple { return wspTuple{m(c), mShrunk(c), c} }
	tupleA := func(c int) wspTuple { return wspTuple{a(c), 0, c} }
	loM := int(float64(n)*o.LogratioTrim) + 1
	loA := int(float64(n)*o.SumTrim) + 1
	mLo, mHi := s.positionBounds(s.kM, &s.histM, keyEpsilon, loM, n+1-loM, tupleM)
	aLo, aHi := s.positionBounds(s.kA, &s.histA, keyEpsilon, loA, n+1-loA, tupleA)

	// the kept rows in order: Σ wM / Σ w by compensated sums, or mean(M)
	var st, ct, sw, cw float64
	s.terms = s.terms[:0]
	if !mLo.none && !aLo.none {
		mFloor, mCeil, aFloor, aCeil := mLo.lo, mHi.hi, aLo.lo, aHi.hi
		s.cand = slices.Grow(s.cand[:0], n)[:n]
		kept := 0
		for c := range s.kM {
			km, ka := s.kM[c], s.kA[c]
			s.cand[kept] = int32(c)
			kept += b2i(km >= mFloor) & b2i(km <= mCeil) & b2i(ka >= aFloor) & b2i(ka <= aCeil)
		}
		for _, c32 := range s.cand[:kept] {
			c := int(c32)
			vmLo, vmHi := mLo.byKey(s.kM[c]), mHi.byKey(s.kM[c])
			vaLo, vaHi := aLo.byKey(s.kA[c]), aHi.byKey(s.kA[c])
			if vmLo == fails || vmHi == fails || vaLo == fails || vaHi == fails {
				continue
			}
			if vmLo == undecided || vmHi == undecided {
				t := tupleM(c)
				if vmLo == undecided && !mLo.byTuple(t) || vmHi == undecided && !mHi.byTuple(t) {
					continue
				}
			}
			if vaLo == undecided || vaHi == undecided {
				t := tupleA(c)
				if vaLo == undecided && !aLo.byTuple(t) || vaHi == undecided && !aHi.byTuple(t) {
					continue
				}
			}
			mc := m(c)
			if o.NoWeighting {
				s.terms = append(s.terms, mc)
				continue
			}
			po, pr := s.x[c]/nO, s.wr[c]/nR
			v := (1-po)/po/nO + (1-pr)/pr/nR
			w := (1 + 1e-6) / (v + 1e-6)
			st, ct = neumaierAdd(st, ct, w*mc)
			sw, cw = neumaierAdd(sw, cw, w)
		}
	}
	var f float64
	if o.NoWeighting {
		f = kernels.MeanR(s.terms)
	} else {
		f = (st + ct) / (sw + cw)
	}
	return math.Pow(2, f)
}

// sortSingles sorts v (counts > 0) in increasing order: whole counts below
// countHistogramSize by counting them, larger whole counts (rare) by
// slices.Sort after them; with a fractional count, slices.Sort. Equal counts
// are indistinguishable, so this is any sort's result.
func (s *tmmScratch) sortSingles(v []float64) {
	if len(v) < 64 {
		slices.Sort(v)
		return
	}
	if len(s.singleHist) != countHistogramSize {
		s.singleHist = make([]int32, countHistogramSize)
	}
	hist := s.singleHist
	clear(hist)
	s.large = s.large[:0]
	top := 0
	for _, x := range v {
		switch k := int(x); {
		case float64(k) != x || x >= kernels.MaxExactCount: // whole numbers from 2^53 on need not pass the int conversion test
			slices.Sort(v) // a fractional count
			return
		case x < countHistogramSize:
			hist[k]++
			top = max(top, k)
		default:
			s.large = append(s.large, x)
		}
	}
	i := 0
	for k, c := range hist[:top+1] {
		for ; c > 0; c-- {
			v[i] = float64(k)
			i++
		}
	}
	slices.Sort(s.large)
	copy(v[i:], s.large)
}

// mShrunkOf is TMMwsp's M*: log2(((x+0.5)/(nO+0.5)) / ((r+0.5)/(nR+0.5))).
func mShrunkOf(x, r, nO, nR float64) float64 {
	return kernels.Log2(((x + 0.5) / (nO + 0.5)) / ((r + 0.5) / (nR + 0.5)))
}

// memoIndex is the place of the pair (x, r) in the memo tables, or -1 when
// x or r is not a whole number below memoSide.
func memoIndex(x, r float64) int {
	if !(x < memoSide) || !(r < memoSide) || float64(int(x)) != x || float64(int(r)) != r {
		return -1
	}
	return int(x)*memoSide + int(r)
}

// memoLogRatio is log2((x/nO)/(r/nR)), remembered (in memoM's table) for
// whole x and r below memoSide.
func (s *tmmScratch) memoLogRatio(x, r, nO, nR float64) float64 {
	k := memoIndex(x, r)
	if k < 0 {
		return kernels.Log2((x / nO) / (r / nR))
	}
	if s.memoStamp[k] == s.memoGen {
		return s.memo[k]
	}
	m := kernels.Log2((x / nO) / (r / nR))
	s.memo[k], s.memoStamp[k] = m, s.memoGen
	return m
}
