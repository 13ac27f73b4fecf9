package edger

import (
	"math"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/genelength"
	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/pass"
)

func collect(t *testing.T, src columnar.Source, f func(columnar.Sink) error) [][]float64 {
	t.Helper()
	sink := reftest.NewCollect(len(src.Samples()))
	if err := f(sink); err != nil {
		t.Fatal(err)
	}
	return sink.Cols
}

// ALGORITHMS.md §3 worked example on matrix A.
func TestCPMWorkedExample(t *testing.T) {
	ctx := reftest.Background
	f, err := NormFactors(ctx, matrixA(), Options{Method: TMM})
	if err != nil {
		t.Fatal(err)
	}
	L := f.EffectiveLibSize()
	check(t, "L", L, []float64{1141.7721514841808, 1254.4070164378877, 1302.1970377220368, 1712.9312499290652})
	check(t, "prior", PriorCounts(L, 2), []float64{1.6879797141199298, 1.8544974969344368, 1.9251495848839835, 2.5323732040616491})
	cpm := collect(t, matrixA(), func(s columnar.Sink) error { return CPM(ctx, matrixA(), L, false, 2, s, pass.Options{}) })
	check(t, "CPM g2", []float64{cpm[0][1], cpm[1][1], cpm[2][1], cpm[3][1]}, []float64{87583.148590557917, 63775.153480227062, 115189.94104179383, 116758.91837940505})
	lcpm := collect(t, matrixA(), func(s columnar.Sink) error { return CPM(ctx, matrixA(), L, true, 2, s, pass.Options{}) })
	check(t, "logCPM g1", []float64{lcpm[0][0], lcpm[1][0], lcpm[2][0], lcpm[3][0]}, []float64{13.317203753475281, 13.426801804826189, 14.577198571785885, 10.525547645363284})
	check(t, "logCPM g4", []float64{lcpm[0][3], lcpm[1][3], lcpm[2][3], lcpm[3][3]}, []float64{10.525547645363284, 10.525547645363284, 10.525547645363284, 10.525547645363284})
	l5 := collect(t, matrixA(), func(s columnar.Sink) error { return CPM(ctx, matrixA(), L, true, 0.5, s, pass.Options{}) })
	check(t, "logCPM g7 prior 0.5", []float64{l5[0][6], l5[1][6], l5[2][6], l5[3][6]}, []float64{11.548281090755895, 10.187258061177042, 11.747683740072222, 10.585009642746284})

	lengths := []float64{1000, 2000, 500, 1500, 800, 3000, 250, 1200}
	colSums := []float64{1188, 1270, 1166, 1816}
	r := collect(t, matrixA(), func(s columnar.Sink) error {
		return RPKM(ctx, matrixA(), colSums, lengths, false, 2, s, pass.Options{})
	})
	check(t, "rpkm(A) g3", []float64{r[0][2], r[1][2], r[3][2]}, []float64{8417.5084175084176, 11023.622047244095, 9911.894273127753})
	r = collect(t, matrixA(), func(s columnar.Sink) error { return RPKM(ctx, matrixA(), L, lengths, false, 2, s, pass.Options{}) })
	check(t, "rpkm(DGEList) g3", []float64{r[0][2], r[1][2], r[3][2]}, []float64{8758.3148590557921, 11160.651859039735, 10508.302654146455})
	r = collect(t, matrixA(), func(s columnar.Sink) error { return RPKM(ctx, matrixA(), L, lengths, true, 2, s, pass.Options{}) })
	check(t, "log rpkm g3", []float64{r[0][2], r[1][2], r[2][2], r[3][2]}, []float64{13.511820550765078, 13.780929759438912, 11.525547645363284, 13.712675135535589})
	tp := collect(t, matrixA(), func(s columnar.Sink) error { return TPM(ctx, matrixA(), lengths, false, s, pass.Options{}) })
	check(t, "TPM g3", []float64{tp[0][2], tp[1][2], tp[3][2]}, []float64{20222.446916076846, 27250.608272506088, 24169.184290030207})
	if tp[2][2] != 0 || r[2][2] == 0 {
		t.Errorf("zero count: TPM %v", tp[2][2])
	}
}

func compareMatrix(t *testing.T, what string, got [][]float64, wantPath string) {
	t.Helper()
	want := reftest.ReadMatrix(t, wantPath)
	worst := 0.0
	for j := range want.Cols {
		for i := range want.Cols[j] {
			g, w := got[j][i], want.Cols[j][i]
			if !reftest.Close(g, w, tol, 1e-12) {
				t.Fatalf("%s %s/%s: %.17g, want %.17g", what, want.Genes[i], want.Samples[j], g, w)
			}
			worst = math.Max(worst, reftest.RelErr(g, w))
		}
	}
	t.Logf("%s: worst relative error %.3g", what, worst)
}

func TestReferenceCPMFamily(t *testing.T) {
	ctx := reftest.Background
	for _, ds := range []string{"marioni", "synth_a", "spike"} {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		src := m.Source(ds)
		ref := func(f string) string { return reftest.Path("reference", ds, "ref", f) }
		lib, err := LibSizes(ctx, src, pass.Options{})
		if err != nil {
			t.Fatal(err)
		}
		compareMatrix(t, ds+" cpm raw", collect(t, src, func(s columnar.Sink) error { return CPM(ctx, src, lib, false, 2, s, pass.Options{}) }), ref("cpm_raw.tsv.gz"))
		f, err := NormFactors(ctx, src, Options{Method: TMM})
		if err != nil {
			t.Fatal(err)
		}
		L := f.EffectiveLibSize()
		compareMatrix(t, ds+" cpm tmm", collect(t, src, func(s columnar.Sink) error { return CPM(ctx, src, L, false, 2, s, pass.Options{}) }), ref("cpm_tmm.tsv.gz"))
		compareMatrix(t, ds+" logcpm tmm", collect(t, src, func(s columnar.Sink) error { return CPM(ctx, src, L, true, 2, s, pass.Options{}) }), ref("logcpm_tmm.tsv.gz"))
		if ds == "marioni" {
			lm, err := genelength.ReadTable(reftest.Path("reference", ds, "lengths.tsv"))
			if err != nil {
				t.Fatal(err)
			}
			lengths, err := genelength.Align(src, lm, "lengths.tsv")
			if err != nil {
				t.Fatal(err)
			}
			compareMatrix(t, ds+" rpkm", collect(t, src, func(s columnar.Sink) error { return RPKM(ctx, src, lib, lengths, false, 2, s, pass.Options{}) }), ref("rpkm.tsv.gz"))
			compareMatrix(t, ds+" tpm", collect(t, src, func(s columnar.Sink) error { return TPM(ctx, src, lengths, false, s, pass.Options{}) }), ref("tpm.tsv.gz"))
		}
	}
}

// ALGORITHMS.md §4: filterByExpr on A and the boundary trap.
func TestFilterByExprWorkedExamples(t *testing.T) {
	ctx := reftest.Background
	f, _ := NormFactors(ctx, matrixA(), Options{Method: TMM})
	L := f.EffectiveLibSize()
	keep, err := FilterByExpr(ctx, matrixA(), L, []string{"1", "1", "2", "2"}, FilterOptions{}, pass.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := boolString(keep); got != "TTFFTTFT" {
		t.Errorf("group (1,1,2,2): keep %s, want TTFFTTFT", got)
	}
	keep, _ = FilterByExpr(ctx, matrixA(), L, nil, FilterOptions{}, pass.Options{})
	if got := boolString(keep); got != "FTFFTTFT" {
		t.Errorf("no group: keep %s, want FTFFTTFT", got)
	}
	trap := columnar.NewMemory("trap", []string{"g"}, []string{"a", "b", "c"}, [][]float64{{20}, {10}, {30}})
	lib := []float64{5e6, 7053502.9559861869, 9e6}
	keep, _ = FilterByExpr(ctx, trap, lib, nil, FilterOptions{}, pass.Options{})
	if keep[0] {
		t.Error("boundary trap: n = 3 should drop the gene (CPM 1.4177352816607485 < cutoff 1.4177352816607487)")
	}
	keep, _ = FilterByExpr(ctx, trap, lib, []string{"1", "1", "2"}, FilterOptions{}, pass.Options{})
	if !keep[0] {
		t.Error("boundary trap with groups (1,1,2): n = 1 keeps the gene")
	}
	if n := MinSampleSize(make([]string, 14), 14, FilterOptions{}); n != 12.8 {
		t.Errorf("n for 14 samples = %v, want 12.8", n)
	}
}

func boolString(b []bool) string {
	s := ""
	for _, v := range b {
		if v {
			s += "T"
		} else {
			s += "F"
		}
	}
	return s
}

func TestReferenceFilterByExpr(t *testing.T) {
	ctx := reftest.Background
	groups := map[string]string{"marioni": "tissue", "synth_a": "condition", "spike": "group"}
	for ds, col := range groups {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		src := m.Source(ds)
		gcol := map[string]string{}
		h, rows := reftest.Table(t, reftest.Path("reference", ds, "meta.tsv"))
		k := 0
		for i, name := range h {
			if name == col {
				k = i
			}
		}
		for _, r := range rows {
			gcol[r[0]] = r[k]
		}
		group := make([]string, len(m.Samples))
		for j, s := range m.Samples {
			group[j] = gcol[s]
		}
		f, err := NormFactors(ctx, src, Options{Method: TMM})
		if err != nil {
			t.Fatal(err)
		}
		keep, err := FilterByExpr(ctx, src, f.EffectiveLibSize(), group, FilterOptions{}, pass.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, want := reftest.Table(t, reftest.Path("reference", ds, "ref", "filter_by_expr.tsv.gz"))
		kept, diff := 0, 0
		for i, r := range want {
			if r[0] != m.Genes[i] {
				t.Fatalf("gene order differs at %d", i)
			}
			if (r[1] == "true") != keep[i] {
				diff++
			}
			if keep[i] {
				kept++
			}
		}
		if diff != 0 {
			t.Errorf("%s: %d genes differ from edgeR", ds, diff)
		}
		t.Logf("%s: keeps %d of %d genes, as edgeR", ds, kept, len(keep))
	}
}

// CPM gives a columnar.ColumnFuncWriter the counts and kernels.CPMOf or
// LogCPMOf, whose values are the bits of its plain path (CPMInto,
// LogCPMInto).
func TestCPMColumnFunc(t *testing.T) {
	ctx := reftest.Background
	for _, ds := range []string{"marioni", "synth_a", "spike"} {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		src := m.Source(ds)
		f, err := NormFactors(ctx, src, Options{Method: TMM})
		if err != nil {
			t.Fatal(err)
		}
		L := f.EffectiveLibSize()
		for _, log := range []bool{false, true} {
			plain, byFunc := reftest.NewCollect(len(m.Samples)), reftest.NewFuncCollect(len(m.Samples))
			if err := CPM(ctx, src, L, log, 2, plain, pass.Options{}); err != nil {
				t.Fatal(err)
			}
			if err := CPM(ctx, src, L, log, 2, byFunc, pass.Options{}); err != nil {
				t.Fatal(err)
			}
			if byFunc.Calls != len(m.Samples) {
				t.Fatalf("%s: %d columns through WriteColumnFunc, want %d", ds, byFunc.Calls, len(m.Samples))
			}
			prior := PriorCounts(L, 2)
			for j := range m.Samples {
				for i, c := range m.Cols[j] {
					want := c * (1e6 / L[j])
					if log {
						want = (math.Log(c+prior[j]) - math.Log(L[j]+2*prior[j]) + math.Log(1e6)) / math.Ln2
					}
					p, q := plain.Cols[j][i], byFunc.Cols[j][i]
					if math.Float64bits(p) != math.Float64bits(want) || math.Float64bits(q) != math.Float64bits(want) {
						t.Fatalf("%s log %v: sample %d gene %d (count %v): %v through WriteColumnFunc, %v through WriteColumn, want %v",
							ds, log, j, i, c, q, p, want)
					}
				}
			}
		}
	}
}
