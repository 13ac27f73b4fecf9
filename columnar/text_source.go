package columnar

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func init() { openText = openTextFile }

// textSource is a delimited text matrix, transposed at open into a Spill.
type textSource struct {
	path    string
	genes   []string
	samples []string
	integer bool
	lengths []float64 // featureCounts Length column, or nil
	spill   *Spill
	// lines[k] is the 1-based line of data row k: gene k's row, or with
	// samples as rows sample k's.
	lines        []int32
	samplesAsRow bool
}

// Locate gives the line that holds sample j's value of gene i.
func (t *textSource) Locate(j, i int) (string, int) {
	k := i
	if t.samplesAsRow {
		k = j
	}
	if k < len(t.lines) {
		return t.path, int(t.lines[k])
	}
	return t.path, 0
}

func (t *textSource) Path() string           { return t.path }
func (t *textSource) Genes() []string        { return t.genes }
func (t *textSource) Samples() []string      { return t.samples }
func (t *textSource) Integer() bool          { return t.integer }
func (t *textSource) GeneLengths() []float64 { return t.lengths }
func (t *textSource) Close() error           { return t.spill.Close() }
func (t *textSource) ReadColumn(j int, dst []float64) error {
	return t.spill.ReadColumn(j, dst)
}

// openReader opens a file and undoes gzip or zstd compression, recognised by
// their magic bytes whatever the extension says.
func openReader(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &InputError{File: path, Msg: "cannot open: " + errText(err)}
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, inputErrorf(path, "not a valid gzip file: %v", err)
		}
		return zr, f.Close, nil
	case len(magic) == 4 && bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, inputErrorf(path, "not a valid zstd file: %v", err)
		}
		return zr, func() error { zr.Close(); return f.Close() }, nil
	}
	return br, f.Close, nil
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// lineReader yields lines without their line ending, counting them.
type lineReader struct {
	r    *bufio.Reader
	line int
	buf  []byte
}

func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		l.buf = append(l.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(l.buf) > 0 {
			err = nil
		}
		if err != nil {
			return nil, err
		}
		l.line++
		b := bytes.TrimRight(l.buf, "\r\n")
		return b, nil
	}
}

// splitFields splits a line at sep, honouring double-quoted fields with ""
// as an escaped quote. It appends to dst and returns it; ok is false for an
// unterminated quote.
func splitFields(dst [][]byte, line []byte, sep byte, scratch *[]byte) ([][]byte, bool) {
	dst = dst[:0]
	if bytes.IndexByte(line, '"') < 0 {
		for {
			i := bytes.IndexByte(line, sep)
			if i < 0 {
				return append(dst, line), true
			}
			dst = append(dst, line[:i])
			line = line[i+1:]
		}
	}
	*scratch = (*scratch)[:0]
	type span struct{ a, b int }
	var spans []span
	i := 0
	for {
		start := len(*scratch)
		if i < len(line) && line[i] == '"' {
			i++
			for {
				if i >= len(line) {
					return dst, false
				}
				if line[i] == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						*scratch = append(*scratch, '"')
						i += 2
						continue
					}
					i++
					break
				}
				*scratch = append(*scratch, line[i])
				i++
			}
			// anything after the closing quote up to the separator is kept
			for i < len(line) && line[i] != sep {
				*scratch = append(*scratch, line[i])
				i++
			}
		} else {
			for i < len(line) && line[i] != sep {
				*scratch = append(*scratch, line[i])
				i++
			}
		}
		spans = append(spans, span{start, len(*scratch)})
		if i >= len(line) {
			break
		}
		i++ // separator
	}
	for _, s := range spans {
		dst = append(dst, (*scratch)[s.a:s.b])
	}
	return dst, true
}

// parseValue reads a count: integers fast, anything else through ParseFloat;
// NA, NaN and empty fields are missing (NaN). isInt says the text was an integer.
func parseValue(f []byte) (v float64, isInt bool, ok bool) {
	f = bytes.TrimSpace(f)
	if len(f) == 0 {
		return math.NaN(), false, true
	}
	if len(f) <= 15 {
		var n int64
		digits := true
		for _, c := range f {
			if c < '0' || c > '9' {
				digits = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if digits {
			return float64(n), true, true
		}
	}
	s := string(f)
	switch s {
	case "NA", "NaN", "nan", "N/A", "null", "NULL":
		return math.NaN(), false, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, false
	}
	return v, v == math.Trunc(v) && !math.IsInf(v, 0), true
}

// textKind is the flavour of text matrix, recognised from its first lines.
type textKind int

const (
	kindPlain textKind = iota
	kindFeatureCounts
	kindGCT
)

// featureCountsColumns are the annotation columns featureCounts writes before the samples.
var featureCountsColumns = []string{"Geneid", "Chr", "Start", "End", "Strand", "Length"}

func openTextFile(path string, opts Options) (Source, error) {
	r, closeFn, err := openReader(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	lr := &lineReader{r: bufio.NewReaderSize(r, 1<<20)}

	// Header: skip '#' comment lines (featureCounts), recognise GCT.
	kind := kindPlain
	var header []byte
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil, inputErrorf(path, "empty file: no header line")
		}
		if err != nil {
			return nil, inputErrorf(path, "cannot read: %v", err)
		}
		if lr.line == 1 && bytes.HasPrefix(line, []byte("#1.")) {
			kind = kindGCT
			if _, err := lr.next(); err != nil { // dimensions line
				return nil, inputErrorf(path, "GCT file ends after its version line")
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		header = append([]byte(nil), line...)
		break
	}
	sep := byte('\t')
	if bytes.IndexByte(header, '\t') < 0 && bytes.IndexByte(header, ',') >= 0 {
		sep = ','
	}
	var scratch []byte
	fields, ok := splitFields(nil, header, sep, &scratch)
	if !ok {
		return nil, &InputError{File: path, Line: lr.line, Msg: "unterminated quote in the header"}
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = strings.TrimSpace(string(f))
	}
	skip := 1 // columns before the first sample
	if kind == kindGCT {
		if len(names) < 2 || !strings.EqualFold(names[0], "Name") {
			return nil, &InputError{File: path, Line: lr.line, Msg: "GCT header must start with Name, Description"}
		}
		skip = 2
	} else if len(names) >= len(featureCountsColumns) && equalFold(names[:len(featureCountsColumns)], featureCountsColumns) {
		kind = kindFeatureCounts
		skip = len(featureCountsColumns)
	}
	if len(names) <= skip {
		return nil, &InputError{File: path, Line: lr.line, Msg: "the header names no sample columns"}
	}
	if opts.SamplesAsRows {
		if kind != kindPlain {
			return nil, inputErrorf(path, "--samples-as-rows does not apply to featureCounts or GCT files")
		}
		return readSamplesAsRows(path, lr, names, sep, opts)
	}
	samples := names[skip:]
	if err := checkUnique(path, lr.line, samples, "sample"); err != nil {
		return nil, err
	}
	S := len(samples)
	spill, err := NewRowSpill(opts.TempDir, S, opts.spillBudget())
	if err != nil {
		return nil, err
	}
	src := &textSource{path: path, samples: samples, integer: true, spill: spill}
	fail := func(e error) (Source, error) { spill.Close(); return nil, e }
	row := make([]float64, S)
	err = eachRow(path, lr, sep, len(names), "gene", func(line int, gene string, fields [][]byte) error {
		src.genes = append(src.genes, gene)
		src.lines = append(src.lines, int32(line))
		if kind == kindFeatureCounts {
			l, _, ok := parseValue(fields[5])
			if !ok {
				return &InputError{File: path, Line: line, Gene: gene, Msg: fmt.Sprintf("Length %q is not a number", fields[5])}
			}
			src.lengths = append(src.lengths, l)
		}
		for j, f := range fields[skip:] {
			v, isInt, ok := parseValue(f)
			if !ok {
				return &InputError{File: path, Line: line, Sample: samples[j], Gene: gene, Msg: fmt.Sprintf("%q is not a number", f)}
			}
			if !isInt && !math.IsNaN(v) {
				src.integer = false
			}
			row[j] = v
		}
		return spill.AppendRow(row)
	})
	if err != nil {
		return fail(err)
	}
	if err := spill.Flush(); err != nil {
		return fail(err)
	}
	if len(src.genes) == 0 {
		return fail(inputErrorf(path, "no genes: the table has no gene rows after the header"))
	}
	return src, nil
}

// readSamplesAsRows reads text with one row per sample and one column per
// gene: each row is a sample column, appended to a one-block Spill.
func readSamplesAsRows(path string, lr *lineReader, names []string, sep byte, opts Options) (Source, error) {
	genes := names[1:]
	if err := checkUnique(path, lr.line, genes, "gene"); err != nil {
		return nil, err
	}
	spill, err := NewColumnSpill(opts.TempDir, len(genes), 0, opts.spillBudget())
	if err != nil {
		return nil, err
	}
	src := &textSource{path: path, genes: genes, integer: true, spill: spill, samplesAsRow: true}
	fail := func(e error) (Source, error) { spill.Close(); return nil, e }
	col := make([]float64, len(genes))
	err = eachRow(path, lr, sep, len(names), "sample", func(line int, sample string, fields [][]byte) error {
		for i, f := range fields[1:] {
			v, isInt, ok := parseValue(f)
			if !ok {
				return &InputError{File: path, Line: line, Sample: sample, Gene: genes[i], Msg: fmt.Sprintf("%q is not a number", f)}
			}
			if !isInt && !math.IsNaN(v) {
				src.integer = false
			}
			col[i] = v
		}
		if err := spill.WriteColumn(len(src.samples), col); err != nil {
			return err
		}
		src.samples = append(src.samples, sample)
		src.lines = append(src.lines, int32(line))
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if len(src.samples) == 0 {
		return fail(inputErrorf(path, "no samples: the table has no sample rows after the header"))
	}
	return src, nil
}

// eachRow reads the data lines after the header: it skips blank lines,
// splits each line into fields, checks that it has width fields and that its
// id (the first field; a gene or a sample, as what says) is new, and calls fn
// with the 1-based line number, the id and the fields (valid until the next
// call). The first error ends the reading.
func eachRow(path string, lr *lineReader, sep byte, width int, what string, fn func(line int, id string, fields [][]byte) error) error {
	var fields [][]byte
	var scratch []byte
	seen := make(map[string]struct{})
	for {
		text, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &InputError{File: path, Line: lr.line + 1, Msg: fmt.Sprintf("cannot read: %v", err)}
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var ok bool
		if fields, ok = splitFields(fields, text, sep, &scratch); !ok {
			return &InputError{File: path, Line: lr.line, Msg: "unterminated quote"}
		}
		id := strings.TrimSpace(string(fields[0]))
		named := &InputError{File: path, Line: lr.line}
		if what == "gene" {
			named.Gene = id
		} else {
			named.Sample = id
		}
		if len(fields) != width {
			named.Msg = fmt.Sprintf("%d fields where the header has %d", len(fields), width)
			return named
		}
		if _, dup := seen[id]; dup {
			named.Msg = "duplicate " + what + " id: it appears twice"
			return named
		}
		seen[id] = struct{}{}
		if err := fn(lr.line, id, fields); err != nil {
			return err
		}
	}
}

func equalFold(a, b []string) bool {
	for i := range b {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// checkUnique reports the first repeated id of the header on line as an
// InputError.
func checkUnique(path string, line int, ids []string, what string) error {
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			e := &InputError{File: path, Line: line, Msg: "duplicate " + what + " id: it appears twice"}
			if what == "sample" {
				e.Sample = id
			} else {
				e.Gene = id
			}
			return e
		}
		seen[id] = struct{}{}
	}
	return nil
}
