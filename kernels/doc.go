// Package kernels holds the numeric loops of colnorm: plain loops over
// []float64 with no I/O and no allocation in steady state.
//
// Conventions follow gonum/floats: a fixed-shape result is written to dst,
// which comes first and is returned; a variable-length result is appended to
// dst[:0] and returned. Slices of different lengths where equal lengths are
// required are a programming error and panic with a "kernels: " message. Data
// conditions (zeros, an empty selection) are values, and each function's
// comment says which.
//
// Numbers follow R's conventions where colnorm must equal DESeq2 and edgeR:
// the median of an even count is the mean of the two middle values, and means
// are computed like R's mean (a sum, then one correction pass).
package kernels

const badLength = "kernels: slice lengths do not match"
