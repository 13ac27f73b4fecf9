package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogRatioMedianIsMedian compares LogRatioMedian with Median over the
// log ratios written plainly, bit for bit, on counts shaped like RNA-seq
// samples and on the grid's edge cases: every ratio equal, middle ranks in
// the first or last bucket (beyond e^±32), ratios on bucket boundaries,
// both parities of n, zeros skipped, large and fractional counts.
func TestLogRatioMedianIsMedian(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var m RatioMedian
	wholeChecked := 0 // inputs on which LogRatioMedianCounts was checked too
	check := func(name string, x, logRef []float64) {
		t.Helper()
		idx := UsableGenes(logRef, nil)
		var ratios []float64 // the log ratios written plainly
		for i, v := range x {
			if v > 0 && !math.IsInf(logRef[i], 0) {
				ratios = append(ratios, math.Log(v)-logRef[i])
			}
		}
		want := Median(ratios)
		got, n := m.LogRatioMedian(x, logRef, idx)
		if n != len(ratios) {
			t.Errorf("%s: n = %d, want %d", name, n, len(ratios))
		}
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("%s: LogRatioMedian = %v, Median = %v (n %d)", name, got, want, n)
		}
		// The same counts as 32-bit integers, when they all are.
		counts := make([]uint32, len(x))
		for i, v := range x {
			if counts[i] = uint32(v); float64(counts[i]) != v {
				return
			}
		}
		got32, n32 := m.LogRatioMedianCounts(counts, logRef, idx)
		if n32 != n || math.Float64bits(got32) != math.Float64bits(want) && !(math.IsNaN(got32) && math.IsNaN(want)) {
			t.Errorf("%s: LogRatioMedianCounts = %v (n %d), Median = %v (n %d)", name, got32, n32, want, len(ratios))
		}
		wholeChecked++
	}
	defer func() {
		if wholeChecked < 150 {
			t.Errorf("LogRatioMedianCounts checked on %d inputs of whole counts, want 150 or more", wholeChecked)
		}
	}()
	for trial := 0; trial < 300; trial++ {
		G := 1 + r.IntN(5000)
		if trial%50 == 0 {
			G = 60000
		}
		x, logRef := make([]float64, G), make([]float64, G)
		shift := r.NormFloat64() * 2
		for i := range x {
			mu := math.Exp(r.NormFloat64()*2 + 3)
			x[i] = math.Floor(mu * math.Exp(shift+0.3*r.NormFloat64()))
			logRef[i] = math.Log(mu)
			switch r.IntN(20) {
			case 0:
				logRef[i] = math.Inf(-1) // not usable
			case 1:
				x[i] = 0 // skipped
			case 2:
				x[i] = float64(70000 + r.IntN(1<<30)) // beyond the log table
			case 3:
				if trial%3 == 0 {
					x[i] += 0.25 // fractional counts take math.Log
				}
			}
		}
		check("random", x, logRef)
	}
	// Every ratio the same; a grid boundary exactly (ln e^0.5 ... via ref).
	x, ref := make([]float64, 1001), make([]float64, 1001)
	for i := range x {
		x[i], ref[i] = 10, math.Log(10)-0.5
	}
	check("ties on a bucket boundary", x, ref)
	x, ref = x[:1000], ref[:1000]
	for i := range x {
		ref[i] = math.Log(10) - float64(i%7)/ratioScale // ratios on seven boundaries
	}
	check("boundaries, even n", x, ref)
	for _, shift := range []float64{40, -40, 31.999, -31.999} {
		for i := range ref {
			ref[i] = math.Log(10) - shift - float64(i%5)*0.01
		}
		check("beyond the grid", x, ref)
	}
	// Two values: the middle ranks in different buckets far apart.
	check("two", []float64{1, 1e6}, []float64{0, 0})
	check("one", []float64{5}, []float64{0})
	check("none positive", []float64{0, 0}, []float64{1, 1})
	check("none usable", []float64{3, 4}, []float64{math.Inf(-1), math.Inf(-1)})
}

func BenchmarkLogRatioMedian(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const G = 60000
	x, logRef := make([]float64, G), make([]float64, G)
	for i := range x {
		mu := math.Exp(r.NormFloat64()*2 + 3)
		x[i] = math.Floor(mu * math.Exp(0.3*r.NormFloat64()))
		logRef[i] = math.Log(mu)
		if x[i] == 0 || i%2 == 0 {
			logRef[i] = math.Inf(-1) // about half the genes usable, as in real data
		}
	}
	idx := UsableGenes(logRef, nil)
	var m RatioMedian
	for b.Loop() {
		m.LogRatioMedian(x, logRef, idx)
	}
}

// middleLanes flags exactly the lanes in [first, first+span], for every
// bucket and ranges at the edges of the grid, whatever the other lanes hold.
func TestMiddleLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, rg := range [][2]uint64{{0, 0}, {1, 0}, {2047, 0}, {2047, 1}, {100, 7}, {4095, 0}, {0, 4095}, {4000, 95}, {1, 4094}} {
		first, span := rg[0], rg[1]
		for b := uint64(0); b < ratioBuckets; b++ {
			lane := r.IntN(4)
			var w uint64
			for k := 0; k < 4; k++ {
				v := uint64(r.IntN(ratioBuckets))
				if k == lane {
					v = b
				}
				w |= v << (16 * k)
			}
			got := middleLanes(w, first, span)
			for k := 0; k < 4; k++ {
				v := w >> (16 * k) & 0xffff
				want := v >= first && v <= first+span
				if (got>>(16*k+15)&1 == 1) != want {
					t.Fatalf("range [%d, %d], lanes %016x: lane %d (%d) flagged %v", first, first+span, w, k, v, !want)
				}
			}
			if got&^0x8000800080008000 != 0 {
				t.Fatalf("bits outside the lanes' tops: %016x", got)
			}
		}
	}
}
