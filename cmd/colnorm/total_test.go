package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// normalize --method total [--log1p] equals the references' scanpy
// normalize_total (and log1p) within 1e-9 relative.
func TestNormalizeTotalMatchesReferences(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		ref  string
	}{
		{[]string{"normalize", "--method", "total"}, "normalize_total.tsv.gz"},
		{[]string{"normalize", "--method", "total", "--log1p"}, "normalize_total_log1p.tsv.gz"},
	} {
		for _, ds := range []string{"marioni", "spike"} {
			out := filepath.Join(dir, ds+strings.Join(c.args, "")+".tsv")
			code, _, stderr := colnorm(t, append(c.args, reftest.Path("reference", ds, "counts.tsv"), "-o", out)...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
			}
			got := reftest.ReadMatrix(t, out)
			want := reftest.ReadMatrix(t, reftest.Path("reference", ds, "ref", c.ref))
			if strings.Join(got.Genes, ",") != strings.Join(want.Genes, ",") || strings.Join(got.Samples, ",") != strings.Join(want.Samples, ",") {
				t.Fatalf("%v %s: gene or sample order differs from the input's", c.args, ds)
			}
			for j := range want.Cols {
				for i := range want.Cols[j] {
					if !reftest.Close(got.Cols[j][i], want.Cols[j][i], 1e-9, 1e-12) {
						t.Fatalf("%v %s %s/%s: %v, want %v", c.args, ds, want.Genes[i], want.Samples[j], got.Cols[j][i], want.Cols[j][i])
					}
				}
			}
		}
	}
}

// --target-sum sets every column's sum.
func TestNormalizeTotalTargetSum(t *testing.T) {
	out := filepath.Join(t.TempDir(), "t.tsv")
	code, _, stderr := colnorm(t, "normalize", "--method", "total", "--target-sum", "10000", marioni, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := reftest.ReadMatrix(t, out)
	for j, col := range got.Cols {
		s := 0.0
		for _, v := range col {
			s += v
		}
		if math.Abs(s-1e4) > 1e-8 {
			t.Errorf("%s sums to %v", got.Samples[j], s)
		}
	}
}

func TestNormalizeTotalUsage(t *testing.T) {
	for _, args := range [][]string{
		{"normalize", "--method", "total", "--log", marioni},
		{"normalize", "--method", "ratio", "--log1p", marioni},
		{"normalize", "--method", "cpm", "--target-sum", "1e6", marioni},
		{"normalize", "--method", "total", "--target-sum", "0", marioni},
		{"normalize", "--method", "total", "--target-sum", "-5", marioni},
	} {
		if code, _, stderr := colnorm(t, args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}
