package deseq2

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/pass"
)

// CONTRACT.md: size factors and normalized values within 1e-9 relative.
const tol = 1e-9

// matrixA is the example of ALGORITHMS.md §1 (g1..g8 x s1..s4).
func matrixA() (genes, samples []string, cols [][]float64) {
	rows := [][]float64{
		{10, 12, 30, 0}, {100, 80, 150, 200}, {5, 7, 0, 9}, {0, 0, 0, 0},
		{50, 45, 60, 75}, {1000, 1100, 900, 1500}, {3, 1, 4, 2}, {20, 25, 22, 30},
	}
	for i := range rows {
		genes = append(genes, fmt.Sprintf("g%d", i+1))
	}
	samples = []string{"s1", "s2", "s3", "s4"}
	cols = make([][]float64, 4)
	for j := range cols {
		for i := range rows {
			cols[j] = append(cols[j], rows[i][j])
		}
	}
	return
}

func memA() columnar.Source {
	g, s, c := matrixA()
	return columnar.NewMemory("A", g, s, c)
}

func checkFactors(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d factors, want %d", what, len(got), len(want))
	}
	for j := range want {
		if !reftest.Close(got[j], want[j], rel, 0) {
			t.Errorf("%s[%d] = %.17g, want %.17g (rel err %.3g)", what, j, got[j], want[j], reftest.RelErr(got[j], want[j]))
		}
	}
}

func TestWorkedExampleA(t *testing.T) {
	ctx := reftest.Background
	ratio, err := SizeFactors(ctx, memA(), Options{Method: Ratio})
	if err != nil {
		t.Fatal(err)
	}
	checkFactors(t, "ratio", ratio.SizeFactor, []float64{0.88638264949083168, 0.79774438454174845, 1.06365917938899779, 1.32957397423624712}, tol)
	checkFactors(t, "lib", ratio.LibSize, []float64{1188, 1270, 1166, 1816}, 0)

	pos, err := SizeFactors(ctx, memA(), Options{Method: PosCounts})
	if err != nil {
		t.Fatal(err)
	}
	checkFactors(t, "poscounts", pos.SizeFactor, []float64{0.83675224355653122, 0.92042746791218422, 1.04580079930354497, 1.24155102967669051}, tol)

	geo, err := LogGeoMeans(ctx, memA(), Ratio, pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantEll := map[int]float64{1: 4.8240373703265664, 4: 4.0326295427392189, 5: 7.0066089720458029, 6: 0.79451345758698644, 7: 3.1767119833606658}
	for i, l := range geo.LogGeoMean {
		if w, ok := wantEll[i]; ok {
			if !reftest.Close(l, w, 1e-15, 0) {
				t.Errorf("ℓ[g%d] = %.17g, want %.17g", i+1, l, w)
			}
		} else if !math.IsInf(l, -1) {
			t.Errorf("ℓ[g%d] = %v, want -Inf (a zero count)", i+1, l)
		}
	}

	controls := []bool{false, true, false, false, true, true, false, true} // g2, g5, g6, g8: an even count
	ctl, err := SizeFactors(ctx, memA(), Options{Method: Ratio, Controls: controls})
	if err != nil {
		t.Fatal(err)
	}
	checkFactors(t, "controls", ctl.SizeFactor, []float64{0.86002559929210498, 0.89158430294625846, 0.98809418655198178, 1.34411390992877267}, tol)

	sink := reftest.NewCollect(4)
	if err := Normalize(ctx, memA(), ratio.SizeFactor, Plain, sink, pass.Options{}); err != nil {
		t.Fatal(err)
	}
	g1 := []float64{sink.Cols[0][0], sink.Cols[1][0], sink.Cols[2][0], sink.Cols[3][0]}
	checkFactors(t, "normalized g1", g1[:3], []float64{11.2818092792591784, 15.0424123723455718, 28.20452319814795}, tol)
	if g1[3] != 0 {
		t.Errorf("normalized zero = %v", g1[3])
	}
}

// Every gene has a zero: ratio fails as DESeq2 does and says poscounts works;
// poscounts gives DESeq2's values.
func TestEveryGeneHasAZero(t *testing.T) {
	g, s, c := matrixA()
	for _, i := range []int{1, 4, 5, 7} {
		c[0][i] = 0
	}
	c[1][6] = 0
	_, err := SizeFactors(reftest.Background, columnar.NewMemory("zeros.tsv", g, s, c), Options{Method: Ratio})
	var ie *columnar.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "poscounts") || !strings.Contains(err.Error(), "zeros.tsv") {
		t.Fatalf("ratio with a zero in every gene: err = %v, want an InputError naming the file and poscounts", err)
	}
	pos, err := SizeFactors(reftest.Background, columnar.NewMemory("zeros.tsv", g, s, c), Options{Method: PosCounts})
	if err != nil {
		t.Fatal(err)
	}
	checkFactors(t, "poscounts", pos.SizeFactor, []float64{0.56674704220115479, 0.91156282193447269, 1.44130737382171481, 1.34297375335250280}, tol)

	// The fall-back gives the same poscounts factors from ratio's first pass.
	fb, err := SizeFactors(reftest.Background, columnar.NewMemory("zeros.tsv", g, s, c), Options{Method: Ratio, FallbackToPosCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	if fb.Method != PosCounts {
		t.Errorf("fall-back used %s", fb.Method)
	}
	checkFactors(t, "fall-back", fb.SizeFactor, pos.SizeFactor, 0)
	// Without zeros in every gene, the fall-back changes nothing.
	r, err := SizeFactors(reftest.Background, memA(), Options{Method: Ratio, FallbackToPosCounts: true})
	if err != nil || r.Method != Ratio {
		t.Fatalf("ratio with fall-back allowed: %v, %v", r, err)
	}
	checkFactors(t, "ratio", r.SizeFactor, []float64{0.88638264949083168, 0.79774438454174845, 1.06365917938899779, 1.32957397423624712}, tol)
}

// An all-zero sample: DESeq2 answers NA; colnorm names the sample.
func TestAllZeroSample(t *testing.T) {
	g, s, c := matrixA()
	for i := range c[2] {
		c[2][i] = 0
	}
	for _, m := range []Method{Ratio, PosCounts} {
		_, err := SizeFactors(reftest.Background, columnar.NewMemory("A", g, s, c), Options{Method: m})
		var ie *columnar.InputError
		if !errors.As(err, &ie) || ie.Sample != "s3" {
			t.Errorf("%s: err = %v, want an InputError naming sample s3", m, err)
		}
	}
}

// DESeq2's hand example: estimateSizeFactorsForMatrix(matrix(1:16, 4)). Four
// genes, so the median averages the two middle log ratios.
func TestMatrix1to16(t *testing.T) {
	genes := []string{"1", "2", "3", "4"}
	samples := []string{"a", "b", "c", "d"}
	cols := make([][]float64, 4)
	for j := range cols {
		for i := 0; i < 4; i++ {
			cols[j] = append(cols[j], float64(4*j+i+1)) // column-major 1:16
		}
	}
	got, err := SizeFactors(reftest.Background, columnar.NewMemory("m", genes, samples, cols), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Printed by R 4.2.2 with DESeq2 1.38.3 here:
	// sprintf("%.17g", estimateSizeFactorsForMatrix(matrix(1:16, 4)))
	want := []float64{0.3495015129606876, 0.92469408613479698, 1.4964760735251257, 2.0676788349894517}
	checkFactors(t, "matrix(1:16,4)", got.SizeFactor, want, 1e-12)
}

// passCounter counts the passes it follows.
type passCounter struct{ passes int }

func (p *passCounter) Start(columns, genes int) { p.passes++ }
func (p *passCounter) Done(columns int)         {}
func (p *passCounter) End()                     {}

// fusedMatrix is genes x samples of counts with zeros, ties and a wide range.
func fusedMatrix(genes, samples int, allHaveZero bool) columnar.Source {
	return testMatrix("fused", genes, samples, func(i, j int) float64 {
		if allHaveZero && j == i%samples {
			return 0
		}
		return float64((i*7919+j*104729)%(1+i*i%5000)) + float64(i%3)
	})
}

// testMatrix is the matrix of genes x samples (genes g0, g1, ..., samples
// s0, s1, ...) whose count of gene i in sample j is count(i, j).
func testMatrix(name string, genes, samples int, count func(i, j int) float64) columnar.Source {
	var g, s []string
	cols := make([][]float64, samples)
	for i := 0; i < genes; i++ {
		g = append(g, fmt.Sprintf("g%d", i))
	}
	for j := range cols {
		s = append(s, fmt.Sprintf("s%d", j))
		for i := 0; i < genes; i++ {
			cols[j] = append(cols[j], count(i, j))
		}
	}
	return columnar.NewMemory(name, g, s, cols)
}

// The rough base means of the medians pass are within their bound of
// BaseMeans over the same factors, for any number of threads, with and
// without control genes, in one pass fewer; after the poscounts fall-back
// (factors recentred after the medians) there are none, and SizeFactors
// itself sums none.
func TestBaseMeansFromMediansPass(t *testing.T) {
	controls := make([]bool, 300)
	for i := range controls {
		controls[i] = i%4 == 1
	}
	for _, c := range []struct {
		name       string
		src        columnar.Source
		opts       Options
		wantFusion bool
	}{
		{"ratio", fusedMatrix(300, 37, false), Options{Method: Ratio, FallbackToPosCounts: true}, true},
		{"controls", fusedMatrix(300, 37, false), Options{Method: Ratio, Controls: controls}, true},
		{"fall-back", fusedMatrix(300, 37, true), Options{Method: Ratio, FallbackToPosCounts: true}, false},
		{"poscounts", fusedMatrix(300, 37, false), Options{Method: PosCounts}, false},
	} {
		for _, threads := range []int{1, 2, 5} {
			name := fmt.Sprintf("%s, %d threads", c.name, threads)
			opts := c.opts
			counter := &passCounter{}
			opts.Pass = pass.Options{Threads: threads, Progress: counter}
			f, bm, err := sizeFactors(reftest.Background, c.src, opts, true)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			plain, err := SizeFactors(reftest.Background, c.src, Options{Method: c.opts.Method, FallbackToPosCounts: c.opts.FallbackToPosCounts, Controls: c.opts.Controls})
			if err != nil {
				t.Fatal(err)
			}
			for j := range plain.SizeFactor {
				if math.Float64bits(f.SizeFactor[j]) != math.Float64bits(plain.SizeFactor[j]) {
					t.Errorf("%s: factor %d %v, SizeFactors %v", name, j, f.SizeFactor[j], plain.SizeFactor[j])
				}
			}
			if !c.wantFusion {
				if bm != nil {
					t.Errorf("%s (%s factors): base means from the medians pass", name, f.Method)
				}
				continue
			}
			if counter.passes != 2 {
				t.Errorf("%s: %d passes, want 2", name, counter.passes)
			}
			want, err := BaseMeans(reftest.Background, c.src, f.SizeFactor, pass.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			rough, k := bm.means(len(f.SizeFactor))
			if len(rough) != len(want) {
				t.Fatalf("%s: %d base means, want %d", name, len(rough), len(want))
			}
			if k <= 0 || k > 1e-12 {
				t.Fatalf("%s: bound %g of the rough base means", name, k)
			}
			for i := range want {
				if math.Abs(rough[i]-want[i]) > k*want[i] {
					t.Errorf("%s: rough base mean %d %v, BaseMeans %v: beyond the bound %g", name, i, rough[i], want[i], k)
				}
			}
		}
	}
	counter := &passCounter{}
	if _, bm, err := sizeFactors(reftest.Background, fusedMatrix(300, 37, false), Options{Pass: pass.Options{Progress: counter}}, false); err != nil || bm != nil || counter.passes != 2 {
		t.Errorf("without base means: %v, base means %v, %d passes", err, bm != nil, counter.passes)
	}
}

// FitVST with NSub reads the columns three times (sums, medians with the
// base means, the subset's rows), and picks the subset BaseMeans picks.
// After the poscounts fall-back the base means take a fourth pass.
func TestFitVSTSubsetInThreePasses(t *testing.T) {
	for _, fallBack := range []bool{false, true} {
		fitVSTSubset(t, fusedMatrix(300, 37, fallBack), fallBack)
	}
}

func fitVSTSubset(t *testing.T, src columnar.Source, fallBack bool) {
	counter := &passCounter{}
	model, err := FitVST(reftest.Background, src, VSTOptions{NSub: 40, Pass: pass.Options{Threads: 2, Progress: counter}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]int{false: 3, true: 4}[fallBack]; counter.passes != want || (model.Factors.Method == PosCounts) != fallBack {
		t.Errorf("%s factors: %d passes, want %d", model.Factors.Method, counter.passes, want)
	}
	bm, err := BaseMeans(reftest.Background, src, model.Factors.SizeFactor, pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := VSTSubset(bm, 40)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(model.Subset) != fmt.Sprint(want) {
		t.Errorf("subset %v, from BaseMeans %v", model.Subset, want)
	}
}

// unsettledGenes keeps open the genes whose interval [bm(1-2k), bm(1+2k)]
// holds 5 or meets a neighbour's above 5, and no other.
func TestUnsettledGenes(t *testing.T) {
	const k = 1e-13
	bm := []float64{
		1,                // 0: far below 5
		1 * (1 + 1e-14),  // 1: meets gene 0, but below 5: order unused
		5 * (1 - 1e-14),  // 2: may be above 5
		5 * (1 + 1e-12),  // 3: above 5 for sure, apart from all
		7,                // 4: ties gene 5
		7,                // 5
		7 * (1 + 3e-13),  // 6: meets gene 5's interval (2k each side)
		7 * (1 + 5e-13),  // 7: meets gene 6's
		9,                // 8
		3e5,              // 9
		3e5 * (1 - 1e-9), // 10: close, but apart
	}
	got := unsettledGenes(bm, k, 5)
	want := []int{2, 4, 5, 6, 7}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("unsettled %v, want %v", got, want)
	}
	if got := unsettledGenes([]float64{2, 6, 8, 10}, k, 5); len(got) != 0 {
		t.Errorf("unsettled %v among well-separated means", got)
	}
}

// FitVST picks BaseMeans' subset when rough base means cannot order the
// genes: rows repeated (exact ties, whose order is the genes' order) take a
// pass over their rows alone.
func TestFitVSTSubsetSettlesTies(t *testing.T) {
	const genes, samples = 200, 23
	src := testMatrix("ties", genes, samples, func(i, j int) float64 {
		row := i
		if i%10 == 9 { // a copy of the gene before
			row = i - 1
		}
		return float64(3 + (row*7919+j*104729)%(1+row*row%700))
	})
	counter := &passCounter{}
	model, err := FitVST(reftest.Background, src, VSTOptions{NSub: 40, Pass: pass.Options{Threads: 2, Progress: counter}})
	if err != nil {
		t.Fatal(err)
	}
	if counter.passes != 4 {
		t.Errorf("%d passes, want 4 (sums, medians, the tied genes' rows, the subset's rows)", counter.passes)
	}
	bm, err := BaseMeans(reftest.Background, src, model.Factors.SizeFactor, pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ties := 0
	for i := 9; i < genes; i += 10 {
		if bm[i] == bm[i-1] && bm[i] > 5 {
			ties++
		}
	}
	if ties < 10 {
		t.Fatalf("only %d tied pairs above 5", ties)
	}
	want, err := VSTSubset(bm, 40)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(model.Subset) != fmt.Sprint(want) {
		t.Errorf("subset %v, from BaseMeans %v", model.Subset, want)
	}
}
