package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactReference is the sum of xs in arbitrary precision, rounded once.
func exactReference(xs []float64) float64 {
	acc := new(big.Float).SetPrec(4096)
	for _, x := range xs {
		acc.Add(acc, new(big.Float).SetFloat64(x))
	}
	v, _ := acc.Float64()
	return v
}

func TestExactSumsCorrectlyRounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func() float64{
		"logs of counts": func() float64 { return math.Log(float64(1 + rng.IntN(100000))) },
		"signed logs":    func() float64 { return math.Log(rng.Float64() * 3) },
		"cancelling":     func() float64 { return (rng.Float64() - 0.5) * math.Pow(2, float64(rng.IntN(120)-60)) },
		"counts":         func() float64 { return float64(rng.Int64N(1 << 40)) },
	}
	for name, draw := range cases {
		for trial := 0; trial < 50; trial++ {
			n := 1 + rng.IntN(3000)
			xs := make([]float64, n)
			for k := range xs {
				xs[k] = draw()
			}
			e := NewExactSums(1)
			for _, x := range xs {
				e.Add(0, x)
			}
			want := exactReference(xs)
			if got := e.Float64(0); got != want {
				t.Fatalf("%s, trial %d: exact sum %v (%x), arbitrary precision %v (%x)", name, trial, got, math.Float64bits(got), want, math.Float64bits(want))
			}
		}
	}
}

func TestExactSumsMergeIsOrderFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const genes, samples = 7, 400
	xs := make([][]float64, samples)
	for j := range xs {
		xs[j] = make([]float64, genes)
		for i := range xs[j] {
			xs[j][i] = math.Log(rng.Float64()*1e4 + 1e-3)
		}
	}
	whole := NewExactSums(genes)
	for j := range xs {
		for i, v := range xs[j] {
			whole.Add(i, v)
		}
	}
	// three shards, summed apart and merged, and the shards in reverse order
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
		bounds := []int{0, 37, 250, samples}
		merged := NewExactSums(genes)
		for _, k := range order {
			part := NewExactSums(genes)
			for j := bounds[k]; j < bounds[k+1]; j++ {
				for i, v := range xs[j] {
					part.Add(i, v)
				}
			}
			merged.Merge(part)
		}
		for i := 0; i < genes; i++ {
			if a, b := whole.Float64(i), merged.Float64(i); math.Float64bits(a) != math.Float64bits(b) {
				t.Fatalf("order %v gene %d: merged %v, whole %v", order, i, b, a)
			}
		}
	}
}

func TestExactSumsEdges(t *testing.T) {
	e := NewExactSums(2)
	if e.Float64(0) != 0 || e.Len() != 2 {
		t.Fatal("a new slot is not 0")
	}
	e.Add(1, 5e-324) // below 2^-128: dropped
	e.Add(1, -3.25)
	if got := e.Float64(1); got != -3.25 {
		t.Fatalf("got %v, want -3.25", got)
	}
	e.Add(1, 3.25)
	if got := e.Float64(1); got != 0 || math.Signbit(got) {
		t.Fatalf("x - x = %v, want +0", got)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Ldexp(1, 100)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%v) did not panic", bad)
				}
			}()
			e.Add(0, bad)
		}()
	}
}

func TestLogSumsExactAllocs(t *testing.T) {
	x := []float64{0, 1, 2, 3e6, 0.5}
	s, z := NewExactSums(len(x)), make([]int32, len(x))
	if n := testing.AllocsPerRun(10, func() { LogSumsExact(s, z, x) }); n != 0 {
		t.Fatalf("LogSumsExact allocates %v times", n)
	}
	if z[0] != 11 || z[1] != 0 {
		t.Fatalf("zeros %v", z)
	}
}

// roundFixed rounds any 256-bit magnitude as math/big does: random words,
// the highest bit anywhere, and the ties and near-ties of the rounding bit
// with and without set bits below it.
func TestRoundFixedMatchesBigFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	reference := func(mag [exactWords]uint64) float64 {
		z := new(big.Int)
		for k := exactWords - 1; k >= 0; k-- {
			z.Lsh(z, 64).Or(z, new(big.Int).SetUint64(mag[k]))
		}
		f := new(big.Float).SetPrec(53).SetMode(big.ToNearestEven).SetInt(z)
		v, _ := f.SetMantExp(f, -exactFracBits).Float64()
		return v
	}
	for n := 0; n < 200000; n++ {
		var mag [exactWords]uint64
		top := rng.IntN(255) // the highest set bit: bit 255 is the sign
		for b := 0; b <= top; b++ {
			if rng.IntN(2) == 0 {
				mag[b/64] |= 1 << uint(b%64)
			}
		}
		mag[top/64] |= 1 << uint(top%64)
		if s := top - 52; s > 0 && n%3 == 0 { // a tie: the rounding bit set, nothing below; half the time a set bit far below
			for b := 0; b < s; b++ {
				mag[b/64] &^= 1 << uint(b%64)
			}
			mag[(s-1)/64] |= 1 << uint((s-1)%64)
			if n%2 == 0 && s > 1 {
				mag[0] |= 1
			}
		}
		got, want := roundFixed(&mag), reference(mag)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%x: roundFixed %v, math/big %v", mag, got, want)
		}
	}
	if got := roundFixed(&[exactWords]uint64{}); got != 0 || math.Signbit(got) {
		t.Errorf("roundFixed(0) = %v", got)
	}
}
