package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar/columnartest"
)

// The bad-input table (docs/bad-inputs.md): every bad input, in every input
// format where it can occur, run through the real command line. Each run
// must exit 2 with exactly one line on stderr of the form
//
//	colnorm: FILE[:LINE][: sample S][, gene G]: what is wrong
//
// naming the file, the line (text inputs), the sample and the gene where
// they apply, and must leave the output files that were there before
// byte-identical, with no temporary file beside them.

// badMatrix is a matrix as text: cells[i][j] is gene i's count for sample j,
// as it would be written in a TSV. Marker cells: "ABSENT" leaves the pair out
// of a long table, "TWICE" writes it twice (value 1), "RAGGED" adds a field
// to the text row.
type badMatrix struct {
	genes, samples []string
	cells          [][]string
	lengths        []string // featureCounts Length column; "" gives 1000
	valueType      string   // Parquet/Arrow value type; "" chooses from the values
}

func baseMatrix() badMatrix {
	m := badMatrix{genes: []string{"g1", "g2", "g3", "g4", "g5"}, samples: []string{"s1", "s2", "s3", "s4"}}
	vals := [][]string{{"10", "12", "8", "20"}, {"5", "7", "6", "9"}, {"100", "90", "120", "80"}, {"3", "4", "2", "5"}, {"40", "38", "52", "44"}}
	m.cells = vals
	return m
}

func (m badMatrix) clone() badMatrix {
	c := m
	c.genes = append([]string(nil), m.genes...)
	c.samples = append([]string(nil), m.samples...)
	c.cells = make([][]string, len(m.cells))
	for i := range m.cells {
		c.cells[i] = append([]string(nil), m.cells[i]...)
	}
	c.lengths = append([]string(nil), m.lengths...)
	return c
}

func (m badMatrix) length(i int) string {
	if i < len(m.lengths) && m.lengths[i] != "" {
		return m.lengths[i]
	}
	return "1000"
}

func cellText(c string) string {
	switch c {
	case "TWICE", "ABSENT":
		return "1"
	}
	return c
}

// badFormat writes a badMatrix in one input format.
type badFormat struct {
	name string
	file string   // file (or folder) name of the input
	args []string // extra flags the format needs
	text bool     // errors carry line numbers
	rows bool     // samples as rows
	// firstLine is the line of the header; data rows follow it.
	headerLine int
	write      func(t *testing.T, path string, m badMatrix)
}

// line is where gene i's value for sample j is in a text input: the line of
// the gene's row (or, with samples as rows, the sample's); -1 for i (or j)
// means the header.
func (f badFormat) line(i, j int) int {
	if !f.text {
		return 0
	}
	k := i
	if f.rows {
		k = j
	}
	if k < 0 {
		return f.headerLine
	}
	return f.headerLine + 1 + k
}

// shardOf is the shard file of sample j in the shards format (two samples each).
func shardOf(j int) string { return fmt.Sprintf("part%d.parquet", j/2) }

func writeDelimited(t *testing.T, path string, m badMatrix, sep string, pre []string, annot func(i int) []string, gz bool) {
	var b strings.Builder
	for _, l := range pre {
		b.WriteString(l + "\n")
	}
	b.WriteString(strings.Join(append(annot(-1), m.samples...), sep) + "\n")
	for i, g := range m.genes {
		row := append(append([]string{g}, annot(i)[1:]...), make([]string, 0)...)
		for _, c := range m.cells[i] {
			if c == "RAGGED" {
				row = append(row, "1", "1")
				continue
			}
			row = append(row, cellText(c))
		}
		b.WriteString(strings.Join(row, sep) + "\n")
	}
	data := []byte(b.String())
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(data)
		w.Close()
		data = z.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func plainAnnot(label string) func(int) []string {
	return func(i int) []string { return []string{label} }
}

func writeRowsText(t *testing.T, path string, m badMatrix) {
	var b strings.Builder
	b.WriteString("sample\t" + strings.Join(m.genes, "\t") + "\n")
	for j, s := range m.samples {
		row := []string{s}
		for i := range m.genes {
			if m.cells[i][j] == "RAGGED" {
				row = append(row, "1", "1")
				continue
			}
			row = append(row, cellText(m.cells[i][j]))
		}
		b.WriteString(strings.Join(row, "\t") + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// valueColumn makes a column of the texts, typed as m.valueType or from the
// values: any text that is not a number makes a string column, any float a
// float64 column, and otherwise int64.
func valueColumn(name string, texts []string, typ string) columartestColumn {
	vals := make([]any, len(texts))
	kind := columnartest.Int64
	for k, s := range texts {
		vals[k] = columnartest.Value(cellText(s))
		switch vals[k].(type) {
		case string:
			kind = columnartest.String
		case float64:
			if kind != columnartest.String {
				kind = columnartest.Float64
			}
		}
	}
	if typ != "" {
		kind = typ
	}
	for k, v := range vals {
		switch x := v.(type) {
		case int64:
			switch kind {
			case columnartest.Float64, columnartest.Float32:
				vals[k] = float64(x)
			case columnartest.String:
				vals[k] = texts[k]
			}
		case float64:
			if kind == columnartest.String {
				vals[k] = texts[k]
			}
		}
	}
	return columartestColumn{Name: name, Type: kind, Values: vals}
}

type columartestColumn = columnartest.Column

func stringColumn(name string, ids []string) columartestColumn {
	vals := make([]any, len(ids))
	for k, s := range ids {
		vals[k] = s
	}
	return columartestColumn{Name: name, Type: columnartest.String, Values: vals}
}

func wideColumns(m badMatrix, from, to int) []columartestColumn {
	cols := []columartestColumn{stringColumn("gene_id", m.genes)}
	for j := from; j < to; j++ {
		texts := make([]string, len(m.genes))
		for i := range m.genes {
			texts[i] = m.cells[i][j]
		}
		cols = append(cols, valueColumn(m.samples[j], texts, m.valueType))
	}
	return cols
}

func rowsColumns(m badMatrix) []columartestColumn {
	cols := []columartestColumn{stringColumn("sample", m.samples)}
	for i, g := range m.genes {
		cols = append(cols, valueColumn(g, m.cells[i], m.valueType))
	}
	return cols
}

func longColumns(m badMatrix) []columartestColumn {
	var genes, samples, texts []string
	for j, s := range m.samples {
		for i, g := range m.genes {
			c := m.cells[i][j]
			if c == "ABSENT" {
				continue
			}
			n := 1
			if c == "TWICE" {
				n = 2
			}
			for range n {
				genes = append(genes, g)
				samples = append(samples, s)
				texts = append(texts, cellText(c))
			}
		}
	}
	return []columartestColumn{stringColumn("gene_id", genes), stringColumn("sample", samples), valueColumn("count", texts, m.valueType)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var badFormats = []badFormat{
	{name: "tsv", file: "in.tsv", text: true, headerLine: 1, write: func(t *testing.T, p string, m badMatrix) {
		writeDelimited(t, p, m, "\t", nil, plainAnnot("gene_id"), false)
	}},
	{name: "csv", file: "in.csv", text: true, headerLine: 1, write: func(t *testing.T, p string, m badMatrix) {
		writeDelimited(t, p, m, ",", nil, plainAnnot("gene_id"), false)
	}},
	{name: "tsv.gz", file: "in.tsv.gz", text: true, headerLine: 1, write: func(t *testing.T, p string, m badMatrix) {
		writeDelimited(t, p, m, "\t", nil, plainAnnot("gene_id"), true)
	}},
	{name: "featureCounts", file: "fc.txt", text: true, headerLine: 2, write: func(t *testing.T, p string, m badMatrix) {
		writeDelimited(t, p, m, "\t", []string{"# Program:featureCounts v2.0.6; Command:\"featureCounts\" \"-a\" \"genes.gtf\""}, func(i int) []string {
			if i < 0 {
				return []string{"Geneid", "Chr", "Start", "End", "Strand", "Length"}
			}
			return []string{m.genes[i], "chr1", "1", "1000", "+", m.length(i)}
		}, false)
	}},
	{name: "gct", file: "in.gct", text: true, headerLine: 3, write: func(t *testing.T, p string, m badMatrix) {
		writeDelimited(t, p, m, "\t", []string{"#1.2", fmt.Sprintf("%d\t%d", len(m.genes), len(m.samples))}, func(i int) []string {
			if i < 0 {
				return []string{"Name", "Description"}
			}
			return []string{m.genes[i], "desc"}
		}, false)
	}},
	{name: "parquet-wide", file: "in.parquet", write: func(t *testing.T, p string, m badMatrix) {
		must(t, columnartest.WriteParquet(p, wideColumns(m, 0, len(m.samples)), 0))
	}},
	{name: "parquet-long", file: "long.parquet", write: func(t *testing.T, p string, m badMatrix) {
		must(t, columnartest.WriteParquet(p, longColumns(m), 7))
	}},
	{name: "arrow-wide", file: "in.arrow", write: func(t *testing.T, p string, m badMatrix) {
		must(t, columnartest.WriteArrow(p, wideColumns(m, 0, len(m.samples))))
	}},
	{name: "arrow-long", file: "long.feather", write: func(t *testing.T, p string, m badMatrix) {
		must(t, columnartest.WriteArrow(p, longColumns(m)))
	}},
	{name: "shards", file: "shards", write: func(t *testing.T, p string, m badMatrix) {
		must(t, os.Mkdir(p, 0o755))
		for j := 0; j < len(m.samples); j += 2 {
			must(t, columnartest.WriteParquet(filepath.Join(p, shardOf(j)), wideColumns(m, j, min(j+2, len(m.samples))), 0))
		}
	}},
	{name: "rows-tsv", file: "rows.tsv", args: []string{"--samples-as-rows"}, text: true, rows: true, headerLine: 1, write: writeRowsText},
	{name: "rows-parquet", file: "rows.parquet", args: []string{"--samples-as-rows"}, rows: true, write: func(t *testing.T, p string, m badMatrix) {
		must(t, columnartest.WriteParquet(p, rowsColumns(m), 0))
	}},
	{name: "rows-arrow", file: "rows.arrow", args: []string{"--samples-as-rows"}, rows: true, write: func(t *testing.T, p string, m badMatrix) {
		must(t, columnartest.WriteArrow(p, rowsColumns(m)))
	}},
}

// Format groups.
var (
	allFormats      = []string{"tsv", "csv", "tsv.gz", "featureCounts", "gct", "parquet-wide", "parquet-long", "arrow-wide", "arrow-long", "shards", "rows-tsv", "rows-parquet", "rows-arrow"}
	textFormats     = []string{"tsv", "csv", "tsv.gz", "featureCounts", "gct", "rows-tsv"}
	columnarFormats = []string{"parquet-wide", "parquet-long", "arrow-wide", "arrow-long", "shards", "rows-parquet", "rows-arrow"}
	wideFormats     = []string{"tsv", "csv", "tsv.gz", "featureCounts", "gct", "parquet-wide", "arrow-wide", "shards", "rows-tsv", "rows-parquet", "rows-arrow"}
	longFormats     = []string{"parquet-long", "arrow-long"}
	binaryFormats   = []string{"parquet-wide", "parquet-long", "arrow-wide", "arrow-long", "shards", "rows-parquet", "rows-arrow"}
)

func formatByName(t *testing.T, name string) badFormat {
	for _, f := range badFormats {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no format %q", name)
	return badFormat{}
}

// The commands every matrix-level bad input is run through, each writing
// over an output file that exists before.
func badCommands(in string, extra []string, dir string) [][]string {
	cmds := [][]string{
		{"size-factors", "--method", "ratio", in, "-o", filepath.Join(dir, "out", "sf.tsv")},
		{"normalize", "--method", "ratio", in, "-o", filepath.Join(dir, "out", "norm.parquet")},
		{"filter", "--min-count", "1", "--min-samples", "1", in, "-o", filepath.Join(dir, "out", "kept.tsv")},
		{"transform", "--method", "log2", in, "-o", filepath.Join(dir, "out", "log2.arrow")},
	}
	for k := range cmds {
		cmds[k] = append(cmds[k], extra...)
	}
	return cmds
}

// badWant is what the one line on stderr must say.
type badWant struct {
	file   string // the file named; "" is the input
	line   int    // 0: no line
	sample string
	gene   string
	what   string // a part of what is wrong
}

func (w badWant) prefix() string {
	if w.file == "" {
		return "colnorm: "
	}
	var b strings.Builder
	b.WriteString("colnorm: " + w.file)
	if w.line > 0 {
		fmt.Fprintf(&b, ":%d", w.line)
	}
	if w.sample != "" {
		b.WriteString(": sample " + w.sample)
	}
	if w.gene != "" {
		if w.sample != "" {
			b.WriteString(",")
		} else {
			b.WriteString(":")
		}
		b.WriteString(" gene " + w.gene)
	}
	return b.String() + ": "
}

const oldOutput = "the output from before\n"

// runBad runs args (whose -o or last output paths lie in dir/out, filled
// with oldOutput first) and checks status 2, the one line of stderr, and
// that the old outputs are untouched with no temporary file left.
func runBad(t *testing.T, outDir string, args []string, w badWant) {
	t.Helper()
	os.MkdirAll(outDir, 0o755)
	var outs []string
	for k, a := range args {
		if k > 0 && args[k-1] == "-o" {
			outs = append(outs, a)
			must(t, os.WriteFile(a, []byte(oldOutput), 0o644))
		}
	}
	code, stdout, stderr := colnorm(t, args...)
	t.Logf("stderr: %s", stderr)
	if code != 2 {
		t.Errorf("%v: exit %d, want 2; stderr %q", args, code, stderr)
		return
	}
	if stdout != "" {
		t.Errorf("%v: stdout %q", args, stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("%v: stderr is not one line: %q", args, stderr)
	}
	if !strings.HasPrefix(stderr, w.prefix()) || !strings.Contains(stderr, w.what) {
		t.Errorf("%v:\n stderr %q\n want   %q...%q", args, stderr, w.prefix(), w.what)
	}
	for _, o := range outs {
		if b, err := os.ReadFile(o); err != nil || string(b) != oldOutput {
			t.Errorf("%v: the old output %s changed: %q %v", args, o, b, err)
		}
	}
	entries, _ := os.ReadDir(outDir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("%v: temporary file left: %s", args, e.Name())
		}
	}
}

// badCase is one bad input: a change to the base matrix and what every
// command must then say, where (gene, sample) locate the bad value (-1: not
// a gene's or not a sample's fault).
type badCase struct {
	name    string
	formats []string
	change  func(m *badMatrix)
	gene    int // index of the gene named, -1 none
	sample  int // index of the sample named, -1 none
	what    string
	// per-format changes of the expectation
	adjust func(f badFormat, w *badWant)
	// commands: nil runs badCommands
	cmds func(in string, extra []string, dir string) [][]string
	// after changes the written file (truncation, damage)
	after func(t *testing.T, path string)
}

func setCell(i, j int, v string) func(m *badMatrix) {
	return func(m *badMatrix) { m.cells[i][j] = v }
}

var badCases = []badCase{
	{name: "negative", formats: allFormats, change: setCell(1, 2, "-3"), gene: 1, sample: 2, what: "negative count -3"},
	{name: "missing-NA", formats: allFormats, change: setCell(3, 1, "NA"), gene: 3, sample: 1, what: "missing value"},
	{name: "missing-empty", formats: allFormats, change: setCell(3, 1, ""), gene: 3, sample: 1, what: "missing value"},
	{name: "missing-null", formats: allFormats, change: setCell(0, 3, "null"), gene: 0, sample: 3, what: "missing value"},
	{name: "NaN", formats: allFormats, change: setCell(2, 0, "NaN"), gene: 2, sample: 0, what: "NaN"},
	{name: "Inf", formats: allFormats, change: setCell(4, 3, "Inf"), gene: 4, sample: 3, what: "infinite value +Inf"},
	{name: "minus-Inf", formats: allFormats, change: setCell(4, 2, "-Inf"), gene: 4, sample: 2, what: "infinite value -Inf"},
	{name: "fractional", formats: allFormats, change: setCell(2, 1, "7.5"), gene: 2, sample: 1, what: "--allow-fractional"},
	{name: "beyond-2^53-int", formats: allFormats, change: setCell(0, 1, "9007199254740993"), gene: 0, sample: 1, what: "2^53"},
	{name: "beyond-2^53-float", formats: allFormats, change: setCell(0, 1, "1e300"), gene: 0, sample: 1, what: "2^53"},
	{name: "negative-int32", formats: binaryFormats, change: func(m *badMatrix) { m.valueType = columnartest.Int32; m.cells[1][2] = "-3" }, gene: 1, sample: 2, what: "negative count -3"},
	{name: "NaN-float32", formats: binaryFormats, change: func(m *badMatrix) { m.valueType = columnartest.Float32; m.cells[2][0] = "NaN" }, gene: 2, sample: 0, what: "NaN"},
	{name: "Inf-float32", formats: binaryFormats, change: func(m *badMatrix) { m.valueType = columnartest.Float32; m.cells[2][0] = "Inf" }, gene: 2, sample: 0, what: "infinite"},
	{name: "fractional-float32", formats: binaryFormats, change: func(m *badMatrix) { m.valueType = columnartest.Float32; m.cells[2][3] = "0.25" }, gene: 2, sample: 3, what: "fractional count 0.25"},
	{name: "non-numeric", formats: textFormats, change: setCell(3, 2, "abc"), gene: 3, sample: 2, what: `"abc" is not a number`},
	{name: "non-numeric-column", formats: []string{"parquet-wide", "arrow-wide", "shards"}, change: setCell(3, 2, "abc"), gene: -1, sample: 2, what: "not numeric"},
	{name: "non-numeric-column", formats: []string{"rows-parquet", "rows-arrow"}, change: setCell(3, 2, "abc"), gene: 3, sample: -1, what: "not numeric"},
	{name: "non-numeric-column", formats: longFormats, change: setCell(3, 2, "abc"), gene: -1, sample: -1, what: "not numeric"},
	{name: "ragged", formats: textFormats, change: setCell(2, 1, "RAGGED"), gene: 2, sample: 1, what: "fields where the header has",
		adjust: func(f badFormat, w *badWant) {
			if f.rows {
				w.gene = ""
			} else {
				w.sample = ""
			}
		}},
	{name: "duplicate-gene", formats: []string{"tsv", "csv", "tsv.gz", "featureCounts", "gct", "parquet-wide", "arrow-wide", "shards", "rows-tsv", "rows-arrow"},
		change: func(m *badMatrix) { m.genes[3] = "g2" }, gene: 3, sample: -1, what: "twice",
		adjust: func(f badFormat, w *badWant) {
			if f.name == "shards" {
				w.file = filepath.Join(w.file, shardOf(0))
			}
		}},
	{name: "duplicate-sample", formats: []string{"tsv", "csv", "tsv.gz", "featureCounts", "gct", "arrow-wide", "shards", "rows-tsv", "rows-parquet", "rows-arrow"},
		change: func(m *badMatrix) { m.samples[2] = "s1" }, gene: -1, sample: 2, what: "twice",
		adjust: func(f badFormat, w *badWant) {
			if f.name == "shards" {
				w.file = filepath.Join(w.file, shardOf(2))
				w.what = "also in"
			}
		}},
	{name: "duplicate-pair", formats: longFormats, change: setCell(2, 1, "TWICE"), gene: 2, sample: 1, what: "two rows"},
	{name: "missing-pair", formats: longFormats, change: setCell(2, 1, "ABSENT"), gene: 2, sample: 1, what: "no row"},
	{name: "header-only", formats: []string{"tsv", "csv", "tsv.gz", "featureCounts", "gct", "parquet-wide", "parquet-long", "arrow-wide", "arrow-long", "shards"},
		change: func(m *badMatrix) { m.genes, m.cells, m.lengths = nil, nil, nil }, gene: -1, sample: -1, what: "no genes"},
	{name: "header-only", formats: []string{"rows-tsv", "rows-parquet", "rows-arrow"},
		change: func(m *badMatrix) {
			m.samples = nil
			for i := range m.cells {
				m.cells[i] = nil
			}
		}, gene: -1, sample: -1, what: "no samples"},
	{name: "all-zero-sample", formats: allFormats, change: func(m *badMatrix) {
		for i := range m.cells {
			m.cells[i][1] = "0"
		}
	}, gene: -1, sample: 1, what: "every count of this sample is zero", cmds: func(in string, extra []string, dir string) [][]string {
		return [][]string{
			append([]string{"size-factors", "--method", "ratio", in, "-o", filepath.Join(dir, "out", "sf.tsv")}, extra...),
			append([]string{"normalize", "--method", "tmm", in, "-o", filepath.Join(dir, "out", "norm.parquet")}, extra...),
			append([]string{"transform", "--method", "log2", in, "-o", filepath.Join(dir, "out", "log2.arrow")}, extra...),
		}
	}, adjust: func(f badFormat, w *badWant) {
		w.line = 0
	}},
	{name: "every-gene-has-a-zero", formats: allFormats, change: func(m *badMatrix) {
		for i := range m.cells {
			m.cells[i][i%len(m.samples)] = "0"
		}
	}, gene: -1, sample: -1, what: "use --method poscounts", cmds: func(in string, extra []string, dir string) [][]string {
		return [][]string{
			append([]string{"size-factors", "--method", "ratio", in, "-o", filepath.Join(dir, "out", "sf.tsv")}, extra...),
			append([]string{"normalize", "--method", "ratio", in, "-o", filepath.Join(dir, "out", "norm.parquet")}, extra...),
		}
	}},
	{name: "truncated", formats: binaryFormats, gene: -1, sample: -1, what: "truncated",
		after: func(t *testing.T, p string) {
			if st, _ := os.Stat(p); st.IsDir() {
				p = filepath.Join(p, shardOf(2))
			}
			b, _ := os.ReadFile(p)
			must(t, os.WriteFile(p, b[:len(b)*2/3], 0o644))
		},
		adjust: func(f badFormat, w *badWant) {
			if f.name == "shards" {
				w.file = filepath.Join(w.file, shardOf(2))
			}
		}},
}

func TestBadInputsEveryFormat(t *testing.T) {
	for _, c := range badCases {
		for _, fname := range c.formats {
			f := formatByName(t, fname)
			t.Run(c.name+"/"+fname, func(t *testing.T) {
				dir := t.TempDir()
				m := baseMatrix().clone()
				if c.change != nil {
					c.change(&m)
				}
				in := filepath.Join(dir, f.file)
				f.write(t, in, m)
				if c.after != nil {
					c.after(t, in)
				}
				w := badWant{file: in, what: c.what}
				if c.gene >= 0 {
					w.gene = m.genes[c.gene]
				}
				if c.sample >= 0 {
					w.sample = m.samples[c.sample]
				}
				if c.gene >= 0 || c.sample >= 0 {
					w.line = f.line(c.gene, c.sample)
				}
				if f.name == "shards" && c.sample >= 0 && (c.gene >= 0 || c.what == "not numeric") {
					w.file = filepath.Join(in, shardOf(c.sample))
				}
				if c.adjust != nil {
					c.adjust(f, &w)
				}
				cmds := badCommands
				if c.cmds != nil {
					cmds = c.cmds
				}
				for _, args := range cmds(in, f.args, dir) {
					runBad(t, filepath.Join(dir, "out"), args, w)
				}
			})
		}
	}
}

// badRun is a bad input outside the count matrix's own cells: metadata, gene
// lengths, methods that cannot work on the data, damaged files, usage. Files
// are written into the test's folder; in args and want.file, "@" stands for
// that folder.
type badRun struct {
	name  string
	files map[string]string
	args  []string
	want  badWant
	// prepare, when set, makes further files in the folder
	prepare func(t *testing.T, dir string)
}

// writeShards writes the base matrix as two Parquet shards in dir/shards,
// the second (samples s3, s4) from the matrix second makes of it.
func writeShards(second func(m *badMatrix) []columartestColumn) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		m := baseMatrix()
		p := filepath.Join(dir, "shards")
		must(t, os.Mkdir(p, 0o755))
		must(t, columnartest.WriteParquet(filepath.Join(p, shardOf(0)), wideColumns(m, 0, 2), 0))
		must(t, columnartest.WriteParquet(filepath.Join(p, shardOf(2)), second(&m), 0))
	}
}

const okTSV = "gene_id\ts1\ts2\ts3\ts4\ng1\t10\t12\t8\t20\ng2\t5\t7\t6\t9\ng3\t100\t90\t120\t80\ng4\t3\t4\t2\t5\ng5\t40\t38\t52\t44\n"

// zeroSampleTSV has sample s2 all zero.
const zeroSampleTSV = "gene_id\ts1\ts2\ts3\ts4\ng1\t10\t0\t8\t20\ng2\t5\t0\t6\t9\ng3\t100\t0\t120\t80\ng4\t3\t0\t2\t5\ng5\t40\t0\t52\t44\n"

// everyGeneZeroTSV has a zero in every gene and no all-zero sample.
const everyGeneZeroTSV = "gene_id\ts1\ts2\ts3\ts4\ng1\t0\t12\t8\t20\ng2\t5\t0\t6\t9\ng3\t100\t90\t0\t80\ng4\t3\t4\t2\t0\ng5\t0\t38\t52\t44\n"

// fcZeroLength is featureCounts output whose gene g3 has Length 0.
const fcZeroLength = "# Program:featureCounts v2.0.6\nGeneid\tChr\tStart\tEnd\tStrand\tLength\ts1\ts2\n" +
	"g1\tchr1\t1\t100\t+\t100\t5\t6\ng2\tchr1\t200\t300\t+\t101\t7\t8\ng3\tchr1\t400\t500\t+\t0\t9\t10\n"

const metaTSV = "sample\ttissue\tbatch\ns1\tliver\tA\ns2\tliver\tB\ns3\tkidney\tA\ns4\tkidney\tB\n"

var badRuns = []badRun{
	// Methods that cannot work on the data: say why and what works instead.
	{"all-zero-sample/tmm", map[string]string{"in.tsv": zeroSampleTSV}, []string{"size-factors", "--method", "tmm", "@/in.tsv", "-o", "@/out/sf.tsv"},
		badWant{file: "@/in.tsv", sample: "s2", what: "no tmm factor can scale it"}, nil},
	{"all-zero-sample/tmmwsp", map[string]string{"in.tsv": zeroSampleTSV}, []string{"normalize", "--method", "tmmwsp", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.tsv", sample: "s2", what: "remove the sample"}, nil},
	{"all-zero-sample/rle", map[string]string{"in.tsv": zeroSampleTSV}, []string{"size-factors", "--method", "rle", "@/in.tsv", "-o", "@/out/sf.tsv"},
		badWant{file: "@/in.tsv", sample: "s2", what: "remove the sample"}, nil},
	{"all-zero-sample/upperquartile", map[string]string{"in.tsv": zeroSampleTSV}, []string{"size-factors", "--method", "upperquartile", "@/in.tsv", "-o", "@/out/sf.tsv"},
		badWant{file: "@/in.tsv", sample: "s2", what: "remove the sample"}, nil},
	{"all-zero-sample/poscounts", map[string]string{"in.tsv": zeroSampleTSV}, []string{"size-factors", "--method", "poscounts", "@/in.tsv", "-o", "@/out/sf.tsv"},
		badWant{file: "@/in.tsv", sample: "s2", what: "remove the sample"}, nil},
	{"all-zero-sample/cpm", map[string]string{"in.tsv": zeroSampleTSV}, []string{"normalize", "--method", "cpm", "@/in.tsv", "-o", "@/out/n.parquet"},
		badWant{file: "@/in.tsv", sample: "s2", what: "library size 0"}, nil},
	{"all-zero-sample/filter-by-expr", map[string]string{"in.tsv": zeroSampleTSV}, []string{"filter", "--by-expr", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/in.tsv", sample: "s2", what: "remove the sample"}, nil},
	{"all-zero-sample/vst", map[string]string{"in.tsv": zeroSampleTSV}, []string{"transform", "--method", "vst", "@/in.tsv", "-o", "@/out/v.tsv"},
		badWant{file: "@/in.tsv", sample: "s2", what: "remove the sample"}, nil},
	{"every-gene-has-a-zero/rle", map[string]string{"in.tsv": everyGeneZeroTSV}, []string{"size-factors", "--method", "rle", "@/in.tsv", "-o", "@/out/sf.tsv"},
		badWant{file: "@/in.tsv", what: "use tmm, tmmwsp, or DESeq2's poscounts"}, nil},
	{"every-gene-has-a-zero/normalize-rle", map[string]string{"in.tsv": everyGeneZeroTSV}, []string{"normalize", "--method", "rle", "@/in.tsv", "-o", "@/out/n.arrow"},
		badWant{file: "@/in.tsv", what: "use tmm"}, nil},

	// Gene lengths: missing, zero, negative, not a number, duplicated.
	{"lengths/missing-gene", map[string]string{"in.tsv": okTSV, "len.tsv": "gene\tlength\ng1\t100\ng2\t200\ng3\t300\ng5\t500\n"},
		[]string{"normalize", "--method", "tpm", "--lengths", "@/len.tsv", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/len.tsv", gene: "g4", what: "no length for this gene"}, nil},
	{"lengths/zero", map[string]string{"in.tsv": okTSV, "len.tsv": "gene\tlength\ng1\t100\ng2\t0\ng3\t300\ng4\t400\ng5\t500\n"},
		[]string{"normalize", "--method", "rpkm", "--lengths", "@/len.tsv", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/len.tsv", line: 3, gene: "g2", what: "not a positive number"}, nil},
	{"lengths/negative", map[string]string{"in.tsv": okTSV, "len.tsv": "gene\tlength\ng1\t100\ng2\t200\ng3\t-300\ng4\t400\ng5\t500\n"},
		[]string{"normalize", "--method", "tpm", "--lengths", "@/len.tsv", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/len.tsv", line: 4, gene: "g3", what: "not a positive number"}, nil},
	{"lengths/empty-value", map[string]string{"in.tsv": okTSV, "len.csv": "gene,length\ng1,100\ng2,\ng3,300\ng4,400\ng5,500\n"},
		[]string{"normalize", "--method", "fpkm", "--lengths", "@/len.csv", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/len.csv", line: 3, gene: "g2", what: "not a positive number"}, nil},
	{"lengths/duplicate", map[string]string{"in.tsv": okTSV, "len.tsv": "gene\tlength\ng1\t100\ng2\t200\ng1\t300\n"},
		[]string{"normalize", "--method", "tpm", "--lengths", "@/len.tsv", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/len.tsv", line: 4, gene: "g1", what: "duplicate gene id"}, nil},
	{"lengths/gtf-missing-gene", map[string]string{"in.tsv": okTSV, "genes.gtf": "chr1\tx\texon\t1\t100\t.\t+\t.\tgene_id \"g1\"; transcript_id \"t1\";\n"},
		[]string{"normalize", "--method", "tpm", "--gtf", "@/genes.gtf", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/genes.gtf", gene: "g2", what: "no length for this gene"}, nil},
	{"lengths/featureCounts-zero", map[string]string{"fc.txt": fcZeroLength},
		[]string{"normalize", "--method", "tpm", "@/fc.txt", "-o", "@/out/n.tsv"},
		badWant{file: "@/fc.txt", line: 5, gene: "g3", what: "Length 0 is not a positive number"}, nil},
	{"lengths/none", map[string]string{"in.tsv": okTSV},
		[]string{"normalize", "--method", "tpm", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{what: "need gene lengths: give --lengths FILE or --gtf FILE"}, nil},

	// Metadata: a sample of the matrix without a row, a missing group column,
	// an empty group value, duplicate and ragged rows, an empty file.
	{"meta/lacks-sample", map[string]string{"in.tsv": okTSV, "meta.tsv": "sample\ttissue\ns1\tliver\ns2\tliver\ns4\tkidney\n"},
		[]string{"filter", "--by-expr", "--meta", "@/meta.tsv", "--group", "tissue", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/meta.tsv", sample: "s3", what: "has no metadata row"}, nil},
	{"meta/no-group-column", map[string]string{"in.tsv": okTSV, "meta.tsv": metaTSV},
		[]string{"filter", "--by-expr", "--meta", "@/meta.tsv", "--group", "condition", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/meta.tsv", what: `no column "condition" (columns: tissue, batch)`}, nil},
	{"meta/empty-group-value", map[string]string{"in.tsv": okTSV, "meta.tsv": "sample\ttissue\ns1\tliver\ns2\tNA\ns3\tkidney\ns4\tkidney\n"},
		[]string{"filter", "--by-expr", "--meta", "@/meta.tsv", "--group", "tissue", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/meta.tsv", sample: "s2", what: `no value in column "tissue"`}, nil},
	{"meta/duplicate-sample", map[string]string{"in.tsv": okTSV, "meta.tsv": metaTSV + "s2\tkidney\tA\n"},
		[]string{"filter", "--by-expr", "--meta", "@/meta.tsv", "--group", "tissue", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/meta.tsv", line: 6, sample: "s2", what: "duplicate sample id"}, nil},
	{"meta/ragged", map[string]string{"in.tsv": okTSV, "meta.tsv": "sample\ttissue\tbatch\ns1\tliver\tA\ns2\tliver\n"},
		[]string{"filter", "--by-expr", "--meta", "@/meta.tsv", "--group", "tissue", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/meta.tsv", line: 3, sample: "s2", what: "2 fields where the header has 3"}, nil},
	{"meta/empty-file", map[string]string{"in.tsv": okTSV, "meta.tsv": ""},
		[]string{"filter", "--by-expr", "--meta", "@/meta.tsv", "--group", "tissue", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/meta.tsv", what: "empty metadata file"}, nil},
	{"meta/not-found", map[string]string{"in.tsv": okTSV},
		[]string{"filter", "--by-expr", "--meta", "@/nometa.tsv", "--group", "tissue", "@/in.tsv", "-o", "@/out/f.tsv"},
		badWant{file: "@/nometa.tsv", what: "cannot open: no such file or directory"}, nil},

	// Damaged and empty files.
	{"empty-file/tsv", map[string]string{"in.tsv": ""}, []string{"normalize", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.tsv", what: "empty file"}, nil},
	{"empty-file/parquet", map[string]string{"in.parquet": ""}, []string{"normalize", "@/in.parquet", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.parquet", what: "not a Parquet file (0 bytes)"}, nil},
	{"empty-file/arrow", map[string]string{"in.arrow": ""}, []string{"normalize", "@/in.arrow", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.arrow", what: "not an Arrow IPC file"}, nil},
	{"not-parquet", map[string]string{"in.parquet": "gene\ts1\ng1\t5\n"}, []string{"normalize", "@/in.parquet", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.parquet", what: "not a readable Parquet file"}, nil},
	{"not-arrow", map[string]string{"in.feather": "gene\ts1\ng1\t5\n"}, []string{"normalize", "@/in.feather", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.feather", what: "not an Arrow IPC file"}, nil},
	{"not-gzip", map[string]string{"in.tsv.gz": "\x1f\x8bnot really gzip"}, []string{"normalize", "@/in.tsv.gz", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.tsv.gz", what: "gzip"}, nil},
	{"empty-folder", map[string]string{"shards/README": "no parquet here"}, []string{"normalize", "@/shards", "-o", "@/out/n.tsv"},
		badWant{file: "@/shards", what: "no .parquet files"}, nil},
	{"no-such-file", nil, []string{"normalize", "@/none.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/none.tsv", what: "cannot open: no such file or directory"}, nil},

	// Shards that disagree.
	{name: "shards/genes-reordered", args: []string{"normalize", "@/shards", "-o", "@/out/n.tsv"},
		want: badWant{file: "@/shards/part1.parquet", gene: "g3", what: "gene 2 is g3 here but g2 in"},
		prepare: writeShards(func(m *badMatrix) []columartestColumn {
			m.genes[1], m.genes[2] = m.genes[2], m.genes[1]
			return wideColumns(*m, 2, 4)
		})},
	{name: "shards/gene-missing", args: []string{"normalize", "@/shards", "-o", "@/out/n.tsv"},
		want: badWant{file: "@/shards/part1.parquet", gene: "g5", what: "is missing here (4 genes here, 5 there)"},
		prepare: writeShards(func(m *badMatrix) []columartestColumn {
			m.genes, m.cells = m.genes[:4], m.cells[:4]
			return wideColumns(*m, 2, 4)
		})},
	{name: "shards/gene-id-type", args: []string{"normalize", "@/shards", "-o", "@/out/n.tsv"},
		want: badWant{file: "@/shards/part1.parquet", what: "not a string column of gene ids"},
		prepare: writeShards(func(m *badMatrix) []columartestColumn {
			cols := wideColumns(*m, 2, 4)
			cols[0] = columartestColumn{Name: "gene_id", Type: columnartest.Int64, Values: []any{int64(1), int64(2), int64(3), int64(4), int64(5)}}
			return cols
		})},
	{name: "shards/layout", args: []string{"normalize", "@/shards", "-o", "@/out/n.tsv"},
		want: badWant{file: "@/shards/part1.parquet", what: "not numeric"},
		prepare: writeShards(func(m *badMatrix) []columartestColumn {
			m.samples, m.cells = m.samples[2:], [][]string{{"12", "8"}, {"7", "6"}, {"90", "120"}, {"4", "2"}, {"38", "52"}}
			return longColumns(*m)
		})},

	// Usage.
	{"unknown-method/size-factors", map[string]string{"in.tsv": okTSV}, []string{"size-factors", "--method", "median", "@/in.tsv", "-o", "@/out/sf.tsv"},
		badWant{what: `unknown method "median": use ratio, poscounts`}, nil},
	{"unknown-method/normalize", map[string]string{"in.tsv": okTSV}, []string{"normalize", "--method", "tmp", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{what: `unknown method "tmp"`}, nil},
	{"unknown-method/transform", map[string]string{"in.tsv": okTSV}, []string{"transform", "--method", "vsd", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{what: `unknown transform "vsd"`}, nil},
	{"unknown-flag", map[string]string{"in.tsv": okTSV}, []string{"normalize", "--methd", "tmm", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{what: "flag provided but not defined: -methd"}, nil},
	{"bad-flag-value", map[string]string{"in.tsv": okTSV}, []string{"normalize", "--threads", "many", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{what: `invalid value "many" for flag -threads`}, nil},
	{"unknown-command", map[string]string{"in.tsv": okTSV}, []string{"normalise", "@/in.tsv"},
		badWant{what: `unknown command "normalise"`}, nil},
	{"unknown-format", map[string]string{"in.tsv": okTSV}, []string{"normalize", "--format", "excel", "@/in.tsv", "-o", "@/out/n.tsv"},
		badWant{file: "@/in.tsv", what: `unknown format "excel"`}, nil},
}

func TestBadInputsOther(t *testing.T) {
	for _, r := range badRuns {
		t.Run(r.name, func(t *testing.T) {
			dir := t.TempDir()
			at := func(s string) string { return strings.ReplaceAll(s, "@", dir) }
			if r.prepare != nil {
				r.prepare(t, dir)
			}
			for name, content := range r.files {
				p := filepath.Join(dir, name)
				must(t, os.MkdirAll(filepath.Dir(p), 0o755))
				must(t, os.WriteFile(p, []byte(content), 0o644))
			}
			args := make([]string, len(r.args))
			for k, a := range r.args {
				args[k] = at(a)
			}
			w := r.want
			w.file = at(w.file)
			if w.file == "" {
				// usage errors name no file: "colnorm: " and the message
				runBadUsage(t, filepath.Join(dir, "out"), args, w.what)
				return
			}
			runBad(t, filepath.Join(dir, "out"), args, w)
		})
	}
}

// runBadUsage is runBad for errors of the command line, which name no file.
func runBadUsage(t *testing.T, outDir string, args []string, what string) {
	t.Helper()
	os.MkdirAll(outDir, 0o755)
	runBad(t, outDir, args, badWant{what: what})
}

// The same fractional counts are accepted in every format with
// --allow-fractional (Salmon and kallisto estimates), and the output then
// replaces the old file: the bad-input runs above fail for the bad value,
// not for the format.
func TestAllowFractionalEveryFormat(t *testing.T) {
	for _, fname := range allFormats {
		f := formatByName(t, fname)
		t.Run(fname, func(t *testing.T) {
			dir := t.TempDir()
			m := baseMatrix().clone()
			m.cells[2][1] = "7.5"
			in := filepath.Join(dir, f.file)
			f.write(t, in, m)
			out := filepath.Join(dir, "n.tsv")
			must(t, os.WriteFile(out, []byte(oldOutput), 0o644))
			args := append([]string{"normalize", "--allow-fractional", in, "-o", out}, f.args...)
			code, _, stderr := colnorm(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			b, _ := os.ReadFile(out)
			if !strings.HasPrefix(string(b), "gene_id\ts1\ts2\ts3\ts4\ng1\t") {
				t.Errorf("output %q", b)
			}
		})
	}
}
