// Package bench generates realistic bulk RNA-seq count matrices of any size
// and holds colnorm's benchmarks and the harness that times colnorm against
// DuckDB SQL and R DESeq2 (size factors), R edgeR (TMM) and R DESeq2's vst()
// (the VST) on the same files.
//
// # The generator
//
// New(Params{Genes, Samples, Seed}) is a columnar.Source whose sample
// column j is computed on demand from (Seed, j), so a 60,000 x 2,000 matrix
// never sits in memory: only per-gene parameters do. The model:
//
//   - gene means, at size factor 1, are log-normal: 88% of genes around 20
//     counts with a log-scale standard deviation of 2.2 (about 45% of all
//     genes below 10 counts, a few above 100,000), and 12% barely expressed
//     around 0.3, so that 15-20% of genes are zero in half the samples or more;
//   - counts are negative binomial (a gamma-Poisson mixture) with the
//     mean-dependent dispersion 0.1 + 1/mean that DESeq2 fits on real data;
//   - library size factors are 2^u, u uniform on [-0.5, 0.5]: libraries of
//     8-16 million reads for 60,000 genes, varying about 2x.
//
// The same Params give the same counts, bit for bit, on any machine and with
// any number of threads (the random numbers are SplitMix64 streams named by
// seed, stream and index, and the samplers are in this package). Smaller
// matrices with the same seed are corners of larger ones. Write streams a
// matrix to any path through columnar.Create, with integer columns; Cached
// writes it once into CacheDir ($COLNORM_BENCH_DIR, or colnorm-bench in the
// system's temporary folder) and reuses it.
//
// From the command line:
//
//	go run ./bench/cmd/gen -genes 60000 -samples 500 -seed 1 -o counts.parquet
//	go run ./bench/cmd/gen -genes 60000 -samples 500 -seed 1 -o long.parquet --layout long
//	go run ./bench/cmd/gen -genes 60000 -samples 500 -seed 1 -o counts.tsv
//
// # Benchmarks
//
// BenchmarkSizeFactors runs deseq2.SizeFactors (ratio) on wide Parquet files
// of 60,000 genes and 100, 500 and 2,000 samples (only 100 under -short);
// BenchmarkNormFactorsTMM runs edger.NormFactors with TMM (edgeR's
// calcNormFactors(counts, method = "TMM"): three passes) on the same files,
// with the same sizes and metrics; BenchmarkReadColumns times the reading
// alone and BenchmarkGenerate the generator. The files are generated on
// first use (about a minute for 2,000 samples) and kept. Besides ns/op and
// MB/s (of the file), they report ns/count, peak-heap-MB (the Go heap
// sampled every millisecond while the loop runs) and peak-RSS-MB (one run
// in a child process, measured with GNU time): for a fixed number of genes
// neither should grow with samples.
//
//	go test -run '^$' -bench . -benchtime 5x ./bench/
//	go test -run '^$' -bench NormFactorsTMM -benchtime 3x ./bench/
//	go test -run '^$' -bench 'SizeFactors/.*samples=100$' -count 10 ./bench/ > new.txt  # for benchstat
//
// # The harness
//
// bench/harness is a separate Go module (so that the DuckDB driver, cgo,
// stays out of colnorm's dependencies). In one run and on the same
// generated files it times, interleaved, median of -runs runs, for
// -method ratio (the default):
//
//   - colnorm: `colnorm size-factors --method ratio` on the wide Parquet file,
//     built from this repository (or -colnorm PATH);
//   - duckdb: DuckDB SQL (go-duckdb v1.8.5) computing the median of ratios on
//     the long Parquet file (gene_id, sample, value), in a child process;
//   - duckdb-wide: the same SQL on the wide file through UNPIVOT;
//   - r: Rscript with DESeq2's estimateSizeFactorsForMatrix on the TSV copy,
//     read with read.delim (column classes given); it reports loading DESeq2,
//     reading and computing separately. Skipped, with a message, when Rscript
//     is absent.
//
// and for -method tmm (edgeR's TMM normalization factors):
//
//   - colnorm: `colnorm size-factors --method tmm` on the wide Parquet file;
//   - r: Rscript with edgeR's calcNormFactors(counts, method = "TMM") on the
//     TSV copy, read as above (tmm.R); loading edgeR, reading and computing
//     are reported separately.
//
// and for -method vst (DESeq2's blind parametric VST, vst()'s nsub = 1000):
//
//   - colnorm: `colnorm transform --method vst --nsub 1000` on the wide
//     Parquet file, writing the VST matrix as Parquet; the harness then takes
//     its per-sample means with DuckDB (favg, Kahan summation) in a child
//     process (-worker colmeans), untimed;
//   - colnorm qc: `colnorm qc --nsub 1000` (the VST, PCA of the 500 most
//     variable genes, correlations and clustering of at most 500 samples, an
//     HTML report) into a folder; skipped, with a note, when the binary has
//     no qc command;
//   - r: Rscript vst.R on the TSV copy, read as above: vst(DESeqDataSetFromMatrix(
//     counts, data.frame(row.names = colnames(counts)), ~1), blind = TRUE,
//     nsub = 1000) (compute) and plotPCA's PCA (rowVars, top 500, prcomp:
//     pca) timed separately; it writes the column means of the VST matrix.
//
// The VST table gives the largest absolute difference of the per-sample VST
// means (R's colMeans against colnorm's), and of PC1's and PC2's variance
// fractions (R's prcomp against colnorm qc's pca_variance.tsv).
//
// DuckDB is not run for TMM or the VST (the table says so): only R is needed
// there. -method ratio,tmm (or both) runs both methods, one table each;
// -method vst (or ratio,tmm,vst) the VST.
//
// Every tool's factors are compared with colnorm's (largest relative
// difference over samples; of size_factor for ratio, of norm_factor for
// tmm, where the lib_size columns are compared too), so the timings are of
// the same computation. Above 1e-9 the table also names the sample with the
// largest difference and gives the median difference over samples. Peak
// RSS comes from GNU time (%M) when /usr/bin/time is installed, else from
// polling VmHWM. Each file is read once before timing, so every tool starts
// from the page cache. The table has, for each size and tool, the median wall
// seconds, the range, peak RSS, the ratio to colnorm and the difference.
//
//	cd bench/harness && go run . -samples 100,500,2000 -runs 3 -tools colnorm,duckdb,duckdb-wide,r
//	cd bench/harness && go run . -method tmm -samples 100,500,2000 -runs 3 -tools colnorm,r
//	cd bench/harness && go run . -method vst -samples 100,500,2000 -runs 5 -tools colnorm,r
//	cd bench/harness && go run . -genes 20000 -samples 50 -runs 1 -tools colnorm,duckdb
//
// Flags: -method (ratio, tmm, vst, or several: ratio,tmm), -genes, -samples
// (comma-separated), -seed, -runs, -tools, -max-samples (tool=N,...: skip a
// tool above N samples; the default skips duckdb-wide above 500, where its
// UNPIVOT is slow), -dir (the file cache), -colnorm, -threads (colnorm and
// DuckDB; 0 is one per core), -keep (keep each tool's factor table, and
// for vst the VST matrices and qc folders). If colnorm's dependencies change, run
// `go mod tidy` in bench/harness. Results measured here are in
// bench/RESULTS.md.
package bench
