package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// rlogWorst is the largest absolute difference between two matrices with
// the same genes and samples.
func rlogWorst(t *testing.T, got, want *reftest.Matrix) float64 {
	t.Helper()
	if !slices.Equal(got.Genes, want.Genes) || !slices.Equal(got.Samples, want.Samples) {
		t.Fatalf("genes or samples differ from the reference")
	}
	worst := 0.0
	for j := range got.Cols {
		for i, v := range got.Cols[j] {
			if d := math.Abs(v - want.Cols[j][i]); !(d <= worst) {
				worst = d
			}
		}
	}
	return worst
}

// transform --method rlog equals DESeq2's rlog(dds, blind = TRUE) on the
// reference sets, as TSV on stdout and as Parquet, and --fit-type mean
// equals rlog(fitType = "mean") where the parametric trend fails.
func TestTransformRlogMatchesDESeq2(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, counts, ref string
		args              []string
	}{
		{"marioni", "reference/marioni/counts.tsv", "reference/marioni/ref/rlog.tsv.gz", nil},
		{"spike", "reference/spike/counts.tsv", "reference/spike/ref/rlog.tsv.gz", nil},
		{"flat_mean", "oracle/rlog_flat_counts.tsv.gz", "oracle/rlog_flat_mean.tsv.gz", []string{"--fit-type", "mean"}},
	} {
		args := append([]string{"transform", "--method", "rlog"}, c.args...)
		code, out, stderr := colnorm(t, append(args, reftest.Path(c.counts))...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
		tsv := filepath.Join(dir, c.name+".tsv")
		if err := os.WriteFile(tsv, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		want := reftest.ReadMatrix(t, reftest.Path(c.ref))
		worst := rlogWorst(t, reftest.ReadMatrix(t, tsv), want)
		t.Logf("%s: worst |rlog - R| = %.3g", c.name, worst)
		if worst > 1e-4 {
			t.Errorf("%s: worst |rlog - R| = %.3g (tolerance 1e-4)", c.name, worst)
		}
		pq := filepath.Join(dir, c.name+".parquet")
		if code, _, stderr := colnorm(t, append(args, reftest.Path(c.counts), "-o", pq)...); code != 0 {
			t.Fatalf("%s parquet: exit %d: %s", c.name, code, stderr)
		}
		if d := rlogWorst(t, reftest.ReadMatrix(t, pq), reftest.ReadMatrix(t, tsv)); d != 0 {
			t.Errorf("%s: Parquet output differs from TSV by %g", c.name, d)
		}
	}
}

// The same bytes whatever the number of threads.
func TestTransformRlogThreads(t *testing.T) {
	in := reftest.Path("reference", "spike", "counts.tsv")
	_, want, _ := colnorm(t, "transform", "--method", "rlog", "--threads", "1", in)
	for _, n := range []string{"2", "5"} {
		code, got, stderr := colnorm(t, "transform", "--method", "rlog", "--threads", n, in)
		if code != 0 || !bytes.Equal([]byte(got), []byte(want)) {
			t.Errorf("--threads %s: exit %d, output differs from --threads 1: %s", n, code, stderr)
		}
	}
}

func TestTransformRlogRefuses(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "rlog.tsv")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		// DESeq2 would substitute a locfit trend here.
		{[]string{reftest.Path("oracle", "rlog_flat_counts.tsv.gz")}, "--fit-type mean"},
		{[]string{"--nsub", "100", marioni}, "--nsub"},
		{[]string{"--size-factors", "poscounts", marioni}, "--size-factors"},
		{[]string{"--fit-type", "local", marioni}, "--fit-type"},
	} {
		code, _, stderr := colnorm(t, append(append([]string{"transform", "--method", "rlog"}, c.args...), "-o", out)...)
		if code != 2 || !strings.Contains(stderr, c.msg) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming %s", c.args, code, stderr, c.msg)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: left an output file", c.args)
		}
	}
	one := filepath.Join(dir, "one.tsv")
	if err := os.WriteFile(one, []byte("gene_id\ts1\ng1\t5\ng2\t7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := colnorm(t, "transform", "--method", "rlog", one); code != 2 || !strings.Contains(stderr, "one.tsv") {
		t.Errorf("one sample: exit %d, %q", code, stderr)
	}
}
