package columnar

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Arrow IPC reading (the file format, which Feather v2 is, and the stream
// format, including pre-0.15 streams; uncompressed, LZ4-frame or zstd).
//
// An Arrow record batch stores every column of a range of rows, and arrow-go
// loads (and, for compressed files, decompresses) a whole batch at once: a
// matrix written as one batch, which is what pyarrow's write_feather does for
// fewer than 64Ki genes, would be held in memory entire (and arrow-go refuses
// batch bodies over 256 MiB by default). So arrow-go decodes the schema here,
// and the few metadata tables needed to find one column's buffers (the
// footer's block list, and each message's field nodes, buffer list and
// compression) are read directly from their flatbuffers; a column is then one
// ReadAt (or one streaming decompression of its buffer) per batch. Memory is
// bounded by the number of genes whatever the batch layout: a wide file is
// served column by column straight from the file, and long and
// samples-as-rows files are transposed once into a Spill.
//
// Every offset and length read from the file is checked before use, and
// arrow-go only sees a schema that has been walked and bounds-checked first
// (it would otherwise allocate by unchecked vector lengths): a damaged file
// gives an InputError, never a crash.

func init() {
	openArrow = openArrowFile
}

// arrowAlloc is the allocator handed to arrow-go; tests swap in a checked one.
var arrowAlloc memory.Allocator = memory.DefaultAllocator

// ---- flatbuffers ----

// ipcCorrupt is panicked by the metadata accessors on an offset outside the
// metadata and recovered into an InputError at the entry points, so that a
// damaged file gives an error, never a crash.
type ipcCorrupt string

func ipcCorruptf(format string, args ...any) {
	panic(ipcCorrupt(fmt.Sprintf(format, args...)))
}

// ipcRecover turns an ipcCorrupt panic into an InputError in *err.
func ipcRecover(path string, err *error) {
	if p := recover(); p != nil {
		msg, ok := p.(ipcCorrupt)
		if !ok {
			panic(p)
		}
		*err = ipcCorruptError(path, string(msg))
	}
}

func ipcCorruptError(path, msg string) *InputError {
	return inputErrorf(path, "corrupt or truncated Arrow IPC file: %s", msg)
}

func ipcFBCheck(b []byte, p, n int) {
	if p < 0 || n < 0 || p > len(b)-n {
		ipcCorruptf("metadata offset %d out of range", p)
	}
}

func ipcGetU16(b []byte, p int) uint16 { ipcFBCheck(b, p, 2); return binary.LittleEndian.Uint16(b[p:]) }
func ipcGetU32(b []byte, p int) uint32 { ipcFBCheck(b, p, 4); return binary.LittleEndian.Uint32(b[p:]) }
func ipcGetU64(b []byte, p int) uint64 { ipcFBCheck(b, p, 8); return binary.LittleEndian.Uint64(b[p:]) }

// ipcTable is a flatbuffer table: pos is where it starts in b.
type ipcTable struct {
	b   []byte
	pos int
}

func ipcRoot(b []byte) ipcTable { return ipcTable{b, int(ipcGetU32(b, 0))} }

// field returns the position of field slot, or 0 when it is absent.
func (t ipcTable) field(slot int) int {
	vt := t.pos - int(int32(ipcGetU32(t.b, t.pos)))
	size := int(ipcGetU16(t.b, vt))
	o := 4 + 2*slot
	if o >= size { // as flatbuffers' Table.Offset: a vtable of odd size still holds slot o
		return 0
	}
	off := int(ipcGetU16(t.b, vt+o))
	if off == 0 {
		return 0
	}
	return t.pos + off
}

func (t ipcTable) int64(slot int, def int64) int64 {
	if p := t.field(slot); p != 0 {
		return int64(ipcGetU64(t.b, p))
	}
	return def
}

func (t ipcTable) int16(slot int, def int16) int16 {
	if p := t.field(slot); p != 0 {
		return int16(ipcGetU16(t.b, p))
	}
	return def
}

func (t ipcTable) uint8(slot int, def uint8) uint8 {
	if p := t.field(slot); p != 0 {
		ipcFBCheck(t.b, p, 1)
		return t.b[p]
	}
	return def
}

func (t ipcTable) table(slot int) (ipcTable, bool) {
	p := t.field(slot)
	if p == 0 {
		return ipcTable{}, false
	}
	return ipcTable{t.b, p + int(ipcGetU32(t.b, p))}, true
}

// vector returns the position of the first element and the length of a
// vector field of elemSize-byte elements (0, 0 when absent).
func (t ipcTable) vector(slot, elemSize int) (start, n int) {
	p := t.field(slot)
	if p == 0 {
		return 0, 0
	}
	v := p + int(ipcGetU32(t.b, p))
	n = int(ipcGetU32(t.b, v))
	ipcFBCheck(t.b, v+4, n*elemSize)
	return v + 4, n
}

// vectorTable is element k of a vector of tables starting at start.
func (t ipcTable) vectorTable(start, k int) ipcTable {
	e := start + 4*k
	return ipcTable{t.b, e + int(ipcGetU32(t.b, e))}
}

// Slots of the Arrow flatbuffer tables used here (format/File.fbs,
// Schema.fbs, Message.fbs).
const (
	ipcSlotFooterDicts      = 2
	ipcSlotFooterBatches    = 3
	ipcSlotSchemaEndianness = 0
	ipcSlotSchemaFields     = 1
	ipcSlotSchemaMetadata   = 2
	ipcSlotSchemaFeatures   = 3
	ipcSlotFieldName        = 0
	ipcSlotFieldTypeType    = 2
	ipcSlotFieldType        = 3
	ipcSlotFieldDictionary  = 4
	ipcSlotFieldChildren    = 5
	ipcSlotFieldMetadata    = 6
	ipcSlotDictEncID        = 0
	ipcSlotDictEncIndexType = 1
	ipcSlotMessageMetadata  = 4
	ipcSlotMessageHeaderTyp = 1
	ipcSlotMessageHeader    = 2
	ipcSlotMessageBodyLen   = 3
	ipcSlotBatchLength      = 0
	ipcSlotBatchNodes       = 1
	ipcSlotBatchBuffers     = 2
	ipcSlotBatchCompression = 3
	ipcSlotBatchVariadic    = 4
	ipcSlotCompressionCodec = 0
	ipcSlotCompressionMeth  = 1
	ipcSlotDictBatchID      = 0
	ipcSlotDictBatchData    = 1
	ipcSlotDictBatchDelta   = 2
	ipcSlotKeyValueKey      = 0
	ipcSlotKeyValueValue    = 1
	ipcSlotTimezone         = 1 // of a Timestamp type table
	ipcSlotUnionTypeIDs     = 1 // of a Union type table

	ipcTypeTimestamp = 10 // Type union tags
	ipcTypeUnion     = 14

	ipcHeaderSchema     = 1
	ipcHeaderDictionary = 2
	ipcHeaderRecord     = 3

	ipcCodecNone = -1
	ipcCodecLZ4  = 0
	ipcCodecZstd = 1
)

var arrowMagic = []byte("ARROW1")

// ---- value and string layouts ----

type ipcNum uint8

const (
	ipcNumNone ipcNum = iota
	ipcI8
	ipcI16
	ipcI32
	ipcI64
	ipcU8
	ipcUint16
	ipcUint32
	ipcUint64
	ipcF32
	ipcF64
)

func (k ipcNum) width() int {
	switch k {
	case ipcI8, ipcU8:
		return 1
	case ipcI16, ipcUint16:
		return 2
	case ipcI32, ipcUint32, ipcF32:
		return 4
	}
	return 8
}

func (k ipcNum) integer() bool { return k != ipcNumNone && k != ipcF32 && k != ipcF64 }

func ipcNumOf(t arrow.DataType) ipcNum {
	switch t.ID() {
	case arrow.INT8:
		return ipcI8
	case arrow.INT16:
		return ipcI16
	case arrow.INT32:
		return ipcI32
	case arrow.INT64:
		return ipcI64
	case arrow.UINT8:
		return ipcU8
	case arrow.UINT16:
		return ipcUint16
	case arrow.UINT32:
		return ipcUint32
	case arrow.UINT64:
		return ipcUint64
	case arrow.FLOAT32:
		return ipcF32
	case arrow.FLOAT64:
		return ipcF64
	}
	return ipcNumNone
}

type ipcStr uint8

const (
	ipcStrNone  ipcStr = iota
	ipcStrOff32        // utf8, binary: validity, int32 offsets, data
	ipcStrOff64        // large_utf8, large_binary: int64 offsets
	ipcStrView         // utf8_view, binary_view: validity, views, variadic data buffers
	ipcStrDict         // dictionary of strings: validity, indices
)

func ipcStrOf(t arrow.DataType) ipcStr {
	switch t.ID() {
	case arrow.STRING, arrow.BINARY:
		return ipcStrOff32
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return ipcStrOff64
	case arrow.STRING_VIEW, arrow.BINARY_VIEW:
		return ipcStrView
	}
	return ipcStrNone
}

// ipcDecodeNums converts len(dst) little-endian values of kind k from raw.
func ipcDecodeNums(dst []float64, raw []byte, k ipcNum) {
	le := binary.LittleEndian
	switch k {
	case ipcI8:
		for i := range dst {
			dst[i] = float64(int8(raw[i]))
		}
	case ipcU8:
		for i := range dst {
			dst[i] = float64(raw[i])
		}
	case ipcI16:
		for i := range dst {
			dst[i] = float64(int16(le.Uint16(raw[2*i:])))
		}
	case ipcUint16:
		for i := range dst {
			dst[i] = float64(le.Uint16(raw[2*i:]))
		}
	case ipcI32:
		for i := range dst {
			dst[i] = float64(int32(le.Uint32(raw[4*i:])))
		}
	case ipcUint32:
		for i := range dst {
			dst[i] = float64(le.Uint32(raw[4*i:]))
		}
	case ipcI64:
		for i := range dst {
			dst[i] = float64(int64(le.Uint64(raw[8*i:])))
		}
	case ipcUint64:
		for i := range dst {
			dst[i] = float64(le.Uint64(raw[8*i:]))
		}
	case ipcF32:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(le.Uint32(raw[4*i:])))
		}
	case ipcF64:
		for i := range dst {
			dst[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	}
}

// ipcMaskNulls sets dst[i] to NaN where bit i of the validity bitmap is 0.
func ipcMaskNulls(dst []float64, valid []byte) {
	nan := math.NaN()
	for i := range dst {
		if valid[i>>3]&(1<<(i&7)) == 0 {
			dst[i] = nan
		}
	}
}

// ipcIndexAt is index i of a dictionary-encoded column, as an int (-1 when it
// does not fit).
func ipcIndexAt(raw []byte, i int, k ipcNum) int {
	le := binary.LittleEndian
	switch k {
	case ipcI8:
		return int(int8(raw[i]))
	case ipcU8:
		return int(raw[i])
	case ipcI16:
		return int(int16(le.Uint16(raw[2*i:])))
	case ipcUint16:
		return int(le.Uint16(raw[2*i:]))
	case ipcI32:
		return int(int32(le.Uint32(raw[4*i:])))
	case ipcUint32:
		return int(le.Uint32(raw[4*i:]))
	case ipcI64:
		v := int64(le.Uint64(raw[8*i:]))
		if v < 0 || v > math.MaxInt32 {
			return -1
		}
		return int(v)
	case ipcUint64:
		v := le.Uint64(raw[8*i:])
		if v > math.MaxInt32 {
			return -1
		}
		return int(v)
	}
	return -1
}

var ipcNativeLE = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// ---- the file structure ----

// ipcCol is one top-level field of the schema.
type ipcCol struct {
	name   string
	typ    arrow.DataType
	num    ipcNum // numeric columns
	str    ipcStr // string columns
	idx    ipcNum // index type of a dictionary
	val    ipcStr // value layout of a dictionary
	dictID int64
	nbufs  int // buffers in a batch, not counting variadic buffers
	buf0   int // index of its first buffer, not counting earlier variadic buffers
	view   int // index among the view columns, -1 for others
}

// ipcBatch is a record batch (or the data of a dictionary batch) located in
// the file, with the metadata needed to find each column's buffers.
type ipcBatch struct {
	meta     []byte // the Message flatbuffer
	rows     int
	index    int   // among the record batches
	row0     int   // first row in the whole table
	body     int64 // file offset of the body
	bodyLen  int64
	codec    int
	nodes    int // position of the FieldNode vector in meta
	nNodes   int
	bufs     int // position of the Buffer vector in meta
	nBufs    int
	variadic []int64 // variadic buffer counts of the view columns
}

func (b *ipcBatch) nullCount(c int) int {
	return int(int64(binary.LittleEndian.Uint64(b.meta[b.nodes+16*c+8:])))
}

// buffer returns the file offset and length of buffer i.
func (b *ipcBatch) buffer(i int) (int64, int64) {
	p := b.bufs + 16*i
	off := int64(binary.LittleEndian.Uint64(b.meta[p:]))
	n := int64(binary.LittleEndian.Uint64(b.meta[p+8:]))
	return b.body + off, n
}

// bufIndex is the index of the first buffer of column c.
func (b *ipcBatch) bufIndex(cols []ipcCol, c int) int {
	i := cols[c].buf0
	for _, v := range cols[:c] {
		if v.view >= 0 {
			i += int(b.variadic[v.view])
		}
	}
	return i
}

type ipcDict struct {
	id     int64
	delta  bool
	batch  *ipcBatch
	before int // record batches before it in a stream
}

// ipcDictVersion is a dictionary as it stands from record batch from on
// (streams may replace a dictionary between batches).
type ipcDictVersion struct {
	from   int
	values []string
	null   []bool // nil when no entry is null
}

// ipcFile is an open Arrow IPC file (or stream) with its batches located.
type ipcFile struct {
	f       *os.File
	path    string
	size    int64
	cols    []ipcCol
	batches []*ipcBatch
	rows    int
	dicts   map[int64][]*ipcDictVersion
	schema  *arrow.Schema // with its metadata
}

// dict returns the dictionary id as record batch k sees it (nil if none).
func (r *ipcFile) dict(id int64, k int) *ipcDictVersion {
	var v *ipcDictVersion
	for _, d := range r.dicts[id] {
		if d.from <= k {
			v = d
		}
	}
	return v
}

// readAt reads len(p) bytes at off, calling a short read corruption.
func (r *ipcFile) readAt(p []byte, off int64) error {
	if _, err := r.f.ReadAt(p, off); err != nil {
		if err == io.EOF {
			return ipcCorruptError(r.path, "unexpected end of file")
		}
		return fmt.Errorf("columnar: reading %s: %w", r.path, err)
	}
	return nil
}

// readMessage reads the encapsulated message at off: a continuation marker
// (absent in the legacy format), the metadata length and the Message
// flatbuffer. It returns nil metadata at the end-of-stream marker, and the
// offset just after the metadata, where the body starts.
func (r *ipcFile) readMessage(off int64) (meta []byte, next int64, err error) {
	var pre [8]byte
	if off < 0 || off > r.size-4 {
		return nil, 0, ipcCorruptError(r.path, fmt.Sprintf("message at offset %d beyond the end of the file", off))
	}
	if err := r.readAt(pre[:4], off); err != nil {
		return nil, 0, err
	}
	n := int64(int32(binary.LittleEndian.Uint32(pre[:4])))
	start := off + 4
	if uint32(n) == 0xFFFFFFFF {
		if off > r.size-8 {
			return nil, 0, ipcCorruptError(r.path, "unexpected end of file")
		}
		if err := r.readAt(pre[4:8], off+4); err != nil {
			return nil, 0, err
		}
		n = int64(int32(binary.LittleEndian.Uint32(pre[4:8])))
		start = off + 8
	}
	if n == 0 {
		return nil, start, nil
	}
	if n < 0 || n > r.size-start {
		return nil, 0, ipcCorruptError(r.path, fmt.Sprintf("message at offset %d has a bad length %d", off, n))
	}
	meta = make([]byte, n)
	if err := r.readAt(meta, start); err != nil {
		return nil, 0, err
	}
	return meta, start + n, nil
}

// parseBatch locates the buffers of a RecordBatch table whose body starts at
// body and holds bodyLen bytes.
func (r *ipcFile) parseBatch(meta []byte, rb ipcTable, body, bodyLen int64) *ipcBatch {
	if body < 0 || bodyLen < 0 || body > r.size || bodyLen > r.size-body {
		ipcCorruptf("record batch body at offset %d with length %d beyond the end of the file", body, bodyLen)
	}
	b := &ipcBatch{meta: meta, body: body, bodyLen: bodyLen, codec: ipcCodecNone}
	rows := rb.int64(ipcSlotBatchLength, 0)
	if rows < 0 || rows > 1<<40 {
		ipcCorruptf("record batch with %d rows", rows)
	}
	b.rows = int(rows)
	b.nodes, b.nNodes = rb.vector(ipcSlotBatchNodes, 16)
	b.bufs, b.nBufs = rb.vector(ipcSlotBatchBuffers, 16)
	if c, ok := rb.table(ipcSlotBatchCompression); ok {
		b.codec = int(c.uint8(ipcSlotCompressionCodec, 0))
		if b.codec != ipcCodecLZ4 && b.codec != ipcCodecZstd {
			ipcCorruptf("unknown compression codec %d", b.codec)
		}
		if c.uint8(ipcSlotCompressionMeth, 0) != 0 {
			ipcCorruptf("unknown compression method")
		}
	}
	vs, vn := rb.vector(ipcSlotBatchVariadic, 8)
	for k := 0; k < vn; k++ {
		v := int64(ipcGetU64(meta, vs+8*k))
		if v < 0 || v > int64(b.nBufs) {
			ipcCorruptf("bad variadic buffer count %d", v)
		}
		b.variadic = append(b.variadic, v)
	}
	for i := 0; i < b.nBufs; i++ {
		off := int64(ipcGetU64(meta, b.bufs+16*i))
		n := int64(ipcGetU64(meta, b.bufs+16*i+8))
		if off < 0 || n < 0 || off > bodyLen || n > bodyLen-off {
			ipcCorruptf("buffer %d at %d with length %d outside its record batch body", i, off, n)
		}
	}
	return b
}

// parseMessage reads a record or dictionary batch message whose body starts
// at body and holds bodyLen bytes. It returns the header type and the located
// batch (with, for a dictionary, its id and delta flag).
func (r *ipcFile) parseMessage(meta []byte, body int64, bodyLen int64) (typ uint8, b *ipcBatch, d *ipcDict) {
	msg := ipcRoot(meta)
	typ = msg.uint8(ipcSlotMessageHeaderTyp, 0)
	h, ok := msg.table(ipcSlotMessageHeader)
	if !ok {
		ipcCorruptf("message without a header")
	}
	switch typ {
	case ipcHeaderRecord:
		b = r.parseBatch(meta, h, body, bodyLen)
	case ipcHeaderDictionary:
		data, ok := h.table(ipcSlotDictBatchData)
		if !ok {
			ipcCorruptf("dictionary batch without data")
		}
		d = &ipcDict{id: h.int64(ipcSlotDictBatchID, 0), delta: h.uint8(ipcSlotDictBatchDelta, 0) != 0,
			batch: r.parseBatch(meta, data, body, bodyLen)}
	}
	return typ, b, d
}

// schemaDictIDs reads the dictionary id of each field (-1 for none) from a
// Schema table.
func schemaDictIDs(s ipcTable, nfields int) []int64 {
	start, n := s.vector(ipcSlotSchemaFields, 4)
	if n != nfields {
		ipcCorruptf("schema has %d fields, expected %d", n, nfields)
	}
	ids := make([]int64, n)
	for k := 0; k < n; k++ {
		f := s.vectorTable(start, k)
		ids[k] = -1
		if d, ok := f.table(ipcSlotFieldDictionary); ok {
			ids[k] = d.int64(ipcSlotDictEncID, 0)
		}
	}
	return ids
}

// openIPC opens an Arrow IPC file or stream and locates its batches.
func openIPC(f *os.File, path string) (r *ipcFile, err error) {
	defer ipcRecover(path, &err)
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("columnar: %s: %w", path, err)
	}
	r = &ipcFile{f: f, path: path, size: st.Size(), dicts: map[int64][]*ipcDictVersion{}}
	var head [8]byte
	n, _ := f.ReadAt(head[:], 0)
	var (
		schema  *arrow.Schema
		dictIDs []int64
		dicts   []*ipcDict
	)
	switch {
	case n >= 6 && bytes.Equal(head[:6], arrowMagic):
		schema, dictIDs, dicts, err = r.openFileFormat()
	case n >= 8 && (binary.LittleEndian.Uint32(head[:4]) == 0xFFFFFFFF || // stream
		int32(binary.LittleEndian.Uint32(head[:4])) > 0 && int64(binary.LittleEndian.Uint32(head[:4])) <= r.size-4): // pre-0.15 stream
		schema, dictIDs, dicts, err = r.openStreamFormat()
	default:
		return nil, inputErrorf(path, "not an Arrow IPC file (no ARROW1 magic and no IPC stream message)")
	}
	if err != nil {
		return nil, err
	}
	if err := r.setColumns(schema, dictIDs); err != nil {
		return nil, err
	}
	r.schema = schema
	for k, b := range r.batches {
		r.checkBatch(b)
		b.index = k
		b.row0 = r.rows
		r.rows += b.rows
	}
	if err := r.loadDictionaries(dicts); err != nil {
		return nil, err
	}
	return r, nil
}

// arrowSchemaOf runs open, turning a panic of arrow-go on damaged metadata
// into an error (ipc.NewFileReader, for one, does not recover from
// out-of-range flatbuffer offsets).
func arrowSchemaOf(open func() (*arrow.Schema, error)) (schema *arrow.Schema, err error) {
	defer func() {
		if p := recover(); p != nil {
			schema, err = nil, fmt.Errorf("damaged metadata (%v)", p)
		}
	}()
	return open()
}

func (r *ipcFile) openFileFormat() (*arrow.Schema, []int64, []*ipcDict, error) {
	// The file format is the magic padded to 8 bytes, a stream (starting
	// with the schema), the footer, its length and the magic again.
	schema, ids, _, err := r.readSchema(8)
	if err != nil {
		return nil, nil, nil, err
	}

	// The footer: its flatbuffer, its length, then the magic.
	var tail [10]byte
	if r.size < 18 {
		ipcCorruptf("file too short")
	}
	if err := r.readAt(tail[:], r.size-10); err != nil {
		return nil, nil, nil, err
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > r.size-18 {
		ipcCorruptf("bad footer length %d", n)
	}
	footer := make([]byte, n)
	if err := r.readAt(footer, r.size-10-n); err != nil {
		return nil, nil, nil, err
	}
	if !bytes.Equal(tail[4:], arrowMagic) {
		ipcCorruptf("no footer (the file is truncated, or an Arrow stream with a file's magic)")
	}
	ft := ipcRoot(footer)

	block := func(start, k int) (*ipcBatch, *ipcDict, uint8, error) {
		p := start + 24*k
		off := int64(ipcGetU64(footer, p))
		metaLen := int64(int32(ipcGetU32(footer, p+8)))
		bodyLen := int64(ipcGetU64(footer, p+16))
		meta, _, err := r.readMessage(off)
		if err != nil {
			return nil, nil, 0, err
		}
		if meta == nil {
			ipcCorruptf("empty message at offset %d", off)
		}
		typ, b, d := r.parseMessage(meta, off+metaLen, bodyLen)
		return b, d, typ, nil
	}
	var dicts []*ipcDict
	start, nd := ft.vector(ipcSlotFooterDicts, 24)
	for k := 0; k < nd; k++ {
		_, d, typ, err := block(start, k)
		if err != nil {
			return nil, nil, nil, err
		}
		if typ != ipcHeaderDictionary {
			ipcCorruptf("dictionary block %d is not a dictionary batch", k)
		}
		dicts = append(dicts, d)
	}
	start, nb := ft.vector(ipcSlotFooterBatches, 24)
	for k := 0; k < nb; k++ {
		b, _, typ, err := block(start, k)
		if err != nil {
			return nil, nil, nil, err
		}
		if typ != ipcHeaderRecord {
			ipcCorruptf("record block %d is not a record batch", k)
		}
		r.batches = append(r.batches, b)
	}
	return schema, ids, dicts, nil
}

func (r *ipcFile) openStreamFormat() (*arrow.Schema, []int64, []*ipcDict, error) {
	schema, ids, off, err := r.readSchema(0)
	if err != nil {
		return nil, nil, nil, err
	}
	var dicts []*ipcDict
	for off < r.size {
		meta, body, err := r.readMessage(off)
		if err != nil {
			return nil, nil, nil, err
		}
		if meta == nil { // end of stream
			break
		}
		bodyLen := ipcRoot(meta).int64(ipcSlotMessageBodyLen, 0)
		if bodyLen < 0 || bodyLen > r.size-body {
			ipcCorruptf("message body beyond the end of the file")
		}
		typ, b, d := r.parseMessage(meta, body, bodyLen)
		switch typ {
		case ipcHeaderRecord:
			r.batches = append(r.batches, b)
		case ipcHeaderDictionary:
			d.before = len(r.batches)
			dicts = append(dicts, d)
		default:
			ipcCorruptf("unexpected message type %d", typ)
		}
		off = body + bodyLen
	}
	return schema, ids, dicts, nil
}

// readSchema reads the schema message at off: it checks the metadata as
// arrow-go will walk it, lets arrow-go decode it, and returns the schema, the
// dictionary id of each field and the offset of the next message.
func (r *ipcFile) readSchema(off int64) (*arrow.Schema, []int64, int64, error) {
	meta, body, err := r.readMessage(off)
	if err != nil {
		return nil, nil, 0, err
	}
	if meta == nil {
		ipcCorruptf("no schema")
	}
	msg := ipcRoot(meta)
	st, ok := msg.table(ipcSlotMessageHeader)
	if !ok || msg.uint8(ipcSlotMessageHeaderTyp, 0) != ipcHeaderSchema {
		ipcCorruptf("the stream does not start with a schema")
	}
	bodyLen := msg.int64(ipcSlotMessageBodyLen, 0)
	if bodyLen < 0 || bodyLen > r.size-body {
		ipcCorruptf("message body beyond the end of the file")
	}
	ipcCheckKV(msg, ipcSlotMessageMetadata)
	ipcCheckSchema(st)
	if st.int16(ipcSlotSchemaEndianness, 0) != 0 {
		return nil, nil, 0, inputErrorf(r.path, "big-endian Arrow data is not supported")
	}
	schema, err := arrowSchemaOf(func() (*arrow.Schema, error) {
		sr, err := ipc.NewReader(io.NewSectionReader(r.f, off, r.size-off), ipc.WithAllocator(arrowAlloc))
		if err != nil {
			return nil, err
		}
		defer sr.Release()
		return sr.Schema(), nil
	})
	if err != nil {
		return nil, nil, 0, ipcCorruptError(r.path, err.Error())
	}
	return schema, schemaDictIDs(st, schema.NumFields()), body + bodyLen, nil
}

// ipcCheckSchema walks a Schema table as arrow-go's decoder will, so that
// damaged metadata is rejected here: arrow-go sizes allocations by vector
// lengths and recurses into child fields without a limit, and neither can be
// recovered from.
func ipcCheckSchema(s ipcTable) {
	visits := len(s.b)/8 + 1 // a field takes more than 8 bytes of metadata
	start, n := s.vector(ipcSlotSchemaFields, 4)
	for k := 0; k < n; k++ {
		ipcCheckField(s.vectorTable(start, k), 0, &visits)
	}
	ipcCheckKV(s, ipcSlotSchemaMetadata)
	s.vector(ipcSlotSchemaFeatures, 8)
}

func ipcCheckField(f ipcTable, depth int, visits *int) {
	*visits--
	if depth > 64 || *visits < 0 {
		ipcCorruptf("schema nested too deeply")
	}
	f.vector(ipcSlotFieldName, 1)
	if t, ok := f.table(ipcSlotFieldType); ok {
		switch f.uint8(ipcSlotFieldTypeType, 0) {
		case ipcTypeTimestamp:
			t.vector(ipcSlotTimezone, 1)
		case ipcTypeUnion:
			t.vector(ipcSlotUnionTypeIDs, 4)
		}
	}
	if d, ok := f.table(ipcSlotFieldDictionary); ok {
		d.table(ipcSlotDictEncIndexType)
	}
	ipcCheckKV(f, ipcSlotFieldMetadata)
	start, n := f.vector(ipcSlotFieldChildren, 4)
	for k := 0; k < n; k++ {
		ipcCheckField(f.vectorTable(start, k), depth+1, visits)
	}
}

// ipcCheckKV checks a vector of KeyValue tables (custom metadata).
func ipcCheckKV(t ipcTable, slot int) {
	start, n := t.vector(slot, 4)
	for k := 0; k < n; k++ {
		kv := t.vectorTable(start, k)
		kv.vector(ipcSlotKeyValueKey, 1)
		kv.vector(ipcSlotKeyValueValue, 1)
	}
}

// setColumns classifies the schema's fields and counts their buffers. Only
// numbers and strings can be read, and the layouts refuse other columns, but
// any flat column can be present; nested types (lists, structs, maps,
// unions) are refused here.
func (r *ipcFile) setColumns(schema *arrow.Schema, dictIDs []int64) error {
	r.cols = make([]ipcCol, schema.NumFields())
	buf, views := 0, 0
	for i, fld := range schema.Fields() {
		c := ipcCol{name: fld.Name, typ: fld.Type, dictID: dictIDs[i], view: -1}
		if t, ok := fld.Type.(*arrow.DictionaryType); ok {
			c.nbufs = 2 // validity, indices
			if c.idx, c.val = ipcNumOf(t.IndexType), ipcStrOf(t.ValueType); c.idx.integer() && c.val != ipcStrNone {
				c.str = ipcStrDict
			}
		} else {
			c.num, c.str = ipcNumOf(fld.Type), ipcStrOf(fld.Type)
			switch {
			case c.str == ipcStrView:
				c.nbufs = 2 // validity, views; then variadic data buffers
				c.view = views
				views++
			case c.str != ipcStrNone:
				c.nbufs = 3 // validity, offsets, data
			case fld.Type.ID() == arrow.NULL:
				c.nbufs = 0
			case arrow.IsPrimitive(fld.Type.ID()) || fld.Type.ID() == arrow.FIXED_SIZE_BINARY ||
				fld.Type.ID() == arrow.DECIMAL32 || fld.Type.ID() == arrow.DECIMAL64 ||
				fld.Type.ID() == arrow.DECIMAL128 || fld.Type.ID() == arrow.DECIMAL256:
				c.nbufs = 2 // validity, values
			default:
				return &InputError{File: r.path, Sample: fld.Name, Msg: fmt.Sprintf("column has the nested type %s; want numbers or strings", fld.Type)}
			}
		}
		c.buf0 = buf
		buf += c.nbufs
		r.cols[i] = c
	}
	return nil
}

// checkBatch verifies that a record batch has a node and the buffers for
// every column, with the batch's number of rows, so that reading needs no
// further checks of the metadata.
func (r *ipcFile) checkBatch(b *ipcBatch) {
	if b.nNodes != len(r.cols) {
		ipcCorruptf("record batch has %d columns, the schema %d", b.nNodes, len(r.cols))
	}
	views := 0
	for _, c := range r.cols {
		if c.view >= 0 {
			views++
		}
	}
	if len(b.variadic) < views {
		ipcCorruptf("record batch lacks variadic buffer counts")
	}
	need := 0
	for c := range r.cols {
		need += r.cols[c].nbufs
		if r.cols[c].view >= 0 {
			need += int(b.variadic[r.cols[c].view])
		}
		length := int64(binary.LittleEndian.Uint64(b.meta[b.nodes+16*c:]))
		nulls := int64(binary.LittleEndian.Uint64(b.meta[b.nodes+16*c+8:]))
		if length != int64(b.rows) || nulls < 0 || nulls > length {
			ipcCorruptf("column %q has %d values (%d null) in a batch of %d rows", r.cols[c].name, length, nulls, b.rows)
		}
	}
	if b.nBufs < need {
		ipcCorruptf("record batch has %d buffers, needs %d", b.nBufs, need)
	}
}

// loadDictionaries decodes the dictionaries of string columns.
func (r *ipcFile) loadDictionaries(dicts []*ipcDict) error {
	for _, d := range dicts {
		var col *ipcCol
		for i := range r.cols {
			if r.cols[i].str == ipcStrDict && r.cols[i].dictID == d.id {
				col = &r.cols[i]
				break
			}
		}
		if col == nil {
			continue
		}
		b := d.batch
		if b.nNodes < 1 {
			ipcCorruptf("dictionary batch without a column")
		}
		vc := ipcCol{name: col.name, str: col.val, nbufs: 3, view: -1}
		if vc.str == ipcStrView {
			vc.nbufs, vc.view = 2, 0
			if len(b.variadic) < 1 {
				ipcCorruptf("dictionary batch lacks variadic buffer counts")
			}
		}
		length := int64(binary.LittleEndian.Uint64(b.meta[b.nodes:]))
		need := vc.nbufs
		if vc.view >= 0 {
			need += int(b.variadic[0])
		}
		if length != int64(b.rows) || b.nBufs < need {
			ipcCorruptf("malformed dictionary batch for column %q", col.name)
		}
		// A delta appends to the current version (the batches before it use
		// no index beyond the old end); otherwise a new version starts.
		versions := r.dicts[d.id]
		if !d.delta || len(versions) == 0 {
			versions = append(versions, &ipcDictVersion{from: d.before})
			r.dicts[d.id] = versions
		}
		dv := versions[len(versions)-1]
		cur, err := r.newStrCursor(b, []ipcCol{vc}, 0)
		if err != nil {
			return err
		}
		n0 := len(dv.values)
		cur.onNull = func() error { // a null entry is an error only where it is used
			if dv.null == nil {
				dv.null = make([]bool, len(dv.values), n0+b.rows)
			}
			dv.values = append(dv.values, "")
			dv.null = append(dv.null, true)
			return nil
		}
		err = cur.next(b.rows, func(v []byte, _ int) error {
			dv.values = append(dv.values, string(v))
			if dv.null != nil {
				dv.null = append(dv.null, false)
			}
			return nil
		})
		cur.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- reading buffers ----

var (
	ipcLZ4Readers  = sync.Pool{New: func() any { return lz4.NewReader(nil) }}
	ipcZstdReaders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil
		}
		return d
	}}
)

// openBuf returns a reader of buffer i of batch b, decompressed, and a
// function that releases it.
func (r *ipcFile) openBuf(b *ipcBatch, i int) (io.Reader, func(), error) {
	off, n := b.buffer(i)
	nop := func() {}
	if b.codec == ipcCodecNone || n == 0 {
		return io.NewSectionReader(r.f, off, n), nop, nil
	}
	if n < 8 {
		return nil, nil, ipcCorruptError(r.path, "compressed buffer shorter than its length prefix")
	}
	var pre [8]byte
	if err := r.readAt(pre[:], off); err != nil {
		return nil, nil, err
	}
	src := io.NewSectionReader(r.f, off+8, n-8)
	if int64(binary.LittleEndian.Uint64(pre[:])) == -1 { // stored uncompressed
		return src, nop, nil
	}
	switch b.codec {
	case ipcCodecLZ4:
		zr := ipcLZ4Readers.Get().(*lz4.Reader)
		zr.Reset(src)
		return zr, func() { zr.Reset(nil); ipcLZ4Readers.Put(zr) }, nil
	default:
		zr, _ := ipcZstdReaders.Get().(*zstd.Decoder)
		if zr == nil {
			return nil, nil, fmt.Errorf("columnar: %s: cannot make a zstd decoder", r.path)
		}
		if err := zr.Reset(src); err != nil {
			return nil, nil, ipcCorruptError(r.path, err.Error())
		}
		return zr, func() { zr.Reset(nil); ipcZstdReaders.Put(zr) }, nil
	}
}

// readFull fills p from a buffer's reader; running short means corruption.
func (r *ipcFile) readFull(rd io.Reader, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if _, err := io.ReadFull(rd, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return ipcCorruptError(r.path, "a buffer is shorter than its values")
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("columnar: reading %s: %w", r.path, err)
		}
		return ipcCorruptError(r.path, err.Error())
	}
	return nil
}

// wholeBuf reads all of buffer i of batch b, decompressed.
func (r *ipcFile) wholeBuf(b *ipcBatch, i int) ([]byte, error) {
	rd, release, err := r.openBuf(b, i)
	if err != nil {
		return nil, err
	}
	defer release()
	p, err := io.ReadAll(rd)
	if err != nil {
		return nil, ipcCorruptError(r.path, err.Error())
	}
	return p, nil
}

// readGrowing reads exactly n bytes from rd into *p (reused when it is
// large enough), growing it as the bytes arrive: a damaged length (string
// offsets that claim a terabyte) allocates no more than about twice what rd
// holds before running short.
func (r *ipcFile) readGrowing(rd io.Reader, p *[]byte, n int64) ([]byte, error) {
	if n <= int64(cap(*p)) {
		b := (*p)[:n]
		return b, r.readFull(rd, b)
	}
	b := (*p)[:0]
	for int64(len(b)) < n {
		step := int(min(n-int64(len(b)), max(int64(len(b)), 1<<16)))
		b = slices.Grow(b, step)
		*p = b
		if err := r.readFull(rd, b[len(b):len(b)+step]); err != nil {
			return nil, err
		}
		b = b[:len(b)+step]
	}
	*p = b
	return b, nil
}

func ipcGrow(p *[]byte, n int) []byte {
	if cap(*p) < n {
		*p = make([]byte, n)
	}
	return (*p)[:n]
}

// ---- column cursors: a column of one batch read a chunk of rows at a time ----

// ipcChunk is the number of rows a long file is read by; a multiple of 8
// so that every chunk starts on a byte of the validity bitmaps.
const ipcChunk = 1 << 13

// ipcNumCursor reads a numeric column of one batch.
type ipcNumCursor struct {
	r       *ipcFile
	kind    ipcNum
	allNull bool
	valid   io.Reader
	vals    io.Reader
	release []func()
	vbuf    []byte
	nbuf    []byte
}

func (r *ipcFile) newNumCursor(b *ipcBatch, c int) (*ipcNumCursor, error) {
	col := &r.cols[c]
	cur := &ipcNumCursor{r: r, kind: col.num}
	nulls := b.nullCount(c)
	if nulls == b.rows {
		cur.allNull = true
		return cur, nil
	}
	bi := b.bufIndex(r.cols, c)
	if nulls > 0 {
		rd, rel, err := r.openBuf(b, bi)
		if err != nil {
			return nil, err
		}
		cur.valid = rd
		cur.release = append(cur.release, rel)
	}
	rd, rel, err := r.openBuf(b, bi+1)
	if err != nil {
		cur.close()
		return nil, err
	}
	cur.vals = rd
	cur.release = append(cur.release, rel)
	return cur, nil
}

// next reads the next len(dst) values; every chunk but the last must be a
// multiple of 8 rows.
func (c *ipcNumCursor) next(dst []float64) error {
	if c.allNull {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return nil
	}
	if c.kind == ipcF64 && ipcNativeLE {
		if err := c.r.readFull(c.vals, bytesOf(dst)); err != nil {
			return err
		}
	} else {
		raw := ipcGrow(&c.nbuf, len(dst)*c.kind.width())
		if err := c.r.readFull(c.vals, raw); err != nil {
			return err
		}
		ipcDecodeNums(dst, raw, c.kind)
	}
	if c.valid != nil {
		vb := ipcGrow(&c.vbuf, (len(dst)+7)/8)
		if err := c.r.readFull(c.valid, vb); err != nil {
			return err
		}
		ipcMaskNulls(dst, vb)
	}
	return nil
}

func (c *ipcNumCursor) close() {
	for _, f := range c.release {
		f()
	}
	c.release = nil
}

// ipcStrCursor reads a string column of one batch.
type ipcStrCursor struct {
	r       *ipcFile
	col     *ipcCol
	row     int // next row, in the whole table
	valid   io.Reader
	main    io.Reader // offsets, views or dictionary indices
	data    io.Reader // string bytes of offset layouts
	vdata   [][]byte  // variadic data buffers of views
	dv      *ipcDictVersion
	dict    []string
	onNull  func() error
	prev    int64 // last offset read
	started bool
	release []func()
	vbuf    []byte
	mbuf    []byte
	dbuf    []byte
}

// newStrCursor opens column c (described by cols[c]) of batch b.
func (r *ipcFile) newStrCursor(b *ipcBatch, cols []ipcCol, c int) (_ *ipcStrCursor, err error) {
	col := &cols[c]
	cur := &ipcStrCursor{r: r, col: col, row: b.row0}
	defer func() {
		if err != nil {
			cur.close()
		}
	}()
	bi := b.bufIndex(cols, c)
	open := func(i int) (io.Reader, error) {
		rd, rel, err := r.openBuf(b, i)
		if err != nil {
			return nil, err
		}
		cur.release = append(cur.release, rel)
		return rd, nil
	}
	if b.nullCount(c) > 0 {
		if cur.valid, err = open(bi); err != nil {
			return nil, err
		}
	}
	if cur.main, err = open(bi + 1); err != nil {
		return nil, err
	}
	switch col.str {
	case ipcStrOff32, ipcStrOff64:
		if cur.data, err = open(bi + 2); err != nil {
			return nil, err
		}
	case ipcStrView:
		nv := int(b.variadic[col.view])
		for k := 0; k < nv; k++ {
			p, err := r.wholeBuf(b, bi+2+k)
			if err != nil {
				return nil, err
			}
			cur.vdata = append(cur.vdata, p)
		}
	case ipcStrDict:
		cur.dv = r.dict(col.dictID, b.index)
		if cur.dv == nil {
			return nil, ipcCorruptError(r.path, fmt.Sprintf("column %s has no dictionary", col.name))
		}
		cur.dict = cur.dv.values
	}
	return cur, nil
}

// next reads the next k strings, calling fn with each (v is only valid
// during the call; di is the dictionary index, -1 for other layouts). A
// missing string is an InputError, unless onNull is set: it is then called
// instead of fn.
func (c *ipcStrCursor) next(k int, fn func(v []byte, di int) error) error {
	var valid []byte
	if c.valid != nil {
		valid = ipcGrow(&c.vbuf, (k+7)/8)
		if err := c.r.readFull(c.valid, valid); err != nil {
			return err
		}
	}
	isNull := func(i int) bool { return valid != nil && valid[i>>3]&(1<<(i&7)) == 0 }
	nullErr := func(i int) error {
		if c.onNull != nil {
			return c.onNull()
		}
		return &InputError{File: c.r.path, Msg: fmt.Sprintf("row %d: column %s has a missing value", c.row+i+1, c.col.name)}
	}
	le := binary.LittleEndian
	switch c.col.str {
	case ipcStrOff32, ipcStrOff64:
		w := 4
		if c.col.str == ipcStrOff64 {
			w = 8
		}
		// offsets[0] is c.prev (read with the first chunk), offsets[1..k] follow.
		raw := ipcGrow(&c.mbuf, (k+1)*w)
		if !c.started {
			if err := c.r.readFull(c.main, raw[:w]); err != nil {
				return err
			}
		} else if w == 4 {
			le.PutUint32(raw, uint32(c.prev))
		} else {
			le.PutUint64(raw, uint64(c.prev))
		}
		if err := c.r.readFull(c.main, raw[w:]); err != nil {
			return err
		}
		off := func(i int) int64 {
			if w == 4 {
				return int64(int32(le.Uint32(raw[i*4:])))
			}
			return int64(le.Uint64(raw[i*8:]))
		}
		first, last := off(0), off(k)
		if !c.started {
			c.started = true
			if first < 0 || first > 1<<40 {
				return ipcCorruptError(c.r.path, "bad string offset")
			}
			if _, err := io.CopyN(io.Discard, c.data, first); err != nil {
				return ipcCorruptError(c.r.path, "string offsets beyond the data")
			}
		}
		if last < first || last-first > 1<<40 {
			return ipcCorruptError(c.r.path, "string offsets out of order")
		}
		data, err := c.r.readGrowing(c.data, &c.dbuf, last-first)
		if err != nil {
			return err
		}
		c.prev = last
		for i := 0; i < k; i++ {
			a, z := off(i)-first, off(i+1)-first
			if a < 0 || z < a || z > int64(len(data)) {
				return ipcCorruptError(c.r.path, "string offsets out of order")
			}
			if isNull(i) {
				if err := nullErr(i); err != nil {
					return err
				}
				continue
			}
			if err := fn(data[a:z], -1); err != nil {
				return err
			}
		}
	case ipcStrView:
		raw := ipcGrow(&c.mbuf, 16*k)
		if err := c.r.readFull(c.main, raw); err != nil {
			return err
		}
		for i := 0; i < k; i++ {
			if isNull(i) {
				if err := nullErr(i); err != nil {
					return err
				}
				continue
			}
			v := raw[16*i : 16*i+16]
			n := int(int32(le.Uint32(v)))
			var s []byte
			if n >= 0 && n <= 12 {
				s = v[4 : 4+n]
			} else {
				bi, off := int(int32(le.Uint32(v[8:]))), int(int32(le.Uint32(v[12:])))
				if n < 0 || bi < 0 || bi >= len(c.vdata) || off < 0 || off > len(c.vdata[bi])-n {
					return ipcCorruptError(c.r.path, "string view outside its data")
				}
				s = c.vdata[bi][off : off+n]
			}
			if err := fn(s, -1); err != nil {
				return err
			}
		}
	case ipcStrDict:
		raw := ipcGrow(&c.mbuf, k*c.col.idx.width())
		if err := c.r.readFull(c.main, raw); err != nil {
			return err
		}
		for i := 0; i < k; i++ {
			if isNull(i) {
				if err := nullErr(i); err != nil {
					return err
				}
				continue
			}
			di := ipcIndexAt(raw, i, c.col.idx)
			if di < 0 || di >= len(c.dict) {
				return ipcCorruptError(c.r.path, fmt.Sprintf("dictionary index %d out of range", di))
			}
			if c.dv.null != nil && c.dv.null[di] {
				if err := nullErr(i); err != nil {
					return err
				}
				continue
			}
			s := c.dict[di]
			if err := fn(unsafe.Slice(unsafe.StringData(s), len(s)), di); err != nil {
				return err
			}
		}
	}
	c.row += k
	return nil
}

func (c *ipcStrCursor) close() {
	for _, f := range c.release {
		f()
	}
	c.release = nil
}

// forStrings calls fn with every string of column c, in row order.
func (r *ipcFile) forStrings(c int, fn func(v []byte, di int) error) error {
	for _, b := range r.batches {
		cur, err := r.newStrCursor(b, r.cols, c)
		if err != nil {
			return err
		}
		for left := b.rows; left > 0; {
			k := min(left, ipcChunk)
			if err := cur.next(k, fn); err != nil {
				cur.close()
				return err
			}
			left -= k
		}
		cur.close()
	}
	return nil
}

// readNums reads numeric column c of every batch into dst (one value per row).
func (r *ipcFile) readNums(c int, dst []float64) error {
	for _, b := range r.batches {
		if b.rows == 0 {
			continue
		}
		out := dst[b.row0 : b.row0+b.rows]
		if r.cols[c].num == ipcF64 && ipcNativeLE && b.codec == ipcCodecNone && b.nullCount(c) == 0 {
			// The common case: one ReadAt straight into dst.
			off, n := b.buffer(b.bufIndex(r.cols, c) + 1)
			if n < int64(len(out))*8 {
				return ipcCorruptError(r.path, "a buffer is shorter than its values")
			}
			if err := r.readAt(bytesOf(out), off); err != nil {
				return err
			}
			continue
		}
		cur, err := r.newNumCursor(b, c)
		if err != nil {
			return err
		}
		scratch := ipcScratchPool.Get().(*ipcScratch)
		cur.nbuf, cur.vbuf = scratch.n, scratch.v
		err = cur.next(out)
		scratch.n, scratch.v = cur.nbuf, cur.vbuf
		ipcScratchPool.Put(scratch)
		cur.close()
		if err != nil {
			return err
		}
	}
	return nil
}

// ipcScratch holds the buffers of a numeric cursor between ReadColumn calls.
type ipcScratch struct{ n, v []byte }

var ipcScratchPool = sync.Pool{New: func() any { return new(ipcScratch) }}

func (r *ipcFile) close() error { return r.f.Close() }

// ---- the sources ----

// ipcKeys numbers strings in order of first appearance.
type ipcKeys struct {
	index    map[string]int32
	names    []string
	dictKeys map[*ipcDictVersion][]int32 // keys of dictionary entries, -1 until seen
}

func newIPCKeys() *ipcKeys {
	return &ipcKeys{index: map[string]int32{}, dictKeys: map[*ipcDictVersion][]int32{}}
}

func (t *ipcKeys) key(v []byte) (k int32, added bool) {
	if k, ok := t.index[string(v)]; ok {
		return k, false
	}
	s := string(v)
	k = int32(len(t.names))
	t.index[s] = k
	t.names = append(t.names, s)
	return k, true
}

// arrowSource is a matrix read from an Arrow IPC file: wide files are read
// from the file itself, long and samples-as-rows files from a Spill.
type arrowSource struct {
	path    string
	genes   []string
	samples []string
	integer bool
	file    *ipcFile // wide
	cols    []int    // wide: the field of each sample
	spill   *Spill   // long, samples as rows
}

func (s *arrowSource) Path() string      { return s.path }
func (s *arrowSource) Genes() []string   { return s.genes }
func (s *arrowSource) Samples() []string { return s.samples }
func (s *arrowSource) Integer() bool     { return s.integer }

func (s *arrowSource) ReadColumn(j int, dst []float64) (err error) {
	if len(dst) != len(s.genes) {
		panic("columnar: ReadColumn: dst length does not match the number of genes")
	}
	if s.spill != nil {
		return s.spill.ReadColumn(j, dst)
	}
	if s.file == nil {
		return nil
	}
	defer ipcRecover(s.path, &err)
	if err := s.file.readNums(s.cols[j], dst); err != nil {
		if ie, ok := err.(*InputError); ok && ie.Sample == "" {
			ie.Sample = s.samples[j]
		}
		return err
	}
	return nil
}

func (s *arrowSource) Close() error {
	var err error
	if s.file != nil {
		err = s.file.close()
		s.file = nil
	}
	if s.spill != nil {
		if e := s.spill.Close(); err == nil {
			err = e
		}
		s.spill = nil
	}
	return err
}

// openArrowFile opens an Arrow IPC file (or stream) as a Source.
func openArrowFile(path string, opts Options) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &InputError{File: path, Msg: "cannot open: " + ipcTrimPathErr(err, path)}
	}
	r, err := openIPC(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	src, err := newArrowSource(r, opts)
	if err != nil {
		r.close()
		return nil, err
	}
	if src.file == nil { // transposed into a spill: the file is done with
		r.close()
	}
	return src, nil
}

func ipcTrimPathErr(err error, path string) string {
	if pe, ok := err.(*os.PathError); ok && pe.Path == path {
		return pe.Err.Error()
	}
	return err.Error()
}

func newArrowSource(r *ipcFile, opts Options) (src *arrowSource, err error) {
	defer ipcRecover(r.path, &err)
	cols := r.cols
	long := false
	switch opts.Layout {
	case LayoutAuto:
		long = len(cols) == 3 && cols[0].str != ipcStrNone && cols[1].str != ipcStrNone && cols[2].num != ipcNumNone
		if len(cols) == 3 && cols[0].str != ipcStrNone && cols[1].str != ipcStrNone && !long && !opts.SamplesAsRows {
			return nil, inputErrorf(r.path, "the third column %q is %s, not numeric: a long table (gene id, sample id, value) needs numeric values, and a wide one numeric sample columns", cols[2].name, cols[2].typ)
		}
	case LayoutLong:
		if len(cols) != 3 || cols[0].str == ipcStrNone || cols[1].str == ipcStrNone || cols[2].num == ipcNumNone {
			return nil, inputErrorf(r.path, "a long table needs three columns: gene id (string), sample id (string), value (number); found %s", ipcDescribeCols(cols))
		}
		long = true
	case LayoutWide:
	default:
		return nil, inputErrorf(r.path, "unknown layout %q (want wide or long)", opts.Layout)
	}
	if long {
		return loadLongArrow(r, opts)
	}
	// Wide, either way round: the first string column holds the ids (first in
	// the contract; pandas writes its index last), every other column is a
	// number.
	id := -1
	for c := range cols {
		if cols[c].str != ipcStrNone {
			id = c
			break
		}
	}
	what := "gene"
	if opts.SamplesAsRows {
		what = "sample"
	}
	if id < 0 {
		return nil, inputErrorf(r.path, "no string column of %s ids (found %s)", what, ipcDescribeCols(cols))
	}
	var names []string
	var numCols []int
	seen := map[string]bool{}
	integer := true
	for c := range cols {
		if c == id {
			continue
		}
		if cols[c].num == ipcNumNone {
			if opts.SamplesAsRows {
				return nil, &InputError{File: r.path, Gene: cols[c].name, Msg: fmt.Sprintf("column of type %s is not numeric", cols[c].typ)}
			}
			return nil, &InputError{File: r.path, Sample: cols[c].name, Msg: fmt.Sprintf("column of type %s is not numeric", cols[c].typ)}
		}
		if seen[cols[c].name] {
			if opts.SamplesAsRows {
				return nil, &InputError{File: r.path, Gene: cols[c].name, Msg: "duplicate gene id: it appears twice"}
			}
			return nil, &InputError{File: r.path, Sample: cols[c].name, Msg: "duplicate sample name: it appears twice"}
		}
		seen[cols[c].name] = true
		integer = integer && cols[c].num.integer()
		names = append(names, cols[c].name)
		numCols = append(numCols, c)
	}
	ids := newIPCKeys()
	err = r.forStrings(id, func(v []byte, _ int) error {
		if _, added := ids.key(v); !added {
			if opts.SamplesAsRows {
				return &InputError{File: r.path, Sample: string(v), Msg: "duplicate sample id: it appears twice"}
			}
			return &InputError{File: r.path, Gene: string(v), Msg: "duplicate gene id: it appears twice"}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !opts.SamplesAsRows {
		return &arrowSource{path: r.path, genes: ids.names, samples: names, integer: integer, file: r, cols: numCols}, nil
	}

	// Samples as rows: each gene column is a row of the genes x samples
	// matrix, so a row spill takes them in order.
	src = &arrowSource{path: r.path, genes: names, samples: ids.names, integer: integer}
	if len(src.samples) == 0 || len(src.genes) == 0 {
		return src, nil
	}
	sp, err := NewRowSpill(opts.TempDir, len(src.samples), opts.spillBudget())
	if err != nil {
		return nil, err
	}
	row := make([]float64, len(src.samples))
	for g, c := range numCols {
		if err := r.readNums(c, row); err != nil {
			sp.Close()
			if ie, ok := err.(*InputError); ok && ie.Gene == "" {
				ie.Gene = src.genes[g]
			}
			return nil, err
		}
		if err := sp.AppendRow(row); err != nil {
			sp.Close()
			return nil, err
		}
	}
	if err := sp.Flush(); err != nil {
		sp.Close()
		return nil, err
	}
	src.spill = sp
	return src, nil
}

func ipcDescribeCols(cols []ipcCol) string {
	var b bytes.Buffer
	for i, c := range cols {
		if i == 3 {
			fmt.Fprintf(&b, ", ... (%d columns)", len(cols))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", c.name, c.typ)
	}
	if len(cols) == 0 {
		return "no columns"
	}
	return b.String()
}

// ---- long tables ----

// ipcTripleSize is the bytes of one (gene, sample, value) row in the temporary
// files of a long table: uint32 gene, uint32 sample, float64 value.
const ipcTripleSize = 16

// ipcMaxBuckets bounds the number of bucket files an unsorted long table is
// distributed into (and so the open files and their write buffers).
const ipcMaxBuckets = 64

// loadLongArrow reads a long table into a Spill. The first pass numbers the
// genes and samples in order of first appearance and writes each row as a
// (gene, sample, value) triple to a temporary file. Rows grouped by sample
// (as long writers emit them) are then read back in windows of as many
// samples as the spill budget holds; otherwise the triples are first
// distributed into bucket files of whole windows.
func loadLongArrow(r *ipcFile, opts Options) (*arrowSource, error) {
	genes, samples := newIPCKeys(), newIPCKeys()
	gc, sc, vc := 0, 1, 2
	src := &arrowSource{path: r.path, integer: r.cols[vc].num.integer()}

	tmp, err := os.CreateTemp(opts.TempDir, "colnorm-long-*")
	if err != nil {
		return nil, fmt.Errorf("columnar: temporary file: %w", err)
	}
	os.Remove(tmp.Name())
	defer tmp.Close()
	w := bufio.NewWriterSize(tmp, 1<<20)

	sorted := true
	cur := int32(-1)
	var sampleStart []int64 // first row of each sample, while sorted
	var nrows int64
	geneKeys := make([]int32, ipcChunk)
	sampleKeys := make([]int32, ipcChunk)
	values := make([]float64, ipcChunk)
	// keyer numbers the strings of a cursor's chunk into out; the keys of a
	// dictionary's entries are looked up once.
	keyer := func(t *ipcKeys, cur *ipcStrCursor, out []int32) func(v []byte, di int) error {
		i := 0
		var cache []int32
		if cur.dv != nil {
			cache = t.dictKeys[cur.dv]
			if cache == nil {
				cache = make([]int32, len(cur.dv.values))
				for k := range cache {
					cache[k] = -1
				}
				t.dictKeys[cur.dv] = cache
			}
		}
		return func(v []byte, di int) error {
			if di >= 0 {
				if cache[di] < 0 {
					cache[di], _ = t.key(v)
				}
				out[i] = cache[di]
			} else {
				out[i], _ = t.key(v)
			}
			i++
			return nil
		}
	}
	var rec [ipcTripleSize]byte
	for _, b := range r.batches {
		gcur, err := r.newStrCursor(b, r.cols, gc)
		if err != nil {
			return nil, err
		}
		scur, err := r.newStrCursor(b, r.cols, sc)
		if err != nil {
			gcur.close()
			return nil, err
		}
		vcur, err := r.newNumCursor(b, vc)
		if err != nil {
			gcur.close()
			scur.close()
			return nil, err
		}
		for left := b.rows; left > 0 && err == nil; {
			k := min(left, ipcChunk)
			left -= k
			if err = gcur.next(k, keyer(genes, gcur, geneKeys)); err != nil {
				break
			}
			if err = scur.next(k, keyer(samples, scur, sampleKeys)); err != nil {
				break
			}
			if err = vcur.next(values[:k]); err != nil {
				break
			}
			for i := 0; i < k; i++ {
				s := sampleKeys[i]
				if s != cur {
					if sorted && s == cur+1 {
						sampleStart = append(sampleStart, nrows)
					} else {
						sorted = false
					}
					cur = s
				}
				binary.LittleEndian.PutUint32(rec[0:], uint32(geneKeys[i]))
				binary.LittleEndian.PutUint32(rec[4:], uint32(s))
				binary.LittleEndian.PutUint64(rec[8:], math.Float64bits(values[i]))
				w.Write(rec[:])
				nrows++
			}
		}
		gcur.close()
		scur.close()
		vcur.close()
		if err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("columnar: temporary file: %w", err)
	}
	src.genes, src.samples = genes.names, samples.names
	G, S := len(src.genes), len(src.samples)
	if G == 0 || S == 0 {
		return src, nil
	}

	sp, err := NewColumnSpill(opts.TempDir, G, 0, opts.spillBudget())
	if err != nil {
		return nil, err
	}
	ld := &ipcLongLoader{path: r.path, genes: src.genes, samples: src.samples, spill: sp}
	ld.window = max(1, min(S, opts.spillBudget()/(8*G)))
	windows := (S + ld.window - 1) / ld.window
	if sorted {
		sampleStart = append(sampleStart, nrows)
		for w := 0; w < windows && err == nil; w++ {
			s0, s1 := w*ld.window, min(S, (w+1)*ld.window)
			sec := io.NewSectionReader(tmp, sampleStart[s0]*ipcTripleSize, (sampleStart[s1]-sampleStart[s0])*ipcTripleSize)
			err = ld.fill(sec, s0, s1)
		}
	} else {
		err = ld.fillBuckets(tmp, opts.TempDir, windows)
	}
	if err != nil {
		sp.Close()
		return nil, err
	}
	src.spill = sp
	return src, nil
}

type ipcLongLoader struct {
	path    string
	genes   []string
	samples []string
	spill   *Spill
	window  int // samples per window
	vals    []float64
	seen    []uint64
}

// fill reads triples, keeps those of samples [s0, s1), checks that every
// (gene, sample) pair of the window has exactly one value, and writes the
// window's columns to the spill.
func (ld *ipcLongLoader) fill(rd io.Reader, s0, s1 int) error {
	G := len(ld.genes)
	n := (s1 - s0) * G
	if cap(ld.vals) < n {
		ld.vals = make([]float64, n)
		ld.seen = make([]uint64, (n+63)/64)
	}
	vals, seen := ld.vals[:n], ld.seen[:(n+63)/64]
	clear(seen)
	br := bufio.NewReaderSize(rd, 1<<20)
	var rec [ipcTripleSize]byte
	for {
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			if err == io.EOF {
				break
			}
			return fmt.Errorf("columnar: temporary file: %w", err)
		}
		s := int(binary.LittleEndian.Uint32(rec[4:]))
		if s < s0 || s >= s1 {
			continue
		}
		g := int(binary.LittleEndian.Uint32(rec[0:]))
		i := (s-s0)*G + g
		if seen[i>>6]&(1<<(i&63)) != 0 {
			return &InputError{File: ld.path, Sample: ld.samples[s], Gene: ld.genes[g], Msg: "this gene and sample have two rows in the long table"}
		}
		seen[i>>6] |= 1 << (i & 63)
		vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(rec[8:]))
	}
	for i := 0; i < n; i++ {
		if seen[i>>6]&(1<<(i&63)) == 0 {
			return &InputError{File: ld.path, Sample: ld.samples[s0+i/G], Gene: ld.genes[i%G],
				Msg: "the long table has no row for this gene and sample (every sample needs one row per gene)"}
		}
	}
	for s := s0; s < s1; s++ {
		if err := ld.spill.WriteColumn(s, vals[(s-s0)*G:(s-s0+1)*G]); err != nil {
			return err
		}
	}
	return nil
}

// fillBuckets distributes the triples of tmp into bucket files of whole
// windows and fills the windows bucket by bucket.
func (ld *ipcLongLoader) fillBuckets(tmp *os.File, dir string, windows int) error {
	nb := min(windows, ipcMaxBuckets)
	per := (windows + nb - 1) / nb // windows per bucket
	buckets := make([]*os.File, nb)
	writers := make([]*bufio.Writer, nb)
	defer func() {
		for _, f := range buckets {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i := range buckets {
		f, err := os.CreateTemp(dir, "colnorm-long-*")
		if err != nil {
			return fmt.Errorf("columnar: temporary file: %w", err)
		}
		os.Remove(f.Name())
		buckets[i] = f
		writers[i] = bufio.NewWriterSize(f, 64<<10)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(tmp, 0, math.MaxInt64), 1<<20)
	var rec [ipcTripleSize]byte
	for {
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			if err == io.EOF {
				break
			}
			return fmt.Errorf("columnar: temporary file: %w", err)
		}
		s := int(binary.LittleEndian.Uint32(rec[4:]))
		if _, err := writers[s/ld.window/per].Write(rec[:]); err != nil {
			return fmt.Errorf("columnar: temporary file: %w", err)
		}
	}
	S := len(ld.samples)
	for i, f := range buckets {
		if err := writers[i].Flush(); err != nil {
			return fmt.Errorf("columnar: temporary file: %w", err)
		}
		for w := i * per; w < min(windows, (i+1)*per); w++ {
			if err := ld.fill(io.NewSectionReader(f, 0, math.MaxInt64), w*ld.window, min(S, (w+1)*ld.window)); err != nil {
				return err
			}
		}
	}
	return nil
}
