package columnar

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// pqUnpackReference unpacks n values of width bits from run bit by bit:
// bit b of the stream is bit b%8 of byte b/8, value i is bits [i*width,
// (i+1)*width), its first bit the least significant.
func pqUnpackReference(run []byte, width uint, n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		var v uint32
		for k := uint(0); k < width; k++ {
			b := uint(i)*width + k
			v |= uint32(run[b/8]>>(b%8)&1) << k
		}
		out[i] = int32(v)
	}
	return out
}

// TestPQUnpackBits compares pqUnpackBits with the reference for every width
// from 1 to 32 and lengths that end on and off a group of 8, with run
// exactly as long as the values' bits (the last loads cannot read past it)
// and with bytes to spare; uint8 destinations for widths up to 8.
func TestPQUnpackBits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for width := uint(1); width <= 32; width++ {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 23, 31, 33, 63, 64, 65, 127, 1000, 4099} {
			for _, spare := range []int{0, 3, 16} {
				run := make([]byte, (n*int(width)+7)/8+spare)
				for i := range run {
					run[i] = byte(r.Uint32())
				}
				want := pqUnpackReference(run, width, n)
				got := make([]int32, n)
				pqUnpackBits(got, run, width)
				if !slices.Equal(got, want) {
					t.Fatalf("width %d, %d values, %d bytes to spare: first difference at %d", width, n, spare, pqFirstDiff(got, want))
				}
				if width > 8 {
					continue
				}
				got8 := make([]uint8, n)
				pqUnpackBits(got8, run, width)
				for i := range got8 {
					if int32(got8[i]) != want[i] {
						t.Fatalf("uint8, width %d, %d values, %d bytes to spare: value %d is %d, want %d", width, n, spare, i, got8[i], want[i])
					}
				}
			}
		}
	}
}

func pqFirstDiff(a, b []int32) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestPQDecodeHybridMixed decodes pages of several runs for every width:
// bit-packed groups, a repeated value, more bit-packed groups; the values
// wanted end inside the last group (its padding not read), the page's
// bytes end inside a bit-packed run (a truncated page gives the whole
// values it holds and an error for the rest), and a run ends mid-group
// where the next run begins.
func TestPQDecodeHybridMixed(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for width := uint(1); width <= 32; width++ {
		mask := uint32(1)<<width - 1
		var src []byte
		var want []int32
		bitPacked := func(groups int) {
			src = binary.AppendUvarint(src, uint64(groups)<<1|1)
			run := make([]byte, groups*int(width))
			for i := range run {
				run[i] = byte(r.Uint32())
			}
			src = append(src, run...)
			want = append(want, pqUnpackReference(run, width, 8*groups)...)
		}
		bitPacked(3)
		v := r.Uint32() & mask
		src = binary.AppendUvarint(src, 13<<1)
		src = binary.LittleEndian.AppendUint32(src, v)[:len(src)+int(width+7)/8]
		for range 13 {
			want = append(want, int32(v))
		}
		bitPacked(5)
		for _, n := range []int{len(want), len(want) - 3, 24 + 13 + 1, 24 + 5, 17} {
			dst := make([]int32, n)
			if err := pqDecodeHybrid(dst, src, width, len(want)); err != nil {
				t.Fatalf("width %d, %d values: %v", width, n, err)
			}
			if !slices.Equal(dst, want[:n]) {
				t.Fatalf("width %d, %d values: first difference at %d", width, n, pqFirstDiff(dst, want[:n]))
			}
		}
		// The page ends k bytes into the last run's groups: the values whose
		// bits it holds are decoded, and the rest are missing.
		last := 24 + 13
		head := len(src) - 5*int(width)
		for _, k := range []int{0, 1, int(width), 3*int(width) + 1, 5*int(width) - 1} {
			cut := src[:head+k]
			whole := k * 8 / int(width)
			dst := make([]int32, last+whole)
			if err := pqDecodeHybrid(dst, cut, width, len(want)); err != nil {
				t.Fatalf("width %d, page cut %d bytes into the last run: %v", width, k, err)
			}
			if !slices.Equal(dst, want[:last+whole]) {
				t.Fatalf("width %d, page cut %d bytes into the last run: first difference at %d", width, k, pqFirstDiff(dst, want[:last+whole]))
			}
			if err := pqDecodeHybrid(make([]int32, last+whole+1), cut, width, len(want)); err == nil {
				t.Fatalf("width %d, page cut %d bytes into the last run: %d values decoded from %d whole ones", width, k, last+whole+1, last+whole)
			}
		}
	}
}

// TestPQUnpackAt: values [at, at+n) of a bit-packed run, for starts on and
// off a group of 8 and lengths that end within the start's group or past
// it, every width from 1 to 32; the run holds exactly the bits of 64 values.
func TestPQUnpackAt(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for width := uint(1); width <= 32; width++ {
		run := make([]byte, 64*int(width)/8)
		for i := range run {
			run[i] = byte(r.Uint32())
		}
		want := pqUnpackReference(run, width, 64)
		for _, at := range []int{0, 1, 5, 7, 8, 13, 40, 63} {
			for _, n := range []int{0, 1, 2, 3, 8, 11, 64 - at} {
				if at+n > 64 {
					continue
				}
				got := make([]int32, n)
				pqUnpackAt(got, run, width, at)
				if !slices.Equal(got, want[at:at+n]) {
					t.Fatalf("width %d, values [%d, %d): got %v, want %v", width, at, at+n, got, want[at:at+n])
				}
			}
		}
	}
}

// pqUnpackPerValue is the loop pqUnpackBits replaced: one 64-bit load per
// value at its first byte. For BenchmarkPQUnpackBits.
func pqUnpackPerValue(dst []int32, run []byte, width uint) {
	mask := uint64(1)<<width - 1
	for i := range dst {
		bit := uint(i) * width
		j := int(bit >> 3)
		var w uint64
		if j+8 <= len(run) {
			w = binary.LittleEndian.Uint64(run[j:])
		} else {
			for b := len(run) - 1; b >= j; b-- {
				w = w<<8 | uint64(run[b])
			}
		}
		dst[i] = int32((w >> (bit & 7)) & mask)
	}
}

// BenchmarkPQUnpackBits unpacks a page of 65,536 bit-packed values (a
// long file's id page, a dictionary-encoded value page) of several widths,
// with pqUnpackBits and with the per-value loop it replaced. MB/s counts
// the 4-byte values written.
func BenchmarkPQUnpackBits(b *testing.B) {
	const n = 1 << 16
	dst := make([]int32, n)
	for _, width := range []uint{1, 5, 8, 11, 12, 16, 17, 24} {
		run := make([]byte, n*int(width)/8)
		for i := range run {
			run[i] = byte(i * 131)
		}
		for _, impl := range []struct {
			name string
			fn   func([]int32, []byte, uint)
		}{{"groups", pqUnpackBits[int32]}, {"per-value", pqUnpackPerValue}} {
			b.Run(fmt.Sprintf("width=%d/%s", width, impl.name), func(b *testing.B) {
				b.SetBytes(4 * n)
				for b.Loop() {
					impl.fn(dst, run, width)
				}
			})
		}
	}
}
