package columnar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet fuzz targets: FuzzParquetWide and FuzzParquetLong open the input
// with the layout forced, so that each explores its own reader; both also
// try samples as rows (wide) and check what fuzzOpenAndRead checks, then a
// round trip through the Parquet writer.

// fuzzPQCodecs are the compressions the seeds are written with.
var fuzzPQCodecs = []compress.Codec{&parquet.Uncompressed, &parquet.Snappy, &parquet.Gzip, &parquet.Zstd, &parquet.Lz4Raw}

// fuzzPQWrite writes m with parquet-go's writer, as other tools do: wide
// (gene_id, then the samples) or long (gene, sample, value), with values of
// fx.kind, pages of the given data page version and codec.
func fuzzPQWrite(t testing.TB, m *pqMatrix, fx pqFixture, long bool, codec compress.Codec, pageVersion int) []byte {
	t.Helper()
	group := parquet.Group{}
	var names []string
	if long {
		names = []string{"gene", "sample", "value"}
		group["gene"] = fx.node(parquet.String(), true)
		group["sample"] = fx.node(parquet.String(), true)
		group["value"] = fx.node(pqLeaf(fx.kind), false)
	} else {
		names = append([]string{"gene_id"}, m.samples...)
		group["gene_id"] = fx.node(parquet.String(), true)
		for _, s := range m.samples {
			group[s] = fx.node(pqLeaf(fx.kind), false)
		}
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("columns must be in lexical order: %q then %q", names[i-1], names[i])
		}
	}
	path := filepath.Join(t.TempDir(), "seed.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := []parquet.WriterOption{parquet.NewSchema("m", group), parquet.Compression(codec), parquet.DataPageVersion(pageVersion)}
	if fx.rowGroup > 0 {
		opts = append(opts, parquet.MaxRowsPerRowGroup(fx.rowGroup))
	}
	if fx.pageBytes > 0 {
		opts = append(opts, parquet.PageBufferSize(fx.pageBytes))
	}
	w := parquet.NewWriter(f, opts...)
	var rows []parquet.Row
	for j := range m.samples {
		for g := range m.genes {
			if long {
				rows = append(rows, parquet.Row{
					parquet.ByteArrayValue([]byte(m.genes[g])).Level(0, 0, 0),
					parquet.ByteArrayValue([]byte(m.samples[j])).Level(0, 0, 1),
					fx.cell(m.cols[j][g], 2),
				})
			} else if j == 0 {
				row := parquet.Row{parquet.ByteArrayValue([]byte(m.genes[g])).Level(0, 0, 0)}
				for k := range m.samples {
					row = append(row, fx.cell(m.cols[k][g], k+1))
				}
				rows = append(rows, row)
			}
		}
	}
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fuzzPQDeltaSeed writes m with DELTA_LENGTH_BYTE_ARRAY strings and
// DELTA_BINARY_PACKED INT64 values, uncompressed, wide or long.
func fuzzPQDeltaSeed(t testing.TB, m *pqMatrix, long bool) []byte {
	t.Helper()
	str := parquet.Encoded(parquet.String(), &parquet.DeltaLengthByteArray)
	num := parquet.Encoded(parquet.Leaf(parquet.Int64Type), &parquet.DeltaBinaryPacked)
	group := parquet.Group{}
	var rows []parquet.Row
	if long {
		group["gene"], group["sample"], group["value"] = str, str, num
		for j := range m.samples {
			for g := range m.genes {
				rows = append(rows, parquet.Row{parquet.ByteArrayValue([]byte(m.genes[g])).Level(0, 0, 0),
					parquet.ByteArrayValue([]byte(m.samples[j])).Level(0, 0, 1), parquet.Int64Value(int64(m.cols[j][g])).Level(0, 0, 2)})
			}
		}
	} else {
		group["gene_id"] = str
		for _, s := range m.samples {
			group[s] = num
		}
		for g := range m.genes {
			row := parquet.Row{parquet.ByteArrayValue([]byte(m.genes[g])).Level(0, 0, 0)}
			for j := range m.samples {
				row = append(row, parquet.Int64Value(int64(m.cols[j][g])).Level(0, 0, j+1))
			}
			rows = append(rows, row)
		}
	}
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, parquet.NewSchema("m", group), parquet.Compression(&parquet.Uncompressed))
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fuzzPQSinkSeed writes m with our own Parquet writer.
func fuzzPQSinkSeed(t testing.TB, m *pqMatrix, opts SinkOptions) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sink.parquet")
	pqWriteSink(t, path, m, opts)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fuzzPQSeeds adds small files of every value type, encoding, codec and page
// version in the given layout.
func fuzzPQSeeds(f *testing.F, long bool) {
	ints := newPQMatrix(12, 3, 1, true, 0)
	intsNA := newPQMatrix(12, 3, 1, true, 0.2) // nulls, for optional columns
	fracs := newPQMatrix(12, 3, 2, false, 0)
	for i, kind := range []string{"int32", "int64", "uint32", "float", "double"} {
		for c, codec := range fuzzPQCodecs {
			m := ints
			if kind == "float" || kind == "double" {
				m = fracs
			}
			fx := pqFixture{kind: kind, dict: (i+c)%2 == 0, optional: c%2 == 0}
			if fx.optional && m == ints {
				m = intsNA
			}
			if c == 1 {
				fx.rowGroup = 5 // several row groups
			}
			f.Add(fuzzPQWrite(f, m, fx, long, codec, 1+(i+c)%2), false)
		}
	}
	f.Add(fuzzPQDeltaSeed(f, ints, long), false)
	layout := LayoutWide
	if long {
		layout = LayoutLong
	}
	f.Add(fuzzPQSinkSeed(f, intsNA, SinkOptions{Layout: layout}), false)
	f.Add(fuzzPQSinkSeed(f, newPQMatrix(12, 3, 3, true, 0), SinkOptions{Layout: layout, Integer: true}), !long)
	f.Add(fuzzPQSinkSeed(f, fracs, SinkOptions{Layout: layout}), !long)
}

// FuzzParquetWide feeds the wide Parquet reader, with genes as rows or
// samples as rows.
func FuzzParquetWide(f *testing.F) {
	fuzzPQSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte, samplesAsRows bool) {
		path := fuzzWriteInput(t, "in.parquet", data)
		m := fuzzOpenAndRead(t, path, len(data), Options{Layout: LayoutWide, SamplesAsRows: samplesAsRows, TempDir: t.TempDir(), SpillBudget: 1 << 12})
		fuzzRoundTrip(t, m, "rt.parquet", SinkOptions{}, Options{Layout: LayoutWide})
	})
}

// FuzzParquetLong feeds the long (gene, sample, value) Parquet reader.
func FuzzParquetLong(f *testing.F) {
	fuzzPQSeeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte, _ bool) {
		path := fuzzWriteInput(t, "in.parquet", data)
		m := fuzzOpenAndRead(t, path, len(data), Options{Layout: LayoutLong, TempDir: t.TempDir(), SpillBudget: 1 << 12})
		fuzzRoundTrip(t, m, "rt.parquet", SinkOptions{Layout: LayoutLong}, Options{Layout: LayoutLong})
	})
}

// pqDamagePage rewrites the compressed block of the first data page of
// column c of a Parquet file with damage and, as long as the header keeps its
// length, sets the page's checksum to match (other writers write none).
func pqDamagePage(t *testing.T, data []byte, c int, damage func(block []byte, attempt int)) {
	t.Helper()
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	off := pf.Metadata().RowGroups[0].Columns[c].MetaData.DataPageOffset
	var h format.PageHeader
	r := new(thrift.CompactProtocol).NewReaderFromBytes(data[off:])
	if err := thrift.NewDecoder(r).Decode(&h); err != nil {
		t.Fatal(err)
	}
	headerLen := int64(r.BytesRead())
	page := data[off+headerLen : off+headerLen+int64(h.CompressedPageSize)]
	block := page
	if v2 := h.DataPageHeaderV2; v2.Valid {
		block = page[v2.V.RepetitionLevelsByteLength+v2.V.DefinitionLevelsByteLength:]
	}
	for attempt := 0; attempt < 256; attempt++ {
		damage(block, attempt)
		h.CRC = int32(crc32.ChecksumIEEE(page))
		header, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(header)) == headerLen {
			copy(data[off:], header)
			return
		}
	}
	t.Fatal("found no damage whose checksum encodes in the header's length")
}

// pqReadDamaged opens data, reads sample 0 (undamaged) and returns the error
// of reading sample 1 (column 2, damaged), and the bytes allocated meanwhile.
func pqReadDamaged(t *testing.T, data []byte, genes int) (error, uint64) {
	t.Helper()
	path := fuzzWriteInput(t, "damaged.parquet", data)
	before := fuzzTotalAlloc()
	src, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := make([]float64, genes)
	if err := src.ReadColumn(0, dst); err != nil {
		t.Errorf("the undamaged sample: %v", err)
	}
	err = src.ReadColumn(1, dst)
	return err, fuzzTotalAlloc() - before
}

// TestParquetDamagedLZ4Page: an LZ4_RAW page whose block never decodes is
// refused as damaged input. parquet-go v0.32.0 retries a failed LZ4 block
// with a doubled buffer without end, so that before checkCompressedPage
// such a page allocated until the process ran out of memory.
func TestParquetDamagedLZ4Page(t *testing.T) {
	m := newPQMatrix(12, 3, 1, true, 0)
	for _, version := range []int{1, 2} {
		data := fuzzPQWrite(t, m, pqFixture{kind: "int64"}, false, &parquet.Lz4Raw, version)
		// Fill the block with 0xFF, a literal run that claims more bytes than
		// the block has.
		pqDamagePage(t, data, 2, func(block []byte, attempt int) {
			for i := range block {
				block[i] = 0xFF
			}
			block[len(block)-1] = byte(attempt)
		})
		err, _ := pqReadDamaged(t, data, len(m.genes))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "LZ4_RAW") {
			t.Errorf("page version %d: damaged LZ4_RAW page: got %v, want an input error about it", version, err)
		}
	}
}

// TestParquetSnappyLengthBomb: a snappy block whose length prefix claims
// 4 GiB in a page that declares a few hundred bytes is refused before
// snappy.Decode allocates the 4 GiB (FuzzParquetWide's allocation check:
// 2 GiB for a 1.5 kB DuckDB file with the prefix of one page set to
// ff ff ff ff 07).
func TestParquetSnappyLengthBomb(t *testing.T) {
	m := newPQMatrix(12, 3, 1, true, 0)
	for _, version := range []int{1, 2} {
		data := fuzzPQWrite(t, m, pqFixture{kind: "int64"}, false, &parquet.Snappy, version)
		pqDamagePage(t, data, 2, func(block []byte, attempt int) {
			copy(block, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F})
			block[len(block)-1] = byte(attempt)
		})
		err, used := pqReadDamaged(t, data, len(m.genes))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "SNAPPY") {
			t.Errorf("page version %d: snappy length bomb: got %v, want an input error about it", version, err)
		}
		if used > 64<<20 {
			t.Errorf("page version %d: allocated %d MiB", version, used>>20)
		}
	}
}

// TestParquetPageSizeBeyondRatio: a compressed page that declares more
// uncompressed bytes than its codec can expand its data to is refused
// before parquet-go allocates them.
func TestParquetPageSizeBeyondRatio(t *testing.T) {
	for _, tc := range []struct {
		codec format.CompressionCodec
		size  int32
		ok    bool
	}{
		{format.Zstd, 1 << 30, false},
		{format.Zstd, pqPageSlack + 100<<16, true},
		{format.Gzip, pqPageSlack + 110001, false},
		{format.Gzip, pqPageSlack + 110000, true},
		{format.Snappy, 1 << 20, false},
		{format.Lz4Raw, 1 << 20, false},
	} {
		// 100 zero bytes decompress with none of the codecs: a size within
		// the bound fails at decompressing, one beyond it before.
		_, _, err := pqDecompress(tc.codec, make([]byte, 100), tc.size, nil)
		beyond := err != nil && strings.Contains(err.Error(), "cannot decompress to")
		if err == nil || beyond == tc.ok {
			t.Errorf("%v, 100 bytes declaring %d: got %v", tc.codec, tc.size, err)
		}
	}
}

// TestParquetHybridRuns: run-length/bit-packed hybrid runs are decoded into
// the page's count of values, and runs that hold more than the page's
// values are refused. FuzzParquetWide found a DuckDB page whose dictionary
// index run said it repeated a value about 2^30 times: parquet-go allocated
// 4.6 GB for a 1.8 kB file (testdata/fuzz/FuzzParquetWide/e47bbb899f007928).
func TestParquetHybridRuns(t *testing.T) {
	uvarint := func(u uint64) []byte { return binary.AppendUvarint(nil, u) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name  string
		src   []byte
		width uint
		n     int // values wanted
		limit int
		want  []int32 // nil: an error
	}{
		{"one run of 10", cat(uvarint(10<<1), []byte{3}), 2, 10, 10, []int32{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}},
		{"one run of 11", cat(uvarint(11<<1), []byte{3}), 2, 10, 10, nil},
		{"two runs of 2", cat(uvarint(2<<1), []byte{1}, uvarint(2<<1), []byte{2}), 8, 4, 4, []int32{1, 1, 2, 2}},
		{"a wide value", cat(uvarint(1<<1), []byte{0x01, 0x02, 0x03}), 20, 1, 1, []int32{0x030201 & (1<<20 - 1)}},
		{"2^30 repeats", cat(uvarint(1<<31), []byte{0, 0, 0, 0}), 32, 1000, 1000, nil},
		// 8 values of 3 bits: 0..7, least significant bits first
		{"bit-packed", cat(uvarint(1<<1|1), []byte{0x88, 0xc6, 0xfa}), 3, 8, 8, []int32{0, 1, 2, 3, 4, 5, 6, 7}},
		{"bit-packed, padded", cat(uvarint(1<<1|1), []byte{0x88, 0xc6, 0xfa}), 3, 5, 5, []int32{0, 1, 2, 3, 4}},
		{"bit-packed, too many", cat(uvarint(3<<1|1), []byte{0, 0, 0}), 1, 10, 10, nil},
		{"short", cat(uvarint(2<<1), []byte{1}), 1, 3, 3, nil},
		{"truncated header", []byte{0x80}, 1, 1, 1, nil},
		{"empty", nil, 1, 0, 0, []int32{}},
	} {
		dst := make([]int32, tc.n)
		err := pqDecodeHybrid(dst, tc.src, tc.width, tc.limit)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%s: decoded %v, want an error", tc.name, dst)
		case tc.want != nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != nil && !slices.Equal(dst, tc.want):
			t.Errorf("%s: got %v, want %v", tc.name, dst, tc.want)
		}
	}
}

// TestParquetAllDefined: definition levels that are runs of ones over the
// page's rows mean no nulls (the page keeps no levels); a zero, a
// bit-packed run, too few levels or a damaged run mean the levels are
// decoded one by one.
func TestParquetAllDefined(t *testing.T) {
	uvarint := func(u uint64) []byte { return binary.AppendUvarint(nil, u) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name   string
		levels []byte
		n      int
		want   bool
	}{
		{"one run", cat(uvarint(100<<1), []byte{1}), 100, true},
		{"two runs", cat(uvarint(60<<1), []byte{1}, uvarint(40<<1), []byte{1}), 100, true},
		{"a run of zeros", cat(uvarint(60<<1), []byte{1}, uvarint(40<<1), []byte{0}), 100, false},
		{"bit-packed ones", cat(uvarint(1<<1|1), []byte{0xff}), 8, false},
		{"too few", cat(uvarint(99<<1), []byte{1}), 100, false},
		{"too many", cat(uvarint(101<<1), []byte{1}), 100, false},
		{"truncated", []byte{0x80}, 1, false},
	} {
		if got := pqAllDefined(tc.levels, tc.n); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestParquetFooterListBomb: a footer list that claims more elements than
// the footer has bytes is refused before parquet-go allocates them.
// FuzzParquetLong found a 5.3 kB file whose footer made parquet-go's Thrift
// decoder allocate 927 MB for a list of column orders
// (testdata/fuzz/FuzzParquetLong/644eb0c1769a8843).
func TestParquetFooterListBomb(t *testing.T) {
	uvarint := func(u uint64) []byte { return binary.AppendUvarint(nil, u) }
	for _, tc := range []struct {
		name   string
		footer []byte
		ok     bool
	}{
		// field 1 (i32) = 1, field 2 (list of structs) of 2 empty structs, stop
		{"small list", []byte{0x15, 0x02, 0x19, 0x2c, 0x00, 0x00, 0x00}, true},
		// field 7 (list of structs) claiming 2^28 elements in 1 byte
		{"list bomb", append(append([]byte{0x79, 0xfc}, uvarint(1<<28)...), 0x00, 0x00), false},
		// field 1 (binary) claiming 1 GiB
		{"binary bomb", append(append([]byte{0x18}, uvarint(1<<30)...), 'x', 0x00), false},
		// field 1 (map of i32 to i32) claiming 2^20 pairs
		{"map bomb", append(append([]byte{0x1b}, uvarint(1<<20)...), 0x55, 0x00), false},
		{"truncated", []byte{0x15}, false},
	} {
		w := pqThriftWalker{b: tc.footer}
		w.skip(pqThriftStruct, 0)
		if (w.err == nil) != tc.ok {
			t.Errorf("%s: got %v", tc.name, w.err)
		}
	}
}
