package columnar

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Source is a count matrix of genes x samples, read one sample column at a time.
type Source interface {
	// Path is the file or folder the matrix comes from, for messages.
	Path() string
	// Genes are the gene ids in row order.
	Genes() []string
	// Samples are the sample names in column order.
	Samples() []string
	// Integer reports whether every value is stored as an integer type (or,
	// for text, was written as an integer).
	Integer() bool
	// ReadColumn reads sample j into dst, which must hold len(Genes()) values.
	// Missing values (nulls, NA, empty text fields) come back as NaN.
	// It is safe for concurrent use by goroutines that pass distinct dst.
	ReadColumn(j int, dst []float64) error
	// Close releases the file handles and removes temporary files.
	Close() error
}

// KnownCounts is implemented by sources that know some of their columns to
// hold only whole counts from 0 to 2^32 - 1, valid counts however they are
// checked, such as the decoded columns of Cached: a pass need not check them
// again.
type KnownCounts interface {
	// CountsKnown reports whether column j is such a column.
	CountsKnown(j int) bool
}

// RowReader is implemented by sources that read some genes of a column for
// less than the whole column, such as the decoded columns of Cached.
type RowReader interface {
	// ReadRows reads the values of genes rows (indexes in ascending order)
	// of sample j into dst[:len(rows)], as ReadColumn would give them. It
	// is safe for concurrent use by goroutines that pass distinct dst.
	ReadRows(j int, rows []int, dst []float64) error
}

// ReadRows reads genes rows of sample j of src into dst[:len(rows)]: with
// src's own ReadRows when it has one, else by reading the whole column
// (pickRows).
func ReadRows(src Source, j int, rows []int, dst []float64) error {
	if rr, ok := src.(RowReader); ok {
		return rr.ReadRows(j, rows, dst)
	}
	return pickRows(src, j, rows, dst)
}

// pickRows reads sample j of src whole, into a pooled buffer, and copies
// the values of genes rows to dst.
func pickRows(src Source, j int, rows []int, dst []float64) error {
	buf := fullColumns.Get().(*[]float64)
	defer fullColumns.Put(buf)
	n := len(src.Genes())
	*buf = pqGrow(*buf, n)
	full := (*buf)[:n]
	if err := src.ReadColumn(j, full); err != nil {
		return err
	}
	for k, i := range rows {
		dst[k] = full[i]
	}
	return nil
}

var fullColumns = sync.Pool{New: func() any { return new([]float64) }}

// GeneLengther is implemented by sources that carry gene lengths, such as
// featureCounts output (its Length column).
type GeneLengther interface {
	GeneLengths() []float64
}

// Format names.
const (
	FormatText    = "text"    // TSV, CSV, featureCounts, GCT
	FormatParquet = "parquet" // one file, or a folder of sample shards
	FormatArrow   = "arrow"   // Arrow IPC file
)

// Layout names for Parquet and Arrow.
const (
	LayoutAuto = ""     // detect from the schema
	LayoutWide = "wide" // gene id column, then one numeric column per sample
	LayoutLong = "long" // gene id, sample id, value
)

// DefaultSpillBudget is the memory, in bytes, that transposing a row-oriented
// input may hold at once.
const DefaultSpillBudget = 64 << 20

// Options configure Open.
type Options struct {
	Format        string // "" chooses by extension
	Layout        string // LayoutAuto, LayoutWide or LayoutLong
	SamplesAsRows bool   // one row per sample and one column per gene
	TempDir       string // for spill files; "" uses os.TempDir()
	SpillBudget   int    // bytes; 0 uses DefaultSpillBudget
}

func (o Options) spillBudget() int {
	if o.SpillBudget > 0 {
		return o.SpillBudget
	}
	return DefaultSpillBudget
}

// openers are filled in by the files that implement each format.
var (
	openText    func(path string, opts Options) (Source, error)
	openParquet func(path string, opts Options) (Source, error)
	openArrow   func(path string, opts Options) (Source, error)
)

// Open opens a count matrix, choosing the reader from opts.Format or the
// path's extension. A folder is read as Parquet sample shards.
func Open(path string, opts Options) (Source, error) {
	format := opts.Format
	if format == "" {
		st, err := os.Stat(path)
		if err != nil {
			return nil, &InputError{File: path, Msg: "cannot open: " + strings.TrimPrefix(err.Error(), "stat "+path+": ")}
		}
		if st.IsDir() {
			format = FormatParquet
		} else {
			format = FormatOf(path)
		}
	}
	var open func(string, Options) (Source, error)
	switch format {
	case FormatText:
		open = openText
	case FormatParquet:
		open = openParquet
	case FormatArrow:
		open = openArrow
	default:
		return nil, inputErrorf(path, "unknown format %q (want text, parquet or arrow)", format)
	}
	if open == nil {
		return nil, fmt.Errorf("columnar: %s: the %s reader is not built in", path, format)
	}
	return open(path, opts)
}

// CheckNotEmpty refuses a matrix without genes or without samples (an empty
// table, a header only), where no method has anything to compute on. The
// readers themselves open such tables.
func CheckNotEmpty(src Source, samplesAsRows bool) error {
	genes, samples := "gene rows", "sample columns"
	if samplesAsRows {
		genes, samples = "gene columns", "sample rows"
	}
	switch {
	case len(src.Genes()) == 0:
		return inputErrorf(src.Path(), "no genes: the table has no %s (a header only?)", genes)
	case len(src.Samples()) == 0:
		return inputErrorf(src.Path(), "no samples: the table has no %s", samples)
	}
	return nil
}

// FormatOf chooses a format from a file name's extension: .parquet, .arrow,
// .feather and .ipc name themselves (and .arrows, an Arrow IPC stream);
// everything else is text.
func FormatOf(path string) string {
	name := strings.ToLower(filepath.Base(path))
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".zst")
	switch filepath.Ext(name) {
	case ".parquet", ".pq":
		return FormatParquet
	case ".arrow", ".feather", ".ipc", ".arrows":
		return FormatArrow
	}
	return FormatText
}
