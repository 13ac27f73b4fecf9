package kernels

// MapTableSize bounds the whole counts whose f(count) MapCounts takes from a
// table made per call.
const MapTableSize = 1024

// MapCounts sets dst[i] = f(x[i]) and returns dst[:len(x)] (dst may alias
// x). f must be a pure function of its argument, such as a normalization or
// transform of one sample's counts. Most counts are small whole numbers:
// for a column of at least 4·MapTableSize values, f of the whole numbers
// below MapTableSize is computed once into a table, so those values have
// f's very bits at a fraction of the cost of a logarithm each; other values
// (larger, fractional) call f.
func MapCounts(dst, x []float64, f func(float64) float64) []float64 {
	dst = dst[:len(x)]
	if len(x) < 4*MapTableSize {
		for i, c := range x {
			dst[i] = f(c)
		}
		return dst
	}
	var table [MapTableSize]float64
	for k := range table {
		table[k] = f(float64(k))
	}
	for i, c := range x {
		if k := uint(int(c)); k < MapTableSize && float64(k) == c {
			dst[i] = table[k]
		} else {
			dst[i] = f(c)
		}
	}
	return dst
}
