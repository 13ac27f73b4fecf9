package deseq2

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/internal/reftest"
)

// The CONTRACT tolerance for iterate; what the tests measure is logged.
const iterateTol6 = 1e-6

// DESeq2 1.38.3's estimateSizeFactors(dds, type = "iterate") on the
// reference sets (ref/size_factors_extra.tsv.gz, column iterate).
func TestReferenceIterate(t *testing.T) {
	for _, ds := range datasets {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		want := reftest.Column(t, reftest.Path("reference", ds, "ref", "size_factors_extra.tsv.gz"), "iterate")
		rounds := 0
		got, err := SizeFactorsIterate(reftest.Background, m.Source(ds), IterateOptions{Trace: func(r IterateRound) { rounds = r.Round }})
		if err != nil {
			t.Fatalf("%s: %v", ds, err)
		}
		if got.Method != Iterate {
			t.Errorf("%s: method %q", ds, got.Method)
		}
		worst := 0.0
		for j, s := range m.Samples {
			worst = math.Max(worst, reftest.RelErr(got.SizeFactor[j], want[s]))
		}
		if worst > iterateTol6 {
			t.Errorf("%s iterate: worst relative error %.3g > %g", ds, worst, iterateTol6)
		}
		t.Logf("%s iterate (%d rounds): worst relative error %.3g", ds, rounds, worst)
	}
}

// PyDESeq2's fixture: R's iterative size factors of their synthetic matrix
// (10 genes, 100 samples), written with 15 significant digits, in sample
// order.
func TestPyDESeq2Iterate(t *testing.T) {
	m := reftest.ReadMatrix(t, reftest.Path("external", "pydeseq2", "datasets/synthetic/test_counts.csv"))
	want := reftest.Column(t, reftest.Path("external", "pydeseq2", "tests/data/single_factor/r_iterative_size_factors.csv"), "")
	if len(want) != len(m.Samples) {
		t.Fatalf("%d reference factors for %d samples", len(want), len(m.Samples))
	}
	got, err := SizeFactorsIterate(reftest.Background, m.Source("pydeseq2"), IterateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for j := range m.Samples {
		worst = math.Max(worst, reftest.RelErr(got.SizeFactor[j], want[strconv.Itoa(j+1)]))
	}
	if worst > iterateTol6 {
		t.Errorf("worst relative error %.3g > %g", worst, iterateTol6)
	}
	t.Logf("r_iterative_size_factors.csv: worst relative error %.3g", worst)
}

// The rounds give the same bits whatever the threads, the row blocks (in
// memory or spilled in small blocks) and the number of passes the gradient
// takes.
func TestIterateBlocksThreads(t *testing.T) {
	m := reftest.ReadMatrix(t, reftest.Path("reference", "synth_a", "counts.tsv"))
	var genes []int
	for i := range m.Genes {
		for j := range m.Samples {
			if m.Cols[j][i] > 0 {
				genes = append(genes, i)
				break
			}
		}
	}
	mem := NewRowMatrix(len(genes), len(m.Samples))
	for j := range m.Samples {
		for k, g := range genes {
			mem.Column(j)[k] = m.Cols[j][g]
		}
	}
	base, err := iterateRows(reftest.Background, mem, len(genes), IterateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := columnar.NewColumnSpill(t.TempDir(), len(genes), len(m.Samples), 700*len(m.Samples)*8)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	for j := range m.Samples {
		if err := sp.WriteColumn(j, mem.Column(j)); err != nil {
			t.Fatal(err)
		}
	}
	if sp.NumBlocks() < 4 {
		t.Fatalf("only %d blocks", sp.NumBlocks())
	}
	old := perturbationBudget
	perturbationBudget = 5 * len(genes) // 5 perturbed points a pass: 5 passes a gradient
	defer func() { perturbationBudget = old }()
	opts := IterateOptions{}
	opts.Pass.Threads = 3
	other, err := iterateRows(reftest.Background, sp, len(genes), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(base, other) {
		t.Errorf("in memory, 1 pass a gradient: %v\nspilled, 5 passes, 3 threads: %v", base, other)
	}
}

// Where DESeq2 fails or colnorm does not follow it, an InputError says why.
func TestIterateRefuses(t *testing.T) {
	cases := []struct {
		name string
		cols [][]float64
	}{
		{"four samples", [][]float64{{1, 5, 9}, {2, 6, 8}, {3, 4, 7}, {1, 2, 3}}},
		{"an all-zero sample", [][]float64{{1, 5, 9}, {2, 6, 8}, {3, 4, 7}, {1, 2, 3}, {0, 0, 0}}},
		{"constant genes", [][]float64{{1, 5, 0}, {1, 5, 0}, {1, 5, 0}, {1, 5, 0}, {1, 5, 0}}},
	}
	for _, c := range cases {
		samples := make([]string, len(c.cols))
		for j := range samples {
			samples[j] = fmt.Sprint("s", j+1)
		}
		src := columnar.NewMemory("m.tsv", []string{"g1", "g2", "g3"}, samples, c.cols)
		_, err := SizeFactorsIterate(reftest.Background, src, IterateOptions{})
		var ie *columnar.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: got %v, want an InputError", c.name, err)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
}

// R's dnbinom(x, size, mu = mu, log = TRUE), lgamma above 10 and trigamma
// (testdata/oracle/iterate_numerics.R).
func TestIterateNumerics(t *testing.T) {
	_, rows := reftest.Table(t, reftest.Path("oracle", "iterate_numerics.tsv"))
	worst := map[string]float64{}
	exact := map[string]int{}
	count := map[string]int{}
	for _, r := range rows {
		x, want := reftest.Num(t, r[1]), reftest.Num(t, r[4])
		var got float64
		switch r[0] {
		case "dnbinom":
			got = logDNBinomMu(x, reftest.Num(t, r[2]), reftest.Num(t, r[3]))
		case "lgamma":
			got = lgammaR(x)
		case "trigamma":
			got = trigammaFn(x)
		default:
			t.Fatalf("unknown function %q", r[0])
		}
		count[r[0]]++
		if got == want {
			exact[r[0]]++
		}
		worst[r[0]] = math.Max(worst[r[0]], reftest.RelErr(got, want))
	}
	limits := map[string]float64{"dnbinom": 3e-15, "lgamma": 0, "trigamma": 4e-16}
	for fn, lim := range limits {
		if count[fn] == 0 {
			t.Errorf("no %s values", fn)
		}
		if worst[fn] > lim {
			t.Errorf("%s: worst relative error %.3g > %g", fn, worst[fn], lim)
		}
		t.Logf("%s: %d of %d identical, worst relative error %.3g", fn, exact[fn], count[fn], worst[fn])
	}
}

// optim(par, fn, method = "L-BFGS-B") in R 4.2.2, with its finite-difference
// gradient: the Rosenbrock function from (-1.2, 1) (49 evaluations) and a
// quartic in 5 variables from 0 (11 evaluations).
func TestLBFGSBAgainstOptim(t *testing.T) {
	rosen := func(x []float64) float64 {
		a, b := x[1]-x[0]*x[0], 1-x[0]
		return 100*a*a + b*b
	}
	quartic := func(x []float64) float64 {
		c := []float64{1, -2, 3, 0.5, 2}
		var s, q float64
		for i, v := range x {
			d := v - c[i]
			s += float64(i+1) * d * d
			q += v * v * v * v
		}
		return s + q/10 + x[0]*x[1]
	}
	cases := []struct {
		name  string
		f     func([]float64) float64
		x0    []float64
		par   []float64
		value float64
		evals int
	}{
		{"rosenbrock", rosen, []float64{-1.2, 1}, []float64{0.99980003783378579, 0.99960011579784236}, 3.9984867919192357e-08, 49},
		{"quartic", quartic, make([]float64, 5),
			[]float64{1.3725917248257458, -1.7795748218061886, 2.2453362199544049, 0.4939821010843361, 1.7759474286135115}, 4.6533565839504192, 11},
	}
	for _, c := range cases {
		fg := func(x, g []float64) (float64, error) {
			p := append([]float64(nil), x...)
			for i := range x {
				p[i] = x[i] + optimNdeps
				f1 := c.f(p)
				p[i] = x[i] - optimNdeps
				f2 := c.f(p)
				g[i] = (f1 - f2) / (optimNdeps + optimNdeps)
				p[i] = x[i]
			}
			return c.f(x), nil
		}
		res, err := minimizeLBFGSB(c.x0, fg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Convergence != 0 || res.Evaluations != c.evals {
			t.Errorf("%s: convergence %d (%s), %d evaluations; optim: 0, %d", c.name, res.Convergence, res.Message, res.Evaluations, c.evals)
		}
		for i, want := range c.par {
			if !reftest.Close(res.Par[i], want, 1e-12, 0) {
				t.Errorf("%s: par[%d] = %.17g, optim %.17g", c.name, i, res.Par[i], want)
			}
		}
		if !reftest.Close(res.Value, c.value, 1e-8, 1e-15) {
			t.Errorf("%s: value %.17g, optim %.17g", c.name, res.Value, c.value)
		}
	}
}
