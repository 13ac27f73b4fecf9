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
	if cap(d.small) < pqSmallWholes {
		d.small = make([]int32, pqSmallWholes)
	}
	small := d.small[:pqSmallWholes]
	clear(small)
	size := 1
	for size < 2*limit+2 {
		size *= 2
	}
	if cap(d.slots) < size {
		d.slots = make([]int32, size)
	}
	slots := d.slots[:size]
	d.slots = slots
	slotsClear := false // the hash table is cleared when first needed
	mask := uint64(size - 1)
	shift := 64 - uint(bits.Len64(uint64(size-1)))
	entries := d.entries[:0]
	index := pqGrow(d.index, len(x))
	d.index = index
	index = index[:len(x)]
	for i, c := range x {
		v := math.Float64bits(c)
		// k is c when c is a whole number in range, +0 (not -0) for zero.
		if k := uint(int(c)); k < pqSmallWholes && math.Float64bits(float64(k)) == v {
			e := small[k]
			if e == 0 {
				if len(entries) == limit {
					d.entries = entries
					return false
				}
				entries = append(entries, v)
				e = int32(len(entries))
				small[k] = e
			}
			index[i] = e - 1
			continue
		}
		if !slotsClear {
			clear(slots)
			slotsClear = true
		}
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
