package deseq2

import (
	"math"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/pass"
)

// The DESeq2 1.38.3 outputs of ../shared/reference, copied into testdata/reference.
var datasets = []string{"marioni", "synth_a", "spike"}

func TestReferenceSizeFactors(t *testing.T) {
	for _, ds := range datasets {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		ref := reftest.Path("reference", ds, "ref", "size_factors.tsv.gz")
		for _, method := range []Method{Ratio, PosCounts} {
			want := reftest.Column(t, ref, string(method))
			got, err := SizeFactors(reftest.Background, m.Source(ds), Options{Method: method})
			if math.IsNaN(want[m.Samples[0]]) { // DESeq2 fails here
				if err == nil {
					t.Errorf("%s %s: DESeq2 fails, colnorm gave no error", ds, method)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", ds, method, err)
			}
			worst := 0.0
			for j, s := range m.Samples {
				worst = math.Max(worst, reftest.RelErr(got.SizeFactor[j], want[s]))
			}
			if worst > tol {
				t.Errorf("%s %s: worst relative error %.3g > %g", ds, method, worst, tol)
			}
			t.Logf("%s %s: worst relative error %.3g", ds, method, worst)
		}
	}
}

func TestReferenceNormalizedCounts(t *testing.T) {
	for _, ds := range datasets {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		want := reftest.ReadMatrix(t, reftest.Path("reference", ds, "ref", "normalized_ratio.tsv.gz"))
		sf, err := SizeFactors(reftest.Background, m.Source(ds), Options{Method: Ratio})
		if err != nil {
			t.Fatal(err)
		}
		sink := reftest.NewCollect(len(m.Samples))
		if err := Normalize(reftest.Background, m.Source(ds), sf.SizeFactor, Plain, sink, pass.Options{}); err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for j := range m.Samples {
			if want.Samples[j] != m.Samples[j] {
				t.Fatalf("sample order differs")
			}
			for i := range m.Genes {
				w, g := want.Cols[j][i], sink.Cols[j][i]
				if !reftest.Close(g, w, tol, 1e-12) {
					t.Fatalf("%s %s/%s: %.17g, want %.17g", ds, m.Genes[i], m.Samples[j], g, w)
				}
				worst = math.Max(worst, reftest.RelErr(g, w))
			}
		}
		t.Logf("%s normalized counts: worst relative error %.3g", ds, worst)
	}
}

// Spike-in size factors: DESeq2 estimateSizeFactors(controlGenes = ERCC rows).
func TestReferenceControlGenes(t *testing.T) {
	m := reftest.ReadMatrix(t, reftest.Path("reference", "spike", "counts.tsv"))
	want := reftest.Column(t, reftest.Path("reference", "spike", "ref", "size_factors_extra.tsv.gz"), "controls")
	controls := make([]bool, len(m.Genes))
	for i, g := range m.Genes {
		controls[i] = strings.HasPrefix(g, "ERCC-")
	}
	got, err := SizeFactors(reftest.Background, m.Source("spike"), Options{Method: Ratio, Controls: controls})
	if err != nil {
		t.Fatal(err)
	}
	for j, s := range m.Samples {
		if !reftest.Close(got.SizeFactor[j], want[s], tol, 0) {
			t.Errorf("%s: %.17g, want %.17g", s, got.SizeFactor[j], want[s])
		}
	}
}

// PyDESeq2's own fixtures: R's size factors for their test matrices. They
// were written by R's write.csv with 15 significant digits, so they are
// compared at 1e-13 relative (our tolerance, 1e-9, is looser still).
func TestPyDESeq2Fixtures(t *testing.T) {
	cases := []struct {
		counts, factors string
		method          Method
	}{
		{"datasets/synthetic/test_counts.csv", "tests/data/single_factor/r_test_size_factors.csv", Ratio},
		{"datasets/synthetic/test_counts.csv", "tests/data/single_factor/r_test_size_factors_poscount.csv", PosCounts},
		{"tests/data/wide/test_counts.csv", "tests/data/wide/r_test_size_factors.csv", Ratio},
		{"tests/data/continuous/test_counts.csv", "tests/data/continuous/r_test_size_factors.csv", Ratio},
	}
	for _, c := range cases {
		m := reftest.ReadMatrix(t, reftest.Path("external", "pydeseq2", c.counts))
		want := reftest.Column(t, reftest.Path("external", "pydeseq2", c.factors), "")
		got, err := SizeFactors(reftest.Background, m.Source(c.counts), Options{Method: c.method})
		if err != nil {
			t.Fatalf("%s: %v", c.factors, err)
		}
		if len(want) != len(m.Samples) {
			t.Fatalf("%s: %d reference factors for %d samples", c.factors, len(want), len(m.Samples))
		}
		worst := 0.0
		for j, s := range m.Samples {
			w, ok := want[s]
			if !ok {
				t.Fatalf("%s: no reference for sample %s", c.factors, s)
			}
			worst = math.Max(worst, reftest.RelErr(got.SizeFactor[j], w))
		}
		if worst > 1e-13 {
			t.Errorf("%s: worst relative error %.3g", c.factors, worst)
		}
		t.Logf("%s: worst relative error %.3g", c.factors, worst)
	}
}
