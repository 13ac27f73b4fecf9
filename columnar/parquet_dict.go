package columnar

import "math/bits"

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
