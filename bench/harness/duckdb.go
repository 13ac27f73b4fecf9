package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/colnorm/colnorm/bench"

	_ "github.com/marcboeker/go-duckdb" // the "duckdb" database/sql driver
)

// duckdbSQL computes DESeq2's ratio size factors from a table of
// (gene_id, sample, value) rows, given as a FROM clause in place of %s:
//
//	lg_i = mean_j ln c_ij over genes without a zero (DESeq2 drops genes
//	       whose log geometric mean is -Inf)
//	s_j  = exp(median_i (ln c_ij - lg_i))
//
// DuckDB's median of a DOUBLE interpolates: for an even count it is the
// mean of the two middle values, as R's median. The CASE keeps ln away from
// zeros (DuckDB raises an error for ln(0)); those genes are dropped anyway.
const duckdbSQL = `
WITH logs AS (
	SELECT gene_id, sample, CASE WHEN value > 0 THEN ln(value) END AS lv
	FROM %s
),
geo AS (
	SELECT gene_id, avg(lv) AS lg FROM logs
	GROUP BY gene_id
	HAVING count(lv) = count(*)
)
SELECT sample, exp(median(lv - lg)) AS size_factor
FROM logs JOIN geo USING (gene_id)
GROUP BY sample
ORDER BY sample`

// duckdbFrom is the FROM clause for a long or wide Parquet file.
func duckdbFrom(path, layout string) string {
	lit := "'" + strings.ReplaceAll(path, "'", "''") + "'"
	if layout == "wide" {
		return "(UNPIVOT (SELECT * FROM read_parquet(" + lit + ")) ON COLUMNS(* EXCLUDE (gene_id)) INTO NAME sample VALUE value)"
	}
	return "read_parquet(" + lit + ")"
}

// runDuckDBWorker is the child process that runs the query: it writes the
// size factors to out as TSV and key=value timings on stdout.
func runDuckDBWorker(input, layout, out string, threads int) error {
	start := time.Now()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection, so that SET applies to the query
	if threads > 0 {
		if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
			return err
		}
	}
	var version string
	if err := db.QueryRow("SELECT version()").Scan(&version); err != nil {
		return err
	}
	q0 := time.Now()
	rows, err := db.Query(fmt.Sprintf(duckdbSQL, duckdbFrom(input, layout)))
	if err != nil {
		return err
	}
	defer rows.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("sample\tsize_factor\n")
	for rows.Next() {
		var sample string
		var sf float64
		if err := rows.Scan(&sample, &sf); err != nil {
			f.Close()
			return err
		}
		w.WriteString(sample + "\t" + strconv.FormatFloat(sf, 'g', -1, 64) + "\n")
	}
	if err := rows.Err(); err != nil {
		f.Close()
		return err
	}
	query := time.Since(q0)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("query_s=%.3f\nopen_s=%.3f\nduckdb_version=%s\n", query.Seconds(), q0.Sub(start).Seconds(), version)
	return nil
}

// longDuckDB is bench's long file as DuckDB writes it with COPY ... TO
// (FORMAT parquet, COMPRESSION snappy): every column optional, row groups
// of 122,880 rows, and, with 60,000 genes, the gene ids PLAIN-encoded.
const longDuckDB bench.Kind = "long-duckdb.parquet"

// cachedFile is bench.Cached, and for longDuckDB the long file copied by
// DuckDB into dir, once.
func cachedFile(ctx context.Context, dir string, p bench.Params, kind bench.Kind) (string, error) {
	if kind != longDuckDB {
		return bench.Cached(ctx, dir, p, kind)
	}
	path := filepath.Join(dir, bench.CachedName(p, kind))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	long, err := bench.Cached(ctx, dir, p, bench.LongParquet)
	if err != nil {
		return "", err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	tmp := path + ".tmp"
	lit := "'" + strings.ReplaceAll(tmp, "'", "''") + "'"
	if _, err := db.ExecContext(ctx, "COPY (SELECT * FROM "+duckdbFrom(long, "long")+") TO "+lit+" (FORMAT parquet, COMPRESSION snappy)"); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("writing %s with DuckDB: %w", path, err)
	}
	return path, os.Rename(tmp, path)
}
