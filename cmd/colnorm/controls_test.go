package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// normalize with spike-in control genes: counts divided by DESeq2's
// controlGenes size factors; --drop-controls leaves the spike-ins out.
func TestNormalizeWithControls(t *testing.T) {
	spike := reftest.Path("reference", "spike", "counts.tsv")
	want := reftest.Column(t, reftest.Path("reference", "spike", "ref", "size_factors_extra.tsv.gz"), "controls")
	counts := reftest.ReadMatrix(t, spike)
	dir := t.TempDir()
	all, dropped := filepath.Join(dir, "all.tsv"), filepath.Join(dir, "dropped.parquet")
	for _, out := range []string{all, dropped} {
		args := []string{"normalize", "--method", "ratio", "--control-prefix", "ERCC-", spike, "-o", out}
		if out == dropped {
			args = append(args, "--drop-controls")
		}
		if code, _, stderr := colnorm(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	got := reftest.ReadMatrix(t, all)
	worst := 0.0
	for j, s := range counts.Samples {
		for i := range counts.Genes {
			worst = math.Max(worst, reftest.RelErr(got.Cols[j][i], counts.Cols[j][i]/want[s]))
		}
	}
	if worst > 1e-9 {
		t.Errorf("normalized with ERCC- controls: worst relative error %.3g", worst)
	}
	kept := reftest.ReadMatrix(t, dropped)
	var rows []int
	for i, g := range counts.Genes {
		if !strings.HasPrefix(g, "ERCC-") {
			rows = append(rows, i)
		}
	}
	if len(rows) == len(counts.Genes) || len(kept.Genes) != len(rows) {
		t.Fatalf("--drop-controls kept %d of %d genes, want %d", len(kept.Genes), len(counts.Genes), len(rows))
	}
	for k, i := range rows {
		if kept.Genes[k] != counts.Genes[i] {
			t.Fatalf("row %d is %s, want %s", k, kept.Genes[k], counts.Genes[i])
		}
		for j := range counts.Samples {
			if kept.Cols[j][k] != got.Cols[j][i] {
				t.Fatalf("%s/%s: %v after --drop-controls, %v before", counts.Genes[i], counts.Samples[j], kept.Cols[j][k], got.Cols[j][i])
			}
		}
	}
	for _, args := range [][]string{
		{"--drop-controls"},
		{"--method", "tmm", "--control-prefix", "ERCC-"},
		{"--control-prefix", "ERCC-", "--control-genes", "x"},
	} {
		code, _, stderr := colnorm(t, append(append([]string{"normalize"}, args...), spike)...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
