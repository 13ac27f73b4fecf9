package bench

import "math"

// rng is a SplitMix64 stream (Steele, Lea and Flood 2014): a 64-bit counter
// passed through a mixing function. It is small enough to live on the stack
// of every ReadColumn call, and its output is fixed by this file rather than
// by a library whose sequences may change between Go releases.
type rng struct {
	state uint64
	spare float64 // a second normal deviate from the polar method
	has   bool
}

const golden = 0x9e3779b97f4a7c15

// mix64 is SplitMix64's finalizer: a bijection of uint64 with good avalanche.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG starts the stream named by (seed, stream, index): different names
// give unrelated streams.
func newRNG(seed, stream, index uint64) rng {
	return rng{state: mix64(mix64(seed^golden)+stream*golden) ^ mix64(index^0xd1b54a32d192ed03)}
}

func (r *rng) uint64() uint64 {
	r.state += golden
	return mix64(r.state)
}

// float64 is uniform on [0, 1) with 53 random bits.
func (r *rng) float64() float64 {
	return float64(r.uint64()>>11) * (1.0 / (1 << 53))
}

// open is uniform on (0, 1).
func (r *rng) open() float64 {
	return (float64(r.uint64()>>12) + 0.5) * (1.0 / (1 << 52))
}

// normal is a standard normal deviate (Marsaglia's polar method).
func (r *rng) normal() float64 {
	if r.has {
		r.has = false
		return r.spare
	}
	for {
		u := 2*r.float64() - 1
		v := 2*r.float64() - 1
		s := u*u + v*v
		if s >= 1 || s == 0 {
			continue
		}
		f := math.Sqrt(-2 * math.Log(s) / s)
		r.spare, r.has = v*f, true
		return u * f
	}
}

// gamma is a Gamma(shape, 1) deviate: Marsaglia and Tsang's (2000) squeeze
// method for shape >= 1, and for shape < 1 the boost
// Gamma(shape) = Gamma(shape+1) * U^(1/shape).
func (r *rng) gamma(shape float64) float64 {
	boost := 1.0
	if shape < 1 {
		boost = math.Pow(r.open(), 1/shape)
		shape++
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.normal()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.open()
		x2 := x * x
		if u < 1-0.0331*x2*x2 || math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v * boost
		}
	}
}

// poissonSmall is the mean below which poisson inverts the distribution
// function; above it, it uses transformed rejection.
const poissonSmall = 12

// poisson is a Poisson(lambda) deviate: sequential inversion for small
// means, and Hörmann's (1993) transformed rejection with squeeze (PTRS)
// for large ones.
func (r *rng) poisson(lambda float64) float64 {
	if lambda <= 0 {
		return 0
	}
	if lambda < poissonSmall {
		u := r.float64()
		p := math.Exp(-lambda)
		k := 0.0
		for u > p {
			u -= p
			k++
			p *= lambda / k
			if p == 0 { // u beyond the representable tail
				break
			}
		}
		return k
	}
	sl := math.Sqrt(lambda)
	ll := math.Log(lambda)
	b := 0.931 + 2.53*sl
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.float64() - 0.5
		v := r.float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -lambda+k*ll-lg {
			return k
		}
	}
}
