package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// runJSON runs a command with --json and decodes its summary.
func runJSON(t *testing.T, args ...string) summary {
	t.Helper()
	code, out, stderr := colnorm(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var s summary
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%v: not a JSON summary: %v\n%s", args, err, out)
	}
	return s
}

// checkFactors compares a summary's size factors with a table's text.
func checkFactors(t *testing.T, what string, got []sampleFactor, table string, edgeR bool) {
	t.Helper()
	want := parseTable(t, table)
	if len(got) != len(want) {
		t.Fatalf("%s: %d size factors, table has %d", what, len(got), len(want))
	}
	for _, f := range got {
		row := want[f.Sample]
		if row == nil || reftest.Num(t, row["size_factor"]) != f.SizeFactor || reftest.Num(t, row["lib_size"]) != f.LibSize {
			t.Errorf("%s: %+v, table %v", what, f, row)
		}
		if edgeR != (f.NormFactor != nil) || (edgeR && reftest.Num(t, row["norm_factor"]) != *f.NormFactor) {
			t.Errorf("%s: norm factor of %+v, table %v", what, f, row)
		}
	}
}

// The summary's numbers are the tables' numbers, bit for bit; its size,
// passes and options are those of the run.
func TestJSONSummaries(t *testing.T) {
	dir := t.TempDir()
	meta := reftest.Path("reference", "marioni", "meta.tsv")
	for _, method := range []string{"ratio", "tmm"} {
		_, table, _ := colnorm(t, "size-factors", "--method", method, marioni)
		s := runJSON(t, "size-factors", "--method", method, marioni)
		if s.Command != "size-factors" || s.Method != method || s.Input != marioni || s.Genes != 5088 || s.Samples != 10 ||
			s.Output != "" || s.Version == "" || s.Options["method"] != method || s.Options["threads"] != float64(0) {
			t.Errorf("size-factors %s: %+v", method, s)
		}
		checkFactors(t, "size-factors "+method, s.SizeFactors, table, method == "tmm")
		// no gene of marioni is zero in every sample, so TMM takes the
		// quantiles that choose its reference in the first pass
		n := sizeFactorPasses(method, false)
		if method == "tmm" {
			n--
		}
		if len(s.Timings.Passes) != n || s.Timings.Passes[n-1].Pass != n ||
			s.Timings.Passes[0].Columns != 10 || s.Timings.Seconds <= 0 {
			t.Errorf("size-factors %s: timings %+v", method, s.Timings)
		}
		// With -o the table goes to the file and the summary to stdout.
		file := filepath.Join(dir, method+".tsv")
		s = runJSON(t, "size-factors", "--method", method, marioni, "-o", file)
		text, err := os.ReadFile(file)
		if err != nil || string(text) != table || s.Output != file {
			t.Errorf("size-factors %s -o: %v, file %q", method, err, text)
		}
	}

	_, ratio, _ := colnorm(t, "size-factors", marioni)
	out := filepath.Join(dir, "norm.parquet")
	s := runJSON(t, "normalize", marioni, "-o", out)
	checkFactors(t, "normalize", s.SizeFactors, ratio, false)
	if s.Output != out || s.Genes != 5088 || len(s.Timings.Passes) != 3 || s.Timings.Passes[0].Name != "size factors" ||
		s.Timings.Passes[2].Name != "normalize" {
		t.Errorf("normalize: %+v", s)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("normalize --json wrote no matrix: %v", err)
	}

	_, tmm, _ := colnorm(t, "size-factors", "--method", "tmm", marioni)
	kept := filepath.Join(dir, "kept.tsv")
	s = runJSON(t, "filter", "--by-expr", "--meta", meta, "--group", "tissue", marioni, "-o", kept)
	checkFactors(t, "filter", s.SizeFactors, tmm, true)
	text, err := os.ReadFile(kept)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(string(text), "\n") - 1
	if s.Method != "filterByExpr" || s.SizeFactorMethod != "tmm" || s.GenesKept == nil || *s.GenesKept != rows || rows < 1000 || rows >= 5088 {
		t.Errorf("filter: method %q/%q, kept %v, output rows %d", s.Method, s.SizeFactorMethod, s.GenesKept, rows)
	}

	s = runJSON(t, "transform", "--method", "vst", marioni, "-o", filepath.Join(dir, "vst.tsv"))
	checkFactors(t, "vst", s.SizeFactors, ratio, false)
	if tr := s.VSTTrend; tr == nil || tr.Type != "parametric" || !(tr.A0 > 0) || !(tr.A1 > 0) || tr.Genes < 1000 {
		t.Errorf("vst trend %+v", tr)
	}

	qcDir := filepath.Join(dir, "qc")
	s = runJSON(t, "qc", marioni, "-o", qcDir)
	qcFactors, err := os.ReadFile(filepath.Join(qcDir, "size_factors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	checkFactors(t, "qc", s.SizeFactors, string(qcFactors), false)
	if s.Output != qcDir || len(s.Timings.Passes) != qcPasses(false) {
		t.Errorf("qc: output %q, %d passes", s.Output, len(s.Timings.Passes))
	}

	s = runJSON(t, "batch-correct", "--meta", meta, "--batch", "run", "--group", "tissue", marioni, "-o", filepath.Join(dir, "bc.tsv"))
	if s.Method != "combat-seq" || s.Samples != 10 || s.Options["batch"] != "run" || s.SizeFactors != nil {
		t.Errorf("batch-correct: %+v", s)
	}
}

// --json where the matrix would go to stdout is a usage error: exit 2,
// nothing on stdout.
func TestJSONRefusesMatrixOnStdout(t *testing.T) {
	meta := reftest.Path("reference", "marioni", "meta.tsv")
	for _, args := range [][]string{
		{"normalize", marioni},
		{"normalize", marioni, "-o", "-"},
		{"filter", "--by-expr", marioni},
		{"transform", "--method", "vst", marioni},
		{"batch-correct", "--meta", meta, "--batch", "run", marioni},
	} {
		code, out, stderr := colnorm(t, append(args, "--json")...)
		if code != 2 || out != "" || !strings.Contains(stderr, "--json") || !strings.Contains(stderr, "-o FILE") {
			t.Errorf("%v --json: exit %d, stdout %d bytes, stderr %q", args, code, len(out), stderr)
		}
	}
}
