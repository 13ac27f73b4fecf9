package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// colnorm runs the command line in-process and returns status, stdout and stderr.
func colnorm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"colnorm"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

var marioni = reftest.Path("reference", "marioni", "counts.tsv")

// parseTable reads a TSV with a header into sample -> column -> text.
func parseTable(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) < 2 {
		t.Fatalf("not a table: %q", text)
	}
	header := strings.Split(lines[0], "\t")
	out := map[string]map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		row := map[string]string{}
		for i, h := range header {
			row[h] = f[i]
		}
		out[f[0]] = row
	}
	return out
}

func TestSizeFactorsCommandMatchesDESeq2(t *testing.T) {
	ref := reftest.Path("reference", "marioni", "ref", "size_factors.tsv.gz")
	for _, method := range []string{"ratio", "poscounts"} {
		code, out, stderr := colnorm(t, "size-factors", "--method", method, marioni)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", method, code, stderr)
		}
		got := parseTable(t, out)
		want := reftest.Column(t, ref, method)
		lib := reftest.Column(t, ref, "lib_size")
		for s, w := range want {
			g := reftest.Num(t, got[s]["size_factor"])
			if !reftest.Close(g, w, 1e-9, 0) {
				t.Errorf("%s %s: %v, want %v", method, s, g, w)
			}
			if reftest.Num(t, got[s]["lib_size"]) != lib[s] {
				t.Errorf("%s lib_size %v, want %v", s, got[s]["lib_size"], lib[s])
			}
		}
	}
}

// Flags may come after the positional arguments, as scripts write them.
func TestFlagsAfterArguments(t *testing.T) {
	c1, o1, _ := colnorm(t, "size-factors", "--method", "poscounts", marioni)
	c2, o2, e2 := colnorm(t, "size-factors", marioni, "--method", "poscounts")
	if c1 != 0 || c2 != 0 || o1 != o2 {
		t.Fatalf("exit %d/%d, outputs differ: %s", c1, c2, e2)
	}
}

// Bit-identical results whatever the number of threads.
func TestThreadsDoNotChangeBits(t *testing.T) {
	dir := t.TempDir()
	var first []byte
	for _, threads := range []string{"1", "2", "3", "8"} {
		out := filepath.Join(dir, "n"+threads+".tsv")
		code, _, stderr := colnorm(t, "normalize", "--threads", threads, "--method", "ratio", marioni, "-o", out)
		if code != 0 {
			t.Fatalf("threads %s: exit %d: %s", threads, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Errorf("--threads %s gives different bytes from --threads 1", threads)
		}
		_, sf1, _ := colnorm(t, "size-factors", "--threads", threads, "--method", "poscounts", marioni)
		_, sf2, _ := colnorm(t, "size-factors", "--threads", "1", "--method", "poscounts", marioni)
		if sf1 != sf2 {
			t.Errorf("--threads %s: size factors differ", threads)
		}
	}
}

func TestNormalizeAndLog2MatchReferences(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		ref  string
	}{
		{[]string{"normalize", "--method", "ratio"}, "normalized_ratio.tsv.gz"},
		{[]string{"normalize", "--method", "ratio", "--log"}, "log2_normalized.tsv.gz"},
		{[]string{"transform", "--method", "log2"}, "log2_normalized.tsv.gz"},
	} {
		for _, ds := range []string{"marioni", "synth_a"} {
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

// Bad input: exit 2, one line naming file, sample and gene, no output file.
func TestBadInputExit2NoOutput(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		data string
		want []string
	}{
		"negative.tsv":   {"gene\ta\tb\ng1\t5\t-1\ng2\t3\t4\n", []string{"negative.tsv", "sample b", "gene g1", "negative"}},
		"fraction.tsv":   {"gene\ta\tb\ng1\t5\t1\ng2\t3.5\t4\n", []string{"fraction.tsv", "sample a", "gene g2", "--allow-fractional"}},
		"missing.tsv":    {"gene\ta\tb\ng1\t5\tNA\ng2\t3\t4\n", []string{"missing.tsv", "sample b", "gene g1", "missing"}},
		"inf.tsv":        {"gene\ta\tb\ng1\t5\tInf\ng2\t3\t4\n", []string{"inf.tsv", "sample b", "gene g1", "infinite"}},
		"huge.tsv":       {"gene\ta\tb\ng1\t5\t1e300\ng2\t3\t4\n", []string{"huge.tsv", "sample b", "gene g1", "2^53"}},
		"allzeros.tsv":   {"gene\ta\tb\tc\ng1\t5\t0\t1\ng2\t0\t4\t2\n", []string{"allzeros.tsv", "every gene", "poscounts"}},
		"zerosample.tsv": {"gene\ta\tb\ng1\t5\t0\ng2\t3\t0\n", []string{"zerosample.tsv", "sample b", "zero"}},
	}
	for name, c := range cases {
		in := filepath.Join(dir, name)
		os.WriteFile(in, []byte(c.data), 0o644)
		out := filepath.Join(dir, "out-"+name)
		code, stdout, stderr := colnorm(t, "normalize", "--method", "ratio", in, "-o", out)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2 (stderr %q)", name, code, stderr)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: stderr is not one line: %q", name, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", name, stderr, w)
			}
		}
		if stdout != "" {
			t.Errorf("%s: stdout %q", name, stdout)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: an output file was left", name)
		}
		code, stdout, _ = colnorm(t, "size-factors", "--method", "ratio", in)
		if code != 2 || stdout != "" {
			t.Errorf("%s: size-factors exit %d stdout %q", name, code, stdout)
		}
	}
	// poscounts works where ratio fails
	code, out, stderr := colnorm(t, "size-factors", "--method", "poscounts", filepath.Join(dir, "allzeros.tsv"))
	if code != 0 || !strings.Contains(out, "size_factor") {
		t.Errorf("poscounts on allzeros: exit %d %s", code, stderr)
	}
	// fractional counts are accepted on request
	code, _, stderr = colnorm(t, "size-factors", "--allow-fractional", filepath.Join(dir, "fraction.tsv"))
	if code != 0 {
		t.Errorf("--allow-fractional: exit %d %s", code, stderr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"size-factors", "--method", "nonsense", marioni},
		{"size-factors"},
		{"size-factors", marioni, marioni},
		{"normalize", "--no-such-flag", marioni},
		{"convert", marioni},
		{"normalize", "--layout", "diagonal", marioni},
		{"size-factors", "/no/such/file.tsv"},
		{"transform", "--method", "nonsense", marioni},
		{"no-such-command", marioni},
	} {
		code, _, stderr := colnorm(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr %q", args, code, stderr)
		}
		if !strings.HasPrefix(stderr, "colnorm: ") {
			t.Errorf("%v: stderr %q", args, stderr)
		}
	}
}

// An interrupted run exits 130 and leaves no output file.
func TestInterruptedRunLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "n.tsv")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	code := run(ctx, []string{"colnorm", "normalize", marioni, "-o", out}, &o, &e)
	if code != 130 {
		t.Errorf("exit %d, want 130 (%s)", code, e.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left %v", entries)
	}
}

// Every text flavour gives the same size factors (poscounts, on the first 400 genes of marioni).
func TestConvertTextRoundTrip(t *testing.T) {
	dir := t.TempDir()
	_, want, _ := colnorm(t, "size-factors", "--method", "poscounts", marioni)
	for _, name := range []string{"m.tsv", "m.csv", "m.tsv.gz", "m.tsv.zst"} {
		p := filepath.Join(dir, name)
		if code, _, stderr := colnorm(t, "convert", marioni, p); code != 0 {
			t.Fatalf("convert to %s: %s", name, stderr)
		}
		b, _ := os.ReadFile(p)
		if strings.HasSuffix(name, ".gz") && !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) ||
			strings.HasSuffix(name, ".zst") && !bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			t.Errorf("%s is not compressed", name)
		}
		code, got, stderr := colnorm(t, "size-factors", "--method", "poscounts", p)
		if code != 0 || got != want {
			t.Errorf("%s: exit %d %s, size factors differ", name, code, stderr)
		}
	}
	code, long, _ := colnorm(t, "convert", marioni, "-", "--layout", "long")
	if code != 0 || !strings.HasPrefix(long, "gene_id\tsample\tvalue\nENSG00000177757\tR1L1Kidney\t2\n") {
		t.Errorf("long TSV on stdout: %.80q", long)
	}
}

func TestEdgeRSizeFactorsTable(t *testing.T) {
	ref := reftest.Path("reference", "marioni", "ref", "size_factors.tsv.gz")
	code, out, stderr := colnorm(t, "size-factors", "--method", "tmm", marioni)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "sample\tlib_size\tnorm_factor\tsize_factor\n") {
		t.Fatalf("header: %.60q", out)
	}
	got := parseTable(t, out)
	want := reftest.Column(t, ref, "tmm")
	// size_factor = lib x nf over the geometric mean of that product
	logSum := 0.0
	for s := range want {
		logSum += math.Log(reftest.Num(t, got[s]["lib_size"]) * want[s])
	}
	gm := math.Exp(logSum / float64(len(want)))
	for s, w := range want {
		if !reftest.Close(reftest.Num(t, got[s]["norm_factor"]), w, 1e-9, 0) {
			t.Errorf("%s norm_factor %s, want %v", s, got[s]["norm_factor"], w)
		}
		sf := reftest.Num(t, got[s]["lib_size"]) * w / gm
		if !reftest.Close(reftest.Num(t, got[s]["size_factor"]), sf, 1e-9, 0) {
			t.Errorf("%s size_factor %s, want %v", s, got[s]["size_factor"], sf)
		}
	}
	// a reference sample by name gives factor 1 for it
	code, out, _ = colnorm(t, "size-factors", "--method", "tmm", "--ref-sample", "R1L3Kidney", marioni)
	if code != 0 {
		t.Fatal(code)
	}
	got = parseTable(t, out)
	raw := reftest.Num(t, got["R1L3Kidney"]["norm_factor"])
	for s, row := range got {
		if s != "R1L3Kidney" && reftest.Num(t, row["norm_factor"]) == raw {
			t.Errorf("%s has the reference's factor", s)
		}
	}
	if code, _, stderr := colnorm(t, "size-factors", "--method", "tmm", "--ref-sample", "nobody", marioni); code != 2 {
		t.Errorf("unknown reference sample: exit %d %s", code, stderr)
	}
}

// TPM from featureCounts' own Length column equals TPM with --lengths, and
// --gtf gives exon-union lengths.
func TestGeneLengthSources(t *testing.T) {
	dir := t.TempDir()
	fc := "# Program:featureCounts\nGeneid\tChr\tStart\tEnd\tStrand\tLength\ta\tb\n" +
		"g1\tchr1\t1\t1000\t+\t1000\t10\t20\ng2\tchr1\t5000\t5499\t+\t500\t30\t0\ng3\tchr2\t1\t2000\t-\t2000\t5\t7\n"
	lengths := "gene_id\tlength\ng1\t1000\ng2\t500\ng3\t2000\n"
	gtf := "chr1\tx\texon\t1\t600\t.\t+\t.\tgene_id \"g1\";\nchr1\tx\texon\t401\t1000\t.\t+\t.\tgene_id \"g1\";\n" +
		"chr1\tx\texon\t5000\t5499\t.\t+\t.\tgene_id \"g2\";\nchr2\tx\texon\t1\t2000\t.\t-\t.\tgene_id \"g3\";\n"
	for name, data := range map[string]string{"fc.txt": fc, "len.tsv": lengths, "a.gtf": gtf} {
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
	}
	in := filepath.Join(dir, "fc.txt")
	_, a, e1 := colnorm(t, "normalize", "--method", "tpm", in)
	_, b, e2 := colnorm(t, "normalize", "--method", "tpm", "--lengths", filepath.Join(dir, "len.tsv"), in)
	_, c, e3 := colnorm(t, "normalize", "--method", "tpm", "--gtf", filepath.Join(dir, "a.gtf"), in)
	if a == "" || a != b || a != c {
		t.Fatalf("TPM differs by length source:\n%s\n%s\n%s\n%s%s%s", a, b, c, e1, e2, e3)
	}
	// TPM of sample a: rates 0.01, 0.06, 0.0025 over 0.0725
	got := parseTable(t, a)
	if v := reftest.Num(t, got["g1"]["a"]); !reftest.Close(v, 0.01/0.0725*1e6, 1e-12, 0) {
		t.Errorf("TPM g1/a = %v", v)
	}
	code, _, stderr := colnorm(t, "normalize", "--method", "rpkm", marioni)
	if code != 2 || !strings.Contains(stderr, "--lengths") {
		t.Errorf("rpkm without lengths: exit %d %q", code, stderr)
	}
}

func TestFilterCommands(t *testing.T) {
	dir := t.TempDir()
	meta := reftest.Path("reference", "marioni", "meta.tsv")
	out := filepath.Join(dir, "kept.tsv")
	code, _, stderr := colnorm(t, "filter", "--by-expr", "--meta", meta, "--group", "tissue", marioni, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	kept := reftest.ReadMatrix(t, out)
	_, want := reftest.Table(t, reftest.Path("reference", "marioni", "ref", "filter_by_expr.tsv.gz"))
	var wantGenes []string
	for _, r := range want {
		if r[1] == "true" {
			wantGenes = append(wantGenes, r[0])
		}
	}
	if strings.Join(kept.Genes, ",") != strings.Join(wantGenes, ",") {
		t.Errorf("kept %d genes, edgeR keeps %d", len(kept.Genes), len(wantGenes))
	}
	// the rows are the input's, unchanged: integers stay integers in the text
	b, _ := os.ReadFile(out)
	if strings.Contains(string(b), ".") {
		t.Error("filtered counts are not written as the input's integers")
	}
	// threshold filter: at least 10 samples with count >= 100
	code, outText, _ := colnorm(t, "filter", "--min-count", "100", "--min-samples", "10", marioni)
	if code != 0 {
		t.Fatal(code)
	}
	for _, l := range strings.Split(strings.TrimSpace(outText), "\n")[1:] {
		for _, f := range strings.Split(l, "\t")[1:] {
			if reftest.Num(t, f) < 100 {
				t.Fatalf("kept a row with %s < 100: %s", f, l)
			}
		}
	}
	if code, _, _ := colnorm(t, "filter", marioni); code != 2 {
		t.Errorf("filter without a rule: exit %d", code)
	}
	if code, _, stderr := colnorm(t, "filter", "--by-expr", "--meta", meta, "--group", "nosuch", marioni); code != 2 || !strings.Contains(stderr, "nosuch") {
		t.Errorf("unknown group column: exit %d %s", code, stderr)
	}
}

func TestEdgeRFailuresExit2(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "zero.tsv")
	os.WriteFile(in, []byte("gene\ta\tb\tc\ng1\t5\t0\t3\ng2\t3\t0\t1\ng3\t9\t0\t4\n"), 0o644)
	for _, m := range []string{"tmm", "tmmwsp", "rle", "upperquartile"} {
		code, out, stderr := colnorm(t, "size-factors", "--method", m, in)
		if code != 2 || out != "" || !strings.Contains(stderr, "sample b") {
			t.Errorf("%s: exit %d out %q stderr %q", m, code, out, stderr)
		}
	}
}

// The demo runs the pipeline on the embedded data and checks itself against R.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := colnorm(t, "demo", "-o", dir)
	if code != 0 {
		t.Fatalf("demo: exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"the same genes as edgeR: true", "bit-identical to the TSV's: true", "normalized counts (read back from Parquet) vs DESeq2"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(out, "DIFFERS") {
		t.Errorf("demo reports a difference:\n%s", out)
	}
	for _, f := range []string{"size_factors.tsv", "normalized_ratio.parquet", "log2_normalized.parquet", "cpm_tmm.parquet", "logcpm_tmm.parquet", "tpm.parquet", "filtered_counts.parquet", "counts_long.parquet"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("demo did not write %s", f)
		}
	}
}

// transform log2 where every gene has a zero: poscounts, said on stderr.
func TestTransformFallsBackToPoscounts(t *testing.T) {
	in := filepath.Join(t.TempDir(), "zeros.tsv")
	os.WriteFile(in, []byte("gene\ta\tb\tc\ng1\t5\t0\t1\ng2\t0\t4\t2\ng3\t7\t3\t0\n"), 0o644)
	code, out, stderr := colnorm(t, "transform", "--method", "log2", in)
	if code != 0 || !strings.Contains(stderr, "using poscounts") || !strings.HasPrefix(out, "gene_id\ta\tb\tc\n") {
		t.Fatalf("exit %d, stderr %q, out %q", code, stderr, out)
	}
	_, want, _ := colnorm(t, "transform", "--method", "log2", "--size-factors", "poscounts", in)
	if out != want {
		t.Errorf("fall-back differs from --size-factors poscounts:\n%s\n%s", out, want)
	}
}

// transform --method vst: DESeq2's blind VST, the vst() subset and the
// fit types through the command line.
func TestTransformVST(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "vst.parquet")
	if code, _, stderr := colnorm(t, "transform", "--method", "vst", marioni, "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := reftest.ReadMatrix(t, out)
	want := reftest.ReadMatrix(t, reftest.Path("reference", "marioni", "ref", "vst.tsv.gz"))
	sub := filepath.Join(dir, "vst_nsub.tsv")
	if code, _, stderr := colnorm(t, "transform", "--method", "vst", "--nsub", "1000", marioni, "-o", sub); code != 0 {
		t.Fatalf("--nsub: exit %d: %s", code, stderr)
	}
	gotSub := reftest.ReadMatrix(t, sub)
	wantSub := reftest.ReadMatrix(t, reftest.Path("oracle", "vst_nsub1000_marioni.tsv.gz"))
	worst, worstSub := 0.0, 0.0
	for j := range want.Samples {
		for i := range want.Genes {
			worst = math.Max(worst, math.Abs(got.Cols[j][i]-want.Cols[j][i]))
			worstSub = math.Max(worstSub, math.Abs(gotSub.Cols[j][i]-wantSub.Cols[j][i]))
		}
	}
	if worst > 1e-6 || worstSub > 1e-6 {
		t.Errorf("worst |ΔVST| %.3g (full), %.3g (--nsub 1000)", worst, worstSub)
	}
	for _, args := range [][]string{
		{"--method", "vst", "--fit-type", "local"},
		{"--method", "vst", "--nsub", "-1"},
		{"--method", "vst", "--size-factors", "poscounts"},
		{"--method", "vst", "--nsub", "100000"}, // more than the genes
	} {
		code, _, stderr := colnorm(t, append(append([]string{"transform"}, args...), marioni)...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, code, stderr)
		}
	}
}

// Where DESeq2's parametric trend fails (dispersion rising with the mean
// gives a negative a1), colnorm says so and uses the mean trend.
func TestTransformVSTFallsBackToMean(t *testing.T) {
	z := []float64{-1.22, -0.82, -0.41, 0.41, 0.82, 1.22}
	var b strings.Builder
	b.WriteString("gene\ts1\ts2\ts3\ts4\ts5\ts6\n")
	for i := 0; i < 300; i++ {
		mu := 20 * math.Pow(250, float64(i)/299) // 20 … 5,000
		disp := 0.01 + 0.5*float64(i)/299        // rising with the mean
		sd := math.Sqrt(mu + disp*mu*mu)
		fmt.Fprintf(&b, "g%d", i)
		for j := range z {
			fmt.Fprintf(&b, "\t%d", int(math.Max(0, math.Round(mu+z[(i+j)%6]*sd))))
		}
		b.WriteString("\n")
	}
	in := filepath.Join(t.TempDir(), "rising.tsv")
	os.WriteFile(in, []byte(b.String()), 0o644)
	code, out, stderr := colnorm(t, "transform", "--method", "vst", in)
	if code != 0 || !strings.Contains(stderr, "using fitType mean") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	_, want, _ := colnorm(t, "transform", "--method", "vst", "--fit-type", "mean", in)
	if out != want {
		t.Error("the fall-back differs from --fit-type mean")
	}
}

// qc writes the TSVs of CONTRACT.md, equal to R's plotPCA, cor and hclust,
// and a self-contained report.
func TestQCCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "qc")
	meta := reftest.Path("reference", "marioni", "meta.tsv")
	if code, _, stderr := colnorm(t, "qc", "--meta", meta, marioni, "-o", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ref := func(name string) string { return reftest.Path("reference", "marioni", "ref", name) }
	got := reftest.ReadMatrix(t, filepath.Join(dir, "sample_cor.tsv"))
	want := reftest.ReadMatrix(t, ref("sample_cor.tsv.gz"))
	for j := range want.Samples {
		for i := range want.Genes {
			if d := math.Abs(got.Cols[j][i] - want.Cols[j][i]); d > 1e-12 {
				t.Fatalf("cor %s/%s differs by %.3g", want.Genes[i], want.Samples[j], d)
			}
		}
	}
	pca := reftest.ReadMatrix(t, filepath.Join(dir, "pca.tsv"))
	wantPCA := reftest.ReadMatrix(t, ref("pca.tsv.gz"))
	for c := range wantPCA.Samples { // PC1..PC4, up to sign
		sign := math.Copysign(1, pca.Cols[c][0]*wantPCA.Cols[c][0])
		for i := range wantPCA.Genes {
			if d := math.Abs(sign*pca.Cols[c][i] - wantPCA.Cols[c][i]); d > 1e-9 {
				t.Errorf("PC%d %s differs by %.3g", c+1, wantPCA.Genes[i], d)
			}
		}
	}
	for _, name := range []string{"hclust_order.tsv", "pca_variance.tsv"} {
		gotText := reftest.ReadFile(t, filepath.Join(dir, name))
		_, rows := reftest.Table(t, ref(name+".gz"))
		_, gotRows := reftest.Table(t, filepath.Join(dir, name))
		if len(rows) != len(gotRows) {
			t.Fatalf("%s: %d rows, R %d:\n%s", name, len(gotRows), len(rows), gotText)
		}
		for i := range rows {
			if rows[i][0] != gotRows[i][0] || (name == "hclust_order.tsv" && rows[i][1] != gotRows[i][1]) ||
				(name == "pca_variance.tsv" && math.Abs(reftest.Num(t, rows[i][1])-reftest.Num(t, gotRows[i][1])) > 1e-12) {
				t.Errorf("%s row %d: %v, R %v", name, i+1, gotRows[i], rows[i])
			}
		}
	}
	html := reftest.ReadFile(t, filepath.Join(dir, "report.html"))
	if !strings.Contains(html, "<svg") || !strings.Contains(html, "R1L1Kidney") || strings.Contains(html, "src=\"http") {
		t.Error("report.html lacks plots or sample names, or loads something from the network")
	}

	// Bad metadata: exit 2, one line, no output folder.
	bad := filepath.Join(t.TempDir(), "meta.tsv")
	os.WriteFile(bad, []byte("sample\ttissue\nR1L1Kidney\tKidney\n"), 0o644)
	out := filepath.Join(t.TempDir(), "none")
	for _, args := range [][]string{
		{"--meta", bad},                  // lacks samples
		{"--meta", meta, "--group", "x"}, // no such column
		{"--group", "tissue"},            // --group without --meta
		{"--ntop", "1"},
	} {
		code, _, stderr := colnorm(t, append(append([]string{"qc"}, args...), marioni, "-o", out)...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", args, out)
		}
	}
}

// qc --before and --control-prefix add a before/after PCA to the report.
func TestQCBeforeAfter(t *testing.T) {
	dir := t.TempDir()
	spike := reftest.Path("reference", "spike", "counts.tsv")
	meta := reftest.Path("reference", "spike", "meta.tsv")
	adj := filepath.Join(dir, "adjusted.tsv")
	if code, _, stderr := colnorm(t, "batch-correct", "--method", "combat-seq", "--meta", meta, "--batch", "batch", "--group", "group", "--quiet", spike, "-o", adj); code != 0 {
		t.Fatalf("batch-correct: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{
		{"--before", spike, adj},
		{"--control-prefix", "ERCC-", spike},
	} {
		out := filepath.Join(dir, "qc"+args[0])
		if code, _, stderr := colnorm(t, append(append([]string{"qc", "--meta", meta}, args...), "-o", out)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		html := reftest.ReadFile(t, filepath.Join(out, "report.html"))
		if !strings.Contains(html, "Before and after") || strings.Count(html, "PC1 vs PC2") < 3 {
			t.Errorf("%v: the report has no before/after PCA", args)
		}
	}
	code, _, stderr := colnorm(t, "qc", "--before", marioni, spike, "-o", filepath.Join(dir, "bad"))
	if code != 2 || !strings.Contains(stderr, "same samples") {
		t.Errorf("--before with other samples: exit %d, %q", code, stderr)
	}
}
