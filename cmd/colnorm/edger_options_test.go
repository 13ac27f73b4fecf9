package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// The edgeR side of the command line against edgeR 3.40.2 itself: the
// options of calcNormFactors, every CPM-type method of normalize, and the
// filters with their options. The expected values were written by
// testdata/oracle/edger_options.R (which says which R call made each); the
// tolerance is CONTRACT.md's 1e-9 relative.

// TestEdgeROptionsMatchEdgeR: size-factors --method tmm|tmmwsp|upperquartile
// with --ref-sample (position and name), --logratio-trim, --sum-trim,
// --no-weighting, --acutoff and --p give calcNormFactors' factors with
// refColumn, logratioTrim, sumTrim, doWeighting, Acutoff and p, and the
// table's size_factor is lib_size x norm_factor over the geometric mean of
// that product. Each option was checked in R to move the factors by more
// than 1e-6, so a flag that is ignored fails here.
func TestEdgeROptionsMatchEdgeR(t *testing.T) {
	_, rows := reftest.Table(t, reftest.Path("oracle", "edger_options_factors.tsv"))
	type key struct{ ds, method, flags string }
	var order []key
	cases := map[key][][]string{}
	for _, r := range rows {
		k := key{r[0], r[1], r[2]}
		if cases[k] == nil {
			order = append(order, k)
		}
		cases[k] = append(cases[k], r)
	}
	if len(order) != 22 {
		t.Fatalf("%d cases in the fixture, want 22", len(order))
	}
	for _, k := range order {
		args := append([]string{"size-factors", "--method", k.method}, strings.Fields(k.flags)...)
		code, out, stderr := colnorm(t, append(args, reftest.Path("reference", k.ds, "counts.tsv"))...)
		if code != 0 {
			t.Errorf("%s %v: exit %d: %s", k.ds, args, code, stderr)
			continue
		}
		if !strings.HasPrefix(out, "sample\tlib_size\tnorm_factor\tsize_factor\n") {
			t.Fatalf("%s %v: header %.60q", k.ds, args, out)
		}
		got := parseTable(t, out)
		lines := strings.Split(strings.TrimSpace(out), "\n")[1:]
		want := cases[k]
		if len(lines) != len(want) {
			t.Fatalf("%s %v: %d samples, edgeR %d", k.ds, args, len(lines), len(want))
		}
		logSum := 0.0
		for _, w := range want {
			logSum += math.Log(reftest.Num(t, w[4]) * reftest.Num(t, w[5]))
		}
		gm := math.Exp(logSum / float64(len(want)))
		worst := 0.0
		for i, w := range want {
			s := w[3]
			if !strings.HasPrefix(lines[i], s+"\t") {
				t.Errorf("%s %v: row %d is %q, want sample %s (input order)", k.ds, args, i+1, lines[i], s)
			}
			row := got[s]
			if row["lib_size"] != w[4] {
				t.Errorf("%s %v %s: lib_size %s, want %s", k.ds, args, s, row["lib_size"], w[4])
			}
			nf, wantNF := reftest.Num(t, row["norm_factor"]), reftest.Num(t, w[5])
			if !reftest.Close(nf, wantNF, 1e-9, 0) {
				t.Errorf("%s %v %s: norm_factor %.17g, edgeR %.17g", k.ds, args, s, nf, wantNF)
			}
			worst = math.Max(worst, reftest.RelErr(nf, wantNF))
			sf, wantSF := reftest.Num(t, row["size_factor"]), reftest.Num(t, w[4])*wantNF/gm
			if !reftest.Close(sf, wantSF, 1e-9, 0) {
				t.Errorf("%s %v %s: size_factor %.17g, want %.17g", k.ds, args, s, sf, wantSF)
			}
		}
		t.Logf("%s %s %s: worst relative error %.3g", k.ds, k.method, k.flags, worst)
	}
}

// TestEdgeRNormalizeMatchesEdgeR: normalize with every CPM-type method, with
// and without --log and --prior-count, and tpm, rpkm and fpkm with
// --lengths, through the command line, against edgeR's cpm(y), cpm(y, log =
// TRUE, prior.count), rpkm() and TPM: the whole matrices of ../shared's
// references (cpm_raw, cpm_tmm, logcpm_tmm, tpm, rpkm) and the genes of
// testdata/oracle/edger_options_cpm.tsv.gz for the other methods.
func TestEdgeRNormalizeMatchesEdgeR(t *testing.T) {
	dir := t.TempDir()
	lengths := reftest.Path("reference", "marioni", "lengths.tsv")
	run := func(ds string, flags []string) *reftest.Matrix {
		t.Helper()
		out := filepath.Join(dir, "out.tsv")
		args := append([]string{"normalize"}, flags...)
		for _, f := range flags {
			if f == "tpm" || f == "rpkm" || f == "fpkm" {
				args = append(args, "--lengths", lengths)
			}
		}
		code, _, stderr := colnorm(t, append(args, reftest.Path("reference", ds, "counts.tsv"), "-o", out)...)
		if code != 0 {
			t.Fatalf("%s %v: exit %d: %s", ds, args, code, stderr)
		}
		return reftest.ReadMatrix(t, out)
	}
	compare := func(what string, got *reftest.Matrix, genes []string, want map[string][]float64) {
		t.Helper()
		row := map[string]int{}
		for i, g := range got.Genes {
			row[g] = i
		}
		worst := 0.0
		for _, g := range genes {
			i, ok := row[g]
			if !ok {
				t.Fatalf("%s: gene %s missing from the output", what, g)
			}
			for j, w := range want[g] {
				v := got.Cols[j][i]
				if !reftest.Close(v, w, 1e-9, 1e-12) {
					t.Fatalf("%s %s/%s: %.17g, edgeR %.17g", what, g, got.Samples[j], v, w)
				}
				worst = math.Max(worst, reftest.RelErr(v, w))
			}
		}
		t.Logf("%s: %d genes, worst relative error %.3g", what, len(genes), worst)
	}

	// Whole reference matrices.
	for _, c := range []struct {
		ds, ref string
		flags   []string
	}{
		{"marioni", "cpm_raw", []string{"--method", "cpm"}},
		{"marioni", "cpm_tmm", []string{"--method", "tmm"}},
		{"marioni", "logcpm_tmm", []string{"--method", "tmm", "--log"}},
		{"marioni", "logcpm_tmm", []string{"--method", "tmm", "--log", "--prior-count", "2"}},
		{"marioni", "tpm", []string{"--method", "tpm"}},
		{"marioni", "rpkm", []string{"--method", "rpkm"}},
		{"marioni", "rpkm", []string{"--method", "fpkm"}},
		{"synth_a", "cpm_raw", []string{"--method", "cpm"}},
		{"synth_a", "cpm_tmm", []string{"--method", "tmm"}},
		{"synth_a", "logcpm_tmm", []string{"--method", "tmm", "--log"}},
	} {
		got := run(c.ds, c.flags)
		want := reftest.ReadMatrix(t, reftest.Path("reference", c.ds, "ref", c.ref+".tsv.gz"))
		if strings.Join(got.Genes, ",") != strings.Join(want.Genes, ",") || strings.Join(got.Samples, ",") != strings.Join(want.Samples, ",") {
			t.Fatalf("%s %v: genes or samples differ from the input's", c.ds, c.flags)
		}
		rows := map[string][]float64{}
		for i, g := range want.Genes {
			for j := range want.Samples {
				rows[g] = append(rows[g], want.Cols[j][i])
			}
		}
		compare(c.ds+" "+strings.Join(c.flags, " ")+" vs "+c.ref, got, want.Genes, rows)
	}

	// The genes of the fixture, for every case it holds.
	header, rows := reftest.Table(t, reftest.Path("oracle", "edger_options_cpm.tsv.gz"))
	var order []string
	genes := map[string][]string{}
	values := map[string]map[string][]float64{}
	for _, r := range rows {
		if values[r[0]] == nil {
			order = append(order, r[0])
			values[r[0]] = map[string][]float64{}
		}
		genes[r[0]] = append(genes[r[0]], r[1])
		for _, v := range r[2:] {
			values[r[0]][r[1]] = append(values[r[0]][r[1]], reftest.Num(t, v))
		}
	}
	if len(order) != 18 {
		t.Fatalf("%d cases in the fixture, want 18", len(order))
	}
	for _, flags := range order {
		got := run("marioni", strings.Fields(flags))
		if strings.Join(got.Samples, "\t") != strings.Join(header[2:], "\t") {
			t.Fatalf("%s: samples %v, want %v", flags, got.Samples, header[2:])
		}
		compare("marioni "+flags, got, genes[flags], values[flags])
	}
}

// TestFilterOptionsMatchEdgeR: filter --by-expr with and without --group and
// with --min-count, --min-total-count, --large-n and --min-prop keeps
// exactly the genes edgeR's filterByExpr keeps on the TMM DGEList; the
// threshold filter (--min-count, --min-cpm, --min-samples) keeps exactly
// the genes with at least K samples at count >= N and cpm(counts) >= X.
// The rows written are the input's lines, byte for byte.
func TestFilterOptionsMatchEdgeR(t *testing.T) {
	dir := t.TempDir()
	_, rows := reftest.Table(t, reftest.Path("oracle", "edger_options_filter.tsv"))
	if len(rows) != 14 {
		t.Fatalf("%d cases in the fixture, want 14", len(rows))
	}
	groupCol := map[string]string{"marioni": "tissue", "synth_a": "condition"}
	for _, r := range rows {
		ds, flags, keep := r[0], strings.Fields(r[1]), r[2]
		counts := reftest.Path("reference", ds, "counts.tsv")
		input := strings.Split(strings.TrimRight(reftest.ReadFile(t, counts), "\n"), "\n")
		if len(keep) != len(input)-1 {
			t.Fatalf("%s %v: %d flags for %d genes", ds, flags, len(keep), len(input)-1)
		}
		args := []string{"filter"}
		for _, f := range flags {
			if f == "--group" {
				args = append(args, "--meta", reftest.Path("reference", ds, "meta.tsv"), "--group", groupCol[ds])
			} else {
				args = append(args, f)
			}
		}
		out := filepath.Join(dir, "kept.tsv")
		code, _, stderr := colnorm(t, append(args, counts, "-o", out)...)
		if code != 0 {
			t.Errorf("%s %v: exit %d: %s", ds, args, code, stderr)
			continue
		}
		want := []string{input[0]}
		for i := range keep {
			if keep[i] == 'T' {
				want = append(want, input[i+1])
			}
		}
		got := strings.Split(strings.TrimRight(reftest.ReadFile(t, out), "\n"), "\n")
		if len(got) != len(want) {
			t.Errorf("%s %v: kept %d genes, R keeps %d", ds, args, len(got)-1, len(want)-1)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s %v: line %d is %.60q, want the input's %.60q", ds, args, i+1, got[i], want[i])
				break
			}
		}
		t.Logf("%s %s: kept %d of %d genes, as R", ds, r[1], len(want)-1, len(keep))
	}
}

// TestEdgeRFailuresSayWhatToDo: where edgeR fails or answers NA, colnorm
// exits 2 with one line that names the file (and the sample, where there
// is one) and says what to do, writes nothing, and the way out it names
// works.
func TestEdgeRFailuresSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.tsv") // sample b all zero: calcNormFactors(TMM) fails, RLE/UQ NA
	os.WriteFile(zero, []byte("gene\ta\tb\tc\ng1\t5\t0\t3\ng2\t3\t0\t1\ng3\t9\t0\t4\n"), 0o644)
	every := filepath.Join(dir, "every.tsv") // every gene has a zero: RLE is NA in edgeR
	os.WriteFile(every, []byte("gene\ta\tb\tc\ng1\t0\t1\t3\ng2\t5\t0\t2\ng3\t7\t1\t0\n"), 0o644)
	check := func(args []string, want ...string) {
		t.Helper()
		out := filepath.Join(dir, "out.tsv")
		full := append(append([]string{}, args...), "-o", out)
		code, stdout, stderr := colnorm(t, full...)
		if code != 2 || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, stdout, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", args, stderr, w)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: wrote %s", args, out)
		}
	}
	for _, m := range []string{"tmm", "tmmwsp", "rle", "upperquartile"} {
		check([]string{"size-factors", "--method", m, zero}, zero, "sample b", "remove the sample")
		check([]string{"normalize", "--method", m, zero}, zero, "sample b", "remove the sample")
	}
	check([]string{"size-factors", "--method", "rle", every}, every, "RLE", "NA", "use tmm")
	check([]string{"normalize", "--method", "rle", "--log", every}, every, "RLE", "use tmm")
	// What the message offers works on the same file.
	for _, m := range []string{"tmm", "tmmwsp", "poscounts"} {
		code, out, stderr := colnorm(t, "size-factors", "--method", m, every)
		if code != 0 || !strings.Contains(out, "size_factor") {
			t.Errorf("%s on %s: exit %d %s", m, every, code, stderr)
		}
	}
}

// TestEdgeRThreadsDoNotChangeBits: the edgeR commands give the same bytes
// with 1, 2, 3 and 8 workers (synth_a: 12 samples).
func TestEdgeRThreadsDoNotChangeBits(t *testing.T) {
	dir := t.TempDir()
	counts := reftest.Path("reference", "synth_a", "counts.tsv")
	meta := reftest.Path("reference", "synth_a", "meta.tsv")
	commands := [][]string{
		{"size-factors", "--method", "tmm"},
		{"size-factors", "--method", "tmmwsp"},
		{"size-factors", "--method", "rle"},
		{"size-factors", "--method", "upperquartile"},
		{"size-factors", "--method", "ratio"},
		{"normalize", "--method", "tmm", "--log"},
		{"normalize", "--method", "tmmwsp"},
		{"normalize", "--method", "poscounts"},
		{"filter", "--by-expr", "--meta", meta, "--group", "condition"},
		{"filter", "--min-count", "5", "--min-cpm", "20", "--min-samples", "4"},
	}
	for _, cmd := range commands {
		var first []byte
		for _, threads := range []string{"1", "2", "3", "8"} {
			out := filepath.Join(dir, "out"+threads+".tsv")
			code, _, stderr := colnorm(t, append(append([]string{}, cmd...), "--threads", threads, counts, "-o", out)...)
			if code != 0 {
				t.Fatalf("%v --threads %s: exit %d: %s", cmd, threads, code, stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil || len(b) == 0 {
				t.Fatalf("%v --threads %s: %v", cmd, threads, err)
			}
			if first == nil {
				first = b
			} else if !bytes.Equal(first, b) {
				t.Errorf("%v: --threads %s gives other bytes than --threads 1", cmd, threads)
			}
		}
	}
}
