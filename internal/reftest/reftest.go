// Package reftest reads the reference outputs in testdata/ (written by
// DESeq2, edgeR and other projects' test suites) and compares results with
// them under explicit tolerances. It is used by tests only.
package reftest

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar"
)

// Root is the repository's testdata folder, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Path joins elements under testdata/.
func Path(elem ...string) string { return filepath.Join(append([]string{Root()}, elem...)...) }

// Table reads a delimited text table (tab, or comma for .csv; gzip allowed;
// double quotes stripped) into its header and rows.
func Table(t testing.TB, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	sep := "\t"
	if strings.Contains(path, ".csv") {
		sep = ","
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, sep)
		for i := range fields {
			fields[i] = strings.Trim(fields[i], `"`)
		}
		if header == nil {
			header = fields
		} else {
			rows = append(rows, fields)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return header, rows
}

// Column returns a table's column by name as a map from the first field of
// each row to its value parsed as float64 ("NA" is NaN).
func Column(t testing.TB, path, name string) map[string]float64 {
	t.Helper()
	header, rows := Table(t, path)
	k := -1
	for i, h := range header {
		if h == name && name != "" {
			k = i
		}
	}
	if k < 0 && name == "" && len(header) == 2 { // R's write.csv of a vector: "", "x"
		k = 1
	}
	if k < 0 {
		t.Fatalf("%s has no column %q (header %v)", path, name, header)
	}
	out := make(map[string]float64, len(rows))
	for _, r := range rows {
		out[r[0]] = Num(t, r[k])
	}
	return out
}

// Num parses a number as R writes it; NA is NaN.
func Num(t testing.TB, s string) float64 {
	t.Helper()
	if s == "NA" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

// Matrix reads a genes x samples matrix with colnorm's own text reader.
type Matrix struct {
	Genes, Samples []string
	Cols           [][]float64
}

// ReadMatrix reads every column of a matrix file.
func ReadMatrix(t testing.TB, path string) *Matrix {
	t.Helper()
	src, err := columnar.Open(path, columnar.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m := &Matrix{Genes: src.Genes(), Samples: src.Samples()}
	for j := range m.Samples {
		col := make([]float64, len(m.Genes))
		if err := src.ReadColumn(j, col); err != nil {
			t.Fatal(err)
		}
		m.Cols = append(m.Cols, col)
	}
	return m
}

// Source makes an in-memory Source of the matrix.
func (m *Matrix) Source(name string) columnar.Source {
	return columnar.NewMemory(name, m.Genes, m.Samples, m.Cols)
}

// RelErr is |got-want| / |want| (0 when both are equal, +Inf when want is 0 and got is not).
func RelErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Abs(want)
}

// Close reports whether got is within rel relative or abs absolute of want
// (NaN equals NaN; infinities must be equal).
func Close(got, want, rel, abs float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return math.IsNaN(got) && math.IsNaN(want)
	}
	if got == want {
		return true
	}
	return math.Abs(got-want) <= rel*math.Abs(want)+abs
}

// Collect is a columnar.Sink that keeps the columns in memory.
type Collect struct {
	Cols      [][]float64
	Committed bool
}

// NewCollect makes a collecting sink for S samples.
func NewCollect(samples int) *Collect { return &Collect{Cols: make([][]float64, samples)} }

func (c *Collect) WriteColumn(j int, v []float64) error {
	c.Cols[j] = append([]float64(nil), v...)
	return nil
}
func (c *Collect) Commit() error { c.Committed = true; return nil }
func (c *Collect) Abort() error  { return nil }

// FuncCollect is a Collect that is also a columnar.ColumnFuncWriter, as the
// wide Parquet sink is: it applies f itself and counts the columns given
// that way.
type FuncCollect struct {
	*Collect
	Calls int
}

// NewFuncCollect makes a FuncCollect for S samples.
func NewFuncCollect(samples int) *FuncCollect { return &FuncCollect{Collect: NewCollect(samples)} }

func (c *FuncCollect) WriteColumnFunc(j int, x []float64, f func(float64) float64) error {
	c.Calls++
	v := make([]float64, len(x))
	for i := range x {
		v[i] = f(x[i])
	}
	return c.WriteColumn(j, v)
}

// Background is a context for tests.
var Background = context.Background()

// ReadFile returns a text file's contents.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
