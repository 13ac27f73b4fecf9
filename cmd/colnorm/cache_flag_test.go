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
		for _, cache := range []string{"", "0", "20KiB", "1GiB"} {
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
				t.Errorf("%v --cache %s: output differs from the run with the default cache", args, cache)
			}
		}
	}
	code, _, stderr := colnorm(t, "size-factors", "--cache", "lots", marioni)
	if code != 2 || !strings.Contains(stderr, "--cache") || strings.Contains(stderr, "--memory") {
		t.Errorf("--cache lots: exit %d, stderr %q; want 2 and a message naming --cache", code, stderr)
	}
	code, _, stderr = colnorm(t, "size-factors", "--cache", "2GiB", "--memory", "1GiB", marioni)
	if code != 2 || !strings.Contains(stderr, "--cache") {
		t.Errorf("--cache beyond --memory: exit %d, stderr %q; want 2 and a message naming --cache", code, stderr)
	}
	// Without --cache, the default cache is left out when --memory leaves
	// no room for it, instead of refusing the input.
	code, _, stderr = colnorm(t, "size-factors", "--memory", "100MiB", marioni)
	if code != 0 {
		t.Errorf("--memory 100MiB without --cache: exit %d, stderr %q; want 0 (the default cache shrinks)", code, stderr)
	}
}

// The default cache holds the whole matrix when it fits within
// defaultCache and what --memory leaves beside the rest, and is off
// otherwise; --cache is taken as given.
func TestCacheBudget(t *testing.T) {
	cfg := inputConfig{Memory: 1 << 40}
	need := func(G, N int) int64 { return int64(G)*int64(N)*5/4 + int64(N)*64 }
	if got := cfg.cacheBudget(60000, 2000, nil); got != need(60000, 2000) {
		t.Errorf("60,000 x 2,000: cache %d, want the whole matrix, %d", got, need(60000, 2000))
	}
	if got := cfg.cacheBudget(1000, 10, nil); got != need(1000, 10) {
		t.Errorf("1,000 x 10: cache %d, want the matrix's %d", got, need(1000, 10))
	}
	if got := cfg.cacheBudget(60000, 20000, nil); got != 0 {
		t.Errorf("60,000 x 20,000: cache %d, want none (a part would cost the whole memory)", got)
	}
	// 512 MiB of --memory (spill buffers of 64 MiB), filled up by an extra
	// item to just the room for the matrix, then one byte more.
	var rest int64
	cfg.Memory = 512 << 20
	for _, it := range cfg.baseMemory(60000, 2000) {
		rest += it.bytes
	}
	extra := cfg.Memory - rest - need(60000, 2000)
	if got := cfg.cacheBudget(60000, 2000, []memoryItem{{extra, "x", ""}}); got != need(60000, 2000) {
		t.Errorf("--memory with room for the matrix: cache %d, want %d", got, need(60000, 2000))
	}
	if got := cfg.cacheBudget(60000, 2000, []memoryItem{{extra + 1, "x", ""}}); got != 0 {
		t.Errorf("--memory a byte short of the matrix: cache %d, want none", got)
	}
	cfg = inputConfig{Memory: 1 << 20, Cache: 5 << 30, CacheSet: true}
	if got := cfg.cacheBudget(60000, 2000, nil); got != 5<<30 {
		t.Errorf("--cache 5GiB: cache %d, want it as given", got)
	}
}
