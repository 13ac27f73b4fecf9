package columnar

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// readAll reads every column of a source.
func readAll(t testing.TB, src Source) [][]float64 {
	t.Helper()
	cols := make([][]float64, len(src.Samples()))
	for j := range cols {
		cols[j] = make([]float64, len(src.Genes()))
		if err := src.ReadColumn(j, cols[j]); err != nil {
			t.Fatal(err)
		}
	}
	return cols
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(b []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	return enc.EncodeAll(b, nil)
}

const plainTSV = "gene_id\ts1\ts2\ts3\ng1\t10\t0\t5\ng2\t3\t7\t1\n"

var wantGenes = []string{"g1", "g2"}
var wantSamples = []string{"s1", "s2", "s3"}
var wantCols = [][]float64{{10, 3}, {0, 7}, {5, 1}}

func TestTextFlavoursGiveTheSameMatrix(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"plain.tsv":     []byte(plainTSV),
		"crlf.txt":      []byte(strings.ReplaceAll(plainTSV, "\n", "\r\n")),
		"plain.tsv.gz":  gz([]byte(plainTSV)),
		"plain.tsv.zst": zst([]byte(plainTSV)),
		"quoted.csv":    []byte("\"\",\"s1\",\"s2\",\"s3\"\n\"g1\",10,0,5\n\"g2\",3,7,1\n"),
		"featurecounts.txt": []byte("# Program:featureCounts v2.0.3; Command:\"featureCounts\" \n" +
			"Geneid\tChr\tStart\tEnd\tStrand\tLength\ts1\ts2\ts3\n" +
			"g1\tchr1;chr1\t1;50\t20;90\t+;+\t61\t10\t0\t5\n" +
			"g2\tchr2\t5\t104\t-\t100\t3\t7\t1\n"),
		"gtex.gct":     []byte("#1.2\n2\t3\nName\tDescription\ts1\ts2\ts3\ng1\tDDX11L1\t10\t0\t5\ng2\tWASH7P\t3\t7\t1\n"),
		"floats.tsv":   []byte("gene_id\ts1\ts2\ts3\ng1\t10.0\t0\t5e0\ng2\t3\t7.00\t1\n"),
		"trailing.tsv": []byte(plainTSV + "\n\n"),
	}
	for name, data := range files {
		src, err := Open(writeFile(t, dir, name, data), Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.Join(src.Genes(), ",") != "g1,g2" || strings.Join(src.Samples(), ",") != "s1,s2,s3" {
			t.Errorf("%s: genes %v samples %v", name, src.Genes(), src.Samples())
		}
		cols := readAll(t, src)
		for j := range wantCols {
			for i := range wantCols[j] {
				if cols[j][i] != wantCols[j][i] {
					t.Errorf("%s: [%d][%d] = %v, want %v", name, i, j, cols[j][i], wantCols[j][i])
				}
			}
		}
		if !src.Integer() {
			t.Errorf("%s: whole numbers should read as integers", name)
		}
		if name == "featurecounts.txt" {
			l := src.(GeneLengther).GeneLengths()
			if len(l) != 2 || l[0] != 61 || l[1] != 100 {
				t.Errorf("featureCounts lengths = %v", l)
			}
		}
		src.Close()
	}
}

func TestSamplesAsRowsText(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "t.tsv", []byte("sample\tg1\tg2\ns1\t10\t3\ns2\t0\t7\ns3\t5\t1\n"))
	src, err := Open(p, Options{SamplesAsRows: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if strings.Join(src.Genes(), ",") != "g1,g2" || strings.Join(src.Samples(), ",") != "s1,s2,s3" {
		t.Fatalf("genes %v samples %v", src.Genes(), src.Samples())
	}
	cols := readAll(t, src)
	for j := range wantCols {
		for i := range wantCols[j] {
			if cols[j][i] != wantCols[j][i] {
				t.Errorf("[%d][%d] = %v, want %v", i, j, cols[j][i], wantCols[j][i])
			}
		}
	}
}

// A small spill budget forces many blocks; the columns must not change.
func TestTextSpillBlocks(t *testing.T) {
	var b strings.Builder
	b.WriteString("gene")
	const G, S = 1000, 7
	for j := 0; j < S; j++ {
		b.WriteString("\ts" + string(rune('a'+j)))
	}
	b.WriteString("\n")
	for i := 0; i < G; i++ {
		b.WriteString("g" + itoa(i))
		for j := 0; j < S; j++ {
			b.WriteString("\t" + itoa(i*S+j))
		}
		b.WriteString("\n")
	}
	p := writeFile(t, t.TempDir(), "m.tsv", []byte(b.String()))
	src, err := Open(p, Options{SpillBudget: 8 * S * 16}) // 16 genes a block
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cols := readAll(t, src)
	for j := 0; j < S; j++ {
		for i := 0; i < G; i++ {
			if cols[j][i] != float64(i*S+j) {
				t.Fatalf("[%d][%d] = %v", i, j, cols[j][i])
			}
		}
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + formatInt(i)) }

func formatInt(i int) string {
	return string(AppendFloat(nil, float64(i)))
}

func TestMissingValuesAreNaN(t *testing.T) {
	p := writeFile(t, t.TempDir(), "na.tsv", []byte("gene\ta\tb\ng1\tNA\t\ng2\t1.5\t2\n"))
	src, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cols := readAll(t, src)
	if !math.IsNaN(cols[0][0]) || !math.IsNaN(cols[1][0]) || cols[0][1] != 1.5 {
		t.Errorf("cols = %v", cols)
	}
	if src.Integer() {
		t.Error("1.5 is not an integer")
	}
}

func TestTextErrorsNameFileLineSampleGene(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, data string
		want       []string
	}{
		{"word.tsv", "gene\ta\tb\ng1\t1\tten\n", []string{"word.tsv:2", "sample b", "gene g1", `"ten" is not a number`}},
		{"short.tsv", "gene\ta\tb\ng1\t1\n", []string{"short.tsv:2", "gene g1", "2 fields where the header has 3"}},
		{"dupgene.tsv", "gene\ta\ng1\t1\ng1\t2\n", []string{"dupgene.tsv:3", "gene g1", "duplicate gene id"}},
		{"dupsample.tsv", "gene\ta\ta\ng1\t1\t2\n", []string{"dupsample.tsv", "sample a", "duplicate sample id"}},
		{"empty.tsv", "", []string{"empty.tsv", "empty file"}},
		{"header.tsv", "gene\n", []string{"header.tsv", "no sample columns"}},
		{"nogenes.tsv", "gene\ta\n", []string{"nogenes.tsv", "no gene rows"}},
		{"quote.csv", "gene,a\n\"g1,1\n", []string{"quote.csv:2", "unterminated quote"}},
		{"bad.tsv.gz", "\x1f\x8bnot gzip at all", []string{"bad.tsv.gz", "gzip"}},
	}
	for _, c := range cases {
		_, err := Open(writeFile(t, dir, c.name, []byte(c.data)), Options{})
		var ie *InputError
		if !errors.As(err, &ie) || !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want an InputError", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: message is not one line: %q", c.name, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "absent.tsv"), Options{}); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "absent.tsv") {
		t.Errorf("missing file: %v", err)
	}
}

func TestSplitFields(t *testing.T) {
	var scratch []byte
	got, ok := splitFields(nil, []byte(`"a,b",c,"d""e",,"f"x`), ',', &scratch)
	want := []string{"a,b", "c", `d"e`, "", "fx"}
	if !ok || len(got) != len(want) {
		t.Fatalf("got %q ok=%v", got, ok)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestTextSinkRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"out.tsv", "out.csv"} {
		p := filepath.Join(dir, name)
		genes := []string{"g1", "g,2"}
		sink, err := Create(p, genes, wantSamples, SinkOptions{SpillBudget: 8})
		if err != nil {
			t.Fatal(err)
		}
		vals := [][]float64{{0.1, 1e300}, {1.0 / 3, 0}, {5, math.Pi}}
		for j, c := range vals {
			if err := sink.WriteColumn(j, c); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists before Commit", name)
		}
		if err := sink.Commit(); err != nil {
			t.Fatal(err)
		}
		src, err := Open(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cols := readAll(t, src)
		src.Close()
		for j := range vals {
			for i := range vals[j] {
				if cols[j][i] != vals[j][i] {
					t.Errorf("%s [%d][%d] = %v, want %v (shortest round-trip text)", name, i, j, cols[j][i], vals[j][i])
				}
			}
		}
		if src.Genes()[1] != "g,2" {
			t.Errorf("%s: quoted gene id read back as %q", name, src.Genes()[1])
		}
	}
}

func TestSinkAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.tsv")
	sink, err := Create(p, wantGenes, wantSamples, SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sink.WriteColumn(0, []float64{1, 2})
	sink.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("abort left %v", entries)
	}
}

// FuzzTextReader: any input gives a source or an InputError, never a panic.
func FuzzTextReader(f *testing.F) {
	f.Add([]byte(plainTSV))
	f.Add([]byte("#1.2\n2\t3\nName\tDescription\ts1\n"))
	f.Add([]byte("\"\",\"a\"\n\"g\",1\n"))
	f.Add([]byte("Geneid\tChr\tStart\tEnd\tStrand\tLength\ts1\ng\tc\t1\t2\t+\tx\t3\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.tsv")
		os.WriteFile(p, data, 0o644)
		src, err := Open(p, Options{})
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error is not an input error: %v", err)
			}
			return
		}
		readAll(t, src)
		src.Close()
	})
}
