package main

import (
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The help of a colnorm binary with and without the qc command.
const helpWithQC = `NAME:
   colnorm - normalize RNA-seq count matrices column by column (DESeq2 and edgeR semantics)

USAGE:
   colnorm [global options] command [command options]

COMMANDS:
   size-factors  estimate one size factor per sample
   transform     write a transformed matrix for visualisation
   qc            sample QC on VST values: PCA, correlations, clustering, outliers, and an HTML report
   help, h       Shows a list of commands or help for one command

GLOBAL OPTIONS:
   --help, -h  show help
`

func TestParseCommands(t *testing.T) {
	got := parseCommands(helpWithQC)
	if want := []string{"size-factors", "transform", "qc", "help"}; !slices.Equal(got, want) {
		t.Errorf("parseCommands = %q, want %q", got, want)
	}
	noQC := strings.Replace(helpWithQC, "   qc            sample QC on VST values: PCA, correlations, clustering, outliers, and an HTML report\n", "", 1)
	if got := parseCommands(noQC); slices.Contains(got, "qc") || len(got) != 3 {
		t.Errorf("without qc: %q", got)
	}
	// Not a command: a flag of the next section, or a word of the usage.
	if got := parseCommands(helpWithQC); slices.Contains(got, "--help") || slices.Contains(got, "colnorm") {
		t.Errorf("parseCommands read beyond COMMANDS: %q", got)
	}
	// Commands in categories (indented headings) and a help ending there.
	cats := "COMMANDS:\n   transform  x\n   QC:\n     qc  y"
	if got := parseCommands(cats); !slices.Contains(got, "qc") || !slices.Contains(got, "transform") {
		t.Errorf("categories: %q", got)
	}
	if got := parseCommands("colnorm: unknown flag\n"); len(got) != 0 {
		t.Errorf("no COMMANDS section: %q", got)
	}
}

func TestReadKeyedPCAVariance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pca_variance.tsv")
	os.WriteFile(path, []byte("pc\tpercent_var\nPC1\t0.021085637500423315\nPC2\t0.019857393570920638\nPC3\t0.5\n"), 0o644)
	pv, err := readKeyed(path, "pc", "percent_var")
	if err != nil {
		t.Fatal(err)
	}
	if len(pv) != 3 || pv["PC1"] != 0.021085637500423315 || pv["PC2"] != 0.019857393570920638 {
		t.Errorf("readKeyed: %v", pv)
	}
	if _, err := readColumn(path, "percent_var"); err == nil || !strings.Contains(err.Error(), "sample") {
		t.Errorf("readColumn of a table without sample: %v", err)
	}
	d, err := pcaDiff("0.021085637500423419", "0.019857393570920569", "0.021085637500423315", "0.019857393570920638")
	if err != nil {
		t.Fatal(err)
	}
	a, b := 0.021085637500423419, 0.021085637500423315 // float64 variables: not an exact constant difference
	if want := math.Abs(a - b); d != want {
		t.Errorf("pcaDiff = %g, want %g", d, want)
	}
	if _, err := pcaDiff("0.1", "x", "0.1", "0.2"); err == nil {
		t.Error("pcaDiff of a non-number gave no error")
	}
}

func TestCompareAbsolute(t *testing.T) {
	want := map[string]float64{"S1": 4.5, "S2": 10, "S3": 7}
	got := map[string]float64{"S1": 4.5, "S2": 10.25, "S3": 6.5}
	d, err := compare(got, want, true)
	if err != nil {
		t.Fatal(err)
	}
	if d.max != 0.5 || d.worst != "S3" || d.median != 0.25 {
		t.Errorf("absolute: %+v", d)
	}
	d, err = compare(got, want, false)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(d.max-0.5/7) > 1e-16 || d.worst != "S3" {
		t.Errorf("relative: %+v", d)
	}
}

func TestComparePCA(t *testing.T) {
	qc := &result{tool: qcName, notes: map[string][]string{"pc1_var": {"0.25"}, "pc2_var": {"0.125"}}}
	r := &result{tool: "R DESeq2 vst()", notes: map[string][]string{"pc1_var": {"0.25", "9"}, "pc2_var": {"0.1875"}}}
	colnorm := &result{tool: "colnorm", notes: map[string][]string{}}
	comparePCA([]*result{colnorm, qc, r})
	if !r.hasPCA || r.pcaDiff != 0.0625 {
		t.Errorf("R: hasPCA %v, diff %g", r.hasPCA, r.pcaDiff)
	}
	if colnorm.hasPCA || qc.hasPCA {
		t.Error("colnorm rows got a PCA difference")
	}
	// Without a qc row (skipped): nothing to compare.
	r2 := &result{tool: "R DESeq2 vst()", notes: r.notes}
	comparePCA([]*result{colnorm, r2})
	if r2.hasPCA || r2.err != nil {
		t.Errorf("no qc: hasPCA %v, err %v", r2.hasPCA, r2.err)
	}
}

func TestOutputPaths(t *testing.T) {
	out := "/w/vst-colnorm-s100-run1.tsv"
	if got := vstMatrix(out); got != "/w/vst-colnorm-s100-run1.parquet" {
		t.Errorf("vstMatrix = %s", got)
	}
	if got := qcDir(out); got != "/w/vst-colnorm-s100-run1-qc" {
		t.Errorf("qcDir = %s", got)
	}
}

// The column means worker on a Parquet file that DuckDB writes: a string
// gene column (skipped) and three sample columns, one needing quotes.
func TestColMeansWorker(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "vst.parquet")
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`COPY (SELECT * FROM (VALUES ('g1', 1.0::DOUBLE, 0.5::DOUBLE, 3.0::DOUBLE), ('g2', 2.0, 1.5, 3.0),
		('g3', 3.0, 2.5, 3.0), ('g4', 4.0, 3.5, 3.0)) AS t(gene_id, "S1", "S 2", "S""3")) TO '` + in + `' (FORMAT PARQUET)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "means.tsv")
	if err := runColMeansWorker(in, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "sample\tvst_mean\nS1\t2.5\nS 2\t2\nS\"3\t3\n"; string(b) != want {
		t.Errorf("worker wrote %q, want %q", b, want)
	}
	means, err := readColumn(out, compared(vst))
	if err != nil || len(means) != 3 || means["S1"] != 2.5 {
		t.Errorf("readColumn: %v, %v", means, err)
	}
	if err := runColMeansWorker(filepath.Join(dir, "missing.parquet"), out); err == nil {
		t.Error("a missing file gave no error")
	}
}

// colnorm qc is skipped, with a note, when the binary has no qc command.
func TestVSTQCSkipsWithoutQC(t *testing.T) {
	dir := t.TempDir()
	noThreads := func(a []string) []string { return a }
	for _, c := range []struct {
		help string
		run  bool
	}{
		{strings.Replace(helpWithQC, "   qc ", "   xx ", 1), false},
		{helpWithQC, true},
	} {
		bin := filepath.Join(dir, "colnorm")
		os.WriteFile(filepath.Join(dir, "help.txt"), []byte(c.help), 0o644)
		if err := os.WriteFile(bin, []byte("#!/bin/sh\ncat "+filepath.Join(dir, "help.txt")+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		tl := vstQC(t.Context(), bin, noThreads)
		if c.run {
			if tl.cmd == nil || tl.why != "" || !tl.noTable || tl.post == nil {
				t.Errorf("with qc: %+v", tl)
				continue
			}
			cmd := tl.cmd("IN.parquet", "/w/out.tsv")
			if want := []string{bin, "qc", "--nsub", "1000", "--quiet", "IN.parquet", "-o", "/w/out-qc"}; !slices.Equal(cmd.Args, want) {
				t.Errorf("qc command %q, want %q", cmd.Args, want)
			}
			out := filepath.Join(dir, "run1.tsv")
			os.Mkdir(qcDir(out), 0o755)
			os.WriteFile(filepath.Join(qcDir(out), "pca_variance.tsv"), []byte("pc\tpercent_var\nPC1\t0.5\nPC2\t0.25\n"), 0o644)
			notes, err := tl.post(out)
			if err != nil || notes["pc1_var"] != "0.5" || notes["pc2_var"] != "0.25" || len(notes) != 2 {
				t.Errorf("qc post: %v, %v", notes, err)
			}
			os.WriteFile(filepath.Join(qcDir(out), "pca_variance.tsv"), []byte("pc\tpercent_var\nPC1\t0.5\n"), 0o644)
			if _, err := tl.post(out); err == nil || !strings.Contains(err.Error(), "PC2") {
				t.Errorf("qc post without PC2: %v", err)
			}
		} else if tl.cmd != nil || !strings.Contains(tl.why, "no qc command") {
			t.Errorf("without qc: cmd %v, why %q", tl.cmd != nil, tl.why)
		}
	}
	tl := vstQC(t.Context(), filepath.Join(dir, "absent"), noThreads)
	if tl.cmd != nil || !strings.Contains(tl.why, "skipped") {
		t.Errorf("absent binary: why %q", tl.why)
	}
}
