package columnar

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
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
// and keeps the column while the budget allows.
func (c *cache) ReadColumn(j int, dst []float64) error {
	if col := c.cols[j].Load(); col != nil {
		col.decode(dst)
		c.hits.Add(1)
		return nil
	}
	if err := c.Source.ReadColumn(j, dst); err != nil {
		return err
	}
	if col, ok := c.encode(dst); ok {
		c.cols[j].CompareAndSwap(nil, col) // a second copy, if any, stays unused
	}
	return nil
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
// as the marker 65535 in mid and the value in big.
type cachedColumn struct {
	small []uint8
	mid   []uint16
	big   []uint32
}

const (
	smallMarker = math.MaxUint8
	midMarker   = math.MaxUint16
)

// encodeScratch holds the mid and big values of a column being encoded,
// before their length is known.
type encodeScratch struct {
	mid []uint16
	big []uint32
}

var scratchPool = sync.Pool{New: func() any { return new(encodeScratch) }}

// encode packs x into the arena, or reports false when x holds a value
// that is not a whole number in [0, 2^32) or the budget is spent.
func (c *cache) encode(x []float64) (*cachedColumn, bool) {
	small := c.arena.bytes(len(x))
	if small == nil {
		return nil, false
	}
	sc := scratchPool.Get().(*encodeScratch)
	defer scratchPool.Put(sc)
	mid, big := sc.mid[:0], sc.big[:0]
	for i, v := range x {
		// A whole v in [0, 2^32) comes back from uint32; anything else
		// (NaN, fractions, negatives, 2^32 or more) does not, but -0 does,
		// so its sign bit is looked at too: -0 would come back as +0.
		u := uint32(int64(v))
		if float64(u) != v || math.Float64bits(v)>>63 != 0 {
			return nil, false
		}
		if u < smallMarker { // nine counts in ten
			small[i] = uint8(u)
			continue
		}
		small[i] = smallMarker
		if u < midMarker {
			mid = append(mid, uint16(u))
		} else {
			mid = append(mid, midMarker)
			big = append(big, u)
		}
	}
	sc.mid, sc.big = mid, big
	col := &cachedColumn{small: small}
	if len(mid) > 0 {
		if col.mid = c.arena.uint16s(len(mid)); col.mid == nil {
			return nil, false
		}
		copy(col.mid, mid)
	}
	if len(big) > 0 {
		if col.big = c.arena.uint32s(len(big)); col.big == nil {
			return nil, false
		}
		copy(col.big, big)
	}
	return col, true
}

// decode writes the column's values to dst. The small values come from a
// table of their float64s, a load where a conversion would wait on the
// previous one (cvtsi2sd writes only part of its register).
func (c *cachedColumn) decode(dst []float64) {
	dst = dst[:len(c.small)]
	k, kb := 0, 0
	for i, u := range c.small {
		if u != smallMarker {
			dst[i] = smallFloats[u]
			continue
		}
		if m := c.mid[k]; m != midMarker {
			dst[i] = float64(m)
		} else {
			dst[i] = float64(c.big[kb])
			kb++
		}
		k++
	}
}

// smallFloats[u] is float64(u).
var smallFloats = func() (t [256]float64) {
	for u := range t {
		t[u] = float64(u)
	}
	return t
}()

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
