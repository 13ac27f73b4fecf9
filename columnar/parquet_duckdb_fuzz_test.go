//go:build cgo

package columnar

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteDuckDBFuzzSeeds writes Parquet files made by DuckDB, the way most
// tools write them (dictionary-encoded pages, nullable columns, DECIMAL and
// unsigned types, each codec), into the seed corpora of FuzzParquetWide and
// FuzzParquetLong. It runs only when COLNORM_WRITE_FUZZ_SEEDS=1, since the
// seeds are kept in testdata/fuzz; it checks that our reader reads each.
func TestWriteDuckDBFuzzSeeds(t *testing.T) {
	if os.Getenv("COLNORM_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set COLNORM_WRITE_FUZZ_SEEDS=1 to rewrite the DuckDB seeds in testdata/fuzz")
	}
	db := pqDuckDB(t)
	pqExec(t, db, `CREATE TABLE w AS SELECT
		'ENSG' || lpad(i::VARCHAR, 8, '0') AS gene_id,
		(hash(i, 1) % 50)::BIGINT AS s_bigint,
		(hash(i, 2) % 50)::INTEGER AS s_int,
		CASE WHEN i % 5 = 0 THEN NULL ELSE (hash(i, 3) % 1000)::DOUBLE / 8 END AS s_double,
		(hash(i, 4) % 30)::FLOAT AS s_float,
		CASE WHEN i % 7 = 0 THEN NULL ELSE (hash(i, 5) % 100)::UINTEGER END AS s_uint,
		((hash(i, 6) % 100000)::DECIMAL(12, 2) / 100)::DECIMAL(12, 2) AS s_decimal,
		(hash(i, 7) % 3)::SMALLINT AS s_smallint
		FROM range(14) t(i)`)
	pqExec(t, db, `CREATE TABLE l AS SELECT 'G' || g.i AS gene, 'S' || s.j AS sample,
		CASE WHEN (g.i + s.j) % 11 = 0 THEN NULL ELSE (hash(g.i, s.j) % 100)::BIGINT END AS count
		FROM range(8) g(i), range(3) s(j)`)
	dir := t.TempDir()
	write := func(target, name, query, options string, opts Options) {
		path := filepath.Join(dir, name+".parquet")
		pqExec(t, db, fmt.Sprintf("COPY (%s) TO '%s' (FORMAT PARQUET%s)", query, path, options))
		src := pqOpen(t, path, opts)
		readAll(t, src)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(false)\n", data)
		out := filepath.Join("testdata", "fuzz", target, "duckdb_"+name)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, codec := range []string{"snappy", "zstd", "gzip", "uncompressed"} {
		write("FuzzParquetWide", "wide_"+codec, "SELECT * FROM w", ", CODEC '"+codec+"', DICTIONARY_COMPRESSION_RATIO_THRESHOLD 0", Options{})
		write("FuzzParquetLong", "long_"+codec, "SELECT * FROM l", ", CODEC '"+codec+"'", Options{})
	}
	write("FuzzParquetWide", "wide_ints_rowgroups", "SELECT gene_id, s_bigint, s_int, s_uint, s_smallint FROM w", ", ROW_GROUP_SIZE 4", Options{})
}
