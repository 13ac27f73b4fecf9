// Package edger computes edgeR's normalization factors (calcNormFactors:
// TMM, TMMwsp, RLE, upperquartile), counts per million and log-CPM, RPKM and
// TPM, and filterByExpr, by passes over the sample columns of a
// columnar.Source (edgeR 3.40.2 semantics; ALGORITHMS.md §2-4).
//
// Norm factors, as calcNormFactors.default:
//
//   - lib_j is the column sum; rows with no positive count are dropped first;
//     with no row left, or one sample, every factor is 1.
//   - TMM: the reference column is the sample whose upper-quartile fraction
//     quantile7(x_j, 0.75)/lib_j is closest to the mean of those fractions
//     (first on ties); if their median is below 1e-20, the sample with the
//     largest Σ√x. Each sample's factor is the weighted mean of the log
//     ratios M = log2((x/lib)/(r/lib_r)) that survive trimming 30% of M and
//     5% of A = (log2(x/lib) + log2(r/lib_r))/2 by average ranks, with
//     precision weights 1/v, v = (lib-x)/lib/x + (lib_r-r)/lib_r/r; 2^f.
//   - TMMwsp: the reference is the largest Σ√x; zeros on one side are paired
//     by size, trimming is by position in stable orders, and the weights are
//     (1+1e-6)/(v+1e-6).
//   - RLE: median over genes with no zero of x_ij / geomean_i, over lib_j.
//   - upperquartile: quantile7(x_j, p)/lib_j.
//
// The factors are then divided by their geometric mean. Passes: one for
// library sizes, the rows to keep, Σ√x and log sums; one for quantiles or
// RLE medians; and for TMM one more against the reference column, the only
// column held in memory.
//
// TMM and TMMwsp trim by selection, not sorting (tmm.go, tmmwsp.go): the
// trims keep the rows between two order statistics of M and two of A, found
// on cheap logarithmic keys with exact values only near the boundaries, so
// the rows kept are exactly edgeR's. TMMwsp's factors have the bits of the
// sorting implementation, which tmm_old_test.go keeps to test against;
// TMM's do too when its weighted mean sums exact M (tmmScratch.exactSums,
// for the tests), but by default the rows decided by their keys take M
// from the key (mFromKey in tmm.go), within 4e-13 of edgeR's, which puts
// the factor within 3e-13 relative of the sorting implementation's.
// Quantiles of whole counts come from a histogram (quantile.go).
//
// Where edgeR fails or answers NA (an all-zero sample; RLE when every gene
// has a zero; a zero upper quartile), the functions return a
// *columnar.InputError that names the sample and says what works instead.
package edger
