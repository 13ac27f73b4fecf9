package edger

import (
	"math"
	"sort"

	"github.com/colnorm/colnorm/kernels"
)

// This file keeps the sorting implementation of TMM and TMMwsp as it was
// before the selection kernels (tmm.go), verbatim but for the names, so that
// the tests can check that the new code gives the same bits.

// oldTMMScratch is one worker's reusable memory for TMM.
type oldTMMScratch struct {
	obs, ref, m, a, v, ms, rankM, rankA, w []float64
	order                                  []int
	idx                                    []int
}

// tmm is edgeR's .calcFactorTMM for one sample against the reference.
func (s *oldTMMScratch) tmmOld(obs, ref []float64, nO, nR float64, o Options) float64 {
	s.m, s.a, s.v = s.m[:0], s.a[:0], s.v[:0]
	maxAbs := math.Inf(-1)
	for i := range obs {
		x, r := obs[i], ref[i]
		logR := kernels.Log2((x / nO) / (r / nR))
		absE := (kernels.Log2(x/nO) + kernels.Log2(r/nR)) / 2
		if math.IsInf(logR, 0) || math.IsNaN(logR) || math.IsInf(absE, 0) || math.IsNaN(absE) || !(absE > o.ACutoff) {
			continue
		}
		v := (nO-x)/nO/x + (nR-r)/nR/r
		s.m = append(s.m, logR)
		s.a = append(s.a, absE)
		s.v = append(s.v, v)
		maxAbs = math.Max(maxAbs, math.Abs(logR))
	}
	if maxAbs < 1e-6 {
		return 1
	}
	n := len(s.m)
	nf := float64(n)
	loL := math.Floor(nf*o.LogratioTrim) + 1
	hiL := nf + 1 - loL
	loS := math.Floor(nf*o.SumTrim) + 1
	hiS := nf + 1 - loS
	s.rankM, s.order = kernels.AverageRanks(grow(s.rankM, n), growInt(s.order, n), s.m)
	s.rankA, s.order = kernels.AverageRanks(grow(s.rankA, n), s.order, s.a)
	s.w = s.w[:0]
	if o.NoWeighting {
		for i := 0; i < n; i++ {
			if s.rankM[i] >= loL && s.rankM[i] <= hiL && s.rankA[i] >= loS && s.rankA[i] <= hiS {
				s.w = append(s.w, s.m[i])
			}
		}
		f := kernels.MeanR(s.w)
		if math.IsNaN(f) {
			f = 0
		}
		return math.Pow(2, f)
	}
	terms, weights := s.w[:0], s.ms[:0]
	for i := 0; i < n; i++ {
		if s.rankM[i] >= loL && s.rankM[i] <= hiL && s.rankA[i] >= loS && s.rankA[i] <= hiS {
			terms = append(terms, s.m[i]/s.v[i])
			weights = append(weights, 1/s.v[i])
		}
	}
	s.w, s.ms = terms, weights
	f := kernels.SumCompensated(terms) / kernels.SumCompensated(weights)
	if math.IsNaN(f) {
		f = 0
	}
	return math.Pow(2, f)
}

// tmmwsp is edgeR's .calcFactorTMMwsp for one sample against the reference.
func (s *oldTMMScratch) tmmwspOld(obsIn, refIn []float64, nO, nR float64, o Options) float64 {
	const eps = 1e-14
	// rows positive in both, then the singles paired by size
	obs, ref := s.ref[:0], s.ms[:0]
	var obsOnly, refOnly []float64
	for i := range obsIn {
		po, pr := obsIn[i] > eps, refIn[i] > eps
		switch {
		case po && pr:
			obs = append(obs, obsIn[i])
			ref = append(ref, refIn[i])
		case po:
			obsOnly = append(obsOnly, obsIn[i])
		case pr:
			refOnly = append(refOnly, refIn[i])
		}
	}
	if e := min(len(obsOnly), len(refOnly)); e > 0 {
		sort.Sort(sort.Reverse(sort.Float64Slice(obsOnly)))
		sort.Sort(sort.Reverse(sort.Float64Slice(refOnly)))
		obs = append(obs, obsOnly[:e]...)
		ref = append(ref, refOnly[:e]...)
	}
	s.ref, s.ms = obs, ref
	n := len(obs)
	if n == 0 {
		return 1
	}
	m := grow(s.m, n)
	a := grow(s.a, n)
	mShrunk := grow(s.v, n)
	s.m, s.a, s.v = m, a, mShrunk
	maxAbs := 0.0
	for i := 0; i < n; i++ {
		po, pr := obs[i]/nO, ref[i]/nR
		m[i] = kernels.Log2(po / pr)
		a[i] = 0.5 * kernels.Log2(po*pr)
		maxAbs = math.Max(maxAbs, math.Abs(m[i]))
		mShrunk[i] = kernels.Log2(((obs[i] + 0.5) / (nO + 0.5)) / ((ref[i] + 0.5) / (nR + 0.5)))
	}
	if maxAbs < 1e-6 {
		return 1
	}
	order := growInt(s.order, n)
	s.order = order
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		i, k := order[x], order[y]
		if m[i] != m[k] {
			return m[i] < m[k]
		}
		return mShrunk[i] < mShrunk[k]
	})
	keepM := make([]bool, n)
	loM := int(float64(n)*o.LogratioTrim) + 1
	for p := loM; p <= n+1-loM; p++ {
		keepM[order[p-1]] = true
	}
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return a[order[x]] < a[order[y]] })
	loA := int(float64(n)*o.SumTrim) + 1
	keep := make([]bool, n)
	for p := loA; p <= n+1-loA; p++ {
		i := order[p-1]
		keep[i] = keepM[i]
	}
	var wm, ws []float64
	for i := 0; i < n; i++ {
		if !keep[i] {
			continue
		}
		if o.NoWeighting {
			wm = append(wm, m[i])
			continue
		}
		po, pr := obs[i]/nO, ref[i]/nR
		v := (1-po)/po/nO + (1-pr)/pr/nR
		w := (1 + 1e-6) / (v + 1e-6)
		wm = append(wm, w*m[i])
		ws = append(ws, w)
	}
	var f float64
	if o.NoWeighting {
		f = kernels.MeanR(wm)
	} else {
		f = kernels.SumCompensated(wm) / kernels.SumCompensated(ws)
	}
	return math.Pow(2, f)
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func growInt(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}
