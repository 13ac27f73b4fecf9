package columnar

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets (text_fuzz_test.go, parquet_fuzz_test.go,
// arrow_fuzz_test.go) write the fuzz input to a file, open it with Open as
// the commands do, and check with fuzzCheckSource what every reader
// promises. docs/fuzzing.md says how to run them.

// fuzzMaxCells bounds the values a fuzz input may make us read: a valid file
// can claim many rows in few bytes (a run-length encoded column), and reading
// them all is work, not a bug.
const fuzzMaxCells = 1 << 20

// fuzzAllocBudget is the most one input may allocate, in bytes: a fixed
// amount for buffers (1 MiB line readers, spill blocks) plus a multiple of
// the input size and of the matrix the reader returned. A damaged header
// that claims gigabytes must be refused before it is allocated.
func fuzzAllocBudget(inputBytes, genes, samples int) uint64 {
	return 256<<20 + 1024*uint64(inputBytes) + 64*uint64(genes)*uint64(samples+1)
}

// fuzzUnwritten fills a column before ReadColumn, to see entries it leaves
// unwritten: a NaN with a payload that no reader makes (math.NaN() is
// 0x7FF8000000000001).
var fuzzUnwritten = math.Float64frombits(0x7FF4_C0DE_0000_BEEF)

// fuzzWriteInput writes data to a fresh file called name.
func fuzzWriteInput(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fuzzCheckInputError fails unless err is a bad-input error (ErrFormat) on
// one line that names the file.
func fuzzCheckInputError(t *testing.T, path string, err error) {
	t.Helper()
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("error is not an input error (ErrFormat): %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Fatalf("error does not name the file %s: %q", path, msg)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error is not one line: %q", msg)
	}
}

// fuzzTotalAlloc is the number of bytes allocated so far by the process.
func fuzzTotalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// fuzzCheckDistinct fails when names repeat.
func fuzzCheckDistinct(t *testing.T, what string, names []string) {
	t.Helper()
	seen := make(map[string]struct{}, len(names))
	for _, n := range names {
		if _, ok := seen[n]; ok {
			t.Fatalf("%s %q appears twice", what, n)
		}
		seen[n] = struct{}{}
	}
}

// fuzzSame is equality with NaN equal to NaN.
func fuzzSame(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// fuzzMatrix is what a Source returned.
type fuzzMatrix struct {
	genes, samples []string
	integer        bool
	cols           [][]float64
}

// fuzzOpenAndRead opens path with opts and reads every column, checking the
// reader's promises on the way. It returns nil when the input was refused
// (with an input error) or too large to read in a fuzz run.
func fuzzOpenAndRead(t *testing.T, path string, inputBytes int, opts Options) *fuzzMatrix {
	t.Helper()
	before := fuzzTotalAlloc()
	genes, samples := 0, 0
	defer func() {
		if used, budget := fuzzTotalAlloc()-before, fuzzAllocBudget(inputBytes, genes, samples); used > budget {
			t.Fatalf("allocated %d MiB for a %d-byte input of %d genes x %d samples (budget %d MiB)",
				used>>20, inputBytes, genes, samples, budget>>20)
		}
	}()
	src, err := Open(path, opts)
	if err != nil {
		fuzzCheckInputError(t, path, err)
		return nil
	}
	defer src.Close()
	m := &fuzzMatrix{genes: src.Genes(), samples: src.Samples(), integer: src.Integer()}
	genes, samples = len(m.genes), len(m.samples)
	if src.Path() != path {
		t.Fatalf("Path() = %q, want %q", src.Path(), path)
	}
	fuzzCheckDistinct(t, "gene", m.genes)
	fuzzCheckDistinct(t, "sample", m.samples)
	if gl, ok := src.(GeneLengther); ok && gl.GeneLengths() != nil && len(gl.GeneLengths()) != genes {
		t.Fatalf("%d gene lengths for %d genes", len(gl.GeneLengths()), genes)
	}
	if genes*samples > fuzzMaxCells {
		return nil
	}
	for j := range m.samples {
		col := make([]float64, genes)
		for g := range col {
			col[g] = fuzzUnwritten
		}
		if err := src.ReadColumn(j, col); err != nil {
			fuzzCheckInputError(t, path, err)
			return nil
		}
		for g, v := range col {
			if math.Float64bits(v) == math.Float64bits(fuzzUnwritten) {
				t.Fatalf("sample %q, gene %q: value left unwritten", m.samples[j], m.genes[g])
			}
			if m.integer && !math.IsNaN(v) && (math.IsInf(v, 0) || v != math.Trunc(v)) {
				t.Fatalf("sample %q, gene %q: %v in a matrix that says it holds integers", m.samples[j], m.genes[g], v)
			}
		}
		m.cols = append(m.cols, col)
	}
	return m
}

// fuzzRoundTrip writes m with Create to a file called name and reads it back
// with opts: the genes, samples and values must come back unchanged.
func fuzzRoundTrip(t *testing.T, m *fuzzMatrix, name string, sink SinkOptions, opts Options) {
	t.Helper()
	if m == nil || len(m.genes) == 0 || len(m.samples) == 0 {
		return // the writers need both; the readers return empty tables
	}
	path := filepath.Join(t.TempDir(), name)
	// Integer outputs refuse missing values (NaN), which integer inputs
	// may hold as nulls, and numbers beyond ±(2^63-1024) (INT64 and UINT64
	// inputs reach ±2^63 and 2^64); such a matrix goes back as floating point.
	sink.Integer = m.integer && fuzzFitsInt64(m.cols)
	sink.TempDir = t.TempDir()
	s, err := Create(path, m.genes, m.samples, sink)
	if err != nil {
		t.Fatalf("writing what was read: %v", err)
	}
	defer s.Abort()
	for j, col := range m.cols {
		if err := s.WriteColumn(j, col); err != nil {
			t.Fatalf("writing what was read: %v", err)
		}
	}
	if err := s.Commit(); err != nil {
		t.Fatalf("writing what was read: %v", err)
	}
	opts.TempDir = t.TempDir()
	src, err := Open(path, opts)
	if err != nil {
		t.Fatalf("reading back what was written: %v", err)
	}
	defer src.Close()
	if !slices.Equal(src.Genes(), m.genes) {
		t.Fatalf("genes changed in the round trip: %q, then %q", m.genes, src.Genes())
	}
	if !slices.Equal(src.Samples(), m.samples) {
		t.Fatalf("samples changed in the round trip: %q, then %q", m.samples, src.Samples())
	}
	if sink.Integer && !src.Integer() {
		t.Fatalf("an integer matrix came back as not integer")
	}
	got := make([]float64, len(m.genes))
	for j, want := range m.cols {
		if err := src.ReadColumn(j, got); err != nil {
			t.Fatalf("reading back what was written: %v", err)
		}
		for g := range got {
			if !fuzzSame(got[g], want[g]) {
				t.Fatalf("sample %q, gene %q: %v came back as %v", m.samples[j], m.genes[g], want[g], got[g])
			}
		}
	}
}

// TestInputErrorOneLine: names with line breaks or other control characters
// are quoted, so that the message stays on one line (FuzzText found a gene id
// "0\r0" printed raw).
func TestInputErrorOneLine(t *testing.T) {
	e := &InputError{File: "in.tsv", Line: 2, Sample: "s\n1", Gene: "0\r0", Msg: "bad"}
	if got, want := e.Error(), `in.tsv:2: sample "s\n1", gene "0\r0": bad`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &InputError{File: "in.tsv", Gene: "ENSG01", Msg: "bad"}
	if got, want := e.Error(), `in.tsv: gene ENSG01: bad`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func fuzzFitsInt64(cols [][]float64) bool {
	for _, col := range cols {
		for _, v := range col {
			if !(math.Abs(v) <= 1<<63-1024) {
				return false
			}
		}
	}
	return true
}
