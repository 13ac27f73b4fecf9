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
// a when usePrior. Its derivative without the prior is like's.
type nbPosterior struct {
	like                nbLikelihood // the counts, the means, and dℓ/da
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
	for j, yj := range p.like.y {
		mu := p.like.mu[j]
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

// dLogPost is d logPost/da: nbLikelihood's plus the prior's -(a-m)/v.
func (p *nbPosterior) dLogPost(a float64) float64 {
	d := p.like.dLogPost(a)
	if p.usePrior {
		d += -1 * (a - p.priorMean) / p.priorVar
	}
	return d
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
	f.post.like.setGene(y, f.mu)
	f.post.usePrior = false
	est, iter, grid := geneWiseEstimate(&f.post, init, f.maxDisp, f.grid, f.lp, f.fine)
	return GeneDispersion{BaseMean: bm, Initial: init, Estimate: est, Iter: iter, Grid: grid}
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
	f.post.like.setGene(y, f.mu)
	f.post.usePrior, f.post.priorMean, f.post.priorVar = true, math.Log(fit), priorVar
	init := fit
	if g.Estimate > 0.1*fit {
		init = g.Estimate
	}
	a, _, _, iter := lineSearch(&f.post, math.Log(init))
	if iter >= dispMaxIter {
		a = gridSearch(&f.post, f.grid, f.lp, f.fine)
	}
	return math.Min(math.Max(math.Exp(a), minDisp), f.maxDisp)
}
