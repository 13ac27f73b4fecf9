// Package shard splits a colnorm run over shards of samples, for clusters.
//
// Every method is a few passes over the sample columns whose state between
// passes is per gene (sums, counts, flags) or per sample. A sharded run is
// therefore a chain of steps, each a plain process:
//
//	pass k over shard i of N -> a small state file      (any machine, any order)
//	merge of the N state files of pass k -> model k       (one process)
//	...                                                    (repeat while the model says so)
//	write pass over shard i with the final model -> part i of the output
//
// A state file carries what it belongs to: the format version, the job
// (factors or filter), the method and the options that change the numbers,
// a fingerprint of the input (gene ids, sample names of a file input, and
// the name, size and modification time of every file), shard i of N, the pass
// number and the digest of the model it was made with. Merge refuses a
// missing, repeated or foreign shard with a message that says which.
//
// Results are bit-identical to one run over all samples: per-sample numbers
// come from the same code, per-gene sums are exact (kernels.ExactSums) and
// merged by integer addition, counts and flags merge exactly, and anything
// taken over all samples (medians, geometric means, re-centring) is computed
// at the merge on the whole per-sample vector in sample order.
//
// The passes of each method (P = number of statistics passes):
//
//	ratio, poscounts  P=2  1: library sizes; per gene exact Σ ln c and zero counts
//	                       2: per sample median of log ratios to the log geometric means
//	                       (poscounts re-centres at the merge)
//	tmm               P=3  1: library sizes, Σ√c per sample, genes with a positive count
//	                       2: per sample upper quartile of the kept genes (reference choice at the merge)
//	                       3: per sample TMM factor against the reference column, which each shard
//	                          reads itself; the merge re-centres (P=2 with a given reference)
//	tmmwsp            P=2  1 as tmm; 2: TMMwsp against the sample with the largest Σ√c
//	rle               P=2  1 as tmm plus exact Σ ln c per gene; 2: per sample median of c/gm
//	upperquartile     P=2  1 as tmm; 2: per sample quantile
//	cpm               P=1  library sizes
//	filter --by-expr  P=4  passes 1-3 of tmm; 4: per gene samples above the CPM cutoff and exact totals
//	filter threshold  P=1  per gene samples passing
//
// Shards are contiguous ranges of the samples of one input file (shard i of
// N holds samples [floor((i-1)S/N), floor(iS/N))), or the files of a folder
// of Parquet files in sorted order (N must be the number of files).
package shard
