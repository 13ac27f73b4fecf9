// Command rowgroups times DuckDB scans of Parquet files that differ only in
// their row groups, to choose colnorm's defaults (columnar/parquet_sink.go).
//
//	rowgroups -threads 2 -reps 3 -layout long FILE...
//
// For each file it prints the row groups, the file size and the best of
// -reps wall times of each query: for long files a full aggregate by sample
// and a filter on one sample (which the sample column's statistics let
// DuckDB answer from the row groups holding it); for wide files sums of
// three sample columns and a filter on one gene id.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"time"

	_ "github.com/marcboeker/go-duckdb" // the "duckdb" database/sql driver
)

func main() {
	threads := flag.Int("threads", 2, "DuckDB threads")
	reps := flag.Int("reps", 3, "runs of each query; the best is printed")
	layout := flag.String("layout", "long", "wide or long")
	sample := flag.String("sample", "", "the sample to filter on, and (wide) to sum")
	gene := flag.String("gene", "", "wide: the gene id to filter on")
	flag.Parse()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		fail(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(fmt.Sprintf("SET threads = %d", *threads)); err != nil {
		fail(err)
	}
	for _, path := range flag.Args() {
		st, err := os.Stat(path)
		if err != nil {
			fail(err)
		}
		var groups int
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM parquet_metadata('%s') WHERE column_id = 0", path)).Scan(&groups); err != nil {
			fail(err)
		}
		queries := map[string]string{
			"aggregate": fmt.Sprintf("SELECT sample, sum(value) FROM read_parquet('%s') GROUP BY sample", path),
			"filter":    fmt.Sprintf("SELECT sum(value) FROM read_parquet('%s') WHERE sample = '%s'", path, *sample),
		}
		if *layout == "wide" {
			queries = map[string]string{
				"aggregate": fmt.Sprintf(`SELECT sum("%s") FROM read_parquet('%s')`, *sample, path),
				"filter":    fmt.Sprintf("SELECT * FROM read_parquet('%s') WHERE gene_id = '%s'", path, *gene),
			}
		}
		fmt.Printf("%s\t%d row groups\t%.1f MB", path, groups, float64(st.Size())/1e6)
		for _, name := range []string{"aggregate", "filter"} {
			best := time.Duration(1 << 62)
			for range *reps {
				t0 := time.Now()
				rows, err := db.Query(queries[name])
				if err != nil {
					fail(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if err := rows.Err(); err != nil {
					fail(err)
				}
				rows.Close()
				best = min(best, time.Since(t0))
			}
			fmt.Printf("\t%s %.3f s", name, best.Seconds())
		}
		fmt.Println()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rowgroups:", err)
	os.Exit(1)
}
