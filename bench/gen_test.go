package bench

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
)

func column(t testing.TB, m columnar.Source, j int) []float64 {
	t.Helper()
	col := make([]float64, len(m.Genes()))
	if err := m.ReadColumn(j, col); err != nil {
		t.Fatal(err)
	}
	return col
}

func TestDeterministic(t *testing.T) {
	p := Params{Genes: 2000, Samples: 6, Seed: 7}
	a, b := New(p), New(p)
	// Columns read in any order, by either matrix, are the same.
	for _, j := range []int{5, 0, 3} {
		if !slices.Equal(column(t, a, j), column(t, b, j)) {
			t.Fatalf("column %d differs between two matrices with the same seed", j)
		}
	}
	if !slices.Equal(column(t, a, 2), column(t, a, 2)) {
		t.Fatal("column 2 differs between two reads")
	}
	// Smaller matrices with the same seed are corners of the larger one.
	small := New(Params{Genes: 500, Samples: 3, Seed: 7})
	if !slices.Equal(column(t, small, 1), column(t, a, 1)[:500]) {
		t.Error("the first 500 genes of sample 2 depend on the matrix size")
	}
	// Another seed gives another matrix.
	other := New(Params{Genes: 2000, Samples: 6, Seed: 8})
	if slices.Equal(column(t, other, 0), column(t, a, 0)) {
		t.Error("seeds 7 and 8 give the same column")
	}
}

// The moments of the samplers the negative binomial is built from.
func TestSamplers(t *testing.T) {
	const n = 200000
	for _, lambda := range []float64{0.3, 4, poissonSmall - 0.01, poissonSmall, 60, 3e4} {
		r := newRNG(1, 99, uint64(lambda*1000))
		var sum, sum2 float64
		for range n {
			k := r.poisson(lambda)
			if k < 0 || k != math.Trunc(k) {
				t.Fatalf("poisson(%g) gave %g", lambda, k)
			}
			sum += k
			sum2 += k * k
		}
		mean := sum / n
		variance := sum2/n - mean*mean
		se := math.Sqrt(lambda / n)
		if math.Abs(mean-lambda) > 5*se || math.Abs(variance/lambda-1) > 0.03 {
			t.Errorf("poisson(%g): mean %g, variance %g", lambda, mean, variance)
		}
	}
	for _, shape := range []float64{0.05, 0.5, 1, 3, 10} {
		r := newRNG(2, 99, uint64(shape*1000))
		var sum, sum2 float64
		for range n {
			g := r.gamma(shape)
			sum += g
			sum2 += g * g
		}
		mean := sum / n
		variance := sum2/n - mean*mean
		if math.Abs(mean/shape-1) > 5*math.Sqrt(1/(shape*n)) || math.Abs(variance/shape-1) > 0.1 {
			t.Errorf("gamma(%g): mean %g, variance %g (want both %g)", shape, mean, variance, shape)
		}
	}
}

// The generated data look like bulk RNA-seq: many low genes, 10-20% of
// genes mostly zero, and (for 60,000 genes) libraries of 8-16 million
// reads varying about 2x.
func TestRealistic(t *testing.T) {
	p := Params{Genes: 20000, Samples: 40, Seed: 1}
	m := New(p)
	zeros := make([]int, p.Genes)
	sum := make([]float64, p.Genes)
	var libs []float64
	col := make([]float64, p.Genes)
	for j := range p.Samples {
		if err := m.ReadColumn(j, col); err != nil {
			t.Fatal(err)
		}
		lib := 0.0
		for i, v := range col {
			if v < 0 || v != math.Trunc(v) {
				t.Fatalf("count %g is not a count", v)
			}
			lib += v
			// Scaled back to size factor 1 for the mean.
			sum[i] += v / m.TrueSizeFactors()[j]
			if v == 0 {
				zeros[i]++
			}
		}
		libs = append(libs, lib*60000/float64(p.Genes))
	}
	zeroHeavy, low := 0, 0
	for i := range zeros {
		if 2*zeros[i] >= p.Samples {
			zeroHeavy++
		}
		if sum[i]/float64(p.Samples) < 10 {
			low++
		}
	}
	fz, fl := float64(zeroHeavy)/float64(p.Genes), float64(low)/float64(p.Genes)
	t.Logf("genes with half or more zeros: %.3f; with mean below 10: %.3f", fz, fl)
	if fz < 0.10 || fz > 0.22 {
		t.Errorf("%.3f of genes have half or more zeros, want 0.10-0.20", fz)
	}
	if fl < 0.3 || fl > 0.6 {
		t.Errorf("%.3f of genes have a mean below 10", fl)
	}
	lo, hi := slices.Min(libs), slices.Max(libs)
	t.Logf("library sizes for 60,000 genes: %.1fM to %.1fM", lo/1e6, hi/1e6)
	if hi/lo < 1.5 || hi/lo > 2.2 || lo < 5e6 || hi > 3e7 {
		t.Errorf("library sizes %.3g to %.3g", lo, hi)
	}
}

// Ratio size factors estimate the true factors up to a common scale.
func TestSizeFactorsRecoverTruth(t *testing.T) {
	m := New(Params{Genes: 8000, Samples: 12, Seed: 3})
	f, err := deseq2.SizeFactors(context.Background(), m, deseq2.Options{Method: deseq2.Ratio})
	if err != nil {
		t.Fatal(err)
	}
	truth := m.TrueSizeFactors()
	var logs []float64
	for j := range truth {
		logs = append(logs, math.Log(f.SizeFactor[j]/truth[j]))
	}
	mean := 0.0
	for _, l := range logs {
		mean += l / float64(len(logs))
	}
	for j, l := range logs {
		if math.Abs(l-mean) > 0.03 {
			t.Errorf("sample %d: estimated %g for a true %g (off by %.1f%% after scaling)",
				j, f.SizeFactor[j], truth[j], 100*(math.Exp(l-mean)-1))
		}
	}
}

// TMM's effective library sizes (lib x norm factor, edger's SizeFactor)
// estimate the true factors up to a common scale too, less closely than the
// median of ratios: the precision weights favour the few highest genes,
// whose dispersion is 0.1. The largest error is 3.4% for this seed (2% to
// 4.5% over seeds 1-10), so the bound is 6%.
func TestTMMRecoversTruth(t *testing.T) {
	m := New(Params{Genes: 8000, Samples: 12, Seed: 3})
	f, err := edger.NormFactors(context.Background(), m, edger.Options{Method: edger.TMM})
	if err != nil {
		t.Fatal(err)
	}
	truth := m.TrueSizeFactors()
	var logs []float64
	for j := range truth {
		logs = append(logs, math.Log(f.SizeFactor[j]/truth[j]))
	}
	mean := 0.0
	for _, l := range logs {
		mean += l / float64(len(logs))
	}
	for j, l := range logs {
		if math.Abs(l-mean) > 0.06 {
			t.Errorf("sample %d: estimated %g for a true %g (off by %.1f%% after scaling)",
				j, f.SizeFactor[j], truth[j], 100*(math.Exp(l-mean)-1))
		}
	}
}

// The benchmarks' factors function runs both methods on a Parquet file.
func TestFactorsMethods(t *testing.T) {
	path, err := Cached(context.Background(), t.TempDir(), Params{Genes: 500, Samples: 5, Seed: 2}, WideParquet)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"ratio", "tmm"} {
		if err := factors(method, path); err != nil {
			t.Errorf("%s: %v", method, err)
		}
	}
	if err := factors("rpkm", path); err == nil {
		t.Error("an unknown method gave no error")
	}
}

// Every kind of cached file reads back as the generator's columns.
func TestCachedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := Params{Genes: 300, Samples: ShardSamples + 7, Seed: 11} // two shards
	m := New(p)
	for _, kind := range []Kind{WideParquet, LongParquet, TSV, ShardFolder} {
		path, err := Cached(context.Background(), dir, p, kind)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) != CachedName(p, kind) {
			t.Errorf("%s: cached as %s", kind, path)
		}
		src, err := columnar.Open(path, columnar.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(src.Genes(), m.Genes()) || !slices.Equal(src.Samples(), m.Samples()) {
			t.Fatalf("%s: gene or sample ids differ", kind)
		}
		if !src.Integer() {
			t.Errorf("%s: not stored as integers", kind)
		}
		got := make([]float64, p.Genes)
		for j := range p.Samples {
			if err := src.ReadColumn(j, got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, column(t, m, j)) {
				t.Fatalf("%s: sample %d differs from the generator", kind, j)
			}
		}
		src.Close()
		again, err := Cached(context.Background(), dir, p, kind)
		if err != nil || again != path {
			t.Errorf("%s: second Cached call gave %q, %v", kind, again, err)
		}
	}
	if _, err := Cached(context.Background(), dir, p, "csv"); err == nil {
		t.Error("an unknown kind gave no error")
	}
}

// A folder named with a trailing slash is written as the folder itself;
// one that already holds files is left alone, with an error.
func TestWriteShardsFolder(t *testing.T) {
	dir := t.TempDir()
	m := New(Params{Genes: 300, Samples: 5, Seed: 4})
	out := filepath.Join(dir, "slice") + "/"
	if err := WriteShards(context.Background(), m, out, 2, columnar.SinkOptions{Layout: columnar.LayoutWide}); err != nil {
		t.Fatal(err)
	}
	src, err := columnar.Open(out, columnar.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := len(src.Samples()); got != 5 {
		t.Errorf("%d samples in the folder, want 5", got)
	}
	if !slices.Equal(column(t, src, 4), column(t, m, 4)) {
		t.Error("sample 5 differs from the matrix")
	}
	err = WriteShards(context.Background(), m, out, 2, columnar.SinkOptions{Layout: columnar.LayoutWide})
	if err == nil || !strings.Contains(err.Error(), "already holds files") {
		t.Errorf("writing into a full folder: %v", err)
	}
}

func TestMeasure(t *testing.T) {
	m, err := Measure(exec.Command("true"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("true: %v, %d KiB peak RSS (%s)", m.Wall, m.PeakRSS>>10, m.RSSFrom)
	if m.PeakRSS <= 0 || m.PeakRSS > 64<<20 {
		t.Errorf("peak RSS of true: %d bytes", m.PeakRSS)
	}
	m, err = measurePolling(exec.Command("sleep", "0.05"))
	if err != nil || m.PeakRSS <= 0 {
		t.Errorf("polling VmHWM: %d bytes, %v", m.PeakRSS, err)
	}
	if _, err := Measure(exec.Command("false")); err == nil {
		t.Error("a failing command gave no error")
	}
}
