package columnar

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go/format"
)

// FileInfo is how a matrix file is stored, read from its header, schema and
// footer only (no values): what `colnorm inspect` prints before it scans
// the values.
type FileInfo struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	Format string `json:"format"` // FormatText, FormatParquet or FormatArrow
	// Kind is the variety within the format: TSV, CSV, featureCounts, GCT;
	// Parquet, a folder of N Parquet files; Arrow IPC file or stream.
	Kind string `json:"kind"`
	// Layout is wide or long, as detected (or as Options.Layout says).
	Layout   string `json:"layout"`
	Detected bool   `json:"layout_detected"`
	// Compression lists the codecs: gzip or zstd for text, the column
	// chunks' codecs for Parquet, the record batches' for Arrow; "none".
	Compression []string `json:"compression"`
	// Columns summarizes the columns' types in order: runs of columns of
	// one type.
	Columns []ColumnRun `json:"columns"`
	// Parquet: row groups and the encodings of the column chunks.
	RowGroups    int      `json:"row_groups,omitempty"`
	RowGroupRows [2]int64 `json:"row_group_rows,omitempty"` // smallest and largest
	Encodings    []string `json:"encodings,omitempty"`
	Dictionary   bool     `json:"dictionary_encoded,omitempty"` // some column chunk is dictionary-encoded
	// Arrow: record batches.
	Batches int `json:"record_batches,omitempty"`
	// Rows is the number of table rows (Parquet, Arrow).
	Rows int64 `json:"rows,omitempty"`
	// Metadata is Parquet's key_value_metadata or the Arrow schema's.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ColumnRun is a run of Count consecutive columns of one Type, the first
// named First.
type ColumnRun struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
	First string `json:"first"`
}

// addColumn extends the runs by a column.
func (fi *FileInfo) addColumn(name, typ string) {
	if n := len(fi.Columns); n > 0 && fi.Columns[n-1].Type == typ {
		fi.Columns[n-1].Count++
		return
	}
	fi.Columns = append(fi.Columns, ColumnRun{Type: typ, Count: 1, First: name})
}

// Describe reads how the matrix at path is stored: its format, layout,
// column types, and, for Parquet and Arrow, its row groups or batches,
// codecs and metadata. It reads no values. opts.Format and opts.Layout
// override the detection as they do for Open.
func Describe(path string, opts Options) (*FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{File: path, Msg: "cannot open: " + errText(err)}
	}
	fi := &FileInfo{Path: path, Bytes: st.Size(), Format: opts.Format}
	if fi.Format == "" {
		fi.Format = FormatOf(path)
		if st.IsDir() {
			fi.Format = FormatParquet
		}
	}
	switch {
	case fi.Format == FormatParquet && st.IsDir():
		err = describeShards(fi, path)
	case fi.Format == FormatParquet:
		err = describeParquet(fi, path)
	case fi.Format == FormatArrow:
		err = describeArrow(fi, path)
	case fi.Format == FormatText:
		err = describeText(fi, path)
	default:
		return nil, inputErrorf(path, "unknown format %q (want text, parquet or arrow)", fi.Format)
	}
	if err != nil {
		return nil, err
	}
	fi.Detected = opts.Layout == LayoutAuto
	if !fi.Detected {
		fi.Layout = opts.Layout
	}
	return fi, nil
}

func describeParquet(fi *FileInfo, path string) error {
	q, err := openPQ(path)
	if err != nil {
		return err
	}
	defer q.close()
	fi.Kind = "one file"
	fi.Layout = q.detectLayout()
	for _, c := range q.cols {
		typ := c.desc
		if c.maxDef > 0 {
			typ += " (nullable)"
		}
		fi.addColumn(c.name, typ)
	}
	// The codecs, encodings and key-value metadata are not kept by openPQ:
	// parquet-go's parse of the footer (checked by openPQ) has them.
	pf, err := openParquetFooter(q.f, q.size)
	if err != nil {
		return inputErrorf(path, "not a readable Parquet file (truncated or damaged?): %v", err)
	}
	md := pf.Metadata()
	fi.RowGroups = len(md.RowGroups)
	fi.Rows = md.NumRows
	codecs, encs := map[string]bool{}, map[string]bool{}
	for i, rg := range md.RowGroups {
		if i == 0 || rg.NumRows < fi.RowGroupRows[0] {
			fi.RowGroupRows[0] = rg.NumRows
		}
		fi.RowGroupRows[1] = max(fi.RowGroupRows[1], rg.NumRows)
		for _, c := range rg.Columns {
			codecs[c.MetaData.Codec.String()] = true
			for _, e := range c.MetaData.Encoding {
				encs[e.String()] = true
				if e == format.RLEDictionary || e == format.PlainDictionary {
					fi.Dictionary = true
				}
			}
		}
	}
	fi.Compression = sortedKeys(codecs)
	fi.Encodings = sortedKeys(encs)
	for _, kv := range md.KeyValueMetadata {
		if fi.Metadata == nil {
			fi.Metadata = map[string]string{}
		}
		fi.Metadata[kv.Key] = kv.Value
	}
	return nil
}

// describeShards describes a folder of Parquet files by its first file,
// with the row groups, rows and codecs of all of them.
func describeShards(fi *FileInfo, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &InputError{File: dir, Msg: "cannot read the folder: " + errText(err)}
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && isParquetName(e.Name()) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return inputErrorf(dir, "the folder holds no .parquet files")
	}
	var all FileInfo
	codecs, encs := map[string]bool{}, map[string]bool{}
	for i, f := range files {
		var one FileInfo
		if err := describeParquet(&one, f); err != nil {
			return err
		}
		if i == 0 {
			all = one
			all.RowGroups, all.Rows = 0, 0
		}
		all.RowGroups += one.RowGroups
		all.Rows += one.Rows
		all.RowGroupRows[0] = min(all.RowGroupRows[0], one.RowGroupRows[0])
		all.RowGroupRows[1] = max(all.RowGroupRows[1], one.RowGroupRows[1])
		all.Dictionary = all.Dictionary || one.Dictionary
		for _, c := range one.Compression {
			codecs[c] = true
		}
		for _, e := range one.Encodings {
			encs[e] = true
		}
	}
	all.Path, all.Bytes, all.Format = fi.Path, fi.Bytes, fi.Format
	all.Kind = fmt.Sprintf("a folder of %d Parquet files (columns of the first shown)", len(files))
	all.Compression, all.Encodings = sortedKeys(codecs), sortedKeys(encs)
	*fi = all
	return nil
}

func describeArrow(fi *FileInfo, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &InputError{File: path, Msg: "cannot open: " + ipcTrimPathErr(err, path)}
	}
	defer f.Close()
	r, err := openIPC(f, path)
	if err != nil {
		return err
	}
	var head [6]byte
	f.ReadAt(head[:], 0)
	fi.Kind = "Arrow IPC stream"
	if bytes.Equal(head[:], arrowMagic) {
		fi.Kind = "Arrow IPC file"
	}
	cols := r.cols
	fi.Layout = LayoutWide
	if len(cols) == 3 && cols[0].str != ipcStrNone && cols[1].str != ipcStrNone && cols[2].num != ipcNumNone {
		fi.Layout = LayoutLong
	}
	for _, c := range cols {
		fi.addColumn(c.name, c.typ.String())
	}
	fi.Batches = len(r.batches)
	fi.Rows = int64(r.rows)
	codecs := map[string]bool{}
	for _, b := range r.batches {
		codecs[map[int]string{ipcCodecNone: "none", ipcCodecLZ4: "LZ4_FRAME", ipcCodecZstd: "ZSTD"}[b.codec]] = true
	}
	fi.Compression = sortedKeys(codecs)
	if r.schema != nil && r.schema.Metadata().Len() > 0 {
		fi.Metadata = map[string]string{}
		md := r.schema.Metadata()
		for i, k := range md.Keys() {
			fi.Metadata[k] = md.Values()[i]
		}
	}
	return nil
}

// describeText reads the header of a text matrix: its separator, its kind
// (plain, featureCounts, GCT) and its compression, as Open reads them.
func describeText(fi *FileInfo, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &InputError{File: path, Msg: "cannot open: " + errText(err)}
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	f.Close()
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		fi.Compression = []string{"gzip"}
	case n == 4 && bytes.Equal(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		fi.Compression = []string{"zstd"}
	default:
		fi.Compression = []string{"none"}
	}
	r, closeFn, err := openReader(path)
	if err != nil {
		return err
	}
	defer closeFn()
	br := bufio.NewReaderSize(r, 1<<16)
	gct := false
	var header string
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			return inputErrorf(path, "empty file: no header line")
		}
		line = strings.TrimRight(line, "\r\n")
		if first && strings.HasPrefix(line, "#1.") {
			gct = true
			br.ReadString('\n') // the dimensions line
			continue
		}
		if strings.TrimSpace(line) == "" || line[0] == '#' {
			continue
		}
		header = line
		break
	}
	sep := "\t"
	fi.Kind = "TSV"
	if !strings.Contains(header, "\t") && strings.Contains(header, ",") {
		sep, fi.Kind = ",", "CSV"
	}
	names := strings.Split(header, sep)
	skip := 1
	switch {
	case gct:
		fi.Kind, skip = "GCT", 2
	case len(names) >= len(featureCountsColumns) && equalFold(trimAll(names[:len(featureCountsColumns)]), featureCountsColumns):
		fi.Kind, skip = "featureCounts", len(featureCountsColumns)
	}
	fi.Layout = LayoutWide
	for i, name := range names {
		typ := "number"
		switch {
		case i == 0:
			typ = "id"
		case i < skip:
			typ = "annotation"
		}
		fi.addColumn(strings.TrimSpace(name), typ)
	}
	return nil
}

func trimAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ValueSummary is what a scan of every value finds: ranges, zeros and the
// genes that are zero everywhere. Columns are added in any order with
// AddColumn (per-sample results), and genes are accumulated in sample order
// with AddGenes; memory is O(genes + samples).
type ValueSummary struct {
	Genes, Samples []string
	// Per sample.
	Zeros, Missing, Negative, NonInteger []int
	Sum, Min, Max                        []float64
	// Per gene: every value is zero (missing values count as not zero);
	// some value is zero.
	ZeroEverywhere, SomeZero []bool
}

// NewValueSummary makes an empty summary of genes x samples.
func NewValueSummary(genes, samples []string) *ValueSummary {
	S := len(samples)
	v := &ValueSummary{Genes: genes, Samples: samples,
		Zeros: make([]int, S), Missing: make([]int, S), Negative: make([]int, S), NonInteger: make([]int, S),
		Sum: make([]float64, S), Min: make([]float64, S), Max: make([]float64, S),
		ZeroEverywhere: make([]bool, len(genes)), SomeZero: make([]bool, len(genes))}
	for g := range v.ZeroEverywhere {
		v.ZeroEverywhere[g] = true
	}
	return v
}

// AddColumn records sample j's values: zeros, missing (NaN), negative and
// non-integer values, their sum and range (over the values that are not
// missing; NaN when all are). Columns of distinct j may be added
// concurrently.
func (v *ValueSummary) AddColumn(j int, col []float64) {
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for _, x := range col {
		switch {
		case math.IsNaN(x):
			v.Missing[j]++
			continue
		case x == 0:
			v.Zeros[j]++
		case x < 0:
			v.Negative[j]++
		}
		if x != math.Trunc(x) {
			v.NonInteger[j]++
		}
		lo, hi, sum = min(lo, x), max(hi, x), sum+x
	}
	if lo > hi {
		lo, hi = math.NaN(), math.NaN()
	}
	v.Min[j], v.Max[j], v.Sum[j] = lo, hi, sum
}

// AddGenes records which genes are zero and which are not in a column. It
// is not safe for concurrent use.
func (v *ValueSummary) AddGenes(col []float64) {
	for g, x := range col {
		if x != 0 {
			v.ZeroEverywhere[g] = false
		} else {
			v.SomeZero[g] = true
		}
	}
}

// Range is the smallest and largest value of the matrix (NaN, NaN when there
// is none).
func (v *ValueSummary) Range() (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	for j := range v.Samples {
		if math.IsNaN(v.Min[j]) {
			continue
		}
		if math.IsNaN(lo) || v.Min[j] < lo {
			lo = v.Min[j]
		}
		if math.IsNaN(hi) || v.Max[j] > hi {
			hi = v.Max[j]
		}
	}
	return lo, hi
}

// AllIntegers reports whether every value that is not missing is a whole
// number.
func (v *ValueSummary) AllIntegers() bool {
	return !slices.ContainsFunc(v.NonInteger, func(n int) bool { return n > 0 })
}
