// Package deseq2 computes DESeq2's size factors and normalized counts by
// passes over the sample columns of a columnar.Source.
//
// Median-of-ratios (DESeq2 1.38 estimateSizeFactorsForMatrix):
//
//	ℓ_i = (1/m) Σ_j ln c_ij                 (ratio: -Inf when any c_ij = 0)
//	ℓ_i = ln exp((1/m) Σ_{j: c_ij>0} ln c_ij) (poscounts: zeros skipped, still divided by m;
//	                                          an all-zero gene gets -Inf)
//	s_j = exp( median_{i: ℓ_i finite, c_ij > 0, i a control gene} (ln c_ij - ℓ_i) )
//
// For an even number of ratios the median is the mean of the two middle log
// ratios, so s_j is the geometric mean of the two middle ratios. poscounts
// factors are then re-centred to a geometric mean of 1 (estimateSizeFactors
// does this; ratio factors are not re-centred). Normalized counts are c_ij / s_j.
//
// Pass 1 accumulates the per-gene log sums in sample order (bit-identical for
// any number of threads); pass 2 takes each column's median independently.
// Memory is a few slices of one value per gene, whatever the number of samples.
//
// Where DESeq2 fails, these functions return a *columnar.InputError that says
// why and what works instead: ratio when every gene has a zero (poscounts
// works), and an all-zero sample (DESeq2 answers NA).
package deseq2
