// Package qc computes sample-level quality control from variance-stabilized
// (VST) values, reproducing what an R session with DESeq2 shows:
//
//   - TopVariable and RowVar pick the most variable genes as DESeq2's
//     plotPCA does (matrixStats rowVars, then a stable decreasing order).
//   - PrincipalComponents is prcomp(t(vst[top, ])): genes centred, not
//     scaled, sample scores U·D and the fraction of variance per component.
//   - Pairwise accumulates, over gene row-blocks streamed in gene order, the
//     Euclidean distances of dist(t(vst)) and the Pearson correlations of
//     cor(vst) for every pair of samples.
//   - HClustComplete is hclust(d, method = "complete"), with R's merge
//     matrix, heights and leaf order, ties included.
//   - Outliers flags samples by a documented rule (low median correlation,
//     or far from their group in the PC1/PC2 plane).
//
// Inputs may be large (tens of thousands of genes by thousands of samples),
// so nothing here needs the whole matrix: variances are per gene row, PCA
// needs only the top rows, and Pairwise takes blocks of rows one after
// another. Work is O(G·m²) for the pairwise sums and bounded by the smaller
// of ntop² and m² (times the larger) for the PCA.
//
// Numbers follow R 4.2.2 (see ALGORITHMS.md §6): sums over genes run in gene
// order so that distances equal R's dist() to the last bit, and results are
// identical, bit for bit, whatever the number of worker goroutines.
//
// Misuse of shapes (slices of the wrong length) panics with a "qc: "
// message; data conditions (a constant sample, too few samples) are values
// (NaN correlations, fewer components), and each function says which.
// Sample indices are 0-based in Go values and 1-based only where R's own
// output is reproduced (HClustComplete's merge and order).
package qc
