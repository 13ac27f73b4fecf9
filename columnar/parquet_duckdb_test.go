//go:build cgo

package columnar

import (
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/marcboeker/go-duckdb" // registers the "duckdb" database/sql driver
)

// DuckDB interoperability: DuckDB writes Parquet the way most tools do
// (dictionary-encoded pages, several row groups, nullable columns), and reads
// what we write.

func pqDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one in-memory database
	t.Cleanup(func() { db.Close() })
	return db
}

func pqExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// pqQuery runs a query whose first column is a string and the others numbers
// (NULL as NaN), and returns the rows.
func pqQuery(t *testing.T, db *sql.DB, query string) (ids []string, vals [][]float64) {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		var id string
		nums := make([]sql.NullFloat64, len(cols)-1)
		dst := []any{&id}
		for i := range nums {
			dst = append(dst, &nums[i])
		}
		if err := rows.Scan(dst...); err != nil {
			t.Fatal(err)
		}
		row := make([]float64, len(nums))
		for i, n := range nums {
			row[i] = math.NaN()
			if n.Valid {
				row[i] = n.Float64
			}
		}
		ids = append(ids, id)
		vals = append(vals, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids, vals
}

// pqColumnTypes is DuckDB's name and type of each column of a Parquet file.
func pqColumnTypes(t *testing.T, db *sql.DB, path string) map[string]string {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf("DESCRIBE SELECT * FROM read_parquet('%s')", path))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types := map[string]string{}
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		types[fmt.Sprint(vals[0])] = fmt.Sprint(vals[1])
	}
	return types
}

// pqUsesDictionary reports whether DuckDB dictionary-encoded some column.
// (DuckDB 1.1, the version in go-duckdb v1.8.5, dictionary-encodes string
// columns only; dictionary-encoded numbers are tested with parquet-go's
// writer in parquet_test.go.)
func pqUsesDictionary(t *testing.T, db *sql.DB, path string) bool {
	t.Helper()
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM parquet_metadata('%s') WHERE encodings LIKE '%%DICTIONARY%%'", path)
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestParquetDuckDBWide(t *testing.T) {
	db := pqDuckDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "duck_wide.parquet")
	pqExec(t, db, `CREATE TABLE w AS SELECT
		'ENSG' || lpad(i::VARCHAR, 8, '0') AS gene_id,
		(hash(i, 1) % 50)::BIGINT AS s_bigint,
		(hash(i, 2) % 50)::INTEGER AS s_int,
		CASE WHEN i % 17 = 0 THEN NULL ELSE (hash(i, 3) % 1000)::DOUBLE / 8 END AS s_double,
		(hash(i, 4) % 30)::FLOAT AS s_float,
		CASE WHEN i % 23 = 0 THEN NULL ELSE (hash(i, 5) % 100)::UINTEGER END AS s_uint,
		((hash(i, 6) % 100000)::DECIMAL(12, 2) / 100)::DECIMAL(12, 2) AS s_decimal,
		(hash(i, 7) % 3)::SMALLINT AS s_smallint
		FROM range(130000) t(i)`)
	// The gene ids are unique: ask for a dictionary all the same.
	pqExec(t, db, fmt.Sprintf("COPY w TO '%s' (FORMAT PARQUET, ROW_GROUP_SIZE 40000, DICTIONARY_COMPRESSION_RATIO_THRESHOLD 0)", path))
	if !pqUsesDictionary(t, db, path) {
		t.Fatal("DuckDB wrote no dictionary-encoded column: the test does not test what it should")
	}
	genes, rows := pqQuery(t, db, fmt.Sprintf("SELECT gene_id, COLUMNS(* EXCLUDE (gene_id))::DOUBLE FROM read_parquet('%s')", path))
	src := pqOpen(t, path, Options{})
	if !slices.Equal(src.Genes(), genes) {
		t.Fatalf("genes differ: %v vs %v", pqHead(src.Genes()), pqHead(genes))
	}
	want := []string{"s_bigint", "s_int", "s_double", "s_float", "s_uint", "s_decimal", "s_smallint"}
	if !slices.Equal(src.Samples(), want) {
		t.Fatalf("samples %v, want %v", src.Samples(), want)
	}
	if src.Integer() {
		t.Errorf("Integer() = true with double columns")
	}
	dst := make([]float64, len(genes))
	for j, sample := range src.Samples() {
		if err := src.ReadColumn(j, dst); err != nil {
			t.Fatal(err)
		}
		for g := range dst {
			if w := rows[g][j]; !pqSame(dst[g], w) && math.Abs(dst[g]-w) > 1e-9*math.Abs(w) {
				t.Fatalf("%s, gene %s: got %v, DuckDB says %v", sample, genes[g], dst[g], w)
			}
		}
	}
	pqCheckConcurrent(t, src)

	// Integer columns only.
	ipath := filepath.Join(dir, "duck_int.parquet")
	pqExec(t, db, fmt.Sprintf("COPY (SELECT gene_id, s_bigint, s_int, s_uint, s_smallint FROM w) TO '%s' (FORMAT PARQUET)", ipath))
	if !pqOpen(t, ipath, Options{}).Integer() {
		t.Errorf("Integer() = false with integer columns")
	}
}

func TestParquetDuckDBLong(t *testing.T) {
	db := pqDuckDB(t)
	dir := t.TempDir()
	pqExec(t, db, `CREATE TABLE l AS SELECT g.i, s.j, 'G' || g.i AS gene, 'S' || s.j AS sample,
		CASE WHEN (g.i + s.j) % 101 = 0 THEN NULL ELSE (hash(g.i, s.j) % 100)::BIGINT END AS count
		FROM range(3000) g(i), range(12) s(j)`)
	defer func(n int64) { pqLongDirectRows = n }(pqLongDirectRows)
	for _, tc := range []struct {
		name, order string
		rowGroup    int
		direct      int64 // pqLongDirectRows
		spill       bool
	}{
		{"sorted", "j, i", 10000, 1 << 17, false},
		{"genes-shuffled", "j, hash(i)", 10000, 1 << 17, false},
		{"shuffled", "hash(i * 31 + j)", 10000, 1 << 17, true},
		// Row groups of many samples and no offset index (DuckDB writes
		// none): copied to a spill.
		{"sorted-big-groups", "j, i", 30000, 0, true},
		{"genes-shuffled-big-groups", "j, hash(i)", 30000, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pqLongDirectRows = tc.direct
			path := filepath.Join(dir, tc.name+".parquet")
			pqExec(t, db, fmt.Sprintf("COPY (SELECT gene, sample, count FROM l ORDER BY %s) TO '%s' (FORMAT PARQUET, ROW_GROUP_SIZE %d)", tc.order, path, tc.rowGroup))
			if !pqUsesDictionary(t, db, path) {
				t.Fatal("DuckDB wrote no dictionary-encoded column")
			}
			// The rows as DuckDB reads them, in file order.
			rows, err := db.Query(fmt.Sprintf("SELECT gene, sample, count::DOUBLE FROM read_parquet('%s')", path))
			if err != nil {
				t.Fatal(err)
			}
			want := map[[2]string]float64{}
			var genes, samples []string
			seenG, seenS := map[string]bool{}, map[string]bool{}
			for rows.Next() {
				var g, s string
				var v sql.NullFloat64
				if err := rows.Scan(&g, &s, &v); err != nil {
					t.Fatal(err)
				}
				want[[2]string{g, s}] = math.NaN()
				if v.Valid {
					want[[2]string{g, s}] = v.Float64
				}
				if !seenG[g] {
					seenG[g] = true
					genes = append(genes, g)
				}
				if !seenS[s] {
					seenS[s] = true
					samples = append(samples, s)
				}
			}
			rows.Close()
			src := pqOpen(t, path, Options{SpillBudget: 8 * 3000 * 5}) // several passes when regrouping
			if !slices.Equal(src.Genes(), genes) || !slices.Equal(src.Samples(), samples) {
				t.Fatalf("genes %v samples %v, want %v %v", pqHead(src.Genes()), src.Samples(), pqHead(genes), samples)
			}
			if !src.Integer() {
				t.Errorf("Integer() = false")
			}
			if long := src.(*longParquet); (long.spill != nil) != tc.spill {
				t.Errorf("spill = %v, want %v", long.spill != nil, tc.spill)
			}
			dst := make([]float64, len(genes))
			for j, s := range samples {
				if err := src.ReadColumn(j, dst); err != nil {
					t.Fatal(err)
				}
				for g, gene := range genes {
					if w := want[[2]string{gene, s}]; !pqSame(dst[g], w) {
						t.Fatalf("%s, %s: got %v, DuckDB says %v", s, gene, dst[g], w)
					}
				}
			}
			pqCheckConcurrent(t, src)
		})
	}
}

func TestParquetDuckDBReadsOurs(t *testing.T) {
	defer func(n int) { pqLongRowGroupRows = n }(pqLongRowGroupRows)
	pqLongRowGroupRows = 5000
	db := pqDuckDB(t)
	dir := t.TempDir()
	for _, layout := range []string{LayoutWide, LayoutLong} {
		for _, integer := range []bool{true, false} {
			name := fmt.Sprintf("%s-integer=%v", layout, integer)
			t.Run(name, func(t *testing.T) {
				nan := 0.0
				if !integer {
					nan = 0.01
				}
				m := newPQMatrix(4000, 6, 9, integer, nan)
				path := filepath.Join(dir, name+".parquet")
				pqWriteSink(t, path, m, SinkOptions{Layout: layout, Integer: integer, GeneLabel: "Geneid", ValueName: "count"})
				types := pqColumnTypes(t, db, path)
				num := "DOUBLE"
				if integer {
					num = "BIGINT"
				}
				var wantTypes map[string]string
				if layout == LayoutWide {
					wantTypes = map[string]string{"Geneid": "VARCHAR"}
					for _, s := range m.samples {
						wantTypes[s] = num
					}
				} else {
					wantTypes = map[string]string{"Geneid": "VARCHAR", "sample": "VARCHAR", "count": num}
				}
				if fmt.Sprint(types) != fmt.Sprint(wantTypes) {
					t.Errorf("DuckDB column types %v, want %v", types, wantTypes)
				}
				if layout == LayoutWide {
					cols := `"` + strings.Join(m.samples, `"::DOUBLE, "`) + `"::DOUBLE`
					genes, rows := pqQuery(t, db, fmt.Sprintf("SELECT Geneid, %s FROM read_parquet('%s')", cols, path))
					if !slices.Equal(genes, m.genes) {
						t.Fatalf("DuckDB genes %v..., want %v...", pqHead(genes), pqHead(m.genes))
					}
					for g := range genes {
						for j := range m.samples {
							if !pqSame(rows[g][j], m.cols[j][g]) {
								t.Fatalf("%s, %s: DuckDB reads %v, want %v", m.samples[j], m.genes[g], rows[g][j], m.cols[j][g])
							}
						}
					}
					return
				}
				rows, err := db.Query(fmt.Sprintf("SELECT Geneid, sample, count::DOUBLE FROM read_parquet('%s')", path))
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				G := len(m.genes)
				k := 0
				for ; rows.Next(); k++ {
					var g, s string
					var v float64
					if err := rows.Scan(&g, &s, &v); err != nil {
						t.Fatal(err)
					}
					wg, ws, wv := m.genes[k%G], m.samples[k/G], m.cols[k/G][k%G]
					if g != wg || s != ws || !pqSame(v, wv) {
						t.Fatalf("row %d: DuckDB reads %s %s %v, want %s %s %v", k, g, s, v, wg, ws, wv)
					}
				}
				if k != G*len(m.samples) {
					t.Errorf("DuckDB reads %d rows, want %d", k, G*len(m.samples))
				}
				var groups int
				db.QueryRow(fmt.Sprintf("SELECT count(DISTINCT row_group_id) FROM parquet_metadata('%s')", path)).Scan(&groups)
				if groups < 2 {
					t.Errorf("%d row groups; the test wants several", groups)
				}
			})
		}
	}
}
