package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --cache keeps decoded columns for the later passes: the outputs are the
// same bytes with or without it, for commands of two and three passes, and
// with a budget too small for every column (the rest are read again).
func TestCacheFlagKeepsBytes(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"normalize", "--method", "ratio"},
		{"normalize", "--method", "tmm", "--log"},
		{"filter", "--by-expr"},
	} {
		var first []byte
		for _, cache := range []string{"", "20KiB", "1GiB"} {
			out := filepath.Join(dir, strings.Join(args, "")+cache+".tsv")
			a := append(append([]string{}, args...), marioni, "-o", out)
			if cache != "" {
				a = append(a, "--cache", cache)
			}
			if code, _, stderr := colnorm(t, a...); code != 0 {
				t.Fatalf("%v: exit %d: %s", a, code, stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = b
			} else if !bytes.Equal(first, b) {
				t.Errorf("%v --cache %s: output differs from the run without a cache", args, cache)
			}
		}
	}
	code, _, stderr := colnorm(t, "size-factors", "--cache", "lots", marioni)
	if code != 2 || !strings.Contains(stderr, "--cache") {
		t.Errorf("--cache lots: exit %d, stderr %q; want 2 and a message naming --cache", code, stderr)
	}
	code, _, stderr = colnorm(t, "size-factors", "--cache", "2GiB", "--memory", "1GiB", marioni)
	if code != 2 || !strings.Contains(stderr, "--cache") {
		t.Errorf("--cache beyond --memory: exit %d, stderr %q; want 2 and a message naming --cache", code, stderr)
	}
}
