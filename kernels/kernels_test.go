package kernels

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"testing"
)

// naiveMedian is the textbook median: sort, take the middle or the mean of the middle two.
func naiveMedian(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func TestMedianMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 2000; trial++ {
		n := 1 + r.IntN(60)
		x := make([]float64, n)
		for i := range x {
			switch trial % 3 {
			case 0:
				x[i] = r.NormFloat64()
			case 1:
				x[i] = float64(r.IntN(4)) // many ties
			default:
				x[i] = math.Log(float64(1 + r.IntN(1000)))
			}
		}
		want := naiveMedian(x)
		got := Median(append([]float64(nil), x...))
		if got != want {
			t.Fatalf("trial %d: Median(%v) = %v, want %v", trial, x, got, want)
		}
	}
}

func TestMedianEdges(t *testing.T) {
	if !math.IsNaN(Median(nil)) {
		t.Error("median of nothing should be NaN")
	}
	for _, c := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{1, 2}, 1.5},
		{[]float64{5, 5, 5, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{-math.Inf(1), 0, math.Inf(1)}, 0},
	} {
		if got := Median(c.x); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

func TestSelectPartitions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 500; trial++ {
		n := 1 + r.IntN(40)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(10))
		}
		k := r.IntN(n)
		s := append([]float64(nil), x...)
		sort.Float64s(s)
		if got := Select(x, k); got != s[k] {
			t.Fatalf("Select k=%d got %v want %v", k, got, s[k])
		}
		for i := 0; i < k; i++ {
			if x[i] > x[k] {
				t.Fatalf("x[%d]=%v > x[k]=%v", i, x[i], x[k])
			}
		}
		for i := k + 1; i < n; i++ {
			if x[i] < x[k] {
				t.Fatalf("x[%d]=%v < x[k]=%v", i, x[i], x[k])
			}
		}
	}
}

// exactSum sums float64 values exactly with big.Float and rounds once.
func exactSum(x []float64) float64 {
	s := new(big.Float).SetPrec(2000)
	for _, v := range x {
		s.Add(s, new(big.Float).SetFloat64(v))
	}
	f, _ := s.Float64()
	return f
}

func TestLogSumsAgainstExact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const genes, samples = 50, 300
	sums := NewExactSums(genes)
	acc := NewLogSumAccumulator(sums)
	zero := make([]int32, genes)
	logs := make([][]float64, genes)
	col := make([]float64, genes)
	for j := 0; j < samples; j++ {
		for i := range col {
			col[i] = float64(r.IntN(100000))
			if i == 7 && j == 11 {
				col[i] = 0
			}
			if col[i] > 0 {
				logs[i] = append(logs[i], math.Log(col[i]))
			}
		}
		if _, bad := acc.AddCounts(zero, col, false); bad != -1 {
			t.Fatalf("AddCounts: bad = %d", bad)
		}
	}
	acc.Flush()
	for i := 0; i < genes; i++ {
		want := exactSum(logs[i])
		got := sums.Float64(i)
		if got != want {
			t.Errorf("gene %d: log sum %v, exact %v", i, got, want)
		}
		if (zero[i] == 1) != (i == 7) || zero[i] > 1 {
			t.Errorf("gene %d: zero flag %v", i, zero[i])
		}
	}
}

func TestMeanR(t *testing.T) {
	if !math.IsNaN(MeanR(nil)) {
		t.Error("mean of nothing should be NaN")
	}
	// R: mean(c(1e16, 1, -1e16, 3)) is 1 (long double keeps the 1); naive float64 gives 0.75 or so.
	if got := MeanR([]float64{1e16, 1, -1e16, 3}); got != 1 {
		t.Errorf("MeanR = %v, want 1", got)
	}
	if got := MeanR([]float64{0.1, 0.2, 0.3}); got != 0.2 {
		t.Errorf("MeanR(0.1,0.2,0.3) = %v, want 0.2 (R prints 0.2 and mean(...) == 0.2 is TRUE)", got)
	}
}

// LogRatioMedian takes the genes with a positive count and a finite
// reference (and, with use, the used ones only).
func TestLogRatioMedianSmall(t *testing.T) {
	x := []float64{10, 0, 5, 7}
	ref := []float64{math.Log(5), math.Log(2), math.Inf(-1), 1}
	var m RatioMedian
	got, n := m.LogRatioMedian(x, ref, UsableGenes(ref, nil))
	want := []float64{math.Log(10) - math.Log(5), math.Log(7) - 1}
	if n != len(want) || got != (want[0]+want[1])/2 {
		t.Fatalf("LogRatioMedian = %v of %d ratios, want %v of %v", got, n, (want[0]+want[1])/2, want)
	}
	got, n = m.LogRatioMedian(x, ref, UsableGenes(ref, []bool{false, true, true, true}))
	if n != 1 || got != want[1] {
		t.Fatalf("LogRatioMedian with use = %v of %d ratios, want %v of 1", got, n, want[1])
	}
}

func TestScaling(t *testing.T) {
	x := []float64{0, 1, 10, 1e6}
	d := DivideInto(make([]float64, 4), x, 0.7)
	l := Log2p1Into(make([]float64, 4), x)
	for i, v := range x {
		if d[i] != v/0.7 {
			t.Errorf("DivideInto[%d] = %v", i, d[i])
		}
		if l[i] != math.Log2(v+1) {
			t.Errorf("Log2p1Into[%d] = %v", i, l[i])
		}
	}
}

func TestShapePanics(t *testing.T) {
	defer func() {
		if r := recover(); r != badLength {
			t.Fatalf("panic %v, want %q", r, badLength)
		}
	}()
	DivideInto(make([]float64, 2), make([]float64, 3), 1)
}

func TestNoAllocations(t *testing.T) {
	const n = 1000
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i % 37)
	}
	ref := make([]float64, n)
	var rm RatioMedian
	acc, zero := NewLogSumAccumulator(NewExactSums(n)), make([]int32, n)
	idx := UsableGenes(ref, nil)
	buf := make([]float64, n)
	for name, f := range map[string]func(){
		"Median":         func() { copy(buf, x); Median(buf) },
		"AddCounts":      func() { acc.AddCounts(zero, x, false) },
		"LogRatioMedian": func() { rm.LogRatioMedian(x, ref, idx) },
		"Divide":         func() { DivideInto(buf, x, 3) },
		"MeanR":          func() { MeanR(x) },
	} {
		if a := testing.AllocsPerRun(20, f); a != 0 {
			t.Errorf("%s allocates %v times per call", name, a)
		}
	}
}

func BenchmarkMedian(b *testing.B) {
	for _, n := range []int{1000, 60000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x := make([]float64, n)
			for i := range x {
				x[i] = r.NormFloat64()
			}
			buf := make([]float64, n)
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				copy(buf, x)
				Median(buf)
			}
		})
	}
}

func ExampleMedian() {
	fmt.Println(Median([]float64{4, 1, 3, 2}))
	// Output: 2.5
}

// naiveQuantile7 follows R's quantile.default type 7 on a sorted copy.
func naiveQuantile7(x []float64, p float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	h := 1 + float64(len(s)-1)*p
	lo, hi := int(math.Floor(h)), int(math.Ceil(h))
	q := s[lo-1]
	if h > float64(lo) && s[hi-1] != q {
		g := h - float64(lo)
		q = (1-g)*q + g*s[hi-1]
	}
	return q
}

func TestQuantile7MatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 3000; trial++ {
		n := 1 + r.IntN(50)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(20))
			if trial%2 == 0 {
				x[i] = r.ExpFloat64()
			}
		}
		p := []float64{0, 0.25, 0.5, 0.75, 0.9, 1, r.Float64()}[trial%7]
		want := naiveQuantile7(x, p)
		if got := Quantile7(append([]float64(nil), x...), p); got != want {
			t.Fatalf("Quantile7(%v, %v) = %v, want %v", x, p, got, want)
		}
	}
	// ALGORITHMS.md §2: the 0.75 quantiles of matrix A's non-zero rows
	if q := Quantile7([]float64{10, 100, 5, 50, 1000, 3, 20}, 0.75); q != 75 {
		t.Errorf("quantile of A[,1] = %v, want 75", q)
	}
	if q := Quantile7([]float64{12, 80, 7, 45, 1100, 1, 25}, 0.75); q != 62.5 {
		t.Errorf("quantile of A[,2] = %v, want 62.5", q)
	}
}

func TestAverageRanks(t *testing.T) {
	// the M values of ALGORITHMS.md §2's TMM example: ranks 1, 2, 4, 4, 4, 6
	x := []float64{-0.38777063350985069, -0.23576754006480100, 0.027266865768993037, 0.027266865768993037, 0.027266865768993037, 1.1971918672113053}
	rank, _ := AverageRanks(make([]float64, 6), make([]int, 6), x)
	want := []float64{1, 2, 4, 4, 4, 6}
	for i := range want {
		if rank[i] != want[i] {
			t.Errorf("rank = %v, want %v", rank, want)
			break
		}
	}
	rank, _ = AverageRanks(make([]float64, 4), make([]int, 4), []float64{3, 1, 3, 1})
	if rank[0] != 3.5 || rank[1] != 1.5 || rank[2] != 3.5 || rank[3] != 1.5 {
		t.Errorf("rank = %v", rank)
	}
}

func TestRecentre(t *testing.T) {
	// ALGORITHMS.md §1: poscounts before and after re-centring on matrix A
	x := []float64{0.90587523415877624, 0.99646275757465375, 1.13219301322199550, 1.34411390992877267}
	Recentre(x)
	want := []float64{0.83675224355653122, 0.92042746791218422, 1.04580079930354497, 1.24155102967669051}
	for i := range want {
		if math.Abs(x[i]-want[i]) > 1e-15*want[i] {
			t.Errorf("Recentre[%d] = %.17g, want %.17g", i, x[i], want[i])
		}
	}
}

// MapCounts gives f's bits for every value: whole counts below and above
// MapTableSize, fractional ones, and columns too short for its table.
func TestMapCountsSameBits(t *testing.T) {
	f := func(c float64) float64 { return math.Log2(c/0.37 + 1) }
	for _, n := range []int{1, 4*MapTableSize - 1, 4*MapTableSize + 5} {
		x := make([]float64, n)
		for i := range x {
			switch i % 4 {
			case 0:
				x[i] = float64(i % MapTableSize)
			case 1:
				x[i] = float64(MapTableSize + i)
			case 2:
				x[i] = float64(i%30) + 0.25
			}
		}
		got := MapCounts(make([]float64, n), x, f)
		for i, c := range x {
			if math.Float64bits(got[i]) != math.Float64bits(f(c)) {
				t.Fatalf("n %d: f(%v) = %v, MapCounts gave %v", n, c, f(c), got[i])
			}
		}
	}
}
