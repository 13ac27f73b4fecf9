package kernels

import "math"

// ln1e6 and ln2 are the constants edgeR's C++ code uses (std::log(1e6), M_LN2).
var (
	ln1e6 = math.Log(1e6)
	ln2   = math.Ln2
)

// CPMInto sets dst[i] = x[i] · (1e6/lib), edgeR's counts per million (this
// order of operations is bit-identical to edgeR's C++; (x/lib)·1e6 is not).
// dst may alias x.
func CPMInto(dst, x []float64, lib float64) []float64 {
	if len(dst) != len(x) {
		panic(badLength)
	}
	cpm := CPMOf(lib)
	for i, v := range x {
		dst[i] = cpm(v)
	}
	return dst
}

// CPMOf returns the function that CPMInto applies to each count of a
// library of size lib (the same bits).
func CPMOf(lib float64) func(x float64) float64 {
	scale := 1e6 / lib
	return func(x float64) float64 { return x * scale }
}

// LogCPMOf returns the function that LogCPMInto applies to each count of a
// library of size lib with prior count prior (the same bits).
func LogCPMOf(lib, prior float64) func(x float64) float64 {
	logLib := math.Log(lib + 2*prior)
	return func(x float64) float64 { return (math.Log(x+prior) - logLib + ln1e6) / ln2 }
}

// LogCPMInto sets dst[i] = (ln(x[i] + prior) - ln(lib + 2·prior) + ln 1e6) / ln 2,
// edgeR's log-CPM with a prior count that is added once to the count and
// twice to the library size (prior is already scaled to this library).
// dst may alias x.
func LogCPMInto(dst, x []float64, lib, prior float64) []float64 {
	if len(dst) != len(x) {
		panic(badLength)
	}
	logCPM := LogCPMOf(lib, prior)
	for i, v := range x {
		dst[i] = logCPM(v)
	}
	return dst
}
