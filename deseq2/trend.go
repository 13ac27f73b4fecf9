package deseq2

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/colnorm/colnorm/kernels"
)

// FitType names DESeq2's dispersion trends that colnorm reproduces.
type FitType string

const (
	// Parametric is α(μ) = a₀ + a₁/μ (DESeq2's default).
	Parametric FitType = "parametric"
	// MeanFit is one dispersion for every gene: the trimmed mean of the
	// gene-wise estimates (fitType "mean").
	MeanFit FitType = "mean"
)

// Trend is a fitted dispersion trend.
type Trend struct {
	Type     FitType
	A0, A1   float64 // parametric: asymptotic dispersion and extra-Poisson term
	MeanDisp float64 // mean: the trimmed mean dispersion
	Genes    int     // genes the fit used
	// Fallback, when not empty, says why the parametric fit failed and the
	// mean was used instead (DESeq2 itself would switch to a locfit fit).
	Fallback string
}

// ErrTrendFailed is returned (wrapped) when the parametric fit fails.
var ErrTrendFailed = errors.New("parametric dispersion fit failed")

// FitTrend fits the dispersion trend through the gene-wise estimates of the
// genes that are not all zero (DESeq2 estimateDispersionsFit). For
// Parametric it falls back to MeanFit with Trend.Fallback set where DESeq2's
// parametric fit fails; it errors when no estimate is usable.
func FitTrend(genes []GeneDispersion, fit FitType) (*Trend, error) {
	var means, disps []float64
	for _, g := range genes {
		if g.Estimate > 100*minDisp {
			means = append(means, g.BaseMean)
			disps = append(disps, g.Estimate)
		}
	}
	if len(disps) == 0 {
		return nil, errors.New("all gene-wise dispersion estimates are within 2 orders of magnitude of the minimum value (1e-8): the counts are close to Poisson and no trend can be fitted; use log2 instead")
	}
	if fit == Parametric {
		a0, a1, err := ParametricTrend(means, disps)
		if err == nil {
			return &Trend{Type: Parametric, A0: a0, A1: a1, Genes: len(disps)}, nil
		}
		t := meanTrend(genes)
		t.Fallback = err.Error()
		return t, nil
	}
	if fit != MeanFit {
		return nil, fmt.Errorf("deseq2: unknown fit type %q (parametric or mean)", fit)
	}
	return meanTrend(genes), nil
}

// meanTrend is fitType "mean": the mean of the estimates above 1e-7, trimmed
// by ⌊0.001·n⌋ values at each end (R's mean(x, trim = 0.001)).
func meanTrend(genes []GeneDispersion) *Trend {
	var use []float64
	for _, g := range genes {
		if g.Estimate > 10*minDisp {
			use = append(use, g.Estimate)
		}
	}
	slices.Sort(use)
	k := int(math.Floor(float64(len(use)) * 0.001))
	return &Trend{Type: MeanFit, MeanDisp: kernels.MeanR(use[k : len(use)-k]), Genes: len(use) - 2*k}
}

// ParametricTrend fits α = a₀ + a₁/μ to gene-wise estimates (DESeq2
// parametricDispersionFit): from (0.1, 1), repeatedly keep the genes whose
// residual α/(a₀ + a₁/μ) lies strictly in (1e-4, 15) and fit a Gamma GLM
// with identity link of α on (1, 1/μ) started at the current coefficients;
// stop when Σ ln²(new/old) < 1e-6 and the GLM converged. It fails when a
// coefficient is not positive, after more than 10 refits, or when the GLM
// cannot start or step.
func ParametricTrend(means, disps []float64) (a0, a1 float64, err error) {
	coef := [2]float64{0.1, 1}
	var y, x []float64
	for iter := 0; ; {
		y, x = y[:0], x[:0]
		for i, d := range disps {
			res := d / (coef[0] + coef[1]/means[i])
			if res > 1e-4 && res < 15 {
				y = append(y, d)
				x = append(x, 1/means[i])
			}
		}
		old := coef
		var converged bool
		coef, converged, err = gammaIdentityGLM(y, x, coef)
		if err != nil {
			return 0, 0, err
		}
		if coef[0] <= 0 || coef[1] <= 0 {
			return 0, 0, fmt.Errorf("%w: a coefficient is not positive (a0 = %g, a1 = %g)", ErrTrendFailed, coef[0], coef[1])
		}
		l0, l1 := math.Log(coef[0]/old[0]), math.Log(coef[1]/old[1])
		if l0*l0+l1*l1 < 1e-6 && converged {
			return coef[0], coef[1], nil
		}
		if iter++; iter > 10 {
			return 0, 0, fmt.Errorf("%w: no convergence after 10 refits", ErrTrendFailed)
		}
	}
}

// gammaIdentityGLM is R's glm.fit for family Gamma(link = "identity") with
// the model y ~ 1 + x, started at start (ε = 1e-8, 25 iterations): iterated
// weighted least squares with weights 1/μ², step halving towards the
// previous coefficients while the deviance is not finite or some μ ≤ 0, and
// convergence when |dev - dev_old|/(|dev| + 0.1) < 1e-8.
func gammaIdentityGLM(y, x []float64, start [2]float64) (coef [2]float64, converged bool, err error) {
	mu := make([]float64, len(y))
	predict := func(b [2]float64) bool {
		ok := true
		for i := range mu {
			mu[i] = b[0] + x[i]*b[1]
			if !(mu[i] > 0) || math.IsInf(mu[i], 0) {
				ok = false
			}
		}
		return ok
	}
	deviance := func() float64 {
		d := make([]float64, len(y))
		for i, yi := range y {
			r := yi / mu[i]
			if yi == 0 {
				r = 1
			}
			d[i] = -2 * (math.Log(r) - (yi-mu[i])/mu[i])
		}
		return kernels.SumCompensated(d)
	}
	if len(y) < 2 {
		return start, false, fmt.Errorf("%w: fewer than 2 genes to fit", ErrTrendFailed)
	}
	if !predict(start) {
		return start, false, fmt.Errorf("%w: the starting coefficients give a non-positive mean", ErrTrendFailed)
	}
	devOld := deviance()
	coef, coefOld := start, start
	z, w := make([]float64, len(y)), make([]float64, len(y))
	for iter := 0; iter < 25; iter++ {
		for i, yi := range y {
			z[i] = mu[i] + (yi - mu[i])
			w[i] = math.Sqrt(1 / (mu[i] * mu[i]))
		}
		next, ok := weightedLeastSquares2(x, z, w)
		if !ok {
			return coef, false, fmt.Errorf("%w: the weighted least-squares fit is singular", ErrTrendFailed)
		}
		predict(next)
		dev := deviance()
		for halve := 0; math.IsNaN(dev) || math.IsInf(dev, 0); halve++ {
			if halve >= 25 {
				return coef, false, fmt.Errorf("%w: cannot correct the step size", ErrTrendFailed)
			}
			next = [2]float64{(next[0] + coefOld[0]) / 2, (next[1] + coefOld[1]) / 2}
			predict(next)
			dev = deviance()
		}
		if !predict(next) {
			for halve := 0; !predict(next); halve++ {
				if halve >= 25 {
					return coef, false, fmt.Errorf("%w: cannot correct the step size", ErrTrendFailed)
				}
				next = [2]float64{(next[0] + coefOld[0]) / 2, (next[1] + coefOld[1]) / 2}
			}
			dev = deviance()
		}
		if math.Abs(dev-devOld)/(math.Abs(dev)+0.1) < 1e-8 {
			return next, true, nil
		}
		devOld = dev
		coef, coefOld = next, next
	}
	return coef, false, nil
}

// weightedLeastSquares2 solves min Σ w_i²(z_i - b₀ - b₁x_i)² by a QR
// factorisation (modified Gram–Schmidt) of the weighted columns (w, w·x).
func weightedLeastSquares2(x, z, w []float64) (b [2]float64, ok bool) {
	n := len(x)
	q1, q2, wz := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x {
		q1[i], q2[i], wz[i] = w[i], x[i]*w[i], z[i]*w[i]
	}
	r11 := math.Sqrt(dot(q1, q1))
	if r11 == 0 {
		return b, false
	}
	for i := range q1 {
		q1[i] /= r11
	}
	r12 := dot(q1, q2)
	for i := range q2 {
		q2[i] -= r12 * q1[i]
	}
	r22 := math.Sqrt(dot(q2, q2))
	if r22 <= 1e-11*r11 {
		return b, false
	}
	for i := range q2 {
		q2[i] /= r22
	}
	c1, c2 := dot(q1, wz), dot(q2, wz)
	b[1] = c2 / r22
	b[0] = (c1 - r12*b[1]) / r11
	return b, true
}

// dot is Σ a_i b_i, compensated.
func dot(a, b []float64) float64 {
	var s, c float64
	for i := range a {
		p := a[i] * b[i]
		t := s + p
		if math.Abs(s) >= math.Abs(p) {
			c += (s - t) + p
		} else {
			c += (p - t) + s
		}
		s = t
	}
	return s + c
}
