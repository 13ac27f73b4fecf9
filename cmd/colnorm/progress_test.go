package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/progress"
)

// runRecorded runs the command line in-process with a recording Meter and
// returns it with the exit status and stderr.
func runRecorded(t *testing.T, args ...string) (*progress.Meter, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdout: &out, stderr: &errb, meter: progress.New(nil)}
	code := runEnv(e, append([]string{"colnorm"}, args...))
	return e.meter, code, errb.String()
}

// Every command plans as many passes as it runs, so that the progress line's
// "pass k/n" and time left are right.
func TestPassPlans(t *testing.T) {
	d := t.TempDir()
	out := filepath.Join(d, "out.tsv")
	meta := reftest.Path("reference", "marioni", "meta.tsv")
	lengths := reftest.Path("reference", "marioni", "lengths.tsv")
	spike := reftest.Path("reference", "spike", "counts.tsv")
	// every gene has a zero: the VST falls back to poscounts, whose base
	// means take a pass of their own
	zeros := filepath.Join(d, "zeros.tsv")
	var b strings.Builder
	b.WriteString("gene\ta\tb\tc\td\n")
	for i := 0; i < 1200; i++ {
		v := []int{10 + i%50, 20 + i%70, 30 + i%40, 15 + i%30}
		v[i%4] = 0
		fmt.Fprintf(&b, "g%d\t%d\t%d\t%d\t%d\n", i, v[0], v[1], v[2], v[3])
	}
	if err := os.WriteFile(zeros, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"size-factors", marioni},
		{"size-factors", "-m", "poscounts", marioni},
		{"size-factors", "-m", "tmm", marioni},
		{"size-factors", "-m", "tmm", "--ref-sample", "2", marioni},
		{"size-factors", "-m", "tmmwsp", marioni},
		{"size-factors", "-m", "rle", marioni},
		{"size-factors", "-m", "upperquartile", marioni},
		{"size-factors", "-m", "tmm", spike}, // genes zero in every sample: the quantiles take a pass of their own
		{"size-factors", "-m", "upperquartile", spike},
		{"size-factors", "-m", "iterate", marioni},
		{"size-factors", "--control-prefix", "ERCC-", spike},
		{"normalize", marioni, "-o", out},
		{"normalize", "--control-prefix", "ERCC-", "--drop-controls", spike, "-o", out},
		{"normalize", "-m", "tmm", "--log", marioni, "-o", out},
		{"normalize", "-m", "upperquartile", marioni, "-o", out},
		{"normalize", "-m", "cpm", marioni, "-o", out},
		{"normalize", "-m", "tpm", "--lengths", lengths, marioni, "-o", out},
		{"normalize", "-m", "rpkm", "--lengths", lengths, marioni, "-o", out},
		{"normalize", "-m", "total", marioni, "-o", out},
		{"filter", "--by-expr", "--meta", meta, "--group", "tissue", marioni, "-o", out},
		{"filter", "--min-count", "10", "--min-samples", "3", marioni, "-o", out},
		{"transform", marioni, "-o", out},
		{"transform", "-m", "vst", marioni, "-o", out},
		{"transform", "-m", "vst", "--nsub", "1000", marioni, "-o", out},
		{"transform", "-m", "vst", "--nsub", "1000", zeros, "-o", out},
		{"transform", "-m", "rlog", marioni, "-o", out},
		{"batch-correct", "--meta", meta, "--batch", "run", "--group", "tissue", marioni, "-o", out},
		{"qc", marioni, "-o", filepath.Join(d, "qc1")},
		{"qc", "--before", marioni, marioni, "-o", filepath.Join(d, "qc2")},
		{"qc", "--control-prefix", "ERCC-", "--nsub", "1000", spike, "-o", filepath.Join(d, "qc3")},
		{"convert", marioni, filepath.Join(d, "x.parquet")},
	} {
		m, code, stderr := runRecorded(t, args...)
		name := strings.Join(args, " ")
		if code != 0 {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
			continue
		}
		passes := m.Passes()
		if m.Planned() != len(passes) {
			t.Errorf("%s: planned %d passes, ran %d", name, m.Planned(), len(passes))
		}
		for _, p := range passes {
			if p.Done != p.Columns || p.Elapsed <= 0 {
				t.Errorf("%s: pass %+v", name, p)
			}
		}
	}
}
