package columnar

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/parquet-go/parquet-go/format"
)

// Cached wraps src with an in-memory cache of decoded columns, so that a
// second or third pass over the same samples reads them from memory instead
// of decoding the file again. At most budget bytes are held: the columns
// read first are kept, the rest are read from src every time. Columns hold
// whole counts in about 1.2 bytes a count (see cachedColumn); a column with other values
// (fractions, NaN, negatives, counts of 2^32 or more) is not cached. The
// memory is one anonymous mapping outside the Go heap, so it neither grows
// the garbage collector's target nor counts in RSS before it is used; Close
// releases it.
//
// Values come back with exactly the bits src gives. With budget <= 0, or for
// a matrix of no genes, src is returned as it is.
func Cached(src Source, budget int64) Source {
	if budget <= 0 || len(src.Genes()) == 0 {
		return src
	}
	arena, err := newArena(budget)
	if err != nil {
		return src // no memory to spare: read the file every time
	}
	c := &cache{Source: src, arena: arena, cols: make([]atomic.Pointer[cachedColumn], len(src.Samples()))}
	if gl, ok := src.(GeneLengther); ok {
		return &cacheWithLengths{c, gl}
	}
	return c
}

// cache is the Source returned by Cached.
type cache struct {
	Source
	arena *arena
	cols  []atomic.Pointer[cachedColumn]
	hits  atomic.Int64
}

type cacheWithLengths struct {
	*cache
	GeneLengther
}

// ReadColumn reads sample j from the cache or, on a miss, from the source,
// and keeps the column while the budget allows: as counts where the source
// gives them (readCountsFrom), else as the values read.
func (c *cache) ReadColumn(j int, dst []float64) error {
	if col := c.cols[j].Load(); col != nil {
		col.decode(dst)
		c.hits.Add(1)
		return nil
	}
	buf := pqCountBuffers.Get().(*[]uint32)
	defer pqCountBuffers.Put(buf)
	*buf = pqGrow(*buf, len(dst))
	counts := (*buf)[:len(dst)]
	ok, err := readCountsFrom(c.Source, c, j, counts)
	if err != nil {
		return err
	}
	if ok {
		for i, v := range counts {
			dst[i] = float64(v)
		}
		return nil
	}
	if err := c.Source.ReadColumn(j, dst); err != nil {
		return err
	}
	if col, ok := c.encode(len(dst), func(small []uint8, mid []uint16, big []uint32) (int, int, bool) {
		return packCounts(dst, small, mid, big)
	}); ok {
		c.cols[j].CompareAndSwap(nil, col) // a second copy, if any, stays unused
	}
	return nil
}

// ReadRows reads genes rows (ascending) of sample j: from the cache without
// decoding the rest of the column (cachedColumn.gather) when they are few,
// else through ReadColumn (from the cache, or on a miss from the source,
// keeping the column).
func (c *cache) ReadRows(j int, rows []int, dst []float64) error {
	if col := c.cols[j].Load(); col != nil && len(rows) <= len(col.small)/gatherMaxShare && col.gather(rows, dst) {
		c.hits.Add(1)
		return nil
	}
	return pickRows(c, j, rows, dst) // through ReadColumn, which keeps the column
}

// gatherMaxShare: gather reads at most one gene in gatherMaxShare; for more,
// decoding the whole column is faster (BenchmarkCacheGather: at 1.7% of the
// genes gather takes half of decode's time, at 6% as long, at 46% four
// times as long).
const gatherMaxShare = 20

// int32Reader is a Source that can also hand a column over as the 32-bit
// integers it stores (Parquet INT32 counts: wide, long read in place, or
// shards of them), which the cache packs, and ReadCounts gives, without
// float64s.
type int32Reader interface {
	// readInt32s reads sample j's values into counts (one per gene) when
	// they are INT32 with no nulls; ok says whether it did. When it did
	// not, counts are not all filled: ReadColumn reads the column.
	readInt32s(j int, counts []int32) (ok bool, err error)
}

// ReadCounts reads sample j of src into dst (one per gene) as 32-bit
// counts, where src holds them as such: a column in the cache of Cached
// (whatever the source), or, read from the file and then kept in the cache
// while its budget allows, a Parquet INT32 column with no nulls and no
// negative value. ok is false, with dst not all written, for any other
// column: ReadColumn reads it, and the pass's checks report a value that
// is not a count. Counts go from the file or the cache to dst without
// float64s in between, for kernels that take whole counts.
func ReadCounts(src Source, j int, dst []uint32) (ok bool, err error) {
	c := cacheOf(src)
	if c != nil {
		if col := c.cols[j].Load(); col != nil {
			col.decodeCounts(dst)
			c.hits.Add(1)
			return true, nil
		}
		src = c.Source
	}
	return readCountsFrom(src, c, j, dst)
}

// readCountsFrom reads sample j of src into dst as counts when src stores
// it as INT32s with no nulls and none negative (ok says whether it did),
// keeping them in the cache c when it is not nil and has room.
func readCountsFrom(src Source, c *cache, j int, dst []uint32) (ok bool, err error) {
	r, isInt32 := src.(int32Reader)
	if !isInt32 || len(dst) == 0 {
		return false, nil
	}
	counts := unsafe.Slice((*int32)(unsafe.Pointer(&dst[0])), len(dst)) // the same bits, read as signed
	if filled, err := r.readInt32s(j, counts); !filled || err != nil {
		return false, err
	}
	if c != nil {
		col, packed := c.encode(len(counts), func(small []uint8, mid []uint16, big []uint32) (int, int, bool) {
			return packInt32s(counts, small, mid, big)
		})
		if packed {
			c.cols[j].CompareAndSwap(nil, col)
			return true, nil
		}
	}
	for _, v := range counts { // not packed: no cache, no room, or a negative value
		if v < 0 {
			return false, nil
		}
	}
	return true, nil
}

// CountsReadable reports whether ReadCounts may give src's columns as
// counts: src is made by Cached, or stores Parquet INT32 columns.
func CountsReadable(src Source) bool {
	if cacheOf(src) != nil {
		return true
	}
	_, ok := src.(int32Reader)
	return ok
}

// cacheOf is src's cache when src is made by Cached, else nil.
func cacheOf(src Source) *cache {
	switch c := src.(type) {
	case *cache:
		return c
	case *cacheWithLengths:
		return c.cache
	}
	return nil
}

// countsSink is sink as a wide Parquet sink of DOUBLE values, which takes
// a cached column's counts as they are held (writeCountsFunc), or nil.
func countsSink(sink Sink) *pqWideSink {
	if s, ok := sink.(*pqWideSink); ok && s.w.valueType == format.Double {
		return s
	}
	return nil
}

// HoldsCounts reports whether WriteCountsFunc(sink, src, j, f) writes
// sample j: src (made by Cached) holds its counts and sink is a wide
// Parquet sink of DOUBLE values.
func HoldsCounts(sink Sink, src Source, j int) bool {
	c := cacheOf(src)
	return c != nil && countsSink(sink) != nil && c.cols[j].Load() != nil
}

// WriteCountsFunc writes sample j of src to sink as f of its counts, as
// sink.(ColumnFuncWriter).WriteColumnFunc(j, counts, f) does, with the same
// bytes, from the counts as the cache holds them: decoded to 32-bit counts
// as the column is encoded, and its dictionary found from them
// (pqValueDict.buildOfCounts), without a column of float64s read, checked
// and copied first. ok is false, and nothing is done, where HoldsCounts is
// false: the caller then reads the column and calls WriteColumnFunc. The
// sink must be committed or aborted before src is closed (the cache's
// memory is read until then).
func WriteCountsFunc(sink Sink, src Source, j int, f func(float64) float64) (ok bool, err error) {
	c, s := cacheOf(src), countsSink(sink)
	if c == nil || s == nil || f == nil {
		return false, nil
	}
	col := c.cols[j].Load()
	if col == nil {
		return false, nil
	}
	return true, s.writeCountsFunc(j, col, f) // not a read: CacheHits does not count it
}

// CountsKnown reports whether column j is in the cache: encode keeps only
// columns of whole counts in [0, 2^32) (see KnownCounts).
func (c *cache) CountsKnown(j int) bool { return c.cols[j].Load() != nil }

// Locate says where sample j's value of gene i is stored, as the source
// does (see Locator).
func (c *cache) Locate(j, i int) (file string, line int) {
	if l, ok := c.Source.(Locator); ok {
		return l.Locate(j, i)
	}
	return c.Source.Path(), 0
}

// Close releases the cache's memory and closes the source.
func (c *cache) Close() error {
	for j := range c.cols {
		c.cols[j].Store(nil)
	}
	c.arena.free()
	return c.Source.Close()
}

// CacheHits reports how many column reads a Source made by Cached served
// from memory (0 for other sources): for tests and benchmarks.
func CacheHits(src Source) int64 {
	switch c := src.(type) {
	case *cache:
		return c.hits.Load()
	case *cacheWithLengths:
		return c.hits.Load()
	}
	return 0
}

// cachedColumn holds one column of whole counts in about 1.2 bytes a
// count: values below 255 (nine in ten RNA-seq counts) in small; the others
// as the marker 255 in small and, in row order, in mid when below 65535, or
// as the marker 65535 in mid and the value in big. mid ends with midSlack
// values that stand for no row, so that decode may read four values past
// any marker without a bounds test of its own.
type cachedColumn struct {
	small []uint8
	mid   []uint16
	big   []uint32
}

const (
	smallMarker = math.MaxUint8
	midMarker   = math.MaxUint16
	midSlack    = 4 // see cachedColumn and markerRows
)

// encodeScratch holds the mid and big values of a column being encoded,
// before their length is known.
type encodeScratch struct {
	mid []uint16
	big []uint32
}

var scratchPool = sync.Pool{New: func() any { return new(encodeScratch) }}

// encode packs a column of n counts into the arena with pack (packCounts
// or packInt32s), or reports false when pack finds a value that is not a
// whole number in [0, 2^32) or the budget is spent.
func (c *cache) encode(n int, pack func(small []uint8, mid []uint16, big []uint32) (nm, nb int, ok bool)) (*cachedColumn, bool) {
	small := c.arena.bytes(n)
	if small == nil {
		return nil, false
	}
	sc := scratchPool.Get().(*encodeScratch)
	defer scratchPool.Put(sc)
	sc.mid, sc.big = pqGrow(sc.mid, n+midSlack), pqGrow(sc.big, n)
	mid, big := sc.mid[:n+midSlack], sc.big[:n]
	nm, nb, ok := pack(small, mid, big)
	if !ok {
		return nil, false
	}
	col := &cachedColumn{small: small}
	if col.mid = c.arena.uint16s(nm + midSlack); col.mid == nil {
		return nil, false
	}
	copy(col.mid, mid[:nm])
	if nb > 0 {
		if col.big = c.arena.uint32s(nb); col.big == nil {
			return nil, false
		}
		copy(col.big, big[:nb])
	}
	return col, true
}

// packCounts writes each count of x to small, mid and big (all of
// len(x)) as cachedColumn holds them, and returns how many of mid and big
// it used; ok is false for a value that is not a whole number in
// [0, 2^32).
//
// The loop has no branch that depends on the values, which are random
// from row to row: every row writes its capped value to small, mid and
// big, and only the positions of mid and big move on when the row needs
// them (a mispredicted branch per large count cost more than the rest).
func packCounts(x []float64, small []uint8, mid []uint16, big []uint32) (nm, nb int, ok bool) {
	small = small[:len(x)]
	for i, v := range x {
		// A whole v in [0, 2^32) comes back from uint32 with the same
		// bits; anything else does not: NaN, fractions, negatives, 2^32
		// or more, and -0 (which would come back as +0).
		u := uint32(int64(v))
		if math.Float64bits(float64(u)) != math.Float64bits(v) {
			return 0, 0, false
		}
		small[i] = uint8(min(u, smallMarker))
		mid[nm] = uint16(min(u, midMarker))
		big[nb] = u
		nm += oneIf(u >= smallMarker)
		nb += oneIf(u >= midMarker)
	}
	return nm, nb, true
}

// packInt32s is packCounts for 32-bit integers, eight rows at a time: the
// eight small bytes are made as one 64-bit word, and only the rows whose
// byte is the marker (found at once in the word, as decode finds them) go
// on to mid and big. ok is false for a negative value. (Copying four
// marker rows without a branch, as decode does, measured slower here: 117
// against 84 us a column in BenchmarkCacheEncodeInt32.)
func packInt32s(x []int32, small []uint8, mid []uint16, big []uint32) (nm, nb int, ok bool) {
	small = small[:len(x)]
	var signs int32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		signs |= v[0] | v[1] | v[2] | v[3] | v[4] | v[5] | v[6] | v[7]
		w := uint64(min(uint32(v[0]), smallMarker)) | uint64(min(uint32(v[1]), smallMarker))<<8 |
			uint64(min(uint32(v[2]), smallMarker))<<16 | uint64(min(uint32(v[3]), smallMarker))<<24 |
			uint64(min(uint32(v[4]), smallMarker))<<32 | uint64(min(uint32(v[5]), smallMarker))<<40 |
			uint64(min(uint32(v[6]), smallMarker))<<48 | uint64(min(uint32(v[7]), smallMarker))<<56
		binary.LittleEndian.PutUint64(small[i:i+8:i+8], w)
		for m := markerBytes(w); m != 0; m &= m - 1 {
			u := uint32(v[bits.TrailingZeros64(m)>>3])
			mid[nm] = uint16(min(u, midMarker))
			big[nb] = u
			nm++
			nb += oneIf(u >= midMarker)
		}
	}
	for ; i < len(x); i++ {
		v := x[i]
		signs |= v
		u := uint32(v)
		small[i] = uint8(min(u, smallMarker))
		if u >= smallMarker {
			mid[nm] = uint16(min(u, midMarker))
			big[nb] = u
			nm++
			nb += oneIf(u >= midMarker)
		}
	}
	if signs < 0 {
		return 0, 0, false
	}
	return nm, nb, true
}

// markerMask gathers the flags of markerBytes (the top bit of each byte)
// into a byte: bit r for row r of the group. The multiplier moves bit 8r
// of m>>7 to bit 56+r; its other products land at distinct bits outside
// 56..63, so that no carry reaches them.
func markerMask(m uint64) uint8 {
	return uint8((m >> 7) * 0x0102040810204080 >> 56)
}

// markerRows[mk] lists in byte t (t < 4) the row of the group's t-th
// marker, for the marker rows mk (markerMask), and 8 (a slot past the
// group) in the bytes beyond its markers.
var markerRows = func() (t [256]uint32) {
	for mk := range t {
		var rows [midSlack]uint32
		for k := range rows {
			rows[k] = 8
		}
		k := 0
		for r := 0; r < 8 && k < midSlack; r++ {
			if mk&(1<<r) != 0 {
				rows[k] = uint32(r)
				k++
			}
		}
		t[mk] = rows[0] | rows[1]<<8 | rows[2]<<16 | rows[3]<<24
	}
	return t
}()

// oneIf is 1 when b holds, else 0 (a flag set, not a branch).
func oneIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decode writes the column's values to dst, eight rows at a time: every
// row from its small byte through a table of float64s (a load, where a
// conversion would wait on the previous one: cvtsi2sd writes only part of
// its register), then the rows whose byte is the marker, found all at once
// in the eight bytes as a 64-bit word, from mid or big. The marker rows
// are one in ten and fall at random, so that a branch on each, or on their
// number, mispredicts often: a group of up to four markers whose mid
// values are all below the mid marker (nearly every group) writes four
// values without a branch on the data, at the rows markerRows lists, the
// ones past its markers to dst[i+8], which the next group writes again;
// the other groups take their markers one by one.
func (c *cachedColumn) decode(dst []float64) { decodeTiers(c, dst, &smallFloats) }

// decodeCounts is decode to 32-bit counts.
func (c *cachedColumn) decodeCounts(dst []uint32) { decodeTiers(c, dst, &smallCounts) }

// decodeTiers is decode into numbers of type T, small[u] being the byte
// u's.
func decodeTiers[T float64 | uint32](c *cachedColumn, dst []T, small *[256]T) {
	tiny, mid := c.small, c.mid
	dst = dst[:len(tiny)]
	k, kb := 0, 0
	i := 0
	for ; i+9 <= len(tiny); i += 8 { // dst[i+8] exists
		s, d := tiny[i:i+8:i+8], dst[i:i+9:i+9]
		d[0], d[1], d[2], d[3] = small[s[0]], small[s[1]], small[s[2]], small[s[3]]
		d[4], d[5], d[6], d[7] = small[s[4]], small[s[5]], small[s[6]], small[s[7]]
		m := markerBytes(binary.LittleEndian.Uint64(s))
		mk := markerMask(m)
		n := bits.OnesCount64(m)
		q := mid[k : k+midSlack : k+midSlack]
		if n <= midSlack && midMarkers(q)&firstLanes[n] == 0 {
			rows := markerRows[mk]
			d[rows&15] = T(q[0])
			d[rows>>8&15] = T(q[1])
			d[rows>>16&15] = T(q[2])
			d[rows>>24&15] = T(q[3])
			k += n
			continue
		}
		for ; m != 0; m &= m - 1 {
			v := uint32(mid[k])
			k++
			if v == midMarker {
				v = c.big[kb]
				kb++
			}
			d[bits.TrailingZeros64(m)>>3] = T(v)
		}
	}
	for ; i < len(tiny); i++ {
		if u := tiny[i]; u != smallMarker {
			dst[i] = small[u]
			continue
		}
		v := uint32(mid[k])
		k++
		if v == midMarker {
			v = c.big[kb]
			kb++
		}
		dst[i] = T(v)
	}
}

// midMarkers has the top bit set in each 16-bit lane of the four values q
// (as one word, q[0] lowest) that is midMarker (0xFFFF), and no other bit:
// markerBytes's carry test on 16-bit lanes.
func midMarkers(q []uint16) uint64 {
	w := uint64(q[0]) | uint64(q[1])<<16 | uint64(q[2])<<32 | uint64(q[3])<<48
	const low15, ones, tops = 0x7fff7fff7fff7fff, 0x0001000100010001, 0x8000800080008000
	return ((w & low15) + ones) & w & tops
}

// firstLanes[n] covers the first n 16-bit lanes of a word (n <= 4).
var firstLanes = [midSlack + 1]uint64{0, 0xffff, 0xffffffff, 0xffffffffffff, 0xffffffffffffffff}

// gather writes the values of rows to dst, as decode would write them,
// without decoding the other rows; it reports false, writing nothing, when
// rows are not strictly ascending within the column. A row's value is its
// small byte unless that is the marker; then it is the next unread mid
// (or big) value, whose position is the number of markers before the row:
// the markers between two wanted rows are counted eight bytes at a time
// (markerBytes), and the mid values they skip are checked for the mid
// marker to keep the position in big.
func (c *cachedColumn) gather(rows []int, dst []float64) bool {
	small := c.small
	last := -1
	for _, i := range rows {
		if i <= last || i >= len(small) {
			return false
		}
		last = i
	}
	dst = dst[:len(rows)]
	k, kb, pos := 0, 0, 0 // the markers in small[:pos] are mid[:k], with kb big ones
	for r, i := range rows {
		n := 0
		for ; pos+8 <= i; pos += 8 {
			n += bits.OnesCount64(markerBytes(binary.LittleEndian.Uint64(small[pos : pos+8 : pos+8])))
		}
		for ; pos < i; pos++ {
			n += oneIf(small[pos] == smallMarker)
		}
		for _, m := range c.mid[k : k+n] {
			kb += oneIf(m == midMarker)
		}
		k += n
		u := small[i]
		pos = i + 1
		if u != smallMarker {
			dst[r] = smallFloats[u]
			continue
		}
		v := uint32(c.mid[k])
		k++
		if v == midMarker {
			v = c.big[kb]
			kb++
		}
		dst[r] = float64(v)
	}
	return true
}

// markerBytes has the top bit set in each byte of w that is smallMarker
// (0xFF), and no other bit: a byte's low seven bits plus one carry into
// its top bit exactly when they are all ones, and never beyond the byte.
func markerBytes(w uint64) uint64 {
	const low7, ones, tops = 0x7f7f7f7f7f7f7f7f, 0x0101010101010101, 0x8080808080808080
	return ((w & low7) + ones) & w & tops
}

// smallFloats[u] is float64(u), smallCounts[u] uint32(u).
var smallFloats, smallCounts = bytesAs[float64](), bytesAs[uint32]()

// bytesAs is the table of every byte's value as a T.
func bytesAs[T float64 | uint32]() (t [256]T) {
	for u := range t {
		t[u] = T(u)
	}
	return t
}

// arena hands out slices of one fixed block of memory, never to be freed
// one by one: a bump pointer moved atomically, so that pass workers can
// allocate at once.
type arena struct {
	mem  []byte
	next atomic.Int64
}

func newArena(size int64) (*arena, error) {
	mem, err := mapAnonymous(int(size))
	if err != nil {
		return nil, err
	}
	return &arena{mem: mem}, nil
}

// alloc returns n bytes aligned to 8, or nil when the arena is full.
func (a *arena) alloc(n int) []byte {
	padded := int64((n + 7) &^ 7)
	end := a.next.Add(padded)
	if end > int64(len(a.mem)) {
		return nil
	}
	start := end - padded
	return a.mem[start : start+int64(n) : start+int64(n)]
}

func (a *arena) bytes(n int) []byte {
	if n == 0 {
		return nil
	}
	return a.alloc(n)
}

func (a *arena) uint16s(n int) []uint16 {
	b := a.alloc(2 * n)
	if b == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n)
}

func (a *arena) uint32s(n int) []uint32 {
	b := a.alloc(4 * n)
	if b == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), n)
}

func (a *arena) free() {
	if a.mem != nil {
		unmapAnonymous(a.mem)
		a.mem = nil
	}
}
