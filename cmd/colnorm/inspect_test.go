package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// inspectJSON runs inspect --json and decodes its report.
func inspectJSON(t *testing.T, wantCode int, args ...string) inspectReport {
	t.Helper()
	code, out, stderr := colnorm(t, append([]string{"inspect", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("inspect %v: exit %d, want %d: %s", args, code, wantCode, stderr)
	}
	var r inspectReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("inspect --json: %v: %s", err, out)
	}
	return r
}

// tsvZeros counts, from the TSV's text, the zeros of each sample, the genes
// zero everywhere and the genes with no zero.
func tsvZeros(t *testing.T, path string) (samples []string, zeros []int, zeroGenes, noZero int) {
	t.Helper()
	_, samples, values := readWideTSV(t, path)
	zeros = make([]int, len(samples))
	for _, row := range values {
		z := 0
		for j, v := range row {
			if x, _ := strconv.ParseFloat(v, 64); x == 0 {
				zeros[j]++
				z++
			}
		}
		if z == len(row) {
			zeroGenes++
		}
		if z == 0 {
			noZero++
		}
	}
	return samples, zeros, zeroGenes, noZero
}

func TestInspectReferenceSets(t *testing.T) {
	for _, set := range []string{"marioni", "spike", "synth_a"} {
		t.Run(set, func(t *testing.T) {
			counts := reftest.Path("reference", set, "counts.tsv")
			r := inspectJSON(t, 0, counts)
			samples, zeros, zeroGenes, noZero := tsvZeros(t, counts)
			genes, _, _ := readWideTSV(t, counts)
			if r.Genes != len(genes) || r.Samples != len(samples) {
				t.Errorf("%d genes x %d samples, want %d x %d", r.Genes, r.Samples, len(genes), len(samples))
			}
			if r.File.Format != "text" || r.File.Layout != "wide" || !r.File.Detected || r.File.Kind != "TSV" {
				t.Errorf("file %+v", r.File)
			}
			v := r.Values
			if !v.AllIntegers || v.Missing != 0 || v.Negative != 0 {
				t.Errorf("values %+v: want integer counts", v)
			}
			if v.ZeroGenes != zeroGenes || v.GenesWithoutZero != noZero {
				t.Errorf("zero genes %d, genes without zero %d; the TSV has %d and %d", v.ZeroGenes, v.GenesWithoutZero, zeroGenes, noZero)
			}
			for j, s := range v.PerSample {
				if s.Sample != samples[j] || s.Zeros != zeros[j] {
					t.Errorf("sample %d: %s with %d zeros, want %s with %d", j, s.Sample, s.Zeros, samples[j], zeros[j])
				}
			}
			// The library sizes are the size-factors table's lib_size.
			_, out, _ := colnorm(t, "size-factors", counts)
			table := parseTable(t, out)
			for _, s := range v.PerSample {
				if formatFloat(s.Sum) != table[s.Sample]["lib_size"] {
					t.Errorf("%s: sum %v, size-factors says lib_size %s", s.Sample, s.Sum, table[s.Sample]["lib_size"])
				}
			}
		})
	}
}

func TestInspectParquet(t *testing.T) {
	dir := t.TempDir()
	for _, layout := range []string{"wide", "long"} {
		pq := filepath.Join(dir, layout+".parquet")
		if code, _, stderr := colnorm(t, "normalize", "--quiet", "--method", "tmm", "--layout", layout, "--float32",
			"--compression", "gzip", "--row-group-rows", "2000", marioni, "-o", pq); code != 0 {
			t.Fatal(stderr)
		}
		r := inspectJSON(t, 0, pq)
		f := r.File
		groups, rows := 3, int64(5088) // 2,000 + 2,000 + 1,088 genes
		if layout == "long" {
			groups, rows = 26, 50880
		}
		if f.Format != "parquet" || f.Layout != layout || f.RowGroups != groups || f.Rows != rows ||
			strings.Join(f.Compression, ",") != "GZIP" {
			t.Errorf("%s: file %+v", layout, f)
		}
		if f.Metadata[metaMethod] != "tmm" || !strings.HasPrefix(f.Metadata[metaSizeFactors], `{"R1L1Kidney":`) {
			t.Errorf("%s: metadata %v", layout, f.Metadata)
		}
		wantCols := "STRING:1,FLOAT:10"
		if layout == "long" {
			wantCols = "STRING:2,FLOAT:1"
		}
		var cols []string
		for _, c := range f.Columns {
			cols = append(cols, fmt.Sprintf("%s:%d", c.Type, c.Count))
		}
		if strings.Join(cols, ",") != wantCols {
			t.Errorf("%s: columns %s, want %s", layout, strings.Join(cols, ","), wantCols)
		}
		if r.Genes != 5088 || r.Samples != 10 || r.Values.AllIntegers {
			t.Errorf("%s: %d x %d, all integers %v", layout, r.Genes, r.Samples, r.Values.AllIntegers)
		}
		// The long file's id columns, and the values of both (a count gives
		// the same normalized value throughout a sample), are dictionary-encoded.
		if !f.Dictionary {
			t.Errorf("%s: dictionary-encoded %v", layout, f.Dictionary)
		}
	}
}

// TestInspectManySamples summarizes zeros per sample and names the worst.
func TestInspectManySamples(t *testing.T) {
	var b strings.Builder
	b.WriteString("gene")
	for j := range 30 {
		fmt.Fprintf(&b, "\ts%02d", j)
	}
	b.WriteString("\n")
	for g := range 40 {
		fmt.Fprintf(&b, "g%d", g)
		for j := range 30 {
			v := g + j + 1
			if g < j%7 || g == 39 { // sample j has j%7 zeros, plus gene 39 zero everywhere
				v = 0
			}
			fmt.Fprintf(&b, "\t%d", v)
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "many.tsv")
	os.WriteFile(path, []byte(b.String()), 0o644)
	code, out, stderr := colnorm(t, "inspect", path)
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{
		"zeros / sample   min 1, median 4, max 7 (of 40 genes)",
		"most zeros       s06 (7, 17.5%), s13 (7, 17.5%), s20 (7, 17.5%), s27 (7, 17.5%), s05 (6, 15.0%)",
		"zero genes       1 of 40 genes are zero in every sample: g39",
		"size factors     33 genes have no zero", // genes 6 to 38
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

// TestInspectDuplicateGene describes what it can and exits 2.
func TestInspectDuplicateGene(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.csv")
	os.WriteFile(path, []byte("gene,a,b\nx,1,2\ny,3,4\nx,5,6\n"), 0o644)
	r := inspectJSON(t, 2, path)
	if r.File.Kind != "CSV" || !strings.Contains(r.Problem, "duplicate gene id") || !strings.Contains(r.Problem, "x") || r.Values != nil {
		t.Errorf("report %+v, problem %q", r.File, r.Problem)
	}
	code, out, stderr := colnorm(t, "inspect", path)
	if code != 2 || !strings.Contains(out, "problem") || !strings.Contains(stderr, "duplicate gene id") {
		t.Errorf("exit %d\n%s\n%s", code, out, stderr)
	}
}

// TestInspectFractional reports non-integer values instead of stopping.
func TestInspectFractional(t *testing.T) {
	path := filepath.Join(t.TempDir(), "frac.tsv")
	os.WriteFile(path, []byte("gene\ta\tb\nx\t1.5\t0\ny\t-2\tNA\n"), 0o644)
	r := inspectJSON(t, 0, path)
	v := r.Values
	if v.AllIntegers || v.Negative != 1 || v.Missing != 1 || *v.Min != -2 || *v.Max != 1.5 {
		t.Errorf("values %+v", v)
	}
	if p := v.PerSample[0]; p.NonInteger != 1 || p.Negative != 1 || p.Zeros != 0 {
		t.Errorf("sample a %+v", p)
	}
}

func TestInspectArrow(t *testing.T) {
	dir := t.TempDir()
	for name, kind := range map[string]string{"m.arrow": "Arrow IPC file", "m.arrows": "Arrow IPC stream"} {
		path := filepath.Join(dir, name)
		if code, _, stderr := colnorm(t, "normalize", "--quiet", "--layout", "long", marioni, "-o", path); code != 0 {
			t.Fatal(stderr)
		}
		r := inspectJSON(t, 0, path)
		f := r.File
		if f.Format != "arrow" || f.Kind != kind || f.Layout != "long" || f.Rows != 50880 || f.Batches < 1 ||
			f.Metadata[metaMethod] != "ratio" || strings.Join(f.Compression, ",") != "none" {
			t.Errorf("%s: file %+v", name, f)
		}
		if r.Genes != 5088 || r.Samples != 10 {
			t.Errorf("%s: %d x %d", name, r.Genes, r.Samples)
		}
	}
}
