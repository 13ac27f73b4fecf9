// Package columnar reads and writes count matrices one sample column at a time.
//
// A Source gives the gene ids, the sample names and the sample columns, each
// read on demand into a caller's []float64 of one value per gene. A Source can
// be read any number of times and by several goroutines at once, which is what
// a multi-pass, multi-worker method needs. A Sink takes columns in sample order
// and writes a matrix file atomically: the file appears complete at its path on
// Commit, or not at all.
//
// Formats are chosen by extension or by Options.Format:
//
//	.tsv .csv .txt (optionally .gz or .zst)  text, genes as rows; featureCounts and GCT detected
//	.parquet                                 wide or long Parquet (parquet-go)
//	.arrow .feather .ipc                     Arrow IPC file, wide or long (arrow-go)
//	a folder of .parquet files               one matrix, samples split across the files
//
// Inputs that are not stored by column (text with genes as rows, anything with
// samples as rows, unsorted long tables) are transposed once into a temporary
// column store on disk (Spill), in memory bounded by a fixed budget, so that a
// pass never holds more than a few columns whatever the number of samples.
//
// Nothing numeric happens here: values are passed on as float64 exactly as
// stored (integers up to 2^53 are exact), with missing values as NaN.
// Checking them is the caller's business.
package columnar
