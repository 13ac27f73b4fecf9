package deseq2

import (
	"errors"
	"fmt"
	"math"
)

// R's optim(method = "L-BFGS-B") for a problem without bounds, as DESeq2's
// iterative size factors call it: L-BFGS-B 2.3 (Byrd, Lu, Nocedal and Zhu
// 1995, as R ships it) with m = 5 correction pairs, factr = 1e7, pgtol = 0,
// maxit = 100, and the gradient by central differences of step 1e-3
// (optim's ndeps). Without bounds the algorithm reduces to:
//
//   - First iteration (and after every restart): the generalized Cauchy point
//     along -g of the model with B = I, which is x - g; the direction is
//     d = (x - g) - x and the first trial step is 1/‖d‖.
//   - Later iterations: the quasi-Newton point z = x - H·g of the limited
//     memory BFGS inverse H (initial scaling 1/θ, θ = yᵀy/sᵀy of the newest
//     pair), d = z - x, first trial step 1. H·g is formed by the two-loop
//     recursion, which equals L-BFGS-B's subspace step (its compact form
//     with every variable free) up to rounding.
//   - Moré–Thuente line search (MINPACK-2 dcsrch: ftol 1e-3, gtol 0.9,
//     xtol 0.1, steps in [0, 1e10]); a search that needs more than 20
//     evaluations or meets a non-descent direction restarts from the last
//     point without memory, or fails if the memory was already empty.
//   - Stop when (f_old - f)/max(|f_old|, |f|, 1) ≤ factr·ε (ε = 2^-52) or the
//     largest gradient component is 0; fail after maxit iterations.
//   - The pair (s, y) = (x - x_old, g - g_old) is kept only when
//     sᵀy > ε·(-g_oldᵀs); the oldest of 5 pairs is dropped.
//
// The outcome codes are optim's convergence codes: 0 converged, 1 maxit
// reached, 52 the line search failed.

const (
	lbfgsbMemory = 5
	lbfgsbFactr  = 1e7
	lbfgsbMaxit  = 100
	optimNdeps   = 1e-3 // optim's default finite-difference step
	dcsrchFtol   = 1e-3
	dcsrchGtol   = 0.9
	dcsrchXtol   = 0.1
	lnsrchStpmax = 1e10
	lnsrchMaxTry = 20
)

// optimResult is what optim returns.
type optimResult struct {
	Par         []float64
	Value       float64 // the minimised f at Par
	Convergence int     // 0, 1 (iteration limit) or 52 (line search failure)
	Message     string
	Iterations  int
	Evaluations int // evaluations of f and its gradient together
}

// objectiveFG evaluates f at x and writes its gradient to g.
type objectiveFG func(x, g []float64) (float64, error)

// errNonFinite is returned (wrapped) when f or a gradient is not finite,
// where R's optim stops with an error.
var errNonFinite = errors.New("L-BFGS-B needs finite values of 'fn'")

// minimizeLBFGSB minimises f from x0 as optim(x0, f, method = "L-BFGS-B")
// does without bounds; fg returns f and its (finite-difference) gradient.
func minimizeLBFGSB(x0 []float64, fg objectiveFG) (*optimResult, error) {
	n := len(x0)
	x := append([]float64(nil), x0...)
	g := make([]float64, n)
	eval := func() (float64, error) {
		f, err := fg(x, g)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, errNonFinite
		}
		for i, v := range g {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("non-finite finite-difference value [%d]", i+1)
			}
		}
		return f, nil
	}
	res := &optimResult{}
	f, err := eval()
	if err != nil {
		return nil, err
	}
	res.Evaluations = 1
	done := func(conv int, msg string) (*optimResult, error) {
		res.Par, res.Value, res.Convergence, res.Message = x, f, conv, msg
		return res, nil
	}
	const epsmch = 0x1p-52
	tol := lbfgsbFactr * epsmch
	sbgnrm := maxAbsValue(g)
	if sbgnrm <= 0 {
		return done(0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
	}

	var (
		pairs   []lbfgsPair // oldest first
		theta   = 1.0
		iter    int // iterations of the algorithm (new points accepted)
		z       = make([]float64, n)
		d       = make([]float64, n)
		xOld    = make([]float64, n)
		gOld    = make([]float64, n)
		alphaLp = make([]float64, lbfgsbMemory)
	)
	restart := func() { pairs, theta = pairs[:0], 1 }
	for {
		// The point the model proposes, z, and the direction d = z - x.
		if len(pairs) == 0 {
			if sbgnrm <= 0 {
				copy(z, x)
			} else {
				// Cauchy point of the model with B = θI: the step along -g of
				// length -f1/f2 with f1 = -gᵀg, f2 = θ·gᵀg.
				f1 := 0.0
				for _, gi := range g {
					f1 -= gi * gi
				}
				f2 := -theta * f1
				dtm := -f1 / f2
				if dtm <= 0 {
					dtm = 0
				}
				for i := range z {
					z[i] = x[i] + dtm*(-g[i])
				}
			}
		} else {
			twoLoop(z, g, pairs, theta, alphaLp)
			for i := range z {
				z[i] += x[i]
			}
		}
		for i := range d {
			d[i] = z[i] - x[i]
		}

		// Line search along d from x.
		dtd := dot(d, d)
		dnorm := math.Sqrt(dtd)
		stp := 1.0
		if iter == 0 {
			stp = math.Min(1/dnorm, lnsrchStpmax)
		}
		copy(xOld, x)
		copy(gOld, g)
		fOld := f
		var (
			ls       dcsrch
			gd, gd0  float64
			tries    int
			failed   bool
			accepted bool
		)
		for !accepted {
			gd = dot(g, d)
			if tries == 0 {
				gd0 = gd
				if gd >= 0 { // not a descent direction
					failed = true
					break
				}
			}
			if ls.step(&f, &gd, &stp, tries == 0) {
				accepted = true
				break
			}
			tries++
			if tries-1 >= lnsrchMaxTry {
				failed = true
				break
			}
			if stp == 1 {
				copy(x, z)
			} else {
				for i := range x {
					x[i] = stp*d[i] + xOld[i]
				}
			}
			if f, err = eval(); err != nil {
				return nil, err
			}
			res.Evaluations++
		}
		if failed {
			copy(x, xOld)
			copy(g, gOld)
			f = fOld
			if len(pairs) == 0 {
				return done(52, "ERROR: ABNORMAL_TERMINATION_IN_LNSRCH")
			}
			restart()
			continue
		}

		iter++
		res.Iterations = iter
		sbgnrm = maxAbsValue(g)
		if iter > lbfgsbMaxit {
			return done(1, "NEW_X")
		}
		if sbgnrm <= 0 {
			return done(0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
		}
		if fOld-f <= tol*math.Max(math.Max(math.Abs(fOld), math.Abs(f)), 1) {
			return done(0, "CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH")
		}

		// The new correction pair: s = stp·d, y = g - g_old, sᵀy from the
		// directional derivatives.
		y := make([]float64, n)
		for i := range y {
			y[i] = g[i] - gOld[i]
		}
		rr := dot(y, y)
		var dr, ddum float64
		s := append([]float64(nil), d...)
		if stp == 1 {
			dr = gd - gd0
			ddum = -gd0
		} else {
			dr = (gd - gd0) * stp
			for i := range s {
				s[i] *= stp
			}
			ddum = -gd0 * stp
		}
		if dr <= epsmch*ddum {
			continue // skip the update
		}
		if len(pairs) == lbfgsbMemory {
			pairs = append(pairs[:0], pairs[1:]...)
		}
		pairs = append(pairs, lbfgsPair{s: s, y: y, sy: dr})
		theta = rr / dr
	}
}

// lbfgsPair is one correction pair with sᵀy.
type lbfgsPair struct {
	s, y []float64
	sy   float64
}

// twoLoop sets dst = -H·g for the limited-memory BFGS inverse H built from
// pairs (oldest first) on H₀ = I/θ. alpha is scratch of at least len(pairs).
func twoLoop(dst, g []float64, pairs []lbfgsPair, theta float64, alpha []float64) {
	for i := range dst {
		dst[i] = -g[i]
	}
	for k := len(pairs) - 1; k >= 0; k-- {
		p := pairs[k]
		alpha[k] = dot(p.s, dst) / p.sy
		for i := range dst {
			dst[i] -= alpha[k] * p.y[i]
		}
	}
	for i := range dst {
		dst[i] /= theta
	}
	for k, p := range pairs {
		beta := dot(p.y, dst) / p.sy
		for i := range dst {
			dst[i] += (alpha[k] - beta) * p.s[i]
		}
	}
}

func maxAbsValue(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		if a := math.Abs(v); a > m {
			m = a
		}
	}
	return m
}

// dcsrch is the Moré–Thuente line search (MINPACK-2) on φ(stp) = f(x + stp·d)
// with φ'(stp) = gᵀd: it keeps an interval [stx, sty] that contains a step
// with sufficient decrease φ(stp) ≤ φ(0) + ftol·stp·φ'(0) and curvature
// |φ'(stp)| ≤ gtol·|φ'(0)|, and proposes safeguarded cubic or quadratic
// interpolation steps.
type dcsrch struct {
	brackt              bool
	stage               int
	ginit, gtest, finit float64
	stx, fx, gx         float64
	sty, fy, gy         float64
	stmin, stmax        float64
	width, width1       float64
}

// step takes φ (f) and φ' (g) at the current stp (at stp = 0 when start)
// and either accepts stp (true: convergence or a warning, both end the
// search) or sets the next trial stp (false).
func (s *dcsrch) step(f, g, stp *float64, start bool) bool {
	const stpmin, stpmax = 0.0, lnsrchStpmax
	if start {
		s.brackt = false
		s.stage = 1
		s.finit, s.ginit = *f, *g
		s.gtest = dcsrchFtol * s.ginit
		s.width = stpmax - stpmin
		s.width1 = s.width / 0.5
		s.stx, s.fx, s.gx = 0, s.finit, s.ginit
		s.sty, s.fy, s.gy = 0, s.finit, s.ginit
		s.stmin = 0
		s.stmax = *stp + *stp*4
		return false
	}
	ftest := s.finit + *stp*s.gtest
	if s.stage == 1 && *f <= ftest && *g >= 0 {
		s.stage = 2
	}
	// Warnings end the search with the current step, as convergence does.
	if s.brackt && (*stp <= s.stmin || *stp >= s.stmax) {
		return true
	}
	if s.brackt && s.stmax-s.stmin <= dcsrchXtol*s.stmax {
		return true
	}
	if *stp == stpmax && *f <= ftest && *g <= s.gtest {
		return true
	}
	if *stp == stpmin && (*f > ftest || *g >= s.gtest) {
		return true
	}
	if *f <= ftest && math.Abs(*g) <= dcsrchGtol*(-s.ginit) {
		return true
	}
	if s.stage == 1 && *f <= s.fx && *f > ftest {
		// the modified function ψ(stp) = φ(stp) - φ(0) - ftol·stp·φ'(0)
		fm := *f - *stp*s.gtest
		fxm := s.fx - s.stx*s.gtest
		fym := s.fy - s.sty*s.gtest
		gm := *g - s.gtest
		gxm := s.gx - s.gtest
		gym := s.gy - s.gtest
		dcstep(&s.stx, &fxm, &gxm, &s.sty, &fym, &gym, stp, fm, gm, &s.brackt, s.stmin, s.stmax)
		s.fx = fxm + s.stx*s.gtest
		s.fy = fym + s.sty*s.gtest
		s.gx = gxm + s.gtest
		s.gy = gym + s.gtest
	} else {
		dcstep(&s.stx, &s.fx, &s.gx, &s.sty, &s.fy, &s.gy, stp, *f, *g, &s.brackt, s.stmin, s.stmax)
	}
	if s.brackt {
		if math.Abs(s.sty-s.stx) >= 0.66*s.width1 {
			*stp = s.stx + 0.5*(s.sty-s.stx)
		}
		s.width1 = s.width
		s.width = math.Abs(s.sty - s.stx)
		s.stmin = math.Min(s.stx, s.sty)
		s.stmax = math.Max(s.stx, s.sty)
	} else {
		s.stmin = *stp + 1.1*(*stp-s.stx)
		s.stmax = *stp + 4*(*stp-s.stx)
	}
	*stp = math.Max(*stp, stpmin)
	*stp = math.Min(*stp, stpmax)
	if s.brackt && (*stp <= s.stmin || *stp >= s.stmax || s.stmax-s.stmin <= dcsrchXtol*s.stmax) {
		*stp = s.stx
	}
	return false
}

// dcstep computes the next trial step and updates the interval (MINPACK-2
// dcstep): four cases by whether φ rose, whether the derivatives changed
// sign and whether |φ'| decreased, choosing among the cubic interpolant's
// minimiser, the quadratic or secant step, and the interval ends.
func dcstep(stx, fx, dx, sty, fy, dy, stp *float64, fp, dp float64, brackt *bool, stpmin, stpmax float64) {
	sgnd := dp * (*dx / math.Abs(*dx))
	var stpf float64
	switch {
	case fp > *fx: // higher value: the minimum is bracketed
		theta := 3*(*fx-fp)/(*stp-*stx) + *dx + dp
		s := math.Max(math.Max(math.Abs(theta), math.Abs(*dx)), math.Abs(dp))
		gamma := s * math.Sqrt((theta/s)*(theta/s)-(*dx/s)*(dp/s))
		if *stp < *stx {
			gamma = -gamma
		}
		p := (gamma - *dx) + theta
		q := ((gamma - *dx) + gamma) + dp
		r := p / q
		stpc := *stx + r*(*stp-*stx)
		stpq := *stx + ((*dx/((*fx-fp)/(*stp-*stx)+*dx))/2)*(*stp-*stx)
		if math.Abs(stpc-*stx) < math.Abs(stpq-*stx) {
			stpf = stpc
		} else {
			stpf = stpc + (stpq-stpc)/2
		}
		*brackt = true
	case sgnd < 0: // lower value, derivatives of opposite sign: bracketed
		theta := 3*(*fx-fp)/(*stp-*stx) + *dx + dp
		s := math.Max(math.Max(math.Abs(theta), math.Abs(*dx)), math.Abs(dp))
		gamma := s * math.Sqrt((theta/s)*(theta/s)-(*dx/s)*(dp/s))
		if *stp > *stx {
			gamma = -gamma
		}
		p := (gamma - dp) + theta
		q := ((gamma - dp) + gamma) + *dx
		r := p / q
		stpc := *stp + r*(*stx-*stp)
		stpq := *stp + (dp/(dp-*dx))*(*stx-*stp)
		if math.Abs(stpc-*stp) > math.Abs(stpq-*stp) {
			stpf = stpc
		} else {
			stpf = stpq
		}
		*brackt = true
	case math.Abs(dp) < math.Abs(*dx): // lower value, same sign, |φ'| decreases
		theta := 3*(*fx-fp)/(*stp-*stx) + *dx + dp
		s := math.Max(math.Max(math.Abs(theta), math.Abs(*dx)), math.Abs(dp))
		t := (theta/s)*(theta/s) - (*dx/s)*(dp/s)
		gamma := 0.0
		if t >= 0 {
			gamma = s * math.Sqrt(t)
		}
		if *stp > *stx {
			gamma = -gamma
		}
		p := (gamma - dp) + theta
		q := (gamma + (*dx - dp)) + gamma
		r := p / q
		var stpc float64
		switch {
		case r < 0 && gamma != 0:
			stpc = *stp + r*(*stx-*stp)
		case *stp > *stx:
			stpc = stpmax
		default:
			stpc = stpmin
		}
		stpq := *stp + (dp/(dp-*dx))*(*stx-*stp)
		if *brackt {
			if math.Abs(stpc-*stp) < math.Abs(stpq-*stp) {
				stpf = stpc
			} else {
				stpf = stpq
			}
			lim := *stp + 0.66*(*sty-*stp)
			if *stp > *stx {
				stpf = math.Min(lim, stpf)
			} else {
				stpf = math.Max(lim, stpf)
			}
		} else {
			if math.Abs(stpc-*stp) > math.Abs(stpq-*stp) {
				stpf = stpc
			} else {
				stpf = stpq
			}
			stpf = math.Min(stpmax, stpf)
			stpf = math.Max(stpmin, stpf)
		}
	default: // lower value, same sign, |φ'| does not decrease
		switch {
		case *brackt:
			theta := 3*(fp-*fy)/(*sty-*stp) + *dy + dp
			s := math.Max(math.Max(math.Abs(theta), math.Abs(*dy)), math.Abs(dp))
			gamma := s * math.Sqrt((theta/s)*(theta/s)-(*dy/s)*(dp/s))
			if *stp > *sty {
				gamma = -gamma
			}
			p := (gamma - dp) + theta
			q := ((gamma - dp) + gamma) + *dy
			r := p / q
			stpf = *stp + r*(*sty-*stp)
		case *stp > *stx:
			stpf = stpmax
		default:
			stpf = stpmin
		}
	}
	// Update the interval that contains a minimiser.
	if fp > *fx {
		*sty, *fy, *dy = *stp, fp, dp
	} else {
		if sgnd < 0 {
			*sty, *fy, *dy = *stx, *fx, *dx
		}
		*stx, *fx, *dx = *stp, fp, dp
	}
	*stp = stpf
}
