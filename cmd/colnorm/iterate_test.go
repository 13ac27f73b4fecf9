package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// size-factors --method iterate is DESeq2's estimateSizeFactors(type =
// "iterate") within the contract's 1e-6.
func TestSizeFactorsIterate(t *testing.T) {
	in := reftest.Path("reference", "synth_a", "counts.tsv")
	code, out, stderr := colnorm(t, "size-factors", "--method", "iterate", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := parseTable(t, out)
	want := reftest.Column(t, reftest.Path("reference", "synth_a", "ref", "size_factors_extra.tsv.gz"), "iterate")
	lib := reftest.Column(t, reftest.Path("reference", "synth_a", "ref", "size_factors.tsv.gz"), "lib_size")
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for s, w := range want {
		if g := reftest.Num(t, got[s]["size_factor"]); !reftest.Close(g, w, 1e-6, 0) {
			t.Errorf("%s: %v, want %v", s, g, w)
		}
		if reftest.Num(t, got[s]["lib_size"]) != lib[s] {
			t.Errorf("%s lib_size %v, want %v", s, got[s]["lib_size"], lib[s])
		}
	}
}

func TestSizeFactorsIterateRefuses(t *testing.T) {
	few := filepath.Join(t.TempDir(), "few.tsv")
	if err := os.WriteFile(few, []byte("gene\ta\tb\tc\td\ng1\t1\t2\t3\t4\ng2\t5\t6\t7\t9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := colnorm(t, "size-factors", "--method", "iterate", few)
	if code != 2 || !strings.Contains(stderr, "at least 5 samples") || !strings.Contains(stderr, "few.tsv") {
		t.Errorf("4 samples: exit %d, %q", code, stderr)
	}
	code, _, stderr = colnorm(t, "size-factors", "--method", "iterate", "--control-prefix", "ERCC-", marioni)
	if code != 2 || !strings.Contains(stderr, "control genes") {
		t.Errorf("iterate with control genes: exit %d, %q", code, stderr)
	}
}
