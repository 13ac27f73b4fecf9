package columnar

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"
)

// Output options: float32, codecs, row groups, metadata, Arrow streams on
// standard output.

func TestOutputFormatOf(t *testing.T) {
	for path, want := range map[string]string{
		"": FormatTSV, "-": FormatTSV, "-.arrow": FormatArrowStream, "-.parquet": FormatParquet, "-.csv": FormatCSV,
		"x.tsv": FormatTSV, "x.csv.gz": FormatCSV, "x.arrow": FormatArrow, "x.feather": FormatArrow,
		"x.arrows": FormatArrowStream, "x.parquet": FormatParquet,
	} {
		if got := OutputFormatOf(path); got != want {
			t.Errorf("OutputFormatOf(%q) = %q, want %q", path, got, want)
		}
	}
}

// outMeta is the metadata the tests write.
func outMeta() *Metadata {
	m := &Metadata{}
	m.Set("colnorm.version", "test")
	m.Set("colnorm.size_factors", `{"s000":1.5}`)
	m.Set("colnorm.version", "test2") // replaces, keeps the position
	return m
}

func TestMetadataSet(t *testing.T) {
	k, v := outMeta().Pairs()
	if fmt.Sprint(k, v) != `[colnorm.version colnorm.size_factors] [test2 {"s000":1.5}]` {
		t.Errorf("pairs %v %v", k, v)
	}
	var nilMeta *Metadata
	if nilMeta.Len() != 0 {
		t.Error("a nil Metadata is not empty")
	}
}

// TestParquetOutputOptions writes every codec, float32 and several wide row
// groups (whose column chunks are apart in the file), and reads them back
// with our reader and with parquet-go's footer reader.
func TestParquetOutputOptions(t *testing.T) {
	m := newPQMatrix(2500, 5, 3, false, 0)
	dir := t.TempDir()
	for _, codec := range Compressions {
		for _, f32 := range []bool{false, true} {
			for _, layout := range []string{LayoutWide, LayoutLong} {
				name := fmt.Sprintf("%s-%s-f32=%v", codec, layout, f32)
				t.Run(name, func(t *testing.T) {
					path := filepath.Join(dir, name+".parquet")
					pqWriteSink(t, path, m, SinkOptions{Layout: layout, Float32: f32, Compression: codec, RowGroupRows: 1000, Metadata: outMeta()})
					f, err := os.Open(path)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					st, _ := f.Stat()
					pf, err := parquet.OpenFile(f, st.Size())
					if err != nil {
						t.Fatal(err)
					}
					wantGroups := 3 // 2,500 genes in groups of 1,000
					if layout == LayoutLong {
						wantGroups = 13 // 12,500 rows
					}
					if n := len(pf.RowGroups()); n != wantGroups {
						t.Errorf("%d row groups, want %d", n, wantGroups)
					}
					md := pf.Metadata()
					wantCodec := map[string]string{"zstd": "ZSTD", "snappy": "SNAPPY", "gzip": "GZIP", "none": "UNCOMPRESSED"}[codec]
					for _, rg := range md.RowGroups {
						for _, c := range rg.Columns {
							if c.MetaData.Codec.String() != wantCodec {
								t.Fatalf("codec %s, want %s", c.MetaData.Codec, wantCodec)
							}
						}
					}
					wantType := "DOUBLE"
					if f32 {
						wantType = "FLOAT"
					}
					if typ := md.Schema[len(md.Schema)-1].Type.V.String(); typ != wantType {
						t.Errorf("value type %s, want %s", typ, wantType)
					}
					if v, ok := pf.Lookup("colnorm.size_factors"); !ok || v != `{"s000":1.5}` {
						t.Errorf("colnorm.size_factors = %q, %v", v, ok)
					}
					src, err := Open(path, Options{})
					if err != nil {
						t.Fatal(err)
					}
					defer src.Close()
					col := make([]float64, len(m.genes))
					for j := range m.samples {
						if err := src.ReadColumn(j, col); err != nil {
							t.Fatal(err)
						}
						for g, v := range col {
							want := m.cols[j][g]
							if f32 {
								want = float64(float32(want))
							}
							if v != want {
								t.Fatalf("%s, %s: read %v, want %v", m.samples[j], m.genes[g], v, want)
							}
						}
					}
				})
			}
		}
	}
}

// TestArrowStreamToStdout writes "-.arrow" to a buffer and reads it with
// arrow-go's stream reader: the schema, its metadata and every value.
func TestArrowStreamToStdout(t *testing.T) {
	m := newPQMatrix(300, 4, 5, false, 0.02)
	for _, layout := range []string{LayoutWide, LayoutLong} {
		for _, f32 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s-f32=%v", layout, f32), func(t *testing.T) {
				var out bytes.Buffer
				pqWriteSink(t, "-.arrow", m, SinkOptions{Layout: layout, Float32: f32, Stdout: &out, Metadata: outMeta()})
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				r, err := ipc.NewReader(bytes.NewReader(out.Bytes()), ipc.WithAllocator(mem))
				if err != nil {
					t.Fatal(err)
				}
				defer r.Release()
				if v, ok := r.Schema().Metadata().GetValue("colnorm.size_factors"); !ok || v != `{"s000":1.5}` {
					t.Errorf("schema metadata %v", r.Schema().Metadata())
				}
				wantType := arrow.PrimitiveTypes.Float64.ID()
				if f32 {
					wantType = arrow.PrimitiveTypes.Float32.ID()
				}
				G := len(m.genes)
				row := 0
				for r.Next() {
					rec := r.RecordBatch()
					for k := 1; k < int(rec.NumCols()); k++ {
						if rec.Column(k).DataType().ID() != wantType && (layout == LayoutWide || k == 2) {
							t.Fatalf("column %d is %s", k, rec.Column(k).DataType())
						}
					}
					for i := 0; i < int(rec.NumRows()); i, row = i+1, row+1 {
						val := func(c arrow.Array) float64 {
							if f, ok := c.(*array.Float32); ok {
								return float64(f.Value(i))
							}
							return c.(*array.Float64).Value(i)
						}
						if layout == LayoutWide {
							for j := range m.samples {
								checkF(t, val(rec.Column(j+1)), m.cols[j][row], f32, m.samples[j], m.genes[row])
							}
							continue
						}
						g, j := row%G, row/G
						if gene := rec.Column(0).(*array.String).Value(i); gene != m.genes[g] {
							t.Fatalf("row %d: gene %s, want %s", row, gene, m.genes[g])
						}
						checkF(t, val(rec.Column(2)), m.cols[j][g], f32, m.samples[j], m.genes[g])
					}
				}
				if r.Err() != nil {
					t.Fatal(r.Err())
				}
				want := G
				if layout == LayoutLong {
					want = G * len(m.samples)
				}
				if row != want {
					t.Errorf("%d rows, want %d", row, want)
				}
			})
		}
	}
}

func checkF(t *testing.T, got, want float64, f32 bool, sample, gene string) {
	t.Helper()
	if f32 {
		want = float64(float32(want))
	}
	if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Fatalf("%s, %s: %v, want %v", sample, gene, got, want)
	}
}

// TestTextFloat32 checks that --float32 text is the float32's shortest form.
func TestTextFloat32(t *testing.T) {
	m := newPQMatrix(50, 3, 9, false, 0)
	var out bytes.Buffer
	pqWriteSink(t, "-", m, SinkOptions{Float32: true, Stdout: &out})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for g, l := range lines[1:] {
		for j, f := range strings.Split(l, "\t")[1:] {
			want := strconv.FormatFloat(float64(float32(m.cols[j][g])), 'g', -1, 32)
			if f != want {
				t.Fatalf("%s, %s: %q, want %q", m.samples[j], m.genes[g], f, want)
			}
		}
	}
}

func TestCreateRejectsUnknownOptions(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "x.parquet"), nil, nil, SinkOptions{Compression: "lz4"}); err == nil {
		t.Error("lz4 accepted")
	}
	if _, err := Create(filepath.Join(t.TempDir(), "x.parquet"), nil, nil, SinkOptions{Format: "xlsx"}); err == nil {
		t.Error("xlsx accepted")
	}
}

func TestWideGroupRows(t *testing.T) {
	for _, c := range []struct{ genes, samples, want int }{
		{60000, 400, 16384},     // 4 row groups, 1,604 chunks
		{5088, 10, 16384},       // one
		{60000, 17000, 20000},   // 3 row groups: 51,003 chunks, where 16,384 genes would make 4 (68,004)
		{60000, 1000000, 60000}, // one row group whatever
		{250000, 100, 16384},    // transcripts: 16 row groups
		{0, 5, 16384},
	} {
		rows := pqWideGroupRows(c.genes, c.samples)
		if rows != c.want {
			t.Errorf("%d genes x %d samples: %d genes a row group, want %d", c.genes, c.samples, rows, c.want)
		}
		if groups := (c.genes + rows - 1) / rows; groups > 1 && groups*(c.samples+1) > pqWideMaxChunks {
			t.Errorf("%d genes x %d samples: %d row groups make %d chunks", c.genes, c.samples, groups, groups*(c.samples+1))
		}
	}
}

// TestParquetToStdout writes "-.parquet" to a buffer: a whole Parquet file,
// written in one pass with nothing to seek, that parquet-go opens.
func TestParquetToStdout(t *testing.T) {
	m := newPQMatrix(1200, 3, 4, true, 0)
	var out bytes.Buffer
	pqWriteSink(t, "-.parquet", m, SinkOptions{Integer: true, Stdout: &out, RowGroupRows: 500, Metadata: outMeta()})
	pf, err := parquet.OpenFile(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.RowGroups()); n != 3 {
		t.Errorf("%d row groups, want 3", n)
	}
	if v, _ := pf.Lookup("colnorm.version"); v != "test2" {
		t.Errorf("colnorm.version %q", v)
	}
	if pf.NumRows() != 1200 {
		t.Errorf("%d rows", pf.NumRows())
	}
	var first int64
	for _, rg := range pf.RowGroups() {
		col := rg.ColumnChunks()[1] // sample s000
		pages := col.Pages()
		p, err := pages.ReadPage()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]int64, p.NumValues())
		if n, _ := p.Values().(parquet.Int64Reader).ReadInt64s(vals); n != len(vals) {
			t.Fatalf("read %d of %d values", n, len(vals))
		}
		for i, v := range vals {
			if float64(v) != m.cols[0][first+int64(i)] {
				t.Fatalf("gene %d: %d, want %v", first+int64(i), v, m.cols[0][first+int64(i)])
			}
		}
		first += int64(len(vals))
		pages.Close()
	}
	if first != 1200 {
		t.Errorf("read %d values of s000", first)
	}
}

// Integer outputs with Int32 are INT32 columns in Parquet, wide and long,
// with the values exact from int32's minimum to its maximum; a value beyond
// int32 is an error naming the sample and the gene, and nothing is written.
func TestParquetInt32(t *testing.T) {
	m := newPQMatrix(300, 4, 11, true, 0)
	m.cols[1][7], m.cols[2][8], m.cols[3][9] = math.MaxInt32, math.MinInt32, -5
	dir := t.TempDir()
	for _, layout := range []string{LayoutWide, LayoutLong} {
		path := filepath.Join(dir, layout+".parquet")
		pqWriteSink(t, path, m, SinkOptions{Layout: layout, Integer: true, Int32: true, Compression: CompressionSnappy, RowGroupRows: 100})
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		md := pf.Metadata()
		if typ := md.Schema[len(md.Schema)-1].Type.V.String(); typ != "INT32" {
			t.Errorf("%s: value type %s, want INT32", layout, typ)
		}
		f.Close()
		src, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !src.Integer() {
			t.Errorf("%s: the source does not say integer", layout)
		}
		col := make([]float64, len(m.genes))
		for j := range m.samples {
			if err := src.ReadColumn(j, col); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(col, m.cols[j]) {
				t.Fatalf("%s: sample %s reads back differently", layout, m.samples[j])
			}
		}
		src.Close()
	}
	m.cols[2][5] = math.MaxInt32 + 1
	path := filepath.Join(dir, "over.parquet")
	sink, err := Create(path, m.genes, m.samples, SinkOptions{Integer: true, Int32: true})
	if err != nil {
		t.Fatal(err)
	}
	for j, col := range m.cols {
		if err = sink.WriteColumn(j, col); err != nil {
			break
		}
	}
	if err == nil {
		err = sink.Commit()
	}
	sink.Abort()
	if err == nil || !strings.Contains(err.Error(), "sample "+m.samples[2]+", gene "+m.genes[5]) {
		t.Errorf("2^31 in an INT32 output: %v; want an error naming %s and %s", err, m.samples[2], m.genes[5])
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a file was left at %s", path)
	}
}
