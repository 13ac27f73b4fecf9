package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrowCheckedAlloc makes every arrow-go allocation of the test (ours and the
// test's own writers) go through a checked allocator, and checks at the end
// that everything was released.
func arrowCheckedAlloc(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	old := arrowAlloc
	arrowAlloc = mem
	t.Cleanup(func() {
		arrowAlloc = old
		mem.AssertSize(t, 0)
	})
	return mem
}

// arrowMatrix is a genes x samples test matrix; NaN stands for null.
type arrowMatrix struct {
	genes   []string
	samples []string
	cols    [][]float64
}

func arrowRandMatrix(rng *rand.Rand, G, S int, integer, nulls bool) arrowMatrix {
	m := arrowMatrix{}
	for g := 0; g < G; g++ {
		m.genes = append(m.genes, fmt.Sprintf("ENSG%011d", 1000+7*g))
	}
	for j := 0; j < S; j++ {
		m.samples = append(m.samples, fmt.Sprintf("sample_%d", j))
		col := make([]float64, G)
		for g := range col {
			switch {
			case nulls && rng.IntN(7) == 0:
				col[g] = math.NaN()
			case integer:
				col[g] = float64(rng.IntN(5000))
			default:
				col[g] = rng.Float64() * 1e4
			}
		}
		m.cols = append(m.cols, col)
	}
	return m
}

func (m arrowMatrix) transposed() [][]float64 {
	rows := make([][]float64, len(m.genes))
	for g := range rows {
		rows[g] = make([]float64, len(m.samples))
		for j := range m.samples {
			rows[g][j] = m.cols[j][g]
		}
	}
	return rows
}

func arrowSame(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// arrowCheck reads every column of src and compares it with m.
func arrowCheck(t *testing.T, src Source, m arrowMatrix) {
	t.Helper()
	if got := src.Genes(); !slices.Equal(got, m.genes) {
		t.Fatalf("genes = %v, want %v", arrowHead(got), arrowHead(m.genes))
	}
	if got := src.Samples(); !slices.Equal(got, m.samples) {
		t.Fatalf("samples = %v, want %v", arrowHead(got), arrowHead(m.samples))
	}
	dst := make([]float64, len(m.genes))
	for j := range m.samples {
		if err := src.ReadColumn(j, dst); err != nil {
			t.Fatalf("ReadColumn(%d): %v", j, err)
		}
		for g := range dst {
			if !arrowSame(dst[g], m.cols[j][g]) {
				t.Fatalf("sample %d gene %d = %v, want %v", j, g, dst[g], m.cols[j][g])
			}
		}
	}
}

func arrowHead(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// arrowAppendValue appends v (NaN as null) to a numeric builder.
func arrowAppendValue(b array.Builder, v float64) {
	if math.IsNaN(v) {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(v))
	case *array.Int16Builder:
		b.Append(int16(v))
	case *array.Int32Builder:
		b.Append(int32(v))
	case *array.Int64Builder:
		b.Append(int64(v))
	case *array.Uint32Builder:
		b.Append(uint32(v))
	case *array.Uint64Builder:
		b.Append(uint64(v))
	case *array.Float32Builder:
		b.Append(float32(v))
	case *array.Float64Builder:
		b.Append(v)
	default:
		panic(fmt.Sprintf("arrowAppendValue: %T", b))
	}
}

func arrowStringType(kind string) arrow.DataType {
	switch kind {
	case "large":
		return arrow.BinaryTypes.LargeString
	case "view":
		return arrow.BinaryTypes.StringView
	case "dict":
		return &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	case "dict16":
		return &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint16, ValueType: arrow.BinaryTypes.String}
	}
	return arrow.BinaryTypes.String
}

func arrowAppendString(b array.Builder, s string) {
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(s)
	case *array.LargeStringBuilder:
		b.Append(s)
	case *array.StringViewBuilder:
		b.Append(s)
	case *array.BinaryDictionaryBuilder:
		if err := b.AppendString(s); err != nil {
			panic(err)
		}
	default:
		panic(fmt.Sprintf("arrowAppendString: %T", b))
	}
}

// arrowTable describes an Arrow file written by arrow-go for the reader tests.
type arrowTable struct {
	fields     []arrow.Field
	rows       int
	cell       func(row, col int) any // string, float64 (NaN = null)
	batchRows  int                    // 0: one batch
	opts       []ipc.Option
	stream     bool
	freshDicts bool
}

type arrowWriter interface {
	Write(arrow.RecordBatch) error
	Close() error
}

// arrowWriteTable writes a table with arrow-go, as other tools would.
func arrowWriteTable(t testing.TB, path string, spec arrowTable) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schema := arrow.NewSchema(spec.fields, nil)
	opts := append([]ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(arrowAlloc)}, spec.opts...)
	var w arrowWriter
	if spec.stream {
		w = ipc.NewWriter(f, opts...)
	} else {
		if w, err = ipc.NewFileWriter(f, opts...); err != nil {
			t.Fatal(err)
		}
	}
	batch := spec.batchRows
	if batch <= 0 {
		batch = max(spec.rows, 1)
	}
	build := func(r0, r1 int) arrow.RecordBatch {
		rb := array.NewRecordBuilder(arrowAlloc, schema)
		defer rb.Release()
		for c := range spec.fields {
			b := rb.Field(c)
			for r := r0; r < r1; r++ {
				switch v := spec.cell(r, c).(type) {
				case nil:
					b.AppendNull()
				case string:
					arrowAppendString(b, v)
				case float64:
					arrowAppendValue(b, v)
				}
			}
		}
		return rb.NewRecordBatch()
	}
	// One record sliced into batches (so that a dictionary is shared), or with
	// freshDicts a record built per batch (a stream then replaces dictionaries).
	var all arrow.RecordBatch
	if !spec.freshDicts {
		all = build(0, spec.rows)
		defer all.Release()
	}
	for r0 := 0; r0 < spec.rows || r0 == 0; r0 += batch {
		r1 := min(r0+batch, spec.rows)
		var rec arrow.RecordBatch
		if spec.freshDicts {
			rec = build(r0, r1)
		} else {
			rec = all.NewSlice(int64(r0), int64(r1))
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if spec.rows == 0 {
			break
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// arrowWideSpec is the table of a wide matrix: a gene id column of kind
// geneKind, then one column of type vt per sample.
func arrowWideSpec(m arrowMatrix, geneKind string, vt arrow.DataType) arrowTable {
	fields := []arrow.Field{{Name: "gene_id", Type: arrowStringType(geneKind)}}
	for _, s := range m.samples {
		fields = append(fields, arrow.Field{Name: s, Type: vt, Nullable: true})
	}
	return arrowTable{fields: fields, rows: len(m.genes), cell: func(r, c int) any {
		if c == 0 {
			return m.genes[r]
		}
		return m.cols[c-1][r]
	}}
}

// arrowLongRows lists the (gene, sample) pairs of m in sample-major order.
func arrowLongRows(m arrowMatrix) [][2]int {
	var rows [][2]int
	for j := range m.samples {
		for g := range m.genes {
			rows = append(rows, [2]int{g, j})
		}
	}
	return rows
}

func arrowLongSpec(m arrowMatrix, rows [][2]int, keyKind string, vt arrow.DataType) arrowTable {
	return arrowTable{
		fields: []arrow.Field{
			{Name: "gene", Type: arrowStringType(keyKind)},
			{Name: "sample", Type: arrowStringType(keyKind)},
			{Name: "count", Type: vt, Nullable: true},
		},
		rows: len(rows),
		cell: func(r, c int) any {
			g, j := rows[r][0], rows[r][1]
			switch c {
			case 0:
				return m.genes[g]
			case 1:
				return m.samples[j]
			}
			return m.cols[j][g]
		},
	}
}

func openArrowT(t *testing.T, path string, opts Options) Source {
	t.Helper()
	src, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func TestArrowReadWide(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	types := []struct {
		typ     arrow.DataType
		integer bool
	}{
		{arrow.PrimitiveTypes.Int32, true},
		{arrow.PrimitiveTypes.Int64, true},
		{arrow.PrimitiveTypes.Uint32, true},
		{arrow.PrimitiveTypes.Int16, true},
		{arrow.PrimitiveTypes.Float32, false},
		{arrow.PrimitiveTypes.Float64, false},
	}
	compressions := map[string][]ipc.Option{"none": nil, "lz4": {ipc.WithLZ4()}, "zstd": {ipc.WithZstd()}}
	for _, tc := range types {
		for _, geneKind := range []string{"utf8", "large", "view", "dict", "dict16"} {
			for cname, copts := range compressions {
				for _, batchRows := range []int{0, 7} {
					for _, stream := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s/%s/batch=%d/stream=%v", tc.typ, geneKind, cname, batchRows, stream)
						t.Run(name, func(t *testing.T) {
							m := arrowRandMatrix(rng, 45, 4, true, true)
							if tc.typ.ID() == arrow.FLOAT32 {
								for _, col := range m.cols {
									for g := range col {
										col[g] = float64(float32(col[g] / 8))
									}
								}
							}
							spec := arrowWideSpec(m, geneKind, tc.typ)
							spec.batchRows, spec.opts, spec.stream = batchRows, copts, stream
							spec.freshDicts = stream // streams may replace dictionaries between batches
							path := filepath.Join(dir, "wide.arrow")
							arrowWriteTable(t, path, spec)
							src := openArrowT(t, path, Options{})
							if src.Integer() != tc.integer {
								t.Errorf("Integer() = %v, want %v", src.Integer(), tc.integer)
							}
							arrowCheck(t, src, m)
						})
					}
				}
			}
		}
	}
}

func TestArrowRoundTripWide(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, integer := range []bool{false, true} {
		for _, budget := range []int{0, 2000} { // 2000 bytes: blocks of 16 genes, several batches
			t.Run(fmt.Sprintf("integer=%v/budget=%d", integer, budget), func(t *testing.T) {
				m := arrowRandMatrix(rng, 100, 7, integer, true)
				path := filepath.Join(dir, "out.feather")
				arrowWriteMatrix(t, path, m, SinkOptions{Integer: integer, SpillBudget: budget})
				src := openArrowT(t, path, Options{})
				if src.Integer() != integer {
					t.Errorf("Integer() = %v, want %v", src.Integer(), integer)
				}
				arrowCheck(t, src, m)
			})
		}
	}
}

func arrowWriteMatrix(t *testing.T, path string, m arrowMatrix, opts SinkOptions) {
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

func TestArrowRoundTripLong(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, integer := range []bool{false, true} {
		t.Run(fmt.Sprintf("integer=%v", integer), func(t *testing.T) {
			m := arrowRandMatrix(rng, 3000, 45, integer, true) // 135000 rows: three batches
			path := filepath.Join(dir, "long.arrow")
			arrowWriteMatrix(t, path, m, SinkOptions{Integer: integer, Layout: LayoutLong, ValueName: "count"})
			src := openArrowT(t, path, Options{})
			if src.Integer() != integer {
				t.Errorf("Integer() = %v, want %v", src.Integer(), integer)
			}
			arrowCheck(t, src, m)
		})
	}
}

// TestArrowSinkIndependentReader reads our output with arrow-go's own reader.
func TestArrowSinkIndependentReader(t *testing.T) {
	mem := arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	m := arrowRandMatrix(rng, 50, 5, true, true)
	for _, tc := range []struct {
		name string
		opts SinkOptions
	}{
		{"float", SinkOptions{GeneLabel: "Geneid", SpillBudget: 1000}},
		{"integer", SinkOptions{Integer: true, SpillBudget: 1000}},
		{"long", SinkOptions{Layout: LayoutLong}},
		{"long-integer", SinkOptions{Layout: LayoutLong, Integer: true, ValueName: "count"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".arrow")
			arrowWriteMatrix(t, path, m, tc.opts)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			vt := arrow.DataType(arrow.PrimitiveTypes.Float64)
			if tc.opts.Integer {
				vt = arrow.PrimitiveTypes.Int64
			}
			var want []arrow.Field
			if tc.opts.Layout == LayoutLong {
				want = []arrow.Field{{Name: tc.opts.geneLabel(), Type: arrow.BinaryTypes.String},
					{Name: "sample", Type: arrow.BinaryTypes.String}, {Name: tc.opts.valueName(), Type: vt}}
			} else {
				want = []arrow.Field{{Name: tc.opts.geneLabel(), Type: arrow.BinaryTypes.String}}
				for _, s := range m.samples {
					want = append(want, arrow.Field{Name: s, Type: vt})
				}
			}
			fields := r.Schema().Fields()
			if len(fields) != len(want) {
				t.Fatalf("%d fields, want %d", len(fields), len(want))
			}
			for i := range want {
				if fields[i].Name != want[i].Name || !arrow.TypeEqual(fields[i].Type, want[i].Type) {
					t.Fatalf("field %d = %s %s, want %s %s", i, fields[i].Name, fields[i].Type, want[i].Name, want[i].Type)
				}
			}
			if tc.opts.Layout != LayoutLong && r.NumRecords() < 2 {
				t.Errorf("%d record batches, want several", r.NumRecords())
			}
			value := func(a arrow.Array, i int) float64 {
				if a.IsNull(i) {
					return math.NaN()
				}
				switch a := a.(type) {
				case *array.Int64:
					return float64(a.Value(i))
				case *array.Float64:
					return a.Value(i)
				}
				t.Fatalf("value column of type %s", a.DataType())
				return 0
			}
			row := 0
			for k := 0; k < r.NumRecords(); k++ {
				rec, err := r.RecordBatch(k)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < int(rec.NumRows()); i, row = i+1, row+1 {
					if tc.opts.Layout == LayoutLong {
						g, j := row%len(m.genes), row/len(m.genes)
						gene := rec.Column(0).(*array.String).Value(i)
						sample := rec.Column(1).(*array.String).Value(i)
						if gene != m.genes[g] || sample != m.samples[j] || !arrowSame(value(rec.Column(2), i), m.cols[j][g]) {
							t.Fatalf("row %d = %s %s %v, want %s %s %v", row, gene, sample, value(rec.Column(2), i),
								m.genes[g], m.samples[j], m.cols[j][g])
						}
						continue
					}
					if gene := rec.Column(0).(*array.String).Value(i); gene != m.genes[row] {
						t.Fatalf("row %d gene = %s, want %s", row, gene, m.genes[row])
					}
					for j := range m.samples {
						if v := value(rec.Column(j+1), i); !arrowSame(v, m.cols[j][row]) {
							t.Fatalf("row %d sample %d = %v, want %v", row, j, v, m.cols[j][row])
						}
					}
				}
			}
			wantRows := len(m.genes)
			if tc.opts.Layout == LayoutLong {
				wantRows *= len(m.samples)
			}
			if row != wantRows {
				t.Fatalf("%d rows, want %d", row, wantRows)
			}
		})
	}
}

func TestArrowSamplesAsRows(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 10))
	m := arrowRandMatrix(rng, 40, 23, true, true)
	rows := m.transposed()
	fields := []arrow.Field{{Name: "obs_names", Type: arrow.BinaryTypes.String}}
	for _, g := range m.genes {
		fields = append(fields, arrow.Field{Name: g, Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	}
	path := filepath.Join(dir, "rows.arrow")
	arrowWriteTable(t, path, arrowTable{fields: fields, rows: len(m.samples), batchRows: 5, opts: []ipc.Option{ipc.WithZstd()},
		cell: func(r, c int) any {
			if c == 0 {
				return m.samples[r]
			}
			return rows[c-1][r]
		}})
	for _, budget := range []int{0, 100} {
		src := openArrowT(t, path, Options{SamplesAsRows: true, SpillBudget: budget})
		if !src.Integer() {
			t.Error("Integer() = false")
		}
		arrowCheck(t, src, m)
	}
}

func TestArrowConcurrentReadColumn(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	m := arrowRandMatrix(rng, 500, 16, false, true)
	wide := filepath.Join(dir, "wide.arrow")
	spec := arrowWideSpec(m, "utf8", arrow.PrimitiveTypes.Float64)
	spec.batchRows, spec.opts = 77, []ipc.Option{ipc.WithLZ4()}
	arrowWriteTable(t, wide, spec)
	plain := filepath.Join(dir, "plain.arrow")
	spec.opts = nil
	arrowWriteTable(t, plain, spec)
	long := filepath.Join(dir, "long.arrow")
	arrowWriteMatrix(t, long, m, SinkOptions{Layout: LayoutLong})
	for _, path := range []string{wide, plain, long} {
		src := openArrowT(t, path, Options{})
		want := make([][]float64, len(m.samples))
		for j := range want {
			want[j] = make([]float64, len(m.genes))
			if err := src.ReadColumn(j, want[j]); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				dst := make([]float64, len(m.genes))
				for rep := 0; rep < 5; rep++ {
					for k := range m.samples {
						j := (k + w*3) % len(m.samples)
						if err := src.ReadColumn(j, dst); err != nil {
							errs <- err
							return
						}
						for g := range dst {
							if !arrowSame(dst[g], want[j][g]) {
								errs <- fmt.Errorf("%s: worker %d: sample %d gene %d = %v, want %v", filepath.Base(path), w, j, g, dst[g], want[j][g])
								return
							}
						}
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

// arrowReadByName reads every value of src keyed by (gene, sample), so that
// tables with genes and samples in different orders can be compared.
func arrowReadByName(t *testing.T, src Source) map[[2]string]float64 {
	t.Helper()
	out := map[[2]string]float64{}
	dst := make([]float64, len(src.Genes()))
	for j, s := range src.Samples() {
		if err := src.ReadColumn(j, dst); err != nil {
			t.Fatal(err)
		}
		for g, gene := range src.Genes() {
			out[[2]string{gene, s}] = dst[g]
		}
	}
	return out
}

func TestArrowLongShuffled(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(13, 14))
	m := arrowRandMatrix(rng, 30, 100, false, true)
	sorted := arrowLongRows(m)
	shuffled := append([][2]int(nil), sorted...)
	rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
	geneMajor := make([][2]int, 0, len(sorted))
	for g := range m.genes {
		for j := range m.samples {
			geneMajor = append(geneMajor, [2]int{g, j})
		}
	}
	write := func(name string, rows [][2]int, kind string) string {
		path := filepath.Join(dir, name)
		spec := arrowLongSpec(m, rows, kind, arrow.PrimitiveTypes.Float64)
		spec.batchRows = 1000
		arrowWriteTable(t, path, spec)
		return path
	}
	ref := openArrowT(t, write("sorted.arrow", sorted, "utf8"), Options{})
	arrowCheck(t, ref, m)
	want := arrowReadByName(t, ref)
	// Budgets: everything at once; windows of 4 samples (25 buckets); windows
	// of one sample (100 windows in 64 buckets).
	for _, budget := range []int{0, 8 * 30 * 4, 1} {
		for _, kind := range []string{"utf8", "dict", "view"} {
			for name, rows := range map[string][][2]int{"sorted": sorted, "shuffled": shuffled, "gene-major": geneMajor} {
				t.Run(fmt.Sprintf("%s/%s/budget=%d", name, kind, budget), func(t *testing.T) {
					src := openArrowT(t, write(name+"-"+kind+".arrow", rows, kind), Options{SpillBudget: budget})
					if len(src.Genes()) != len(m.genes) || len(src.Samples()) != len(m.samples) {
						t.Fatalf("%d genes x %d samples, want %d x %d", len(src.Genes()), len(src.Samples()), len(m.genes), len(m.samples))
					}
					got := arrowReadByName(t, src)
					for k, v := range want {
						if !arrowSame(got[k], v) {
							t.Fatalf("%v = %v, want %v", k, got[k], v)
						}
					}
					if name == "sorted" {
						arrowCheck(t, src, m)
					}
				})
			}
		}
	}
}

func arrowWantInputError(t *testing.T, err error, sample, gene string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrFormat) {
		t.Fatalf("error %v (%T), want an *InputError", err, err)
	}
	if ie.Sample != sample || ie.Gene != gene {
		t.Fatalf("error %q names sample %q gene %q, want %q %q", err, ie.Sample, ie.Gene, sample, gene)
	}
}

func TestArrowLongMissingAndDuplicate(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(15, 16))
	m := arrowRandMatrix(rng, 10, 6, true, false)
	rows := arrowLongRows(m)
	missing := append(append([][2]int(nil), rows[:23]...), rows[24:]...) // gene 3 of sample 2
	dup := append(append([][2]int(nil), rows[:40]...), rows[35])         // gene 5 of sample 3 again
	dup = append(dup, rows[40:]...)
	shuffledMissing := append([][2]int(nil), missing...)
	rng.Shuffle(len(shuffledMissing), func(a, b int) {
		shuffledMissing[a], shuffledMissing[b] = shuffledMissing[b], shuffledMissing[a]
	})
	for _, tc := range []struct {
		name         string
		rows         [][2]int
		sample, gene string
	}{
		{"missing", missing, m.samples[2], m.genes[3]},
		{"duplicate", dup, m.samples[3], m.genes[5]},
		{"shuffled-missing", shuffledMissing, m.samples[2], m.genes[3]},
	} {
		for _, budget := range []int{0, 1} {
			path := filepath.Join(dir, tc.name+".arrow")
			arrowWriteTable(t, path, arrowLongSpec(m, tc.rows, "utf8", arrow.PrimitiveTypes.Int64))
			src, err := Open(path, Options{SpillBudget: budget})
			if err == nil {
				src.Close()
			}
			arrowWantInputError(t, err, tc.sample, tc.gene)
		}
	}
}

func TestArrowBadInputs(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(17, 18))
	m := arrowRandMatrix(rng, 20, 3, true, false)

	// Duplicate gene ids.
	dupGenes := m
	dupGenes.genes = append([]string(nil), m.genes...)
	dupGenes.genes[7] = dupGenes.genes[2]
	path := filepath.Join(dir, "dup-genes.arrow")
	arrowWriteTable(t, path, arrowWideSpec(dupGenes, "utf8", arrow.PrimitiveTypes.Int32))
	_, err := Open(path, Options{})
	arrowWantInputError(t, err, "", m.genes[2])

	// Duplicate sample names.
	dupSamples := m
	dupSamples.samples = []string{"a", "b", "a"}
	path = filepath.Join(dir, "dup-samples.arrow")
	arrowWriteTable(t, path, arrowWideSpec(dupSamples, "utf8", arrow.PrimitiveTypes.Int32))
	_, err = Open(path, Options{})
	arrowWantInputError(t, err, "a", "")

	// A sample column that is not numeric.
	path = filepath.Join(dir, "text-sample.arrow")
	spec := arrowWideSpec(m, "utf8", arrow.PrimitiveTypes.Int32)
	spec.fields[2].Type = arrow.BinaryTypes.String
	cell := spec.cell
	spec.cell = func(r, c int) any {
		if c == 2 {
			return "x"
		}
		return cell(r, c)
	}
	arrowWriteTable(t, path, spec)
	_, err = Open(path, Options{})
	arrowWantInputError(t, err, m.samples[1], "")
	// The same file forced long: four columns.
	_, err = Open(path, Options{Layout: LayoutLong})
	arrowWantInputError(t, err, "", "")

	// A long table forced wide: the sample column is not numeric.
	path = filepath.Join(dir, "long.arrow")
	arrowWriteTable(t, path, arrowLongSpec(m, arrowLongRows(m), "utf8", arrow.PrimitiveTypes.Int32))
	_, err = Open(path, Options{Layout: LayoutWide})
	arrowWantInputError(t, err, "sample", "")

	// A missing gene id.
	path = filepath.Join(dir, "null-gene.arrow")
	arrowWriteTable(t, path, arrowTable{
		fields: []arrow.Field{{Name: "gene", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "s", Type: arrow.PrimitiveTypes.Int32}},
		rows:   3,
		cell: func(r, c int) any {
			if c == 0 && r == 1 {
				return nil
			}
			if c == 0 {
				return "g" + fmt.Sprint(r)
			}
			return float64(r)
		},
	})
	_, err = Open(path, Options{})
	arrowWantInputError(t, err, "", "")

	// Not Arrow at all.
	path = filepath.Join(dir, "text.arrow")
	os.WriteFile(path, []byte("gene_id\ts1\ng1\t3\n"), 0o644)
	_, err = Open(path, Options{})
	arrowWantInputError(t, err, "", "")
	os.WriteFile(path, nil, 0o644)
	_, err = Open(path, Options{})
	arrowWantInputError(t, err, "", "")
}

// TestArrowCorrupt truncates a file at every length and damages it at many
// places: the reader must answer with an InputError (or, for damage that
// leaves a readable file, with data), never crash.
func TestArrowCorrupt(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(19, 20))
	m := arrowRandMatrix(rng, 30, 3, true, true)
	for _, tc := range []struct {
		name string
		opts []ipc.Option
		kind string
	}{{"plain", nil, "utf8"}, {"lz4", []ipc.Option{ipc.WithLZ4()}, "dict"}, {"zstd", []ipc.Option{ipc.WithZstd()}, "view"}} {
		t.Run(tc.name, func(t *testing.T) {
			good := filepath.Join(dir, tc.name+".arrow")
			spec := arrowWideSpec(m, tc.kind, arrow.PrimitiveTypes.Int64)
			spec.batchRows, spec.opts = 11, tc.opts
			arrowWriteTable(t, good, spec)
			data, err := os.ReadFile(good)
			if err != nil {
				t.Fatal(err)
			}
			bad := filepath.Join(dir, "bad.arrow")
			dst := make([]float64, len(m.genes))
			try := func(b []byte) error {
				os.WriteFile(bad, b, 0o644)
				src, err := Open(bad, Options{})
				if err != nil {
					return err
				}
				defer src.Close()
				for j := range src.Samples() {
					if len(src.Genes()) != len(dst) {
						dst = make([]float64, len(src.Genes()))
					}
					if err := src.ReadColumn(j, dst); err != nil {
						return err
					}
				}
				return nil
			}
			// Every length near the ends (schema, footer), every 11th between.
			for n := 0; n < len(data); n++ {
				if n > 300 && n < len(data)-300 && n%11 != 0 {
					continue
				}
				err := try(data[:n])
				if err == nil {
					t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
				}
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("truncated to %d bytes: %v is not an input error", n, err)
				}
			}
			damages := 400
			if testing.Short() {
				damages = 50
			}
			for i := 0; i < damages; i++ {
				b := append([]byte(nil), data...)
				for k := 0; k < 1+rng.IntN(3); k++ {
					b[rng.IntN(len(b))] = byte(rng.IntN(256))
				}
				if err := try(b); err != nil && !errors.Is(err, ErrFormat) {
					t.Fatalf("damaged file: %v is not an input error", err)
				}
			}
		})
	}
}

func TestArrowLayoutsAndEdges(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(21, 22))
	m := arrowRandMatrix(rng, 12, 3, false, false)

	// Gene ids last, as pandas writes a string index.
	spec := arrowWideSpec(m, "utf8", arrow.PrimitiveTypes.Float64)
	spec.fields = append(spec.fields[1:], spec.fields[0])
	cell := spec.cell
	spec.cell = func(r, c int) any { return cell(r, (c+1)%4) }
	path := filepath.Join(dir, "index-last.arrow")
	arrowWriteTable(t, path, spec)
	arrowCheck(t, openArrowT(t, path, Options{}), m)

	// A wide file of two samples (three columns) is not mistaken for long.
	m2 := m
	m2.samples, m2.cols = m.samples[:2], m.cols[:2]
	path = filepath.Join(dir, "two.arrow")
	arrowWriteTable(t, path, arrowWideSpec(m2, "utf8", arrow.PrimitiveTypes.Float64))
	arrowCheck(t, openArrowT(t, path, Options{}), m2)

	// No genes: a wide file keeps its samples.
	empty := arrowMatrix{samples: m.samples, cols: make([][]float64, 3)}
	for _, layout := range []string{LayoutWide, LayoutLong} {
		path = filepath.Join(dir, "empty-"+layout+".arrow")
		arrowWriteMatrix(t, path, empty, SinkOptions{Layout: layout})
		src := openArrowT(t, path, Options{Layout: layout})
		if len(src.Genes()) != 0 {
			t.Errorf("%s: %d genes, want 0", layout, len(src.Genes()))
		}
		if layout == LayoutWide && !slices.Equal(src.Samples(), m.samples) {
			t.Errorf("samples = %v, want %v", src.Samples(), m.samples)
		}
	}

	// No samples: a wide file keeps its genes.
	path = filepath.Join(dir, "genes-only.arrow")
	arrowWriteMatrix(t, path, arrowMatrix{genes: m.genes}, SinkOptions{})
	src := openArrowT(t, path, Options{})
	if !slices.Equal(src.Genes(), m.genes) || len(src.Samples()) != 0 {
		t.Errorf("genes-only: %d genes, %d samples", len(src.Genes()), len(src.Samples()))
	}

	// .ipc and .feather are Arrow too.
	for _, ext := range []string{".ipc", ".feather", ".arrow"} {
		if FormatOf("x"+ext) != FormatArrow {
			t.Errorf("FormatOf(x%s) = %s", ext, FormatOf("x"+ext))
		}
	}
}

func TestArrowSinkAbortAndNonInteger(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(23, 24))
	m := arrowRandMatrix(rng, 20, 3, true, false)
	for _, layout := range []string{LayoutWide, LayoutLong} {
		path := filepath.Join(dir, "out-"+layout+".arrow")
		sink, err := Create(path, m.genes, m.samples, SinkOptions{Layout: layout, Integer: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.WriteColumn(0, m.cols[0]); err != nil {
			t.Fatal(err)
		}
		bad := append([]float64(nil), m.cols[1]...)
		bad[4] = 2.5
		if err := sink.WriteColumn(1, bad); err == nil {
			t.Errorf("%s: writing 2.5 to an integer output: no error", layout)
		}
		if err := sink.Abort(); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Fatalf("%s: after Abort the folder holds %v", layout, entries[0].Name())
		}
		if err := sink.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%s: Commit after Abort made the file", layout)
		}
	}
}

// BenchmarkArrowRead reads every column of a wide file once (Open included),
// against the two ways arrow-go's reader offers: loading whole record
// batches for each column ("arrow-go-batches"), or once into a Spill
// ("arrow-go-spill", the batch-at-a-time transposition).
func BenchmarkArrowRead(b *testing.B) {
	const G, S = 20000, 200
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	m := arrowRandMatrix(rng, G, S, true, false)
	files := map[string]string{}
	for _, tc := range []struct {
		name  string
		vt    arrow.DataType
		opts  []ipc.Option
		batch int
	}{
		{"f64-plain", arrow.PrimitiveTypes.Float64, nil, 0},
		{"f64-plain-batch=1024", arrow.PrimitiveTypes.Float64, nil, 1024},
		{"i32-plain", arrow.PrimitiveTypes.Int32, nil, 0},
		{"f64-lz4", arrow.PrimitiveTypes.Float64, []ipc.Option{ipc.WithLZ4()}, 0},
		{"f64-zstd", arrow.PrimitiveTypes.Float64, []ipc.Option{ipc.WithZstd()}, 0},
	} {
		path := filepath.Join(dir, tc.name+".arrow")
		spec := arrowWideSpec(m, "utf8", tc.vt)
		spec.opts, spec.batchRows = tc.opts, tc.batch
		arrowWriteTable(b, path, spec)
		files[tc.name] = path
	}
	for _, name := range []string{"f64-plain", "f64-plain-batch=1024", "i32-plain", "f64-lz4", "f64-zstd"} {
		path := files[name]
		b.Run(fmt.Sprintf("genes=%d/samples=%d/%s/colnorm", G, S, name), func(b *testing.B) {
			b.SetBytes(G * S * 8)
			b.ReportAllocs()
			dst := make([]float64, G)
			for b.Loop() {
				src, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				for j := 0; j < S; j++ {
					if err := src.ReadColumn(j, dst); err != nil {
						b.Fatal(err)
					}
				}
				src.Close()
			}
		})
		if name == "f64-plain-batch=1024" || name == "i32-plain" {
			continue
		}
		b.Run(fmt.Sprintf("genes=%d/samples=%d/%s/arrow-go-spill", G, S, name), func(b *testing.B) {
			b.SetBytes(G * S * 8)
			b.ReportAllocs()
			dst := make([]float64, G)
			for b.Loop() {
				f, _ := os.Open(path)
				r, err := ipc.NewFileReader(f, ipc.WithBodySizeLimit(0))
				if err != nil {
					b.Fatal(err)
				}
				sp, _ := NewColumnSpill("", G, 0, DefaultSpillBudget)
				g0 := 0
				for k := 0; k < r.NumRecords(); k++ {
					rec, err := r.RecordBatchAt(k)
					if err != nil {
						b.Fatal(err)
					}
					for j := 0; j < S; j++ {
						vals := rec.Column(j + 1).(*array.Float64).Float64Values()
						sp.WriteColumnRange(j, g0, vals)
					}
					g0 += int(rec.NumRows())
					rec.Release()
				}
				for j := 0; j < S; j++ {
					sp.ReadColumn(j, dst)
				}
				sp.Close()
				r.Close()
				f.Close()
			}
		})
		b.Run(fmt.Sprintf("genes=%d/samples=%d/%s/arrow-go-batches", G, S, name), func(b *testing.B) {
			b.SetBytes(G * S * 8)
			b.ReportAllocs()
			dst := make([]float64, G)
			for b.Loop() {
				f, _ := os.Open(path)
				r, err := ipc.NewFileReader(f, ipc.WithBodySizeLimit(0))
				if err != nil {
					b.Fatal(err)
				}
				for j := 0; j < S; j++ {
					g0 := 0
					for k := 0; k < r.NumRecords(); k++ {
						rec, err := r.RecordBatchAt(k)
						if err != nil {
							b.Fatal(err)
						}
						g0 += copy(dst[g0:], rec.Column(j+1).(*array.Float64).Float64Values())
						rec.Release()
					}
				}
				r.Close()
				f.Close()
			}
		})
	}
}

// BenchmarkArrowLong opens a long table, sorted by sample or shuffled.
func BenchmarkArrowLong(b *testing.B) {
	const G, S = 20000, 100
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(2, 2))
	m := arrowRandMatrix(rng, G, S, true, false)
	rows := arrowLongRows(m)
	shuffled := append([][2]int(nil), rows...)
	rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
	for _, tc := range []struct {
		name string
		rows [][2]int
		kind string
	}{{"sorted", rows, "utf8"}, {"sorted-dict", rows, "dict"}, {"shuffled", shuffled, "utf8"}} {
		path := filepath.Join(dir, tc.name+".arrow")
		spec := arrowLongSpec(m, tc.rows, tc.kind, arrow.PrimitiveTypes.Int32)
		spec.batchRows = 1 << 16
		arrowWriteTable(b, path, spec)
		for _, budget := range []int{0, 4 << 20} {
			b.Run(fmt.Sprintf("genes=%d/samples=%d/%s/budget=%d", G, S, tc.name, budget), func(b *testing.B) {
				b.SetBytes(G * S * 8)
				b.ReportAllocs()
				for b.Loop() {
					src, err := Open(path, Options{SpillBudget: budget})
					if err != nil {
						b.Fatal(err)
					}
					src.Close()
				}
			})
		}
	}
}

// TestArrowReadColumnAllocs: reading a column of an uncompressed float64 file
// allocates nothing; other files allocate a few small objects per batch.
func TestArrowReadColumnAllocs(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(25, 26))
	m := arrowRandMatrix(rng, 2000, 4, true, true)
	for _, tc := range []struct {
		name string
		vt   arrow.DataType
		opts []ipc.Option
		max  float64
	}{
		{"f64", arrow.PrimitiveTypes.Float64, nil, 0},
		{"i32", arrow.PrimitiveTypes.Int32, nil, 20},
		{"f64-lz4", arrow.PrimitiveTypes.Float64, []ipc.Option{ipc.WithLZ4()}, 20},
	} {
		path := filepath.Join(dir, tc.name+".arrow")
		spec := arrowWideSpec(m, "utf8", tc.vt)
		spec.opts, spec.batchRows = tc.opts, 1000
		if tc.max == 0 {
			for _, col := range m.cols { // no nulls: the direct path
				for g := range col {
					if math.IsNaN(col[g]) {
						col[g] = 0
					}
				}
			}
		}
		arrowWriteTable(t, path, spec)
		src := openArrowT(t, path, Options{})
		dst := make([]float64, len(m.genes))
		allocs := testing.AllocsPerRun(20, func() {
			if err := src.ReadColumn(1, dst); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %v allocations per ReadColumn (2 batches)", tc.name, allocs)
		if allocs > tc.max {
			t.Errorf("%s: %v allocations per ReadColumn, want at most %v", tc.name, allocs, tc.max)
		}
	}
}

// TestArrowLegacyStream reads a stream in the pre-0.15 framing (no
// continuation marker before each message's length).
func TestArrowLegacyStream(t *testing.T) {
	arrowCheckedAlloc(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(27, 28))
	m := arrowRandMatrix(rng, 30, 3, true, true)
	path := filepath.Join(dir, "modern.arrows")
	spec := arrowWideSpec(m, "dict", arrow.PrimitiveTypes.Int32)
	spec.stream, spec.batchRows = true, 8
	arrowWriteTable(t, path, spec)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var legacy []byte
	for off := 0; off < len(data); {
		n := int(binary.LittleEndian.Uint32(data[off+4:])) // after the continuation marker
		if n == 0 {
			legacy = binary.LittleEndian.AppendUint32(legacy, 0)
			break
		}
		meta := data[off+8 : off+8+n]
		body := int(ipcRoot(meta).int64(ipcSlotMessageBodyLen, 0))
		legacy = binary.LittleEndian.AppendUint32(legacy, uint32(n))
		legacy = append(legacy, data[off+8:off+8+n+body]...)
		off += 8 + n + body
	}
	path = filepath.Join(dir, "legacy.ipc")
	if err := os.WriteFile(path, legacy, 0o644); err != nil {
		t.Fatal(err)
	}
	arrowCheck(t, openArrowT(t, path, Options{}), m)
}

// BenchmarkArrowSink writes a wide and a long file.
func BenchmarkArrowSink(b *testing.B) {
	const G, S = 20000, 200
	dir := b.TempDir()
	m := arrowRandMatrix(rand.New(rand.NewPCG(3, 3)), G, S, true, false)
	for _, layout := range []string{LayoutWide, LayoutLong} {
		b.Run(fmt.Sprintf("genes=%d/samples=%d/%s", G, S, layout), func(b *testing.B) {
			b.SetBytes(G * S * 8)
			b.ReportAllocs()
			path := filepath.Join(dir, "out.arrow")
			for b.Loop() {
				sink, err := Create(path, m.genes, m.samples, SinkOptions{Layout: layout})
				if err != nil {
					b.Fatal(err)
				}
				for j, col := range m.cols {
					if err := sink.WriteColumn(j, col); err != nil {
						b.Fatal(err)
					}
				}
				if err := sink.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
