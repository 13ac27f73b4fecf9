package qc

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/colnorm/colnorm/kernels"
)

// The box summaries from the counts' order statistics equal R's type-7
// quartiles of the transformed values, bit for bit (ties and zeros too).
func TestBoxFromCountQuartiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, n := range []int{1, 2, 3, 4, 7, 100, 1001} {
		col := make([]float64, n)
		for i := range col {
			col[i] = math.Floor(math.Exp(6 * rng.Float64() * rng.Float64())) // many zeros and ties
		}
		for _, sf := range []float64{1, 0.73, 1.41} {
			f := func(c float64) float64 { return math.Log2(c/sf + 1) }
			got := countQuartiles(make([]float64, n), col).box(f)
			v := make([]float64, n)
			for i, c := range col {
				v[i] = f(c)
			}
			want := Box{Min: slices.Min(v), Q1: kernels.Quantile7(v, 0.25), Median: kernels.Quantile7(v, 0.5),
				Q3: kernels.Quantile7(v, 0.75), Max: slices.Max(v)}
			if got != want {
				t.Errorf("n %d, sf %v: %+v, want %+v", n, sf, got, want)
			}
		}
	}
}
