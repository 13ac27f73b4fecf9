package deseq2

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/colnorm/colnorm/kernels"
)

// refLogPosterior is ℓ(a) summed term by term as DESeq2.cpp writes it, one
// lnΓ and two logarithms per sample: the plain form nbLikelihood.logPost
// must reproduce to within the rounding of its terms (refLogPosteriorScale).
func refLogPosterior(a float64, y, mu []float64) float64 {
	ll, _ := refLogPosteriorTerms(a, y, mu)
	return ll
}

// refLogPosteriorScale is the sum of the magnitudes of the terms of
// refLogPosterior: the scale of the rounding of any way of summing them.
func refLogPosteriorScale(a float64, y, mu []float64) float64 {
	_, scale := refLogPosteriorTerms(a, y, mu)
	return scale
}

// refLogPosteriorTerms is refLogPosterior and refLogPosteriorScale.
func refLogPosteriorTerms(a float64, y, mu []float64) (ll, scale float64) {
	alpha := math.Exp(a)
	r := 1 / alpha
	lgr, _ := math.Lgamma(r)
	var w float64
	for j, yj := range y {
		lg, _ := math.Lgamma(yj + r)
		ylog, rlog := yj*math.Log(mu[j]+r), r*math.Log(1+mu[j]*alpha)
		ll += lg - lgr - ylog - rlog
		scale += math.Abs(lg) + math.Abs(lgr) + math.Abs(ylog) + math.Abs(rlog)
		w += 1 / (1/mu[j] + alpha)
	}
	return ll + -0.5*math.Log(w), scale + math.Abs(0.5*math.Log(w))
}

// refDLogPosterior is ℓ′(a) in the same plain form, one ψ and one
// logarithm per sample.
func refDLogPosterior(a float64, y, mu []float64) float64 {
	alpha := math.Exp(a)
	r := 1 / alpha
	r2 := 1 / (alpha * alpha)
	psiR := kernels.Digamma(r)
	var s, w, dw float64
	for j, yj := range y {
		ma := mu[j] * alpha
		s += psiR + kernels.Ln(1+ma) - ma*(1/(1+ma)) - kernels.Digamma(yj+r) + yj*(1/(mu[j]+r))
		v := 1/mu[j] + alpha
		w += 1 / v
		dw += -1 * (1 / (v * v))
	}
	dll := r2 * s
	ddet := w * ((1 / w) * dw)
	cr := -0.5 * ddet / w
	return (dll + cr) * alpha
}

// refNBPosterior is nbPosterior.logPost in the plain form (R's lnΓ, prior).
func refNBPosterior(a float64, y, mu []float64, priorMean, priorVar float64) float64 {
	alpha := math.Exp(a)
	r := 1 / alpha
	lgr := lgammaR(r)
	var ll, w float64
	for j, yj := range y {
		ll += lgammaR(yj+r) - lgr - yj*math.Log(mu[j]+r) - r*math.Log(1+mu[j]*alpha)
		w += 1 / (1/mu[j] + alpha)
	}
	d := a - priorMean
	return ll + -0.5*(d*d)/priorVar + -0.5*math.Log(w)
}

// varietyGenes are genes of m samples with what the slots must tell apart:
// all-zero and mostly-zero genes, small whole counts with many ties, counts
// about the memo's bound, large counts, fractional counts; means from the
// floor 0.5 up.
func varietyGenes(m int) (ys, mus [][]float64) {
	rng := rand.New(rand.NewPCG(7, 11))
	for g := 0; g < 40; g++ {
		y, mu := make([]float64, m), make([]float64, m)
		for j := range y {
			switch g % 8 {
			case 0: // mostly zero
				if rng.IntN(4) == 0 {
					y[j] = float64(rng.IntN(3))
				}
			case 1: // small counts, many ties
				y[j] = float64(rng.IntN(12))
			case 2: // about the memo's bound
				y[j] = float64(countMemo - 3 + rng.IntN(6))
			case 3: // large
				y[j] = float64(rng.IntN(1_000_000))
			case 4: // fractional (Salmon-like)
				y[j] = float64(rng.IntN(50)) + 0.25*float64(rng.IntN(4))
			case 5: // all zero but one
				if j == g%m {
					y[j] = 1
				}
			default: // a mixture
				y[j] = []float64{0, 1, 7, 300, 1023, 1024, 5000, 2.5}[rng.IntN(8)]
			}
			mu[j] = math.Max(0.5, math.Exp(rng.Float64()*12-2))
		}
		ys, mus = append(ys, y), append(mus, mu)
	}
	return ys, mus
}

// nbLikelihood's slots and cached logarithms give the plain sums: ℓ within
// 1e-14 of the magnitude of its terms (it takes ln(μ+r) as ln r +
// ln(1+μα)), ℓ′ with exactly its bits; for one likelihood reused gene
// after gene, for ln α from the bottom of the line search's range to its
// top, and for ℓ′ asked at the a of the last ℓ (its cached logarithms), at
// another a, and first.
func TestNBLikelihoodOfPlainSums(t *testing.T) {
	ys, mus := varietyGenes(37)
	as := []float64{-30, math.Log(1e-8), -9.5, math.Log(0.05), -1, 0, 0.7, math.Log(37), 10}
	var like nbLikelihood
	checks := 0
	for g := range ys {
		y, mu := ys[g], mus[g]
		like.setGene(y, mu)
		if g == 17 { // the generation wraps to 1: stamps of 1 are stale then
			like.gen = math.MaxUint32
			for k := range like.memoGen {
				like.memoGen[k], like.memoSlot[k] = 1, 0
			}
			like.setGene(y, mu)
		}
		for i, a := range as {
			if i%3 == 0 { // ℓ′ before any ℓ at this a
				if got, want := like.dLogPost(a), refDLogPosterior(a, y, mu); math.Float64bits(got) != math.Float64bits(want) {
					t.Errorf("gene %d a=%v: ℓ′ first %v, plain %v", g, a, got, want)
				}
			}
			if got, want := like.logPost(a), refLogPosterior(a, y, mu); math.Abs(got-want) > 1e-14*refLogPosteriorScale(a, y, mu) {
				t.Errorf("gene %d a=%v: ℓ %v, plain %v (%.3g of the terms' magnitude)", g, a, got, want, math.Abs(got-want)/refLogPosteriorScale(a, y, mu))
			}
			if got, want := like.dLogPost(a), refDLogPosterior(a, y, mu); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("gene %d a=%v: ℓ′ after ℓ %v, plain %v", g, a, got, want)
			}
			b := a + 0.375 // ℓ′ away from the cached a
			if got, want := like.dLogPost(b), refDLogPosterior(b, y, mu); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("gene %d a=%v: ℓ′ elsewhere %v, plain %v", g, b, got, want)
			}
			checks += 4
		}
	}
	if checks < 1000 {
		t.Fatalf("only %d checks", checks)
	}
}

// nbPosterior (R's lnΓ and the prior) keeps the bits of its plain form,
// with its derivative from nbLikelihood.
func TestNBPosteriorBitsOfPlainSums(t *testing.T) {
	ys, mus := varietyGenes(9)
	var p nbPosterior
	for g := range ys {
		p.like.setGene(ys[g], mus[g])
		p.usePrior, p.priorMean, p.priorVar = true, math.Log(0.1), 1.5
		for _, a := range []float64{-18, -4, -1.25, 0.5, 3} {
			if got, want := p.logPost(a), refNBPosterior(a, ys[g], mus[g], p.priorMean, p.priorVar); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("gene %d a=%v: posterior %v, plain %v", g, a, got, want)
			}
			want := refDLogPosterior(a, ys[g], mus[g]) + -1*(a-p.priorMean)/p.priorVar
			if got := p.dLogPost(a); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("gene %d a=%v: posterior′ %v, plain %v", g, a, got, want)
			}
		}
	}
}

// The line search and the grid search reach the same estimates with the
// plain sums as with nbLikelihood, gene by gene.
type plainLikelihood struct{ y, mu []float64 }

func (p *plainLikelihood) logPost(a float64) float64  { return refLogPosterior(a, p.y, p.mu) }
func (p *plainLikelihood) dLogPost(a float64) float64 { return refDLogPosterior(a, p.y, p.mu) }

func TestGeneWiseEstimateBitsOfPlainSums(t *testing.T) {
	ys, _ := varietyGenes(23)
	sf := make([]float64, 23)
	for j := range sf {
		sf[j] = 0.5 + float64(j)/20
	}
	f := newDispersionFitter(sf, MaxDispersion(len(sf)))
	fitted := 0
	for g, y := range ys {
		got, ok := f.gene(y)
		if !ok {
			continue
		}
		fitted++
		plain := &plainLikelihood{y: y, mu: f.mu}
		est, iter, grid := geneWiseEstimate(plain, got.Initial, f.maxDisp, f.grid, f.lp, f.fine)
		if math.Float64bits(est) != math.Float64bits(got.Estimate) || iter != got.Iter || grid != got.Grid {
			t.Errorf("gene %d: estimate %v (%d tries, grid %v), plain %v (%d, %v)", g, got.Estimate, got.Iter, got.Grid, est, iter, grid)
		}
		want := gridSearch(plain, f.grid, make([]float64, gridPoints), make([]float64, gridPoints))
		if a := f.gridSearch(y); math.Float64bits(a) != math.Float64bits(want) {
			t.Errorf("gene %d: grid search %v, plain %v", g, a, want)
		}
	}
	if fitted < 30 {
		t.Fatalf("only %d genes fitted", fitted)
	}
}

// refLineSearch is lineSearch as DESeq2.cpp fitDisp writes it, evaluating
// ℓ again at each accepted point.
func refLineSearch(obj dispersionObjective, a0 float64) (a, lp, lp0 float64, iter int) {
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

// lineSearch, which takes ℓ of an accepted try from the try, ends where the
// search that evaluates it again ends, with the same bits, from starts over
// the whole range of ln α (both on nbLikelihood).
func TestLineSearchReusesTries(t *testing.T) {
	ys, mus := varietyGenes(15)
	var like nbLikelihood
	long := 0
	for g := range ys {
		like.setGene(ys[g], mus[g])
		for _, a0 := range []float64{math.Log(1e-8), -5, -1, 1, 2.5} {
			a, lp, lp0, iter := lineSearch(&like, a0)
			var again nbLikelihood
			again.setGene(ys[g], mus[g])
			ra, rlp, rlp0, riter := refLineSearch(&again, a0)
			if math.Float64bits(a) != math.Float64bits(ra) || math.Float64bits(lp) != math.Float64bits(rlp) ||
				math.Float64bits(lp0) != math.Float64bits(rlp0) || iter != riter {
				t.Errorf("gene %d from %v: (%v %v %v %d), DESeq2's loop (%v %v %v %d)", g, a0, a, lp, lp0, iter, ra, rlp, rlp0, riter)
			}
			if iter > 3 {
				long++
			}
		}
	}
	if long < 20 {
		t.Fatalf("only %d searches took more than 3 tries", long)
	}
}
