package combatseq

import (
	"math"
	"sync"
)

// The batch-wise dispersions of ComBat_seq: edgeR's estimateGLMCommonDisp
// and estimateGLMTagwiseDisp(prior.df = 0) on one batch's samples, with the
// design ~group restricted to the batch (or ~1).

// batchModel is the dispersion design of one batch.
type batchModel struct {
	members []int     // samples of the batch, in order
	offsets []float64 // ln lib_j of the members
	expOff  []float64 // e^offsets, as oneGroup's start takes them
	p       int       // coefficients: 1 (intercept) or L (~group)
	X       []float64 // members x p, column-major
	level   []int     // each member's group level (0 with an intercept)
	levels  [][]int   // members (positions in members) of each level
	tagwise bool
}

func newBatchModel(d *Design, k int, offsets []float64) *batchModel {
	m := &batchModel{members: d.members[k], p: d.dispCoefs[k], X: d.dispX[k], tagwise: d.tagwise[k]}
	m.offsets = make([]float64, len(m.members))
	m.expOff = make([]float64, len(m.members))
	m.level = make([]int, len(m.members))
	m.levels = make([][]int, m.p)
	for i, j := range m.members {
		m.offsets[i] = offsets[j]
		m.expOff[i] = math.Exp(offsets[j])
		if m.p > 1 {
			m.level[i] = d.group[j]
		}
		m.levels[m.level[i]] = append(m.levels[m.level[i]], i)
	}
	return m
}

// aplScratch is one worker's scratch space for adjustedProfile.
type aplScratch struct {
	y, lgy1, mu, w, phi []float64
	gy, go_, geo, gphi  []float64
	xtwx, diag          []float64
	beta                []float64
}

func newAPLScratch(n, p int) *aplScratch {
	return &aplScratch{
		y: make([]float64, n), lgy1: make([]float64, n), mu: make([]float64, n), w: make([]float64, n), phi: make([]float64, n),
		gy: make([]float64, 0, n), go_: make([]float64, 0, n), geo: make([]float64, 0, n), gphi: make([]float64, 0, n),
		xtwx: make([]float64, p*p), diag: make([]float64, 0, p), beta: make([]float64, p),
	}
}

// logLowValue is ln(1e-10), edgeR's floor for the diagonal of D.
var logLowValue = math.Log(1e-10)

// adjustedProfile is edgeR's adjustedProfileLik for one gene: y are the
// gene's counts in the batch's samples and lgy1 their lnΓ(y+1). The means
// μ come from the one-way fit of the batch design (each group level's
// samples get oneGroup; no prior count). Then
//
//	ℓ = Σ_{μ_j>0} [y ln μ - y ln(μ+r) + r ln r - r ln(μ+r) + lnΓ(y+r) - lnΓ(y+1) - lnΓ(r)],  r = 1/φ,
//
// and the Cox-Reid term with W_j = μ_j/(1+φμ_j): ½ ln|ΣW| for an intercept,
// otherwise half the sum of ln D_ii of the LDLᵀ factorization of XᵀWX
// (entries below 1e-10 or not finite count as 1e-10). The result is ℓ
// minus that term. lnΓ is Go's math.Lgamma, which equals the C library's
// lgamma (what edgeR calls) far more often than R's own lgammafn does.
func (m *batchModel) adjustedProfile(y, lgy1 []float64, phi float64, s *aplScratch) float64 {
	n := len(m.members)
	mu := s.mu[:n]
	for i := range s.phi[:n] {
		s.phi[i] = phi
	}
	for lv, idx := range m.levels {
		s.gy, s.go_, s.geo, s.gphi = s.gy[:0], s.go_[:0], s.geo[:0], s.gphi[:0]
		for _, i := range idx {
			s.gy = append(s.gy, y[i])
			s.go_ = append(s.go_, m.offsets[i])
			s.geo = append(s.geo, m.expOff[i])
			s.gphi = append(s.gphi, phi)
		}
		s.beta[lv] = math.Max(oneGroup(s.gy, s.go_, s.geo, s.gphi), -1e8)
	}
	for i := 0; i < n; i++ {
		mu[i] = math.Exp(m.offsets[i] + s.beta[m.level[i]])
	}

	r := 1 / phi
	logr := math.Log(r)
	lgr, _ := math.Lgamma(r)
	ll := 0.0
	for i := 0; i < n; i++ {
		cm := mu[i]
		if cm == 0 {
			continue
		}
		cy := y[i]
		logmur := math.Log(cm + r)
		if cy == 0 {
			// The same value as the general form: y ln μ and y ln(μ+r) are
			// zeros, lnΓ(0+r) = lnΓ(r) and lnΓ(1) = 0.
			ll += (r*logr - r*logmur + lgr) - lgr
			continue
		}
		lgyr, _ := math.Lgamma(cy + r)
		ll += cy*math.Log(cm) - cy*logmur + r*logr - r*logmur + lgyr - lgy1[i] - lgr
	}

	w := s.w[:n]
	for i := 0; i < n; i++ {
		w[i] = mu[i] / (1 + phi*mu[i])
	}
	var adj float64
	if m.p == 1 {
		sw := 0.0
		for _, v := range w {
			sw += v
		}
		adj = math.Log(math.Abs(sw)) / 2
	} else {
		xtwx(n, m.p, m.X, w, s.xtwx)
		s.diag = ldltDiagonal(s.xtwx, m.p, s.diag)
		sum := 0.0
		for _, v := range s.diag {
			if v < 1e-10 || math.IsNaN(v) || math.IsInf(v, 0) {
				sum += logLowValue
			} else {
				sum += math.Log(v)
			}
		}
		adj = sum * 0.5
	}
	return ll - adj
}

// gridPoints are edgeR's spline points seq(-6, 6, length.out = 11) as R
// makes them (from + k·((to-from)/10), the last one exactly 6), and gridScale
// the factors 2^point.
var gridPoints, gridScale = func() ([]float64, []float64) {
	pts := make([]float64, 11)
	by := 12.0 / 10
	pts[0] = -6
	for k := 1; k < 10; k++ {
		pts[k] = -6 + float64(k)*by
	}
	pts[10] = 6
	sc := make([]float64, 11)
	for i, p := range pts {
		sc[i] = pow2(p)
	}
	return pts, sc
}()

// tagwiseDispersion is edgeR's dispCoxReidInterpolateTagwise for one gene with
// prior.df = 0 (its smoothing then cancels): the adjusted profile
// likelihood at φ̄·2^p for the 11 grid points p, the maximum of their FMM
// spline, and φ̄·2^x̂.
func (m *batchModel) tagwiseDispersion(y, lgy1 []float64, common float64, s *aplScratch, apl, spline []float64) float64 {
	for i, sc := range gridScale {
		apl[i] = m.adjustedProfile(y, lgy1, common*sc, s)
	}
	return common * pow2(maximizeInterpolant(gridPoints, apl, spline))
}

// lnFactorials caches lnΓ(y+1) for the counts 0..len-1.
var (
	lnFactOnce sync.Once
	lnFact     []float64
)

// lnGamma1 returns lnΓ(y+1), from a table for whole y below 65536.
func lnGamma1(y float64) float64 {
	lnFactOnce.Do(func() {
		lnFact = make([]float64, 1<<16)
		for i := range lnFact {
			lnFact[i], _ = math.Lgamma(float64(i) + 1)
		}
	})
	if y >= 0 && y < 1<<16 && y == math.Trunc(y) {
		return lnFact[int(y)]
	}
	v, _ := math.Lgamma(y + 1)
	return v
}
