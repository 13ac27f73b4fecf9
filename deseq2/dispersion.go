package deseq2

import (
	"math"

	"github.com/colnorm/colnorm/kernels"
)

// Gene-wise dispersion estimates for a design with only an intercept (~1), as
// DESeq2 1.38's estimateDispersionsGeneEst makes them for the blind VST.
//
// For gene i with raw counts y_j, size factors s_j and q_j = y_j/s_j:
//
//	baseMean  = mean_j q_j,  baseVar = var_j q_j (denominator m-1)
//	rough     = max(0, Σ_j((q_j-u)² - u)/u² / (m-1)),  u = max(1, baseMean)
//	moments   = (baseVar - ξ·baseMean)/baseMean²,       ξ = mean_j 1/s_j
//	α⁰        = min(max(min(rough, moments), 1e-8), maxDisp)
//	μ_j       = max(baseMean·s_j, 0.5)
//
// then a = ln α maximises the Cox–Reid adjusted negative binomial likelihood
// ℓ(a) (logPosterior) by DESeq2's Armijo line search (fitDisp), with a grid
// search when the line search does not converge. Genes whose counts are all
// zero take no part and have no estimate.

const (
	minDisp      = 1e-8 // DESeq2's minDisp
	dispTol      = 1e-6 // change in ℓ that stops the line search
	dispMaxIter  = 100  // line-search tries
	armijoEps    = 1e-4 // sufficient-increase constant
	gridPoints   = 20   // points of the coarse and of the fine grid
	minMu        = 0.5  // DESeq2's minmu for linear-model means
	logAlphaLow  = -30.0
	logAlphaHigh = 10.0
)

// MaxDispersion is DESeq2's upper bound on dispersions: max(10, m) for m samples.
func MaxDispersion(m int) float64 { return math.Max(10, float64(m)) }

// GeneDispersion is one gene's estimate and how it was reached.
type GeneDispersion struct {
	BaseMean float64 // mean of the normalized counts
	Initial  float64 // α⁰, the start of the line search
	Estimate float64 // the final gene-wise estimate
	Iter     int     // line-search tries
	Grid     bool    // the estimate comes from the grid search
}

// dispersionFitter estimates gene-wise dispersions; one per worker.
type dispersionFitter struct {
	s       []float64 // size factors
	xi      float64   // mean_j 1/s_j
	maxDisp float64
	grid    []float64 // coarse grid of ln α
	q, mu   []float64 // per-sample normalized counts and means
	tmp     []float64 // per-sample scratch
	fine    []float64 // the fine grid
	like    nbLikelihood
	lp      []float64 // per-grid-point scratch
}

func newDispersionFitter(sf []float64, maxDisp float64) *dispersionFitter {
	inv := make([]float64, len(sf))
	for j, s := range sf {
		inv[j] = 1 / s
	}
	return &dispersionFitter{
		s: sf, xi: kernels.MeanR(inv), maxDisp: maxDisp,
		grid: seqLength(math.Log(minDisp), math.Log(maxDisp), gridPoints),
		q:    make([]float64, len(sf)), mu: make([]float64, len(sf)), tmp: make([]float64, len(sf)),
		lp: make([]float64, gridPoints), fine: make([]float64, gridPoints),
	}
}

// seqLength returns n points from a to b as R's seq(a, b, length.out = n)
// makes them: exact ends, interior points a + k·((b-a)/(n-1)).
func seqLength(a, b float64, n int) []float64 {
	by := (b - a) / float64(n-1)
	out := make([]float64, n)
	for k := range out {
		out[k] = a + float64(k)*by
	}
	out[0], out[n-1] = a, b
	return out
}

// gene estimates the dispersion of one gene from its raw counts y. ok is
// false when every count is zero.
func (f *dispersionFitter) gene(y []float64) (GeneDispersion, bool) {
	zero := true
	for j, c := range y {
		f.q[j] = c / f.s[j]
		if c != 0 {
			zero = false
		}
	}
	if zero {
		return GeneDispersion{}, false
	}
	bm, init := startingDispersion(f.q, f.tmp, f.xi, f.maxDisp)

	for j, s := range f.s {
		f.mu[j] = math.Max(bm*s, minMu)
	}
	f.like = nbLikelihood{y: y, mu: f.mu}
	est, iter, grid := geneWiseEstimate(&f.like, init, f.maxDisp, f.grid, f.lp, f.fine)
	return GeneDispersion{BaseMean: bm, Initial: init, Estimate: est, Iter: iter, Grid: grid}, true
}

// geneWiseEstimate is the gene-wise estimate from the start α⁰ = init
// (DESeq2 estimateDispersionsGeneEst, niter = 1): the line search; its
// start kept where ℓ did not rise by |ℓ₀|/1e6; the grid search where the
// line search did not converge (100 tries, or a first step accepted at
// once) and the estimate is above 1e-7; bounded to [1e-8, maxDisp]. It
// returns the estimate, the line-search tries and whether the grid decided.
func geneWiseEstimate(obj dispersionObjective, init, maxDisp float64, grid, lp, fine []float64) (est float64, iter int, usedGrid bool) {
	a, lpEnd, lp0, iter := lineSearch(obj, math.Log(init))
	est = math.Min(math.Exp(a), maxDisp)
	if lpEnd < lp0+math.Abs(lp0)/1e6 { // no increase of the likelihood
		est = init
	}
	converged := iter < dispMaxIter && iter != 1
	if !converged && est > minDisp*10 {
		est = math.Exp(gridSearch(obj, grid, lp, fine))
		usedGrid = true
	}
	return math.Min(math.Max(est, minDisp), maxDisp), iter, usedGrid
}

// startingDispersion returns the mean of the normalized counts q and the
// line search's start α⁰ = min(max(min(rough, moments), 1e-8), maxDisp)
// (see the top of this file); xi is mean_j 1/s_j, tmp scratch of len(q).
func startingDispersion(q, tmp []float64, xi, maxDisp float64) (baseMean, init float64) {
	m := float64(len(q))
	bm := kernels.SumCompensated(q) / m
	u := math.Max(1, bm)
	for j, v := range q {
		tmp[j] = (v - bm) * (v - bm)
	}
	bv := kernels.SumCompensated(tmp) / (m - 1)
	for j, v := range q {
		tmp[j] = ((v-u)*(v-u) - u) / (u * u)
	}
	rough := math.Max(0, kernels.SumCompensated(tmp)/(m-1))
	moments := (bv - xi*bm) / (bm * bm)
	init = moments
	if rough < moments {
		init = rough
	}
	return bm, math.Min(math.Max(init, minDisp), maxDisp)
}

// dispersionObjective is a log posterior of a = ln α for one gene and its
// derivative: nbLikelihood for the VST, nbPosterior (with R's ln Γ and an
// optional prior) for the iterative size factors.
type dispersionObjective interface {
	logPost(a float64) float64
	dLogPost(a float64) float64
}

// nbLikelihood is logPosterior and dLogPosterior of counts y with means mu.
type nbLikelihood struct{ y, mu []float64 }

func (l *nbLikelihood) logPost(a float64) float64  { return logPosterior(a, l.y, l.mu) }
func (l *nbLikelihood) dLogPost(a float64) float64 { return dLogPosterior(a, l.y, l.mu) }

// lineSearch is DESeq2's line search (DESeq2.cpp fitDisp) for a = ln α
// from a0: Armijo steps along ℓ′ with step κ (κ₀ = 1, ε = 1e-4), κ halved on
// a failed try, raised by 1.1 (at most 1) and halved on every fifth accepted
// step; it stops when ℓ rises by less than 1e-6, when a falls below
// ln(1e-9), or after 100 tries. It returns the final a and ℓ, the initial ℓ,
// and the number of tries.
func lineSearch(obj dispersionObjective, a0 float64) (a, lp, lp0 float64, iter int) {
	a = a0
	lp = obj.logPost(a)
	lp0 = lp
	dlp := obj.dLogPost(a)
	kappa := 1.0
	accepted := 0
	aMin := math.Log(minDisp / 10)
	for t := 0; t < dispMaxIter; t++ {
		iter++
		if p := a + kappa*dlp; p < logAlphaLow {
			kappa = (logAlphaLow - a) / dlp
		} else if p > logAlphaHigh {
			kappa = (logAlphaHigh - a) / dlp
		}
		thetaKappa := -obj.logPost(a + kappa*dlp)
		thetaHat := -lp - kappa*armijoEps*dlp*dlp
		if thetaKappa <= thetaHat {
			accepted++
			a += kappa * dlp
			lpNew := obj.logPost(a)
			if lpNew-lp < dispTol {
				lp = lpNew
				break
			}
			if a < aMin {
				break
			}
			lp = lpNew
			dlp = obj.dLogPost(a)
			kappa = math.Min(kappa*1.1, 1)
			if accepted%5 == 0 {
				kappa /= 2
			}
		} else {
			kappa /= 2
		}
	}
	return a, lp, lp0, iter
}

// gridSearch is DESeq2's fitDispGrid: the objective on the coarse grid of
// ln α (20 points from ln 1e-8 to ln maxDisp), then on as many points from
// â-δ to â+δ around the first maximum â (δ the coarse spacing); the first
// maximum of the fine grid is the result. lp and fine are scratch of
// len(grid).
func gridSearch(obj dispersionObjective, grid, lp, fine []float64) float64 {
	best := func(g []float64) float64 {
		k := 0
		for i, a := range g {
			lp[i] = obj.logPost(a)
			if lp[i] > lp[k] {
				k = i
			}
		}
		return g[k]
	}
	aHat := best(grid)
	delta := grid[1] - grid[0]
	lo, hi := aHat-delta, aHat+delta
	step := (hi - lo) / float64(len(fine)-1)
	for i := range fine {
		fine[i] = lo + float64(i)*step
	}
	fine[len(fine)-1] = hi
	return best(fine)
}

// gridSearch is the grid search of counts y with the fitter's means.
func (f *dispersionFitter) gridSearch(y []float64) float64 {
	f.like = nbLikelihood{y: y, mu: f.mu}
	return gridSearch(&f.like, f.grid, f.lp, f.fine)
}

// logPosterior is the Cox–Reid adjusted negative binomial log likelihood of
// a = ln α for counts y with means μ (DESeq2.cpp log_posterior without a
// prior or weights), r = 1/α:
//
//	ℓ(a) = Σ_j[lnΓ(y_j+r) - lnΓ(r) - y_j ln(μ_j+r) - r ln(1+μ_jα)] - ½ ln Σ_j (1/μ_j + α)⁻¹
//
// The last term is -½ ln det XᵀWX for the intercept-only design.
func logPosterior(a float64, y, mu []float64) float64 {
	alpha := math.Exp(a)
	r := 1 / alpha
	lgr, _ := math.Lgamma(r)
	var ll, w float64
	for j, yj := range y {
		lg, _ := math.Lgamma(yj + r)
		ll += lg - lgr - yj*math.Log(mu[j]+r) - r*math.Log(1+mu[j]*alpha)
		w += 1 / (1/mu[j] + alpha)
	}
	return ll + -0.5*math.Log(w)
}

// dLogPosterior is dℓ/da (DESeq2.cpp dlog_posterior), with ψ the digamma
// function and w_j = (1/μ_j + α)⁻¹, w′_j = -(1/μ_j + α)⁻²:
//
//	ℓ′(a) = α·( r²·Σ_j[ψ(r) + ln(1+μ_jα) - μ_jα/(1+μ_jα) - ψ(y_j+r) + y_j/(μ_j+r)] - ½ Σ_j w′_j / Σ_j w_j )
//
// written in DESeq2's shapes (x·(1/y) where it multiplies by pow(y, -1)).
func dLogPosterior(a float64, y, mu []float64) float64 {
	alpha := math.Exp(a)
	r := 1 / alpha
	r2 := 1 / (alpha * alpha)
	psiR := kernels.Digamma(r)
	var s, w, dw float64
	for j, yj := range y {
		ma := mu[j] * alpha
		s += psiR + math.Log(1+ma) - ma*(1/(1+ma)) - kernels.Digamma(yj+r) + yj*(1/(mu[j]+r))
		v := 1/mu[j] + alpha
		w += 1 / v
		dw += -1 * (1 / (v * v))
	}
	dll := r2 * s
	ddet := w * ((1 / w) * dw) // det(B)·trace(B⁻¹ dB) for the 1x1 B = Σw
	cr := -0.5 * ddet / w
	return (dll + cr) * alpha
}
