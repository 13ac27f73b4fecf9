package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"
)

// runSuffix is the run number in the name of a run's output table.
var runSuffix = regexp.MustCompile(`-run[0-9]+\.tsv$`)

// normalizedMatrix is where colnorm normalize writes the matrix of a run
// whose table would be out: one file for every run of a size, each run
// replacing the last one's, so that the runs do not fill the disk.
func normalizedMatrix(out string) string {
	return runSuffix.ReplaceAllString(out, ".parquet")
}

// passNotes reads the pass times of colnorm's --json summary: the first
// size-factor pass (pass_read_s: it decodes the file and fills the cache),
// the second (pass_cached_s) and the normalize pass (pass_write_s: the
// matrix encoded and written).
func passNotes(stdout string) (map[string]string, error) {
	var summary struct {
		Timings struct {
			Passes []struct {
				Name    string  `json:"name"`
				Seconds float64 `json:"seconds"`
			} `json:"passes"`
		} `json:"timings"`
	}
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		return nil, fmt.Errorf("colnorm --json: %v", err)
	}
	passes := summary.Timings.Passes
	if len(passes) != 3 || passes[2].Name != "normalize" {
		return nil, fmt.Errorf("colnorm --json: want two size-factor passes and a normalize pass, got %+v", passes)
	}
	format := func(s float64) string { return strconv.FormatFloat(s, 'f', 4, 64) }
	return map[string]string{
		"pass_read_s":   format(passes[0].Seconds),
		"pass_cached_s": format(passes[1].Seconds),
		"pass_write_s":  format(passes[2].Seconds),
	}, nil
}

// normalizedNotes has DuckDB read the matrix colnorm wrote (the mean of
// every column, into out) and notes the file's size and DuckDB's time.
func normalizedNotes(ctx context.Context, self, matrix, out string) (map[string]string, error) {
	st, err := os.Stat(matrix)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := colMeans(ctx, self, matrix, out); err != nil {
		return nil, err
	}
	return map[string]string{
		"output_mib":    strconv.FormatFloat(float64(st.Size())/(1<<20), 'f', 1, 64),
		"duckdb_read_s": strconv.FormatFloat(time.Since(start).Seconds(), 'f', 2, 64),
	}, nil
}
