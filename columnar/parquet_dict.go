package columnar

import (
	"math"
	"math/bits"
)

// pqValueDict finds the distinct values of a column chunk of numbers, for
// dictionary encoding. Normalized and transformed matrices repeat values:
// within a sample every value is a function of the count, and most genes
// share a few thousand small counts, so that a chunk of 16,384 values holds
// a few thousand distinct ones. Written as a dictionary and 11- or 12-bit
// indexes, such a chunk is a third of its PLAIN size before compression,
// and zstd, the costliest step of writing, has a third of the bytes to
// compress. Values are told apart by their bits (as written), so that -0
// and +0, or two NaNs of different payloads, stay what they were.
type pqValueDict struct {
	slots   []int32  // hash table: 1 + the entry of a value, 0 when free; a power of two long
	entries []uint64 // the distinct values' bits, in order of first appearance
	index   []int32  // per value of the chunk, its entry
	small   []int32  // buildOfWholes: 1 + the entry of whole number k, 0 when not seen
	limit   int      // buildOfWholes: the most entries allowed
}

// pqDictMinValues is the least number of values a chunk must have for a
// dictionary to be tried: below it PLAIN is as small.
const pqDictMinValues = 64

// build finds the distinct values of vals, giving up (false) as soon as there
// are more than limit of them, where a dictionary would save little.
func (d *pqValueDict) build(vals []uint64, limit int) bool {
	if len(vals) < pqDictMinValues {
		return false
	}
	size := 1
	for size < 2*limit+2 {
		size *= 2
	}
	if cap(d.slots) < size {
		d.slots = make([]int32, size)
	}
	slots := d.slots[:size]
	clear(slots)
	d.slots = slots
	mask := uint64(size - 1)
	shift := 64 - uint(bits.Len64(uint64(size-1)))
	entries := d.entries[:0]
	index := pqGrow(d.index, len(vals))
	d.index = index
	for i, v := range vals {
		// Fibonacci hashing: the top bits of v times 2^64 / golden ratio.
		h := (v * 0x9E3779B97F4A7C15) >> shift
		for {
			e := slots[h&mask]
			if e == 0 {
				if len(entries) == limit {
					d.entries = entries
					return false
				}
				entries = append(entries, v)
				slots[h&mask] = int32(len(entries))
				index[i] = int32(len(entries) - 1)
				break
			}
			if entries[e-1] == v {
				index[i] = e - 1
				break
			}
			h++
		}
	}
	d.entries = entries
	return true
}

// pqSmallWholes bounds the whole numbers that buildOfWholes finds by direct
// lookup: counts below it (most counts of a sample) take a slot of a table
// of 16 KiB, which stays in the first-level cache.
const pqSmallWholes = 1 << 12

// buildOfWholes is build for the values f(x[i]) of a pure function f of
// numbers x that are mostly small whole numbers (a sample's counts, whose
// transform is a function of the count): it finds the distinct x by their
// bits, x in [0, pqSmallWholes) by direct lookup in d.small and the others
// through the hash table, so entries holds the distinct x's bits in order
// of first appearance, and index the entry of each x. Where f gives
// distinct values to distinct x (a strictly monotone transform, as the
// VST), entries and index are those build makes of the values f(x[i]);
// otherwise two entries may hold the same value, which is still a valid
// dictionary of the same values. It gives up (false) with more than limit
// distinct x.
func (d *pqValueDict) buildOfWholes(x []float64, limit int) bool {
	if len(x) < pqDictMinValues {
		return false
	}
	small, others := d.startWholes(len(x), limit)
	index := d.index[:len(x)]
	for i, c := range x {
		v := math.Float64bits(c)
		// k is c when c is a whole number in range, +0 (not -0) for zero.
		if k := uint(int(c)); k < pqSmallWholes && math.Float64bits(float64(k)) == v {
			e := small[k]
			if e == 0 {
				if e = d.add(v); e == 0 {
					return false
				}
				small[k] = e
			}
			index[i] = e - 1
			continue
		}
		if !others.find(d, v, i) {
			return false
		}
	}
	return true
}

// buildOfCounts is buildOfWholes for counts x given as 32-bit integers:
// the same entries (the counts' float64 bits) and index.
func (d *pqValueDict) buildOfCounts(x []uint32, limit int) bool {
	if len(x) < pqDictMinValues {
		return false
	}
	small, others := d.startWholes(len(x), limit)
	index := d.index[:len(x)]
	for i, k := range x {
		if k < pqSmallWholes {
			e := small[k]
			if e == 0 {
				if e = d.add(math.Float64bits(float64(k))); e == 0 {
					return false
				}
				small[k] = e
			}
			index[i] = e - 1
			continue
		}
		if !others.find(d, math.Float64bits(float64(k)), i) {
			return false
		}
	}
	return true
}

// startWholes readies d for buildOfWholes or buildOfCounts of n values
// with at most limit entries: the direct table of small whole numbers,
// cleared, and the hash table of the others.
func (d *pqValueDict) startWholes(n, limit int) (*[pqSmallWholes]int32, pqHashed) {
	if cap(d.small) < pqSmallWholes {
		d.small = make([]int32, pqSmallWholes)
	}
	small := (*[pqSmallWholes]int32)(d.small[:pqSmallWholes])
	clear(small[:])
	size := 1
	for size < 2*limit+2 {
		size *= 2
	}
	if cap(d.slots) < size {
		d.slots = make([]int32, size)
	}
	d.slots = d.slots[:size]
	d.entries, d.limit = d.entries[:0], limit
	d.index = pqGrow(d.index, n)
	return small, pqHashed{mask: uint64(size - 1), shift: 64 - uint(bits.Len64(uint64(size-1)))}
}

// add appends the value of bits v to the entries and returns 1 + its
// entry, or 0 when the entries are at their limit.
func (d *pqValueDict) add(v uint64) int32 {
	if len(d.entries) == d.limit {
		return 0
	}
	d.entries = append(d.entries, v)
	return int32(len(d.entries))
}

// pqHashed finds the values of buildOfWholes and buildOfCounts that are not
// small whole numbers, through the hash table d.slots (cleared when first
// needed: most chunks have none).
type pqHashed struct {
	mask    uint64
	shift   uint
	cleared bool
}

// find sets d.index[i] to the entry of the value of bits v, adding it if
// new; false when it is new and the entries are at their limit.
func (h *pqHashed) find(d *pqValueDict, v uint64, i int) bool {
	if !h.cleared {
		clear(d.slots)
		h.cleared = true
	}
	for s := (v * 0x9E3779B97F4A7C15) >> h.shift; ; s++ {
		e := d.slots[s&h.mask]
		if e == 0 {
			if e = d.add(v); e == 0 {
				return false
			}
			d.slots[s&h.mask] = e
			d.index[i] = e - 1
			return true
		}
		if d.entries[e-1] == v {
			d.index[i] = e - 1
			return true
		}
	}
}
