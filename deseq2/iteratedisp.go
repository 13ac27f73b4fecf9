package deseq2

import (
	"math"

	"github.com/colnorm/colnorm/kernels"
)

// The dispersion fits of estimateDispersions(fitType = "mean") for the
// iterative size factors: the gene-wise estimates (as dispersionFitter) and
// the MAP estimates with DESeq2's normal prior on ln α. They are the same
// line and grid searches, but the likelihood takes ln Γ from lgammaR, R's
// own lgammafn above 10. That matters here and not for the VST: where the
// counts are close to Poisson the likelihood is flat below α ≈ 1e-6, and
// the grid search picks among values that differ only by the rounding of
// ln Γ(1/α) ≈ 1.7e9; the mean trend then counts such a gene when its
// estimate lands above 1e-7 and not otherwise.

// nbPosterior is DESeq2's log posterior of a = ln α for one gene (DESeq2.cpp
// log_posterior, dlog_posterior), with the prior N(priorMean, priorVar) on
// a when usePrior.
type nbPosterior struct {
	y, mu               []float64
	usePrior            bool
	priorMean, priorVar float64
}

// logPost is
//
//	Σ_j[lnΓ(y_j+r) - lnΓ(r) - y_j ln(μ_j+r) - r ln(1+μ_jα)] - (a-m)²/(2v) - ½ ln Σ_j (1/μ_j + α)⁻¹
//
// with r = 1/α, summed in DESeq2's order.
func (p *nbPosterior) logPost(a float64) float64 {
	alpha := math.Exp(a)
	r := 1 / alpha
	lgr := lgammaR(r)
	var ll, w float64
	for j, yj := range p.y {
		mu := p.mu[j]
		ll += lgammaR(yj+r) - lgr - yj*math.Log(mu+r) - r*math.Log(1+mu*alpha)
		w += 1 / (1/mu + alpha)
	}
	prior := 0.0
	if p.usePrior {
		d := a - p.priorMean
		prior = -0.5 * (d * d) / p.priorVar
	}
	return ll + prior + -0.5*math.Log(w)
}

// dLogPost is d logPost/da: dLogPosterior plus the prior's -(a-m)/v.
func (p *nbPosterior) dLogPost(a float64) float64 {
	d := dLogPosterior(a, p.y, p.mu)
	if p.usePrior {
		d += -1 * (a - p.priorMean) / p.priorVar
	}
	return d
}

// lineSearch is DESeq2's fitDisp from a0 (see fitLogDispersion): it returns
// the final a and posterior, the initial posterior, and the tries.
func (p *nbPosterior) lineSearch(a0 float64) (a, lp, lp0 float64, iter int) {
	a = a0
	lp = p.logPost(a)
	lp0 = lp
	dlp := p.dLogPost(a)
	kappa := 1.0
	accepted := 0
	aMin := math.Log(minDisp / 10)
	for t := 0; t < dispMaxIter; t++ {
		iter++
		if prop := a + kappa*dlp; prop < logAlphaLow {
			kappa = (logAlphaLow - a) / dlp
		} else if prop > logAlphaHigh {
			kappa = (logAlphaHigh - a) / dlp
		}
		thetaKappa := -p.logPost(a + kappa*dlp)
		thetaHat := -lp - kappa*armijoEps*dlp*dlp
		if thetaKappa <= thetaHat {
			accepted++
			a += kappa * dlp
			lpNew := p.logPost(a)
			if lpNew-lp < dispTol {
				lp = lpNew
				break
			}
			if a < aMin {
				break
			}
			lp = lpNew
			dlp = p.dLogPost(a)
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

// gridSearch is DESeq2's fitDispGrid: the posterior on the coarse grid of
// ln α, then on as many points within one coarse step of the first maximum;
// the first maximum of the fine grid. lp and fine are scratch of len(grid).
func (p *nbPosterior) gridSearch(grid, lp, fine []float64) float64 {
	best := func(g []float64) float64 {
		k := 0
		for i, a := range g {
			lp[i] = p.logPost(a)
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

// iterFitter holds one worker's scratch for the dispersion fits.
type iterFitter struct {
	sf, q, mu, tmp []float64
	xi, maxDisp    float64
	grid, lp, fine []float64
	post           nbPosterior
}

func newIterFitter(sf []float64) *iterFitter {
	m := len(sf)
	inv := make([]float64, m)
	for j, s := range sf {
		inv[j] = 1 / s
	}
	maxDisp := MaxDispersion(m)
	return &iterFitter{sf: sf, q: make([]float64, m), mu: make([]float64, m), tmp: make([]float64, m),
		xi: kernels.MeanR(inv), maxDisp: maxDisp,
		grid: seqLength(math.Log(minDisp), math.Log(maxDisp), gridPoints),
		lp:   make([]float64, gridPoints), fine: make([]float64, gridPoints)}
}

// geneWise is estimateDispersionsGeneEst for one gene that is not all zero
// (as dispersionFitter.gene): the moments start, the line search, the start
// kept where the likelihood did not rise, and the grid where the search did
// not converge.
func (f *iterFitter) geneWise(y []float64) GeneDispersion {
	for j, c := range y {
		f.q[j] = c / f.sf[j]
	}
	bm, init := startingDispersion(f.q, f.tmp, f.xi, f.maxDisp)
	for j, s := range f.sf {
		f.mu[j] = math.Max(bm*s, minMu)
	}
	f.post = nbPosterior{y: y, mu: f.mu}
	a, lp, lp0, iter := f.post.lineSearch(math.Log(init))
	est := math.Min(math.Exp(a), f.maxDisp)
	if lp < lp0+math.Abs(lp0)/1e6 {
		est = init
	}
	d := GeneDispersion{BaseMean: bm, Initial: init, Iter: iter}
	if converged := iter < dispMaxIter && iter != 1; !converged && est > minDisp*10 {
		est = math.Exp(f.post.gridSearch(f.grid, f.lp, f.fine))
		d.Grid = true
	}
	d.Estimate = math.Min(math.Max(est, minDisp), f.maxDisp)
	return d
}

// mapEstimate is estimateDispersionsMAP for one gene with gene-wise fit g:
// with the means max(baseMean·s_j, 0.5), the line search on the posterior with the prior
// N(ln fit, priorVar) from g's estimate (the trend where that is at most a
// tenth of it), the grid where it does not converge, bounded to
// [1e-8, maxDisp].
func (f *iterFitter) mapEstimate(y []float64, g GeneDispersion, fit, priorVar float64) float64 {
	for j, s := range f.sf {
		f.mu[j] = math.Max(g.BaseMean*s, minMu)
	}
	f.post = nbPosterior{y: y, mu: f.mu, usePrior: true, priorMean: math.Log(fit), priorVar: priorVar}
	init := fit
	if g.Estimate > 0.1*fit {
		init = g.Estimate
	}
	a, _, _, iter := f.post.lineSearch(math.Log(init))
	if iter >= dispMaxIter {
		a = f.post.gridSearch(f.grid, f.lp, f.fine)
	}
	return math.Min(math.Max(math.Exp(a), minDisp), f.maxDisp)
}
