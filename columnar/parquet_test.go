package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/thrift"
)

// pqMatrix is a genes x samples matrix, stored by sample.
type pqMatrix struct {
	genes   []string
	samples []string
	cols    [][]float64 // cols[j][g]
}

// newPQMatrix makes counts (integer) or fractional values, with some
// zeros; nanRate is the share of NaN values.
func newPQMatrix(G, S int, seed uint64, integer bool, nanRate float64) *pqMatrix {
	r := rand.New(rand.NewPCG(seed, 7))
	m := &pqMatrix{}
	for g := range G {
		m.genes = append(m.genes, fmt.Sprintf("ENSG%08d", g*3+1))
	}
	for j := range S {
		m.samples = append(m.samples, fmt.Sprintf("s%03d", j))
	}
	for range S {
		col := make([]float64, G)
		for g := range col {
			switch {
			case nanRate > 0 && r.Float64() < nanRate:
				col[g] = math.NaN()
			case r.IntN(5) == 0:
				col[g] = 0
			case integer:
				col[g] = float64(r.IntN(2000))
			default:
				col[g] = r.Float64() * 1000
			}
		}
		m.cols = append(m.cols, col)
	}
	return m
}

// value rounds v to what a column of kind can hold.
func pqValue(kind string, v float64) float64 {
	if kind == "float" && !math.IsNaN(v) {
		return float64(float32(v))
	}
	return v
}

func pqLeaf(kind string) parquet.Node {
	switch kind {
	case "int32":
		return parquet.Leaf(parquet.Int32Type)
	case "int64":
		return parquet.Leaf(parquet.Int64Type)
	case "float":
		return parquet.Leaf(parquet.FloatType)
	case "uint32":
		return parquet.Uint(32)
	}
	return parquet.Leaf(parquet.DoubleType)
}

func pqValueOf(kind string, v float64) parquet.Value {
	switch kind {
	case "int32", "uint32":
		return parquet.Int32Value(int32(v))
	case "int64":
		return parquet.Int64Value(int64(v))
	case "float":
		return parquet.FloatValue(float32(v))
	}
	return parquet.DoubleValue(v)
}

// pqFixture says how to write a test file with parquet-go's own writer.
type pqFixture struct {
	kind      string // int32, uint32, int64, float or double
	optional  bool   // nullable value columns; NaN is written as null
	dict      bool   // dictionary-encode every column
	plain     bool   // PLAIN-encode the strings (parquet-go's default is DELTA_LENGTH_BYTE_ARRAY)
	rowGroup  int64  // rows per row group; 0 for one
	pageBytes int    // page buffer size; 0 for the default
}

func (fx pqFixture) node(n parquet.Node, isString bool) parquet.Node {
	if fx.dict {
		n = parquet.Encoded(n, &parquet.RLEDictionary)
	} else if fx.plain && isString {
		n = parquet.Encoded(n, &parquet.Plain)
	}
	if fx.optional && !isString {
		n = parquet.Optional(n)
	}
	return n
}

func (fx pqFixture) cell(v float64, col int) parquet.Value {
	if math.IsNaN(v) && fx.optional {
		return parquet.NullValue().Level(0, 0, col)
	}
	def := 0
	if fx.optional {
		def = 1
	}
	return pqValueOf(fx.kind, v).Level(0, def, col)
}

// writePQFixture writes rows under a schema of the named columns, which must be
// in lexical order (parquet-go sorts a group's fields by name).
func writePQFixture(t testing.TB, path string, fx pqFixture, names []string, nodes []parquet.Node, rows func(yield func(parquet.Row))) {
	t.Helper()
	group := parquet.Group{}
	for i, name := range names {
		if i > 0 && names[i-1] >= name {
			t.Fatalf("fixture columns must be in lexical order: %q then %q", names[i-1], name)
		}
		group[name] = nodes[i]
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := []parquet.WriterOption{parquet.NewSchema("m", group), parquet.Compression(&parquet.Zstd)}
	if fx.rowGroup > 0 {
		opts = append(opts, parquet.MaxRowsPerRowGroup(fx.rowGroup))
	}
	if fx.pageBytes > 0 {
		opts = append(opts, parquet.PageBufferSize(fx.pageBytes))
	}
	w := parquet.NewWriter(f, opts...)
	var batch []parquet.Row
	flush := func() {
		if _, err := w.WriteRows(batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	rows(func(r parquet.Row) {
		batch = append(batch, r)
		if len(batch) == 1000 {
			flush()
		}
	})
	flush()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writePQWide writes m as a wide file: gene_id, then the samples.
func writePQWide(t testing.TB, path string, m *pqMatrix, fx pqFixture) {
	names := append([]string{"gene_id"}, m.samples...)
	nodes := []parquet.Node{fx.node(parquet.String(), true)}
	for range m.samples {
		nodes = append(nodes, fx.node(pqLeaf(fx.kind), false))
	}
	writePQFixture(t, path, fx, names, nodes, func(yield func(parquet.Row)) {
		for g, gene := range m.genes {
			row := parquet.Row{parquet.ByteArrayValue([]byte(gene)).Level(0, 0, 0)}
			for j := range m.samples {
				row = append(row, fx.cell(m.cols[j][g], j+1))
			}
			yield(row)
		}
	})
}

// writePQLong writes m as a long file with rows in the order given
// (row k is gene order[k] % G of sample order[k] / G).
func writePQLong(t testing.TB, path string, m *pqMatrix, fx pqFixture, order []int) {
	G := len(m.genes)
	names := []string{"gene", "sample", "value"}
	nodes := []parquet.Node{fx.node(parquet.String(), true), fx.node(parquet.String(), true), fx.node(pqLeaf(fx.kind), false)}
	writePQFixture(t, path, fx, names, nodes, func(yield func(parquet.Row)) {
		for _, k := range order {
			g, j := k%G, k/G
			yield(parquet.Row{
				parquet.ByteArrayValue([]byte(m.genes[g])).Level(0, 0, 0),
				parquet.ByteArrayValue([]byte(m.samples[j])).Level(0, 0, 1),
				fx.cell(m.cols[j][g], 2),
			})
		}
	})
}

// writePQRows writes m with one row per sample: Sample, then the genes
// (lower-case names, so that Sample sorts first).
func writePQRows(t testing.TB, path string, m *pqMatrix, fx pqFixture) []string {
	genes := make([]string, len(m.genes))
	for g := range genes {
		genes[g] = fmt.Sprintf("g%06d", g)
	}
	names := append([]string{"Sample"}, genes...)
	nodes := []parquet.Node{fx.node(parquet.String(), true)}
	for range genes {
		nodes = append(nodes, fx.node(pqLeaf(fx.kind), false))
	}
	writePQFixture(t, path, fx, names, nodes, func(yield func(parquet.Row)) {
		for j, sm := range m.samples {
			row := parquet.Row{parquet.ByteArrayValue([]byte(sm)).Level(0, 0, 0)}
			for g := range genes {
				row = append(row, fx.cell(m.cols[j][g], g+1))
			}
			yield(row)
		}
	})
	return genes
}

func pqSequence(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// pqWriteSink writes m through Create.
func pqWriteSink(t testing.TB, path string, m *pqMatrix, opts SinkOptions) {
	t.Helper()
	sink, err := Create(path, m.genes, m.samples, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Abort()
	for j, col := range m.cols {
		if err := sink.WriteColumn(j, col); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Commit(); err != nil {
		t.Fatal(err)
	}
}

func pqOpen(t testing.TB, path string, opts Options) Source {
	t.Helper()
	src, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// pqCheck compares a source with m (values rounded to kind).
func pqCheck(t testing.TB, src Source, m *pqMatrix, kind string) {
	t.Helper()
	if !slices.Equal(src.Genes(), m.genes) {
		t.Fatalf("genes: got %d %v..., want %d %v...", len(src.Genes()), pqHead(src.Genes()), len(m.genes), pqHead(m.genes))
	}
	if !slices.Equal(src.Samples(), m.samples) {
		t.Fatalf("samples: got %v, want %v", pqHead(src.Samples()), pqHead(m.samples))
	}
	dst := make([]float64, len(m.genes))
	for j := range m.samples {
		if err := src.ReadColumn(j, dst); err != nil {
			t.Fatalf("ReadColumn(%d): %v", j, err)
		}
		for g, v := range dst {
			if w := pqValue(kind, m.cols[j][g]); !pqSame(v, w) {
				t.Fatalf("sample %s gene %s: got %v, want %v", m.samples[j], m.genes[g], v, w)
			}
		}
	}
}

func pqSame(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func pqHead(s []string) []string { return s[:min(len(s), 3)] }

func TestParquetSinkRoundTrip(t *testing.T) {
	defer func(n int) { pqLongRowGroupRows = n }(pqLongRowGroupRows)
	pqLongRowGroupRows = 1000 // several row groups, and groups that end inside a sample
	dir := t.TempDir()
	for _, layout := range []string{LayoutWide, LayoutLong} {
		for _, integer := range []bool{true, false} {
			name := fmt.Sprintf("%s/integer=%v", layout, integer)
			t.Run(name, func(t *testing.T) {
				nan := 0.0
				if !integer {
					nan = 0.05 // NaN is written as NaN
				}
				m := newPQMatrix(70000, 5, 1, integer, nan)
				path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".parquet")
				pqWriteSink(t, path, m, SinkOptions{Layout: layout, Integer: integer})
				src := pqOpen(t, path, Options{})
				if src.Integer() != integer {
					t.Errorf("Integer() = %v, want %v", src.Integer(), integer)
				}
				pqCheck(t, src, m, "double")
				if long, ok := src.(*longParquet); ok && layout == LayoutLong {
					if long.spill != nil || !long.runs[1].ordered {
						t.Errorf("our long output should be read straight, sample by sample")
					}
				}
			})
		}
	}
}

func TestParquetSinkEdges(t *testing.T) {
	dir := t.TempDir()
	// No samples: a gene column alone.
	m := newPQMatrix(10, 0, 1, true, 0)
	path := filepath.Join(dir, "nosamples.parquet")
	pqWriteSink(t, path, m, SinkOptions{})
	pqCheck(t, pqOpen(t, path, Options{}), m, "double")
	// No genes.
	m = newPQMatrix(0, 3, 1, true, 0)
	for _, layout := range []string{LayoutWide, LayoutLong} {
		path = filepath.Join(dir, "nogenes-"+layout+".parquet")
		pqWriteSink(t, path, m, SinkOptions{Layout: layout})
		src := pqOpen(t, path, Options{Layout: layout})
		if len(src.Genes()) != 0 {
			t.Errorf("%s: genes %v", layout, src.Genes())
		}
	}
	// A sample named like the gene column.
	if _, err := Create(filepath.Join(dir, "x.parquet"), []string{"a"}, []string{"gene_id"}, SinkOptions{}); err == nil {
		t.Errorf("a sample named gene_id: no error")
	}
}

func TestParquetSinkAtomic(t *testing.T) {
	dir := t.TempDir()
	m := newPQMatrix(100, 3, 1, false, 0)
	for _, layout := range []string{LayoutWide, LayoutLong} {
		// Abort leaves nothing.
		path := filepath.Join(dir, layout+".parquet")
		sink, err := Create(path, m.genes, m.samples, SinkOptions{Layout: layout})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.WriteColumn(0, m.cols[0]); err != nil {
			t.Fatal(err)
		}
		if err := sink.Abort(); err != nil {
			t.Fatal(err)
		}
		// A failed write (fractions into integer columns) leaves nothing.
		sink, err = Create(path, m.genes, m.samples, SinkOptions{Layout: layout, Integer: true})
		if err != nil {
			t.Fatal(err)
		}
		werr := sink.WriteColumn(0, m.cols[0])
		cerr := sink.Commit()
		if werr == nil && cerr == nil {
			t.Errorf("%s: fractions in integer columns: no error", layout)
		}
		sink.Abort()
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Errorf("%s: files left: %v", layout, entries)
		}
	}
}

func TestParquetWideFixtures(t *testing.T) {
	dir := t.TempDir()
	for _, fx := range []pqFixture{
		{kind: "double"},
		{kind: "int64", rowGroup: 700},
		{kind: "int32", dict: true, rowGroup: 1500, pageBytes: 2048},
		{kind: "uint32", dict: true},
		{kind: "float", optional: true, rowGroup: 1000, pageBytes: 4096},
		{kind: "double", optional: true, dict: true, rowGroup: 999, pageBytes: 1024},
		{kind: "int64", optional: true, dict: true, rowGroup: 1200},
	} {
		name := fmt.Sprintf("%s-opt=%v-dict=%v-rg=%d", fx.kind, fx.optional, fx.dict, fx.rowGroup)
		t.Run(name, func(t *testing.T) {
			integer := fx.kind != "double" && fx.kind != "float"
			nan := 0.0
			if fx.optional {
				nan = 0.1
			}
			m := newPQMatrix(3000, 6, 2, integer || fx.dict, nan)
			path := filepath.Join(dir, name+".parquet")
			writePQWide(t, path, m, fx)
			src := pqOpen(t, path, Options{})
			if src.Integer() != integer {
				t.Errorf("Integer() = %v, want %v", src.Integer(), integer)
			}
			pqCheck(t, src, m, fx.kind)
			pqCheckConcurrent(t, src)
		})
	}
}

// pqCheckConcurrent reads every column from 4 goroutines at once and compares
// with a sequential read.
func pqCheckConcurrent(t *testing.T, src Source) {
	t.Helper()
	G, S := len(src.Genes()), len(src.Samples())
	want := make([][]float64, S)
	for j := range want {
		want[j] = make([]float64, G)
		if err := src.ReadColumn(j, want[j]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]float64, G)
			for rep := range 3 {
				for k := range S {
					j := (k + w + rep) % S
					if err := src.ReadColumn(j, dst); err != nil {
						errs <- err
						return
					}
					for g := range dst {
						if !pqSame(dst[g], want[j][g]) {
							errs <- fmt.Errorf("goroutine %d: sample %d gene %d: %v, want %v", w, j, g, dst[g], want[j][g])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// pqReorder is m as a long table with rows in the given order reads: genes
// and samples in order of first appearance.
func pqReorder(m *pqMatrix, order []int) *pqMatrix {
	G := len(m.genes)
	gpos, spos := map[int]bool{}, map[int]bool{}
	var gs, ss []int
	for _, k := range order {
		if !gpos[k%G] {
			gpos[k%G] = true
			gs = append(gs, k%G)
		}
		if !spos[k/G] {
			spos[k/G] = true
			ss = append(ss, k/G)
		}
	}
	out := &pqMatrix{}
	for _, g := range gs {
		out.genes = append(out.genes, m.genes[g])
	}
	for _, j := range ss {
		out.samples = append(out.samples, m.samples[j])
		col := make([]float64, len(gs))
		for i, g := range gs {
			col[i] = m.cols[j][g]
		}
		out.cols = append(out.cols, col)
	}
	return out
}

func TestParquetLong(t *testing.T) {
	dir := t.TempDir()
	m := newPQMatrix(1500, 7, 3, true, 0)
	mn := newPQMatrix(1500, 7, 3, true, 0.02) // with nulls
	G, S := len(m.genes), len(m.samples)
	r := rand.New(rand.NewPCG(4, 4))
	shuffled := pqSequence(G * S)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// Grouped by sample, but each sample lists the genes in its own order
	// (the first in the canonical one).
	grouped := pqSequence(G * S)
	for j := 1; j < S; j++ {
		part := grouped[j*G : (j+1)*G]
		r.Shuffle(G, func(a, b int) { part[a], part[b] = part[b], part[a] })
	}
	// Samples in reverse order: still grouped, sample order is first appearance.
	reversed := make([]int, 0, G*S)
	for j := S - 1; j >= 0; j-- {
		reversed = append(reversed, pqSequence(G * S)[j*G:(j+1)*G]...)
	}
	for _, tc := range []struct {
		name   string
		m      *pqMatrix
		order  []int
		fx     pqFixture
		budget int
		spill  bool
	}{
		{"sorted", mn, pqSequence(G * S), pqFixture{kind: "int64", rowGroup: 2000, optional: true}, 0, false},
		{"sorted-dict", m, pqSequence(G * S), pqFixture{kind: "int32", rowGroup: 1000, dict: true, pageBytes: 1024}, 0, false},
		{"grouped", mn, grouped, pqFixture{kind: "double", rowGroup: 3000, dict: true, optional: true, pageBytes: 2048}, 0, false},
		{"reversed", m, reversed, pqFixture{kind: "int64"}, 0, false},
		{"shuffled", mn, shuffled, pqFixture{kind: "int64", rowGroup: 2500, optional: true}, 0, true},
		{"shuffled-passes", m, shuffled, pqFixture{kind: "int32", dict: true, rowGroup: 4000}, 2 * 8 * G, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".parquet")
			writePQLong(t, path, tc.m, tc.fx, tc.order)
			src := pqOpen(t, path, Options{SpillBudget: tc.budget, TempDir: dir})
			long, ok := src.(*longParquet)
			if !ok {
				t.Fatalf("detected as %T", src)
			}
			if (long.spill != nil) != tc.spill {
				t.Errorf("spill = %v, want %v", long.spill != nil, tc.spill)
			}
			if src.Integer() != (tc.fx.kind != "double") {
				t.Errorf("Integer() = %v", src.Integer())
			}
			pqCheck(t, src, pqReorder(tc.m, tc.order), tc.fx.kind)
			pqCheckConcurrent(t, src)
		})
	}
	// Row groups of several samples, read in place with the offset index that
	// our writer writes; without it, copied to a spill in one pass.
	t.Run("seek", func(t *testing.T) {
		defer func(a, b, c int, d int64) {
			pqLongRowGroupRows, pqValuePageValues, pqLongPageRows, pqLongDirectRows = a, b, c, d
		}(pqLongRowGroupRows, pqValuePageValues, pqLongPageRows, pqLongDirectRows)
		pqLongRowGroupRows, pqValuePageValues, pqLongPageRows, pqLongDirectRows = 4*G+300, 700, 900, 0
		ours := filepath.Join(dir, "ours.parquet")
		pqWriteSink(t, ours, m, SinkOptions{Layout: LayoutLong, Integer: true})
		theirs := filepath.Join(dir, "theirs.parquet")
		writePQLong(t, theirs, mn, pqFixture{kind: "double", optional: true, pageBytes: 4096}, grouped)
		for _, tc := range []struct {
			path  string
			m     *pqMatrix
			order []int
		}{{ours, m, pqSequence(G * S)}, {theirs, mn, grouped}} {
			for _, strip := range []bool{false, true} {
				if strip {
					pqStripPageIndex(t, tc.path)
				}
				src := pqOpen(t, tc.path, Options{TempDir: dir})
				if long := src.(*longParquet); (long.spill != nil) != strip {
					t.Errorf("%s: spill = %v with the offset index stripped = %v", tc.path, long.spill != nil, strip)
				}
				pqCheck(t, src, pqReorder(tc.m, tc.order), "double")
				pqCheckConcurrent(t, src)
			}
		}
	})
	// A pair missing, a pair listed twice: in a grouped and in a shuffled file.
	for _, tc := range []struct {
		name  string
		order []int
	}{{"grouped", grouped}, {"shuffled", shuffled}} {
		k := tc.order[G*3+17]
		gene, sample := m.genes[k%G], m.samples[k/G]
		missing := append(append([]int{}, tc.order[:G*3+17]...), tc.order[G*3+18:]...)
		twice := append(append([]int{}, tc.order[:G*3+18]...), tc.order[G*3+17:]...)
		for _, bad := range []struct {
			what  string
			order []int
		}{{"missing", missing}, {"twice", twice}} {
			path := filepath.Join(dir, tc.name+"-"+bad.what+".parquet")
			writePQLong(t, path, m, pqFixture{kind: "int64", rowGroup: 5000}, bad.order)
			_, err := Open(path, Options{SpillBudget: 3 * 8 * G, TempDir: dir})
			var ie *InputError
			if !errors.As(err, &ie) || ie.Sample != sample || ie.Gene != gene || ie.File != path {
				t.Errorf("%s %s: got %v, want an InputError for sample %s, gene %s", tc.name, bad.what, err, sample, gene)
			}
		}
	}
}

// TestParquetLongBatches: with the index scan's batches shorter than a
// sample, the runs still record the order of the genes and a pair listed
// twice in the middle of a sample is found.
func TestParquetLongBatches(t *testing.T) {
	defer func(b int) { pqLongBatch = b }(pqLongBatch)
	pqLongBatch = 97 // 1500-gene samples: most batches lie within one
	dir := t.TempDir()
	m := newPQMatrix(1500, 5, 3, true, 0)
	G := len(m.genes)
	r := rand.New(rand.NewPCG(4, 5))
	// grouped by sample; samples 1 to 4 list their genes in orders of
	// their own, from their 400th row on (so within a batch)
	grouped := pqSequence(G * len(m.samples))
	for j := 1; j < len(m.samples); j++ {
		part := grouped[j*G+400 : (j+1)*G]
		r.Shuffle(len(part), func(a, b int) { part[a], part[b] = part[b], part[a] })
	}
	path := filepath.Join(dir, "grouped.parquet")
	writePQLong(t, path, m, pqFixture{kind: "int32", rowGroup: 2000}, grouped)
	src := pqOpen(t, path, Options{TempDir: dir})
	long := src.(*longParquet)
	for j, run := range long.runs {
		if run.ordered != (j == 0) {
			t.Errorf("sample %d: ordered = %v", j, run.ordered)
		}
	}
	pqCheck(t, src, pqReorder(m, grouped), "int32")
	// gene 700 of sample 2 listed twice, in place of gene 701
	k := 2*G + 700
	twice := append(append(append([]int{}, grouped[:k+1]...), grouped[k]), grouped[k+2:]...)
	path = filepath.Join(dir, "twice.parquet")
	writePQLong(t, path, m, pqFixture{kind: "int32", rowGroup: 2000}, twice)
	_, err := Open(path, Options{TempDir: dir})
	var ie *InputError
	if gene, sample := m.genes[grouped[k]%G], m.samples[2]; !errors.As(err, &ie) || ie.Sample != sample || ie.Gene != gene {
		t.Errorf("got %v, want an InputError for sample %s, gene %s", err, sample, gene)
	}
}

// TestParquetLongIndexBlocks: the sample ids of a long file are read in
// blocks of rows, and the gene ids of a grouped file in blocks of samples,
// by several workers, and what they find is what one scan in row order
// would find: the samples in order of first appearance, each one's rows
// and gene order; whether the rows are grouped by sample, when a sample
// comes back in a later block, or later in the block where another's run
// from the block before goes on; the first gene listed twice for a
// sample, in row order, before a gene that the first sample lacks (known
// only at the end); that gene, named with the first sample.
func TestParquetLongIndexBlocks(t *testing.T) {
	defer func(n int) { runtime.GOMAXPROCS(n) }(runtime.GOMAXPROCS(4)) // 12 blocks of the 29 samples after the first
	defer func(n int64) { pqIndexBlockRows = n }(pqIndexBlockRows)
	pqIndexBlockRows = 1300 // 9 blocks of 1333 rows (rows 1333, 2666, 4000, ... begin one), most cutting through a sample's 400
	dir := t.TempDir()
	m := newPQMatrix(400, 30, 6, true, 0)
	G, S := len(m.genes), len(m.samples)
	order := pqSequence(G * S)
	for _, j := range []int{7, 19, 29} { // samples in another gene order
		part := order[j*G+100 : (j+1)*G]
		rand.New(rand.NewPCG(uint64(j), 9)).Shuffle(len(part), func(a, b int) { part[a], part[b] = part[b], part[a] })
	}
	write := func(name string, order []int) string {
		path := filepath.Join(dir, name+".parquet")
		writePQLong(t, path, m, pqFixture{kind: "int32", rowGroup: 1000, pageBytes: 1024}, order)
		return path
	}
	src := pqOpen(t, write("grouped", order), Options{TempDir: dir})
	for j, run := range src.(*longParquet).runs {
		if want := j != 7 && j != 19 && j != 29; run.ordered != want {
			t.Errorf("sample %d: ordered = %v, want %v", j, run.ordered, want)
		}
	}
	pqCheck(t, src, pqReorder(m, order), "int32")

	// Not grouped: the rows are regrouped, the samples numbered as they come.
	for _, tc := range []struct {
		name  string
		order []int
	}{
		// sample 4 first, then 0 to 29 without 4, then 4's last row
		{"comes-back-in-a-later-block", slices.Concat(order[4*G:5*G-1], order[:4*G], order[5*G:], order[5*G-1:5*G])},
		// sample 2's rows cut in two by 3's first row, all in one block
		{"comes-back-in-the-block", slices.Concat(order[:2*G+50], order[3*G:3*G+1], order[2*G+50:3*G], order[3*G+1:])},
		// sample 6's first 266 rows end block 1; block 2 begins with 7's rows, then the rest of 6's
		{"comes-back-after-a-block-ends", slices.Concat(order[:6*G+266], order[7*G:8*G], order[6*G+266:7*G], order[8*G:])},
	} {
		src := pqOpen(t, write(tc.name, tc.order), Options{TempDir: dir})
		if long := src.(*longParquet); long.spill == nil {
			t.Errorf("%s: read in place, as if grouped by sample", tc.name)
		}
		pqCheck(t, src, pqReorder(m, tc.order), "int32")
	}

	// twice lists row k of order again in place of row k+1.
	twice := func(order []int, k int) []int {
		out := slices.Clone(order)
		out[k+1] = out[k]
		return out
	}
	lacking := slices.Clone(order) // the first sample lacks gene 5: its row is gone
	lacking = append(lacking[:5], lacking[6:]...)
	for _, tc := range []struct {
		name         string
		order        []int
		sample, gene string
	}{
		{"twice-in-two-samples", twice(twice(order, 25*G+30), 9*G+200), m.samples[9], m.genes[order[9*G+200]%G]},
		{"first-sample-lacks-a-gene", lacking, m.samples[0], m.genes[5]},
		{"lacks-and-twice", twice(lacking, 28*G+10-1), m.samples[28], m.genes[order[28*G+10]%G]},
	} {
		_, err := Open(write(tc.name, tc.order), Options{TempDir: dir})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Sample != tc.sample || ie.Gene != tc.gene {
			t.Errorf("%s: got %v, want an InputError for sample %s, gene %s", tc.name, err, tc.sample, tc.gene)
		}
	}
}

// pqStripPageIndex rewrites a Parquet file's footer without its page index.
func pqStripPageIndex(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := openPQ(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := openParquetFooter(q.f, q.size)
	if err != nil {
		t.Fatal(err)
	}
	meta := *pf.Metadata()
	q.close()
	n := 0
	for g := range meta.RowGroups {
		for k := range meta.RowGroups[g].Columns {
			c := &meta.RowGroups[g].Columns[k]
			if c.OffsetIndexOffset != 0 {
				n++
			}
			c.OffsetIndexOffset, c.OffsetIndexLength, c.ColumnIndexOffset, c.ColumnIndexLength = 0, 0, 0, 0
		}
	}
	if n == 0 {
		t.Fatalf("%s has no offset index to strip", path)
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &meta)
	if err != nil {
		t.Fatal(err)
	}
	old := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	out := append(data[:len(data)-8-old:len(data)-8-old], footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	out = append(out, "PAR1"...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParquetShards(t *testing.T) {
	dir := t.TempDir()
	m := newPQMatrix(2000, 9, 5, true, 0)
	whole := filepath.Join(dir, "whole.parquet")
	pqWriteSink(t, whole, m, SinkOptions{Integer: true})
	shards := filepath.Join(dir, "shards")
	os.Mkdir(shards, 0o755)
	for k, part := range [][2]int{{0, 4}, {4, 5}, {5, 9}} {
		sub := &pqMatrix{genes: m.genes, samples: m.samples[part[0]:part[1]], cols: m.cols[part[0]:part[1]]}
		pqWriteSink(t, filepath.Join(shards, fmt.Sprintf("part-%02d.parquet", k)), sub, SinkOptions{Integer: true})
	}
	os.WriteFile(filepath.Join(shards, "_SUCCESS"), nil, 0o644)
	src := pqOpen(t, shards, Options{})
	if !src.Integer() {
		t.Errorf("Integer() = false")
	}
	pqCheck(t, src, m, "double")
	pqCheckConcurrent(t, src)
	// The later shards share the first shard's gene ids.
	if sh := src.(*shardsParquet).open[2]; sh == nil || &sh.src.Genes()[0] != &src.Genes()[0] {
		t.Errorf("shard 2 holds gene ids of its own")
	}
	// A float shard makes the whole not integer.
	sub := &pqMatrix{genes: m.genes, samples: []string{"extra"}, cols: [][]float64{m.cols[0]}}
	pqWriteSink(t, filepath.Join(shards, "part-99.parquet"), sub, SinkOptions{})
	if pqOpen(t, shards, Options{}).Integer() {
		t.Errorf("Integer() with a float shard = true")
	}
	os.Remove(filepath.Join(shards, "part-99.parquet"))

	// Genes differ.
	other := &pqMatrix{genes: append([]string{}, m.genes...), samples: []string{"x1"}, cols: [][]float64{m.cols[0]}}
	other.genes[1234] = "ENSGX"
	bad := filepath.Join(shards, "part-03.parquet")
	pqWriteSink(t, bad, other, SinkOptions{})
	_, err := Open(shards, Options{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.File != bad || ie.Gene != "ENSGX" {
		t.Errorf("different genes: got %v", err)
	}
	// A gene twice: the shard's own check names it.
	other.genes[1234] = other.genes[1233]
	pqWriteSink(t, bad, other, SinkOptions{})
	_, err = Open(shards, Options{})
	if !errors.As(err, &ie) || ie.File != bad || ie.Gene != m.genes[1233] || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("a gene twice: got %v", err)
	}
	// Fewer genes.
	other = &pqMatrix{genes: m.genes[:1000], samples: []string{"x1"}, cols: [][]float64{m.cols[0][:1000]}}
	pqWriteSink(t, bad, other, SinkOptions{})
	if _, err := Open(shards, Options{}); !errors.As(err, &ie) || ie.File != bad || ie.Gene != m.genes[1000] {
		t.Errorf("fewer genes: got %v", err)
	}
	// A sample in two shards.
	other = &pqMatrix{genes: m.genes, samples: []string{"s004"}, cols: [][]float64{m.cols[0]}}
	pqWriteSink(t, bad, other, SinkOptions{})
	_, err = Open(shards, Options{})
	if !errors.As(err, &ie) || ie.Sample != "s004" || !strings.Contains(err.Error(), "part-01.parquet") || ie.File != bad {
		t.Errorf("duplicate sample: got %v", err)
	}
	// An empty folder.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := Open(empty, Options{}); !errors.Is(err, ErrFormat) {
		t.Errorf("empty folder: got %v", err)
	}
}

func TestParquetSamplesAsRows(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		fx     pqFixture
		budget int
	}{
		{pqFixture{kind: "int64"}, 0},
		{pqFixture{kind: "double", optional: true, rowGroup: 7, dict: true}, 8 * 300 * 4}, // 4 samples per batch
		{pqFixture{kind: "float", rowGroup: 5, pageBytes: 64}, 1},
	} {
		name := fmt.Sprintf("%s-rg=%d-budget=%d", tc.fx.kind, tc.fx.rowGroup, tc.budget)
		t.Run(name, func(t *testing.T) {
			nan := 0.0
			if tc.fx.optional {
				nan = 0.1
			}
			m := newPQMatrix(300, 23, 6, tc.fx.kind == "int64", nan)
			path := filepath.Join(dir, name+".parquet")
			m.genes = writePQRows(t, path, m, tc.fx)
			src := pqOpen(t, path, Options{SamplesAsRows: true, SpillBudget: tc.budget, TempDir: dir})
			if src.Integer() != (tc.fx.kind == "int64") {
				t.Errorf("Integer() = %v", src.Integer())
			}
			pqCheck(t, src, m, tc.fx.kind)
			pqCheckConcurrent(t, src)
		})
	}
}

func TestParquetPandasIndex(t *testing.T) {
	// pandas stores a DataFrame's index in columns named in its metadata,
	// after the data columns: a string index holds the gene ids, and an
	// integer index is no sample.
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		index string
	}{{"string", `["zgene"]`}, {"multi", `["zgene", "zz"]`}, {"integer", `["zz"]`}} {
		path := filepath.Join(dir, tc.name+".parquet")
		group := parquet.Group{"a": parquet.Leaf(parquet.Int64Type), "b": parquet.Leaf(parquet.DoubleType),
			"zgene": parquet.String(), "zz": parquet.Leaf(parquet.Int64Type)}
		if tc.name == "integer" {
			group = parquet.Group{"Gene": parquet.String(), "a": parquet.Leaf(parquet.Int64Type), "b": parquet.Leaf(parquet.DoubleType),
				"zz": parquet.Leaf(parquet.Int64Type)}
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := parquet.NewWriter(f, parquet.NewSchema("m", group),
			parquet.KeyValueMetadata("pandas", `{"index_columns": `+tc.index+`, "column_indexes": [], "columns": []}`))
		for i, gene := range []string{"G1", "G2", "G3"} {
			g := parquet.ByteArrayValue([]byte(gene))
			a, b, z := parquet.Int64Value(int64(i)), parquet.DoubleValue(float64(i)/2), parquet.Int64Value(int64(i+10))
			row := parquet.Row{a.Level(0, 0, 0), b.Level(0, 0, 1), g.Level(0, 0, 2), z.Level(0, 0, 3)}
			if tc.name == "integer" {
				row = parquet.Row{g.Level(0, 0, 0), a.Level(0, 0, 1), b.Level(0, 0, 2), z.Level(0, 0, 3)}
			}
			if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		want := &pqMatrix{genes: []string{"G1", "G2", "G3"}, samples: []string{"a", "b"}, cols: [][]float64{{0, 1, 2}, {0, 0.5, 1}}}
		if tc.name == "string" { // zz is data
			want.samples = append(want.samples, "zz")
			want.cols = append(want.cols, []float64{10, 11, 12})
		}
		pqCheck(t, pqOpen(t, path, Options{}), want, "double")
	}
}

func TestParquetLayoutOverride(t *testing.T) {
	dir := t.TempDir()
	m := newPQMatrix(50, 3, 1, true, 0)
	path := filepath.Join(dir, "long.parquet")
	pqWriteSink(t, path, m, SinkOptions{Layout: LayoutLong})
	// Read as wide, the sample column is not numeric.
	_, err := Open(path, Options{Layout: LayoutWide})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Sample != "sample" {
		t.Errorf("long read as wide: got %v", err)
	}
	// A wide file with one string and two numeric columns is wide.
	m = newPQMatrix(50, 2, 1, true, 0)
	path = filepath.Join(dir, "wide.parquet")
	pqWriteSink(t, path, m, SinkOptions{})
	pqCheck(t, pqOpen(t, path, Options{}), m, "double")
	// Read as long, it does not fit.
	if _, err := Open(path, Options{Layout: LayoutLong}); !errors.As(err, &ie) {
		t.Errorf("wide read as long: got %v", err)
	}
}

func TestParquetBadInput(t *testing.T) {
	dir := t.TempDir()
	m := newPQMatrix(3000, 4, 1, true, 0)
	good := filepath.Join(dir, "good.parquet")
	pqWriteSink(t, good, m, SinkOptions{Integer: true})
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Damaged pages: the footer is intact, a page is not.
	damaged := append([]byte{}, data...)
	for i := len(damaged) / 3; i < len(damaged)/3+64; i++ {
		damaged[i] ^= 0x5a
	}
	for _, tc := range []struct{ name, path string }{
		{"truncated", write("truncated.parquet", data[:len(data)/2])},
		{"truncated-footer", write("truncated2.parquet", data[:len(data)-3])},
		{"text", write("text.parquet", []byte("gene_id\ts1\nA\t1\n"))},
		{"empty", write("empty.parquet", nil)},
		{"damaged", write("damaged.parquet", damaged)},
		{"missing", filepath.Join(dir, "nothing.parquet")},
	} {
		src, err := Open(tc.path, Options{})
		if err == nil {
			dst := make([]float64, len(src.Genes()))
			for j := range src.Samples() {
				if err = src.ReadColumn(j, dst); err != nil {
					break
				}
			}
			src.Close()
		}
		var ie *InputError
		if !errors.Is(err, ErrFormat) || !errors.As(err, &ie) || ie.File != tc.path {
			t.Errorf("%s: got %v, want an InputError", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, err)
	}
	// A string sample column.
	path := filepath.Join(dir, "strings.parquet")
	writePQFixture(t, path, pqFixture{}, []string{"gene", "s1", "s2", "s3"},
		[]parquet.Node{parquet.String(), parquet.Leaf(parquet.DoubleType), parquet.String(), parquet.Leaf(parquet.DoubleType)},
		func(yield func(parquet.Row)) {
			yield(parquet.Row{parquet.ByteArrayValue([]byte("A")).Level(0, 0, 0), parquet.DoubleValue(1).Level(0, 0, 1),
				parquet.ByteArrayValue([]byte("x")).Level(0, 0, 2), parquet.DoubleValue(1).Level(0, 0, 3)})
		})
	_, err = Open(path, Options{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Sample != "s2" {
		t.Errorf("string sample column: got %v", err)
	}
	// A date column.
	path = filepath.Join(dir, "date.parquet")
	writePQFixture(t, path, pqFixture{}, []string{"gene", "s1"}, []parquet.Node{parquet.String(), parquet.Date()},
		func(yield func(parquet.Row)) {
			yield(parquet.Row{parquet.ByteArrayValue([]byte("A")).Level(0, 0, 0), parquet.Int32Value(1).Level(0, 0, 1)})
		})
	if _, err = Open(path, Options{}); !errors.As(err, &ie) || ie.Sample != "s1" || !strings.Contains(err.Error(), "DATE") {
		t.Errorf("date column: got %v", err)
	}
	t.Logf("date: %v", err)
	// Duplicate gene ids.
	dup := &pqMatrix{genes: []string{"A", "B", "A"}, samples: []string{"s"}, cols: [][]float64{{1, 2, 3}}}
	path = filepath.Join(dir, "dupgenes.parquet")
	pqWriteSink(t, path, dup, SinkOptions{})
	if _, err := Open(path, Options{}); !errors.As(err, &ie) || ie.Gene != "A" {
		t.Errorf("duplicate genes: got %v", err)
	}
	// Duplicate sample ids with samples as rows.
	path = filepath.Join(dir, "dupsamples.parquet")
	dup = &pqMatrix{genes: []string{"s1", "s2", "s1"}, samples: []string{"g"}, cols: [][]float64{{1, 2, 3}}}
	pqWriteSink(t, path, dup, SinkOptions{GeneLabel: "sample"})
	if _, err := Open(path, Options{SamplesAsRows: true}); !errors.As(err, &ie) || ie.Sample != "s1" {
		t.Errorf("duplicate samples: got %v", err)
	}
	// A null gene id.
	path = filepath.Join(dir, "nullgene.parquet")
	writePQFixture(t, path, pqFixture{}, []string{"gene", "s1"},
		[]parquet.Node{parquet.Optional(parquet.String()), parquet.Leaf(parquet.DoubleType)},
		func(yield func(parquet.Row)) {
			yield(parquet.Row{parquet.ByteArrayValue([]byte("A")).Level(0, 1, 0), parquet.DoubleValue(1).Level(0, 0, 1)})
			yield(parquet.Row{parquet.NullValue().Level(0, 0, 0), parquet.DoubleValue(1).Level(0, 0, 1)})
		})
	if _, err := Open(path, Options{}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("null gene id: got %v", err)
	}
}

// A folder of many shards keeps at most maxOpenShards of them open while
// passes read it, in order or concurrently, with the same values; a shard
// whose samples change after the folder was opened is an error naming it.
func TestParquetShardsOpenFew(t *testing.T) {
	dir := t.TempDir()
	m := newPQMatrix(500, 30, 9, true, 0)
	for k := 0; k < 10; k++ {
		sub := &pqMatrix{genes: m.genes, samples: m.samples[3*k : 3*k+3], cols: m.cols[3*k : 3*k+3]}
		pqWriteSink(t, filepath.Join(dir, fmt.Sprintf("part-%02d.parquet", k)), sub, SinkOptions{Integer: true})
	}
	defer func(n int) { maxOpenShards = n }(maxOpenShards)
	maxOpenShards = 4
	src := pqOpen(t, dir, Options{})
	s := src.(*shardsParquet)
	openNow := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.open)
	}
	if n := openNow(); n != maxOpenShards {
		t.Errorf("%d shards open after opening the folder, want the first %d", n, maxOpenShards)
	}
	col := make([]float64, len(m.genes))
	for pass := 0; pass < 2; pass++ {
		for j := range m.samples {
			if err := src.ReadColumn(j, col); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(col, m.cols[j]) {
				t.Fatalf("pass %d, sample %s: values differ", pass, m.samples[j])
			}
			if n := openNow(); n > maxOpenShards {
				t.Fatalf("%d shards open, more than %d", n, maxOpenShards)
			}
		}
	}
	pqCheckConcurrent(t, src)
	if n := openNow(); n > maxOpenShards {
		t.Errorf("%d shards open after concurrent reads, more than %d", n, maxOpenShards)
	}
	// Shard 7 is rewritten with other samples while the folder is open.
	src.Close()
	other := &pqMatrix{genes: m.genes, samples: []string{"a", "b", "c"}, cols: m.cols[21:24]}
	file := filepath.Join(dir, "part-07.parquet")
	pqWriteSink(t, file, other, SinkOptions{Integer: true})
	err := src.ReadColumn(22, col)
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "samples changed") {
		t.Errorf("a rewritten shard: %v; want an error naming %s", err, file)
	}
}

// Column chunks read whole (pqChunkBytes) and chunks read from the file
// page by page (beyond pqChunkBytesMax) give the same values, plain,
// dictionary and optional, in wide and long files.
func TestParquetChunksWholeOrByPage(t *testing.T) {
	dir := t.TempDir()
	for _, fx := range []pqFixture{
		{kind: "int32", rowGroup: 700},
		{kind: "int64", optional: true, dict: true, rowGroup: 1000, pageBytes: 2048},
		{kind: "double", optional: true},
	} {
		nan := 0.0
		if fx.optional {
			nan = 0.05
		}
		m := newPQMatrix(2500, 5, 9, true, nan)
		name := fmt.Sprintf("%s-opt=%v-dict=%v", fx.kind, fx.optional, fx.dict)
		wide, long := filepath.Join(dir, name+"-wide.parquet"), filepath.Join(dir, name+"-long.parquet")
		writePQWide(t, wide, m, fx)
		writePQLong(t, long, m, fx, pqSequence(len(m.genes)*len(m.samples)))
		for _, limit := range []int64{8 << 20, 0} {
			saved := pqChunkBytesMax
			pqChunkBytesMax = limit
			for _, path := range []string{wide, long} {
				src := pqOpen(t, path, Options{})
				pqCheck(t, src, m, fx.kind)
				src.Close()
			}
			pqChunkBytesMax = saved
		}
	}
}

// Reading a range of rows that starts mid-way in a row group, and mid-way
// in a page, gives the rows asked for: with the chunks' offset indexes
// (jumping to the page) and without (skipping pages by their headers'
// counts), plain and dictionary, optional and required, data pages v1 and
// v2, several codecs, chunks read whole or page by page. The samples as
// rows and long readers seek this way (scan(c, r0, r1), ReadColumn of a
// sample's rows).
func TestParquetSeekMidChunk(t *testing.T) {
	dir := t.TempDir()
	m := newPQMatrix(3000, 2, 4, true, 0.1)
	codecs := []compress.Codec{&parquet.Snappy, &parquet.Zstd, &parquet.Brotli, &parquet.Uncompressed}
	for i, fx := range []pqFixture{
		{kind: "int32", rowGroup: 1300, pageBytes: 1024},
		{kind: "int64", optional: true, dict: true, rowGroup: 1300, pageBytes: 512},
		{kind: "double", optional: true, pageBytes: 2048},
		{kind: "float", dict: true, rowGroup: 2000, pageBytes: 700},
	} {
		for version := 1; version <= 2; version++ {
			mm := m
			if !fx.optional {
				mm = newPQMatrix(3000, 2, 4, true, 0)
			}
			codec := codecs[(i+version)%len(codecs)]
			data := fuzzPQWrite(t, mm, fx, false, codec, version)
			name := fmt.Sprintf("%s-opt=%v-dict=%v-v%d-%s", fx.kind, fx.optional, fx.dict, version, codec)
			indexed := filepath.Join(dir, name+".parquet")
			plain := filepath.Join(dir, name+"-noindex.parquet")
			for _, p := range []string{indexed, plain} {
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pqStripPageIndex(t, plain)
			for _, path := range []string{indexed, plain} {
				for _, limit := range []int64{8 << 20, 0} {
					saved := pqChunkBytesMax
					pqChunkBytesMax = limit
					q, err := openPQ(path)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range [][2]int64{{0, 3000}, {1, 2}, {777, 1900}, {1299, 1301}, {1300, 2600}, {2999, 3000}, {2100, 2950}} {
						dst := make([]float64, r[1]-r[0])
						if err := q.readNumbers(1, r[0], dst); err != nil {
							t.Fatalf("%s: rows [%d, %d): %v", path, r[0], r[1], err)
						}
						for k, v := range dst {
							if want := pqValue(fx.kind, mm.cols[0][r[0]+int64(k)]); !pqSame(v, want) {
								t.Fatalf("%s (chunks whole up to %d): rows [%d, %d): row %d is %v, want %v", filepath.Base(path), limit, r[0], r[1], r[0]+int64(k), v, want)
							}
						}
					}
					q.close()
					pqChunkBytesMax = saved
				}
			}
		}
	}
}

// TestParquetCursorReadsWantedPages checks that a cursor over rows of a
// chunk with an offset index reads only the pages that hold them (from the
// page holding the first row to the first page starting at or after the
// end), that the values are right, and that the pages past that part, when
// the offset index understates them, are read from the file.
func TestParquetCursorReadsWantedPages(t *testing.T) {
	m := newPQMatrix(3000, 2, 5, true, 0)
	for _, fx := range []pqFixture{
		{kind: "int32", rowGroup: 2500, pageBytes: 1024},
		{kind: "double", dict: true, rowGroup: 2500, pageBytes: 512},
	} {
		path := filepath.Join(t.TempDir(), fx.kind+".parquet")
		if err := os.WriteFile(path, fuzzPQWrite(t, m, fx, false, &parquet.Uncompressed, 1), 0o644); err != nil {
			t.Fatal(err)
		}
		q, err := openPQ(path)
		if err != nil {
			t.Fatal(err)
		}
		meta := q.chunkMeta(0, 1)
		b := make([]byte, meta.indexLength)
		if _, err := q.f.ReadAt(b, meta.indexOffset); err != nil {
			t.Fatal(err)
		}
		locs, err := pqParseOffsetIndex(b, nil)
		if err != nil || len(locs) < 6 {
			t.Fatalf("%s: %d pages in the offset index (%v), want 6 or more", fx.kind, len(locs), err)
		}
		off, end := q.chunkRange(0, 1)
		for _, r := range [][2]int64{{0, 2500}, {0, 1}, {locs[2].firstRow, locs[4].firstRow}, {locs[2].firstRow + 1, locs[4].firstRow + 1}, {locs[len(locs)-1].firstRow + 1, 2500}, {1, 2999}} {
			for _, cut := range []bool{false, true} {
				from, to := off, end
				for _, loc := range locs {
					if loc.firstRow <= r[0] && r[0] > 0 {
						from = loc.offset
					}
				}
				for i := len(locs) - 1; i > 0; i-- {
					if locs[i].firstRow >= r[1] {
						to = locs[i].offset
					}
				}
				pc := q.cursor(1, r[0], r[1])
				var got []float64
				for {
					p, row, err := pc.next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%s: rows [%d, %d): %v", fx.kind, r[0], r[1], err)
					}
					if got == nil {
						if pc.chunk.start != from || int64(len(pc.mem)) != to-from {
							t.Errorf("%s: rows [%d, %d): read bytes [%d, %d) of the chunk [%d, %d), want [%d, %d)", fx.kind, r[0], r[1], pc.chunk.start, pc.chunk.start+int64(len(pc.mem)), off, end, from, to)
						}
						if cut { // as if the offset index ended the pages early
							pc.mem = pc.mem[: len(pc.mem)/3 : len(pc.mem)/3]
						}
					}
					dst := make([]float64, min(int64(p.rows), r[1]-row))
					if err := pqDecodeNumbers(p, &q.cols[1], dst); err != nil {
						t.Fatal(err)
					}
					got = append(got, dst...)
				}
				pc.close()
				if len(got) != int(r[1]-r[0]) {
					t.Fatalf("%s: rows [%d, %d): %d values", fx.kind, r[0], r[1], len(got))
				}
				for k, v := range got {
					if want := pqValue(fx.kind, m.cols[0][r[0]+int64(k)]); !pqSame(v, want) {
						t.Fatalf("%s: rows [%d, %d) (cut %v): row %d is %v, want %v", fx.kind, r[0], r[1], cut, r[0]+int64(k), v, want)
					}
				}
			}
		}
		q.close()
	}
}

// TestParquetLongInOrder: the index compares a run's gene ids as encoded
// with the genes': 16-bit dictionary indexes (40,000 genes) with the
// dictionary's inverse (pqIDCursor.inverse16), in our files (each row
// group's dictionary is every gene, from the group's first on; the last
// group's holds fewer) and in parquet-go's; PLAIN names, as DuckDB writes
// a column of that many, with the genes' own PLAIN bytes. A sample that
// swaps two genes is read in its own order, and one that lists a gene
// twice is an error naming it.
func TestParquetLongInOrder(t *testing.T) {
	defer func(n int) { pqLongRowGroupRows = n }(pqLongRowGroupRows)
	pqLongRowGroupRows = 45000 // 160,000 rows: three groups of 45,000, one of 25,000
	dir := t.TempDir()
	m := newPQMatrix(40000, 4, 8, true, 0)
	G, S := len(m.genes), len(m.samples)

	ours := filepath.Join(dir, "ours.parquet")
	pqWriteSink(t, ours, m, SinkOptions{Layout: LayoutLong, Integer: true})
	src := pqOpen(t, ours, Options{TempDir: dir})
	long := src.(*longParquet)
	for j, r := range long.runs {
		if !r.ordered {
			t.Errorf("ours: sample %d not in the canonical order", j)
		}
	}
	pqCheck(t, src, m, "int32")
	// Row group 1 begins with sample 1's gene 5,000: its dictionary lists
	// genes 5,000 to 39,999, then 0 to 4,999.
	gc := newPQIDCursor(long.q, pqLongGeneCol, "gene id", long.genes, 45000, 46000)
	c, err := gc.nextKeys()
	if err != nil || c.packed16 == nil || c.row != 45000 {
		t.Fatalf("row group 1: got %d rows from row %d (16-bit keys as encoded: %v), %v", c.n, c.row, c.packed16 != nil, err)
	}
	inv := gc.inverse16()
	if len(inv) != 2*G {
		t.Fatalf("row group 1: the inverse of the dictionary has %d bytes, want %d", len(inv), 2*G)
	}
	for g := range G {
		if k, want := binary.LittleEndian.Uint16(inv[2*g:]), (g-5000+G)%G; int(k) != want {
			t.Fatalf("row group 1: gene %d has entry %d, want %d", g, k, want)
		}
	}
	gc.close()

	order := pqSequence(G * S)
	swapped := slices.Clone(order)
	swapped[2*G+30000], swapped[2*G+30001] = swapped[2*G+30001], swapped[2*G+30000]
	twice := slices.Clone(order)
	twice[3*G+35001] = twice[3*G+35000]
	for _, fx := range []pqFixture{
		{kind: "int32", dict: true, rowGroup: 45000},
		{kind: "int32", plain: true, rowGroup: 45000, pageBytes: 64 << 10},
	} {
		for _, tc := range []struct {
			name    string
			order   []int
			ordered []bool
		}{
			{"canonical", order, []bool{true, true, true, true}},
			{"swapped", swapped, []bool{true, true, false, true}},
		} {
			path := filepath.Join(dir, tc.name+".parquet")
			writePQLong(t, path, m, fx, tc.order)
			src := pqOpen(t, path, Options{TempDir: dir})
			for j, r := range src.(*longParquet).runs {
				if r.ordered != tc.ordered[j] {
					t.Errorf("%s, dictionary %v: sample %d: ordered = %v", tc.name, fx.dict, j, r.ordered)
				}
			}
			pqCheck(t, src, pqReorder(m, tc.order), "int32")
		}
		path := filepath.Join(dir, "twice.parquet")
		writePQLong(t, path, m, fx, twice)
		_, err = Open(path, Options{TempDir: dir})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Sample != m.samples[3] || ie.Gene != m.genes[35000] {
			t.Errorf("twice, dictionary %v: got %v, want an InputError for sample %s, gene %s", fx.dict, err, m.samples[3], m.genes[35000])
		}
	}
}

// TestParquetInverse16: the inverse of a dictionary is each name's entry,
// when the dictionary lists every name once, and nil when it lists one
// twice (and so lacks another), lacks one, or lists a name unknown. A
// dictionary that lists the names in their order from some name on, and
// then from the first (as a row group of a file written gene after gene
// has it), is found by comparing its PLAIN bytes (rotation); the names'
// letters cut into other names are not.
func TestParquetInverse16(t *testing.T) {
	names := newPQInterner()
	for _, n := range []string{"a", "b", "cd", "e"} {
		names.id([]byte(n))
	}
	names.frozen = true
	for i, tc := range []struct {
		dict     []string
		rotation int      // -1: not a rotation
		want     []uint16 // nil: no inverse
	}{
		{[]string{"cd", "e", "a", "b"}, 2, []uint16{2, 3, 0, 1}},
		{[]string{"a", "b", "cd", "e"}, 0, []uint16{0, 1, 2, 3}},
		{[]string{"e", "a", "b", "cd"}, 3, []uint16{1, 2, 3, 0}},
		{[]string{"a", "bc", "d", "e"}, -1, nil},
		{[]string{"b", "a", "cd", "e"}, -1, []uint16{1, 0, 2, 3}},
		{[]string{"a", "b", "b", "e"}, -1, nil},
		{[]string{"a", "b", "cd"}, -1, nil},
		{[]string{"a", "x", "cd", "e"}, -1, nil},
	} {
		b := pqByteArrays{dict: uint64(100 + i), n: len(tc.dict)} // PLAIN, as a cursor that reads runs has it
		for _, v := range tc.dict {
			b.plain = binary.LittleEndian.AppendUint32(b.plain, uint32(len(v)))
			b.plain = append(b.plain, v...)
		}
		memo := func() []int32 { return slices.Repeat([]int32{-2}, len(tc.dict)) }
		ic := &pqIDCursor{names: names, page: b, dict: b.dict, memo: memo()}
		if g0, ok := ic.rotation(); ok != (tc.rotation >= 0) || ok && g0 != tc.rotation {
			t.Errorf("dictionary %v: rotation %d, %v; want %d", tc.dict, g0, ok, tc.rotation)
		}
		ic.memo = memo()
		inv := ic.inverse16()
		var got []uint16
		for k := 0; k+1 < len(inv); k += 2 {
			got = append(got, binary.LittleEndian.Uint16(inv[k:]))
		}
		if (inv == nil) != (tc.want == nil) || !slices.Equal(got, tc.want) {
			t.Errorf("dictionary %v: inverse %v, want %v", tc.dict, got, tc.want)
		}
	}
}
