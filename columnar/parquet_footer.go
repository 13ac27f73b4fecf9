package columnar

import (
	"fmt"
	"math"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The Parquet footer, parsed here rather than by parquet-go.
//
// A Parquet file ends with its footer (a Thrift compact protocol
// FileMetaData), the footer's length (4 bytes, little endian) and "PAR1".
// parquet-go's parsed footer keeps every field of every column chunk, about
// 750 bytes per chunk with its own File, Column and row group objects: a
// wide file of 20,000 samples in 4 row groups (80,000 chunks) held 60 MB of
// heap after opening, the footer itself being 4.9 MB. pqParseFooter keeps
// what the readers use: per chunk the 48 bytes of pqChunkMeta, per row
// group its number of rows, the flat schema (as format.SchemaElement, which
// readSchema turns into pqColumns and then drops) and the "pandas"
// key-value metadata. Every length in the footer has been checked against
// the footer's bytes (pqThriftWalker, in checkFooter) before the parse, and
// the parse checks them again as it goes.

// pqMeta is the part of a FileMetaData that the readers use.
type pqMeta struct {
	numRows   int64                  // FileMetaData.num_rows (the readers sum the row groups instead)
	schema    []format.SchemaElement // the flat schema, depth first; nil once readSchema has read it
	groupRows []int64                // RowGroup.num_rows of each row group
	groupCols []int32                // the number of column chunks of each row group
	chunks    []pqChunkMeta          // the column chunks, row group after row group
	pandas    string                 // the "pandas" key-value metadata (pandas' DataFrame index), if hasPandas
	hasPandas bool
}

// pqChunkMeta is a column chunk's ColumnChunk and ColumnMetaData fields that
// the readers use. Offsets are from the start of the file; 0 means absent
// (the dictionary page offset, the offset index offset).
type pqChunkMeta struct {
	dataOffset     int64 // data_page_offset: the first data page
	dictOffset     int64 // dictionary_page_offset: the dictionary page, if any
	compressedSize int64 // total_compressed_size: the bytes of all pages, headers included
	numValues      int64 // num_values
	indexOffset    int64 // offset_index_offset: the chunk's OffsetIndex (page locations), if any
	indexLength    int32 // offset_index_length
	codec          format.CompressionCodec
}

// Field ids of the Thrift structs (parquet.thrift).
const (
	pqFileMetaSchema    = 2
	pqFileMetaNumRows   = 3
	pqFileMetaRowGroups = 4
	pqFileMetaKeyValue  = 5

	pqRowGroupColumns = 1
	pqRowGroupNumRows = 3

	pqChunkMetaData          = 3
	pqChunkOffsetIndexOffset = 4
	pqChunkOffsetIndexLength = 5

	pqColMetaCodec          = 4
	pqColMetaNumValues      = 5
	pqColMetaCompressedSize = 7
	pqColMetaDataPageOffset = 9
	pqColMetaDictPageOffset = 11
)

// pqParseFooter parses a FileMetaData. The chunks of row group g are
// chunks[g*n:(g+1)*n] when every row group has n of them, which openPQ
// checks against the schema.
func pqParseFooter(b []byte) (*pqMeta, error) {
	w := &pqThriftWalker{b: b}
	m := &pqMeta{}
	w.fields(0, func(id int16, typ byte) {
		switch id {
		case pqFileMetaSchema:
			n := w.list(typ, pqThriftStruct)
			m.schema = make([]format.SchemaElement, 0, n)
			for ; n > 0 && w.err == nil; n-- {
				m.schema = append(m.schema, w.schemaElement())
			}
		case pqFileMetaNumRows:
			m.numRows = w.i64(typ)
		case pqFileMetaRowGroups:
			n := w.list(typ, pqThriftStruct)
			m.groupRows = make([]int64, 0, n)
			m.groupCols = make([]int32, 0, n)
			for k := n; k > 0 && w.err == nil; k-- {
				w.rowGroup(m, n)
			}
		case pqFileMetaKeyValue:
			n := w.list(typ, pqThriftStruct)
			for ; n > 0 && w.err == nil; n-- {
				var key, value string
				var isPandas bool
				w.fields(2, func(id int16, typ byte) {
					switch id {
					case 1:
						key = w.str(typ)
						isPandas = key == "pandas"
					case 2:
						if isPandas { // the key comes first; any other value is skipped unread
							value = w.str(typ)
						} else {
							w.skip(typ, 3)
						}
					default:
						w.skip(typ, 3)
					}
				})
				if isPandas && !m.hasPandas {
					m.pandas, m.hasPandas = value, true
				}
			}
		default:
			w.skip(typ, 1)
		}
	})
	if w.err != nil {
		return nil, w.err
	}
	return m, nil
}

// rowGroup parses a RowGroup, one of groups, into m.
func (w *pqThriftWalker) rowGroup(m *pqMeta, groups int) {
	var rows int64
	cols := -1
	w.fields(1, func(id int16, typ byte) {
		switch id {
		case pqRowGroupColumns:
			n := w.list(typ, pqThriftStruct)
			if m.chunks == nil {
				// Row groups usually have as many chunks; a chunk takes a byte at least.
				size := len(w.b)
				if groups > 0 && n <= size/groups {
					size = n * groups
				}
				m.chunks = make([]pqChunkMeta, 0, size)
			}
			cols = n
			for ; n > 0 && w.err == nil; n-- {
				m.chunks = append(m.chunks, w.columnChunk())
			}
		case pqRowGroupNumRows:
			rows = w.i64(typ)
		default:
			w.skip(typ, 2)
		}
	})
	if cols < 0 {
		w.fail("a row group has no column list")
	}
	m.groupRows = append(m.groupRows, rows)
	m.groupCols = append(m.groupCols, int32(max(cols, 0)))
}

// columnChunk parses a ColumnChunk and its ColumnMetaData.
func (w *pqThriftWalker) columnChunk() (cm pqChunkMeta) {
	w.fields(3, func(id int16, typ byte) {
		switch id {
		case pqChunkMetaData:
			w.fields(4, func(id int16, typ byte) {
				switch id {
				case pqColMetaCodec:
					cm.codec = format.CompressionCodec(w.i32(typ))
				case pqColMetaNumValues:
					cm.numValues = w.i64(typ)
				case pqColMetaCompressedSize:
					cm.compressedSize = w.i64(typ)
				case pqColMetaDataPageOffset:
					cm.dataOffset = w.i64(typ)
				case pqColMetaDictPageOffset:
					cm.dictOffset = w.i64(typ)
				default:
					w.skip(typ, 5)
				}
			})
		case pqChunkOffsetIndexOffset:
			cm.indexOffset = w.i64(typ)
		case pqChunkOffsetIndexLength:
			cm.indexLength = w.i32(typ)
		default:
			w.skip(typ, 4)
		}
	})
	return cm
}

// schemaElement parses a SchemaElement. Its LogicalType (a union of
// structs, kept for its description in messages, e.g.
// "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)") is decoded by parquet-go's
// Thrift decoder from its bytes.
func (w *pqThriftWalker) schemaElement() (el format.SchemaElement) {
	w.fields(2, func(id int16, typ byte) {
		switch id {
		case 1:
			el.Type = thrift.New(format.Type(w.i32(typ)))
		case 2:
			el.TypeLength = thrift.New(w.i32(typ))
		case 3:
			el.RepetitionType = thrift.New(format.FieldRepetitionType(w.i32(typ)))
		case 4:
			el.Name = w.str(typ)
		case 5:
			el.NumChildren = thrift.New(w.i32(typ))
		case 6:
			el.ConvertedType = thrift.New(deprecated.ConvertedType(w.i32(typ)))
		case 7:
			el.Scale = thrift.New(w.i32(typ))
		case 8:
			el.Precision = thrift.New(w.i32(typ))
		case 9:
			el.FieldID = w.i32(typ)
		case 10:
			start := w.i
			w.skip(typ, 3)
			if w.err == nil && typ == pqThriftStruct {
				if err := thrift.Unmarshal(new(thrift.CompactProtocol), w.b[start:w.i], &el.LogicalType); err != nil {
					w.fail("has a bad logical type for column %q: %v", el.Name, err)
				}
			}
		default:
			w.skip(typ, 3)
		}
	})
	return el
}

// fields calls fn with the id and type of each field of a struct, up to its
// stop byte; fn must read or skip the field's value. A field id is the
// previous one plus the header's upper 4 bits, or, when those are 0, a
// zigzag varint that follows. Boolean fields hold their value in the type
// (1 true, 2 false) and have no bytes of their own.
func (w *pqThriftWalker) fields(depth int, fn func(id int16, typ byte)) {
	if depth > 64 {
		w.fail("nests too deep")
	}
	var id int16
	for w.err == nil {
		h := w.byte1()
		if w.err != nil || h == 0 {
			return
		}
		if d := h >> 4; d != 0 {
			id += int16(d)
		} else {
			u := w.uvarint()
			id = int16(int64(u>>1) ^ -int64(u&1))
		}
		fn(id, h&15)
	}
}

// expect fails unless a field's type is want.
func (w *pqThriftWalker) expect(typ, want byte) bool {
	if typ != want {
		w.fail("has a field of type %d where %d belongs at byte %d", typ, want, w.i)
		return false
	}
	return true
}

// zigzag reads a zigzag varint.
func (w *pqThriftWalker) zigzag() int64 {
	u := w.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (w *pqThriftWalker) i64(typ byte) int64 {
	if !w.expect(typ, pqThriftI64) {
		return 0
	}
	return w.zigzag()
}

func (w *pqThriftWalker) i32(typ byte) int32 {
	if !w.expect(typ, pqThriftI32) {
		return 0
	}
	v := w.zigzag()
	if v < math.MinInt32 || v > math.MaxInt32 {
		w.fail("has an i32 out of range at byte %d", w.i)
		return 0
	}
	return int32(v)
}

func (w *pqThriftWalker) str(typ byte) string {
	if !w.expect(typ, pqThriftBinary) {
		return ""
	}
	n := w.length(w.uvarint(), 1)
	if w.err != nil {
		return ""
	}
	s := string(w.b[w.i : w.i+n])
	w.i += n
	return s
}

// list reads a list header whose elements must be of type elem and returns
// the number of elements (checked against the bytes that remain).
func (w *pqThriftWalker) list(typ, elem byte) int {
	if !w.expect(typ, pqThriftList) {
		return 0
	}
	h := w.byte1()
	n := uint64(h >> 4)
	if n == 15 {
		n = w.uvarint()
	}
	if w.err != nil || !w.expect(h&15, elem) {
		return 0
	}
	return w.length(n, 1)
}

// pqPageLocation is a PageLocation of an OffsetIndex: where a data page
// starts in the file, and the row of the row group it begins with.
type pqPageLocation struct {
	offset   int64
	firstRow int64
}

// pqParseOffsetIndex parses an OffsetIndex (field 1: a list of
// PageLocation{1: offset i64, 2: compressed_page_size i32, 3:
// first_row_index i64}) into locs.
func pqParseOffsetIndex(b []byte, locs []pqPageLocation) ([]pqPageLocation, error) {
	w := &pqThriftWalker{b: b}
	locs = locs[:0]
	w.fields(0, func(id int16, typ byte) {
		if id != 1 {
			w.skip(typ, 1)
			return
		}
		n := w.list(typ, pqThriftStruct)
		for ; n > 0 && w.err == nil; n-- {
			var loc pqPageLocation
			w.fields(2, func(id int16, typ byte) {
				switch id {
				case 1:
					loc.offset = w.i64(typ)
				case 3:
					loc.firstRow = w.i64(typ)
				default:
					w.skip(typ, 3)
				}
			})
			locs = append(locs, loc)
		}
	})
	if w.err != nil {
		return locs, fmt.Errorf("offset index %v", w.err)
	}
	return locs, nil
}
