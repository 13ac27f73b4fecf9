package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colnorm/colnorm/internal/reftest"
)

// TestBatchCorrectMatchesSva runs the command on the reference sets (batch
// and group columns as in their conformance.json) and compares with sva's
// ComBat_seq: at least 99.9% of the counts equal, none off by more than 1.
// The Parquet output must hold the same counts.
func TestBatchCorrectMatchesSva(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, batch, group string }{
		{"marioni", "run", "tissue"},
		{"spike", "batch", "group"},
	} {
		ref := reftest.Path("reference", c.name)
		out := filepath.Join(dir, c.name+".tsv")
		code, stdout, stderr := colnorm(t, "batch-correct", "--method", "combat-seq", "--meta", filepath.Join(ref, "meta.tsv"),
			"--batch", c.batch, "--group", c.group, filepath.Join(ref, "counts.tsv"), "-o", out)
		if code != 0 || stdout != "" {
			t.Fatalf("%s: exit %d: %s %s", c.name, code, stdout, stderr)
		}
		got := reftest.ReadMatrix(t, out)
		want := reftest.ReadMatrix(t, filepath.Join(ref, "ref", "combat_seq.tsv.gz"))
		equal, total, worst := compareMatrices(t, got, want)
		t.Logf("%s: %d of %d counts equal to sva's (%.4f%%), largest difference %g", c.name, equal, total, 100*float64(equal)/float64(total), worst)
		if float64(equal) < 0.999*float64(total) || worst > 1 {
			t.Errorf("%s: %d of %d equal, largest difference %g", c.name, equal, total, worst)
		}

		pq := filepath.Join(dir, c.name+".parquet")
		code, _, stderr = colnorm(t, "batch-correct", "--quiet", "--meta", filepath.Join(ref, "meta.tsv"),
			"--batch", c.batch, "--group", c.group, filepath.Join(ref, "counts.tsv"), "-o", pq)
		if code != 0 || stderr != "" {
			t.Fatalf("%s parquet: exit %d: %q", c.name, code, stderr)
		}
		if e, n, w := compareMatrices(t, reftest.ReadMatrix(t, pq), got); e != n || w != 0 {
			t.Errorf("%s: the Parquet output differs from the TSV in %d of %d values", c.name, n-e, n)
		}
	}
}

// compareMatrices counts equal values (matched by gene and sample) and the
// largest difference.
func compareMatrices(t *testing.T, got, want *reftest.Matrix) (equal, total int, worst float64) {
	t.Helper()
	row := map[string]int{}
	for i, g := range got.Genes {
		row[g] = i
	}
	col := map[string]int{}
	for j, s := range got.Samples {
		col[s] = j
	}
	if len(got.Genes) != len(want.Genes) || len(got.Samples) != len(want.Samples) {
		t.Fatalf("%d x %d, want %d x %d", len(got.Genes), len(got.Samples), len(want.Genes), len(want.Samples))
	}
	for jw, s := range want.Samples {
		j, ok := col[s]
		if !ok {
			t.Fatalf("sample %s missing", s)
		}
		for iw, g := range want.Genes {
			i, ok := row[g]
			if !ok {
				t.Fatalf("gene %s missing", g)
			}
			v, w := got.Cols[j][i], want.Cols[jw][iw]
			total++
			if v == w {
				equal++
			}
			worst = math.Max(worst, math.Abs(v-w))
		}
	}
	return equal, total, worst
}

// TestBatchCorrectErrors: bad usage and designs sva refuses exit 2 with one
// line naming the file, and leave no output.
func TestBatchCorrectErrors(t *testing.T) {
	dir := t.TempDir()
	counts := filepath.Join(dir, "counts.tsv")
	os.WriteFile(counts, []byte("gene\ta\tb\tc\td\ng1\t5\t8\t30\t41\ng2\t0\t4\t12\t9\ng3\t20\t25\t7\t3\n"), 0o644)
	meta := filepath.Join(dir, "meta.tsv")
	os.WriteFile(meta, []byte("sample\trun\tcell\tlane\tsolo\na\tr1\tT\tl1\tx\nb\tr1\tT\tl2\ty\nc\tr2\tB\tl1\ty\nd\tr2\tB\tl2\ty\n"), 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--batch", "run"}, []string{"--meta"}},
		{[]string{"--meta", meta}, []string{"--batch"}},
		{[]string{"--method", "combat", "--meta", meta, "--batch", "run"}, []string{"combat-seq"}},
		{[]string{"--meta", meta, "--batch", "nope"}, []string{"meta.tsv", `no column "nope"`}},
		{[]string{"--meta", meta, "--batch", "run", "--group", "cell"}, []string{"meta.tsv", `group column "cell" is confounded with batch column "run"`, "without --group"}},
		{[]string{"--meta", meta, "--batch", "solo"}, []string{"meta.tsv", `batch "x" has 1 sample`}},
	} {
		out := filepath.Join(dir, "out.tsv")
		code, stdout, stderr := colnorm(t, append(append([]string{"batch-correct"}, c.args...), counts, "-o", out)...)
		if code != 2 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, stdout, stderr)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: stderr is not one line: %q", c.args, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr, w)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: an output file was left", c.args)
		}
	}
	// A usable design: the lanes cross the runs.
	out := filepath.Join(dir, "ok.tsv")
	if code, _, stderr := colnorm(t, "batch-correct", "--meta", meta, "--batch", "run", "--group", "lane", counts, "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := reftest.ReadMatrix(t, out)
	if len(got.Genes) != 3 || len(got.Samples) != 4 || got.Cols[0][1] != 0 {
		t.Errorf("output %v %v %v (g2 is all zero in r1 and must stay unchanged)", got.Genes, got.Samples, got.Cols)
	}
}

// TestBatchCorrectInterrupted: cancelling during the fits exits 130 and
// leaves no output.
func TestBatchCorrectInterrupted(t *testing.T) {
	dir := t.TempDir()
	ref := reftest.Path("reference", "spike")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	var o, e bytes.Buffer
	code := run(ctx, []string{"colnorm", "batch-correct", "--meta", filepath.Join(ref, "meta.tsv"), "--batch", "batch", "--group", "group",
		filepath.Join(ref, "counts.tsv"), "-o", filepath.Join(dir, "adj.parquet")}, &o, &e)
	if code != 130 {
		t.Errorf("exit %d, want 130 (%s)", code, e.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v", entries)
	}
}
