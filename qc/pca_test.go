package qc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// m2VST is DESeq2's varianceStabilizingTransformation(dds, blind = TRUE,
// fitType = "parametric") of ALGORITHMS.md's matrix M2 (genes g01..g24 by
// samples s1..s4), printed with %.17g by DESeq2 1.38.3 on R 4.2.2 here. It
// agrees with §5.8's table to 1e-14.
var m2VST = [][]float64{
	{6.2035045457552602, 6.163622159298968, 6.0756468160490362, 6.1628512993328979},
	{6.272206506564685, 6.3580450484446001, 6.0756468160490362, 6.1140311097856994},
	{6.3299623144423647, 6.2234807860868928, 6.296374825108102, 5.8962447223309757},
	{6.3807044366435219, 6.2738362719010414, 5.8962447223309757, 6.1628512993328979},
	{6.5073475895201369, 6.3946954315473779, 6.4317188888951398, 6.5447507647753183},
	{6.4684051852466204, 6.3580450484446001, 6.3342869372305559, 6.4048463460040672},
	{6.8748912463304599, 6.621863861879711, 7.0173005574625265, 6.755462824778518},
	{6.6419681649650242, 6.8790003736252077, 6.5620151017985782, 6.8984501146672743},
	{6.8287558766668397, 6.5466000287679238, 6.9497848742180715, 6.9515696066174835},
	{7.0751410920071631, 7.1413724787556987, 7.0923993760971511, 6.9719635499725223},
	{6.9397411339522943, 7.2840470487908053, 7.0555837104412262, 7.2036575353554424},
	{7.7394455913564375, 7.5050460276322122, 7.7490929080694952, 7.5366977289316779},
	{7.603097179155033, 7.4584808946382815, 7.4021976105140492, 7.4320132359346589},
	{7.5227163311616625, 7.7881348007179616, 7.8518923348470295, 7.6436098179184615},
	{7.8976923991161367, 8.0305113910830492, 8.0084310266759271, 8.3937855997619675},
	{8.5735795228765852, 8.3043875434652215, 8.5370836180202296, 8.408756657689219},
	{8.4866741951579687, 9.0296953621423111, 8.911518900776489, 8.8846180207460943},
	{8.8834671314653413, 9.0468037090953715, 9.0298336841492457, 8.8526218211002003},
	{9.3456099472094056, 9.6822422051085226, 9.9789787562276828, 9.6888256830226123},
	{9.7217452128127526, 9.5153012225666327, 9.9696883361439941, 9.9311132894647081},
	{9.8592618731754218, 10.533382947480064, 10.314763110965385, 10.42313046575277},
	{7.3704667168916513, 7.1911407588728142, 7.1278828769686857, 6.9618239338083567},
	{5.8962447223309757, 5.8962447223309757, 6.3690847611465724, 5.8962447223309757},
	{5.8962447223309757, 5.8962447223309757, 5.8962447223309757, 5.8962447223309757},
}

// m2RowVars is matrixStats::rowVars(m2VST) printed by R.
var m2RowVars = []float64{
	0.0029113139491326752, 0.017649028439958178, 0.039423205543610278, 0.043296176517221514,
	0.0047060625802030475, 0.0034950191466580093, 0.028445356534306711, 0.028533851970054619,
	0.036325393072520785, 0.0050777156908720566, 0.023516813409575021, 0.016817945339915343,
	0.0079417948836398508, 0.021812761766133958, 0.046413852680827261, 0.015205919467022792,
	0.055788422363565703, 0.0098710058571114864, 0.067046591287264631, 0.044065438602204576,
	0.087630176364444992, 0.028513081771780861, 0.055894425576783736, 0,
}

func TestRowVarAndTopVariable(t *testing.T) {
	for g, row := range m2VST {
		got := RowVar(row)
		if math.Abs(got-m2RowVars[g]) > 4e-16*m2RowVars[g] {
			t.Errorf("RowVar(g%02d) = %.17g, want %.17g", g+1, got, m2RowVars[g])
		}
	}
	vars := make([]float64, len(m2VST))
	for g, row := range m2VST {
		vars[g] = RowVar(row)
	}
	// R: rownames(v)[order(rowVars(v), decreasing = TRUE)]
	want := []int{21, 19, 23, 17, 15, 20, 4, 3, 9, 8, 22, 7, 11, 14, 2, 12, 16, 18, 13, 10, 5, 6, 1, 24}
	got := TopVariable(vars, 500)
	for i := range got {
		got[i]++
	}
	if !slices.Equal(got, want) {
		t.Errorf("TopVariable order %v, want %v", got, want)
	}
	if got := TopVariable(vars, 5); !slices.Equal(got, []int{20, 18, 22, 16, 14}) {
		t.Errorf("TopVariable(5) = %v", got)
	}

	// Stability, NaN last, and the edges.
	if got := TopVariable([]float64{1, 3, math.NaN(), 3, 2, 1}, 10); !slices.Equal(got, []int{1, 3, 4, 0, 5, 2}) {
		t.Errorf("ties/NaN order %v, want [1 3 4 0 5 2]", got)
	}
	if got := TopVariable([]float64{1, 2}, -1); len(got) != 0 {
		t.Errorf("ntop -1 gave %v", got)
	}
	if got := RowVar([]float64{4}); !math.IsNaN(got) {
		t.Errorf("RowVar of one value = %v, want NaN", got)
	}
	if got := RowVar([]float64{1, 2, 3, 4}); got != 5.0/3 {
		t.Errorf("RowVar(1..4) = %.17g, want 5/3", got)
	}
	// Mean-then-deviations keeps a large offset from spoiling the variance.
	if got := RowVar([]float64{1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4}); got != 5.0/3 {
		t.Errorf("RowVar(1e9 + 1..4) = %.17g, want 5/3", got)
	}
}

// maxSignedErr is the largest |got - s·want| over the samples divided by the
// largest |want|, with the sign s in {+1, -1} that makes it smaller.
func maxSignedErr(got, want []float64) float64 {
	var scale, plus, minus float64
	for j := range want {
		scale = max(scale, math.Abs(want[j]))
		plus = max(plus, math.Abs(got[j]-want[j]))
		minus = max(minus, math.Abs(got[j]+want[j]))
	}
	return min(plus, minus) / scale
}

func column(scores [][]float64, c int) []float64 {
	out := make([]float64, len(scores))
	for j := range scores {
		out[j] = scores[j][c]
	}
	return out
}

func TestPCAWorkedExample(t *testing.T) {
	// ALGORITHMS.md §6 (PC1, PC2, percentVar) and R's prcomp(t(v)) printed
	// here (PC3).
	p, err := PrincipalComponents(m2VST)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scores) != 4 || len(p.Scores[0]) != 4 || len(p.VarFrac) != 4 {
		t.Fatalf("shape %dx%d, %d fractions; want 4x4, 4", len(p.Scores), len(p.Scores[0]), len(p.VarFrac))
	}
	want := [][]float64{
		{-0.835869581494997, 0.23562719671226, 0.261063075743425, 0.339179309039309},
		{0.00102702782987583, -0.511280530650326, 0.662312669794572, -0.152059166974121},
		{0.0437323470904981, -0.3676957965240958, -0.1704123322854345, 0.4943757817190321},
	}
	for c, w := range want {
		// The worked values have 15 significant digits.
		if e := maxSignedErr(column(p.Scores, c), w); e > 2e-14 {
			t.Errorf("PC%d: relative error %.3g, scores %v, want ±%v", c+1, e, column(p.Scores, c), w)
		}
	}
	// PC4 is the null direction left by centring four samples: noise.
	for j := range 4 {
		if math.Abs(p.Scores[j][3]) > 1e-13 {
			t.Errorf("PC4[%d] = %g, want ~0", j, p.Scores[j][3])
		}
	}
	wantFrac := []float64{0.452597520908398, 0.34917363458662, 0.198228844504982}
	for c, w := range wantFrac {
		if math.Abs(p.VarFrac[c]-w) > 2e-14 {
			t.Errorf("VarFrac[%d] = %.17g, want %.15g", c, p.VarFrac[c], w)
		}
	}
	if p.VarFrac[3] > 1e-28 {
		t.Errorf("VarFrac[3] = %g, want ~5e-30", p.VarFrac[3])
	}
	// Signs are fixed: the largest |score| of each component is positive.
	for c := range 3 {
		col := column(p.Scores, c)
		big := slices.MaxFunc(col, func(a, b float64) int { return cmpAbs(a, b) })
		if big <= 0 {
			t.Errorf("PC%d's largest |score| %v is not positive", c+1, big)
		}
	}

	// ntop = 5: g21, g19, g23, g17, g15.
	top := [][]float64{m2VST[20], m2VST[18], m2VST[22], m2VST[16], m2VST[14]}
	p5, err := PrincipalComponents(top)
	if err != nil {
		t.Fatal(err)
	}
	w5 := []float64{0.670979940477842, -0.222707143639694, -0.276307799648061, -0.171964997190085}
	if e := maxSignedErr(column(p5.Scores, 0), w5); e > 2e-14 {
		t.Errorf("ntop=5 PC1: relative error %.3g", e)
	}
	if math.Abs(p5.VarFrac[0]-0.645547629195813) > 2e-14 {
		t.Errorf("ntop=5 VarFrac[0] = %.17g", p5.VarFrac[0])
	}
}

func cmpAbs(a, b float64) int {
	switch {
	case math.Abs(a) < math.Abs(b):
		return -1
	case math.Abs(a) > math.Abs(b):
		return 1
	}
	return 0
}

func TestPCAShapes(t *testing.T) {
	if p, err := PrincipalComponents(nil); err != nil || p.Scores != nil || p.VarFrac != nil {
		t.Errorf("no genes: %+v %v", p, err)
	}
	// Three samples: k = min(4, m, ntop) = 3 components.
	rows := [][]float64{{1, 2, 4}, {3, 1, 0}, {2, 2, 5}, {0, 1, 1}, {7, 5, 6}}
	p, err := PrincipalComponents(rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scores) != 3 || len(p.Scores[0]) != 3 || len(p.VarFrac) != 3 {
		t.Fatalf("m=3: shape %dx%d, %d fractions", len(p.Scores), len(p.Scores[0]), len(p.VarFrac))
	}
	if s := p.VarFrac[0] + p.VarFrac[1] + p.VarFrac[2]; math.Abs(s-1) > 1e-15 {
		t.Errorf("fractions sum to %v", s)
	}
	// Two genes, five samples: k = 2.
	p, err = PrincipalComponents([][]float64{{1, 2, 3, 4, 6}, {2, 1, 0, 2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scores) != 5 || len(p.Scores[0]) != 2 || len(p.VarFrac) != 2 {
		t.Fatalf("ntop=2: shape %dx%d, %d fractions", len(p.Scores), len(p.Scores[0]), len(p.VarFrac))
	}
	// One sample: nothing varies; scores and fractions are 0, not NaN.
	p, err = PrincipalComponents([][]float64{{3}, {5}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.VarFrac) != 1 || p.VarFrac[0] != 0 || p.Scores[0][0] != 0 {
		t.Errorf("m=1: %+v", p)
	}
	// Scores are centred: each component sums to ~0 over samples.
	p, _ = PrincipalComponents(m2VST)
	for c := range 3 {
		var s float64
		for _, v := range column(p.Scores, c) {
			s += v
		}
		if math.Abs(s) > 1e-14 {
			t.Errorf("PC%d sums to %g", c+1, s)
		}
	}
}

// BenchmarkPCA times PrincipalComponents on the 500 top genes.
func BenchmarkPCA(b *testing.B) {
	for _, m := range []int{200, 3000} {
		b.Run(fmt.Sprintf("ntop=500/samples=%d", m), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(9, 10))
			top := make([][]float64, DefaultTop)
			for g := range top {
				top[g] = make([]float64, m)
				for j := range top[g] {
					top[g][j] = 8 + rng.NormFloat64()
				}
			}
			for b.Loop() {
				if _, err := PrincipalComponents(top); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
