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
	// Without --cache, the default cache (128 MiB) shrinks to what --memory
	// leaves instead of refusing the input.
	code, _, stderr = colnorm(t, "size-factors", "--memory", "100MiB", marioni)
	if code != 0 {
		t.Errorf("--memory 100MiB without --cache: exit %d, stderr %q; want 0 (the default cache shrinks)", code, stderr)
	}
}

// The default cache takes what the matrix needs, at most defaultCache, and
// no more than --memory leaves beside the rest; --cache is taken as given.
func TestCacheBudget(t *testing.T) {
	cfg := inputConfig{Memory: 1 << 40}
	if got := cfg.cacheBudget(60000, 2000, nil); got != defaultCache {
		t.Errorf("60,000 x 2,000: cache %d, want defaultCache %d", got, defaultCache)
	}
	if got, need := cfg.cacheBudget(1000, 10, nil), int64(1000*10*5/4+10*64); got != need {
		t.Errorf("1,000 x 10: cache %d, want the matrix's %d", got, need)
	}
	// 160 MiB of --memory: the rest (with its spill buffers of --memory / 8)
	// leaves less than defaultCache.
	cfg.Memory = 160 << 20
	room := cfg.Memory - 400
	for _, it := range cfg.baseMemory(60000, 2000) {
		room -= it.bytes
	}
	if room <= 0 || room >= defaultCache {
		t.Fatalf("test setup: room %d should be within (0, defaultCache)", room)
	}
	if got := cfg.cacheBudget(60000, 2000, []memoryItem{{400, "x", ""}}); got != room {
		t.Errorf("--memory 160MiB and 400 bytes of extra: cache %d, want the %d left", got, room)
	}
	cfg.Memory = 10 << 20
	if got := cfg.cacheBudget(60000, 2000, nil); got != 0 {
		t.Errorf("--memory 10MiB, below the rest: cache %d, want 0", got)
	}
	cfg = inputConfig{Memory: 1 << 20, Cache: 5 << 30, CacheSet: true}
	if got := cfg.cacheBudget(60000, 2000, nil); got != 5<<30 {
		t.Errorf("--cache 5GiB: cache %d, want it as given", got)
	}
}
