package main

import (
	"bytes"
	"context"
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
