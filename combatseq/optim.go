package combatseq

import "math"

// pow4 returns x⁴ correctly rounded (R's x^4 calls the C library's pow,
// which rounds correctly but in rare hard cases): x² exactly as a
// double-double, then squared.
func pow4(x float64) float64 {
	h := x * x
	l := math.FMA(x, x, -h) // x² = h + l exactly
	hh := h * h
	return hh + (math.FMA(h, h, -hh) + 2*h*l + l*l)
}

// pow2 returns 2^p correctly rounded in all but astronomically rare cases
// (R's 2^p calls pow(2, p)): 2^p = 2^n · e^{r}, r = (p - n) ln 2 carried in
// double-double, e^r by its Taylor series in double-double.
func pow2(p float64) float64 {
	if p == math.Trunc(p) && math.Abs(p) < 1000 {
		return math.Ldexp(1, int(p))
	}
	n := math.Floor(p + 0.5)
	f := p - n // exact, |f| ≤ ½
	// ln 2 = ln2Hi + ln2Lo.
	const ln2Hi = 0.6931471805599453
	const ln2Lo = 2.3190468138462996e-17
	rh := f * ln2Hi
	rl := math.FMA(f, ln2Hi, -rh) + f*ln2Lo
	// e^r = Σ r^k/k!, |r| ≤ 0.35: 25 terms reach 1e-32.
	sh, sl := 1.0, 0.0
	th, tl := 1.0, 0.0 // current term
	for k := 1; k <= 25; k++ {
		th, tl = ddMul(th, tl, rh, rl)
		th, tl = ddDiv1(th, tl, float64(k))
		sh, sl = ddAdd(sh, sl, th, tl)
	}
	return math.Ldexp(sh+sl, int(n))
}

func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return
}

func ddAdd(ah, al, bh, bl float64) (float64, float64) {
	s, e := twoSum(ah, bh)
	e += al + bl
	return twoSum(s, e)
}

func ddMul(ah, al, bh, bl float64) (float64, float64) {
	p := ah * bh
	e := math.FMA(ah, bh, -p) + (ah*bl + al*bh)
	return twoSum(p, e)
}

func ddDiv1(ah, al, b float64) (float64, float64) {
	q := ah / b
	r := math.FMA(-q, b, ah) + al // remainder
	return twoSum(q, r/b)
}

// brentMin minimizes f on [ax, bx] by Brent's method (golden sections and
// parabolic steps), as R's optimize() (Brent_fmin) does, with the same
// steps and stopping rule: from v = a + c(b-a), c = (3-√5)/2, until
// |x - (a+b)/2| ≤ 2 tol1 - (b-a)/2 with tol1 = √ε |x| + tol/3. A function
// value that is not finite counts as the largest double (R's warning "NA/Inf
// replaced by maximum positive value").
func brentMin(ax, bx, tol float64, f func(float64) float64) float64 {
	eval := func(x float64) float64 {
		v := f(x)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.MaxFloat64
		}
		return v
	}
	c := (3 - math.Sqrt(5)) * 0.5
	eps := math.Sqrt(0x1p-52)
	a, b := ax, bx
	v := a + c*(b-a)
	w, x := v, v
	d, e := 0.0, 0.0
	fx := eval(x)
	fv, fw := fx, fx
	tol3 := tol / 3
	for {
		xm := (a + b) * 0.5
		tol1 := eps*math.Abs(x) + tol3
		t2 := tol1 * 2
		if math.Abs(x-xm) <= t2-(b-a)*0.5 {
			break
		}
		p, q, r := 0.0, 0.0, 0.0
		if math.Abs(e) > tol1 { // fit a parabola
			r = (x - w) * (fx - fv)
			q = (x - v) * (fx - fw)
			p = (x-v)*q - (x-w)*r
			q = (q - r) * 2
			if q > 0 {
				p = -p
			} else {
				q = -q
			}
			r = e
			e = d
		}
		var u float64
		if math.Abs(p) >= math.Abs(q*0.5*r) || p <= q*(a-x) || p >= q*(b-x) {
			// golden-section step
			if x < xm {
				e = b - x
			} else {
				e = a - x
			}
			d = c * e
		} else {
			// parabolic step, not too close to a or b
			d = p / q
			u = x + d
			if u-a < t2 || b-u < t2 {
				d = tol1
				if x >= xm {
					d = -d
				}
			}
		}
		// not too close to x
		switch {
		case math.Abs(d) >= tol1:
			u = x + d
		case d > 0:
			u = x + tol1
		default:
			u = x - tol1
		}
		fu := eval(u)
		if fu <= fx {
			if u < x {
				b = x
			} else {
				a = x
			}
			v, w, x = w, x, u
			fv, fw, fx = fw, fx, fu
		} else {
			if u < x {
				a = u
			} else {
				b = u
			}
			if fu <= fw || w == x {
				v, fv = w, fw
				w, fw = u, fu
			} else if fu <= fv || v == x || v == w {
				v, fv = u, fu
			}
		}
	}
	return x
}

// fmmSpline sets the coefficients of the cubic spline through (x, y) with
// Forsythe, Malcolm and Moler's end conditions (R's splinefun(method =
// "fmm")): on [x_i, x_{i+1}], s(t) = y_i + b_i t + c_i t² + d_i t³,
// t = x - x_i. The end conditions match the third derivatives of the cubics
// through the first and last four points. n ≥ 4 here.
func fmmSpline(x, y, b, c, d []float64) {
	n := len(x)
	// Tridiagonal system: b diagonal, d off-diagonal, c right-hand side.
	d[0] = x[1] - x[0]
	c[1] = (y[1] - y[0]) / d[0]
	for i := 1; i < n-1; i++ {
		d[i] = x[i+1] - x[i]
		b[i] = 2 * (d[i-1] + d[i])
		c[i+1] = (y[i+1] - y[i]) / d[i]
		c[i] = c[i+1] - c[i]
	}
	b[0] = -d[0]
	b[n-1] = -d[n-2]
	c[0], c[n-1] = 0, 0
	if n > 3 {
		c[0] = c[2]/(x[3]-x[1]) - c[1]/(x[2]-x[0])
		c[n-1] = c[n-2]/(x[n-1]-x[n-3]) - c[n-3]/(x[n-2]-x[n-4])
		c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
		c[n-1] = -c[n-1] * d[n-2] * d[n-2] / (x[n-1] - x[n-4])
	}
	// Gaussian elimination, then back substitution.
	for i := 1; i < n; i++ {
		t := d[i-1] / b[i-1]
		b[i] = b[i] - t*d[i-1]
		c[i] = c[i] - t*c[i-1]
	}
	c[n-1] = c[n-1] / b[n-1]
	for i := n - 2; i >= 0; i-- {
		c[i] = (c[i] - d[i]*c[i+1]) / b[i]
	}
	// Polynomial coefficients.
	b[n-1] = (y[n-1]-y[n-2])/d[n-2] + d[n-2]*(c[n-2]+2*c[n-1])
	for i := 0; i < n-1; i++ {
		b[i] = (y[i+1]-y[i])/d[i] - d[i]*(c[i+1]+2*c[i])
		d[i] = (c[i+1] - c[i]) / d[i]
		c[i] = 3 * c[i]
	}
	c[n-1] = 3 * c[n-1]
	d[n-1] = d[n-2]
}

// maximizeInterpolant is edgeR's maximize_interpolant for one row: the x of
// the largest y (the first on ties), refined by the maximum of the FMM
// spline on the interval to its left and then the one to its right, where
// the spline's derivative 3d t² + 2c t + b has its root
// t = -2c/(6d) - √((2c)² - 12db)/(6d) inside the interval and the spline
// there exceeds the best value so far. scratch must hold 3 len(x) values.
func maximizeInterpolant(x, y, scratch []float64) float64 {
	n := len(x)
	best := 0
	for i := 1; i < n; i++ {
		if y[i] > y[best] {
			best = i
		}
	}
	maxed := y[best]
	xmax := x[best]
	b, c, d := scratch[:n], scratch[n:2*n], scratch[2*n:3*n]
	fmmSpline(x, y, b, c, d)
	try := func(i int) {
		ld, lc, lb := d[i], c[i], b[i]
		qa, qb, qc := 3*ld, 2*lc, lb
		back := qb*qb - 4*qa*qc
		if back < 0 {
			return
		}
		front := -qb / (2 * qa)
		back = math.Sqrt(back) / (2 * qa)
		sol := front - back
		if sol > 0 && sol < x[i+1]-x[i] {
			v := ((ld*sol+lc)*sol+lb)*sol + y[i]
			if v > maxed {
				maxed = v
				xmax = sol + x[i]
			}
		}
	}
	if best > 0 {
		try(best - 1)
	}
	if best < n-1 {
		try(best)
	}
	return xmax
}
