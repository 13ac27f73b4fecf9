// Package genelength reads gene lengths for TPM and RPKM: from a table of
// gene id and length, or from a GTF annotation, where a gene's length is the
// number of bases covered by the union of its exons (overlapping exons of
// different transcripts are counted once).
package genelength

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/colnorm/colnorm/columnar"
)

func open(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &columnar.InputError{File: path, Msg: "cannot open: " + columnar.ErrText(err)}
	}
	br := bufio.NewReaderSize(f, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, &columnar.InputError{File: path, Msg: "not a valid gzip file"}
		}
		return zr, f.Close, nil
	}
	return br, f.Close, nil
}

// ReadTable reads a TSV or CSV with a header row: gene id, length in bases.
func ReadTable(path string) (map[string]float64, error) {
	r, closeFn, err := open(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	out := map[string]float64{}
	header := true
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		sep := "\t"
		if !strings.Contains(text, "\t") {
			sep = ","
		}
		f := strings.Split(text, sep)
		if len(f) < 2 {
			return nil, &columnar.InputError{File: path, Line: line, Msg: "want two columns: gene id and length"}
		}
		id := strings.Trim(strings.TrimSpace(f[0]), `"`)
		v, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(f[1]), `"`), 64)
		if header {
			header = false
			if err != nil {
				continue // the header row
			}
		}
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, &columnar.InputError{File: path, Line: line, Gene: id, Msg: fmt.Sprintf("length %q is not a positive number", f[1])}
		}
		if _, dup := out[id]; dup {
			return nil, &columnar.InputError{File: path, Line: line, Gene: id, Msg: "duplicate gene id"}
		}
		out[id] = v
	}
	if err := sc.Err(); err != nil {
		return nil, &columnar.InputError{File: path, Msg: err.Error()}
	}
	return out, nil
}

// maxCoordinate bounds GTF coordinates, so that a union of exons (at most
// maxCoordinate bases) neither overflows an int64 nor loses precision as a
// float64.
const maxCoordinate = 1 << 53

// ReadGTF reads exon records (feature "exon") of a GTF and returns, per
// gene_id, the number of bases in the union of its exons. Coordinates are
// 1-based and inclusive, so an exon start..end covers end-start+1 bases;
// a start below 1, an end before the start or beyond 2^53 is an InputError.
func ReadGTF(path string) (map[string]float64, error) {
	r, closeFn, err := open(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	type span struct{ a, b int64 }
	exons := map[string][]span{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 9 {
			return nil, &columnar.InputError{File: path, Line: line, Msg: fmt.Sprintf("a GTF line has 9 tab-separated fields, this has %d", len(f))}
		}
		if f[2] != "exon" {
			continue
		}
		a, err1 := strconv.ParseInt(f[3], 10, 64)
		b, err2 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil || a < 1 || b < a || b > maxCoordinate {
			return nil, &columnar.InputError{File: path, Line: line, Msg: fmt.Sprintf("bad exon coordinates %q..%q (want 1 <= start <= end <= 2^53)", f[3], f[4])}
		}
		id := attribute(f[8], "gene_id")
		if id == "" {
			return nil, &columnar.InputError{File: path, Line: line, Msg: "exon without a gene_id attribute"}
		}
		exons[id] = append(exons[id], span{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, &columnar.InputError{File: path, Msg: err.Error()}
	}
	out := make(map[string]float64, len(exons))
	for id, s := range exons {
		sort.Slice(s, func(i, j int) bool { return s[i].a < s[j].a })
		var total int64
		cur := s[0]
		for _, e := range s[1:] {
			if e.a <= cur.b+1 {
				if e.b > cur.b {
					cur.b = e.b
				}
				continue
			}
			total += cur.b - cur.a + 1
			cur = e
		}
		total += cur.b - cur.a + 1
		out[id] = float64(total)
	}
	return out, nil
}

// attribute returns the value of key in a GTF attribute column
// (key "value"; key "value"; ...).
func attribute(attrs, key string) string {
	for _, kv := range strings.Split(attrs, ";") {
		kv = strings.TrimSpace(kv)
		if strings.HasPrefix(kv, key+" ") {
			return strings.Trim(strings.TrimSpace(kv[len(key)+1:]), `"`)
		}
	}
	return ""
}

// Align returns the length of every gene of src, in src's order. A gene
// without a length is an InputError naming it and the lengths file.
func Align(src columnar.Source, lengths map[string]float64, file string) ([]float64, error) {
	out := make([]float64, len(src.Genes()))
	for i, g := range src.Genes() {
		l, ok := lengths[g]
		if !ok {
			return nil, &columnar.InputError{File: file, Gene: g, Msg: "no length for this gene of " + src.Path()}
		}
		out[i] = l
	}
	return out, nil
}
