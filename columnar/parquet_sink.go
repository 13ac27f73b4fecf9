package columnar

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet writing.
//
// Columns arrive one at a time in sample order, and the footer of a Parquet
// file says where every column chunk starts, so a wide matrix's column
// chunks are streamed to the file as the columns arrive: the gene id chunks
// at once, then each sample's chunks. Memory is one column's pages whatever
// the number of samples, and nothing goes through a temporary file (the
// output can be a pipe). A long table is written in row groups of
// pqLongRowGroupRows rows (gene id and sample id dictionary-encoded, values
// plain), buffering one row group of values.
//
// Row groups. DuckDB scans a file with one thread per row group, Polars
// reads row groups (or, for wide files, columns) in parallel, and both
// skip row groups by their min/max statistics (written for every column,
// ids included); each row group costs a footer entry per column (about 85
// bytes) and, in long files, its own dictionaries. Measured with DuckDB 1.1
// (2 threads, bench/harness/rowgroups) on a generated 60,000 x 400 matrix:
//   - wide: a filter on one gene id took 0.22 to 0.57 s (three runs, best
//     of 3 to 5 each) with one row group (a scan of every sample) and 0.11
//     to 0.13 s with 4 groups of 16,384 genes (the other groups skipped by
//     the gene id statistics: ids in sorted order; unsorted ids still give
//     DuckDB a row group per thread), while the sum of a sample column took
//     2 to 6 ms either way. So row groups hold
//     pqWideRowGroupRows (16,384) genes, but no more than pqWideMaxChunks
//     (65,536) column chunks are made in all: at 17,000 samples that is 3
//     row groups of 20,000 genes and a footer of about 4 MB that every
//     reader parses (16,384-gene groups would make 4, and many more at a
//     million samples, which get one row group).
//     Column chunks arrive one sample at a time, so a sample's chunks for
//     all row groups are written one after the other as its column
//     arrives: a row group's chunks are not contiguous in the file, which
//     the format allows (the footer gives every chunk's offset) and DuckDB,
//     Polars and parquet-go read (the interop tests make several).
//   - long: row groups of pqLongRowGroupRows rows (1,048,576: 8 MiB of
//     float64 values plus the two dictionary-encoded id columns); rows are
//     of fixed size, so this bounds bytes too. A sum by sample over all 24
//     million rows took 1.0 to 1.8 s for groups of 122,880 to 8,388,608 rows
//     (within the noise of the shared machine), and a filter on one sample
//     0.009 s with 1,048,576-row groups against 0.16 s with 8,388,608;
//     smaller groups repeat the gene dictionary more often (the file grew
//     7% at 122,880 rows).
//
// The files are assembled from parquet-go's format structures (thrift
// footer and page headers) and encoders: data pages v1, PLAIN and
// RLE_DICTIONARY encodings, zstd (default), snappy, gzip or no compression,
// CRC32 page checksums, column statistics, no nulls (every column is
// REQUIRED; NaN is stored as NaN), values as DOUBLE, FLOAT
// (SinkOptions.Float32) or INT64 (SinkOptions.Integer), and the
// SinkOptions.Metadata as the footer's key_value_metadata.

func init() {
	createParquet = createParquetSink
}

// Page and row group sizes: variables so that tests can make many pages and
// row groups of small data.
var (
	pqValuePageValues  = 1 << 16 // values in a data page of numbers (512 KiB)
	pqStringPageBytes  = 1 << 20 // bytes, about, in a data page of gene ids
	pqLongPageRows     = 1 << 16 // rows in a data page of the id columns of a long file
	pqLongRowGroupRows = 1 << 20 // rows in a row group of a long file
	pqWideRowGroupRows = 1 << 14 // genes in a row group of a wide file, at least
	pqWideMaxChunks    = 1 << 16 // column chunks of a wide file (row groups x columns), at most
)

// pqZstdWideLevel is the zstd level of the pages of numbers of a wide
// file (the ids, and the numbers of a long file, use zstd's default level).
// Measured on the VST of a 60,000 x 2,000 matrix, whose chunks of 16,384
// values of a sample are dictionaries of float64 and bit-packed 11-bit
// indexes, about 2 bytes a value that zstd cannot shrink: the default
// level saved 0.1% of those pages' bytes and cost 0.27 ns a byte, the
// fastest level 0.07 ns a byte (it gives up sooner on bytes it cannot
// compress); the whole run took 0.16 to 0.18 s less user CPU (3.39 s
// against 3.23, medians of five) for a file 0.08% larger. Counts (INT32,
// INT64) and normalized counts were as small within 0.4%. A long file's
// row groups of a million values of many samples were 3.5% larger at the
// fastest level.
const pqZstdWideLevel = zstd.SpeedFastest

// pqZstdWindow is the window of the default-level zstd encoder (ids, and
// the numbers of a long file). Every page is compressed on its own (a
// frame per page) and holds at most about pqStringPageBytes or
// pqValuePageValues x 8 bytes, so no match lies further back than 2 MiB;
// zstd's default window of 8 MiB made each of GOMAXPROCS encoders keep
// 16 MiB of history (32 MiB of the heap of a 2-core VST run), against
// 4 MiB at 2 MiB.
const pqZstdWindow = 2 << 20

// pqWideGroupRows is the number of genes in a row group of a wide file of
// genes x samples: pqWideRowGroupRows, or more where that would make more
// than pqWideMaxChunks column chunks.
func pqWideGroupRows(genes, samples int) int {
	groups := max(1, pqWideMaxChunks/(samples+1))
	return max(pqWideRowGroupRows, (genes+groups-1)/groups)
}

// createParquetSink makes a wide or long Parquet sink.
func createParquetSink(path string, genes, samples []string, opts SinkOptions) (Sink, error) {
	long := opts.Layout == LayoutLong
	if !long && opts.Layout != LayoutWide && opts.Layout != "" {
		return nil, fmt.Errorf("columnar: %s: unknown layout %q (want wide or long)", path, opts.Layout)
	}
	var names []string
	if long {
		names = []string{opts.geneLabel(), "sample", opts.valueName()}
	} else {
		names = append([]string{opts.geneLabel()}, samples...)
	}
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			return nil, fmt.Errorf("columnar: %s: two columns would be named %q", path, name)
		}
		seen[name] = true
	}
	if err := checkCompression(opts.Compression); err != nil {
		return nil, fmt.Errorf("columnar: %s: %w", path, err)
	}
	out, err := opts.output(path)
	if err != nil {
		return nil, err
	}
	w, err := newPQWriter(out, path, opts.Compression)
	if err != nil {
		out.Abort()
		return nil, err
	}
	w.meta = opts.Metadata
	w.valueType = format.Double
	switch {
	case opts.Integer && opts.Int32:
		w.valueType = format.Int32
	case opts.Integer:
		w.valueType = format.Int64
	case opts.Float32:
		w.valueType = format.Float
	}
	if long {
		rows := pqLongRowGroupRows
		if opts.RowGroupRows > 0 {
			rows = opts.RowGroupRows
		}
		w.setSchema([]string{names[0], names[1]}, []string{names[2]})
		return &pqLongSink{w: w, genes: genes, samples: samples, groupRows: rows,
			vals: make([]float64, 0, min(rows, max(1, len(genes)*len(samples))))}, nil
	}
	rows := pqWideGroupRows(len(genes), len(samples))
	if opts.RowGroupRows > 0 {
		rows = opts.RowGroupRows
	}
	w.setSchema(names[:1], samples)
	if w.enc != nil {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithEncoderLevel(pqZstdWideLevel),
			zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			w.abort()
			return nil, fmt.Errorf("columnar: %s: %w", path, err)
		}
		w.valueEnc = enc
	}
	s := &pqWideSink{w: w, genes: genes, samples: samples, groupRows: rows}
	for g0 := 0; g0 < len(genes); g0 += rows {
		chunks := make([]pqChunk, 0, len(samples)+1)
		chunks = append(chunks, w.plainStringChunk(names[0], genes[g0:min(len(genes), g0+rows)]))
		s.groups = append(s.groups, chunks)
	}
	if w.err != nil {
		w.abort()
		return nil, w.err
	}
	s.start()
	return s, nil
}

// output opens where a sink writes path: standard output for "", "-" and
// "-.EXT", or else an AtomicFile (written with O_DIRECT where it can be:
// createOutput).
func (o SinkOptions) output(path string) (committer, error) {
	if IsStdout(path) {
		w := o.Stdout
		if w == nil {
			w = os.Stdout
		}
		return nopCommitter{w}, nil
	}
	return createOutput(path)
}

// IsStdout reports whether an output path means standard output: "" or "-",
// or "-" with an extension that names the format ("-.arrow", "-.parquet").
func IsStdout(path string) bool {
	return path == "" || path == "-" || strings.HasPrefix(path, "-.")
}

// pqWriter writes the pages and footer of a Parquet file.
type pqWriter struct {
	out  committer
	path string
	w    *bufio.Writer
	off  int64
	err  error         // the first write error; everything after it is skipped
	enc  *zstd.Encoder // zstd
	// valueEnc is the zstd encoder of the pages of numbers: enc, or in a
	// wide file one at pqZstdWideLevel.
	valueEnc *zstd.Encoder
	codec    compress.Codec // other codecs; neither: uncompressed
	ccodec   format.CompressionCodec
	// valueType is the physical type of the value columns: DOUBLE, FLOAT,
	// INT64 or INT32.
	valueType format.Type
	meta      *Metadata
	proto     thrift.CompactProtocol
	body      []byte // an encoded page
	comp      []byte // a compressed page
	scr       []byte
	ints      []int32
	schema    []format.SchemaElement
	groups    []format.RowGroup
	rows      int64
	closed    bool
	// Offset indexes (page locations), written before the footer so that
	// readers can seek to the page that holds a row.
	locs    []format.PageLocation // the data pages of the chunk being written
	indexes [][]format.OffsetIndex
}

// pqChunk is a written column chunk and its offset index.
type pqChunk struct {
	chunk format.ColumnChunk
	index format.OffsetIndex
}

// newPQWriter starts a Parquet file on out whose pages are compressed with
// codec (a Compression* name; "" is zstd).
func newPQWriter(out committer, path, codec string) (*pqWriter, error) {
	w := &pqWriter{out: out, path: path, w: bufio.NewWriterSize(out, 1<<20)}
	switch codec {
	case "", CompressionZstd:
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(pqZstdWindow),
			zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, fmt.Errorf("columnar: %s: %w", path, err)
		}
		w.enc, w.valueEnc, w.ccodec = enc, enc, format.Zstd
	case CompressionSnappy:
		w.codec = &snappy.Codec{}
	case CompressionGzip:
		w.codec = &gzip.Codec{Level: gzip.DefaultCompression}
	case CompressionNone:
		w.ccodec = format.Uncompressed
	default:
		return nil, fmt.Errorf("columnar: %s: %w", path, checkCompression(codec))
	}
	if w.codec != nil {
		w.ccodec = w.codec.CompressionCodec()
	}
	w.write([]byte("PAR1"))
	return w, w.err
}

// setSchema makes a flat schema of string columns, then value columns of
// w.valueType.
func (w *pqWriter) setSchema(stringCols, valueCols []string) {
	w.schema = make([]format.SchemaElement, 0, 1+len(stringCols)+len(valueCols))
	w.schema = append(w.schema, format.SchemaElement{Name: "schema", NumChildren: thrift.New(int32(len(stringCols) + len(valueCols)))})
	for _, name := range stringCols {
		w.schema = append(w.schema, format.SchemaElement{
			Type:           thrift.New(format.ByteArray),
			RepetitionType: thrift.New(format.Required),
			Name:           name,
			ConvertedType:  thrift.New(deprecated.UTF8),
			LogicalType:    format.LogicalType{Value: &format.StringType{}},
		})
	}
	for _, name := range valueCols {
		w.schema = append(w.schema, format.SchemaElement{
			Type:           thrift.New(w.valueType),
			RepetitionType: thrift.New(format.Required),
			Name:           name,
		})
	}
}

func (w *pqWriter) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err != nil {
		w.err = fmt.Errorf("columnar: writing %s: %w", w.path, err)
	}
}

// page compresses and writes one page (w.body) of a column chunk.
func (w *pqWriter) page(meta *format.ColumnMetaData, h *format.PageHeader, numValues int) {
	if w.err != nil {
		return
	}
	var err error
	if w.comp, err = w.compressPage(w.comp[:0], w.body, h, w.enc); err != nil {
		w.err = err
		return
	}
	w.writePage(meta, h, w.comp, numValues)
}

// compressPage appends body, compressed with the writer's codec, to dst
// and fills in the sizes and checksum of its header h; zstd compresses
// with enc (w.enc or w.valueEnc). It changes nothing of w, so that it may
// run in several goroutines at once (the zstd encoders are made for that,
// and the other codecs keep no state).
func (w *pqWriter) compressPage(dst, body []byte, h *format.PageHeader, enc *zstd.Encoder) ([]byte, error) {
	switch {
	case enc != nil:
		dst = enc.EncodeAll(body, dst)
	case w.codec != nil:
		var err error
		if dst, err = w.codec.Encode(dst, body); err != nil {
			return dst, fmt.Errorf("columnar: writing %s: %s compression: %w", w.path, w.codec, err)
		}
	default:
		dst = append(dst, body...)
	}
	h.UncompressedPageSize = int32(len(body))
	h.CompressedPageSize = int32(len(dst))
	h.CRC = int32(crc32.ChecksumIEEE(dst))
	return dst, nil
}

// writePage writes a compressed page whose header compressPage filled in,
// and records where it is in meta and in the chunk's page locations.
func (w *pqWriter) writePage(meta *format.ColumnMetaData, h *format.PageHeader, comp []byte, numValues int) {
	if w.err != nil {
		return
	}
	head, err := thrift.Marshal(&w.proto, h)
	if err != nil {
		w.err = fmt.Errorf("columnar: writing %s: page header: %w", w.path, err)
		return
	}
	switch h.Type {
	case format.DictionaryPage:
		meta.DictionaryPageOffset = w.off
	case format.DataPage:
		if meta.DataPageOffset == 0 {
			meta.DataPageOffset = w.off
		}
		w.locs = append(w.locs, format.PageLocation{Offset: w.off, CompressedPageSize: int32(len(head) + len(comp)),
			FirstRowIndex: meta.NumValues})
		meta.NumValues += int64(numValues)
	}
	meta.TotalUncompressedSize += int64(len(head)) + int64(h.UncompressedPageSize)
	meta.TotalCompressedSize += int64(len(head) + len(comp))
	w.write(head)
	w.write(comp)
}

func pqDataPageHeader(n int, enc format.Encoding) *format.PageHeader {
	return &format.PageHeader{Type: format.DataPage, DataPageHeader: thrift.New(format.DataPageHeader{
		NumValues: int32(n), Encoding: enc, DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE})}
}

// endChunk finishes a column chunk: it wraps its metadata, whose file
// offset is its first page, with the chunk's page locations for the offset
// index.
func (w *pqWriter) endChunk(meta format.ColumnMetaData) pqChunk {
	idx := format.OffsetIndex{PageLocations: w.locs}
	w.locs = nil
	off := meta.DataPageOffset
	if meta.DictionaryPageOffset != 0 {
		off = meta.DictionaryPageOffset
	}
	return pqChunk{chunk: format.ColumnChunk{FileOffset: off, MetaData: meta}, index: idx}
}

// plainStringChunk writes a column chunk of strings, PLAIN-encoded.
func (w *pqWriter) plainStringChunk(name string, values []string) pqChunk {
	meta := format.ColumnMetaData{Type: format.ByteArray, Encoding: []format.Encoding{format.Plain},
		PathInSchema: []string{name}, Codec: w.ccodec, Statistics: format.Statistics{NullCount: 0}}
	for _, v := range values {
		pqStringStats(&meta.Statistics, v)
	}
	pages := 0
	for i := 0; i < len(values); {
		w.body = w.body[:0]
		j := i
		for ; j < len(values) && (j == i || len(w.body) < pqStringPageBytes); j++ {
			w.body = binary.LittleEndian.AppendUint32(w.body, uint32(len(values[j])))
			w.body = append(w.body, values[j]...)
		}
		w.page(&meta, pqDataPageHeader(j-i, format.Plain), j-i)
		pages++
		i = j
	}
	meta.EncodingStats = []format.PageEncodingStats{{PageType: format.DataPage, Encoding: format.Plain, Count: int32(pages)}}
	return w.endChunk(meta)
}

// pqStringStats widens the min/max statistics of a string column chunk to
// hold v. Strings compare as unsigned bytes, the order Parquet defines for
// UTF8 columns, so that readers can skip row groups by id: in a long file,
// whose row groups follow the samples, a filter on one sample reads only
// the row groups that hold it.
func pqStringStats(st *format.Statistics, v string) {
	if st.MinValue == nil || v < string(st.MinValue) {
		st.MinValue = []byte(v)
	}
	if st.MaxValue == nil || v > string(st.MaxValue) {
		st.MaxValue = []byte(v)
	}
}

// dictStringChunk writes a column chunk of n strings, dictionary-encoded:
// dict holds the entries and key(r) is the entry of row r.
func (w *pqWriter) dictStringChunk(name string, dict func(yield func(string)), entries, n int, key func(r int) int32) pqChunk {
	meta := format.ColumnMetaData{Type: format.ByteArray, Encoding: []format.Encoding{format.Plain, format.RLEDictionary},
		PathInSchema: []string{name}, Codec: w.ccodec, Statistics: format.Statistics{NullCount: 0}}
	w.body = w.body[:0]
	dict(func(v string) {
		w.body = binary.LittleEndian.AppendUint32(w.body, uint32(len(v)))
		w.body = append(w.body, v...)
		pqStringStats(&meta.Statistics, v)
	})
	w.page(&meta, &format.PageHeader{Type: format.DictionaryPage, DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
		NumValues: int32(entries), Encoding: format.Plain})}, 0)
	width := max(1, bits.Len(uint(entries-1)))
	pages := 0
	for r0 := 0; r0 < n; r0 += pqLongPageRows {
		r1 := min(n, r0+pqLongPageRows)
		w.ints = pqGrow(w.ints, r1-r0)
		for r := r0; r < r1; r++ {
			w.ints[r-r0] = key(r)
		}
		enc := rle.Encoding{BitWidth: width}
		var err error
		if w.scr, err = enc.EncodeInt32(w.scr, w.ints); err != nil {
			if w.err == nil {
				w.err = fmt.Errorf("columnar: writing %s: %w", w.path, err)
			}
			return w.endChunk(meta)
		}
		w.body = append(append(w.body[:0], byte(width)), w.scr...)
		w.page(&meta, pqDataPageHeader(r1-r0, format.RLEDictionary), r1-r0)
		pages++
	}
	meta.EncodingStats = []format.PageEncodingStats{
		{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1},
		{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: int32(pages)},
	}
	return w.endChunk(meta)
}

// valueChunk writes a column chunk of numbers, PLAIN-encoded as
// w.valueType: DOUBLE, FLOAT (each value rounded to the nearest float32) or
// INT64. An integer column must hold whole numbers; notInteger(i, v) makes the
// error for value i, v, otherwise.
func (w *pqWriter) valueChunk(name string, values []float64, notInteger func(i int, v float64) error) pqChunk {
	c, err := w.encodeValueChunk(name, values, nil, nil, notInteger)
	if err != nil && w.err == nil {
		w.err = err
	}
	return w.writeChunk(c)
}

// pqEncodedChunk is a column chunk encoded and compressed, not yet written:
// its metadata but for the file offsets, and its pages.
type pqEncodedChunk struct {
	meta  format.ColumnMetaData
	pages []pqEncodedPage
}

// pqEncodedPage is a compressed data page and its header.
type pqEncodedPage struct {
	h    *format.PageHeader
	data []byte
	n    int // values
}

// pqPageBuffers recycles the bytes of encoded pages once they are written.
var pqPageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// pqValueScratch is what encodeValueChunk works in: the values' bits as
// written, a page before compression, and the dictionary.
type pqValueScratch struct {
	vals []float64 // the values f(x) where they must be made one by one, or the counts as float64s
	bits []uint64
	body []byte
	rle  []byte
	dict pqValueDict
}

// floatsOf returns the counts as float64s, in sc.vals.
func (sc *pqValueScratch) floatsOf(counts []uint32) []float64 {
	sc.vals = pqGrow(sc.vals, len(counts))
	for i, c := range counts {
		sc.vals[i] = float64(c)
	}
	return sc.vals
}

var pqValueScratches = sync.Pool{New: func() any { return new(pqValueScratch) }}

// encodeValueChunk encodes and compresses the pages of valueChunk. It uses
// nothing of w but its settings, so that several goroutines may encode
// columns at once (see pqWideSink); writeChunk then writes them in order.
// On a value that the integer output cannot hold (value i of the chunk,
// f(x) with f) it returns the pages so far and notInteger(i, value)'s error.
//
// A chunk with at most a quarter as many distinct values as values is
// dictionary-encoded (pqValueDict): a PLAIN dictionary page, then data
// pages of RLE_DICTIONARY indexes, as pyarrow and DuckDB write them; any
// other is PLAIN.
//
// With f, the chunk's values are f(values[i]) (see
// ColumnFuncWriter): a DOUBLE chunk finds its dictionary from the
// arguments (pqValueDict.buildOfWholes) and calls f once per entry; other
// types make the values one by one first. The chunk's arguments are
// values, or, when counts is not nil, counts (32-bit whole numbers, from
// which a DOUBLE chunk of f finds its dictionary without converting them:
// pqValueDict.buildOfCounts, the same entries as buildOfWholes).
func (w *pqWriter) encodeValueChunk(name string, values []float64, counts []uint32, f func(float64) float64, notInteger func(i int, v float64) error) (pqEncodedChunk, error) {
	typ := w.valueType
	size := 8
	if typ == format.Float || typ == format.Int32 {
		size = 4
	}
	c := pqEncodedChunk{meta: format.ColumnMetaData{Type: typ, Encoding: []format.Encoding{format.Plain},
		PathInSchema: []string{name}, Codec: w.ccodec}}
	sc := pqValueScratches.Get().(*pqValueScratch)
	defer pqValueScratches.Put(sc)
	if counts != nil && (f == nil || typ != format.Double) {
		values, counts = sc.floatsOf(counts), nil
	}
	n := len(values)
	if counts != nil {
		n = len(counts)
	}
	if f != nil && typ != format.Double {
		sc.vals = pqGrow(sc.vals, len(values))
		for i, x := range values {
			sc.vals[i] = f(x)
		}
		values, f = sc.vals[:len(values)], nil
	}
	sc.bits = pqGrow(sc.bits, n)
	vbits := sc.bits
	lo, hi := math.Inf(1), math.Inf(-1)
	dictionary := false
	// One loop per type: the type is the same for every value.
	switch {
	case f != nil:
		// DOUBLE values f(x): the dictionary of the x, then their values.
		if counts != nil {
			dictionary = sc.dict.buildOfCounts(counts, n/4)
		} else {
			dictionary = sc.dict.buildOfWholes(values, n/4)
		}
		if dictionary {
			for k, x := range sc.dict.entries {
				v := f(math.Float64frombits(x))
				sc.dict.entries[k] = math.Float64bits(v)
				if v < lo { // NaN takes no part in the range
					lo = v
				}
				if v > hi {
					hi = v
				}
			}
			break
		}
		if counts != nil {
			values = sc.floatsOf(counts)
		}
		for i, x := range values {
			v := f(x)
			vbits[i] = math.Float64bits(v)
			if v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
	case typ == format.Int64:
		for i, v := range values {
			if v != math.Trunc(v) || math.Abs(v) > 1<<63-1024 {
				return c, notInteger(i, v)
			}
			vbits[i] = uint64(int64(v))
			lo, hi = min(lo, v), max(hi, v) // whole numbers: no NaN
		}
	case typ == format.Int32:
		for i, v := range values {
			if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
				return c, notInteger(i, v)
			}
			vbits[i] = uint64(uint32(int32(v)))
			lo, hi = min(lo, v), max(hi, v)
		}
	case typ == format.Float:
		for i, v := range values {
			f := float32(v)
			vbits[i] = uint64(math.Float32bits(f))
			v := float64(f)
			if v < lo { // NaN takes no part in the range
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
	default:
		for i, v := range values {
			vbits[i] = math.Float64bits(v)
			if v < lo { // NaN takes no part in the range
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
	}
	// plain writes vals PLAIN-encoded into the scratch page body.
	plain := func(vals []uint64) []byte {
		sc.body = pqGrow(sc.body, size*len(vals))
		if size == 8 {
			for i, b := range vals {
				binary.LittleEndian.PutUint64(sc.body[8*i:], b)
			}
		} else {
			for i, b := range vals {
				binary.LittleEndian.PutUint32(sc.body[4*i:], uint32(b))
			}
		}
		return sc.body
	}
	addPage := func(h *format.PageHeader, body []byte, n int) error {
		out := pqPageBuffers.Get().(*[]byte)
		comp, err := w.compressPage((*out)[:0], body, h, w.valueEnc)
		if err != nil {
			return err
		}
		c.pages = append(c.pages, pqEncodedPage{h: h, data: comp, n: n})
		return nil
	}
	if f == nil {
		dictionary = sc.dict.build(vbits, n/4)
	}
	if dictionary {
		entries := sc.dict.entries
		h := &format.PageHeader{Type: format.DictionaryPage, DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
			NumValues: int32(len(entries)), Encoding: format.Plain})}
		if err := addPage(h, plain(entries), 0); err != nil {
			return c, err
		}
		width := max(1, bits.Len(uint(len(entries)-1)))
		enc := rle.Encoding{BitWidth: width}
		for i0 := 0; i0 < n; i0 += pqValuePageValues {
			idx := sc.dict.index[i0:min(n, i0+pqValuePageValues)]
			var err error
			if sc.rle, err = enc.EncodeInt32(sc.rle[:0], idx); err != nil {
				return c, fmt.Errorf("columnar: writing %s: %w", w.path, err)
			}
			sc.body = append(append(sc.body[:0], byte(width)), sc.rle...)
			if err := addPage(pqDataPageHeader(len(idx), format.RLEDictionary), sc.body, len(idx)); err != nil {
				return c, err
			}
		}
		c.meta.Encoding = []format.Encoding{format.Plain, format.RLEDictionary}
		c.meta.EncodingStats = []format.PageEncodingStats{
			{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1},
			{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: int32(len(c.pages) - 1)},
		}
	} else {
		for i0 := 0; i0 < n; i0 += pqValuePageValues {
			page := vbits[i0:min(n, i0+pqValuePageValues)]
			if err := addPage(pqDataPageHeader(len(page), format.Plain), plain(page), len(page)); err != nil {
				return c, err
			}
		}
		c.meta.EncodingStats = []format.PageEncodingStats{{PageType: format.DataPage, Encoding: format.Plain, Count: int32(len(c.pages))}}
	}
	c.meta.Statistics = format.Statistics{NullCount: 0}
	if lo <= hi { // some value is not NaN
		if typ == format.Double || typ == format.Float {
			if lo == 0 {
				lo = math.Copysign(0, -1) // the spec asks for -0 as a zero minimum, +0 as a zero maximum
			}
			if hi == 0 {
				hi = 0
			}
		}
		c.meta.Statistics.MinValue = pqStat(typ, lo)
		c.meta.Statistics.MaxValue = pqStat(typ, hi)
	}
	return c, nil
}

// writeChunk writes the pages of an encoded chunk, in order, and gives
// their bytes back to pqPageBuffers.
func (w *pqWriter) writeChunk(c pqEncodedChunk) pqChunk {
	for _, p := range c.pages {
		w.writePage(&c.meta, p.h, p.data, p.n)
		b := p.data[:0]
		pqPageBuffers.Put(&b)
	}
	return w.endChunk(c.meta)
}

// pqStat is the PLAIN encoding of a statistic of a value column.
func pqStat(typ format.Type, v float64) []byte {
	switch typ {
	case format.Int64:
		return binary.LittleEndian.AppendUint64(nil, uint64(int64(v)))
	case format.Int32:
		return binary.LittleEndian.AppendUint32(nil, uint32(int32(v)))
	case format.Float:
		return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v)))
	}
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
}

// rowGroup records a row group of n rows made of chunks.
func (w *pqWriter) rowGroup(chunks []pqChunk, n int64) {
	if w.err != nil {
		return
	}
	g := format.RowGroup{NumRows: n, Ordinal: int16(len(w.groups))}
	index := make([]format.OffsetIndex, len(chunks))
	g.FileOffset = math.MaxInt64
	for k, c := range chunks {
		g.Columns = append(g.Columns, c.chunk)
		index[k] = c.index
		g.FileOffset = min(g.FileOffset, c.chunk.FileOffset)
		g.TotalByteSize += c.chunk.MetaData.TotalUncompressedSize
		g.TotalCompressedSize += c.chunk.MetaData.TotalCompressedSize
	}
	if len(chunks) == 0 {
		g.FileOffset = 0
	}
	if len(w.groups) == math.MaxInt16 {
		w.err = fmt.Errorf("columnar: writing %s: too many row groups", w.path)
		return
	}
	w.groups = append(w.groups, g)
	w.indexes = append(w.indexes, index)
	w.rows += n
}

// commit writes the footer and moves the file into place.
func (w *pqWriter) commit() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.enc != nil {
		defer w.enc.Close()
	}
	if w.valueEnc != w.enc {
		defer w.valueEnc.Close()
	}
	if w.err != nil {
		w.out.Abort()
		return w.err
	}
	for g := range w.groups {
		for k := range w.groups[g].Columns {
			b, err := thrift.Marshal(&w.proto, &w.indexes[g][k])
			if err != nil {
				w.out.Abort()
				return fmt.Errorf("columnar: writing %s: offset index: %w", w.path, err)
			}
			w.groups[g].Columns[k].OffsetIndexOffset = w.off
			w.groups[g].Columns[k].OffsetIndexLength = int32(len(b))
			w.write(b)
		}
	}
	orders := make([]format.ColumnOrder, len(w.schema)-1)
	for i := range orders {
		orders[i].Value = &format.TypeDefinedOrder{}
	}
	meta := format.FileMetaData{
		Version:      1,
		Schema:       w.schema,
		NumRows:      w.rows,
		RowGroups:    w.groups,
		CreatedBy:    "colnorm",
		ColumnOrders: orders,
	}
	keys, values := w.meta.Pairs()
	for i, k := range keys {
		meta.KeyValueMetadata = append(meta.KeyValueMetadata, format.KeyValue{Key: k, Value: values[i]})
	}
	footer, err := thrift.Marshal(&w.proto, &meta)
	if err != nil {
		w.out.Abort()
		return fmt.Errorf("columnar: writing %s: footer: %w", w.path, err)
	}
	w.write(footer)
	w.write(binary.LittleEndian.AppendUint32(nil, uint32(len(footer))))
	w.write([]byte("PAR1"))
	if w.err == nil {
		if err := w.w.Flush(); err != nil {
			w.err = fmt.Errorf("columnar: writing %s: %w", w.path, err)
		}
	}
	if w.err != nil {
		w.out.Abort()
		return w.err
	}
	return w.out.Commit()
}

// abort removes the file; it does nothing after commit.
func (w *pqWriter) abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.enc != nil {
		w.enc.Close()
	}
	if w.valueEnc != w.enc {
		w.valueEnc.Close()
	}
	return w.out.Abort()
}

func pqNotIntegerError(path, sample, gene string, v float64) error {
	return fmt.Errorf("columnar: writing %s: sample %s, gene %s: %v is not a whole number in the range of the output's integer columns", path, sample, gene, v)
}

// pqWideSink writes genes x samples as a gene id column, then one column
// per sample, in row groups of groupRows genes.
//
// Columns are encoded and compressed at once in several goroutines, since
// compressing is most of the cost of writing (zstd: about 30 ns a value)
// and WriteColumn is called from one goroutine, a pass's reduce step. WriteColumn copies
// the values and starts their encoding; a writer goroutine writes the
// encoded columns in order. At most pqWideInFlight columns wait at once.
// An error (a value that the integer output cannot hold, a failed write)
// is returned by a later WriteColumn or by Commit.
type pqWideSink struct {
	w       *pqWriter
	genes   []string
	samples []string
	next    int
	groups  [][]pqChunk // the chunks of each row group
	// groupRows is the number of genes in a row group.
	groupRows int

	order   chan *pqWideColumn // columns in order, to the writer goroutine
	written chan struct{}      // closed when the writer goroutine ends
	failed  atomic.Pointer[error]
	closed  bool // order is closed
}

// pqWideColumn is one sample column on its way to the file.
type pqWideColumn struct {
	values []float64
	cached *cachedColumn    // instead of values: the counts as a cache holds them
	chunks []pqEncodedChunk // one per row group
	err    error
	done   chan struct{} // closed once encoded
}

// pqWideInFlight bounds the columns a wide Parquet sink holds at once,
// encoding or waiting to be written, per core.
const pqWideInFlight = 2

var pqColumnBuffers sync.Pool // *[]float64

func (s *pqWideSink) start() {
	s.order = make(chan *pqWideColumn, pqWideInFlight*runtime.GOMAXPROCS(0))
	s.written = make(chan struct{})
	go s.writeInOrder()
}

// writeInOrder is the writer goroutine: it writes each column once it is
// encoded, in the order WriteColumn was called.
func (s *pqWideSink) writeInOrder() {
	defer close(s.written)
	for col := range s.order {
		<-col.done
		if col.err != nil && s.w.err == nil {
			s.w.err = col.err
		}
		for g, c := range col.chunks {
			s.groups[g] = append(s.groups[g], s.w.writeChunk(c))
		}
		if s.w.err != nil {
			err := s.w.err
			s.failed.CompareAndSwap(nil, &err)
		}
		if col.values != nil {
			v := col.values[:0]
			pqColumnBuffers.Put(&v)
		}
	}
}

func (s *pqWideSink) WriteColumn(j int, values []float64) error {
	return s.WriteColumnFunc(j, values, nil)
}

// WriteColumnFunc writes sample j, whose values are f(x[i]); a nil f writes
// x. The dictionary of a DOUBLE chunk then comes from the x, f being called
// once per distinct x (see ColumnFuncWriter).
func (s *pqWideSink) WriteColumnFunc(j int, x []float64, f func(float64) float64) error {
	col, err := s.queue(j, len(x))
	if err != nil {
		return err
	}
	if b, ok := pqColumnBuffers.Get().(*[]float64); ok && cap(*b) >= len(x) {
		col.values = (*b)[:len(x)]
	} else {
		col.values = make([]float64, len(x))
	}
	copy(col.values, x)
	s.encode(j, col, f)
	return nil
}

// writeCountsFunc is WriteColumnFunc for the counts of a column held by a
// cache (see WriteCountsFunc): decoded to 32-bit counts as the column is
// encoded, not copied first.
func (s *pqWideSink) writeCountsFunc(j int, counts *cachedColumn, f func(float64) float64) error {
	col, err := s.queue(j, len(counts.small))
	if err != nil {
		return err
	}
	col.cached = counts
	s.encode(j, col, f)
	return nil
}

// queue checks that sample j comes next, with n values, and puts its
// column in line for the writer goroutine.
func (s *pqWideSink) queue(j, n int) (*pqWideColumn, error) {
	if j != s.next {
		panic("columnar: WriteColumn: columns must come in order")
	}
	if n != len(s.genes) {
		panic("columnar: WriteColumn: values length does not match the number of genes")
	}
	if err := s.failed.Load(); err != nil {
		return nil, *err
	}
	s.next++
	col := &pqWideColumn{done: make(chan struct{})}
	s.order <- col // waits while pqWideInFlight columns per core are on their way
	return col, nil
}

// encode encodes col's chunks in a goroutine of its own, as f of its values
// (or of its cached counts), and closes col.done.
func (s *pqWideSink) encode(j int, col *pqWideColumn, f func(float64) float64) {
	go func() {
		defer close(col.done)
		if f != nil && len(s.genes) > s.groupRows {
			// The chunks of a sample share most of their counts.
			m := pqMemos.Get().(*pqMemo)
			defer pqMemos.Put(m)
			f = m.of(f)
		}
		var counts []uint32
		if col.cached != nil {
			b := pqCountBuffers.Get().(*[]uint32)
			defer pqCountBuffers.Put(b)
			*b = pqGrow(*b, len(s.genes))
			counts = *b
			col.cached.decodeCounts(counts)
		}
		for g, g0 := 0, 0; g0 < len(s.genes); g, g0 = g+1, g0+s.groupRows {
			g1 := min(len(s.genes), g0+s.groupRows)
			var part []float64
			var partCounts []uint32
			if counts != nil {
				partCounts = counts[g0:g1]
			} else {
				part = col.values[g0:g1]
			}
			c, err := s.w.encodeValueChunk(s.samples[j], part, partCounts, f, func(i int, v float64) error {
				return pqNotIntegerError(s.w.path, s.samples[j], s.genes[g0+i], v)
			})
			col.chunks = append(col.chunks, c)
			if err != nil {
				col.err = err
				return
			}
		}
	}()
}

var pqCountBuffers = sync.Pool{New: func() any { return new([]uint32) }}

// pqMemo remembers f(x) for whole x in [0, pqSmallWholes), so that the
// chunks of a sample written by WriteColumnFunc call f once per small count
// of the sample rather than once per chunk that holds it.
type pqMemo struct {
	have [pqSmallWholes / 64]uint64 // bit x: vals[x] holds f(x)
	vals [pqSmallWholes]float64
}

var pqMemos = sync.Pool{New: func() any { return new(pqMemo) }}

// of forgets what m held and returns f remembered in m; the result is for
// one goroutine.
func (m *pqMemo) of(f func(float64) float64) func(float64) float64 {
	clear(m.have[:])
	return func(x float64) float64 {
		k := uint(int(x))
		if k >= pqSmallWholes || math.Float64bits(float64(k)) != math.Float64bits(x) {
			return f(x)
		}
		if m.have[k/64]&(1<<(k%64)) == 0 {
			m.vals[k] = f(x)
			m.have[k/64] |= 1 << (k % 64)
		}
		return m.vals[k]
	}
}

// finish closes the pipeline and waits for the writer goroutine.
func (s *pqWideSink) finish() {
	if !s.closed {
		s.closed = true
		close(s.order)
		<-s.written
	}
}

func (s *pqWideSink) Commit() error {
	s.finish()
	if s.next != len(s.samples) && s.w.err == nil {
		s.w.err = fmt.Errorf("columnar: writing %s: %d of %d samples were written", s.w.path, s.next, len(s.samples))
	}
	for g, chunks := range s.groups {
		s.w.rowGroup(chunks, int64(min(s.groupRows, len(s.genes)-g*s.groupRows)))
	}
	return s.w.commit()
}

func (s *pqWideSink) Abort() error {
	s.finish()
	return s.w.abort()
}

// pqLongSink writes genes x samples as gene, sample, value rows in sample
// order then gene order, in row groups of pqLongRowGroupRows rows.
type pqLongSink struct {
	w       *pqWriter
	genes   []string
	samples []string
	next    int
	vals    []float64 // the values of the row group being filled
	// groupRows is the number of rows in a row group.
	groupRows int
	first     int64 // the row (over the whole file) of vals[0]
}

func (s *pqLongSink) WriteColumn(j int, values []float64) error {
	if j != s.next {
		panic("columnar: WriteColumn: columns must come in order")
	}
	if len(values) != len(s.genes) {
		panic("columnar: WriteColumn: values length does not match the number of genes")
	}
	s.next++
	for len(values) > 0 && s.w.err == nil {
		take := min(len(values), s.groupRows-len(s.vals))
		s.vals = append(s.vals, values[:take]...)
		values = values[take:]
		if len(s.vals) == s.groupRows {
			s.flush()
		}
	}
	return s.w.err
}

// flush writes the buffered rows as a row group. Row r of the group is
// overall row R = first+r: gene R mod G of sample R / G.
func (s *pqLongSink) flush() {
	n := len(s.vals)
	if n == 0 {
		return
	}
	w := s.w
	G := int64(len(s.genes))
	names := w.schema[1:]
	// Gene ids: the dictionary is the genes in the order the group meets them,
	// starting at gene g0, so that row r is entry r mod G.
	g0 := int(s.first % G)
	geneEntries := int(min(int64(n), G))
	genes := w.dictStringChunk(names[0].Name, func(yield func(string)) {
		for k := 0; k < geneEntries; k++ {
			yield(s.genes[(g0+k)%int(G)])
		}
	}, geneEntries, n, func(r int) int32 { return int32(int64(r) % G) })
	// Sample ids: the dictionary is the samples the group holds.
	s0 := int(s.first / G)
	s1 := int((s.first + int64(n) - 1) / G)
	samples := w.dictStringChunk(names[1].Name, func(yield func(string)) {
		for sm := s0; sm <= s1; sm++ {
			yield(s.samples[sm])
		}
	}, s1-s0+1, n, func(r int) int32 { return int32((s.first+int64(r))/G) - int32(s0) })
	values := w.valueChunk(names[2].Name, s.vals, func(i int, v float64) error {
		R := s.first + int64(i)
		return pqNotIntegerError(w.path, s.samples[R/G], s.genes[R%G], v)
	})
	w.rowGroup([]pqChunk{genes, samples, values}, int64(n))
	s.first += int64(n)
	s.vals = s.vals[:0]
}

func (s *pqLongSink) Commit() error {
	if s.next != len(s.samples) && s.w.err == nil {
		s.w.err = fmt.Errorf("columnar: writing %s: %d of %d samples were written", s.w.path, s.next, len(s.samples))
	}
	if s.w.err == nil {
		s.flush()
	}
	return s.w.commit()
}

func (s *pqLongSink) Abort() error { return s.w.abort() }
