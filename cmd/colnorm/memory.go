package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/colnorm/colnorm/columnar"
)

// The memory budget (--memory): what a command would hold for G genes and N
// samples is estimated once the input's genes and samples are known, before
// any pass, and a matrix that would not fit is refused with the option to
// change instead of being killed for running out of memory.

// defaultMemoryFallback is the budget where physical memory is unknown.
const defaultMemoryFallback = 4 << 30

// defaultMemory is half of the physical memory (MemTotal of /proc/meminfo),
// or 4 GiB where that cannot be read.
func defaultMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return defaultMemoryFallback
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil && kb > 0 {
				return kb << 10 / 2
			}
		}
	}
	return defaultMemoryFallback
}

// parseBytes reads a size: a number with an optional unit B, K/KB/KiB,
// M/MB/MiB, G/GB/GiB or T/TB/TiB (the K, M, G, T units are powers of 1024,
// as memory is counted).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v > 0) {
		return 0, fmt.Errorf("--memory %q is not a size such as 512MiB or 4GiB", s)
	}
	shift := map[string]uint{"": 0, "b": 0, "k": 10, "kb": 10, "kib": 10, "m": 20, "mb": 20, "mib": 20,
		"g": 30, "gb": 30, "gib": 30, "t": 40, "tb": 40, "tib": 40}
	sh, ok := shift[unit]
	if !ok {
		return 0, fmt.Errorf("--memory %q: unknown unit %q (use MiB, GiB or TiB)", s, t[i:])
	}
	b := v * float64(int64(1)<<sh)
	if b < 1 || b > 1<<62 {
		return 0, fmt.Errorf("--memory %q is out of range", s)
	}
	return int64(b), nil
}

// formatBytes writes a size in the largest binary unit below it.
func formatBytes(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, k := float64(b), 0
	for v >= 1024 && k < len(units)-1 {
		v /= 1024
		k++
	}
	if k == 0 {
		return fmt.Sprintf("%d B", b)
	}
	return fmt.Sprintf("%.3g %s", v, units[k])
}

// memoryItem is one part of what a command holds: its size in bytes, what
// it is, and what lowers it besides raising --memory ("" when nothing does).
type memoryItem struct {
	bytes int64
	what  string
	lower string
}

// spillBudget is the memory a reader or writer that turns rows into columns
// (text input and output, samples as rows, Arrow output) may hold: the
// columnar default, less under a small --memory.
func (cfg inputConfig) spillBudget() int {
	b := int64(columnar.DefaultSpillBudget)
	if cfg.Memory > 0 {
		b = min(b, max(cfg.Memory/8, 1<<20))
	}
	return int(b)
}

// baseMemory is what every command holds for G genes and N samples: the ids,
// the window of columns the workers read (two per worker), per-gene state
// (a few float64 slices), per-sample results, and the spill buffers of
// the input and output.
func (cfg inputConfig) baseMemory(G, N int) []memoryItem {
	workers := int64(cfg.Threads)
	if workers == 0 {
		workers = int64(runtime.NumCPU())
	}
	workers = max(1, min(workers, int64(N)))
	g, n := int64(G), int64(N)
	return []memoryItem{
		{g * 64, "gene ids", ""},
		{n * 96, "sample names and per-sample results", ""},
		{2 * workers * g * 8, fmt.Sprintf("%d column buffers of %d genes", 2*workers, G), "--threads"},
		{8 * g * 8, "per-gene state", ""},
		{2 * int64(cfg.spillBudget()), "spill buffers", ""},
	}
}

// defaultCache is the most a command that reads its input more than once
// keeps of decoded columns when --cache is not given: a 60,000 x 2,000
// matrix of counts whole (about 143 MiB), so that its later passes decode
// nothing, and peak memory stays under 256 MiB with it.
const defaultCache = 192 << 20

// cacheBudget is the decoded-column cache of a command that reads G genes
// x N samples more than once, besides the extra items: --cache when given.
// Otherwise the whole matrix (about 1.25 bytes a count) when it fits within
// defaultCache and the room --memory leaves beside the rest, and none when
// it does not: a cache of part of the columns saves that part of one
// decoding pass for the whole memory (measured on an ARCHS4-size slice of
// 10,000 samples, 128 MiB of cache saved 2% of the CPU and took 133 MB
// more), so that memory then stays flat as samples grow.
func (cfg inputConfig) cacheBudget(G, N int, extra []memoryItem) int64 {
	if cfg.CacheSet {
		return cfg.Cache
	}
	need := int64(G)*int64(N)*5/4 + int64(N)*64
	if need > defaultCache {
		return 0
	}
	if cfg.Memory > 0 {
		room := cfg.Memory
		for _, it := range append(cfg.baseMemory(G, N), extra...) {
			room -= it.bytes
		}
		if room < need {
			return 0
		}
	}
	return need
}

// checkMemory refuses src when the items and the base need more than the
// --memory budget.
func (cfg inputConfig) checkMemory(src columnar.Source, extra ...memoryItem) error {
	G, N := len(src.Genes()), len(src.Samples())
	items := append(cfg.baseMemory(G, N), extra...)
	var total int64
	big := items[0]
	for _, it := range items {
		total += it.bytes
		if it.bytes > big.bytes {
			big = it
		}
	}
	budget := cfg.Memory
	if budget <= 0 || total <= budget {
		return nil
	}
	hint := "raise --memory"
	if big.lower != "" {
		hint += " or lower " + big.lower
	}
	return &columnar.InputError{File: src.Path(), Msg: fmt.Sprintf(
		"%d genes x %d samples need about %s here (the most, %s: %s), more than --memory %s: %s",
		G, N, formatBytes(total), big.what, formatBytes(big.bytes), formatBytes(budget), hint)}
}

// rowStoreMemory is what the DESeq2 fits (VST, rlog, iterate) hold of the
// gene rows: all of them up to 64 MiB, the rest in a file in --temp-dir,
// and their gene-wise state; nsub > 0 adds the rows of that many genes.
func rowStoreMemory(G, N, nsub int) []memoryItem {
	g, n := int64(G), int64(N)
	items := []memoryItem{
		{min(g*n*8, 64<<20), "gene rows held in memory (the rest go to --temp-dir)", ""},
		{16 * g * 8, "gene-wise dispersion state", ""},
	}
	if nsub > 0 {
		items = append(items, memoryItem{int64(min(nsub, G)) * n * 8, fmt.Sprintf("the rows of the --nsub %d genes", nsub), "--nsub"})
	}
	return items
}

// qcMemory is what qc holds beyond the fit: correlations, distances and the
// clustering of up to maxHeatmap samples, and the PCA of the ntop genes.
func qcMemory(G, N, ntop, maxHeatmap int) []memoryItem {
	h := int64(min(N, maxHeatmap))
	t := int64(min(ntop, G))
	return []memoryItem{
		{3 * h * h * 8, fmt.Sprintf("correlation, distance and clustering matrices of %d samples", h), "--max-heatmap"},
		{3 * t * int64(N) * 8, fmt.Sprintf("the PCA of %d genes x %d samples", t, N), "--ntop"},
	}
}
