package deseq2

import "math"

// The negative binomial log density as R's dnbinom(x, size, mu, log = TRUE)
// computes it (nmath dnbinom_mu, dbinom_raw, stirlerr, bd0 of R 4.2), for
// DESeq2's iterative size factors, whose objective sums these densities.
// Writing p = size/(size+μ), the density is
//
//	Γ(x+size)/(Γ(size) x!) · p^size · (1-p)^x
//
// R evaluates it through the binomial density of size successes in x+size
// trials, with Loader's saddle-point form: Stirling-series errors
// stirlerr(n) = ln Γ(n+1) - (n+½) ln n + n - ½ ln 2π and the deviance term
// bd0(x, M) = x ln(x/M) + M - x, which avoids the cancellation of the plain
// lgamma form for large counts.

// lnSqrt2Pi is ln √(2π); ln2Pi is ln 2π.
const (
	lnSqrt2Pi = 0.918938533204672741780329736406
	ln2Pi     = 1.837877066409345483560659472811
)

// stirlerrHalves[k] is stirlerr(k/2) for k = 1..30, from exact values of
// Γ at integers and half-integers (computed to 50 digits); [0] is unused.
var stirlerrHalves = [31]float64{
	0,
	1.5342640972002734529138394e-1, 8.1061466795327258219670264e-2, 5.4814121051917653896138702e-2,
	4.1340695955409294093822081e-2, 3.3162873519936287485110510e-2, 2.7677925684998339148789293e-2,
	2.3746163656297495971330279e-2, 2.0790672103765093111522772e-2, 1.8488450532673185230779357e-2,
	1.6644691189821192163194865e-2, 1.5134973221917378873513837e-2, 1.3876128823070747998745727e-2,
	1.2810465242920226924250655e-2, 1.1896709945891770095055724e-2, 1.1104559758206917326630755e-2,
	1.0411265261972096497478567e-2, 9.7994161261588032983903734e-3, 9.2554621827127329177286366e-3,
	8.7687001341393854629550473e-3, 8.3305634333628712564693187e-3, 7.9341145643140205472495625e-3,
	7.5736754879518407949720242e-3, 7.2445543013203831795461966e-3, 6.9428401072095298656641527e-3,
	6.6652470327076824423561809e-3, 6.4089941880042070684396311e-3, 6.1717122630394576475346048e-3,
	5.9513701127588477356244160e-3, 5.7462165130101156820261025e-3, 5.5547335519628013710386900e-3,
}

// stirlerr is ln Γ(n+1) - (n+½) ln n + n - ½ ln 2π: the table at multiples
// of ½ up to 15, the lgamma form between them, and the asymptotic series
// 1/(12n) - 1/(360n³) + 1/(1260n⁵) - 1/(1680n⁷) + 1/(1188n⁹) beyond 15,
// truncated earlier the larger n is.
func stirlerr(n float64) float64 {
	const (
		s0 = 1.0 / 12
		s1 = 1.0 / 360
		s2 = 1.0 / 1260
		s3 = 1.0 / 1680
		s4 = 1.0 / 1188
	)
	if n <= 15 {
		nn := n + n
		if nn == math.Trunc(nn) {
			return stirlerrHalves[int(nn)]
		}
		lg, _ := math.Lgamma(n + 1)
		return lg - (n+0.5)*math.Log(n) + n - lnSqrt2Pi
	}
	nn := n * n
	switch {
	case n > 500:
		return (s0 - s1/nn) / n
	case n > 80:
		return (s0 - (s1-s2/nn)/nn) / n
	case n > 35:
		return (s0 - (s1-(s2-s3/nn)/nn)/nn) / n
	}
	return (s0 - (s1-(s2-(s3-s4/nn)/nn)/nn)/nn) / n
}

// bd0 is x ln(x/M) + M - x ≥ 0. Near x = M it sums the series
// (x-M)v + 2x Σ_{j≥1} v^(2j+1)/(2j+1) with v = (x-M)/(x+M) until a term no
// longer changes the sum.
func bd0(x, np float64) float64 {
	if math.Abs(x-np) < 0.1*(x+np) {
		v := (x - np) / (x + np)
		s := (x - np) * v
		if math.Abs(s) < 0x1p-1022 {
			return s
		}
		ej := 2 * x * v
		v *= v
		for j := 1; j < 1000; j++ {
			ej *= v
			s1 := s + ej/float64(2*j+1)
			if s1 == s {
				return s1
			}
			s = s1
		}
	}
	return x*math.Log(x/np) + np - x
}

// logDBinomRaw is the log binomial density of x successes in n trials with
// success probability p (q = 1-p given separately), for 0 < x < n.
func logDBinomRaw(x, n, p, q float64) float64 {
	lc := stirlerr(n) - stirlerr(x) - stirlerr(n-x) - bd0(x, n*p) - bd0(n-x, n*q)
	lf := ln2Pi + math.Log(x) + math.Log1p(-x/n)
	return lc - 0.5*lf
}

// logDNBinomMu is ln P(X = x) for X negative binomial with mean mu and
// size (1/dispersion), for a whole x ≥ 0, size > 0 and mu > 0.
func logDNBinomMu(x, size, mu float64) float64 {
	if x == 0 {
		if size < mu {
			return size * math.Log(size/(size+mu))
		}
		return size * math.Log1p(-mu/(size+mu))
	}
	if x < 1e-10*size { // size ≫ x: close to Poisson
		var p float64
		if size < mu {
			p = math.Log(size / (1 + size/mu))
		} else {
			p = math.Log(mu / (1 + mu/size))
		}
		lg, _ := math.Lgamma(x + 1)
		return x*p - mu - lg + math.Log1p(x*(x-1)/(2*size))
	}
	p := size / (size + x)
	return math.Log(p) + logDBinomRaw(size, x+size, size/(size+mu), mu/(size+mu))
}

// lgammaR is ln Γ(x) for x > 0 as R's lgammafn computes it above 10: the
// Stirling form (x-½) ln x - x + ½ ln 2π plus lgammacor(x), the remainder
// 1/(12x) - 1/(360x³) + …, as a 5-term Chebyshev series in 2(10/x)² - 1 up
// to x ≈ 9.5e7 and 1/(12x) beyond; the remainder is left out above
// 4934720 and the whole form becomes x(ln x - 1) above 1e17. Bit for bit
// R's value there, which matters where DESeq2's dispersion likelihood is
// flat (α near 1e-8, 1/α near 1e8): its grid search then picks among
// values that differ only by the rounding of lgamma. At or below 10 it is
// Go's math.Lgamma (within an ulp or two of R's).
func lgammaR(x float64) float64 {
	switch {
	case x <= 10:
		lg, _ := math.Lgamma(x)
		return lg
	case x > 1e17:
		return x * (math.Log(x) - 1)
	case x > 4934720:
		return lnSqrt2Pi + (x-0.5)*math.Log(x) - x
	}
	return lnSqrt2Pi + (x-0.5)*math.Log(x) - x + lgammaCorrection(x)
}

// lgammaCoef are the Chebyshev coefficients of x·lgammacor(x) in
// t = 2(10/x)² - 1 on x ≥ 10 (the first doubled, as R's chebyshev_eval
// takes it), from the Stirling series with exact Bernoulli numbers.
var lgammaCoef = [5]float64{
	0.16663894804518634, -1.384948176067564e-05, 9.81082564692473e-09, -1.809129475572494e-11, 6.221098041892602e-14,
}

// lgammaCorrection is lgamma(x) - ((x-½) ln x - x + ½ ln 2π) for x ≥ 10.
func lgammaCorrection(x float64) float64 {
	const xbig = 94906265.62425156
	if x >= xbig {
		return 1 / (x * 12)
	}
	t := 10 / x
	u := t*t*2 - 1
	// Clenshaw recurrence, returning (b0 - b2)/2
	twou := u * 2
	var b0, b1, b2 float64
	for i := len(lgammaCoef) - 1; i >= 0; i-- {
		b2 = b1
		b1 = b0
		b0 = twou*b1 - b2 + lgammaCoef[i]
	}
	return (b0 - b2) * 0.5 / x
}
