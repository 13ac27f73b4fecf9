package columnar

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Sink writes a matrix of genes x samples that arrives one sample column at a
// time, in sample order.
type Sink interface {
	// WriteColumn writes sample j. Columns come in order j = 0, 1, ...; the
	// sink does not keep values after it returns.
	WriteColumn(j int, values []float64) error
	// Commit finishes the output; a file output appears at its path only now.
	Commit() error
	// Abort discards the output: no file is left at the path. It is a no-op
	// after Commit, so `defer sink.Abort()` is always safe.
	Abort() error
}

// SinkOptions configure Create.
type SinkOptions struct {
	// Format is FormatText, FormatTSV, FormatCSV, FormatParquet, FormatArrow
	// or FormatArrowStream; "" chooses by the path's extension (TSV for
	// standard output, Arrow IPC stream for "-.arrow").
	Format  string
	Layout  string // LayoutWide (default) or LayoutLong
	Integer bool   // values are integers: write integer columns where the format has them
	// Int32, with Integer, makes Parquet value columns INT32 instead of
	// INT64 (as R's arrow writes an integer matrix); a value outside int32's
	// range is then an error. Other formats write int64 as before.
	Int32     bool
	GeneLabel string // header of the gene id column; "" uses "gene_id"
	ValueName string // value column of long layouts; "" uses "value"
	TempDir   string // for the spill a row-oriented output needs; "" uses os.TempDir()
	Stdout    io.Writer
	// SpillBudget bounds the memory used to turn columns into rows, in bytes.
	SpillBudget int
	// Float32 writes values rounded to float32: FLOAT columns in Parquet,
	// float32 in Arrow, and in text the shortest text that reads back as the
	// same float32. Integer outputs stay integer.
	Float32 bool
	// Compression is the codec of Parquet pages: CompressionZstd ("" too),
	// CompressionSnappy, CompressionGzip or CompressionNone.
	Compression string
	// Metadata is written as Parquet key_value_metadata and Arrow schema
	// metadata; see Metadata for when it is read.
	Metadata *Metadata
	// RowGroupRows is the number of rows of a Parquet row group: genes in a
	// wide file, rows in a long one; 0 chooses (16,384 genes, more beyond
	// 65,536 column chunks; 1,048,576 rows: parquet_sink.go says why).
	RowGroupRows int
	// Done, when closed, stops a Commit that writes rows from a spill (text
	// and Arrow outputs) between blocks of genes with ErrInterrupted; the
	// output is then discarded as by Abort.
	Done <-chan struct{}
}

// ErrInterrupted is returned by a Commit stopped by SinkOptions.Done.
var ErrInterrupted = errors.New("columnar: interrupted")

// interrupted reports ErrInterrupted once done is closed.
func interrupted(done <-chan struct{}) error {
	select {
	case <-done:
		return ErrInterrupted
	default:
		return nil
	}
}

func (o SinkOptions) geneLabel() string {
	if o.GeneLabel != "" {
		return o.GeneLabel
	}
	return "gene_id"
}

func (o SinkOptions) valueName() string {
	if o.ValueName != "" {
		return o.ValueName
	}
	return "value"
}

func (o SinkOptions) spillBudget() int {
	if o.SpillBudget > 0 {
		return o.SpillBudget
	}
	return DefaultSpillBudget
}

// createParquet and createArrow are filled in by the files that implement them.
var (
	createParquet func(path string, genes, samples []string, opts SinkOptions) (Sink, error)
	createArrow   func(path string, genes, samples []string, opts SinkOptions, stream bool) (Sink, error)
)

// Output format names that only Create knows: text with a chosen
// separator, and the Arrow IPC stream format.
const (
	FormatTSV         = "tsv"
	FormatCSV         = "csv"
	FormatArrowStream = "arrow-stream"
)

// OutputFormats lists the formats Create writes.
var OutputFormats = []string{FormatTSV, FormatCSV, FormatParquet, FormatArrow, FormatArrowStream}

// OutputFormatOf is the format Create writes to path when SinkOptions.Format
// is "": by extension, where a ".arrows" file and "-.arrow" (an Arrow
// extension on standard output) are Arrow IPC streams, and standard output
// without an extension is TSV.
func OutputFormatOf(path string) string {
	if path == "" || path == "-" {
		return FormatTSV
	}
	name := strings.ToLower(filepath.Base(path))
	if strings.HasSuffix(name, ".arrows") {
		return FormatArrowStream
	}
	f := FormatOf(path)
	switch {
	case f == FormatArrow && IsStdout(path):
		return FormatArrowStream
	case f == FormatText && isCSV(path):
		return FormatCSV
	case f == FormatText:
		return FormatTSV
	}
	return f
}

// Create opens a sink for a genes x samples matrix at path, with the format
// chosen by opts.Format or by OutputFormatOf(path). "", "-" and "-.EXT" mean
// opts.Stdout (os.Stdout when nil); a file appears at path only on Commit.
func Create(path string, genes, samples []string, opts SinkOptions) (Sink, error) {
	format := opts.Format
	if format == "" {
		format = OutputFormatOf(path)
	}
	if err := checkCompression(opts.Compression); err != nil {
		return nil, fmt.Errorf("columnar: %s: %w", path, err)
	}
	switch format {
	case FormatText, FormatTSV, FormatCSV:
		sep := byte('\t')
		if format == FormatCSV || format == FormatText && isCSV(path) {
			sep = ','
		}
		if IsStdout(path) {
			out, _ := opts.output(path)
			return newTextSink(out, genes, samples, sep, opts)
		}
		f, err := CreateAtomic(path)
		if err != nil {
			return nil, err
		}
		out, err := compressed(f, path)
		if err != nil {
			f.Abort()
			return nil, err
		}
		s, err := newTextSink(out, genes, samples, sep, opts)
		if err != nil {
			f.Abort()
		}
		return s, err
	case FormatParquet:
		if createParquet != nil {
			return createParquet(path, genes, samples, opts)
		}
	case FormatArrow, FormatArrowStream:
		if createArrow != nil {
			return createArrow(path, genes, samples, opts, format == FormatArrowStream)
		}
	default:
		return nil, fmt.Errorf("columnar: %s: unknown output format %q (want %s)", path, format, strings.Join(OutputFormats, ", "))
	}
	return nil, fmt.Errorf("columnar: %s: the %s writer is not built in", path, format)
}

// ColumnFuncWriter is a Sink that can also take a column as a function of
// another: WriteColumnFunc(j, x, f) writes sample j with values f(x[i]),
// as WriteColumn(j, values) would with those values. f must give the same
// bits for the same x (a pure function; it is called from several
// goroutines at once, and after WriteColumnFunc returns, until Commit or
// Abort), so that the sink may call it once per distinct x. The wide
// Parquet sink finds the dictionary of a chunk of a sample from the x,
// which are mostly small whole numbers when they are counts, instead of
// from the values' bits (DESeq2's VST is a function of the count within a
// sample).
type ColumnFuncWriter interface {
	WriteColumnFunc(j int, x []float64, f func(float64) float64) error
}
