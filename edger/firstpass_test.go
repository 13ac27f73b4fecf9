package edger

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/colnorm/colnorm/kernels"
)

// sumAndMarks must give kernels.Sum's bits and the same marks as
// sumsAndMarks, for whole counts (small, large, with totals beyond 2^53)
// and, without whole, for fractional ones.
func TestSumAndMarksSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 2000; trial++ {
		n := rng.IntN(40)
		if trial%10 == 0 {
			n = 1000 + rng.IntN(5000)
		}
		col := make([]float64, n)
		style := trial % 4
		for i := range col {
			switch style {
			case 0: // counts with zeros
				col[i] = math.Floor(rng.ExpFloat64() * rng.ExpFloat64() * 50)
			case 1: // large whole counts whose total passes 2^53
				col[i] = math.Floor(rng.Float64() * 0x1p51)
			case 2: // near 2^53 itself
				col[i] = float64(kernels.MaxExactCount - 1 - rng.IntN(3))
			default: // fractional
				col[i] = rng.ExpFloat64() * 30
			}
			if rng.IntN(3) == 0 {
				col[i] = 0
			}
		}
		whole := style != 3
		mark, want := make([]uint8, n), make([]uint8, n)
		got := sumAndMarks(col, mark, whole)
		lib, _ := sumsAndMarks(col, want)
		if math.Float64bits(got) != math.Float64bits(kernels.Sum(col)) || math.Float64bits(lib) != math.Float64bits(got) {
			t.Fatalf("trial %d (style %d, %d genes): sum %v, kernels.Sum %v", trial, style, n, got, kernels.Sum(col))
		}
		for i := range mark {
			if mark[i] != want[i] || mark[i] != uint8(b2i(col[i] > 0)) {
				t.Fatalf("trial %d: mark[%d] = %d for %v", trial, i, mark[i], col[i])
			}
		}
		// Whole counts below 2^32, as 32-bit counts: the same sums and marks.
		if style == 3 || style == 2 {
			continue
		}
		counts := make([]uint32, n)
		for i, v := range col {
			counts[i] = uint32(min(v, math.MaxUint32))
			col[i] = float64(counts[i])
		}
		lib, sqrtSum := sumsAndMarks(col, want)
		clear(mark)
		if got := sumAndMarksCounts(counts, mark); math.Float64bits(got) != math.Float64bits(lib) {
			t.Fatalf("trial %d (style %d): sumAndMarksCounts %v, want %v", trial, style, got, lib)
		}
		if got := sqrtSumCounts(counts); math.Float64bits(got) != math.Float64bits(sqrtSum) {
			t.Fatalf("trial %d (style %d): sqrtSumCounts %v, want %v", trial, style, got, sqrtSum)
		}
		for i := range mark {
			if mark[i] != uint8(b2i(counts[i] > 0)) {
				t.Fatalf("trial %d: mark[%d] = %d for %d", trial, i, mark[i], counts[i])
			}
		}
	}
}
