package scanpy

import (
	"errors"
	"math"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/internal/reftest"
)

var datasets = []string{"marioni", "synth_a", "spike"}

// The reference sets' ref/normalize_total.tsv.gz and
// normalize_total_log1p.tsv.gz (../shared/oracle/reference.R).
func TestReferenceNormalizeTotal(t *testing.T) {
	for _, ds := range datasets {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		for _, c := range []struct {
			file  string
			log1p bool
		}{{"normalize_total.tsv.gz", false}, {"normalize_total_log1p.tsv.gz", true}} {
			want := reftest.ReadMatrix(t, reftest.Path("reference", ds, "ref", c.file))
			sink := reftest.NewCollect(len(m.Samples))
			if _, err := NormalizeTotal(reftest.Background, m.Source(ds), sink, TotalOptions{Log1p: c.log1p}); err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for j, s := range m.Samples {
				if want.Samples[j] != s {
					t.Fatalf("%s: sample order differs", c.file)
				}
				for i, g := range m.Genes {
					w, v := want.Cols[j][i], sink.Cols[j][i]
					if !reftest.Close(v, w, 1e-9, 1e-12) {
						t.Fatalf("%s %s %s/%s: %.17g, want %.17g", ds, c.file, g, s, v, w)
					}
					worst = math.Max(worst, reftest.RelErr(v, w))
				}
			}
			t.Logf("%s %s: worst relative error %.3g", ds, c.file, worst)
		}
	}
}

// ALGORITHMS.md §10, matrix A: totals 1188, 1270, 1166, 1816, target 1229.
func TestNormalizeTotalExample(t *testing.T) {
	cols := [][]float64{
		{10, 100, 5, 0, 50, 1000, 3, 20},
		{12, 80, 7, 0, 45, 1100, 1, 25},
		{30, 150, 0, 0, 60, 900, 4, 22},
		{0, 200, 9, 0, 75, 1500, 2, 30},
	}
	genes := []string{"g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"}
	src := columnar.NewMemory("A", genes, []string{"s1", "s2", "s3", "s4"}, cols)
	for _, c := range []struct {
		log1p bool
		want  []float64
	}{
		{false, []float64{10.345117845117846, 11.61259842519685, 31.620926243567755, 0}},
		{true, []float64{2.4287875055835721, 2.5346961894309907, 3.4849539917488972, 0}},
	} {
		sink := reftest.NewCollect(4)
		target, err := NormalizeTotal(reftest.Background, src, sink, TotalOptions{Log1p: c.log1p})
		if err != nil {
			t.Fatal(err)
		}
		if target != 1229 {
			t.Errorf("target %v, want 1229", target)
		}
		for j, w := range c.want {
			// the division gives these bits (the reference's (c/T)·target gives …844 for s1)
			if g := sink.Cols[j][0]; g != w {
				t.Errorf("log1p %v, g1/s%d: %.17g, want %.17g", c.log1p, j+1, g, w)
			}
		}
	}
}

// An all-zero sample leaves the median and stays zero; a given target is
// used as it is; with every sample zero the default target does not exist.
func TestNormalizeTotalEdges(t *testing.T) {
	genes := []string{"g1", "g2"}
	src := columnar.NewMemory("m", genes, []string{"a", "b", "c", "z"}, [][]float64{{1, 3}, {2, 8}, {5, 5}, {0, 0}})
	sink := reftest.NewCollect(4)
	target, err := NormalizeTotal(reftest.Background, src, sink, TotalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if target != 10 { // median of 4, 10, 10 (the zero total left out)
		t.Errorf("target %v, want 10", target)
	}
	if sink.Cols[3][0] != 0 || sink.Cols[3][1] != 0 || sink.Cols[0][0] != 1/(4.0/10) {
		t.Errorf("columns %v", sink.Cols)
	}
	sink = reftest.NewCollect(4)
	if target, err = NormalizeTotal(reftest.Background, src, sink, TotalOptions{TargetSum: 1e4}); err != nil || target != 1e4 {
		t.Fatalf("target %v, err %v", target, err)
	}
	if sink.Cols[1][1] != 8/(10/1e4) {
		t.Errorf("b/g2 = %v", sink.Cols[1][1])
	}
	zero := columnar.NewMemory("zero.tsv", genes, []string{"a", "b"}, [][]float64{{0, 0}, {0, 0}})
	_, err = NormalizeTotal(reftest.Background, zero, reftest.NewCollect(2), TotalOptions{})
	var ie *columnar.InputError
	if !errors.As(err, &ie) || ie.File != "zero.tsv" {
		t.Errorf("all zero: %v, want an InputError", err)
	}
	if _, err := NormalizeTotal(reftest.Background, zero, reftest.NewCollect(2), TotalOptions{TargetSum: 100}); err != nil {
		t.Errorf("all zero with a target: %v", err)
	}
	if _, err := NormalizeTotal(reftest.Background, src, reftest.NewCollect(4), TotalOptions{TargetSum: -1}); err == nil {
		t.Error("negative target accepted")
	}
}
