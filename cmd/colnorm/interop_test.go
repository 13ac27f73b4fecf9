package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Interoperability: the outputs downstream tools read as they are. The
// variants are written once by interopOutputs; the DuckDB test
// (interop_duckdb_test.go) and the Polars test (TestInteropPolars, through
// node and interop/polars_check.mjs) read every one of them and compare it
// with the TSV output of the same command.

// interopOutput is one output file and what a reader must find in it.
type interopOutput struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Format string `json:"format"` // parquet, arrow (IPC file) or arrow-stream
	Layout string `json:"layout"`
	// Type is the value columns' type: float64, float32 or int64.
	Type        string `json:"type"`
	Compression string `json:"compression,omitempty"`
	RowGroups   int    `json:"rowGroups,omitempty"` // the number of row groups, where known
	// TSV is the same command's TSV output (wide): the values to find.
	TSV string `json:"tsv"`
	// Metadata are key-value pairs the file's metadata must hold.
	Metadata map[string]string `json:"metadata"`
	// Command is the command name that colnorm.command starts with;
	// SizeFactors says whether colnorm.size_factors is there.
	Command     string `json:"command"`
	SizeFactors bool   `json:"sizeFactors"`
	Genes       int    `json:"genes"`
	Samples     int    `json:"samples"`
}

// interopCommand is a command whose outputs are checked, without -o.
type interopCommand struct {
	name    string
	args    []string
	integer bool
	method  string // colnorm.method; "" when the command sets none
	factors bool   // colnorm.size_factors is set
}

func interopCommands() []interopCommand {
	ref := filepath.Dir(marioni)
	return []interopCommand{
		{name: "tmm", args: []string{"normalize", "--method", "tmm", marioni}, method: "tmm", factors: true},
		{name: "vst", args: []string{"transform", "--method", "vst", marioni}, method: "vst", factors: true},
		{name: "convert", args: []string{"convert", marioni}, integer: true},
		{name: "combat", args: []string{"batch-correct", "--method", "combat-seq", "--meta", filepath.Join(ref, "meta.tsv"),
			"--batch", "run", "--group", "tissue", marioni}, integer: true, method: "combat-seq"},
	}
}

// run writes the command's output to out with extra flags.
func (ic interopCommand) run(t *testing.T, out string, extra ...string) {
	t.Helper()
	args := append([]string{}, ic.args...)
	if ic.args[0] == "convert" {
		args = append(args, out)
	} else {
		args = append(args, "-o", out)
	}
	args = append(args, "--quiet")
	args = append(args, extra...)
	if code, _, stderr := colnorm(t, args...); code != 0 {
		t.Fatalf("colnorm %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
}

// interopOutputs writes every variant into dir and returns them: for float
// outputs, wide and long x float64 and float32 x every Parquet codec, and
// Arrow files and streams; for integer outputs, wide and long Parquet and
// Arrow.
func interopOutputs(t *testing.T, dir string) []interopOutput {
	t.Helper()
	var outs []interopOutput
	for _, ic := range interopCommands() {
		types := []string{"float64", "float32"}
		if ic.integer {
			types = []string{"int64"}
		}
		for _, typ := range types {
			var flags []string
			if typ == "float32" {
				flags = append(flags, "--float32")
			}
			tsv := filepath.Join(dir, ic.name+"-"+typ+".tsv")
			ic.run(t, tsv, flags...)
			genes, samples := interopShape(t, tsv)
			add := func(name, format, layout, codec string, extra ...string) {
				path := filepath.Join(dir, name)
				args := append(append([]string{"--layout", layout}, flags...), extra...)
				ic.run(t, path, args...)
				md := map[string]string{}
				if ic.method != "" {
					md[metaMethod] = ic.method
				}
				groups := 0
				if format == "parquet" {
					rows, per := genes, 16384
					if layout == "long" {
						rows, per = genes*samples, 1<<20
					}
					for i := 0; i+1 < len(extra); i++ {
						if extra[i] == "--row-group-rows" {
							per, _ = strconv.Atoi(extra[i+1])
						}
					}
					groups = (rows + per - 1) / per
				}
				outs = append(outs, interopOutput{Name: name, Path: path, Format: format, Layout: layout, Type: typ,
					Compression: codec, RowGroups: groups, TSV: tsv, Metadata: md, Command: ic.args[0], SizeFactors: ic.factors,
					Genes: genes, Samples: samples})
			}
			for _, layout := range []string{"wide", "long"} {
				codecs := []string{"zstd", "snappy", "gzip", "none"}
				if ic.integer {
					codecs = []string{"zstd"}
				}
				for _, codec := range codecs {
					add(fmt.Sprintf("%s-%s-%s-%s.parquet", ic.name, layout, typ, codec), "parquet", layout, codec, "--compression", codec)
				}
				// Several row groups: 5,088 genes in groups of 1,000 (wide, the
				// chunks of a row group apart in the file) or 50,880 rows in
				// groups of 7,000 (long, groups ending inside samples).
				rg := map[string]string{"wide": "1000", "long": "7000"}[layout]
				add(fmt.Sprintf("%s-%s-%s-rowgroups.parquet", ic.name, layout, typ), "parquet", layout, "zstd", "--row-group-rows", rg)
				add(fmt.Sprintf("%s-%s-%s.arrow", ic.name, layout, typ), "arrow", layout, "")
				add(fmt.Sprintf("%s-%s-%s.arrows", ic.name, layout, typ), "arrow-stream", layout, "")
			}
		}
	}
	return outs
}

// interopShape is the number of genes and samples of a wide TSV.
func interopShape(t *testing.T, path string) (int, int) {
	t.Helper()
	genes, samples, _ := readWideTSV(t, path)
	return len(genes), len(samples)
}

// readWideTSV reads a wide TSV output: gene ids, sample names and the value
// texts, values[gene][sample].
func readWideTSV(t *testing.T, path string) (genes, samples []string, values [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	samples = strings.Split(lines[0], "\t")[1:]
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		genes = append(genes, f[0])
		values = append(values, f[1:])
	}
	return genes, samples, values
}

// interopValue parses a TSV value as the type typ holds it, as float64.
func interopValue(t *testing.T, text, typ string) float64 {
	t.Helper()
	bits := 64
	if typ == "float32" {
		bits = 32
	}
	v, err := strconv.ParseFloat(text, bits)
	if err != nil {
		t.Fatalf("TSV value %q: %v", text, err)
	}
	return v
}

func TestFloat32TextIsShortestFloat32(t *testing.T) {
	dir := t.TempDir()
	ic := interopCommands()[0]
	ic.run(t, filepath.Join(dir, "f64.tsv"))
	ic.run(t, filepath.Join(dir, "f32.tsv"), "--float32")
	_, _, v64 := readWideTSV(t, filepath.Join(dir, "f64.tsv"))
	_, _, v32 := readWideTSV(t, filepath.Join(dir, "f32.tsv"))
	shorter := 0
	for g := range v64 {
		for j := range v64[g] {
			x := interopValue(t, v64[g][j], "float64")
			want := strconv.FormatFloat(float64(float32(x)), 'g', -1, 32)
			if v32[g][j] != want {
				t.Fatalf("gene %d sample %d: float32 text %q, want %q (from %s)", g, j, v32[g][j], want, v64[g][j])
			}
			if len(v32[g][j]) < len(v64[g][j]) {
				shorter++
			}
		}
	}
	if shorter == 0 {
		t.Error("no float32 text is shorter than its float64 text")
	}
}

// TestInteropPolars runs interop/polars_check.mjs (nodejs-polars) over every
// output variant. It skips when node or interop/node_modules is missing,
// unless COLNORM_INTEROP=1 (as CI sets it), where that is a failure.
func TestInteropPolars(t *testing.T) {
	interop, err := filepath.Abs(filepath.Join("..", "..", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	required := os.Getenv("COLNORM_INTEROP") == "1"
	missing := func(why string) {
		if required {
			t.Fatalf("COLNORM_INTEROP=1 but %s (run npm ci in interop/)", why)
		}
		t.Skipf("%s: Polars interoperability not checked (npm ci in interop/ enables it)", why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(interop, "node_modules", "nodejs-polars")); err != nil {
		missing("interop/node_modules/nodejs-polars is missing")
	}
	dir := t.TempDir()
	outs := interopOutputs(t, dir)
	// colnorm's standard output (-o -.arrow) goes to node's standard input
	// through a pipe: Path "-".
	stream := interopStdoutStream(t, filepath.Join(dir, "stdout.arrows"))
	outs = append(outs, interopOutput{Name: "stdout piped to node", Path: "-", Format: "arrow-stream", Layout: "wide",
		Type: "float64", TSV: filepath.Join(dir, "tmm-float64.tsv"), Genes: outs[0].Genes, Samples: outs[0].Samples,
		Metadata: map[string]string{metaMethod: "tmm"}, Command: "normalize", SizeFactors: true})
	expect := filepath.Join(dir, "expect.json")
	b, err := json.MarshalIndent(outs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(expect, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(interop, "polars_check.mjs"), expect)
	cmd.Dir = interop
	cmd.Stdin = bytes.NewReader(stream)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node polars_check.mjs: %v\n%s", err, got)
	}
	want := fmt.Sprintf("polars: %d outputs checked", len(outs))
	if !strings.Contains(string(got), want) {
		t.Fatalf("node polars_check.mjs did not say %q:\n%s", want, got)
	}
	t.Log(strings.TrimSpace(string(got)))
}

// interopStdoutStream writes tmm's output as an Arrow IPC stream to standard
// output (-o -.arrow) and saves what came out at path.
func interopStdoutStream(t *testing.T, path string) []byte {
	t.Helper()
	code, out, stderr := colnorm(t, "normalize", "--method", "tmm", marioni, "-o", "-.arrow", "--quiet")
	if code != 0 {
		t.Fatalf("normalize -o -.arrow: exit %d: %s", code, stderr)
	}
	// An IPC stream starts with the schema message: the continuation marker
	// 0xFFFFFFFF, then its length; an IPC file starts with "ARROW1".
	if len(out) < 8 || out[:4] != "\xff\xff\xff\xff" {
		t.Fatalf("-o -.arrow: stdout does not start an Arrow IPC stream: % x", out[:min(8, len(out))])
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}
