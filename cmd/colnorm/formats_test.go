package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// The same size factors, bit for bit, from every input format and layout.
func TestSameAnswersFromEveryFormat(t *testing.T) {
	dir := t.TempDir()
	counts := reftest.Path("reference", "synth_a", "counts.tsv")
	m := reftest.ReadMatrix(t, counts)

	inputs := map[string][]string{} // name -> extra flags
	for _, name := range []string{"c.tsv.gz", "c.tsv.zst", "c.csv", "c_wide.parquet", "c_wide.arrow", "c.feather"} {
		if code, _, stderr := colnorm(t, "convert", counts, filepath.Join(dir, name)); code != 0 {
			t.Fatalf("convert to %s: %s", name, stderr)
		}
		inputs[name] = nil
	}
	for _, name := range []string{"c_long.parquet", "c_long.arrow"} {
		if code, _, stderr := colnorm(t, "convert", counts, filepath.Join(dir, name), "--layout", "long"); code != 0 {
			t.Fatalf("convert to %s: %s", name, stderr)
		}
		inputs[name] = nil
	}

	// A folder of Parquet shards: samples split across three files.
	shards := filepath.Join(dir, "shards")
	os.Mkdir(shards, 0o755)
	for k, part := range [][2]int{{0, 5}, {5, 6}, {6, len(m.Samples)}} {
		var b strings.Builder
		b.WriteString("gene_id\t" + strings.Join(m.Samples[part[0]:part[1]], "\t") + "\n")
		for i, g := range m.Genes {
			b.WriteString(g)
			for j := part[0]; j < part[1]; j++ {
				b.WriteString("\t" + formatFloat(m.Cols[j][i]))
			}
			b.WriteString("\n")
		}
		tsv := filepath.Join(dir, "part.tsv")
		os.WriteFile(tsv, []byte(b.String()), 0o644)
		out := filepath.Join(shards, "part"+string(rune('0'+k))+".parquet")
		if code, _, stderr := colnorm(t, "convert", tsv, out); code != 0 {
			t.Fatalf("shard %d: %s", k, stderr)
		}
	}
	inputs["shards"] = nil

	// Samples as rows (AnnData orientation), as text.
	var b strings.Builder
	b.WriteString("sample\t" + strings.Join(m.Genes, "\t") + "\n")
	for j, s := range m.Samples {
		b.WriteString(s)
		for i := range m.Genes {
			b.WriteString("\t" + formatFloat(m.Cols[j][i]))
		}
		b.WriteString("\n")
	}
	os.WriteFile(filepath.Join(dir, "t.tsv"), []byte(b.String()), 0o644)
	inputs["t.tsv"] = []string{"--samples-as-rows"}

	for _, method := range []string{"ratio", "poscounts", "tmm"} {
		code, want, stderr := colnorm(t, "size-factors", "--method", method, counts)
		if code != 0 {
			t.Fatal(stderr)
		}
		for name, flags := range inputs {
			args := append([]string{"size-factors", "--method", method}, flags...)
			code, got, stderr := colnorm(t, append(args, filepath.Join(dir, name))...)
			if code != 0 {
				t.Errorf("%s %s: exit %d: %s", method, name, code, stderr)
				continue
			}
			if got != want {
				t.Errorf("%s from %s differs from TSV", method, name)
			}
		}
	}
}

// Normalized output in every format reads back as the TSV output's values.
func TestOutputsInEveryFormat(t *testing.T) {
	dir := t.TempDir()
	counts := reftest.Path("reference", "marioni", "counts.tsv")
	ref := filepath.Join(dir, "n.tsv")
	if code, _, stderr := colnorm(t, "normalize", "--method", "tmm", counts, "-o", ref); code != 0 {
		t.Fatal(stderr)
	}
	want := reftest.ReadMatrix(t, ref)
	for _, out := range []string{"n.parquet", "n.arrow", "n_long.parquet", "n_long.arrow", "n.tsv.gz"} {
		p := filepath.Join(dir, out)
		args := []string{"normalize", "--method", "tmm", counts, "-o", p}
		if strings.Contains(out, "long") {
			args = append(args, "--layout", "long")
		}
		if code, _, stderr := colnorm(t, args...); code != 0 {
			t.Fatalf("%s: %s", out, stderr)
		}
		got := reftest.ReadMatrix(t, p)
		if strings.Join(got.Genes, ",") != strings.Join(want.Genes, ",") || strings.Join(got.Samples, ",") != strings.Join(want.Samples, ",") {
			t.Fatalf("%s: ids or order differ", out)
		}
		for j := range want.Cols {
			for i := range want.Cols[j] {
				if got.Cols[j][i] != want.Cols[j][i] {
					t.Fatalf("%s %s/%s: %v, want %v", out, want.Genes[i], want.Samples[j], got.Cols[j][i], want.Cols[j][i])
				}
			}
		}
	}
}
