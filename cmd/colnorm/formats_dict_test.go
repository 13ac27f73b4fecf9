package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/colnorm/colnorm/internal/reftest"
)

// Parquet as pyarrow writes it by default (format 2.x, data page version
// 1.0): every column dictionary-encoded (a PLAIN dictionary page, then v1
// data pages of RLE_DICTIONARY indices), nullable value columns, Snappy.
// The same size factors, bit for bit, as from the TSV: wide, long sorted by
// sample, and long in shuffled row order.

// dictPQWrite writes rows under a schema of the named columns (in lexical
// order, as parquet-go orders a group's fields), every column
// dictionary-encoded and the value columns nullable, with v1 data pages.
func dictPQWrite(t *testing.T, path string, names []string, valueFrom int, rowGroup int64, rows []parquet.Row) {
	t.Helper()
	group := parquet.Group{}
	for i, name := range names {
		if i > 0 && names[i-1] >= name {
			t.Fatalf("columns must be in lexical order: %q then %q", names[i-1], name)
		}
		if i < valueFrom {
			group[name] = parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		} else {
			group[name] = parquet.Optional(parquet.Encoded(parquet.Int(64), &parquet.RLEDictionary))
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(f, parquet.NewSchema("schema", group), parquet.Compression(&parquet.Snappy),
		parquet.DataPageVersion(1), parquet.MaxRowsPerRowGroup(rowGroup), parquet.PageBufferSize(8192))
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	dictPQCheckPages(t, path)
}

// dictPQCheckPages fails unless every column chunk of the file starts with a
// dictionary page followed by a v1 data page of RLE_DICTIONARY indices, so
// that the test reads what it says it reads.
func dictPQCheckPages(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	header := func(off int64) format.PageHeader {
		var h format.PageHeader
		r := new(thrift.CompactProtocol).NewReaderFromBytes(data[off:])
		if err := thrift.NewDecoder(r).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	chunks := 0
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			md := c.MetaData
			if md.DictionaryPageOffset == 0 || header(md.DictionaryPageOffset).Type != format.DictionaryPage {
				t.Fatalf("%s: column %v has no dictionary page", path, md.PathInSchema)
			}
			h := header(md.DataPageOffset)
			if h.Type != format.DataPage || !h.DataPageHeader.Valid || h.DataPageHeader.V.Encoding != format.RLEDictionary {
				t.Fatalf("%s: column %v: first data page is of type %v, not a v1 page of RLE_DICTIONARY indices", path, md.PathInSchema, h.Type)
			}
			chunks++
		}
	}
	if len(pf.Metadata().RowGroups) < 2 || chunks == 0 {
		t.Fatalf("%s: %d row groups; the test wants several", path, len(pf.Metadata().RowGroups))
	}
}

// sameFactorTables compares two size-factor tables sample by sample: the
// same samples, lib_size equal, the factors within rel.
func sameFactorTables(t *testing.T, what, got, want string, rel float64) {
	t.Helper()
	g, w := parseTable(t, got), parseTable(t, want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d samples, want %d", what, len(g), len(w))
	}
	for s, wr := range w {
		gr, ok := g[s]
		if !ok {
			t.Fatalf("%s: sample %s missing", what, s)
		}
		if gr["lib_size"] != wr["lib_size"] {
			t.Errorf("%s %s: lib_size %s, want %s", what, s, gr["lib_size"], wr["lib_size"])
		}
		for _, col := range []string{"size_factor", "norm_factor"} {
			if wr[col] == "" {
				continue
			}
			if a, b := reftest.Num(t, gr[col]), reftest.Num(t, wr[col]); !reftest.Close(a, b, rel, 0) {
				t.Errorf("%s %s: %s %.17g, want %.17g", what, s, col, a, b)
			}
		}
	}
}

func TestSameAnswersFromPyarrowStyleParquet(t *testing.T) {
	dir := t.TempDir()
	m := reftest.ReadMatrix(t, marioni)
	G, S := len(m.Genes), len(m.Samples)
	// Wide: "Geneid" sorts before the sample names, which are in lexical
	// order already, so the file's columns are in the TSV's order.
	wide := filepath.Join(dir, "wide.parquet")
	var rows []parquet.Row
	for i, g := range m.Genes {
		row := parquet.Row{parquet.ByteArrayValue([]byte(g)).Level(0, 0, 0)}
		for j := range m.Samples {
			row = append(row, parquet.Int64Value(int64(m.Cols[j][i])).Level(0, 1, j+1))
		}
		rows = append(rows, row)
	}
	dictPQWrite(t, wide, append([]string{"Geneid"}, m.Samples...), 1, 2000, rows)

	// Long, sorted by sample, and shuffled.
	long := make([]parquet.Row, 0, G*S)
	for j, s := range m.Samples {
		for i, g := range m.Genes {
			long = append(long, parquet.Row{parquet.ByteArrayValue([]byte(g)).Level(0, 0, 0),
				parquet.ByteArrayValue([]byte(s)).Level(0, 0, 1), parquet.Int64Value(int64(m.Cols[j][i])).Level(0, 1, 2)})
		}
	}
	sorted := filepath.Join(dir, "long_sorted.parquet")
	dictPQWrite(t, sorted, []string{"gene", "sample", "value"}, 2, 20000, long)
	r := rand.New(rand.NewPCG(23, 3))
	r.Shuffle(len(long), func(a, b int) { long[a], long[b] = long[b], long[a] })
	shuffled := filepath.Join(dir, "long_shuffled.parquet")
	dictPQWrite(t, shuffled, []string{"gene", "sample", "value"}, 2, 20000, long)

	for _, method := range []string{"ratio", "poscounts", "tmm"} {
		code, want, stderr := colnorm(t, "size-factors", "--method", method, marioni)
		if code != 0 {
			t.Fatal(stderr)
		}
		for _, in := range []string{wide, sorted} {
			code, got, stderr := colnorm(t, "size-factors", "--method", method, in)
			if code != 0 || got != want {
				t.Errorf("%s from %s: exit %d %s; differs from the TSV's:\n%s", method, filepath.Base(in), code, stderr, got)
			}
		}
		// Shuffled rows give the genes and samples in another order; the
		// numbers agree (sums over genes in another order may differ in
		// the last bits).
		code, got, stderr := colnorm(t, "size-factors", "--method", method, shuffled)
		if code != 0 {
			t.Fatalf("%s from the shuffled file: exit %d %s", method, code, stderr)
		}
		sameFactorTables(t, method+" from the shuffled file", got, want, 1e-12)
		// and they are the DESeq2/edgeR reference's
		ref := reftest.Column(t, reftest.Path("reference", "marioni", "ref", "size_factors.tsv.gz"), method)
		col := "size_factor"
		if method == "tmm" {
			col = "norm_factor"
		}
		for s, row := range parseTable(t, got) {
			if v := reftest.Num(t, row[col]); !reftest.Close(v, ref[s], 1e-9, 0) || math.IsNaN(v) {
				t.Errorf("%s from the shuffled file, %s: %v, reference %v", method, s, v, ref[s])
			}
		}
	}
	// Normalized counts from the wide file: the TSV's bytes (the gene column
	// is written as gene_id whatever the input calls it).
	_, want, _ := colnorm(t, "normalize", "--method", "ratio", marioni)
	if code, got, stderr := colnorm(t, "normalize", "--method", "ratio", wide); code != 0 || got != want {
		t.Errorf("normalize from the wide file: exit %d %s; differs from the TSV's", code, stderr)
	}
}
