package combatseq

import "math"

// Small dense linear algebra for the per-gene fits (a handful of
// coefficients). Matrices are column-major with leading dimension n, as
// LAPACK stores them, and the loops add in the order of the reference
// BLAS/LAPACK routines R links here, so that results agree to the last bit
// where the order is all that differs.

// xtwx sets the upper triangle of out (p x p) to XᵀWX for X (n x p): entry
// (r, c), r ≤ c, is Σ_j X[j,r] X[j,c] W[j] added in sample order (edgeR's
// compute_xtwx).
func xtwx(n, p int, X, W, out []float64) {
	for c := 0; c < p; c++ {
		xc := X[c*n : (c+1)*n]
		for r := 0; r <= c; r++ {
			xr := X[r*n : (r+1)*n]
			s := 0.0
			for j := 0; j < n; j++ {
				s += float64(xc[j]*xr[j]) * W[j]
			}
			out[c*p+r] = s
		}
	}
}

// choleskyUpper factors the p x p matrix a (upper triangle used) in place as
// UᵀU, as LAPACK's dpotrf2 does for small matrices: recursively, halves of
// n/2 and n - n/2 columns. It reports false when a pivot is not positive.
func choleskyUpper(a []float64, p int) bool {
	return potrf2(a, p, 0, p)
}

// potrf2 factors the n x n block of a (leading dimension ld) starting at
// (off, off).
func potrf2(a []float64, ld, off, n int) bool {
	at := func(i, j int) *float64 { return &a[(off+j)*ld+off+i] }
	if n == 1 {
		v := *at(0, 0)
		if v <= 0 || math.IsNaN(v) {
			return false
		}
		*at(0, 0) = math.Sqrt(v)
		return true
	}
	n1 := n / 2
	n2 := n - n1
	if !potrf2(a, ld, off, n1) {
		return false
	}
	// A12 := U11⁻ᵀ A12 (dtrsm left, upper, transposed, non-unit).
	for j := n1; j < n; j++ {
		for i := 0; i < n1; i++ {
			t := *at(i, j)
			for k := 0; k < i; k++ {
				t -= float64(*at(k, i)) * *at(k, j)
			}
			*at(i, j) = t / *at(i, i)
		}
	}
	// A22 := A22 - A12ᵀ A12 (dsyrk upper, transposed, alpha -1, beta 1).
	for j := n1; j < n; j++ {
		for i := n1; i <= j; i++ {
			t := 0.0
			for l := 0; l < n1; l++ {
				t += float64(*at(l, i)) * *at(l, j)
			}
			*at(i, j) = -t + *at(i, j)
		}
	}
	return potrf2(a, ld, off+n1, n2)
}

// choleskySolve solves UᵀU x = b in place (dpotrs, upper): a forward then a
// backward triangular solve.
func choleskySolve(u []float64, p int, b []float64) {
	// Uᵀ y = b (dtrsm left, upper, transposed).
	for i := 0; i < p; i++ {
		t := b[i]
		for k := 0; k < i; k++ {
			t -= float64(u[i*p+k]) * b[k]
		}
		b[i] = t / u[i*p+i]
	}
	backSubstitute(u, p, p, b)
}

// backSubstitute solves U x = b in place for the upper triangular p x p
// matrix stored with leading dimension ld (dtrsm left, upper, not
// transposed): columns from the last, each eliminated from the rows above.
func backSubstitute(u []float64, ld, p int, b []float64) {
	for k := p - 1; k >= 0; k-- {
		if b[k] != 0 {
			b[k] /= u[k*ld+k]
			for i := 0; i < k; i++ {
				b[i] -= float64(b[k]) * u[k*ld+i]
			}
		}
	}
}

// ldltDiagonal factors the symmetric p x p matrix a (upper triangle) in
// place by LAPACK's dsytf2 (Bunch-Kaufman diagonal pivoting, from the last
// column) and returns the diagonal of the factored matrix, which holds the
// diagonal of D. edgeR's Cox-Reid adjustment is half the sum of the logs of
// these entries.
func ldltDiagonal(a []float64, p int, diag []float64) []float64 {
	alpha := (1 + math.Sqrt(17)) / 8
	at := func(i, j int) *float64 { return &a[j*p+i] }
	swap := func(x, y *float64) { *x, *y = *y, *x }
	for k := p - 1; k >= 0; {
		kstep := 1
		absakk := math.Abs(*at(k, k))
		imax, colmax := 0, 0.0
		if k > 0 {
			imax = iamax(k, func(i int) float64 { return *at(i, k) })
			colmax = math.Abs(*at(imax, k))
		}
		kp := k
		if math.Max(absakk, colmax) == 0 || math.IsNaN(absakk) {
			// A zero column: D(k) is zero and nothing is eliminated.
			k--
			continue
		}
		if absakk < alpha*colmax {
			// Largest off-diagonal of row/column imax.
			jmax := imax + 1 + iamax(k-imax, func(j int) float64 { return *at(imax, imax+1+j) })
			rowmax := math.Abs(*at(imax, jmax))
			if imax > 0 {
				jm := iamax(imax, func(i int) float64 { return *at(i, imax) })
				rowmax = math.Max(rowmax, math.Abs(*at(jm, imax)))
			}
			switch {
			case absakk >= alpha*colmax*(colmax/rowmax):
				kp = k
			case math.Abs(*at(imax, imax)) >= alpha*rowmax:
				kp = imax
			default:
				kp = imax
				kstep = 2
			}
		}
		kk := k - kstep + 1
		if kp != kk {
			for i := 0; i < kp; i++ {
				swap(at(i, kk), at(i, kp))
			}
			for j := kp + 1; j < kk; j++ {
				swap(at(j, kk), at(kp, j))
			}
			swap(at(kk, kk), at(kp, kp))
			if kstep == 2 {
				swap(at(k-1, k), at(kp, k))
			}
		}
		if kstep == 1 {
			// A(0:k,0:k) -= x xᵀ / A(k,k) (dsyr), then x /= A(k,k) (dscal).
			r1 := 1 / *at(k, k)
			for j := 0; j < k; j++ {
				if xj := *at(j, k); xj != 0 {
					t := -r1 * xj
					for i := 0; i <= j; i++ {
						*at(i, j) += float64(*at(i, k)) * t
					}
				}
			}
			for i := 0; i < k; i++ {
				*at(i, k) *= r1
			}
		} else if k > 1 {
			d12 := *at(k-1, k)
			d22 := *at(k-1, k-1) / d12
			d11 := *at(k, k) / d12
			t := 1 / (d11*d22 - 1)
			d12 = t / d12
			for j := k - 2; j >= 0; j-- {
				wkm1 := d12 * (d11**at(j, k-1) - *at(j, k))
				wk := d12 * (d22**at(j, k) - *at(j, k-1))
				for i := j; i >= 0; i-- {
					*at(i, j) = *at(i, j) - *at(i, k)*wk - *at(i, k-1)*wkm1
				}
				*at(j, k) = wk
				*at(j, k-1) = wkm1
			}
		}
		k -= kstep
	}
	diag = diag[:0]
	for i := 0; i < p; i++ {
		diag = append(diag, *at(i, i))
	}
	return diag
}

// iamax returns the first index of the largest |v(i)|, i < n (BLAS idamax).
func iamax(n int, v func(int) float64) int {
	best, at := -1.0, 0
	for i := 0; i < n; i++ {
		if a := math.Abs(v(i)); a > best {
			best, at = a, i
		}
	}
	return at
}

// householderQR factors the n x p matrix a (n ≥ p) in place as LAPACK's
// dgeqr2 does: column by column, a reflector H = I - τ v vᵀ (v[0] = 1)
// chosen by dlarfg and applied to the columns to its right by dlarf. R ends
// up in the upper triangle, v below the diagonal, τ in tau.
func householderQR(a []float64, n, p int, tau []float64) {
	for i := 0; i < p; i++ {
		col := a[i*n : (i+1)*n]
		tau[i] = reflector(col[i:])
		if i+1 < p {
			aii := col[i]
			col[i] = 1
			for c := i + 1; c < p; c++ {
				applyReflector(col[i:], tau[i], a[c*n+i:(c+1)*n])
			}
			col[i] = aii
		}
	}
}

// reflector is LAPACK's dlarfg on x = (alpha, x[1:]): it returns τ and
// leaves β in x[0] and v[1:] in x[1:].
func reflector(x []float64) float64 {
	if len(x) <= 1 {
		return 0
	}
	ss := 0.0
	for _, v := range x[1:] {
		ss += v * v
	}
	xnorm := math.Sqrt(ss)
	if xnorm == 0 {
		return 0
	}
	alpha := x[0]
	beta := -math.Copysign(hypot(alpha, xnorm), alpha)
	tau := (beta - alpha) / beta
	scale := 1 / (alpha - beta)
	for i := 1; i < len(x); i++ {
		x[i] *= scale
	}
	x[0] = beta
	return tau
}

// hypot is LAPACK's dlapy2: w √(1 + (z/w)²) with w = max(|x|,|y|), z the
// other.
func hypot(x, y float64) float64 {
	xa, ya := math.Abs(x), math.Abs(y)
	w, z := math.Max(xa, ya), math.Min(xa, ya)
	if z == 0 || w > math.MaxFloat64 {
		return w
	}
	r := z / w
	return w * math.Sqrt(1+r*r)
}

// applyReflector sets c := (I - τ v vᵀ) c (dlarf on one column): w = vᵀc,
// then c -= τ w v.
func applyReflector(v []float64, tau float64, c []float64) {
	if tau == 0 {
		return
	}
	w := 0.0
	for i := range v {
		w += c[i] * v[i]
	}
	t := -tau * w
	for i := range v {
		c[i] += float64(v[i]) * t
	}
}

// qrSolve returns the least-squares coefficients of y on the factored
// n x p matrix (householderQR's output): y := Qᵀy (dormqr), then R β =
// (Qᵀy)[:p] (dtrtrs). y is overwritten; β is y[:p].
func qrSolve(qr []float64, n, p int, tau, y []float64) []float64 {
	for i := 0; i < p; i++ {
		col := qr[i*n : (i+1)*n]
		aii := col[i]
		col[i] = 1
		applyReflector(col[i:], tau[i], y[i:])
		col[i] = aii
	}
	backSubstitute(qr, n, p, y)
	return y[:p]
}

// luSolve solves A x = b for the p x p row-major matrix A by Gaussian
// elimination with partial pivoting (the first largest pivot), as R's
// solve() does through LAPACK's dgesv. A and b are overwritten; x is b.
func luSolve(A []float64, p int, b []float64) []float64 {
	for k := 0; k < p; k++ {
		piv := k
		for i := k + 1; i < p; i++ {
			if math.Abs(A[i*p+k]) > math.Abs(A[piv*p+k]) {
				piv = i
			}
		}
		if piv != k {
			for j := 0; j < p; j++ {
				A[k*p+j], A[piv*p+j] = A[piv*p+j], A[k*p+j]
			}
			b[k], b[piv] = b[piv], b[k]
		}
		for i := k + 1; i < p; i++ {
			f := A[i*p+k] / A[k*p+k]
			if f == 0 {
				continue
			}
			for j := k + 1; j < p; j++ {
				A[i*p+j] -= float64(f) * A[k*p+j]
			}
			b[i] -= float64(f) * b[k]
		}
	}
	for k := p - 1; k >= 0; k-- {
		s := b[k]
		for j := k + 1; j < p; j++ {
			s -= float64(A[k*p+j]) * b[j]
		}
		b[k] = s / A[k*p+k]
	}
	return b
}
