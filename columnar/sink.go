package columnar

import (
	"errors"
	"fmt"
	"io"
	"os"
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
	Format    string // "" chooses by extension; "-" or "" path means TSV on Stdout
	Layout    string // LayoutWide (default) or LayoutLong
	Integer   bool   // values are integers: write integer columns where the format has them
	GeneLabel string // header of the gene id column; "" uses "gene_id"
	ValueName string // value column of long layouts; "" uses "value"
	TempDir   string // for the spill a row-oriented output needs; "" uses os.TempDir()
	Stdout    io.Writer
	// SpillBudget bounds the memory used to turn columns into rows, in bytes.
	SpillBudget int
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
	createArrow   func(path string, genes, samples []string, opts SinkOptions) (Sink, error)
)

// Create opens a sink for a genes x samples matrix at path, with the format
// chosen by opts.Format or the extension. An empty path or "-" writes TSV to
// opts.Stdout (os.Stdout when nil).
func Create(path string, genes, samples []string, opts SinkOptions) (Sink, error) {
	if path == "" || path == "-" {
		w := opts.Stdout
		if w == nil {
			w = os.Stdout
		}
		return newTextSink(nopCommitter{w}, genes, samples, '\t', opts)
	}
	format := opts.Format
	if format == "" {
		format = FormatOf(path)
	}
	switch format {
	case FormatText:
		f, err := CreateAtomic(path)
		if err != nil {
			return nil, err
		}
		sep := byte('\t')
		if isCSV(path) {
			sep = ','
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
	case FormatArrow:
		if createArrow != nil {
			return createArrow(path, genes, samples, opts)
		}
	default:
		return nil, fmt.Errorf("columnar: %s: unknown output format %q", path, format)
	}
	return nil, fmt.Errorf("columnar: %s: the %s writer is not built in", path, format)
}
