package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestLogCountIsMathLog(t *testing.T) {
	values := []float64{0, 1, 2, 3, 10, 65535, 65536, 65537, 1e6, 2.5, 0.25, 65535.5, math.Inf(1), 1 << 52}
	for k := 0; k < logTableSize; k += 7 {
		values = append(values, float64(k))
	}
	for _, v := range values {
		if got, want := LogCount(v), math.Log(v); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("LogCount(%v) = %v, want math.Log's %v", v, got, want)
		}
	}
	if !math.IsNaN(LogCount(math.NaN())) {
		t.Error("LogCount(NaN) should be NaN")
	}
}

// LogSumAccumulator.AddCounts must give LogSumsExact's sums, bit
// for bit: its whole-number fast path, the folds every foldEvery columns
// and the flushes change nothing, and gene 0, the largest count in every
// column, does not overflow a fold.
func TestLogSumAccumulatorEqualsLogSumsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const G, S = 500, 9*foldEvery + 3 // gene 1's sums would overflow 2^64 without folds
	a, b := NewExactSums(G), NewExactSums(G)
	acc := NewLogSumAccumulator(b)
	zerosA, zerosB := make([]int32, G), make([]int32, G)
	col := make([]float64, G)
	for j := 0; j < S; j++ {
		wholeOnly := j%3 == 0 // whole counts below 2^53 in all: the column sum is taken as an integer
		for i := range col {
			switch r.IntN(6) {
			case 0:
				col[i] = 0
			case 1:
				col[i] = float64(r.IntN(100000000)) // beyond the table too
			case 2:
				if wholeOnly {
					col[i] = []float64{1, 2, 65535, 65536, 1 << 40}[r.IntN(5)]
				} else {
					col[i] = []float64{1, 0.3, 1.2, 1.64, 1.65, 2, 1 << 52, 1<<53 - 1}[r.IntN(8)] // fractions, the 1/2 edge, the largest
				}
			case 3:
				if wholeOnly {
					col[i] = float64(r.IntN(70000))
				} else {
					col[i] = r.Float64() * 3 // fractional counts: negative and small logs
				}
			default:
				col[i] = float64(r.IntN(300))
			}
		}
		col[0] = 1<<53 - 1
		LogSumsExact(a, zerosA, col)
		sum, bad := acc.AddCounts(zerosB, col, true)
		if want := Sum(col); bad != -1 || math.Float64bits(sum) != math.Float64bits(want) {
			t.Fatalf("AddCounts = %v, %d; want the sum in order %v and -1", sum, bad, want)
		}
		if j == 2*foldEvery+5 {
			acc.Flush() // flushing in between changes nothing
		}
	}
	acc.Flush()
	if !slices.Equal(a.Words(), b.Words()) || !slices.Equal(zerosA, zerosB) {
		t.Fatal("LogSumAccumulator differs from LogSumsExact")
	}
}

// AddUint32s gives AddCounts' sums, zeros and column sums, bit for bit,
// over 32-bit counts: zeros, ones, the table's edge, counts up to 2^32 - 1
// (whose logs exceed the fold's share of a column only if foldEvery is
// wrong), over several folds and a flush in between.
func TestAddUint32sEqualsAddCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const G, S = 700, 3*foldEvery + 5
	a, b := NewExactSums(G), NewExactSums(G)
	accA, accB := NewLogSumAccumulator(a), NewLogSumAccumulator(b)
	zerosA, zerosB := make([]int32, G), make([]int32, G)
	col := make([]float64, G)
	for j := 0; j < S; j++ {
		counts := randomCounts(r, G)
		for i, c := range counts {
			col[i] = float64(c)
		}
		want, bad := accA.AddCounts(zerosA, col, false)
		if got := accB.AddUint32s(zerosB, counts); bad != -1 || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("column %d: AddUint32s = %v, AddCounts = %v (bad %d)", j, got, want, bad)
		}
		if j == foldEvery+3 {
			accB.Flush()
		}
	}
	accA.Flush()
	accB.Flush()
	if !slices.Equal(a.Words(), b.Words()) || !slices.Equal(zerosA, zerosB) {
		t.Fatal("AddUint32s's sums or zeros differ from AddCounts'")
	}
}

// randomCounts is a column of G 32-bit counts: zeros, ones, the edges of
// the logarithm table (65535, 65536) and of uint32, any uint32 and small
// counts; gene 1 is the largest count (its sums need the folds).
func randomCounts(r *rand.Rand, G int) []uint32 {
	c := make([]uint32, G)
	for i := range c {
		switch r.IntN(5) {
		case 0:
			c[i] = 0
		case 1:
			c[i] = []uint32{1, 2, 65535, 65536, 1<<32 - 1}[r.IntN(5)]
		case 2:
			c[i] = r.Uint32()
		default:
			c[i] = uint32(r.IntN(1000))
		}
	}
	c[1] = 1<<32 - 1
	return c
}

// AddUint32sPair gives the bits of AddUint32s of its two columns, its
// sums, zeros and column sums, across folds and mixed with single columns.
func TestAddUint32sPairEqualsAddUint32s(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const G, S = 500, 9*foldEvery + 3 // gene 1's sums would overflow 2^64 without folds
	a, b := NewExactSums(G), NewExactSums(G)
	accA, accB := NewLogSumAccumulator(a), NewLogSumAccumulator(b)
	zerosA, zerosB := make([]int32, G), make([]int32, G)
	column := func() []uint32 { return randomCounts(r, G) }
	for j := 0; j < S; {
		x := column()
		if j%7 == 3 && j < 2*foldEvery { // single columns between pairs (folds at odd counts), then pairs only
			want := accA.AddUint32s(zerosA, x)
			if got := accB.AddUint32s(zerosB, x); got != want {
				t.Fatalf("column %d: %v, %v", j, got, want)
			}
			j++
			continue
		}
		y := column()
		wantX, wantY := accA.AddUint32s(zerosA, x), accA.AddUint32s(zerosA, y)
		gotX, gotY := accB.AddUint32sPair(zerosB, x, y)
		if math.Float64bits(gotX) != math.Float64bits(wantX) || math.Float64bits(gotY) != math.Float64bits(wantY) {
			t.Fatalf("columns %d, %d: sums %v, %v; AddUint32s %v, %v", j, j+1, gotX, gotY, wantX, wantY)
		}
		j += 2
	}
	accA.Flush()
	accB.Flush()
	if !slices.Equal(a.Words(), b.Words()) || !slices.Equal(zerosA, zerosB) {
		t.Fatal("AddUint32sPair's sums or zeros differ from AddUint32s'")
	}
}

// The histogram path of Median (long inputs) must give exactly the sorted
// median, for spreads from all ties to huge ranges and heavy tails.
func TestMedianLongMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 300; trial++ {
		n := bucketMinN + r.IntN(5000)
		x := make([]float64, n)
		for i := range x {
			switch trial % 7 {
			case 6:
				x[i] = float64(r.IntN(medianBuckets+1)) * (3.0 / medianBuckets) // on the bucket edges
			case 0:
				x[i] = r.NormFloat64()
			case 1:
				x[i] = float64(r.IntN(3)) // mostly ties
			case 2:
				x[i] = math.Log(float64(1+r.IntN(100))) - 2.3
			case 3:
				x[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20)) // heavy tails
			case 4:
				x[i] = 7 // all equal
			default:
				x[i] = r.ExpFloat64()
				if i%1000 == 0 {
					x[i] = 1e300 // a far outlier squeezes the rest into one bucket
				}
			}
		}
		s := slices.Clone(x)
		slices.Sort(s)
		want := s[n/2]
		if n%2 == 0 {
			want = (s[n/2-1] + s[n/2]) / 2
		}
		if got := Median(x); got != want {
			t.Fatalf("trial %d (n=%d): Median = %v, want %v", trial, n, got, want)
		}
	}
	// A range that overflows falls back to quickselect.
	x := []float64{-math.MaxFloat64, math.MaxFloat64}
	for len(x) < 2*bucketMinN {
		x = append(x, float64(len(x)))
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if got, want := Median(x), (s[len(s)/2-1]+s[len(s)/2])/2; got != want {
		t.Fatalf("overflowing range: Median = %v, want %v", got, want)
	}
}

func BenchmarkLogCount(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 60000)
	for i := range x {
		x[i] = math.Floor(math.Exp(r.NormFloat64()*2 + 4))
	}
	dst := make([]float64, len(x))
	b.Run("LogCount", func(b *testing.B) {
		b.SetBytes(int64(8 * len(x)))
		for b.Loop() {
			for i, v := range x {
				dst[i] = LogCount(v)
			}
		}
	})
	b.Run("AddCounts", func(b *testing.B) {
		acc, zeros := NewLogSumAccumulator(NewExactSums(len(x))), make([]int32, len(x))
		b.SetBytes(int64(8 * len(x)))
		for b.Loop() {
			acc.AddCounts(zeros, x, false)
		}
	})
	b.Run("math.Log", func(b *testing.B) {
		b.SetBytes(int64(8 * len(x)))
		for b.Loop() {
			LogInto(dst, x)
		}
	})
}

// BenchmarkMedianQuickselect is the quickselect alone on the inputs of
// BenchmarkMedian, the baseline of the histogram path.
func BenchmarkMedianQuickselect(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 60000)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	buf := make([]float64, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		copy(buf, x)
		Select(buf, len(buf)/2)
	}
}

func TestAddCountsChecks(t *testing.T) {
	acc := NewLogSumAccumulator(NewExactSums(4))
	zeros := make([]int32, 4)
	x := []float64{0, 3, 70000, 12}
	sum, bad := acc.AddCounts(zeros, x, false)
	if bad != -1 || sum != 70015 || !slices.Equal(zeros, []int32{1, 0, 0, 0}) || x[1] != 3 {
		t.Fatalf("AddCounts = %v, %d, zeros %v, x %v; want 70015, -1, [1 0 0 0], x unchanged", sum, bad, zeros, x)
	}
	for _, c := range []struct {
		v          float64
		fractional bool
		bad        bool
	}{
		{-1, false, true}, {math.NaN(), false, true}, {math.Inf(1), true, true},
		{1 << 53, false, true}, {2.5, false, true}, {2.5, true, false}, {1<<53 - 1, false, false},
	} {
		acc := NewLogSumAccumulator(NewExactSums(3))
		sum, bad := acc.AddCounts(make([]int32, 3), []float64{4, c.v, 5}, c.fractional)
		switch {
		case c.bad && (bad != 1 || sum != 4):
			t.Errorf("AddCounts(%v, fractional=%v) = %v, %d; want 4 (the sum so far), 1", c.v, c.fractional, sum, bad)
		case !c.bad && bad != -1:
			t.Errorf("AddCounts(%v, fractional=%v): bad = %d, want -1", c.v, c.fractional, bad)
		}
	}
}

// LogRatioMedian is the median of DESeq2's log ratios written plainly.
func TestLogRatioMedianEqualsNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const G = 2000
	x, ref, use := make([]float64, G), make([]float64, G), make([]bool, G)
	for i := range x {
		x[i] = float64(r.IntN(50))
		ref[i] = r.NormFloat64() + 2
		if r.IntN(5) == 0 {
			ref[i] = math.Inf(-1)
		}
		use[i] = r.IntN(3) > 0
	}
	for _, u := range [][]bool{nil, use} {
		var want []float64 // DESeq2's log ratios, written plainly
		for i, v := range x {
			if v > 0 && !math.IsInf(ref[i], 0) && (u == nil || u[i]) {
				want = append(want, math.Log(v)-ref[i])
			}
		}
		var rm RatioMedian
		m, n := rm.LogRatioMedian(x, ref, UsableGenes(ref, u))
		if n != len(want) {
			t.Fatalf("LogRatioMedian counts %d ratios, the plain log ratios are %d (use nil: %v)", n, len(want), u == nil)
		}
		if med := Median(slices.Clone(want)); m != med {
			t.Fatalf("LogRatioMedian = %v, Median of the plain log ratios = %v", m, med)
		}
	}
}
