package deseq2

import (
	"math"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// Matrix M2 of ALGORITHMS.md §5.8: 24 genes, 4 samples, with R's answers.
func matrixM2(t *testing.T) columnar.Source {
	rows := strings.Split(strings.TrimSpace(`g01 2 2 1 3; g02 3 6 1 2; g03 4 3 5 0; g04 5 4 0 3; g05 8 7 9 18; g06 7 6 6 11; g07 21 15 41 32; g08 12 28 14 44; g09 19 12 36 49; g10 31 46 47 51; g11 24 58 44 77; g12 82 80 122 126; g13 69 75 77 109; g14 62 115 138 145; g15 99 152 165 335; g16 200 203 284 340; g17 184 400 401 531; g18 266 406 445 516; g19 396 689 969 1045; g20 538 602 962 1266; g21 600 1331 1255 1848; g22 50 50 50 50; g23 0 0 7 0; g24 0 0 0 0`), ";")
	var genes []string
	cols := make([][]float64, 4)
	for _, r := range rows {
		f := strings.Fields(r)
		genes = append(genes, f[0])
		for j := 0; j < 4; j++ {
			cols[j] = append(cols[j], reftest.Num(t, f[j+1]))
		}
	}
	return columnar.NewMemory("M2", genes, []string{"s1", "s2", "s3", "s4"}, cols)
}

func TestVSTWorkedExampleM2(t *testing.T) {
	src := matrixM2(t)
	model, err := FitVST(reftest.Background, src, VSTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkFactors(t, "M2 size factors", model.Factors.SizeFactor,
		[]float64{0.73753056630448155, 0.9748556240826014, 1.0843961627458836, 1.470775909813381}, 1e-15)
	idx := map[string]int{}
	for i, g := range src.Genes() {
		idx[g] = i
	}
	for _, c := range []struct {
		gene                     string
		baseMean, initial, estim float64
		iter                     int
	}{
		{"g01", 1.9313124393383119, 1e-8, 1e-8, 1},
		{"g02", 3.1260960566039246, 0.18868902482719987, 0.39802857538875452, 14},
		{"g12", 97.854835616265007, 0.01387831953793838, 0.017765048110858862, 6},
		{"g21", 1148.1654378895173, 0.042066724862825373, 0.046898640910601898, 7},
		{"g22", 49.796929572018641, 0.052453419742076714, 0.06066287615272567, 3},
		{"g23", 1.6138013579545407, 3.1737933998126593, 10, 25},
	} {
		g := model.Genes[idx[c.gene]]
		if reftest.RelErr(g.BaseMean, c.baseMean) > 1e-15 || reftest.RelErr(g.Initial, c.initial) > 1e-13 ||
			reftest.RelErr(g.Estimate, c.estim) > 1e-10 || g.Iter != c.iter {
			t.Errorf("%s: baseMean %v initial %v estimate %v iter %d; R %v %v %v %d",
				c.gene, g.BaseMean, g.Initial, g.Estimate, g.Iter, c.baseMean, c.initial, c.estim, c.iter)
		}
	}
	if g := model.Genes[idx["g24"]]; g.Estimate != 0 {
		t.Errorf("all-zero g24 got an estimate %v", g.Estimate)
	}
	tr := model.Trend
	if tr.Type != Parametric || tr.Genes != 18 ||
		reftest.RelErr(tr.A0, 0.019625503693402924) > 1e-12 || reftest.RelErr(tr.A1, 3.6754920874923425) > 1e-12 {
		t.Errorf("trend %+v; R a0 = 0.019625503693402924, a1 = 3.6754920874923425 on 18 genes", tr)
	}
	want := map[string][]float64{
		"g01": {6.2035045457552673, 6.1636221592989768, 6.0756468160490451, 6.1628512993329059},
		"g12": {7.7394455913564428, 7.5050460276322175, 7.7490929080694988, 7.5366977289316823},
		"g21": {9.8592618731754236, 10.533382947480064, 10.314763110965387, 10.423130465752772},
		"g22": {7.3704667168916567, 7.1911407588728196, 7.1278828769686911, 6.961823933808363},
		"g23": {5.8962447223309864, 5.8962447223309864, 6.3690847611465804, 5.8962447223309864},
		"g24": {5.8962447223309864, 5.8962447223309864, 5.8962447223309864, 5.8962447223309864},
	}
	sink := reftest.NewCollect(4)
	if err := WriteVST(reftest.Background, src, model, sink, pass.Options{}); err != nil {
		t.Fatal(err)
	}
	for g, w := range want {
		for j := range w {
			if d := math.Abs(sink.Cols[j][idx[g]] - w[j]); d > 1e-12 {
				t.Errorf("VST %s s%d = %v, R %v", g, j+1, sink.Cols[j][idx[g]], w[j])
			}
		}
	}
}

// The grid search of §5.8's g12 and its log posterior at α = 0.05.
func TestLogPosteriorAndGridM2(t *testing.T) {
	y := []float64{82, 80, 122, 126}
	mu := []float64{72.17093232769588, 95.394336844194399, 106.113408248407, 143.922534883151}
	var like nbLikelihood
	like.setGene(y, mu)
	if got := like.logPost(math.Log(0.05)); reftest.RelErr(got, -419.74674402694831) > 1e-14 {
		t.Errorf("ℓ(ln 0.05) = %v, R -419.74674402694831", got)
	}
	if got := like.dLogPost(math.Log(0.05)); reftest.RelErr(got, -0.6850381928867445) > 1e-12 {
		t.Errorf("ℓ′(ln 0.05) = %v, R -0.6850381928867445", got)
	}
	f := newDispersionFitter([]float64{0.73753056630448155, 0.9748556240826014, 1.0843961627458836, 1.470775909813381}, 10)
	copy(f.mu, mu)
	if got := math.Exp(f.gridSearch(y)); reftest.RelErr(got, 0.017087832591415119) > 1e-14 {
		t.Errorf("grid estimate %v, R 0.017087832591415119", got)
	}
	if f.grid[0] != -18.420680743952367 || f.grid[19] != 2.3025850929940459 || reftest.RelErr(f.grid[1]-f.grid[0], 1.0906982019445481) > 1e-15 {
		t.Errorf("grid %v … %v", f.grid[0], f.grid[19])
	}
}

func TestVSTMeanFitM2(t *testing.T) {
	src := matrixM2(t)
	model, err := FitVST(reftest.Background, src, VSTOptions{Fit: MeanFit})
	if err != nil {
		t.Fatal(err)
	}
	if reftest.RelErr(model.Trend.MeanDisp, 0.72930856929576515) > 1e-12 {
		t.Errorf("mean dispersion %v, R 0.72930856929576515", model.Trend.MeanDisp)
	}
	sf := model.Factors.SizeFactor
	want := []float64{9.6692589754467502, 10.415758534695327, 10.177433984923312, 10.295958454605172}
	for j, c := range []float64{600, 1331, 1255, 1848} {
		v := model.Trend.TransformInto(make([]float64, 1), []float64{c}, sf[j])[0]
		if math.Abs(v-want[j]) > 1e-12 {
			t.Errorf("mean VST g21 s%d = %v, R %v", j+1, v, want[j])
		}
	}
	if v := model.Trend.TransformInto(make([]float64, 1), []float64{0}, 1)[0]; math.Abs(v-(-1.5446012508086528)) > 1e-12 {
		t.Errorf("mean VST of 0 = %v, R -1.5446012508086528", v)
	}
}

// vstAgainst compares the VST of counts with R's matrix, returning the
// largest absolute difference.
func vstAgainst(t *testing.T, counts, ref string, opts VSTOptions) (float64, *VSTModel) {
	t.Helper()
	m := reftest.ReadMatrix(t, counts)
	want := reftest.ReadMatrix(t, ref)
	src := m.Source(counts)
	model, err := FitVST(reftest.Background, src, opts)
	if err != nil {
		t.Fatalf("%s: %v", counts, err)
	}
	sink := reftest.NewCollect(len(m.Samples))
	if err := WriteVST(reftest.Background, src, model, sink, pass.Options{}); err != nil {
		t.Fatal(err)
	}
	if len(want.Genes) != len(m.Genes) || len(want.Samples) != len(m.Samples) {
		t.Fatalf("%s: reference is %d x %d, counts %d x %d", ref, len(want.Genes), len(want.Samples), len(m.Genes), len(m.Samples))
	}
	worst := 0.0
	for j := range m.Samples {
		for i := range m.Genes {
			worst = math.Max(worst, math.Abs(sink.Cols[j][i]-want.Cols[j][i]))
		}
	}
	return worst, model
}

// DESeq2's varianceStabilizingTransformation(blind = TRUE) of the
// reference datasets: within 1e-4 absolute (CONTRACT.md); aim 1e-6.
func TestReferenceVST(t *testing.T) {
	for _, ds := range datasets {
		fit := strings.TrimSpace(reftest.ReadFile(t, reftest.Path("reference", ds, "ref", "vst_fit.txt")))
		worst, model := vstAgainst(t, reftest.Path("reference", ds, "counts.tsv"),
			reftest.Path("reference", ds, "ref", "vst.tsv.gz"), VSTOptions{})
		if string(model.Trend.Type) != fit {
			t.Errorf("%s: fit %s, R used %s", ds, model.Trend.Type, fit)
		}
		if worst > 1e-6 {
			t.Errorf("%s: worst |ΔVST| %.3g > 1e-6", ds, worst)
		}
		t.Logf("%s: %s fit on %d genes (%d by grid), worst |ΔVST| %.3g", ds, model.Trend.Type, model.Trend.Genes, model.GridFits(), worst)
	}
}

// PyDESeq2's fixtures: R's VST of their 10-gene, 100-sample test matrix,
// with the parametric and the mean trend (written with 15 digits).
func TestPyDESeq2VST(t *testing.T) {
	dir := reftest.Path("external", "pydeseq2")
	counts := dir + "/datasets/synthetic/test_counts.csv"
	for _, c := range []struct {
		ref string
		fit FitType
	}{{"r_vst.csv", Parametric}, {"r_mean_vst.csv", MeanFit}} {
		worst, model := vstAgainst(t, counts, dir+"/tests/data/single_factor/"+c.ref, VSTOptions{Fit: c.fit})
		if worst > 1e-6 {
			t.Errorf("%s: worst |ΔVST| %.3g > 1e-6 (%+v)", c.ref, worst, model.Trend)
		}
		t.Logf("%s: worst |ΔVST| %.3g", c.ref, worst)
	}
}

// DESeq2's vst(nsub = 1000): the trend fitted on the 1,000-gene subset
// (testdata/oracle/vst_nsub.R wrote the references with R 4.2.2, DESeq2 1.38.3).
func TestReferenceVSTSubset(t *testing.T) {
	for _, ds := range datasets {
		worst, model := vstAgainst(t, reftest.Path("reference", ds, "counts.tsv"),
			reftest.Path("oracle", "vst_nsub1000_"+ds+".tsv.gz"), VSTOptions{NSub: 1000})
		if len(model.Subset) != 1000 || len(model.Genes) != 1000 {
			t.Errorf("%s: fitted %d genes, want 1000", ds, len(model.Genes))
		}
		if worst > 1e-6 {
			t.Errorf("%s: worst |ΔVST| %.3g > 1e-6", ds, worst)
		}
		t.Logf("%s: nsub 1000, worst |ΔVST| %.3g", ds, worst)
	}
}

func TestVSTSubsetRefuses(t *testing.T) {
	bm := make([]float64, 1500)
	for i := range bm {
		bm[i] = float64(i % 7)
	}
	if _, err := VSTSubset(bm[:900], 1000); err == nil {
		t.Error("fewer genes than nsub: no error")
	}
	if _, err := VSTSubset(bm, 1000); err == nil { // only 1500·1/7 genes above 5
		t.Error("fewer genes above 5 than nsub: no error")
	}
}

// Estimates do not depend on the number of threads or on the row blocks.
func TestGeneDispersionsThreads(t *testing.T) {
	m := reftest.ReadMatrix(t, reftest.Path("reference", "marioni", "counts.tsv"))
	src := m.Source("marioni")
	f, err := SizeFactors(reftest.Background, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, closer, err := ReadRows(reftest.Background, src, nil, pass.Options{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	one, err := GeneDispersions(reftest.Background, rows, f.SizeFactor, 1)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := columnar.NewColumnSpill(t.TempDir(), len(m.Genes), len(m.Samples), 8*len(m.Samples)*100) // blocks of 100 genes
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	for j, col := range m.Cols {
		if err := sp.WriteColumn(j, col); err != nil {
			t.Fatal(err)
		}
	}
	four, err := GeneDispersions(reftest.Background, sp, f.SizeFactor, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != len(m.Genes) || len(four) != len(one) {
		t.Fatalf("%d and %d estimates for %d genes", len(one), len(four), len(m.Genes))
	}
	for i := range one {
		if one[i] != four[i] {
			t.Fatalf("gene %d: %+v with 1 thread, %+v with 4 threads in blocks of 100", i, one[i], four[i])
		}
	}
}

// TransformInto takes small whole counts from a per-sample table for long
// columns: the values must be the very bits of the transform computed
// count by count, for both trend types, whole counts below and above the
// table and fractional counts.
func TestTransformIntoTableSameBits(t *testing.T) {
	counts := make([]float64, 4*kernels.MapTableSize+37)
	for i := range counts {
		switch i % 5 {
		case 0:
			counts[i] = float64(i % kernels.MapTableSize)
		case 1:
			counts[i] = float64(kernels.MapTableSize + i)
		case 2:
			counts[i] = float64(i%50) + 0.5
		default:
			counts[i] = float64(i % 300)
		}
	}
	for _, tr := range []Trend{{Type: Parametric, A0: 0.01, A1: 1.3}, {Type: MeanFit, MeanDisp: 0.07}} {
		for _, sf := range []float64{0.37, 1, 2.9} {
			got := tr.TransformInto(make([]float64, len(counts)), counts, sf)
			f := tr.transformOf(sf)
			for i, c := range counts {
				if want := f(c); math.Float64bits(got[i]) != math.Float64bits(want) {
					t.Fatalf("%s, sf %v: count %v gives %v, want %v", tr.Type, sf, c, got[i], want)
				}
			}
			short := tr.TransformInto(make([]float64, 100), counts[:100], sf) // below the table's length: no table
			for i, c := range counts[:100] {
				if math.Float64bits(short[i]) != math.Float64bits(f(c)) {
					t.Fatalf("%s, sf %v, short column: count %v differs", tr.Type, sf, c)
				}
			}
		}
	}
}

// WriteVST gives a columnar.ColumnFuncWriter the counts and a transform
// whose values are the bits TransformInto writes (its table of small counts
// is made with the same function), for both trend types and counts below
// and above the table's range.
func TestWriteVSTColumnFunc(t *testing.T) {
	tabled := false
	for _, ds := range datasets {
		for _, fit := range []FitType{Parametric, MeanFit} {
			m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
			src := m.Source(ds)
			model, err := FitVST(reftest.Background, src, VSTOptions{Fit: fit})
			if err != nil {
				t.Fatal(err)
			}
			plain, byFunc := reftest.NewCollect(len(m.Samples)), reftest.NewFuncCollect(len(m.Samples))
			if err := WriteVST(reftest.Background, src, model, plain, pass.Options{}); err != nil {
				t.Fatal(err)
			}
			if err := WriteVST(reftest.Background, src, model, byFunc, pass.Options{}); err != nil {
				t.Fatal(err)
			}
			if byFunc.Calls != len(m.Samples) {
				t.Fatalf("%s %s: %d columns through WriteColumnFunc, want %d", ds, fit, byFunc.Calls, len(m.Samples))
			}
			small, large := 0, 0
			for j := range m.Samples {
				for i, c := range m.Cols[j] {
					if c < kernels.MapTableSize {
						small++
					} else {
						large++
					}
					if math.Float64bits(plain.Cols[j][i]) != math.Float64bits(byFunc.Cols[j][i]) {
						t.Fatalf("%s %s: sample %d gene %d (count %v): %v through WriteColumnFunc, %v through WriteColumn",
							ds, fit, j, i, c, byFunc.Cols[j][i], plain.Cols[j][i])
					}
				}
			}
			if small > 0 && large > 0 && len(m.Genes) >= 4*kernels.MapTableSize {
				tabled = true
			}
		}
	}
	if !tabled {
		t.Errorf("no dataset has counts below and above %d and the %d genes that make TransformInto use its table", kernels.MapTableSize, 4*kernels.MapTableSize)
	}
}

// Normalize gives a columnar.ColumnFuncWriter the counts and a function
// whose values are the bits of its plain path (DivideInto, Log2p1Into).
func TestNormalizeColumnFunc(t *testing.T) {
	for _, ds := range datasets {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		src := m.Source(ds)
		f, err := SizeFactors(reftest.Background, src, Options{Method: PosCounts})
		if err != nil {
			t.Fatal(err)
		}
		for _, scale := range []Scale{Plain, Log2p1} {
			plain, byFunc := reftest.NewCollect(len(m.Samples)), reftest.NewFuncCollect(len(m.Samples))
			if err := Normalize(reftest.Background, src, f.SizeFactor, scale, plain, pass.Options{}); err != nil {
				t.Fatal(err)
			}
			if err := Normalize(reftest.Background, src, f.SizeFactor, scale, byFunc, pass.Options{}); err != nil {
				t.Fatal(err)
			}
			if byFunc.Calls != len(m.Samples) {
				t.Fatalf("%s: %d columns through WriteColumnFunc, want %d", ds, byFunc.Calls, len(m.Samples))
			}
			for j := range m.Samples {
				for i, c := range m.Cols[j] {
					want := c / f.SizeFactor[j]
					if scale == Log2p1 {
						want = math.Log2(want + 1)
					}
					p, q := plain.Cols[j][i], byFunc.Cols[j][i]
					if math.Float64bits(p) != math.Float64bits(want) || math.Float64bits(q) != math.Float64bits(want) {
						t.Fatalf("%s scale %d: sample %d gene %d (count %v): %v through WriteColumnFunc, %v through WriteColumn, want %v",
							ds, scale, j, i, c, q, p, want)
					}
				}
			}
		}
	}
}
