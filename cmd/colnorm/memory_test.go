package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"4GiB": 4 << 30, "512MiB": 512 << 20, "2g": 2 << 30, "1.5 GiB": 3 << 29, "1000": 1000, "64k": 64 << 10, "1TiB": 1 << 40} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1GiB", "0", "4 parsecs", "1e30TiB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q): no error", in)
		}
	}
	if d := defaultMemory(); d < 64<<20 {
		t.Errorf("defaultMemory() = %d", d)
	}
}

// writeCounts writes a genes x samples TSV of positive counts.
func writeCounts(t *testing.T, path string, genes, samples int) {
	var b strings.Builder
	b.WriteString("gene_id")
	for j := 0; j < samples; j++ {
		b.WriteString("\ts" + strconv.Itoa(j))
	}
	b.WriteString("\n")
	for i := 0; i < genes; i++ {
		b.WriteString("g" + strconv.Itoa(i))
		for j := 0; j < samples; j++ {
			b.WriteString("\t" + strconv.Itoa(1+(i*31+j*17+(i*j)%13)%200))
		}
		b.WriteString("\n")
	}
	must(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

// A matrix that would not fit the --memory budget is refused up front, with
// exit 2, one line that names the file and the option to change, and the
// old output untouched.
func TestMemoryBudgetRefuses(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "genes.tsv")
	writeCounts(t, in, 20000, 4)
	runBad(t, filepath.Join(dir, "out"), []string{"normalize", "--memory", "1MiB", in, "-o", filepath.Join(dir, "out", "n.parquet")},
		badWant{file: in, what: "20000 genes x 4 samples need about"})
	runBad(t, filepath.Join(dir, "out"), []string{"size-factors", "--memory", "1MiB", in, "-o", filepath.Join(dir, "out", "sf.tsv")},
		badWant{file: in, what: "more than --memory 1 MiB: raise --memory"})
	// the same run with room
	if code, _, stderr := colnorm(t, "size-factors", "--memory", "64MiB", in); code != 0 {
		t.Errorf("--memory 64MiB: exit %d %s", code, stderr)
	}

	// qc: the sample x sample matrices dominate, and --max-heatmap lowers them.
	wide := filepath.Join(dir, "samples.tsv")
	writeCounts(t, wide, 60, 1500)
	qcOut := filepath.Join(dir, "qc")
	code, _, stderr := colnorm(t, "qc", "--memory", "10MiB", wide, "-o", qcOut)
	if code != 2 || !strings.Contains(stderr, "correlation, distance and clustering matrices of 500 samples") ||
		!strings.Contains(stderr, "raise --memory or lower --max-heatmap") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("qc --memory 10MiB: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(qcOut); !os.IsNotExist(err) {
		t.Errorf("qc left its output folder")
	}
	code, _, stderr = colnorm(t, "qc", "--memory", "10MiB", "--max-heatmap", "100", wide, "-o", qcOut)
	if strings.Contains(stderr, "--memory") {
		t.Errorf("qc --max-heatmap 100 still refused: exit %d, %q", code, stderr)
	}
	// a bad size is bad usage
	if code, _, stderr := colnorm(t, "normalize", "--memory", "lots", in); code != 2 || !strings.Contains(stderr, `--memory "lots" is not a size`) {
		t.Errorf("--memory lots: exit %d %q", code, stderr)
	}
}
