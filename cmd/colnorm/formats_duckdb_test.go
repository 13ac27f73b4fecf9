//go:build cgo

package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "github.com/marcboeker/go-duckdb" // registers the "duckdb" database/sql driver

	"github.com/colnorm/colnorm/internal/reftest"
)

// TestSameAnswersFromDuckDBParquet: Parquet written by DuckDB (go-duckdb
// v1.8.5, DuckDB 1.1: dictionary-encoded string pages; the long files in
// several row groups)
// from synth_a's counts, wide, long sorted by sample and long in hashed row
// order, gives the TSV's size factors: bit for bit where the genes keep
// their order, within 1e-12 relative (and DESeq2's/edgeR's within 1e-9)
// where the rows are shuffled.
func TestSameAnswersFromDuckDBParquet(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dir := t.TempDir()
	counts := reftest.Path("reference", "synth_a", "counts.tsv")
	m := reftest.ReadMatrix(t, counts)
	exec(fmt.Sprintf("CREATE TABLE w AS SELECT * FROM read_csv('%s', delim = '\t', header = true)", counts))
	exec("CREATE TABLE ord AS SELECT gene_id, row_number() OVER () AS i FROM w")
	exec("CREATE TABLE l AS SELECT * FROM (UNPIVOT w ON COLUMNS(* EXCLUDE (gene_id)) INTO NAME sample VALUE count) JOIN ord USING (gene_id)")
	exec(`CREATE TABLE s AS SELECT * FROM (VALUES ` + func() string {
		v := ""
		for j, s := range m.Samples {
			if j > 0 {
				v += ", "
			}
			v += fmt.Sprintf("('%s', %d)", s, j)
		}
		return v
	}() + `) t(sample, j)`)
	files := map[string]string{
		"wide":          "SELECT * FROM w",
		"long-sorted":   "SELECT gene_id, sample, count FROM l JOIN s USING (sample) ORDER BY j, i",
		"long-shuffled": "SELECT gene_id, sample, count FROM l ORDER BY hash(i * 31 + length(sample), sample)",
	}
	for name, q := range files {
		path := filepath.Join(dir, name+".parquet")
		exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT PARQUET, ROW_GROUP_SIZE 4096, DICTIONARY_COMPRESSION_RATIO_THRESHOLD 0)", q, path))
		var dict, groups int
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FILTER (WHERE encodings LIKE '%%DICTIONARY%%'), count(DISTINCT row_group_id) FROM parquet_metadata('%s')", path)).Scan(&dict, &groups); err != nil {
			t.Fatal(err)
		}
		// (The wide file's 3,000 rows make one row group whatever
		// ROW_GROUP_SIZE says; the long files' 36,000 make several.)
		if dict == 0 || (name != "wide" && groups < 2) {
			t.Fatalf("%s: %d dictionary-encoded column chunks, %d row groups; the test wants both", name, dict, groups)
		}
	}
	ref := reftest.Path("reference", "synth_a", "ref", "size_factors.tsv.gz")
	for _, method := range []string{"ratio", "poscounts", "tmm", "upperquartile"} {
		code, want, stderr := colnorm(t, "size-factors", "--method", method, counts)
		if code != 0 {
			t.Fatal(stderr)
		}
		for _, name := range []string{"wide", "long-sorted"} {
			code, got, stderr := colnorm(t, "size-factors", "--method", method, filepath.Join(dir, name+".parquet"))
			if code != 0 || got != want {
				t.Errorf("%s from DuckDB's %s file: exit %d %s; differs from the TSV's:\n%s", method, name, code, stderr, got)
			}
		}
		code, got, stderr := colnorm(t, "size-factors", "--method", method, filepath.Join(dir, "long-shuffled.parquet"))
		if code != 0 {
			t.Fatalf("%s from DuckDB's shuffled file: exit %d %s", method, code, stderr)
		}
		sameFactorTables(t, method+" from DuckDB's shuffled file", got, want, 1e-12)
		col := "size_factor"
		if methodFamily(method) == familyEdgeR {
			col = "norm_factor"
		}
		wantRef := reftest.Column(t, ref, method)
		for s, row := range parseTable(t, got) {
			if v := reftest.Num(t, row[col]); !reftest.Close(v, wantRef[s], 1e-9, 0) {
				t.Errorf("%s from DuckDB's shuffled file, %s: %.17g, reference %.17g", method, s, v, wantRef[s])
			}
		}
	}
}
