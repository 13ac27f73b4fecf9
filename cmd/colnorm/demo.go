package main

import (
	"embed"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/pass"
)

//go:embed demodata
var demoData embed.FS

// demoTolerance is CONTRACT.md's tolerance for size factors and normalized values.
const demoTolerance = 1e-9

func demoCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole pipeline on a real dataset embedded in the binary, and check it against DESeq2",
		Description: "Marioni et al. 2008 (kidney vs liver, 5,088 genes x 10 lanes): size factors, normalized\n" +
			"counts, log2 values and Parquet copies are written to the output folder, and the numbers are\n" +
			"compared with DESeq2 1.38.3's own outputs, embedded too. Exit status 1 if any differs by more than 1e-9.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "colnorm-demo", Usage: "folder for the outputs"},
			&cli.IntFlag{Name: "threads", Usage: "worker threads (default: one per core)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("demo takes no arguments (the data is built in); use -o DIR for the output folder")
			}
			return runDemo(e, c.String("output"), c.Int("threads"))
		},
	}
}

func runDemo(e *env, dir string, threads int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"marioni_counts.tsv.gz", "marioni_meta.tsv"} {
		b, err := demoData.ReadFile("demodata/" + name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	counts := filepath.Join(dir, "marioni_counts.tsv.gz")
	in := inputConfig{Path: counts, Threads: threads, Quiet: true}
	src, err := in.open()
	if err != nil {
		return err
	}
	defer src.Close()
	w := e.stdout
	fmt.Fprintf(w, "colnorm demo: Marioni et al. 2008, kidney vs liver, %d genes x %d lanes (embedded in the binary)\n",
		len(src.Genes()), len(src.Samples()))
	fmt.Fprintf(w, "outputs in %s/\n\n", dir)

	popts := in.pass(e, "demo")
	ratio, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: deseq2.Ratio, Pass: popts})
	if err != nil {
		return err
	}
	pos, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: deseq2.PosCounts, Pass: popts})
	if err != nil {
		return err
	}
	ref, err := demoReference()
	if err != nil {
		return err
	}
	worst := 0.0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sample\tlib_size\tratio\tDESeq2 ratio\tposcounts\tDESeq2 poscounts\t")
	rows := make([][]string, len(ratio.Samples))
	for j, s := range ratio.Samples {
		r, ok := ref[s]
		if !ok {
			return fmt.Errorf("demo: no DESeq2 reference for sample %s", s)
		}
		worst = math.Max(worst, math.Max(relDiff(ratio.SizeFactor[j], r[1]), relDiff(pos.SizeFactor[j], r[2])))
		fmt.Fprintf(tw, "%s\t%.0f\t%.6f\t%.6f\t%.6f\t%.6f\t\n", s, ratio.LibSize[j], ratio.SizeFactor[j], r[1], pos.SizeFactor[j], r[2])
		rows[j] = []string{s, formatFloat(ratio.LibSize[j]), formatFloat(ratio.SizeFactor[j]), formatFloat(pos.SizeFactor[j])}
	}
	tw.Flush()
	fmt.Fprintf(w, "size factors: largest relative difference from DESeq2 %.2g (tolerance %g)\n", worst, demoTolerance)
	if err := writeTable(e, filepath.Join(dir, "size_factors.tsv"), []string{"sample", "lib_size", "ratio", "poscounts"}, rows); err != nil {
		return err
	}

	// Normalized counts and log2 values, as TSV and Parquet.
	out := func(name string) outputConfig {
		return outputConfig{Path: filepath.Join(dir, name), Layout: columnar.LayoutWide}
	}
	for _, name := range []string{"normalized_ratio.tsv", "normalized_ratio.parquet"} {
		if err := writeScaled(e, in, out(name), src, ratio.SizeFactor, false, "normalize"); err != nil {
			return err
		}
	}
	normWorst, err := compareWithDESeq2Normalized(e, filepath.Join(dir, "normalized_ratio.parquet"), popts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "normalized counts (read back from Parquet): largest relative difference from DESeq2 %.2g\n", normWorst)
	if err := writeScaled(e, in, out("log2_normalized.parquet"), src, ratio.SizeFactor, true, "transform"); err != nil {
		return err
	}

	// The same size factors from the counts as wide and long Parquet.
	same := true
	for _, layout := range []string{columnar.LayoutWide, columnar.LayoutLong} {
		pq := filepath.Join(dir, "counts_"+layout+".parquet")
		if err := writeMatrix(e, in, outputConfig{Path: pq, Layout: layout}, src, src.Integer(), pass.Options{Threads: threads}, nil); err != nil {
			return err
		}
		psrc, err := columnar.Open(pq, columnar.Options{})
		if err != nil {
			return err
		}
		pf, err := deseq2.SizeFactors(e.ctx, psrc, deseq2.Options{Method: deseq2.Ratio, Pass: popts})
		psrc.Close()
		if err != nil {
			return err
		}
		for j := range pf.SizeFactor {
			same = same && pf.SizeFactor[j] == ratio.SizeFactor[j]
		}
	}
	fmt.Fprintf(w, "size factors from wide and long Parquet copies: bit-identical to the TSV's: %v\n\n", same)
	fmt.Fprintln(w, "wrote: size_factors.tsv, normalized_ratio.tsv, normalized_ratio.parquet, log2_normalized.parquet,")
	fmt.Fprintln(w, "       counts_wide.parquet, counts_long.parquet")
	fmt.Fprintf(w, "try:   duckdb -c \"SELECT * FROM '%s' LIMIT 5\"\n", filepath.Join(dir, "normalized_ratio.parquet"))
	if worst > demoTolerance || normWorst > demoTolerance || !same {
		return fmt.Errorf("demo: results differ from DESeq2 beyond the tolerance %g", demoTolerance)
	}
	return nil
}

// demoReference reads DESeq2's size factors: sample -> (lib_size, ratio, poscounts).
func demoReference() (map[string][3]float64, error) {
	b, err := demoData.ReadFile("demodata/marioni_deseq2_size_factors.tsv")
	if err != nil {
		return nil, err
	}
	ref := map[string][3]float64{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 {
			if strings.Join(f, " ") != "sample lib_size ratio poscounts" {
				return nil, fmt.Errorf("demo: unexpected reference header %q", line)
			}
			continue
		}
		var v [3]float64
		for k := range v {
			if v[k], err = strconv.ParseFloat(f[k+1], 64); err != nil {
				return nil, err
			}
		}
		ref[f[0]] = v
	}
	return ref, nil
}

// compareWithDESeq2Normalized reads a normalized matrix and returns its
// largest relative difference from DESeq2's (values where DESeq2 has 0 must be 0).
func compareWithDESeq2Normalized(e *env, path string, opts pass.Options) (float64, error) {
	tmp, err := os.CreateTemp("", "colnorm-demo-ref-*.tsv.gz")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	b, _ := demoData.ReadFile("demodata/marioni_deseq2_normalized.tsv.gz")
	if _, err := io.Copy(tmp, strings.NewReader(string(b))); err != nil {
		return 0, err
	}
	tmp.Close()
	want, err := columnar.Open(tmp.Name(), columnar.Options{})
	if err != nil {
		return 0, err
	}
	defer want.Close()
	got, err := columnar.Open(path, columnar.Options{})
	if err != nil {
		return 0, err
	}
	defer got.Close()
	G := len(want.Genes())
	if len(got.Genes()) != G || len(got.Samples()) != len(want.Samples()) {
		return 0, fmt.Errorf("demo: %s has a different shape from DESeq2's output", path)
	}
	g, r := make([]float64, G), make([]float64, G)
	worst := 0.0
	for j := range want.Samples() {
		if err := got.ReadColumn(j, g); err != nil {
			return 0, err
		}
		if err := want.ReadColumn(j, r); err != nil {
			return 0, err
		}
		for i := range g {
			worst = math.Max(worst, relDiff(g[i], r[i]))
		}
	}
	return worst, nil
}

// relDiff is |a-b|/|b|, 0 when a == b.
func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Abs(b)
}
