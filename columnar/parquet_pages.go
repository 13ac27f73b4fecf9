package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// Parquet pages, read here rather than by parquet-go.
//
// A column chunk is a sequence of pages, each a Thrift compact PageHeader
// followed by compressed_page_size bytes: at most one dictionary page
// (first), then data pages. The page cursor reads a header, checks its sizes
// and counts against the chunk and the row group, checks the CRC32 when the
// header has one, decompresses the page once (with the chunk's codec, into a
// buffer of the declared size that the compressed bytes must be able to
// expand to) and decodes:
//
//   - definition levels (optional columns only; bit width 1): a
//     run-length/bit-packed hybrid, in a DataPage (v1) after a 4-byte length
//     inside the compressed data, in a DataPageV2 in the first
//     definition_levels_byte_length bytes after the repetition levels,
//     never compressed;
//   - the values, one per non-null row: PLAIN fixed-width values are viewed
//     in place when aligned (copied otherwise), PLAIN byte arrays (a 4-byte
//     length, then the bytes) are gathered, and RLE_DICTIONARY and
//     PLAIN_DICTIONARY pages are a byte of bit width and a hybrid run of
//     indexes into the dictionary page, which holds PLAIN values. Other
//     encodings (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
//     DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT) go to parquet-go's encoding
//     package.
//
// A run in the hybrid encoding may claim up to 2^31 values in a few bytes:
// runs are decoded into a buffer of the page's count, and a page whose runs
// hold more values than its header's count (bit-packed runs come in groups
// of 8 and may pad the last group with up to 7) is refused.

// pqPageHeader is the part of a PageHeader that the reader uses.
type pqPageHeader struct {
	typ           format.PageType
	uncompressed  int32 // uncompressed_page_size
	compressed    int32 // compressed_page_size
	crc           int32 // 0: none
	hasData       bool  // data_page_header (v1)
	hasDataV2     bool  // data_page_header_v2
	hasDict       bool  // dictionary_page_header
	numValues     int32 // of the data or dictionary page header
	numNulls      int32 // v2
	numRows       int32 // v2
	encoding      format.Encoding
	defEncoding   format.Encoding // v1: the definition levels' encoding
	defLength     int32           // v2: definition_levels_byte_length
	repLength     int32           // v2: repetition_levels_byte_length
	notCompressed bool            // v2: is_compressed = false
}

// pqParsePageHeader parses a PageHeader at the start of b and returns its
// length in bytes.
func pqParsePageHeader(b []byte, h *pqPageHeader) (int, error) {
	*h = pqPageHeader{}
	w := &pqThriftWalker{b: b}
	w.fields(0, func(id int16, typ byte) {
		switch id {
		case 1:
			h.typ = format.PageType(w.i32(typ))
		case 2:
			h.uncompressed = w.i32(typ)
		case 3:
			h.compressed = w.i32(typ)
		case 4:
			h.crc = w.i32(typ)
		case 5: // DataPageHeader
			h.hasData = w.expect(typ, pqThriftStruct)
			w.fields(1, func(id int16, typ byte) {
				switch id {
				case 1:
					h.numValues = w.i32(typ)
				case 2:
					h.encoding = format.Encoding(w.i32(typ))
				case 3:
					h.defEncoding = format.Encoding(w.i32(typ))
				default:
					w.skip(typ, 2)
				}
			})
		case 7: // DictionaryPageHeader
			h.hasDict = w.expect(typ, pqThriftStruct)
			w.fields(1, func(id int16, typ byte) {
				switch id {
				case 1:
					h.numValues = w.i32(typ)
				case 2:
					h.encoding = format.Encoding(w.i32(typ))
				default:
					w.skip(typ, 2)
				}
			})
		case 8: // DataPageHeaderV2
			h.hasDataV2 = w.expect(typ, pqThriftStruct)
			w.fields(1, func(id int16, typ byte) {
				switch id {
				case 1:
					h.numValues = w.i32(typ)
				case 2:
					h.numNulls = w.i32(typ)
				case 3:
					h.numRows = w.i32(typ)
				case 4:
					h.encoding = format.Encoding(w.i32(typ))
				case 5:
					h.defLength = w.i32(typ)
				case 6:
					h.repLength = w.i32(typ)
				case 7:
					h.notCompressed = typ == pqThriftFalse
					if typ != pqThriftTrue && typ != pqThriftFalse {
						w.fail("has a field of type %d where a boolean belongs at byte %d", typ, w.i)
					}
				default:
					w.skip(typ, 2)
				}
			})
		default:
			w.skip(typ, 1)
		}
	})
	if w.err != nil {
		return 0, w.err
	}
	return w.i, nil
}

// check checks a page header's sizes and counts: the compressed bytes must
// lie within the chunk's remaining bytes, the uncompressed size within
// pqMaxPageBytes, counts within the row group's rows (a dictionary within
// the page's bytes).
func (h *pqPageHeader) check(remaining, rows int64) bool {
	bad := h.compressed < 0 || int64(h.compressed) > remaining ||
		h.uncompressed < 0 || h.uncompressed > pqMaxPageBytes || h.numValues < 0
	switch h.typ {
	case format.DataPage:
		bad = bad || !h.hasData || int64(h.numValues) > rows
	case format.DataPageV2:
		bad = bad || !h.hasDataV2 || int64(h.numValues) > rows || h.numRows < 0 || int64(h.numRows) > rows ||
			h.numNulls < 0 || h.numNulls > h.numValues || h.defLength < 0 || h.repLength < 0 ||
			int64(h.defLength)+int64(h.repLength) > int64(min(h.compressed, h.uncompressed))
	case format.DictionaryPage:
		bad = bad || !h.hasDict || h.numValues > h.uncompressed
	}
	return !bad
}

// pqMaxPageBytes bounds the uncompressed size of a page.
const pqMaxPageBytes = 1 << 30

// pqMaxRatio is, with a margin, the most that a compressed page of codec
// can expand: snappy writes at most 64 bytes for a 3-byte copy, deflate 258
// bytes for about 2 bits (1032:1), an LZ4 sequence about 255 bytes per byte,
// and a zstd block header of 3 bytes and 1 byte of run-length data make at
// most 128 KiB. 0 for no bound (brotli).
func pqMaxRatio(codec format.CompressionCodec) int64 {
	switch codec {
	case format.Snappy:
		return 32
	case format.Gzip:
		return 1100
	case format.Lz4Raw:
		return 256
	case format.Zstd:
		return 1 << 16
	}
	return 0
}

// pqPageSlack is added to the ratio bound for the framing of small pages.
const pqPageSlack = 64 << 10

// pqDecompress decompresses src, a page's data compressed with codec that
// its header says is size bytes uncompressed, into buf (reused when large
// enough; the result may be buf). The declared size must be within what the
// compressed bytes can expand to, since it is allocated. A snappy block
// starts with its decoded length, which snappy.Decode allocates: it must be
// within the declared size. An LZ4_RAW block is decoded into the declared
// size (parquet-go v0.32.0 retries a failed block with a doubled buffer
// without end).
func pqDecompress(codec format.CompressionCodec, src []byte, size int32, buf []byte) (out, scratch []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // parquet-go's gzip codec panics on a bad header
			out, scratch, err = nil, buf, fmt.Errorf("%v page does not decompress: %v", codec, r)
		}
	}()
	if r := pqMaxRatio(codec); r > 0 && int64(size) > pqPageSlack+r*int64(len(src)) {
		return nil, buf, fmt.Errorf("%v page: %d bytes cannot decompress to the %d its header says", codec, len(src), size)
	}
	buf = pqGrow(buf, max(int(size), 64))
	switch codec {
	case format.Snappy:
		if decoded, k := binary.Uvarint(src); k > 0 && decoded > uint64(size) {
			return nil, buf, fmt.Errorf("SNAPPY page decodes to %d bytes, its header says %d", decoded, size)
		}
		out, err = parquet.LookupCompressionCodec(codec).Decode(buf[:cap(buf)], src)
	case format.Lz4Raw:
		n, e := lz4.UncompressBlock(src, buf)
		if e != nil {
			return nil, buf, fmt.Errorf("LZ4_RAW page does not decompress to the %d bytes its header says: %v", size, e)
		}
		out = buf[:n]
	default:
		out, err = parquet.LookupCompressionCodec(codec).Decode(buf[:0], src)
	}
	if err != nil {
		return nil, buf, fmt.Errorf("%v page does not decompress: %v", codec, err)
	}
	if cap(out) > cap(buf) {
		buf = out // keep the larger buffer for the next page
	}
	return out, buf, nil
}

// pqValues is a page's values, or a dictionary's, of one physical type.
type pqValues struct {
	i32  []int32   // INT32
	i64  []int64   // INT64
	f32  []float32 // FLOAT
	f64  []float64 // DOUBLE
	data []byte    // BYTE_ARRAY: value k is data[offs[k]:offs[k+1]]
	offs []uint32
	// plain, for a string column read by a cursor that takes pages as
	// encoded (pqPageCursor.asEncoded), in place of data and offs: the plainN PLAIN
	// values as encoded, of the dictionary (split on first use:
	// pqByteArrays) or of a page with no nulls (pqIDCursor).
	plain  []byte
	plainN int
}

// pqPage is a decoded data page of a flat column, cut to begin at the row
// the cursor was asked for. It is valid until the cursor's next call.
type pqPage struct {
	rows   int
	defs   []byte   // optional columns: one definition level per row; nil when every row has a value
	idx    []int32  // dictionary-encoded pages: one index per non-null row
	vals   pqValues // the non-null rows' values, or the dictionary
	dictID uint64   // dictionary-encoded pages: the dictionary's serial number, else 0
	// runs, for a dictionary-encoded page with no nulls read by a cursor
	// that takes the indexes as encoded (pqPageCursor.asEncoded), instead
	// of idx: the page's indexes, of which the first skip are before its
	// first row.
	runs *pqHybridRuns
	skip int
}

// pqDictSerial numbers the dictionaries decoded, so that pqIDCursor knows
// when the dictionary changed.
var pqDictSerial atomic.Uint64

// slice drops the first n rows of the page.
func (p *pqPage) slice(n int) {
	k := n // the values of the dropped rows
	if p.defs != nil {
		k = 0
		for _, d := range p.defs[:n] {
			if d != 0 {
				k++
			}
		}
		p.defs = p.defs[n:]
	}
	p.rows -= n
	switch {
	case p.runs != nil:
		p.skip += k
	case p.idx != nil:
		p.idx = p.idx[min(k, len(p.idx)):]
	case p.vals.i32 != nil:
		p.vals.i32 = p.vals.i32[min(k, len(p.vals.i32)):]
	case p.vals.i64 != nil:
		p.vals.i64 = p.vals.i64[min(k, len(p.vals.i64)):]
	case p.vals.f32 != nil:
		p.vals.f32 = p.vals.f32[min(k, len(p.vals.f32)):]
	case p.vals.f64 != nil:
		p.vals.f64 = p.vals.f64[min(k, len(p.vals.f64)):]
	case p.vals.offs != nil:
		p.vals.offs = p.vals.offs[min(k, len(p.vals.offs)-1):]
	case p.vals.plain != nil:
		p.vals.plain, p.vals.plainN = pqSkipPlain(p.vals.plain, k), p.vals.plainN-k
	}
}

// pqSkipPlain returns the PLAIN byte arrays of b after the first k; as
// many as there are when b holds fewer (the readers find it short).
func pqSkipPlain(b []byte, k int) []byte {
	for ; k > 0; k-- {
		_, rest, ok := pqNextPlain(b)
		if !ok {
			return b[len(b):]
		}
		b = rest
	}
	return b
}

// pqNextPlain splits the first PLAIN byte array (a 4-byte little-endian
// length, then the bytes) off b: its bytes and the rest; ok is false when
// b does not hold a whole one.
func pqNextPlain(b []byte) (v, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, b, false
	}
	m := uint64(binary.LittleEndian.Uint32(b))
	if m > uint64(len(b)-4) {
		return nil, b, false
	}
	return b[4 : 4+m], b[4+m:], true
}

// pqPageScratch are the buffers a page cursor decodes into, reused from
// page to page, and from cursor to cursor through pqScratches: a pass over
// a wide file opens one cursor per sample, and a decompressed page each
// would be most of what the garbage collector runs for.
var pqScratches = sync.Pool{New: func() any { return new(pqPageScratch) }}

type pqPageScratch struct {
	head, raw, plain, dictPlain []byte
	defs                        []byte
	idx                         []int32
	vals, dict                  pqValues // buffers of the cursor's own, never views of others
	locs                        []pqPageLocation
	runs                        pqHybridRuns // the page's dictionary indexes, when the cursor takes them as encoded
}

// pqPageCursor walks the pages of column c that hold rows [start, end) of the
// file, row group after row group. The first page is cut to begin at start
// and the last may run past end.
type pqPageCursor struct {
	q   *pqFile
	c   int
	end int64
	g   int   // row group of pages
	row int64 // row of the file at the next page

	inChunk  bool  // reading the pages of row group g
	off      int64 // file offset of the next page header
	chunkEnd int64
	pageOff  int64 // file offset of the header of the page being read
	skip     int64 // rows of the chunk still to skip before row
	chunk    pqChunkBytes
	mem      []byte // the part of the chunk read whole, at file offset chunk.start; nil when it is read page by page
	hasDict  bool
	dictID   uint64
	// asEncoded leaves a string column's pages with no nulls as encoded,
	// for pqIDCursor: dictionary indexes as runs (pqPage.runs), PLAIN names
	// and a PLAIN dictionary unsplit (pqValues.plain).
	asEncoded bool
	dict      pqValues // the chunk's dictionary: views of b.dict, b.dictPlain or the chunk

	b     *pqPageScratch // from pqScratches; nil once closed
	page  pqPage
	share *pqPageShare // nil: pages are not shared
	held  *pqPageBuf   // the shared bytes of page, released when the cursor moves on
}

func (q *pqFile) cursor(c int, start, end int64) *pqPageCursor {
	pc := &pqPageCursor{q: q, c: c, end: end, row: start, chunk: pqChunkBytes{f: q.f}, b: pqScratches.Get().(*pqPageScratch)}
	if q.shares != nil {
		pc.share = q.shares[c]
	}
	return pc
}

// sharePages makes the cursors of column c share the data pages they read
// only part of (pqPageShare).
func (q *pqFile) sharePages(c int) {
	if q.shares == nil {
		q.shares = make([]*pqPageShare, len(q.cols))
	}
	q.shares[c] = &pqPageShare{}
}

// bytesAt returns the chunk's bytes [off, off+n): a view of the part of the
// chunk read whole (pc.mem) when it holds them, or else read from the file
// into *buf. view tells which.
func (pc *pqPageCursor) bytesAt(off int64, n int, buf *[]byte) (b []byte, view bool, err error) {
	if i := off - pc.chunk.start; pc.mem != nil && i >= 0 && i+int64(n) <= int64(len(pc.mem)) {
		return pc.mem[i : i+int64(n)], true, nil
	}
	*buf = pqGrow(*buf, n)
	if _, err := pc.q.f.ReadAt(*buf, off); err != nil {
		return nil, false, err
	}
	return *buf, false, nil
}

// header reads the page header at pc.off: from pc.mem when it holds the
// header, or from the file, 4 KiB first, then 8 times more until it parses
// (statistics may make it long), up to 16 MiB.
func (pc *pqPageCursor) header(h *pqPageHeader) (int, error) {
	rest := pc.chunkEnd - pc.off
	if i := pc.off - pc.chunk.start; pc.mem != nil && i >= 0 && i < int64(len(pc.mem)) {
		b := pc.mem[i:min(int64(len(pc.mem)), i+rest)]
		n, err := pqParsePageHeader(b, h)
		if err == nil {
			return n, nil
		}
		if int64(len(b)) == rest {
			return 0, fmt.Errorf("bad page header at offset %d: %v", pc.off, err)
		}
		// The header runs past the part of the chunk read: read it from the file.
	}
	for size := int64(4096); ; size *= 8 {
		b, _, err := pc.bytesAt(pc.off, int(min(size, rest)), &pc.b.head)
		if err != nil {
			return 0, err
		}
		n, err := pqParsePageHeader(b, h)
		if err == nil {
			return n, nil
		}
		if size >= rest || size >= 1<<24 {
			return 0, fmt.Errorf("bad page header at offset %d: %v", pc.off, err)
		}
	}
}

// startChunk begins row group pc.g's chunk. Without an offset index the
// chunk is read whole when small enough, and the pages before the row
// wanted are skipped by their headers' counts, without being decompressed.
// With one, only the pages that hold rows [pc.row, pc.end) are read (with
// one read when small enough): the cursor jumps to the page holding pc.row
// (after reading the dictionary page at the chunk's start), and stops
// reading at the first page that begins at or after pc.end. A long table's
// sample is a few pages of a chunk of many samples' rows, read once per
// sample: reading the whole chunk each time read 16 times the bytes. Bytes
// outside the part read (a damaged offset index) are read from the file.
func (pc *pqPageCursor) startChunk() error {
	q := pc.q
	off, end := q.chunkRange(pc.g, pc.c)
	pc.inChunk, pc.off, pc.chunkEnd = true, off, end
	pc.hasDict, pc.dictID = false, 0
	pc.skip = pc.row - q.rgStart[pc.g]
	pc.mem = nil
	from, to := off, end // the part of the chunk to read at once
	locs := pc.offsetIndex()
	target := -1 // the page holding pc.row
	for i, loc := range locs {
		if loc.firstRow > pc.skip {
			break
		}
		target = i
	}
	if target >= 0 {
		if pc.skip > 0 {
			from = locs[target].offset
		}
		last := pc.end - q.rgStart[pc.g] // rows of the chunk from last on are not wanted
		for _, loc := range locs[target+1:] {
			if loc.firstRow >= last {
				to = loc.offset
				break
			}
		}
	}
	if from > off {
		// The dictionary page, if the chunk starts with one, read from the file.
		var h pqPageHeader
		n, err := pc.header(&h)
		if err != nil {
			return err
		}
		if h.typ == format.DictionaryPage {
			if err := pc.readPage(&h, n); err != nil {
				return err
			}
		}
		pc.off, pc.skip = from, pc.skip-locs[target].firstRow
	}
	var err error
	if pc.mem, err = pc.chunk.load(from, to-from); err != nil {
		return err
	}
	return nil
}

// offsetIndex returns the page locations of the chunk of row group pc.g
// from its offset index, or nil when it has none or one that does not make
// sense: offsets must rise within the chunk, first rows must rise from 0.
func (pc *pqPageCursor) offsetIndex() []pqPageLocation {
	q := pc.q
	m := q.chunkMeta(pc.g, pc.c)
	if m.indexOffset <= 0 || m.indexLength <= 0 {
		return nil
	}
	if int64(m.indexLength) > q.size || m.indexOffset > q.size-int64(m.indexLength) {
		return nil // a damaged offset index: skip page by page
	}
	b := make([]byte, m.indexLength)
	if _, err := q.f.ReadAt(b, m.indexOffset); err != nil {
		return nil
	}
	var err error
	if pc.b.locs, err = pqParseOffsetIndex(b, pc.b.locs); err != nil {
		return nil
	}
	locs := pc.b.locs
	off, end := q.chunkRange(pc.g, pc.c)
	for i, loc := range locs {
		if loc.offset < off || loc.offset >= end || loc.firstRow < 0 ||
			i == 0 && loc.firstRow != 0 ||
			i > 0 && (loc.offset <= locs[i-1].offset || loc.firstRow < locs[i-1].firstRow) {
			return nil
		}
	}
	return locs
}

// readPage reads the page at pc.off whose header, of n bytes, is h. A
// dictionary page becomes the chunk's dictionary; a data page becomes
// pc.page, unless it lies wholly in the rows to skip.
func (pc *pqPageCursor) readPage(h *pqPageHeader, n int) error {
	q := pc.q
	rows := q.rgStart[pc.g+1] - q.rgStart[pc.g]
	hoff := pc.off
	if !h.check(pc.chunkEnd-pc.off-int64(n), rows) {
		return fmt.Errorf("bad page header at offset %d (sizes or counts out of range)", hoff)
	}
	pc.pageOff = hoff
	pc.off += int64(n) + int64(h.compressed)
	pc.page = pqPage{}
	pc.releaseShared()
	switch h.typ {
	case format.DataPage, format.DataPageV2:
		if int64(h.numValues) <= pc.skip { // no row of the page is wanted
			pc.skip -= int64(h.numValues)
			return nil
		}
	case format.DictionaryPage:
		if pc.hasDict {
			return nil // read already, before an offset index jump
		}
	default:
		return fmt.Errorf("page at offset %d: cannot read a page of type %v", hoff, h.typ)
	}
	raw, view, err := pc.bytesAt(hoff+int64(n), int(h.compressed), &pc.b.raw)
	if err != nil {
		return err
	}
	if h.crc != 0 && uint32(h.crc) != crc32.ChecksumIEEE(raw) {
		return fmt.Errorf("page at offset %d: the CRC32 checksum does not match the page's bytes", hoff)
	}
	if err := pc.decode(h, raw, view); err != nil {
		return fmt.Errorf("page at offset %d: %w", hoff, err)
	}
	return nil
}

var (
	errPQShortPage = errors.New("a page holds fewer values than its header says")
	errPQDictIndex = errors.New("a dictionary index is out of range")
	errPQNoDict    = errors.New("a dictionary-encoded page, and no dictionary page before it")
)

// decode decodes the page h whose bytes (as stored) are raw: a view of
// pc.mem, or else of a buffer that the next page's read overwrites.
func (pc *pqPageCursor) decode(h *pqPageHeader, raw []byte, view bool) (err error) {
	defer func() {
		if r := recover(); r != nil { // parquet-go's decoders on damaged data
			err = fmt.Errorf("%v", r)
		}
	}()
	col := &pc.q.cols[pc.c]
	codec := pc.q.chunkMeta(pc.g, pc.c).codec
	if h.typ == format.DictionaryPage {
		data := raw
		if codec != format.Uncompressed {
			if data, pc.b.dictPlain, err = pqDecompress(codec, raw, h.uncompressed, pc.b.dictPlain); err != nil {
				return err
			}
		} else if !view { // raw is b.raw, which the next page overwrites
			pc.b.dictPlain = append(pc.b.dictPlain[:0], raw...)
			data = pc.b.dictPlain
		}
		enc := h.encoding
		if enc == format.PlainDictionary {
			enc = format.Plain
		}
		if pc.asEncoded && col.kind == pqString && enc == format.Plain && h.numValues >= 0 {
			pc.dict = pqValues{plain: data, plainN: int(h.numValues)} // data stays until the chunk's end
		} else if pc.dict, err = pqDecodeValues(col, enc, data, int(h.numValues), &pc.b.dict); err != nil {
			return err
		}
		pc.hasDict, pc.dictID = true, pqDictSerial.Add(1)
		return nil
	}
	numValues := int(h.numValues)
	var levels, data []byte // definition levels (as encoded) and the values
	if h.typ == format.DataPageV2 {
		levels = raw[h.repLength : h.repLength+h.defLength]
		data = raw[h.repLength+h.defLength:]
		if codec != format.Uncompressed && !h.notCompressed {
			if data, pc.b.plain, err = pqDecompress(codec, data, h.uncompressed-h.repLength-h.defLength, pc.b.plain); err != nil {
				return err
			}
		}
	} else {
		data = raw
		if codec != format.Uncompressed && pc.share != nil {
			if data, err = pc.sharedPage(h, codec, raw); err != nil {
				return err
			}
		} else if codec != format.Uncompressed {
			if data, pc.b.plain, err = pqDecompress(codec, raw, h.uncompressed, pc.b.plain); err != nil {
				return err
			}
		}
		if col.maxDef > 0 {
			if len(data) < 4 || int64(binary.LittleEndian.Uint32(data)) > int64(len(data)-4) {
				return errors.New("definition levels beyond the page")
			}
			n := binary.LittleEndian.Uint32(data)
			levels, data = data[4:4+n], data[4+n:]
		}
	}
	p := &pc.page
	p.rows, p.runs, p.skip, p.defs = numValues, nil, 0, nil
	nonNull := numValues
	bitPacked := h.typ == format.DataPage && h.defEncoding == format.BitPacked
	if col.maxDef > 0 && (bitPacked || !pqAllDefined(levels, numValues)) { // else no defs: every row has a value
		pc.b.defs = pqGrow(pc.b.defs, numValues)
		if bitPacked {
			if err := pqBitPackedLevels(pc.b.defs, levels); err != nil {
				return err
			}
		} else if err := pqDecodeHybrid(pc.b.defs, levels, 1, numValues); err != nil {
			return fmt.Errorf("the definition levels: %w", err)
		}
		p.defs = pc.b.defs
		nonNull = 0
		for _, d := range p.defs {
			if d == col.maxDef {
				nonNull++
			}
		}
	}
	if h.encoding == format.RLEDictionary || h.encoding == format.PlainDictionary {
		if !pc.hasDict {
			return errPQNoDict
		}
		if len(data) == 0 {
			if nonNull > 0 {
				return errPQShortPage
			}
			data = []byte{0}
		}
		if data[0] > 32 {
			return fmt.Errorf("dictionary indexes of %d bits", data[0])
		}
		if pc.asEncoded && p.defs == nil {
			pc.b.runs = pqHybridRuns{src: data[1:], width: uint(data[0]), limit: numValues}
			p.runs, p.idx = &pc.b.runs, nil
		} else {
			pc.b.idx = pqGrow(pc.b.idx, nonNull)
			if err := pqDecodeHybrid(pc.b.idx, data[1:], uint(data[0]), numValues); err != nil {
				return fmt.Errorf("the dictionary indexes: %w", err)
			}
			p.idx = pc.b.idx
		}
		p.vals, p.dictID = pc.dict, pc.dictID
	} else if pc.asEncoded && p.defs == nil && col.kind == pqString && h.encoding == format.Plain {
		p.vals = pqValues{plain: data, plainN: nonNull} // strings read by a pqIDCursor: as encoded
	} else if p.vals, err = pqDecodeValues(col, h.encoding, data, nonNull, &pc.b.vals); err != nil {
		return err
	}
	if pc.skip > 0 {
		p.slice(int(pc.skip))
		pc.skip = 0
	}
	return nil
}

// sharedPage returns the decompressed bytes of the DataPage (v1) h at
// pc.off, whose bytes as stored are raw: from the cursors' share, or
// decompressed, and left in the share when the cursor reads only some of
// its rows.
func (pc *pqPageCursor) sharedPage(h *pqPageHeader, codec format.CompressionCodec, raw []byte) ([]byte, error) {
	rows := int64(h.numValues)
	used := min(rows-pc.skip, pc.end-pc.row) // the rows this cursor reads
	held, fill := pc.share.claim(pc.pageOff, used, rows)
	if held != nil {
		pc.held = held
		return held.data, nil
	}
	buf := newPQPageBuf()
	data, grown, err := pqDecompress(codec, raw, h.uncompressed, buf.data)
	if err != nil {
		buf.data = grown
		buf.release()
		fill(nil)
		return nil, err
	}
	buf.data = data // a prefix of grown: what the share counts and hands out
	pc.held = buf
	fill(buf)
	return data, nil
}

// releaseShared lets go of the shared bytes of the page just decoded.
func (pc *pqPageCursor) releaseShared() {
	if pc.held != nil {
		pc.held.release()
		pc.held = nil
	}
}

// pqLittleEndian: PLAIN values are little endian, and are viewed in place
// on a little-endian machine.
var pqLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// pqDecodeValues decodes n values of column col encoded with enc: views
// of src where they can be (PLAIN fixed-width values, aligned), or else in
// the buffers of own, which it grows.
func pqDecodeValues(col *pqColumn, enc format.Encoding, src []byte, n int, own *pqValues) (v pqValues, err error) {
	switch col.kind {
	case pqInt32, pqUint32:
		v.i32, err = pqFixed(enc, src, n, &own.i32, parquet.LookupEncoding(enc).DecodeInt32)
	case pqInt64, pqUint64:
		v.i64, err = pqFixed(enc, src, n, &own.i64, parquet.LookupEncoding(enc).DecodeInt64)
	case pqFloat:
		v.f32, err = pqFixed(enc, src, n, &own.f32, parquet.LookupEncoding(enc).DecodeFloat)
	case pqDouble:
		v.f64, err = pqFixed(enc, src, n, &own.f64, parquet.LookupEncoding(enc).DecodeDouble)
	case pqString:
		if enc == format.Plain {
			own.data, own.offs, err = pqPlainByteArrays(src, n, own.data[:0], own.offs[:0])
		} else {
			own.data, own.offs, err = parquet.LookupEncoding(enc).DecodeByteArray(own.data[:0], src, own.offs[:0])
		}
		if err == nil && len(own.offs) < n+1 {
			err = errPQShortPage
		}
		if err == nil {
			v.data, v.offs = own.data, own.offs[:n+1:n+1]
		}
	default:
		err = fmt.Errorf("column of type %s", col.desc)
	}
	return v, err
}

// pqFixed decodes n values of 4 or 8 bytes: PLAIN ones with pqPlainFixed,
// others with parquet-go's decoder, into *own.
func pqFixed[T int32 | int64 | float32 | float64](enc format.Encoding, src []byte, n int, own *[]T, decode func([]T, []byte) ([]T, error)) ([]T, error) {
	if enc == format.Plain {
		return pqPlainFixed(src, n, own)
	}
	out, err := decode((*own)[:0], src)
	if cap(out) > cap(*own) {
		*own = out
	}
	if err != nil {
		return nil, err
	}
	if len(out) < n {
		return nil, errPQShortPage
	}
	return out[:n:n], nil
}

// pqPlainFixed views the first n PLAIN values of 4 or 8 bytes in src as a
// []T: in place when src is aligned for T, or copied into *own.
func pqPlainFixed[T int32 | int64 | float32 | float64](src []byte, n int, own *[]T) ([]T, error) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(src)/size < n {
		return nil, errPQShortPage
	}
	if n == 0 {
		return []T{}, nil
	}
	if pqLittleEndian && uintptr(unsafe.Pointer(&src[0]))%uintptr(size) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(&src[0])), n), nil
	}
	*own = pqGrow(*own, n)
	buf := *own
	if pqLittleEndian {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), n*size), src)
		return buf, nil
	}
	for i := range buf {
		if size == 4 {
			u := binary.LittleEndian.Uint32(src[4*i:])
			buf[i] = *(*T)(unsafe.Pointer(&u))
		} else {
			u := binary.LittleEndian.Uint64(src[8*i:])
			buf[i] = *(*T)(unsafe.Pointer(&u))
		}
	}
	return buf, nil
}

// pqPlainByteArrays decodes the first n PLAIN byte arrays of src (each a
// 4-byte little-endian length, then the bytes) into data and offsets.
func pqPlainByteArrays(src []byte, n int, data []byte, offs []uint32) ([]byte, []uint32, error) {
	offs = append(offs, 0)
	for k := 0; k < n; k++ {
		v, rest, ok := pqNextPlain(src)
		if !ok {
			return data, offs, errPQShortPage
		}
		data = append(data, v...)
		offs = append(offs, uint32(len(data)))
		src = rest
	}
	return data, offs, nil
}

// pqDecodeHybrid decodes the run-length/bit-packed hybrid runs of src,
// values of width bits, into dst (all of it must be filled). The runs that
// fill dst may hold up to limit values (and 7 more of padding in a
// bit-packed run); runs after those are not read. See pqHybridRuns.
func pqDecodeHybrid[T uint8 | int32](dst []T, src []byte, width uint, limit int) error {
	h := pqHybridRuns{src: src, width: width, limit: limit}
	for n := 0; n < len(dst); {
		r, err := h.next()
		if err != nil {
			return err
		}
		take := min(r.n, len(dst)-n)
		switch {
		case !r.bitPacked:
			x := T(r.value)
			for i := n; i < n+take; i++ {
				dst[i] = x
			}
		case width == 0:
			clear(dst[n : n+take])
		default:
			pqUnpackBits(dst[n:n+take], r.packed, width)
		}
		n += take
	}
	return nil
}

// pqAllDefined reports whether the definition levels of a page of n rows
// of a flat optional column, run-length/bit-packed hybrid data of width 1,
// are runs of ones that cover the rows, as writers encode a page with no
// nulls (DuckDB marks every column optional). Other encodings of the same
// levels are decoded level by level.
func pqAllDefined(levels []byte, n int) bool {
	h := pqHybridRuns{src: levels, width: 1, limit: n}
	for seen := 0; seen < n; {
		r, err := h.next()
		if err != nil || r.bitPacked || r.value != 1 {
			return false
		}
		seen += r.n
	}
	return true
}

// pqHybridRuns reads run-length/bit-packed hybrid data, values of width
// bits (0 to 32), one run at a time. Each run starts with a ULEB128 header:
// even, a run of header/2 copies of the value in the next ceil(width/8)
// bytes (little endian); odd, header/2 groups of 8 values bit-packed in
// header/2*width bytes, least significant bit first. The runs may hold up
// to limit values, the page's, and 7 more of padding in a bit-packed run.
type pqHybridRuns struct {
	src   []byte // the runs not read yet
	width uint
	limit int
	total int // the values of the runs read so far, less a bit-packed run's padding
}

// pqRun is one run of hybrid data: n copies of value, or n values
// bit-packed in packed (a whole number of groups of 8 values, padding
// included, or fewer when the data ends within the run).
type pqRun struct {
	n         int
	value     uint32
	bitPacked bool
	packed    []byte
}

// next returns the next run; errPQShortPage when there is none.
func (h *pqHybridRuns) next() (pqRun, error) {
	if len(h.src) == 0 {
		return pqRun{}, errPQShortPage
	}
	u, k := binary.Uvarint(h.src)
	if k <= 0 {
		return pqRun{}, errors.New("a bad run header")
	}
	h.src = h.src[k:]
	count := u >> 1
	if count > uint64(h.limit)+8 {
		return pqRun{}, fmt.Errorf("a run of %d values in a page of %d", count, h.limit)
	}
	if u&1 == 0 { // a run of one value
		byteWidth := int(h.width+7) / 8
		if len(h.src) < byteWidth {
			return pqRun{}, errPQShortPage
		}
		var v uint64
		for i := byteWidth - 1; i >= 0; i-- {
			v = v<<8 | uint64(h.src[i])
		}
		h.src = h.src[byteWidth:]
		if h.total += int(count); h.total > h.limit {
			return pqRun{}, fmt.Errorf("runs of more than the %d values of the page", h.limit)
		}
		return pqRun{n: int(count), value: uint32(v & (1<<h.width - 1))}, nil
	}
	values := int(count) * 8
	if count > 0 {
		h.total += values - 7
	}
	if h.total > h.limit {
		return pqRun{}, fmt.Errorf("runs of more than the %d values of the page", h.limit)
	}
	nbytes := int(count) * int(h.width)
	if nbytes > len(h.src) {
		nbytes = len(h.src) // a truncated run: the whole values it holds
		values = min(values, nbytes*8/max(int(h.width), 1))
	}
	r := pqRun{n: values, bitPacked: true, packed: h.src[:nbytes]}
	h.src = h.src[nbytes:]
	return r, nil
}

// pqUnpackAt unpacks values [at, at+len(dst)) of the bit-packed run
// packed, of width bits (1 to 32).
func pqUnpackAt(dst []int32, packed []byte, width uint, at int) {
	if head := at % 8; head != 0 { // the values of at's group, from its start
		var group [8]int32
		g := group[:min(8, head+len(dst))]
		pqUnpackBits(g, packed[(at-head)*int(width)/8:], width)
		k := copy(dst, g[head:])
		dst, at = dst[k:], at+k
	}
	if len(dst) > 0 {
		pqUnpackBits(dst, packed[at*int(width)/8:], width)
	}
}

// pqUnpackBits unpacks len(dst) values of width bits (1 to 32) from run,
// which holds at least len(dst)*width bits, least significant bit first:
// value i is bits [i*width, (i+1)*width) of run read as a little-endian
// number. Values come in groups of 8 (width bytes), unpacked eight at a
// time: 8 bits are bytes; 16 bits four to a 64-bit load; up to 8 bits a
// group from one 64-bit load; wider ones each value from a 64-bit load at
// its first byte (its bits start within that byte, and 7 + 32 bits fit),
// at byte offsets and shifts that are the same for every group. The last
// values, whose loads would run past run, are read byte by byte.
// BenchmarkPQUnpackBits: 65,536 values of 11 to 24 bits take about 70% of
// the time of one load per value in a loop, 16 bits a third.
func pqUnpackBits[T uint8 | int32](dst []T, run []byte, width uint) {
	mask := uint64(1)<<width - 1
	w := int(width)
	span := 7*w/8 + 8 // the bytes a group's loads read from its first byte
	i, g := 0, 0      // the group's first value and first byte
	switch {
	case w == 8:
		run = run[:len(dst)]
		for i := range dst {
			dst[i] = T(run[i])
		}
		return
	case w == 16:
		for ; i+4 <= len(dst) && g+8 <= len(run); i, g = i+4, g+8 {
			x := binary.LittleEndian.Uint64(run[g:])
			d := dst[i : i+4 : i+4]
			d[0] = T(x & 0xffff)
			d[1] = T(x >> 16 & 0xffff)
			d[2] = T(x >> 32 & 0xffff)
			d[3] = T(x >> 48)
		}
	case w < 8:
		for ; i+8 <= len(dst) && g+span <= len(run); i, g = i+8, g+w {
			x := binary.LittleEndian.Uint64(run[g:])
			d := dst[i : i+8 : i+8]
			d[0] = T(x & mask)
			d[1] = T(x >> width & mask)
			d[2] = T(x >> (2 * width) & mask)
			d[3] = T(x >> (3 * width) & mask)
			d[4] = T(x >> (4 * width) & mask)
			d[5] = T(x >> (5 * width) & mask)
			d[6] = T(x >> (6 * width) & mask)
			d[7] = T(x >> (7 * width) & mask)
		}
	default:
		o1, o2, o3, o4, o5, o6, o7 := w>>3, 2*w>>3, 3*w>>3, 4*w>>3, 5*w>>3, 6*w>>3, 7*w>>3
		s1, s2, s3, s4, s5, s6, s7 := uint(w&7), uint(2*w&7), uint(3*w&7), uint(4*w&7), uint(5*w&7), uint(6*w&7), uint(7*w&7)
		for ; i+8 <= len(dst) && g+span <= len(run); i, g = i+8, g+w {
			b := run[g : g+span]
			d := dst[i : i+8 : i+8]
			d[0] = T(binary.LittleEndian.Uint64(b) & mask)
			d[1] = T(binary.LittleEndian.Uint64(b[o1:]) >> s1 & mask)
			d[2] = T(binary.LittleEndian.Uint64(b[o2:]) >> s2 & mask)
			d[3] = T(binary.LittleEndian.Uint64(b[o3:]) >> s3 & mask)
			d[4] = T(binary.LittleEndian.Uint64(b[o4:]) >> s4 & mask)
			d[5] = T(binary.LittleEndian.Uint64(b[o5:]) >> s5 & mask)
			d[6] = T(binary.LittleEndian.Uint64(b[o6:]) >> s6 & mask)
			d[7] = T(binary.LittleEndian.Uint64(b[o7:]) >> s7 & mask)
		}
	}
	for ; i < len(dst); i++ {
		bit := i * w
		j := bit >> 3
		var x uint64
		for b := min(len(run), j+8) - 1; b >= j; b-- {
			x = x<<8 | uint64(run[b])
		}
		dst[i] = T(x >> (bit & 7) & mask)
	}
}

// pqBitPackedLevels decodes the deprecated BIT_PACKED definition levels of
// bit width 1: one bit per value, most significant bit first.
func pqBitPackedLevels(dst []byte, src []byte) error {
	if len(src) < (len(dst)+7)/8 {
		return errPQShortPage
	}
	for i := range dst {
		dst[i] = src[i/8] >> (7 - i%8) & 1
	}
	return nil
}

// next returns the next page and the row of the file it begins at, or io.EOF
// after the page holding row end-1. The page is valid until the next call.
func (pc *pqPageCursor) next() (p *pqPage, row int64, err error) {
	q := pc.q
	for pc.row < pc.end {
		if !pc.inChunk {
			for pc.g < len(q.rgStart)-1 && q.rgStart[pc.g+1] <= pc.row {
				pc.g++
			}
			if pc.g == len(q.rgStart)-1 {
				return nil, 0, q.dataError(pc.c, errors.New("the row groups hold fewer rows than the footer says"))
			}
			if err := pc.startChunk(); err != nil {
				return nil, 0, q.dataError(pc.c, err)
			}
		}
		if pc.off >= pc.chunkEnd {
			if pc.row < q.rgStart[pc.g+1] {
				return nil, 0, q.dataError(pc.c, fmt.Errorf("row group %d ends after %d of its %d rows",
					pc.g, pc.row-pc.skip-q.rgStart[pc.g], q.rgStart[pc.g+1]-q.rgStart[pc.g]))
			}
			pc.inChunk = false
			pc.g++
			continue
		}
		var h pqPageHeader
		n, err := pc.header(&h)
		if err != nil {
			return nil, 0, q.dataError(pc.c, err)
		}
		if err := pc.readPage(&h, n); err != nil {
			return nil, 0, q.dataError(pc.c, err)
		}
		p := &pc.page
		if p.rows == 0 {
			continue
		}
		n64 := int64(p.rows)
		if pc.row+n64 > q.rgStart[pc.g+1] {
			return nil, 0, q.dataError(pc.c, fmt.Errorf("row group %d holds more values than rows", pc.g))
		}
		row = pc.row
		pc.row += n64
		if pc.row == q.rgStart[pc.g+1] {
			pc.inChunk = false
			pc.g++
		}
		return p, row, nil
	}
	return nil, 0, io.EOF
}

func (pc *pqPageCursor) close() {
	pc.releaseShared()
	pc.chunk.release()
	pc.mem = nil
	pc.page, pc.dict = pqPage{}, pqValues{} // views of the scratch
	if pc.b != nil {
		pqScratches.Put(pc.b)
		pc.b = nil
	}
}
