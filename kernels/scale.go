package kernels

import "math"

// DivideInto sets dst[i] = x[i] / s and returns dst (DESeq2's normalized
// counts are count / size factor, which is not always the same bits as
// count * (1/s)). dst may alias x.
func DivideInto(dst, x []float64, s float64) []float64 {
	if len(dst) != len(x) {
		panic(badLength)
	}
	for i, v := range x {
		dst[i] = v / s
	}
	return dst
}

// Log2p1Into sets dst[i] = log2(x[i] + 1) and returns dst. dst may alias x.
func Log2p1Into(dst, x []float64) []float64 {
	if len(dst) != len(x) {
		panic(badLength)
	}
	for i, v := range x {
		dst[i] = math.Log2(v + 1)
	}
	return dst
}
