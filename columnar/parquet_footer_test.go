package columnar

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// pqFooterFixtures returns Parquet files of many shapes, by name: parquet-go's
// writer with every value type, codec, page version, dictionary or plain,
// optional or required, one or several row groups; delta encodings; our own
// sink's outputs; a file with pandas metadata; and the DuckDB-written fuzz
// seeds of testdata.
func pqFooterFixtures(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	ints := newPQMatrix(40, 3, 1, true, 0)
	intsNA := newPQMatrix(40, 3, 1, true, 0.2)
	fracs := newPQMatrix(40, 3, 2, false, 0)
	for _, long := range []bool{false, true} {
		for i, kind := range []string{"int32", "int64", "uint32", "float", "double"} {
			for c, codec := range append(fuzzPQCodecs, &parquet.Brotli) {
				m := ints
				if kind == "float" || kind == "double" {
					m = fracs
				}
				fx := pqFixture{kind: kind, dict: (i+c)%2 == 0, optional: c%2 == 0, rowGroup: int64(7 * (c % 3))}
				if fx.optional && m == ints {
					m = intsNA
				}
				name := kind + "-" + codec.String() + "-v" + strconv.Itoa(1+(i+c)%2) + "-long=" + strconv.FormatBool(long)
				files[name] = fuzzPQWrite(t, m, fx, long, codec, 1+(i+c)%2)
			}
		}
		files["delta-long="+strconv.FormatBool(long)] = fuzzPQDeltaSeed(t, ints, long)
	}
	files["sink-nulls"] = fuzzPQSinkSeed(t, intsNA, SinkOptions{})
	files["sink-long"] = fuzzPQSinkSeed(t, ints, SinkOptions{Layout: LayoutLong, Integer: true})
	files["sink-float"] = fuzzPQSinkSeed(t, fracs, SinkOptions{Float32: true})
	files["sink-big"] = fuzzPQSinkSeed(t, newPQMatrix(20000, 4, 5, true, 0), SinkOptions{Integer: true})

	var buf bytes.Buffer
	group := parquet.Group{"gene": parquet.String(), "a": parquet.Leaf(parquet.Int64Type),
		"d": parquet.Decimal(2, 9, parquet.Int32Type), "u": parquet.Uint(16), "ts": parquet.Timestamp(parquet.Millisecond)}
	w := parquet.NewWriter(&buf, parquet.NewSchema("m", group), parquet.KeyValueMetadata("other", "x"),
		parquet.KeyValueMetadata("pandas", `{"index_columns": ["gene"]}`))
	if _, err := w.WriteRows([]parquet.Row{{parquet.Int64Value(1).Level(0, 0, 0), parquet.Int32Value(5).Level(0, 0, 1),
		parquet.ByteArrayValue([]byte("g")).Level(0, 0, 2), parquet.Int64Value(7).Level(0, 0, 3), parquet.Int32Value(3).Level(0, 0, 4)}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files["pandas-logical-types"] = buf.Bytes()

	for _, target := range []string{"FuzzParquetWide", "FuzzParquetLong"} {
		dir := filepath.Join("testdata", "fuzz", target)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), "duckdb_") {
				continue
			}
			text, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(text), "\n")
			data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			files[e.Name()] = []byte(data)
		}
	}
	return files
}

// TestParquetFooterParse: pqParseFooter's FileMetaData fields equal
// parquet-go's parse of the same footers, and pqParseOffsetIndex's page
// locations parquet-go's offset indexes.
func TestParquetFooterParse(t *testing.T) {
	files := pqFooterFixtures(t)
	var chunks, indexes, duck int
	for name, data := range files {
		n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
		meta, err := pqParseFooter(data[len(data)-8-n : len(data)-8])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: parquet-go: %v", name, err)
		}
		md := pf.Metadata()
		if meta.numRows != md.NumRows {
			t.Errorf("%s: num_rows %d, parquet-go %d", name, meta.numRows, md.NumRows)
		}
		if len(meta.schema) != len(md.Schema) {
			t.Errorf("%s: %d schema elements, parquet-go %d", name, len(meta.schema), len(md.Schema))
		}
		for i := range min(len(meta.schema), len(md.Schema)) {
			got, want := reflect.ValueOf(meta.schema[i]), reflect.ValueOf(md.Schema[i])
			for f := range got.NumField() {
				if !reflect.DeepEqual(got.Field(f).Interface(), want.Field(f).Interface()) {
					t.Errorf("%s: schema element %d: %s %+v, parquet-go %+v", name, i, got.Type().Field(f).Name, got.Field(f), want.Field(f))
				}
			}
		}
		var pandas *string
		for _, kv := range md.KeyValueMetadata {
			if kv.Key == "pandas" && pandas == nil {
				pandas = &kv.Value
			}
		}
		if (pandas != nil) != meta.hasPandas || pandas != nil && *pandas != meta.pandas {
			t.Errorf("%s: pandas metadata %v %q, parquet-go %v", name, meta.hasPandas, meta.pandas, pandas)
		}
		if len(meta.groupRows) != len(md.RowGroups) || len(meta.groupCols) != len(md.RowGroups) {
			t.Errorf("%s: %d row groups, parquet-go %d", name, len(meta.groupRows), len(md.RowGroups))
			continue
		}
		k := 0
		for g, rg := range md.RowGroups {
			if meta.groupRows[g] != rg.NumRows || int(meta.groupCols[g]) != len(rg.Columns) {
				t.Errorf("%s: row group %d: %d rows, %d columns; parquet-go %d, %d", name, g, meta.groupRows[g], meta.groupCols[g], rg.NumRows, len(rg.Columns))
			}
			for c, cc := range rg.Columns {
				got := meta.chunks[k]
				k++
				want := pqChunkMeta{dataOffset: cc.MetaData.DataPageOffset, dictOffset: cc.MetaData.DictionaryPageOffset,
					compressedSize: cc.MetaData.TotalCompressedSize, numValues: cc.MetaData.NumValues,
					indexOffset: cc.OffsetIndexOffset, indexLength: cc.OffsetIndexLength, codec: cc.MetaData.Codec}
				if got != want {
					t.Errorf("%s: row group %d, column %d: %+v, parquet-go %+v", name, g, c, got, want)
				}
				chunks++
				if strings.HasPrefix(name, "duckdb_") {
					duck++
				}
				if cc.OffsetIndexOffset == 0 {
					continue
				}
				fc := pf.RowGroups()[g].ColumnChunks()[c].(*parquet.FileColumnChunk)
				oi, err := fc.OffsetIndex()
				if err != nil {
					t.Fatalf("%s: parquet-go: %v", name, err)
				}
				locs, err := pqParseOffsetIndex(data[cc.OffsetIndexOffset:cc.OffsetIndexOffset+int64(cc.OffsetIndexLength)], nil)
				if err != nil {
					t.Errorf("%s: row group %d, column %d: %v", name, g, c, err)
					continue
				}
				if len(locs) != oi.NumPages() {
					t.Errorf("%s: row group %d, column %d: %d pages, parquet-go %d", name, g, c, len(locs), oi.NumPages())
					continue
				}
				for i, loc := range locs {
					if loc.offset != oi.Offset(i) || loc.firstRow != oi.FirstRowIndex(i) {
						t.Errorf("%s: row group %d, column %d, page %d: %+v, parquet-go offset %d first row %d", name, g, c, i, loc, oi.Offset(i), oi.FirstRowIndex(i))
					}
				}
				indexes++
			}
		}
		if k != len(meta.chunks) {
			t.Errorf("%s: %d chunks, parquet-go %d", name, len(meta.chunks), k)
		}
	}
	if len(files) < 60 || duck == 0 || indexes == 0 {
		t.Errorf("%d files, %d chunks (%d from DuckDB), %d offset indexes: fixtures missing", len(files), chunks, duck, indexes)
	}
	t.Logf("%d files, %d column chunks (%d written by DuckDB), %d offset indexes", len(files), chunks, duck, indexes)
}

// TestParquetFooterParseRefuses: a footer whose fields have the wrong
// Thrift types, or that ends early, is refused with an error, not read as
// zeros.
func TestParquetFooterParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		footer []byte
	}{
		{"num_rows as binary", []byte{0x38, 0x01, 'x', 0x00}},                                    // field 3, type binary
		{"schema as i32", []byte{0x25, 0x02, 0x00}},                                              // field 2, type i32
		{"schema of i32s", []byte{0x29, 0x15, 0x02, 0x00}},                                       // field 2, list of one i32
		{"ends early", []byte{0x36}},                                                             // field 3 (i64) and no value
		{"i32 out of range", []byte{0x29, 0x1c, 0x15, 0xfe, 0xff, 0xff, 0xff, 0x1f, 0x00, 0x00}}, // schema[0].type = 2^32-1
	} {
		if _, err := pqParseFooter(tc.footer); err == nil {
			t.Errorf("%s: parsed", tc.name)
		}
	}
	// A well-formed footer, for contrast: num_rows 3 and an empty schema list.
	m, err := pqParseFooter([]byte{0x29, 0x0c, 0x16, 0x06, 0x00})
	if err != nil || m.numRows != 3 || len(m.schema) != 0 {
		t.Errorf("a good footer: %+v, %v", m, err)
	}
}
