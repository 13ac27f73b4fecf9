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
	f.like.setGene(y, f.mu)
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

// lineSearch is DESeq2's line search (DESeq2.cpp fitDisp) for a = ln α
// from a0: Armijo steps along ℓ′ with step κ (κ₀ = 1, ε = 1e-4), κ halved on
// a failed try, raised by 1.1 (at most 1) and halved on every fifth accepted
// step; it stops when ℓ rises by less than 1e-6, when a falls below
// ln(1e-9), or after 100 tries. It returns the final a and ℓ, the initial ℓ,
// and the number of tries. obj must be a function of a alone (no state
// that changes its values between calls): ℓ of an accepted try is reused.
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
		aTry := a + kappa*dlp
		lpTry := obj.logPost(aTry)
		thetaKappa := -lpTry
		thetaHat := -lp - kappa*armijoEps*dlp*dlp
		if thetaKappa <= thetaHat {
			accepted++
			// DESeq2 evaluates ℓ at the accepted point again: the value
			// of the try, as ℓ is a function of a alone.
			a = aTry
			lpNew := lpTry
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
	f.like.setGene(y, f.mu)
	return gridSearch(&f.like, f.grid, f.lp, f.fine)
}

// nbLikelihood is the Cox–Reid adjusted negative binomial log likelihood of
// a = ln α for one gene's counts y with means μ (DESeq2.cpp log_posterior
// and dlog_posterior without a prior or weights), r = 1/α:
//
//	ℓ(a) = Σ_j[lnΓ(y_j+r) - lnΓ(r) - y_j ln(μ_j+r) - r ln(1+μ_jα)] - ½ ln Σ_j (1/μ_j + α)⁻¹
//
// The last term is -½ ln det XᵀWX for the intercept-only design.
//
// It sums the terms in sample order, as DESeq2 does, with fewer calls of
// the special functions:
//   - One logarithm per sample: ln(μ_j+r) is taken as ln r + ln(1+μ_jα)
//     (μ_j+r = r·(1+μ_jα)), with ln r once per evaluation. That changes
//     ℓ in its last bits (within 1e-14 of the magnitude of its terms,
//     TestNBLikelihoodOfPlainSums) and can move where a line search stops
//     by a step where those bits decide a comparison: on the reference
//     sets the VST moved by at most 2.6e-10 (synth_a; 3.6e-15 before),
//     well within the 1e-6 aimed at, while BenchmarkGeneDispersion fell
//     from 730 to 555 µs a gene (the logarithm was half of the time). R's
//     own logarithm and Go's already differ in last bits now and then.
//   - That logarithm, ln(1+μ_jα), is kernels.Ln rather than math.Log:
//     within 0.502 ulp in its tests and correctly rounded but for about
//     1 in 58,000 arguments (math.Log: 0.78 ulp, about 1 in 240), in
//     0.55 to 0.7 of math.Log's time. The two differ in the last bit now and
//     then, which again moves ℓ in its last bits and the VST on the
//     reference sets by at most 2.1e-10 (synth_a; 2.6e-10 with math.Log;
//     marioni 3.6e-15 -> 9.0e-13, nsub 1000 synth_a 9.4e-10 -> 7.6e-10).
//     BenchmarkGeneDispersion: 633 -> 511 µs a gene (the least of six
//     interleaved runs each). ln r, ln Σ_j w_j and the ln inside
//     math.Lgamma stay math.Log. logPost and dLogPost take it from one
//     loop, setLog1p, so both see the same values; so does nbPosterior's
//     derivative (nbPosterior's own ℓ keeps math.Log, as before).
//   - Within one evaluation (fixed r), equal counts have equal lnΓ(y+r)
//     and ψ(y+r): setGene gives every distinct whole count below countMemo
//     one slot (a table stamped with the gene's generation, so it is not
//     cleared per gene), every other count a slot of its own, and an
//     evaluation computes lnΓ or ψ once per slot. A zero count has
//     lnΓ(0+r) - lnΓ(r) = +0 (the same finite value twice, as r is
//     finite: a stays within [-30, 10] and the grids) and 0·ln(μ_j+r) = 0,
//     as in DESeq2.
//   - ln(1+μ_jα) of the last logPost is kept for a dLogPost at the same a,
//     which is where the line search asks for it; dLogPost keeps the bits
//     of DESeq2's sum.
type nbLikelihood struct {
	y, mu []float64
	invMu []float64 // 1/μ_j, as both sums divide by μ_j
	// slot[j] indexes sample j's count in value, the gene's distinct counts.
	slot  []int32
	value []float64
	// lg and psi are lnΓ(value+r) and ψ(value+r) of one evaluation.
	lg, psi []float64
	// memoSlot[k] is count k's slot when memoGen[k] == gen.
	memoSlot [countMemo]int32
	memoGen  [countMemo]uint32
	gen      uint32
	// log1pAt is ln(1+μ_jα) per sample at a = lastA, when haveLast.
	log1pAt  []float64
	lastA    float64
	haveLast bool
}

// countMemo bounds the whole counts that share a slot per gene.
const countMemo = 1024

// setGene makes l the likelihood of counts y with means mu, reusing l's
// scratch. y and mu are held, not copied: they must not change until the
// next setGene.
func (l *nbLikelihood) setGene(y, mu []float64) {
	l.y, l.mu, l.haveLast = y, mu, false
	m := len(y)
	if cap(l.slot) < m {
		l.invMu = make([]float64, m)
		l.slot = make([]int32, m)
		l.value = make([]float64, m)
		l.lg, l.psi = make([]float64, m), make([]float64, m)
		l.log1pAt = make([]float64, m)
	}
	l.slot, l.log1pAt, l.invMu = l.slot[:m], l.log1pAt[:m], l.invMu[:m]
	for j, v := range mu {
		l.invMu[j] = 1 / v
	}
	if l.gen++; l.gen == 0 { // wrapped: forget every stamp
		l.memoGen = [countMemo]uint32{}
		l.gen = 1
	}
	n := int32(0)
	l.value = l.value[:m]
	for j, c := range y {
		if k := uint(int(c)); k < countMemo && float64(k) == c {
			if l.memoGen[k] != l.gen {
				l.memoGen[k], l.memoSlot[k] = l.gen, n
				l.value[n] = c
				n++
			}
			l.slot[j] = l.memoSlot[k]
			continue
		}
		l.slot[j] = n
		l.value[n] = c
		n++
	}
	l.value = l.value[:n]
	l.lg, l.psi = l.lg[:n], l.psi[:n]
}

// logPost is ℓ(a).
func (l *nbLikelihood) logPost(a float64) float64 {
	alpha := math.Exp(a)
	r := 1 / alpha
	lnR := math.Log(r)
	lgr, _ := math.Lgamma(r)
	for k, v := range l.value {
		l.lg[k], _ = math.Lgamma(v + r)
	}
	l.setLog1p(a, alpha)
	var ll, w float64
	for j, yj := range l.y {
		log1p := l.log1pAt[j]
		// y_j ln(μ_j+r), with ln(μ_j+r) = ln r + ln(1+μ_jα): +0 for a
		// zero count, as DESeq2's 0·ln(μ_j+r).
		ylog := yj * (lnR + log1p)
		ll += l.lg[l.slot[j]] - lgr - ylog - r*log1p
		w += 1 / (l.invMu[j] + alpha)
	}
	return ll + -0.5*math.Log(w)
}

// setLog1p sets log1pAt[j] = ln(1+μ_jα) by kernels.Ln for a = ln α, in a
// loop of its own (a call in the sums' loop would spill their registers).
func (l *nbLikelihood) setLog1p(a, alpha float64) {
	mu := l.mu
	dst := l.log1pAt[:len(mu)]
	for j, m := range mu {
		dst[j] = kernels.Ln(1 + m*alpha)
	}
	l.lastA, l.haveLast = a, true
}

// dLogPost is dℓ/da (DESeq2.cpp dlog_posterior), with ψ the digamma
// function and w_j = (1/μ_j + α)⁻¹, w′_j = -(1/μ_j + α)⁻²:
//
//	ℓ′(a) = α·( r²·Σ_j[ψ(r) + ln(1+μ_jα) - μ_jα/(1+μ_jα) - ψ(y_j+r) + y_j/(μ_j+r)] - ½ Σ_j w′_j / Σ_j w_j )
//
// written in DESeq2's shapes (x·(1/y) where it multiplies by pow(y, -1)).
func (l *nbLikelihood) dLogPost(a float64) float64 {
	alpha := math.Exp(a)
	r := 1 / alpha
	r2 := 1 / (alpha * alpha)
	psiR := kernels.Digamma(r)
	for k, v := range l.value {
		l.psi[k] = kernels.Digamma(v + r)
	}
	if !l.haveLast || l.lastA != a {
		l.setLog1p(a, alpha)
	}
	var s, w, dw float64
	for j, yj := range l.y {
		mu := l.mu[j]
		ma := mu * alpha
		s += psiR + l.log1pAt[j] - ma*(1/(1+ma)) - l.psi[l.slot[j]] + yj*(1/(mu+r))
		v := l.invMu[j] + alpha
		w += 1 / v
		dw += -1 * (1 / (v * v))
	}
	dll := r2 * s
	ddet := w * ((1 / w) * dw) // det(B)·trace(B⁻¹ dB) for the 1x1 B = Σw
	cr := -0.5 * ddet / w
	return (dll + cr) * alpha
}
