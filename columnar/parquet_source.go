package columnar

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet reading.
//
// A file is opened by reading its footer (parquet_footer.go), keeping per
// column chunk only the offsets, sizes and codec that the readers need.
// Columns are then read a column chunk at a time, page by page
// (parquet_pages.go): plain pages are converted in one loop and
// dictionary-encoded pages (the default of DuckDB, arrow and pyarrow) are
// gathered from their indexes and the dictionary, with nulls placed from the
// definition levels. parquet-go provides the codecs and the less common
// encodings; its File and Page types are not used (inspect aside).
//
// Layouts: wide (parquet_source.go), wide with samples as rows (here too,
// transposed once into a Spill), long (parquet_long.go) and a folder of wide
// shards (parquet_shards.go).

func init() {
	openParquet = openParquetPath
}

// openParquetPath opens a Parquet file, or a folder of Parquet shards.
func openParquetPath(path string, opts Options) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{File: path, Msg: "cannot open: " + pqErrorText(err, path)}
	}
	if st.IsDir() {
		return openParquetShards(path, opts)
	}
	return openParquetFile(path, opts)
}

// openParquetFile opens one Parquet file in the layout that opts asks for or
// that its schema shows.
func openParquetFile(path string, opts Options) (Source, error) {
	return openParquetFileOf(path, opts, nil)
}

// openParquetFileOf is openParquetFile for a file whose gene ids are
// likely to be known (the shards of a folder): a wide file whose gene
// column lists exactly the genes known, in order, shares their strings and
// needs no check for duplicates. Any other file is read as by
// openParquetFile.
func openParquetFileOf(path string, opts Options, known []string) (Source, error) {
	q, err := openPQ(path)
	if err != nil {
		return nil, err
	}
	layout := opts.Layout
	if layout == LayoutAuto {
		layout = q.detectLayout()
		if c := q.cols; layout == LayoutWide && !opts.SamplesAsRows && len(c) == 3 && c[0].kind == pqString && c[1].kind == pqString {
			q.close()
			return nil, inputErrorf(path, "the third column %q is %s, not numeric: a long table (gene id, sample id, value) needs numeric values, and a wide one numeric sample columns", c[2].name, c[2].desc)
		}
	}
	var src Source
	switch layout {
	case LayoutWide:
		if opts.SamplesAsRows {
			src, err = openParquetRows(q, opts)
		} else {
			src, err = openParquetWide(q, known)
		}
	case LayoutLong:
		if opts.SamplesAsRows {
			err = inputErrorf(path, "samples as rows applies to wide layouts, not to a long (gene, sample, value) table")
		} else {
			src, err = openParquetLong(q, opts)
		}
	default:
		err = inputErrorf(path, "unknown layout %q (want wide or long)", layout)
	}
	if err != nil {
		q.close()
		return nil, err
	}
	return src, nil
}

// pqErrorText is an OS error's text without the operation and path that
// InputError already shows.
func pqErrorText(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// pqKind is the numeric or string interpretation of a Parquet column.
type pqKind uint8

const (
	pqOther pqKind = iota // not usable: boolean, dates, nested, ...
	pqString
	pqInt32
	pqUint32
	pqInt64
	pqUint64
	pqFloat
	pqDouble
)

// pqColumn describes a top-level leaf column.
type pqColumn struct {
	name   string
	kind   pqKind
	div    float64 // DECIMAL columns: the stored integer is divided by div; 0 otherwise
	maxDef byte    // 1 for an optional column, 0 for a required one
	desc   string  // the type, for messages
}

func (c *pqColumn) numeric() bool { return c.kind >= pqInt32 }

// integer reports whether the column stores integers (and not decimals).
func (c *pqColumn) integer() bool { return c.kind >= pqInt32 && c.kind <= pqUint64 && c.div == 0 }

// pqFile is an open Parquet file: its footer, flat schema and row groups.
type pqFile struct {
	path    string
	f       *os.File
	size    int64
	meta    *pqMeta
	cols    []pqColumn
	rgStart []int64        // first row of each row group; the last entry is the number of rows
	shares  []*pqPageShare // per column, or nil: the pages its cursors share (pqPageShare)
}

// chunkMeta returns the metadata of column chunk c of row group g.
func (q *pqFile) chunkMeta(g, c int) *pqChunkMeta { return &q.meta.chunks[g*len(q.cols)+c] }

// openPQ opens a Parquet file and checks that its schema is flat.
func openPQ(path string) (q *pqFile, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &InputError{File: path, Msg: "cannot open: " + pqErrorText(err, path)}
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("columnar: %s: %w", path, err)
	}
	footer, err := checkFooter(f, path, st.Size())
	if err != nil {
		return nil, err
	}
	meta, err := pqParseFooter(footer)
	if err != nil {
		return nil, inputErrorf(path, "not a readable Parquet file (truncated or damaged?): footer %v", err)
	}
	q = &pqFile{path: path, f: f, size: st.Size(), meta: meta}
	if err := q.readSchema(); err != nil {
		return nil, err
	}
	groups := len(meta.groupRows)
	q.rgStart = make([]int64, groups+1)
	for i := range groups {
		if n := int(meta.groupCols[i]); n != len(q.cols) {
			return nil, inputErrorf(path, "row group %d has %d columns, the schema %d", i, n, len(q.cols))
		}
		for c := range q.cols {
			m := q.chunkMeta(i, c)
			start := m.dataOffset
			if m.dictOffset > 0 {
				start = min(start, m.dictOffset)
			}
			if start < 4 || start > st.Size() || m.compressedSize < 0 || m.compressedSize > st.Size()-start {
				return nil, inputErrorf(path, "row group %d: column %q lies outside the file (truncated or damaged?)", i, q.cols[c].name)
			}
		}
		n := meta.groupRows[i]
		if n < 0 {
			return nil, inputErrorf(path, "row group %d has a negative number of rows", i)
		}
		q.rgStart[i+1] = q.rgStart[i] + n
	}
	return q, nil
}

// chunkRange returns the file offsets [off, end) of column chunk (g, c):
// from its dictionary page, if any, over its compressed size.
func (q *pqFile) chunkRange(g, c int) (off, end int64) {
	m := q.chunkMeta(g, c)
	off = m.dataOffset
	if m.dictOffset > 0 {
		off = min(off, m.dictOffset)
	}
	return off, off + m.compressedSize
}

// checkFooter reads the footer of a Parquet file (which starts and ends
// with "PAR1"; before the final "PAR1" is the footer's length, 4 bytes
// little endian) after checking its length against the file's size, and
// checks that every list, map and binary length in it fits in the bytes
// that remain (pqThriftWalker).
func checkFooter(f *os.File, path string, size int64) ([]byte, error) {
	var head, tail [8]byte
	if size < 12 {
		return nil, inputErrorf(path, "not a Parquet file (%d bytes)", size)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, fmt.Errorf("columnar: reading %s: %w", path, err)
	}
	if _, err := f.ReadAt(head[:4], 0); err != nil {
		return nil, fmt.Errorf("columnar: reading %s: %w", path, err)
	}
	if string(head[:4]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return nil, inputErrorf(path, "not a readable Parquet file (truncated or damaged?): it does not start and end with PAR1")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return nil, inputErrorf(path, "not a readable Parquet file (truncated or damaged?): the footer would be %d bytes, the file has %d", n, size)
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, size-8-n); err != nil {
		return nil, fmt.Errorf("columnar: reading %s: %w", path, err)
	}
	w := pqThriftWalker{b: footer}
	if w.skip(pqThriftStruct, 0); w.err != nil {
		return nil, inputErrorf(path, "not a readable Parquet file (truncated or damaged?): footer %v", w.err)
	}
	return footer, nil
}

// Thrift compact protocol types.
const (
	pqThriftTrue   = 1
	pqThriftFalse  = 2
	pqThriftByte   = 3
	pqThriftI16    = 4
	pqThriftI32    = 5
	pqThriftI64    = 6
	pqThriftDouble = 7
	pqThriftBinary = 8
	pqThriftList   = 9
	pqThriftSet    = 10
	pqThriftMap    = 11
	pqThriftStruct = 12
	pqThriftUUID   = 13
)

// pqThriftWalker walks a Thrift compact protocol value to check that every
// list, set, map and binary length fits in the bytes that remain (each
// element takes at least one byte). parquet-go's decoder (which inspect
// still uses) allocates what a length says before it reads the elements,
// so that a damaged footer of a few kilobytes could make it allocate
// gigabytes. Its methods in parquet_footer.go parse the footer, the page
// headers and the offset indexes with the same checks.
type pqThriftWalker struct {
	b   []byte
	i   int
	err error
}

func (w *pqThriftWalker) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

func (w *pqThriftWalker) byte1() byte {
	if w.i >= len(w.b) {
		w.fail("ends early")
		return 0
	}
	w.i++
	return w.b[w.i-1]
}

func (w *pqThriftWalker) uvarint() uint64 {
	u, k := binary.Uvarint(w.b[min(w.i, len(w.b)):])
	if k <= 0 {
		w.fail("has a bad varint at byte %d", w.i)
		return 0
	}
	w.i += k
	return u
}

// length reads a count of elements of at least min bytes each and checks it
// against the bytes that remain.
func (w *pqThriftWalker) length(u uint64, minBytes int) int {
	if rest := uint64(len(w.b) - w.i); u > rest/uint64(minBytes) {
		w.fail("claims %d elements in %d bytes at byte %d", u, rest, w.i)
		return 0
	}
	return int(u)
}

func (w *pqThriftWalker) skip(typ byte, depth int) {
	if depth > 64 {
		w.fail("nests too deep")
	}
	if w.err != nil {
		return
	}
	switch typ {
	case pqThriftTrue, pqThriftFalse, pqThriftByte: // a boolean map key or value takes a byte
		w.byte1()
	case pqThriftI16, pqThriftI32, pqThriftI64:
		w.uvarint()
	case pqThriftDouble:
		w.i += 8
	case pqThriftUUID:
		w.i += 16
	case pqThriftBinary:
		w.i += w.length(w.uvarint(), 1)
	case pqThriftList, pqThriftSet:
		h := w.byte1()
		n := uint64(h >> 4)
		if n == 15 {
			n = w.uvarint()
		}
		elem := h & 15
		for k := w.length(n, 1); k > 0 && w.err == nil; k-- {
			if elem == pqThriftTrue || elem == pqThriftFalse {
				w.byte1() // list booleans take a byte each
			} else {
				w.skip(elem, depth+1)
			}
		}
	case pqThriftMap:
		n := w.length(w.uvarint(), 2)
		if n > 0 {
			kv := w.byte1()
			for k := n; k > 0 && w.err == nil; k-- {
				w.skip(kv>>4, depth+1)
				w.skip(kv&15, depth+1)
			}
		}
	case pqThriftStruct:
		for w.err == nil {
			h := w.byte1()
			if h == 0 {
				return // stop
			}
			if h>>4 == 0 {
				w.uvarint() // a field id that is not a small delta
			}
			if t := h & 15; t == pqThriftTrue || t == pqThriftFalse {
				continue
			} else {
				w.skip(t, depth+1)
			}
		}
	default:
		w.fail("has an unknown type %d at byte %d", typ, w.i)
	}
	if w.i > len(w.b) {
		w.fail("ends early")
	}
}

// openParquetFooter is parquet.OpenFile, with a panic on malformed metadata
// turned into an error.
func openParquetFooter(f *os.File, size int64) (pf *parquet.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			pf, err = nil, fmt.Errorf("malformed metadata (%v)", r)
		}
	}()
	return parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
}

func (q *pqFile) close() error { return q.f.Close() }

// numRows is the number of rows of the file.
func (q *pqFile) numRows() int64 { return q.rgStart[len(q.rgStart)-1] }

// readSchema reads the flat schema: the root and one leaf per column.
func (q *pqFile) readSchema() error {
	schema := q.meta.schema
	q.meta.schema = nil // kept as pqColumns from here on
	if len(schema) == 0 {
		return inputErrorf(q.path, "the Parquet schema is empty")
	}
	q.cols = make([]pqColumn, 0, len(schema)-1)
	for _, el := range schema[1:] {
		if el.NumChildren.Valid && el.NumChildren.V > 0 || !el.Type.Valid {
			return inputErrorf(q.path, "column %q is nested (a struct, list or map); only flat columns are supported", el.Name)
		}
		if el.RepetitionType.Valid && el.RepetitionType.V == format.Repeated {
			return inputErrorf(q.path, "column %q is repeated (a list); only flat columns are supported", el.Name)
		}
		c := pqColumn{name: el.Name}
		if el.RepetitionType.Valid && el.RepetitionType.V == format.Optional {
			c.maxDef = 1
		}
		c.kind, c.div, c.desc = pqClassify(&el)
		q.cols = append(q.cols, c)
	}
	if n := schema[0].NumChildren; n.Valid && int(n.V) != len(q.cols) {
		return inputErrorf(q.path, "column %q is nested; only flat columns are supported", schema[0].Name)
	}
	return nil
}

// pqClassify maps a schema element to the kind of values it holds.
func pqClassify(el *format.SchemaElement) (kind pqKind, div float64, desc string) {
	typ := el.Type.V
	desc = typ.String()
	lt := el.LogicalType.Value
	if lt != nil {
		desc = lt.String()
	} else if el.ConvertedType.Valid {
		desc = pqConvertedTypeName(el.ConvertedType.V)
	}
	decimalScale := int32(-1)
	if d, ok := lt.(*format.DecimalType); ok {
		decimalScale = d.Scale
	} else if lt == nil && el.ConvertedType.Valid && el.ConvertedType.V == deprecated.Decimal {
		decimalScale = 0
		if el.Scale.Valid {
			decimalScale = el.Scale.V
		}
	}
	if decimalScale > 0 {
		div = math.Pow10(int(decimalScale))
	}
	unsigned := false
	switch t := lt.(type) {
	case nil:
		if el.ConvertedType.Valid {
			switch el.ConvertedType.V {
			case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
				unsigned = true
			case deprecated.Int8, deprecated.Int16, deprecated.Int32, deprecated.Int64, deprecated.Decimal,
				deprecated.UTF8, deprecated.Enum, deprecated.Json:
			default:
				return pqOther, 0, desc
			}
		}
	case *format.IntType:
		unsigned = !t.IsSigned
	case *format.DecimalType:
	case *format.StringType, *format.EnumType, *format.JsonType:
		if typ != format.ByteArray {
			return pqOther, 0, desc
		}
	default:
		return pqOther, 0, desc
	}
	switch typ {
	case format.ByteArray:
		if decimalScale >= 0 {
			return pqOther, 0, desc
		}
		return pqString, 0, desc
	case format.Int32:
		if unsigned {
			return pqUint32, div, desc
		}
		return pqInt32, div, desc
	case format.Int64:
		if unsigned {
			return pqUint64, div, desc
		}
		return pqInt64, div, desc
	case format.Float:
		return pqFloat, 0, desc
	case format.Double:
		return pqDouble, 0, desc
	}
	return pqOther, 0, desc
}

// pqConvertedTypes names the legacy type annotations a count matrix may meet.
var pqConvertedTypes = map[deprecated.ConvertedType]string{
	deprecated.UTF8: "UTF8", deprecated.Enum: "ENUM", deprecated.Decimal: "DECIMAL", deprecated.Date: "DATE",
	deprecated.TimeMillis: "TIME_MILLIS", deprecated.TimeMicros: "TIME_MICROS",
	deprecated.TimestampMillis: "TIMESTAMP_MILLIS", deprecated.TimestampMicros: "TIMESTAMP_MICROS",
	deprecated.Uint8: "UINT_8", deprecated.Uint16: "UINT_16", deprecated.Uint32: "UINT_32", deprecated.Uint64: "UINT_64",
	deprecated.Int8: "INT_8", deprecated.Int16: "INT_16", deprecated.Int32: "INT_32", deprecated.Int64: "INT_64",
	deprecated.Json: "JSON", deprecated.Bson: "BSON", deprecated.Interval: "INTERVAL",
	deprecated.Map: "MAP", deprecated.MapKeyValue: "MAP_KEY_VALUE", deprecated.List: "LIST",
}

func pqConvertedTypeName(t deprecated.ConvertedType) string {
	if name, ok := pqConvertedTypes[t]; ok {
		return name
	}
	return fmt.Sprintf("converted type %d", int(t))
}

// detectLayout chooses long for exactly three columns of which the first
// two are strings and the third numeric, and wide otherwise.
func (q *pqFile) detectLayout() string {
	if len(q.cols) == 3 && q.cols[0].kind == pqString && q.cols[1].kind == pqString && q.cols[2].numeric() {
		return LayoutLong
	}
	return LayoutWide
}

// dataError reports a failure to read column c: an I/O error as such, and
// anything else (bad pages, bad encodings) as a damaged input.
func (q *pqFile) dataError(c int, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("columnar: reading %s: %w", q.path, err)
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	return inputErrorf(q.path, "damaged Parquet data in column %q: %v", q.cols[c].name, err)
}

// pqChunkBytesMax bounds the column chunks read whole (pqChunkBytes);
// larger ones are read from the file page by page. A variable for tests.
var pqChunkBytesMax int64 = 8 << 20

// pqChunkBytes is a column chunk read whole with one read of the file: the
// page cursor then takes the page headers and pages as views of it, where
// a chunk read page by page takes two reads a page (the header, the page).
type pqChunkBytes struct {
	f     *os.File
	start int64
	b     *[]byte // from pqChunkBuffers; nil when no chunk is held
}

var pqChunkBuffers = sync.Pool{New: func() any { return new([]byte) }}

// load reads the file's bytes [off, off+size) and returns them, or nil for
// a chunk beyond pqChunkBytesMax, which is read page by page. The bytes are
// valid until the next load or release.
func (cb *pqChunkBytes) load(off, size int64) ([]byte, error) {
	if size <= 0 || size > pqChunkBytesMax {
		cb.release()
		return nil, nil
	}
	if cb.b == nil {
		cb.b = pqChunkBuffers.Get().(*[]byte)
	}
	*cb.b = pqGrow(*cb.b, int(size))
	if _, err := cb.f.ReadAt(*cb.b, off); err != nil {
		cb.release()
		return nil, err
	}
	cb.start = off
	return *cb.b, nil
}

// release hands the buffer back, once no page or dictionary views it.
func (cb *pqChunkBytes) release() {
	if cb.b != nil {
		pqChunkBuffers.Put(cb.b)
		cb.b = nil
	}
}

// scan calls fn with every page of column c that holds rows [start, end),
// and the row of the file each begins at.
func (q *pqFile) scan(c int, start, end int64, fn func(p *pqPage, row int64) error) error {
	pc := q.cursor(c, start, end)
	defer pc.close()
	for {
		p, row, err := pc.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(p, row); err != nil {
			return err
		}
	}
}

// readNumbers reads rows [start, start+len(dst)) of numeric column c into dst.
func (q *pqFile) readNumbers(c int, start int64, dst []float64) error {
	col := &q.cols[c]
	end := start + int64(len(dst))
	return q.scan(c, start, end, func(p *pqPage, row int64) error {
		n := int(min(int64(p.rows), end-row))
		if err := pqDecodeNumbers(p, col, dst[row-start:row-start+int64(n)]); err != nil {
			return q.dataError(c, err)
		}
		return nil
	})
}

// pqDecodeNumbers converts the first len(dst) rows of a page of a numeric
// column to float64, with nulls as NaN. Dictionary-encoded pages are
// gathered from their indexes.
func pqDecodeNumbers(p *pqPage, col *pqColumn, dst []float64) (err error) {
	defs := p.defs // nil: every row has a value
	if defs != nil {
		if len(defs) < len(dst) {
			return errPQShortPage
		}
	}
	idx, vals := p.idx, &p.vals
	switch col.kind {
	case pqInt32:
		err = pqGather(dst, vals.i32, idx, defs, col.maxDef)
	case pqUint32:
		err = pqGather(dst, pqAsUnsigned[int32, uint32](vals.i32), idx, defs, col.maxDef)
	case pqInt64:
		err = pqGather(dst, vals.i64, idx, defs, col.maxDef)
	case pqUint64:
		err = pqGather(dst, pqAsUnsigned[int64, uint64](vals.i64), idx, defs, col.maxDef)
	case pqFloat:
		err = pqGather(dst, vals.f32, idx, defs, col.maxDef)
	case pqDouble:
		err = pqGather(dst, vals.f64, idx, defs, col.maxDef)
	default:
		panic("columnar: pqDecodeNumbers on a column that is not numeric")
	}
	if err == nil && col.div != 0 {
		for i := range dst {
			dst[i] /= col.div
		}
	}
	return err
}

func pqAsUnsigned[S int32 | int64, U uint32 | uint64](s []S) []U {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*U)(unsafe.Pointer(&s[0])), len(s))
}

// pqGather converts values to float64 into dst, one per row. With idx, the
// values are a dictionary and idx holds one index per non-null row; with
// defs, rows whose definition level is below maxDef are null (NaN) and take
// no value.
func pqGather[T int32 | uint32 | int64 | uint64 | float32 | float64](dst []float64, vals []T, idx []int32, defs []byte, maxDef byte) error {
	n := len(dst)
	switch {
	case defs == nil && idx == nil:
		if len(vals) < n {
			return errPQShortPage
		}
		for i, v := range vals[:n] {
			dst[i] = float64(v)
		}
	case defs == nil:
		if len(idx) < n {
			return errPQShortPage
		}
		for i, k := range idx[:n] {
			if uint(k) >= uint(len(vals)) {
				return errPQDictIndex
			}
			dst[i] = float64(vals[k])
		}
	default:
		nan := math.NaN()
		k := 0
		for i, d := range defs[:n] {
			if d != maxDef {
				dst[i] = nan
				continue
			}
			if idx == nil {
				if k >= len(vals) {
					return errPQShortPage
				}
				dst[i] = float64(vals[k])
			} else {
				if k >= len(idx) {
					return errPQShortPage
				}
				x := idx[k]
				if uint(x) >= uint(len(vals)) {
					return errPQDictIndex
				}
				dst[i] = float64(vals[x])
			}
			k++
		}
	}
	return nil
}

// pqByteArrays is a view of the values of a page of a string column.
type pqByteArrays struct {
	data   []byte
	offs   []uint32 // value k is data[offs[k]:offs[k+1]]; the dictionary's values for a dictionary page
	idx    []int32  // dictionary pages: the index of each non-null value
	defs   []byte   // definition levels, one per row; nil when every row has a value
	maxDef byte
	dict   uint64 // dictionary pages: the dictionary's serial number (pqDictSerial); 0 otherwise
	// plain, while not nil, is the dictionary's n PLAIN values as encoded,
	// which entry splits into data and offs on first use.
	plain []byte
	n     int
}

// pqStringsOf makes a view of the strings of a page.
func pqStringsOf(p *pqPage, col *pqColumn) (b pqByteArrays, err error) {
	b.data, b.offs, b.idx, b.dict = p.vals.data, p.vals.offs, p.idx, p.dictID
	b.plain, b.n = p.vals.plain, p.vals.plainN
	b.defs, b.maxDef = p.defs, col.maxDef // defs nil: every row has a value
	return b, nil
}

// entries is the number of distinct values that keys index (the dictionary
// size, or the number of plain values).
func (b *pqByteArrays) entries() int {
	if b.plain != nil {
		return b.n
	}
	if len(b.offs) == 0 {
		return 0
	}
	return len(b.offs) - 1
}

// entry returns value k of the dictionary, or plain value k.
func (b *pqByteArrays) entry(k int) ([]byte, error) {
	if b.plain != nil {
		data, offs, err := pqPlainByteArrays(b.plain, b.n, nil, nil)
		if err != nil {
			return nil, err
		}
		b.data, b.offs, b.plain = data, offs, nil
	}
	if k < 0 || k+1 >= len(b.offs) {
		return nil, errPQDictIndex
	}
	i, j := b.offs[k], b.offs[k+1]
	if i > j || int(j) > len(b.data) {
		return nil, errPQShortPage
	}
	return b.data[i:j], nil
}

// keys sets keys[i] to the entry of row i for the first len(keys) rows: a
// dictionary index, or the number of the plain value; -1 for a null.
func (b *pqByteArrays) keys(keys []int32) error {
	n := len(keys)
	if b.defs != nil && len(b.defs) < n {
		return errPQShortPage
	}
	k := 0
	for i := range keys {
		if b.defs != nil && b.defs[i] != b.maxDef {
			keys[i] = -1
			continue
		}
		if b.idx != nil {
			if k >= len(b.idx) {
				return errPQShortPage
			}
			keys[i] = b.idx[k]
		} else {
			keys[i] = int32(k)
		}
		k++
	}
	if b.idx == nil && k > b.entries() {
		return errPQShortPage
	}
	return nil
}

// readStrings reads string column c whole, calling fn with every row's value
// (which fn must copy to keep); a null is an error naming what, e.g. "gene id".
func (q *pqFile) readStrings(c int, what string, fn func(row int64, v []byte) error) error {
	col := &q.cols[c]
	var keys []int32
	return q.scan(c, 0, q.numRows(), func(p *pqPage, row int64) error {
		b, err := pqStringsOf(p, col)
		if err != nil {
			return q.dataError(c, err)
		}
		n := p.rows
		keys = pqGrow(keys, n)
		if err := b.keys(keys); err != nil {
			return q.dataError(c, err)
		}
		for i, k := range keys {
			if k < 0 {
				return inputErrorf(q.path, "row %d has no %s (null in column %q)", row+int64(i)+1, what, col.name)
			}
			v, err := b.entry(int(k))
			if err != nil {
				return q.dataError(c, err)
			}
			if err := fn(row+int64(i), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// pqGrow returns s with length n, reusing its array when it is large enough.
func pqGrow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// readNames reads string column c as a list of distinct names; a repeated
// name is an InputError made by dup.
func (q *pqFile) readNames(c int, what string, dup func(name string) error) ([]string, error) {
	n := min(q.numRows(), 1<<20) // the footer's count, which may be damaged
	names := make([]string, 0, n)
	seen := make(map[string]struct{}, n)
	err := q.readStrings(c, what, func(row int64, v []byte) error {
		if _, ok := seen[string(v)]; ok {
			return dup(string(v))
		}
		s := string(v)
		seen[s] = struct{}{}
		names = append(names, s)
		return nil
	})
	return names, err
}

// namesAre reports whether string column c lists exactly the names given,
// in order: the check of readNames without a set of the names (names are
// distinct) or new strings. A column that differs is not an error here:
// the caller reads it with readNames to find out where and why.
func (q *pqFile) namesAre(c int, what string, names []string) (bool, error) {
	if q.numRows() != int64(len(names)) {
		return false, nil
	}
	errDiffers := errors.New("differs")
	n := 0
	err := q.readStrings(c, what, func(row int64, v []byte) error {
		if row >= int64(len(names)) || string(v) != names[row] {
			return errDiffers
		}
		n++
		return nil
	})
	if errors.Is(err, errDiffers) {
		return false, nil
	}
	return err == nil && n == len(names), err
}

// wideParquet is a wide Parquet file: a gene id column, then one numeric
// column per sample.
type wideParquet struct {
	q       *pqFile
	geneCol int
	genes   []string
	samples []string
	cols    []int // the column of each sample
	integer bool
}

// valueColumns lists the columns of q not in skip (the id columns): their
// names, their indexes, and whether all of them hold integers. Each must be
// numeric and named once; otherwise named(name, msg) makes the error, which
// for a column that is not numeric says what the table should look like.
func (q *pqFile) valueColumns(skip map[int]bool, named func(name, msg string) error, should string) (names []string, cols []int, integer bool, err error) {
	integer = true
	seen := make(map[string]bool, len(q.cols))
	for c := range q.cols {
		if skip[c] {
			continue
		}
		col := &q.cols[c]
		if !col.numeric() {
			return nil, nil, false, named(col.name, fmt.Sprintf("column of type %s is not numeric (%s)", col.desc, should))
		}
		if seen[col.name] {
			return nil, nil, false, named(col.name, "two columns have this name: it appears twice")
		}
		seen[col.name] = true
		names = append(names, col.name)
		cols = append(cols, c)
		integer = integer && col.integer()
	}
	return names, cols, integer, nil
}

// openParquetWide opens q as a wide matrix; known, if not nil, are the
// genes it likely lists (see openParquetFileOf).
func openParquetWide(q *pqFile, known []string) (*wideParquet, error) {
	gc, skip, err := q.idColumn("gene id")
	if err != nil {
		return nil, err
	}
	s := &wideParquet{q: q, geneCol: gc}
	s.samples, s.cols, s.integer, err = q.valueColumns(skip, func(name string, msg string) error {
		return &InputError{File: q.path, Sample: name, Msg: msg}
	}, "a wide table has a gene id column, then one int32, int64, float or double column per sample")
	if err != nil {
		return nil, err
	}
	if known != nil {
		if same, err := q.namesAre(gc, "gene id", known); same || err != nil {
			s.genes = known
			return s, err
		}
	}
	s.genes, err = q.readNames(gc, "gene id", func(name string) error {
		return &InputError{File: q.path, Gene: name, Msg: "gene id appears twice"}
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *wideParquet) Path() string      { return s.q.path }
func (s *wideParquet) Genes() []string   { return s.genes }
func (s *wideParquet) Samples() []string { return s.samples }
func (s *wideParquet) Integer() bool     { return s.integer }
func (s *wideParquet) Close() error      { return s.q.close() }

// ReadColumn reads sample j from its column chunk in every row group.
func (s *wideParquet) ReadColumn(j int, dst []float64) error {
	if len(dst) != len(s.genes) {
		panic("columnar: ReadColumn: dst length does not match the number of genes")
	}
	err := s.q.readNumbers(s.cols[j], 0, dst)
	var ie *InputError
	if errors.As(err, &ie) && ie.Sample == "" {
		ie.Sample = s.samples[j]
	}
	return err
}

// readInt32s reads sample j's values as the 32-bit integers they are
// stored as, when its column is INT32 (not a decimal) and has no nulls,
// for the cache (see int32Reader); ok says whether it did.
func (s *wideParquet) readInt32s(j int, counts []int32) (ok bool, err error) {
	c := s.cols[j]
	if !s.q.cols[c].int32Counts() {
		return false, nil
	}
	if len(counts) != len(s.genes) {
		panic("columnar: readInt32s: counts length does not match the number of genes")
	}
	ok, err = s.q.readInt32s(c, 0, counts)
	var ie *InputError
	if errors.As(err, &ie) && ie.Sample == "" {
		ie.Sample = s.samples[j]
	}
	return ok, err
}

// int32Counts reports whether the column stores plain INT32 numbers (not
// decimals), which readInt32s can read.
func (col *pqColumn) int32Counts() bool { return col.kind == pqInt32 && col.div == 0 }

// readInt32s reads rows [start, start+len(counts)) of an INT32 column
// (int32Counts) as they are stored; ok is false, and counts not all
// filled, when one of them is null: it stops at the page that holds it.
func (q *pqFile) readInt32s(c int, start int64, counts []int32) (ok bool, err error) {
	end := start + int64(len(counts))
	err = q.scan(c, start, end, func(p *pqPage, row int64) error {
		k, n := row-start, min(int64(p.rows), end-row)
		kept, err := pqDecodeInt32s(p, &q.cols[c], counts[k:k+n])
		if err != nil {
			return q.dataError(c, err)
		}
		if !kept {
			return errPQNullInt32
		}
		return nil
	})
	if err == errPQNullInt32 {
		return false, nil
	}
	return err == nil, err
}

// errPQNullInt32 stops readInt32s's scan at a null.
var errPQNullInt32 = errors.New("a null among the INT32 values")

// pqDecodeInt32s copies the first len(counts) values of a page of an
// INT32 column to counts (through the dictionary when it has one); kept
// is false, and counts not filled, when one of them is null.
func pqDecodeInt32s(p *pqPage, col *pqColumn, counts []int32) (kept bool, err error) {
	n := len(counts)
	if defs := p.defs; defs != nil {
		if len(defs) < n {
			return false, errPQShortPage
		}
		for _, d := range defs[:n] {
			if d != col.maxDef {
				return false, nil
			}
		}
	}
	vals := p.vals.i32
	if idx := p.idx; idx != nil {
		if len(idx) < n {
			return false, errPQShortPage
		}
		for i, k := range idx[:n] {
			if uint(k) >= uint(len(vals)) {
				return false, errPQDictIndex
			}
			counts[i] = vals[k]
		}
		return true, nil
	}
	if len(vals) < n {
		return false, errPQShortPage
	}
	copy(counts, vals[:n])
	return true, nil
}

// rowsParquet is a wide Parquet file with one row per sample (a sample id
// column, then one numeric column per gene), transposed at open into a Spill.
type rowsParquet struct {
	path    string
	genes   []string
	samples []string
	integer bool
	spill   *Spill
}

// openParquetRows opens q as samples x genes and transposes it. Rows are read
// in batches that fit the spill budget: for each batch, every gene column's
// pages for those rows are decoded into a batch of sample columns, which
// then go to the spill whole.
func openParquetRows(q *pqFile, opts Options) (src *rowsParquet, err error) {
	sc, skip, err := q.idColumn("sample id")
	if err != nil {
		return nil, err
	}
	s := &rowsParquet{path: q.path}
	var geneCols []int
	s.genes, geneCols, s.integer, err = q.valueColumns(skip, func(name string, msg string) error {
		return &InputError{File: q.path, Gene: name, Msg: msg}
	}, "with samples as rows, a table has a sample id column, then one numeric column per gene")
	if err != nil {
		return nil, err
	}
	s.samples, err = q.readNames(sc, "sample id", func(name string) error {
		return &InputError{File: q.path, Sample: name, Msg: "sample id appears twice"}
	})
	if err != nil {
		return nil, err
	}
	G, S := len(s.genes), len(s.samples)
	s.spill, err = NewColumnSpill(opts.TempDir, G, 0, opts.spillBudget())
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.spill.Close()
		}
	}()
	if G == 0 {
		q.close()
		return s, nil
	}
	batch := max(1, opts.spillBudget()/(8*G))
	buf := make([]float64, min(batch, S)*G)
	var tmp []float64
	for r0 := 0; r0 < S; r0 += batch {
		r1 := min(S, r0+batch)
		for g, c := range geneCols {
			col := &q.cols[c]
			err := q.scan(c, int64(r0), int64(r1), func(p *pqPage, row int64) error {
				n := int(min(int64(p.rows), int64(r1)-row))
				tmp = pqGrow(tmp, n)
				if err := pqDecodeNumbers(p, col, tmp); err != nil {
					return q.dataError(c, err)
				}
				base := (int(row) - r0) * G
				for i, v := range tmp {
					buf[base+i*G+g] = v
				}
				return nil
			})
			if err != nil {
				var ie *InputError
				if errors.As(err, &ie) && ie.Gene == "" {
					ie.Gene = col.name
				}
				return nil, err
			}
		}
		for r := r0; r < r1; r++ {
			if err := s.spill.WriteColumn(r, buf[(r-r0)*G:(r-r0+1)*G]); err != nil {
				return nil, err
			}
		}
	}
	q.close() // everything is in the spill now
	return s, nil
}

func (s *rowsParquet) Path() string      { return s.path }
func (s *rowsParquet) Genes() []string   { return s.genes }
func (s *rowsParquet) Samples() []string { return s.samples }
func (s *rowsParquet) Integer() bool     { return s.integer }
func (s *rowsParquet) Close() error      { return s.spill.Close() }

func (s *rowsParquet) ReadColumn(j int, dst []float64) error {
	if len(dst) != len(s.genes) {
		panic("columnar: ReadColumn: dst length does not match the number of genes")
	}
	if len(dst) == 0 {
		return nil
	}
	return s.spill.ReadColumn(j, dst)
}

// idColumn chooses the column of row ids (gene ids, or sample ids with
// samples as rows) and the columns that hold no samples (or genes): the
// string column in which pandas stored a DataFrame's index, when there is
// one, or else the first column, which must hold strings. Every column of
// the pandas index is skipped, so that a materialized integer index is not
// taken for a sample.
func (q *pqFile) idColumn(what string) (id int, skip map[int]bool, err error) {
	skip = map[int]bool{}
	id = -1
	for _, c := range q.pandasIndex() {
		skip[c] = true
		if id < 0 && q.cols[c].kind == pqString {
			id = c
		}
	}
	if id >= 0 {
		return id, skip, nil
	}
	if len(q.cols) == 0 {
		return 0, nil, inputErrorf(q.path, "the file has no columns")
	}
	if q.cols[0].kind != pqString {
		return 0, nil, inputErrorf(q.path, "the first column %q is %s, not a string column of %ss", q.cols[0].name, q.cols[0].desc, what)
	}
	skip[0] = true
	return 0, skip, nil
}

// pandasIndex is the columns in which pandas stored a DataFrame's index
// (named in the index_columns of its "pandas" metadata), if any.
func (q *pqFile) pandasIndex() []int {
	meta, ok := q.meta.pandas, q.meta.hasPandas
	if !ok {
		return nil
	}
	var m struct {
		IndexColumns []json.RawMessage `json:"index_columns"`
	}
	if json.Unmarshal([]byte(meta), &m) != nil {
		return nil
	}
	var cols []int
	for _, raw := range m.IndexColumns {
		var name string
		if json.Unmarshal(raw, &name) != nil { // a RangeIndex is described by an object, and stored in no column
			continue
		}
		for c := range q.cols {
			if q.cols[c].name == name {
				cols = append(cols, c)
				break
			}
		}
	}
	return cols
}
