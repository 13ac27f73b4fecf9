package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadColumnAndCompare(t *testing.T) {
	dir := t.TempDir()
	colnorm := filepath.Join(dir, "colnorm.tsv")
	r := filepath.Join(dir, "r.tsv")
	os.WriteFile(colnorm, []byte("sample\tlib_size\tnorm_factor\tsize_factor\nS1\t100\t1\t0.5\nS2\t200\t0.5\t2\nS3\t300\t2\t1\n"), 0o644)
	os.WriteFile(r, []byte("sample\tlib_size\tnorm_factor\nS2\t200\t0.5\nS3\t300\t2.002\nS1\t100\t1\n"), 0o644)
	want, err := readColumn(colnorm, compared(tmm))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readColumn(r, "norm_factor")
	if err != nil {
		t.Fatal(err)
	}
	d, err := compare(got, want, false)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(d.max-1e-3) > 1e-12 || d.worst != "S3" || d.median != 0 {
		t.Errorf("compare: %+v", d)
	}
	if _, err := readColumn(r, "size_factor"); err == nil || !strings.Contains(err.Error(), "size_factor") {
		t.Errorf("a missing column: %v", err)
	}
	delete(got, "S1")
	if _, err := compare(got, want, false); err == nil {
		t.Error("a missing sample gave no error")
	}
	got["S4"] = 1
	if _, err := compare(got, want, false); err == nil {
		t.Error("another sample gave no error")
	}
}

func TestPassNotes(t *testing.T) {
	summary := `{"command": "normalize", "timings": {"seconds": 2.1, "passes": [
		{"pass": 1, "name": "size factors", "columns": 2000, "seconds": 0.71},
		{"pass": 2, "name": "size factors", "columns": 2000, "seconds": 0.2},
		{"pass": 3, "name": "normalize", "columns": 2000, "seconds": 0.95}]}}`
	notes, err := passNotes(summary)
	if err != nil {
		t.Fatal(err)
	}
	if notes["pass_read_s"] != "0.7100" || notes["pass_cached_s"] != "0.2000" || notes["pass_write_s"] != "0.9500" {
		t.Errorf("passNotes: %v", notes)
	}
	// A run whose passes are not the two size-factor passes and the write
	// (a cache refused, a changed command) is an error, not a wrong note.
	if _, err := passNotes(`{"timings": {"passes": [{"name": "size factors", "seconds": 1}]}}`); err == nil {
		t.Error("two passes missing gave no error")
	}
	if _, err := passNotes("not json"); err == nil {
		t.Error("a summary that is not JSON gave no error")
	}
	if got := normalizedMatrix("/w/normalize-colnorm-s2000-run3.tsv"); got != "/w/normalize-colnorm-s2000.parquet" {
		t.Errorf("normalizedMatrix: %s", got)
	}
}
