package combatseq

import "math"

// Negative binomial GLM fits of one gene, as edgeR 3.40.2 computes them
// (glmFit.default: mglmOneGroup/mglmOneWay or mglmLevenberg; predFC for
// prior counts). y, offsets and dispersions have one value per sample.

const (
	oneGroupMaxit = 50
	oneGroupTol   = 1e-10
	lmMaxit       = 250 // glmFit.default passes 250
	lmTol         = 1e-6
	lowValue      = 1e-10
)

// oneGroup is edgeR's glm_one_group: the maximum likelihood log-mean β of
// counts y with offsets o and dispersions phi sharing one coefficient
// (μ_j = exp(β + o_j)). Start: β = ln(Σ_{y_j>1e-10} y_j/e^{o_j} / n); then
// Newton steps Σ(y-μ)/(1+φμ) / Σ μ/(1+φμ) until a step is below 1e-10 or
// 50 steps. A gene with no count above 1e-10 gives -Inf. expO holds
// e^{o_j} where the caller has them (nil: computed here).
func oneGroup(y, o, expO, phi []float64) float64 {
	beta := 0.0
	nonzero := false
	for j, v := range y {
		if v > lowValue {
			if expO != nil {
				beta += v / expO[j]
			} else {
				beta += v / math.Exp(o[j])
			}
			nonzero = true
		}
	}
	if !nonzero {
		return math.Inf(-1)
	}
	beta = math.Log(beta / float64(len(y)))
	for it := 0; it < oneGroupMaxit; it++ {
		dl, info := 0.0, 0.0
		for j, v := range y {
			mu := math.Exp(beta + o[j])
			den := 1 + mu*phi[j]
			dl += (v - mu) / den
			info += mu / den
		}
		step := dl / info
		beta += step
		if math.Abs(step) < oneGroupTol {
			break
		}
	}
	return beta
}

// unitDeviance is edgeR's compute_unit_nb_deviance: twice the difference
// of the saturated and fitted log-likelihoods of one count, with 1e-8 added
// to y and μ; the Poisson-like form for φ < 1e-4 (edgeR's source writes
// 2/3 in integer arithmetic, so that term is 0), the gamma form for
// μφ > 1e6.
func unitDeviance(y, mu, phi float64) float64 {
	y += 1e-8
	mu += 1e-8
	if phi < 1e-4 {
		resid := y - mu
		return 2 * (y*math.Log(y/mu) - resid - 0.5*resid*resid*phi*(1+phi*(0*resid-y)))
	}
	product := mu * phi
	if product > 1e6 {
		return 2 * ((y-mu)/mu - math.Log(y/mu)) * mu / (1 + product)
	}
	invphi := 1 / phi
	return 2 * (y*math.Log(y/mu) + (y+invphi)*math.Log((mu+invphi)/(y+invphi)))
}

// fitter holds the scratch space of one worker's fits; p is the number of
// coefficients of the design X (n samples x p, column-major).
type fitter struct {
	n, p int
	X    []float64

	// Levenberg-Marquardt.
	mu, muNew, w, deriv   []float64
	xtwx, xtwxCopy        []float64
	dl, dbeta, betaNew    []float64
	qr, tau, effects      []float64
	yPrior, oPrior, libs  []float64
	muPrior               []float64
	cellY, cellO, cellPhi []float64
	cellBeta, cellA       []float64
}

func newFitter(n, p int, X []float64) *fitter {
	f := &fitter{n: n, p: p, X: X}
	f.mu, f.muNew, f.w, f.deriv = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	f.xtwx, f.xtwxCopy = make([]float64, p*p), make([]float64, p*p)
	f.dl, f.dbeta, f.betaNew = make([]float64, p), make([]float64, p), make([]float64, p)
	f.qr, f.tau, f.effects = make([]float64, n*p), make([]float64, p), make([]float64, n)
	copy(f.qr, X)
	householderQR(f.qr, n, p, f.tau)
	f.yPrior, f.oPrior, f.libs = make([]float64, n), make([]float64, n), make([]float64, n)
	f.muPrior = make([]float64, n)
	f.cellY, f.cellO, f.cellPhi = make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	f.cellBeta, f.cellA = make([]float64, p), make([]float64, p*p)
	return f
}

// linearPredictorMu sets mu_j = exp(o_j + Σ_c X[j,c] β_c), the sum formed
// as BLAS dgemv does (offset first, then the columns in order).
func (f *fitter) linearPredictorMu(beta, o, mu []float64) {
	n := f.n
	copy(mu, o)
	for c := 0; c < f.p; c++ {
		b := beta[c]
		col := f.X[c*n : (c+1)*n]
		for j := range mu {
			mu[j] += float64(b * col[j])
		}
	}
	for j := range mu {
		mu[j] = math.Exp(mu[j])
	}
}

func deviance(y, mu, phi []float64) float64 {
	d := 0.0
	for j := range y {
		d += unitDeviance(y[j], mu[j], phi[j])
	}
	return d
}

// levenbergStart is edgeR's "null" start: the least-squares fit (by the QR
// factorization of X) of the constant ln m̄ on X, where m̄ is the
// weighted mean Σ y_j v_j/N_j / Σ v_j with N = e^o and v = N/(1+φN).
func (f *fitter) levenbergStart(y, o, phi, beta []float64) {
	sumExprs, sumWeight := 0.0, 0.0
	for j := range y {
		N := math.Exp(o[j])
		w := N / (1 + phi[j]*N)
		sumExprs += y[j] * w / N
		sumWeight += w
	}
	c := math.Log(sumExprs / sumWeight)
	for j := range f.effects {
		f.effects[j] = c
	}
	copy(beta, qrSolve(f.qr, f.n, f.p, f.tau, f.effects))
}

// levenberg is edgeR's glm_levenberg::fit (maxit 250, tol 1e-6): from beta,
// Fisher scoring steps (XᵀWX + λI)δ = Xᵀ(y-μ)/(1+φμ), damped by λ (Cholesky,
// λ ×10 on failure) until the deviance does not increase (λ ×2 otherwise;
// failure once λ/max(diag) > 1e13). It stops when dlᵀδ < 1e-6, the
// deviance is negligible, or the damping fails. beta and mu are updated.
func (f *fitter) levenberg(y, o, phi, beta, mu []float64) {
	n, p := f.n, f.p
	ymax := 0.0
	for _, v := range y {
		if v > ymax {
			ymax = v
		}
	}
	if ymax < lowValue {
		for c := range beta[:p] {
			beta[c] = math.NaN()
		}
		for j := range mu[:n] {
			mu[j] = 0
		}
		return
	}
	f.linearPredictorMu(beta, o, mu)
	dev := deviance(y, mu, phi)
	maxInfo, lambda := -1.0, 0.0
	for iter := 1; iter <= lmMaxit; iter++ {
		for j := 0; j < n; j++ {
			den := 1 + mu[j]*phi[j]
			f.w[j] = mu[j] / den
			f.deriv[j] = (y[j] - mu[j]) / den
		}
		xtwx(n, p, f.X, f.w, f.xtwx)
		for c := 0; c < p; c++ {
			s := 0.0
			col := f.X[c*n : (c+1)*n]
			for j := 0; j < n; j++ {
				s += f.deriv[j] * col[j]
			}
			f.dl[c] = s
			if v := f.xtwx[c*p+c]; v > maxInfo {
				maxInfo = v
			}
		}
		if iter == 1 {
			lambda = maxInfo * 1e-6
			if lambda < 1e-13 {
				lambda = 1e-13
			}
		}
		lev := 0
		lowDev, failed := false, false
		for {
			lev++
			for {
				for c := 0; c < p; c++ {
					copy(f.xtwxCopy[c*p:c*p+c+1], f.xtwx[c*p:c*p+c+1])
					f.xtwxCopy[c*p+c] += lambda
				}
				if choleskyUpper(f.xtwxCopy, p) {
					break
				}
				lambda *= 10
				if lambda <= 0 {
					lambda = 1e-100
				}
			}
			copy(f.dbeta, f.dl)
			choleskySolve(f.xtwxCopy, p, f.dbeta)
			for c := 0; c < p; c++ {
				f.betaNew[c] = beta[c] + f.dbeta[c]
			}
			f.linearPredictorMu(f.betaNew, o, f.muNew)
			devNew := deviance(y, f.muNew, phi)
			if devNew/ymax < 1e-13 {
				lowDev = true
			}
			if devNew <= dev || lowDev {
				copy(beta[:p], f.betaNew)
				copy(mu[:n], f.muNew)
				dev = devNew
				break
			}
			lambda *= 2
			if lambda <= 0 {
				lambda = 1e-100
			}
			if lambda/maxInfo > 1e13 {
				failed = true
				break
			}
		}
		if failed || lowDev {
			break
		}
		div := 0.0
		for c := 0; c < p; c++ {
			div += f.dl[c] * f.dbeta[c]
		}
		if div < lmTol {
			break
		}
		if lev == 1 {
			lambda /= 10
		}
	}
}

// oneWay is edgeR's mglmOneWay for the design's cells (its distinct rows):
// each cell's samples get oneGroup, the cell means are floored at -1e8,
// μ_j = exp(o_j + β_cell(j)), and the coefficients solve U β = cell means
// for the matrix U of distinct rows (U = I in the null model, whose
// coefficients are the cell means).
func (f *fitter) oneWay(d *Design, y, o, phi, beta, mu []float64) {
	cells := d.coefs
	for c := 0; c < cells; c++ {
		f.cellY, f.cellO, f.cellPhi = f.cellY[:0], f.cellO[:0], f.cellPhi[:0]
		for j, cj := range d.cell {
			if cj == c {
				f.cellY = append(f.cellY, y[j])
				f.cellO = append(f.cellO, o[j])
				f.cellPhi = append(f.cellPhi, phi[j])
			}
		}
		b := oneGroup(f.cellY, f.cellO, nil, f.cellPhi)
		f.cellBeta[c] = math.Max(b, -1e8)
	}
	for j, c := range d.cell {
		mu[j] = math.Exp(o[j] + f.cellBeta[c])
	}
	if beta == nil {
		return
	}
	if d.cellIsUnit {
		copy(beta, f.cellBeta[:cells])
		return
	}
	copy(f.cellA, d.cellRows)
	copy(beta, luSolve(f.cellA, cells, f.cellBeta[:cells]))
}

// fit sets beta (and mu, the fitted values) of y with offsets o and
// dispersions phi on the design: one-way where X has as many distinct rows
// as columns, Levenberg-Marquardt from the null start otherwise.
func (f *fitter) fit(d *Design, y, o, phi, beta, mu []float64) {
	if d.oneWay {
		f.oneWay(d, y, o, phi, beta, mu)
		return
	}
	f.levenbergStart(y, o, phi, beta)
	f.levenberg(y, o, phi, beta, mu)
}

// fitPrior returns in beta the coefficients glmFit(prior.count = 1e-4)
// reports (predFC): per gene, with L_j = e^{o_j} and the prior
// p_j = 1e-4 L_j / mean(L), the fit of y + p_j with offsets ln(L_j + 2p_j),
// its coefficients divided by ln 2 and multiplied back.
func (f *fitter) fitPrior(d *Design, y, o, phi, beta []float64) {
	n := f.n
	ave := 0.0
	for j := 0; j < n; j++ {
		f.libs[j] = math.Exp(o[j])
		ave += f.libs[j]
	}
	ave /= float64(n)
	for j := 0; j < n; j++ {
		prior := 1e-4 * f.libs[j] / ave
		f.yPrior[j] = y[j] + prior
		f.oPrior[j] = math.Log(f.libs[j] + 2*prior)
	}
	f.fit(d, f.yPrior, f.oPrior, phi, beta, f.muPrior)
	for c := range beta[:f.p] {
		beta[c] = beta[c] / math.Ln2 * math.Ln2
	}
}
