package main

import (
	"bytes"
	"compress/gzip"
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
	"github.com/colnorm/colnorm/edger"
	"github.com/colnorm/colnorm/pass"
)

//go:embed demodata
var demoData embed.FS

// demoTolerance is CONTRACT.md's tolerance for size factors and normalized values.
const demoTolerance = 1e-9

func demoCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole pipeline on a real dataset embedded in the binary, and check it against DESeq2 and edgeR",
		Description: "Marioni et al. 2008 (kidney vs liver, 5,088 genes x 10 lanes): DESeq2 and edgeR size factors,\n" +
			"normalized counts, log2 values, CPM, log-CPM, TPM, filterByExpr and Parquet copies are written to the\n" +
			"output folder, and the numbers are compared with DESeq2 1.38.3's and edgeR 3.40.2's own outputs,\n" +
			"embedded too. Exit status 1 if any differs by more than 1e-9.\n\n" +
			"Examples:\n" +
			"  colnorm demo                     # writes ./colnorm-demo/, then open colnorm-demo/qc/report.html\n" +
			"  colnorm demo -o /tmp/demo --threads 1",
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
	for _, name := range []string{"marioni_counts.tsv.gz", "marioni_meta.tsv", "marioni_lengths.tsv.gz"} {
		b, err := demoData.ReadFile("demodata/" + name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	in := inputConfig{Path: path("marioni_counts.tsv.gz"), Threads: threads, Quiet: true}
	src, err := in.open()
	if err != nil {
		return err
	}
	defer src.Close()
	w := e.stdout
	fmt.Fprintf(w, "colnorm demo: Marioni et al. 2008, kidney vs liver, %d genes x %d lanes (embedded in the binary)\n",
		len(src.Genes()), len(src.Samples()))
	fmt.Fprintf(w, "outputs in %s/\n\n", dir)
	ref, err := demoReference()
	if err != nil {
		return err
	}
	popts := in.pass(e, "demo")
	checks := &demoChecks{}

	// Size factors: DESeq2's two and edgeR's four, each against R.
	factors := map[string][]float64{}
	for _, m := range []deseq2.Method{deseq2.Ratio, deseq2.PosCounts} {
		f, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: m, Pass: popts})
		if err != nil {
			return err
		}
		factors[string(m)] = f.SizeFactor
	}
	var tmm *edger.Factors
	for _, m := range []edger.Method{edger.TMM, edger.TMMwsp, edger.RLE, edger.UpperQuartile} {
		f, err := edger.NormFactors(e.ctx, src, edger.Options{Method: m, Pass: popts})
		if err != nil {
			return err
		}
		factors[string(m)] = f.NormFactor
		if m == edger.TMM {
			tmm = f
		}
	}
	columns := []string{"ratio", "poscounts", "tmm", "tmmwsp", "rle", "upperquartile"}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sample\tlib_size\tratio\tposcounts\ttmm\ttmmwsp\trle\tupperquartile\t")
	rows := make([][]string, len(src.Samples()))
	for j, s := range src.Samples() {
		fmt.Fprintf(tw, "%s\t%.0f", s, tmm.LibSize[j])
		rows[j] = []string{s, formatFloat(tmm.LibSize[j])}
		for _, c := range columns {
			fmt.Fprintf(tw, "\t%.4f", factors[c][j])
			rows[j] = append(rows[j], formatFloat(factors[c][j]))
		}
		fmt.Fprintln(tw, "\t")
	}
	tw.Flush()
	fmt.Fprintln(w, "(ratio, poscounts: DESeq2 size factors; the others: edgeR norm factors)")
	fmt.Fprintln(w)
	for _, c := range columns {
		worst := 0.0
		for j, s := range src.Samples() {
			worst = math.Max(worst, relDiff(factors[c][j], ref[s][c]))
		}
		who := "edgeR calcNormFactors"
		if c == "ratio" || c == "poscounts" {
			who = "DESeq2 estimateSizeFactors"
		}
		checks.add(fmt.Sprintf("%-14s vs %s", c, who), worst)
	}
	if err := writeTable(e, path("size_factors.tsv"), append([]string{"sample", "lib_size"}, columns...), rows); err != nil {
		return err
	}

	// Normalized matrices, as Parquet (and one TSV).
	wide := func(name string) outputConfig { return outputConfig{Path: path(name), Layout: columnar.LayoutWide} }
	for _, name := range []string{"normalized_ratio.tsv", "normalized_ratio.parquet"} {
		if err := writeScaled(e, in, wide(name), src, factors["ratio"], false, "normalize"); err != nil {
			return err
		}
	}
	normWorst, err := compareWithEmbedded(path("normalized_ratio.parquet"), "marioni_deseq2_normalized.tsv.gz")
	if err != nil {
		return err
	}
	checks.add("normalized counts (read back from Parquet) vs DESeq2", normWorst)
	if err := writeScaled(e, in, wide("log2_normalized.parquet"), src, factors["ratio"], true, "transform"); err != nil {
		return err
	}
	lengthsPath := path("marioni_lengths.tsv.gz")
	for _, c := range []normalizeConfig{
		{Method: "tmm", Output: wide("cpm_tmm.parquet")},
		{Method: "tmm", Log: true, Output: wide("logcpm_tmm.parquet")},
		{Method: "tpm", Lengths: lengthsPath, Output: wide("tpm.parquet")},
	} {
		c.Input, c.PriorCount, c.EdgeR = in, edger.DefaultPriorCount, defaultEdgerConfig
		if err := runNormalize(e, c); err != nil {
			return err
		}
	}

	// filterByExpr by tissue, against edgeR's genes.
	fcfg := filterConfig{Input: in, Output: wide("filtered_counts.parquet"), ByExpr: true,
		Meta: path("marioni_meta.tsv"), Group: "tissue"}
	if err := runFilter(e, fcfg); err != nil {
		return err
	}
	same, kept, err := compareFilter(path("filtered_counts.parquet"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "filterByExpr (group = tissue) keeps %d of %d genes; the same genes as edgeR: %v\n", kept, len(src.Genes()), same)

	// DESeq2's blind VST, and the sample QC report on it.
	model, err := fitVST(e, in, src, deseq2.Parametric, 0)
	if err != nil {
		return err
	}
	if err := writeOutput(e, in, wide("vst.parquet"), src.Genes(), src.Samples(), false, func(sink columnar.Sink) error {
		return deseq2.WriteVST(e.ctx, src, model, sink, popts)
	}); err != nil {
		return err
	}
	vstWorst, err := compareWithEmbedded(path("vst.parquet"), "marioni_deseq2_vst.tsv.gz")
	if err != nil {
		return err
	}
	checks.add("VST (read back from Parquet) vs DESeq2 blind VST", vstWorst)
	qcDir := path("qc")
	if err := runQC(e, qcConfig{Input: in, Dir: qcDir, Meta: path("marioni_meta.tsv"), Group: "tissue",
		NTop: 500, MaxHeatmap: 500, FitType: "parametric"}); err != nil {
		return err
	}
	sameOrder, err := compareHClustOrder(filepath.Join(qcDir, "hclust_order.tsv"))
	if err != nil {
		return err
	}
	pcs, err := os.ReadFile(filepath.Join(qcDir, "pca_variance.tsv"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "VST trend: α(μ) = %.4g + %.4g/μ; PCA of the 500 most variable genes: PC1 explains %s of the variance\n",
		model.Trend.A0, model.Trend.A1, pcPercent(string(pcs)))
	fmt.Fprintf(w, "sample clustering order the same as R's hclust: %v; report: %s\n",
		sameOrder, filepath.Join(qcDir, "report.html"))

	// The same size factors from Parquet copies of the counts.
	identical := true
	for _, layout := range []string{columnar.LayoutWide, columnar.LayoutLong} {
		pq := path("counts_" + layout + ".parquet")
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
			identical = identical && pf.SizeFactor[j] == factors["ratio"][j]
		}
	}
	fmt.Fprintf(w, "size factors from wide and long Parquet copies are bit-identical to the TSV's: %v\n\n", identical)
	checks.print(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "wrote: size_factors.tsv, normalized_ratio.{tsv,parquet}, log2_normalized.parquet, cpm_tmm.parquet,")
	fmt.Fprintln(w, "       logcpm_tmm.parquet, tpm.parquet, filtered_counts.parquet, vst.parquet, counts_wide.parquet,")
	fmt.Fprintln(w, "       counts_long.parquet, qc/ (pca.tsv, sample_cor.tsv, hclust_order.tsv, outliers.tsv, report.html)")
	fmt.Fprintf(w, "try:   duckdb -c \"SELECT * FROM '%s' LIMIT 5\"\n", path("normalized_ratio.parquet"))
	if checks.failed() || !same || !identical || !sameOrder {
		return fmt.Errorf("demo: results differ from DESeq2/edgeR beyond the tolerance %g", demoTolerance)
	}
	return nil
}

// demoChecks records how far each result is from R's.
type demoChecks struct {
	names []string
	worst []float64
}

func (d *demoChecks) add(name string, worst float64) {
	d.names = append(d.names, name)
	d.worst = append(d.worst, worst)
}

func (d *demoChecks) failed() bool {
	for _, v := range d.worst {
		if !(v <= demoTolerance) {
			return true
		}
	}
	return false
}

func (d *demoChecks) print(w io.Writer) {
	fmt.Fprintf(w, "largest relative difference from R (tolerance %g):\n", demoTolerance)
	for i, n := range d.names {
		verdict := "ok"
		if !(d.worst[i] <= demoTolerance) {
			verdict = "DIFFERS"
		}
		fmt.Fprintf(w, "  %-56s %8.2g  %s\n", n, d.worst[i], verdict)
	}
}

// demoReference reads R's factors: sample -> column -> value.
func demoReference() (map[string]map[string]float64, error) {
	b, err := demoData.ReadFile("demodata/marioni_reference_factors.tsv")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header := strings.Split(lines[0], "\t")
	ref := map[string]map[string]float64{}
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		row := map[string]float64{}
		for k := 1; k < len(header); k++ {
			if row[header[k]], err = strconv.ParseFloat(f[k], 64); err != nil {
				return nil, err
			}
		}
		ref[f[0]] = row
	}
	return ref, nil
}

// compareFilter reports whether the filtered file holds exactly edgeR's genes.
func compareFilter(path string) (same bool, kept int, err error) {
	b, err := demoData.ReadFile("demodata/marioni_edger_filter_by_expr.tsv.gz")
	if err != nil {
		return false, 0, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return false, 0, err
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		return false, 0, err
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n")[1:] {
		f := strings.Split(line, "\t")
		if f[1] == "true" {
			want = append(want, f[0])
		}
	}
	src, err := columnar.Open(path, columnar.Options{})
	if err != nil {
		return false, 0, err
	}
	defer src.Close()
	return strings.Join(src.Genes(), ",") == strings.Join(want, ","), len(src.Genes()), nil
}

// compareWithDESeq2Normalized reads a normalized matrix and returns its
// largest relative difference from DESeq2's (values where DESeq2 has 0 must be 0).
func compareWithEmbedded(path, name string) (float64, error) {
	tmp, err := os.CreateTemp("", "colnorm-demo-ref-*.tsv.gz")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	b, _ := demoData.ReadFile("demodata/" + name)
	if _, err := tmp.Write(b); err != nil {
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
		return 0, fmt.Errorf("demo: %s has a different shape from DESeq2's output %s", path, name)
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

// compareHClustOrder reports whether the clustering order written to path is
// R's hclust order for the demo data.
func compareHClustOrder(path string) (bool, error) {
	got, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	b, _ := demoData.ReadFile("demodata/marioni_hclust_order.tsv.gz")
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return false, err
	}
	want, err := io.ReadAll(zr)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(got)) == strings.TrimSpace(string(want)), nil
}

// pcPercent is PC1's percent_var from pca_variance.tsv, as a percentage.
func pcPercent(table string) string {
	lines := strings.Split(table, "\n")
	if len(lines) < 2 {
		return "?"
	}
	f := strings.Split(lines[1], "\t")
	v, err := strconv.ParseFloat(f[len(f)-1], 64)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}
