package qc

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/kernels"
)

// synthVST makes VST-like values: genes x samples with a gene level (sd 2),
// a group effect of ±1.5 on one gene in ten, and noise of sd 0.25.
func synthVST(rng *rand.Rand, genes int, groups []string) [][]float64 {
	rows := make([][]float64, genes)
	for i := range rows {
		level := 8 + 2*rng.NormFloat64()
		effect := 0.0
		if i%10 == 0 {
			effect = 1.5 * float64(1-2*rng.IntN(2))
		}
		rows[i] = make([]float64, len(groups))
		for j, g := range groups {
			v := level + 0.25*rng.NormFloat64()
			if g == "B" {
				v += effect
			}
			rows[i][j] = v
		}
	}
	return rows
}

// qcOf runs the package on rows: correlations and the PCA of the top 500.
func qcOf(t *testing.T, rows [][]float64) (cor, scores [][]float64) {
	t.Helper()
	m := len(rows[0])
	cols := make([][]float64, m)
	for j := range cols {
		for _, r := range rows {
			cols[j] = append(cols[j], r[j])
		}
	}
	means := make([]float64, m)
	for j := range cols {
		means[j] = kernels.MeanR(cols[j])
	}
	pw := NewPairwise(m, means, 2)
	for _, r := range rows {
		pw.AddBlock(r, 1)
	}
	vars := make([]float64, len(rows))
	for i, r := range rows {
		vars[i] = RowVar(r)
	}
	var top [][]float64
	for _, g := range TopVariable(vars, DefaultTop) {
		top = append(top, rows[g])
	}
	p, err := PrincipalComponents(top)
	if err != nil {
		t.Fatal(err)
	}
	return pw.Correlation(), p.Scores
}

func flagged(out []Outlier) []int {
	var s []int
	for _, o := range out {
		s = append(s, o.Sample)
	}
	return s
}

func TestOutliersSynthetic(t *testing.T) {
	groups := []string{"A", "A", "A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "B", "B", "B", "B"}
	// Clean sets of this design: the rule stays quiet on (almost) all of
	// them, with and without the groups.
	falseFlags := 0
	for seed := uint64(2); seed <= 41; seed++ {
		cor, scores := qcOf(t, synthVST(rand.New(rand.NewPCG(seed, 4)), 3000, groups))
		if a, b := Outliers(len(groups), cor, scores, groups), Outliers(len(groups), cor, scores, nil); len(a)+len(b) != 0 {
			t.Logf("seed %d: %+v / %+v", seed, a, b)
			falseFlags++
		}
	}
	if falseFlags > 2 {
		t.Errorf("%d of 40 clean sets flagged a sample", falseFlags)
	}
	t.Logf("%d of 40 clean sets flagged a sample", falseFlags)
	rng := rand.New(rand.NewPCG(1, 4))
	rows := synthVST(rng, 3000, groups)

	cor, scores := qcOf(t, rows)
	if out := Outliers(len(groups), cor, scores, groups); len(out) != 0 {
		t.Errorf("clean data flagged %+v", out)
	}
	if out := Outliers(len(groups), cor, scores, nil); len(out) != 0 {
		t.Errorf("clean data as one group flagged %+v", out)
	}

	// A sample swap: sample 3 is labelled A but holds a B sample's profile.
	swapped := slices.Clone(groups)
	swapped[3], swapped[12] = "B", "A"
	out := Outliers(len(groups), cor, scores, swapped)
	if !slices.Equal(flagged(out), []int{3, 12}) {
		t.Fatalf("swapped labels: flagged %v, want [3 12]: %+v", flagged(out), out)
	}
	for _, o := range out {
		if len(o.Reasons) != 1 || !strings.HasPrefix(o.Reasons[0], "PC1/PC2 distance ") ||
			!strings.Contains(o.Reasons[0], "from group "+swapped[o.Sample]+" median (robust z ") {
			t.Errorf("sample %d: reasons %q", o.Sample, o.Reasons)
		}
		if o.MedianCor < MinMedianCor || !(o.PCDistance > 0) {
			t.Errorf("sample %d: median cor %v, distance %v", o.Sample, o.MedianCor, o.PCDistance)
		}
	}

	// An odd sample: sample 5's values belong to other genes (a scrambled
	// column), so it correlates with nobody.
	perm := rng.Perm(len(rows))
	odd := make([][]float64, len(rows))
	for i := range rows {
		odd[i] = slices.Clone(rows[i])
		odd[i][5] = rows[perm[i]][5]
	}
	cor, scores = qcOf(t, odd)
	out = Outliers(len(groups), cor, scores, groups)
	if len(out) != 1 || out[0].Sample != 5 {
		t.Fatalf("scrambled sample 5: flagged %+v", out)
	}
	if math.Abs(out[0].MedianCor) > 0.1 || !strings.HasPrefix(out[0].Reasons[0], "median correlation ") ||
		!strings.HasSuffix(out[0].Reasons[0], " < 0.80") {
		t.Errorf("scrambled sample 5: %+v", out[0])
	}
}

func TestOutliersRule(t *testing.T) {
	// PC distances from the median (0,0) of six samples: 1, 1, 1, 2, 2, 9.
	// med = 1.5, MAD = 0.5, limit = 1.5 + 5·1.4826·0.5 = 5.2065: only 9 flagged,
	// robust z = 7.5/0.7413 = 10.1.
	scores := [][]float64{{1, 0}, {0, 1}, {-1, 0}, {0, -2}, {-2, 0}, {9, 0}}
	out := Outliers(6, nil, scores, nil)
	if len(out) != 1 || out[0].Sample != 5 || out[0].PCDistance != 9 || !math.IsNaN(out[0].MedianCor) {
		t.Fatalf("got %+v", out)
	}
	if want := "PC1/PC2 distance 9.0 from the all-sample median (robust z 10.1)"; out[0].Reasons[0] != want {
		t.Errorf("reason %q, want %q", out[0].Reasons[0], want)
	}
	// Just inside the limit: not flagged.
	scores[5] = []float64{5.2, 0}
	if out := Outliers(6, nil, scores, nil); len(out) != 0 {
		t.Errorf("d = 5.2 < 5.2065 flagged: %+v", out)
	}
	// Groups under five samples are not judged.
	scores[5] = []float64{9, 0}
	if out := Outliers(6, nil, scores, []string{"x", "x", "x", "x", "y", "y"}); len(out) != 0 {
		t.Errorf("groups of 4 and 2 flagged: %+v", out)
	}
	// MAD = 0: most samples coincide; any sample off the median is flagged.
	same := [][]float64{{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1.5, 1}}
	out = Outliers(5, nil, same, nil)
	if len(out) != 1 || out[0].Sample != 4 || !strings.HasSuffix(out[0].Reasons[0], "(robust z +Inf)") {
		t.Errorf("MAD 0: %+v", out)
	}
	// All identical: d = 0 everywhere, nothing flagged.
	if out := Outliers(5, nil, [][]float64{{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, nil); len(out) != 0 {
		t.Errorf("identical scores flagged: %+v", out)
	}

	// Correlation rule: median over the other samples, R's median.
	cor := [][]float64{
		{1, 0.95, 0.90, 0.70},
		{0.95, 1, 0.93, 0.75},
		{0.90, 0.93, 1, 0.79},
		{0.70, 0.75, 0.79, 1},
	}
	out = Outliers(4, cor, nil, nil)
	if len(out) != 1 || out[0].Sample != 3 || out[0].MedianCor != 0.75 {
		t.Fatalf("correlation rule: %+v", out)
	}
	if want := "median correlation 0.75 < 0.80"; out[0].Reasons[0] != want {
		t.Errorf("reason %q, want %q", out[0].Reasons[0], want)
	}
	// A value that would print as 0.80 gets more digits.
	cor[3][0], cor[3][1], cor[3][2] = 0.7996, 0.7996, 0.7996
	if out = Outliers(4, cor, nil, nil); len(out) != 1 || out[0].Reasons[0] != "median correlation 0.7996 < 0.80" {
		t.Errorf("near the threshold: %+v", out)
	}
	// A constant sample has NaN correlations: flagged as undefined.
	nan := math.NaN()
	cor = [][]float64{{1, 0.9, nan}, {0.9, 1, nan}, {nan, nan, 1}}
	if out = Outliers(3, cor, nil, nil); len(out) != 1 || out[0].Sample != 2 || !math.IsNaN(out[0].MedianCor) {
		t.Errorf("constant sample: %+v", out)
	}
	if out := Outliers(0, nil, nil, nil); out != nil {
		t.Errorf("no samples: %+v", out)
	}
}

// TestOutliersOnReferences records what the rule says about the reference
// data sets with their own groups (meta.tsv) and R's PCA and correlations.
func TestOutliersOnReferences(t *testing.T) {
	want := map[string][]int{
		// Kidney's five samples nearly coincide in PC1/PC2 (MAD 0.009):
		// R1L3Kidney, 0.59 from their median, has a robust z of 64, and
		// R1L6Liver sits 11.1 from the Liver median on PC2 (0.6% of the
		// variance; z 10.4); neither is flagged, the groups' medians being
		// 87 apart.
		"marioni": nil,
		// Between-condition correlations are about 0.68 and within about
		// 0.82: within their groups no sample's median is below 0.80.
		"synth_a": nil,
		"spike":   nil,
	}
	for _, set := range refSets {
		ref := func(name string) string { return reftest.Path("reference", set, "ref", name) }
		_, prow := reftest.Table(t, ref("pca.tsv.gz"))
		_, crow := reftest.Table(t, ref("sample_cor.tsv.gz"))
		_, meta := reftest.Table(t, reftest.Path("reference", set, "meta.tsv"))
		m := len(prow)
		scores, cor, groups := make([][]float64, m), make([][]float64, m), make([]string, m)
		for j := range m {
			if meta[j][0] != prow[j][0] {
				t.Fatalf("%s: meta row %d is %s, pca row %s", set, j, meta[j][0], prow[j][0])
			}
			scores[j] = []float64{reftest.Num(t, prow[j][1]), reftest.Num(t, prow[j][2])}
			for _, v := range crow[j][1:] {
				cor[j] = append(cor[j], reftest.Num(t, v))
			}
			groups[j] = meta[j][1]
		}
		out := Outliers(m, cor, scores, groups)
		if !slices.Equal(flagged(out), want[set]) {
			t.Errorf("%s: flagged %v, want %v", set, flagged(out), want[set])
		}
		for _, o := range out {
			t.Logf("%s: %s: %s", set, prow[o.Sample][0], strings.Join(o.Reasons, "; "))
		}
	}
}
