package main

import (
	"path/filepath"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// TestNormalizePoscountsMatchesDESeq2: `normalize --method poscounts` is
// DESeq2's counts(dds, normalized = TRUE) after estimateSizeFactors(type =
// "poscounts"), within 1e-9 relative, on the genes of
// testdata/oracle/poscounts_normalized.tsv.gz (written by
// poscounts_normalized.R there) of marioni and synth_a.
func TestNormalizePoscountsMatchesDESeq2(t *testing.T) {
	_, rows := reftest.Table(t, reftest.Path("oracle", "poscounts_normalized.tsv.gz"))
	want := map[string]map[[2]string]float64{}
	for _, r := range rows {
		if want[r[0]] == nil {
			want[r[0]] = map[[2]string]float64{}
		}
		want[r[0]][[2]string{r[1], r[2]}] = reftest.Num(t, r[3])
	}
	if len(want) != 2 || len(rows) != 6780 {
		t.Fatalf("%d datasets, %d values in the fixture; want 2 and 6780", len(want), len(rows))
	}
	for ds, values := range want {
		out := filepath.Join(t.TempDir(), "n.tsv")
		code, _, stderr := colnorm(t, "normalize", "--method", "poscounts", reftest.Path("reference", ds, "counts.tsv"), "-o", out)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", ds, code, stderr)
		}
		got := reftest.ReadMatrix(t, out)
		row := map[string]int{}
		for i, g := range got.Genes {
			row[g] = i
		}
		col := map[string]int{}
		for j, s := range got.Samples {
			col[s] = j
		}
		worst := 0.0
		for k, w := range values {
			i, ok1 := row[k[0]]
			j, ok2 := col[k[1]]
			if !ok1 || !ok2 {
				t.Fatalf("%s: %s/%s missing from the output", ds, k[0], k[1])
			}
			v := got.Cols[j][i]
			if !reftest.Close(v, w, 1e-9, 0) {
				t.Fatalf("%s %s/%s: %.17g, DESeq2 %.17g", ds, k[0], k[1], v, w)
			}
			worst = max(worst, reftest.RelErr(v, w))
		}
		t.Logf("%s: %d values, worst relative error %.3g", ds, len(values), worst)
	}
}
