package edger

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/internal/reftest"
)

// CONTRACT.md: normalization factors within 1e-9 relative.
const tol = 1e-9

// matrixA is ALGORITHMS.md's example matrix (g1..g8 x s1..s4).
func matrixA() columnar.Source {
	rows := [][]float64{
		{10, 12, 30, 0}, {100, 80, 150, 200}, {5, 7, 0, 9}, {0, 0, 0, 0},
		{50, 45, 60, 75}, {1000, 1100, 900, 1500}, {3, 1, 4, 2}, {20, 25, 22, 30},
	}
	return fromRows("A", rows)
}

func fromRows(name string, rows [][]float64) columnar.Source {
	var genes, samples []string
	for i := range rows {
		genes = append(genes, fmt.Sprintf("g%d", i+1))
	}
	cols := make([][]float64, len(rows[0]))
	for j := range cols {
		samples = append(samples, fmt.Sprintf("s%d", j+1))
		for i := range rows {
			cols[j] = append(cols[j], rows[i][j])
		}
	}
	return columnar.NewMemory(name, genes, samples, cols)
}

func check(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for j := range want {
		if !reftest.Close(got[j], want[j], tol, 0) {
			t.Errorf("%s[%d] = %.17g, want %.17g", what, j, got[j], want[j])
		}
	}
}

func TestWorkedExampleA(t *testing.T) {
	want := map[Method][]float64{
		TMM:           {0.96108766959947867, 0.98772206018731323, 1.11680706494171256, 0.94324408035741469},
		TMMwsp:        {0.95897456003440051, 0.98554528546425479, 1.12421120840969757, 0.94117074249978483},
		RLE:           {0.99750124123608808, 0.83978608435403590, 1.21958642324714184, 0.97882555720413489},
		UpperQuartile: {0.93056163230308708, 0.72539843777957180, 1.32736715853044118, 1.11605905019610341},
	}
	for m, w := range want {
		f, err := NormFactors(reftest.Background, matrixA(), Options{Method: m})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		check(t, string(m), f.NormFactor, w)
		if m == TMM && f.RefSample != 3 {
			t.Errorf("TMM reference = s%d, want s4", f.RefSample+1)
		}
	}
}

// The reference fallback: median of the upper-quartile fractions is 0, so
// the reference is the largest Σ√x (ALGORITHMS.md §2).
func TestReferenceFallback(t *testing.T) {
	rows := [][]float64{{1, 0, 1}, {0, 0, 2}, {0, 0, 5}, {0, 0, 4}, {0, 2, 0}, {0, 0, 1}, {0, 0, 3}, {0, 0, 2}, {0, 0, 0}}
	f, err := NormFactors(reftest.Background, fromRows("fallback", rows), Options{Method: TMM})
	if err != nil {
		t.Fatal(err)
	}
	if f.RefSample != 2 {
		t.Errorf("reference = s%d, want s3", f.RefSample+1)
	}
	check(t, "TMM", f.NormFactor, []float64{6.86828545531999080, 0.38157141418444401, 0.38157141418444401})
}

func TestFailuresNameTheSample(t *testing.T) {
	rows := [][]float64{{10, 0, 3}, {5, 0, 2}, {7, 0, 9}}
	for _, m := range []Method{TMM, TMMwsp, RLE, UpperQuartile} {
		_, err := NormFactors(reftest.Background, fromRows("z.tsv", rows), Options{Method: m})
		var ie *columnar.InputError
		if !errors.As(err, &ie) || ie.Sample != "s2" {
			t.Errorf("%s with an all-zero sample: %v", m, err)
		}
	}
	every := [][]float64{{0, 1, 3}, {5, 0, 2}, {7, 1, 0}}
	_, err := NormFactors(reftest.Background, fromRows("z.tsv", every), Options{Method: RLE})
	if !errors.Is(err, columnar.ErrFormat) {
		t.Errorf("RLE when every gene has a zero: %v", err)
	}
}

// edgeR 3.40.2 outputs for the reference datasets (size_factors.tsv columns
// tmm, tmmwsp, rle, upperquartile are calcNormFactors' norm factors).
func TestReferenceNormFactors(t *testing.T) {
	for _, ds := range []string{"marioni", "synth_a", "spike"} {
		m := reftest.ReadMatrix(t, reftest.Path("reference", ds, "counts.tsv"))
		ref := reftest.Path("reference", ds, "ref", "size_factors.tsv.gz")
		for _, method := range []Method{TMM, TMMwsp, RLE, UpperQuartile} {
			want := reftest.Column(t, ref, string(method))
			got, err := NormFactors(reftest.Background, m.Source(ds), Options{Method: method})
			if math.IsNaN(want[m.Samples[0]]) {
				if !errors.Is(err, columnar.ErrFormat) {
					t.Errorf("%s %s: edgeR answers NA; colnorm: %v", ds, method, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", ds, method, err)
			}
			worst := 0.0
			for j, s := range m.Samples {
				worst = math.Max(worst, reftest.RelErr(got.NormFactor[j], want[s]))
			}
			if worst > tol {
				t.Errorf("%s %s: worst relative error %.3g", ds, method, worst)
			}
			t.Logf("%s %s: worst relative error %.3g", ds, method, worst)
		}
	}
}

// RNAnorm's GTEx fixture: 30 lung samples as rows, edgeR TMM and
// upper-quartile factors (their files start with the R code as comments).
func TestRNAnormGTEx(t *testing.T) {
	src, err := columnar.Open(reftest.Path("external", "rnanorm", "gtex_lung.first30.chr21.csv.gz"), columnar.Options{SamplesAsRows: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for method, file := range map[Method]string{TMM: "gtex.lung.30.chr21.tmm_factors_edgeR.tsv", UpperQuartile: "gtex.lung.30.chr21.uq_factors_edgeR.tsv"} {
		header, rows := reftest.Table(t, reftest.Path("external", "rnanorm", file))
		_ = header
		want := map[string]float64{}
		for _, r := range rows {
			want[r[0]] = reftest.Num(t, r[len(r)-1])
		}
		got, err := NormFactors(reftest.Background, src, Options{Method: method})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if len(want) != len(got.Samples) {
			t.Fatalf("%s: %d reference factors for %d samples", method, len(want), len(got.Samples))
		}
		worst := 0.0
		for j, s := range got.Samples {
			w, ok := want[s]
			if !ok {
				t.Fatalf("%s: no reference for %s", method, s)
			}
			worst = math.Max(worst, reftest.RelErr(got.NormFactor[j], w))
		}
		if worst > 1e-13 {
			t.Errorf("%s: worst relative error %.3g", method, worst)
		}
		t.Logf("RNAnorm GTEx %s: worst relative error %.3g", method, worst)
	}
}
