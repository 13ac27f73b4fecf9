//go:build cgo

package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	_ "github.com/marcboeker/go-duckdb" // registers the "duckdb" database/sql driver
)

// TestInteropDuckDB reads every Parquet output variant with DuckDB (the
// go-duckdb driver, DuckDB 1.1): the column types, every value against the
// TSV output of the same command, the row groups and codec, and the
// key-value metadata. DuckDB's Arrow IPC reader is an extension that is
// installed from the network; the Arrow outputs are read there only if it
// loads.
func TestInteropDuckDB(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	dir := t.TempDir()
	outs := interopOutputs(t, dir)
	sf := interopSizeFactors(t)
	parquets := 0
	for _, o := range outs {
		if o.Format != "parquet" {
			continue
		}
		parquets++
		t.Run(o.Name, func(t *testing.T) {
			duckCheckTypes(t, db, o)
			duckCheckValues(t, db, o)
			duckCheckLayout(t, db, o)
			duckCheckFilter(t, db, o)
			md := duckKV(t, db, o.Path)
			duckCheckMetadata(t, o, md, sf)
		})
	}
	if parquets < 40 {
		t.Errorf("%d Parquet variants; the test wants every layout x type x codec", parquets)
	}
	t.Run("arrow", func(t *testing.T) {
		if _, err := db.Exec("LOAD arrow"); err != nil {
			t.Skipf("DuckDB's arrow extension is not available offline (%v); the Arrow outputs are read by Polars and arrow-go", strings.SplitN(err.Error(), "\n", 2)[0])
		}
		for _, o := range outs {
			if o.Format == "arrow" {
				var n int
				if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM read_arrow('%s')", o.Path)).Scan(&n); err != nil {
					t.Fatalf("%s: %v", o.Name, err)
				}
				want := o.Genes
				if o.Layout == "long" {
					want *= o.Samples
				}
				if n != want {
					t.Errorf("%s: DuckDB reads %d rows, want %d", o.Name, n, want)
				}
			}
		}
	})
}

// interopSizeFactors is `colnorm size-factors --method tmm`'s size_factor
// column, which the tmm outputs' colnorm.size_factors must equal.
func interopSizeFactors(t *testing.T) map[string]string {
	t.Helper()
	code, out, stderr := colnorm(t, "size-factors", "--method", "tmm", marioni)
	if code != 0 {
		t.Fatalf("size-factors: exit %d: %s", code, stderr)
	}
	sf := map[string]string{}
	for s, row := range parseTable(t, out) {
		sf[s] = row["size_factor"]
	}
	return sf
}

var duckTypes = map[string]string{"float64": "DOUBLE", "float32": "FLOAT", "int64": "BIGINT"}

func duckCheckTypes(t *testing.T, db *sql.DB, o interopOutput) {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s'))", o.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names, types []string
	for rows.Next() {
		var n, ty string
		if err := rows.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		names, types = append(names, n), append(types, ty)
	}
	want := duckTypes[o.Type]
	if names[0] != "gene_id" || types[0] != "VARCHAR" {
		t.Errorf("first column %s %s, want gene_id VARCHAR", names[0], types[0])
	}
	if o.Layout == "long" {
		if strings.Join(names, ",") != "gene_id,sample,value" || types[1] != "VARCHAR" || types[2] != want {
			t.Errorf("columns %v %v, want gene_id, sample, value: VARCHAR, VARCHAR, %s", names, types, want)
		}
		return
	}
	if len(names) != o.Samples+1 {
		t.Fatalf("%d columns, want %d", len(names), o.Samples+1)
	}
	for k := 1; k < len(types); k++ {
		if types[k] != want {
			t.Errorf("column %s is %s, want %s", names[k], types[k], want)
		}
	}
}

// duckCheckValues compares every value DuckDB reads with the TSV's text
// read as the output's type: exactly equal.
func duckCheckValues(t *testing.T, db *sql.DB, o interopOutput) {
	t.Helper()
	genes, samples, text := readWideTSV(t, o.TSV)
	rows, err := db.Query(fmt.Sprintf("SELECT * FROM read_parquet('%s')", o.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	k := 0
	for ; rows.Next(); k++ {
		var id, sample string
		dst := []any{&id}
		if o.Layout == "long" {
			dst = append(dst, &sample)
		}
		// Scanned as the driver gives them: float64, float32 or int64
		// (database/sql would turn a float32 into a float64 through its
		// shortest text, which is not the float32's value).
		nums := make([]any, len(cols)-len(dst))
		for i := range nums {
			dst = append(dst, &nums[i])
		}
		if err := rows.Scan(dst...); err != nil {
			t.Fatal(err)
		}
		check := func(g, j int, got any) {
			want := interopValue(t, text[g][j], o.Type)
			var v float64
			switch x := got.(type) {
			case float64:
				v = x
			case float32:
				v = float64(x)
			case int64:
				v = float64(x)
			default:
				t.Fatalf("%s, %s: DuckDB gives a %T (%v)", samples[j], genes[g], got, got)
			}
			if fmt.Sprintf("%T", got) != map[string]string{"float64": "float64", "float32": "float32", "int64": "int64"}[o.Type] {
				t.Fatalf("%s, %s: DuckDB gives a %T, want %s", samples[j], genes[g], got, o.Type)
			}
			if v != want && !(math.IsNaN(want) && math.IsNaN(v)) {
				t.Fatalf("%s, %s: DuckDB reads %v, the TSV has %s", samples[j], genes[g], v, text[g][j])
			}
		}
		if o.Layout == "wide" {
			if k >= len(genes) || id != genes[k] {
				t.Fatalf("row %d: gene %q, want %q", k, id, genes[min(k, len(genes)-1)])
			}
			for j := range samples {
				check(k, j, nums[j])
			}
			continue
		}
		g, j := k%len(genes), k/len(genes)
		if j >= len(samples) || id != genes[g] || sample != samples[j] {
			t.Fatalf("row %d: %s %s, want %s %s", k, id, sample, genes[g], samples[min(j, len(samples)-1)])
		}
		check(g, j, nums[0])
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := len(genes)
	if o.Layout == "long" {
		want *= len(samples)
	}
	if k != want {
		t.Errorf("DuckDB reads %d rows, want %d", k, want)
	}
}

// duckCheckLayout checks the row groups and the codec of every column chunk.
func duckCheckLayout(t *testing.T, db *sql.DB, o interopOutput) {
	t.Helper()
	var groups int
	var codecs string
	q := fmt.Sprintf("SELECT count(DISTINCT row_group_id), string_agg(DISTINCT compression, ',') FROM parquet_metadata('%s')", o.Path)
	if err := db.QueryRow(q).Scan(&groups, &codecs); err != nil {
		t.Fatal(err)
	}
	if groups != o.RowGroups {
		t.Errorf("%d row groups, want %d", groups, o.RowGroups)
	}
	want := map[string]string{"zstd": "ZSTD", "snappy": "SNAPPY", "gzip": "GZIP", "none": "UNCOMPRESSED"}[o.Compression]
	if codecs != want {
		t.Errorf("compression %s, want %s", codecs, want)
	}
}

// duckKV is the file's key-value metadata as DuckDB reads it.
func duckKV(t *testing.T, db *sql.DB, path string) map[string]string {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf("SELECT key, value FROM parquet_kv_metadata('%s')", path))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	md := map[string]string{}
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		md[string(k)] = string(v)
	}
	return md
}

func duckCheckMetadata(t *testing.T, o interopOutput, md map[string]string, tmmFactors map[string]string) {
	t.Helper()
	if md[metaVersion] == "" {
		t.Errorf("no %s in %v", metaVersion, md)
	}
	cmd := md[metaCommand]
	if !strings.HasPrefix(cmd, o.Command) {
		t.Errorf("%s = %q, want it to start with %q", metaCommand, cmd, o.Command)
	}
	if !strings.Contains(cmd, "--layout "+o.Layout) && o.Layout == "long" {
		t.Errorf("%s = %q does not record --layout long", metaCommand, cmd)
	}
	for k, v := range o.Metadata {
		if md[k] != v {
			t.Errorf("%s = %q, want %q", k, md[k], v)
		}
	}
	js, ok := md[metaSizeFactors]
	if ok != o.SizeFactors {
		t.Fatalf("%s present: %v, want %v", metaSizeFactors, ok, o.SizeFactors)
	}
	if !ok {
		return
	}
	var sf map[string]float64
	if err := json.Unmarshal([]byte(js), &sf); err != nil {
		t.Fatalf("%s is not JSON: %v: %s", metaSizeFactors, err, js)
	}
	_, samples, _ := readWideTSV(t, o.TSV)
	if len(sf) != len(samples) {
		t.Errorf("%s has %d samples, want %d", metaSizeFactors, len(sf), len(samples))
	}
	for _, s := range samples {
		f, ok := sf[s]
		if !ok || !(f > 0) {
			t.Errorf("%s[%s] = %v", metaSizeFactors, s, f)
		}
		if strings.HasPrefix(o.Name, "tmm-") && formatFloat(f) != tmmFactors[s] {
			t.Errorf("%s[%s] = %v, size-factors --method tmm says %s", metaSizeFactors, s, f, tmmFactors[s])
		}
	}
}

// duckCheckFilter counts the values above thresholds with a WHERE clause,
// which DuckDB answers with the help of the column chunks' min/max
// statistics (skipping row groups whose maximum is below the threshold): a
// wrong statistic gives a wrong count. The thresholds are values of the
// first sample, its maximum and just below its minimum.
func duckCheckFilter(t *testing.T, db *sql.DB, o interopOutput) {
	t.Helper()
	genes, samples, text := readWideTSV(t, o.TSV)
	// Ids: every sample has its genes' rows (long), a gene id is one row
	// (wide); the string columns' statistics let DuckDB skip row groups.
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if o.Layout == "long" {
		for _, s := range samples {
			if n := count(fmt.Sprintf("SELECT count(*) FROM read_parquet('%s') WHERE sample = '%s'", o.Path, s)); n != len(genes) {
				t.Errorf("sample = %s: %d rows, want %d", s, n, len(genes))
			}
		}
	}
	for _, g := range []int{0, len(genes) / 2, len(genes) - 1} {
		want := 1
		if o.Layout == "long" {
			want = len(samples)
		}
		if n := count(fmt.Sprintf("SELECT count(*) FROM read_parquet('%s') WHERE gene_id = '%s'", o.Path, genes[g])); n != want {
			t.Errorf("gene_id = %s: %d rows, want %d", genes[g], n, want)
		}
	}
	col := make([]float64, len(text))
	lo, hi := math.Inf(1), math.Inf(-1)
	for g := range text {
		col[g] = interopValue(t, text[g][0], o.Type)
		lo, hi = min(lo, col[g]), max(hi, col[g])
	}
	for _, th := range []float64{col[len(col)/2], col[len(col)/3], hi, lo - 1} {
		want := 0
		for _, v := range col {
			if v > th {
				want++
			}
		}
		lit := fmt.Sprintf("%s::DOUBLE", formatFloat(th))
		q := fmt.Sprintf(`SELECT count(*) FROM read_parquet('%s') WHERE "%s" > %s`, o.Path, samples[0], lit)
		if o.Layout == "long" {
			q = fmt.Sprintf(`SELECT count(*) FROM read_parquet('%s') WHERE sample = '%s' AND value > %s`, o.Path, samples[0], lit)
		}
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
}
