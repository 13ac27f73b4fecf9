package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/metadata"
	"github.com/colnorm/colnorm/qc"
	htmlreport "github.com/colnorm/colnorm/report"
)

func qcCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "qc",
		Usage:     "sample QC on VST values: PCA, correlations, clustering, outliers, and an HTML report",
		ArgsUsage: "IN",
		Description: "Writes to the folder given with -o:\n" +
			"  pca.tsv           sample, PC1..PC4: DESeq2 plotPCA on the --ntop most variable genes\n" +
			"                    (centred, not scaled)\n" +
			"  pca_variance.tsv  pc, percent_var (a fraction of the total variance)\n" +
			"  sample_cor.tsv    Pearson correlations of the samples' VST values over all genes\n" +
			"  hclust_order.tsv  position, sample: hclust(dist(t(vst)), \"complete\")$order\n" +
			"  outliers.tsv      flagged samples: median correlation below 0.80, or a robust\n" +
			"                    z-score above 5 for the distance from their --group's median\n" +
			"                    in the PC1/PC2 plane (groups of 5 samples or more) that is\n" +
			"                    also more than half way to another group; empty fields were\n" +
			"                    not computed\n" +
			"  size_factors.tsv  sample, lib_size, size_factor\n" +
			"  report.html       all of it as plots, one self-contained file\n\n" +
			"The VST is DESeq2's blind parametric one (transform --method vst; --nsub and\n" +
			"--fit-type as there). Correlations and clustering cost samples² x genes: beyond\n" +
			"--max-heatmap samples they are computed on that many samples evenly spaced in input\n" +
			"order (positions round(seq(1, m, length.out = N))), and the report says so.\n\n" +
			"Examples:\n" +
			"  colnorm qc --meta samples.tsv --group tissue counts.parquet -o qc/   # then open qc/report.html\n" +
			"  colnorm qc --nsub 1000 --max-heatmap 200 gtex.parquet -o qc/         # a large matrix, faster\n" +
			"  colnorm qc --control-prefix ERCC- counts.tsv -o qc/                  # spike-in size factors\n" +
			"  colnorm qc --json counts.tsv -o qc/ > qc-summary.json",
		Flags: append(inputFlags(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output folder (created if missing)", Required: true},
			&cli.StringFlag{Name: "meta", Usage: "sample metadata (TSV/CSV, first column the sample): factors to colour by"},
			&cli.StringFlag{Name: "group", Usage: "metadata column whose groups the PC-space outlier rule uses (default: the first)"},
			&cli.IntFlag{Name: "ntop", Value: 500, Usage: "PCA on this many most variable genes"},
			&cli.IntFlag{Name: "max-heatmap", Value: 500, Usage: "correlations and clustering on at most this many samples"},
			&cli.StringFlag{Name: "fit-type", Value: "parametric", Usage: "VST dispersion trend: parametric or mean"},
			&cli.IntFlag{Name: "nsub", Usage: "VST trend on this many genes as DESeq2's vst() (0: every gene)"},
			&cli.StringFlag{Name: "before", Usage: "the same samples' counts before a correction (e.g. batch-correct's input): the report shows their PCA beside IN's"},
			&cli.StringFlag{Name: "control-prefix", Usage: "size factors from the genes whose id starts with this prefix (spike-ins); the report shows the PCA with all-gene size factors beside"},
			&cli.StringFlag{Name: "control-genes", Usage: "as --control-prefix, with the control gene ids in a file (one a line)"},
			jsonFlag(),
		),
		Action: withJSON(e, false, func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("qc needs one input, got %d arguments", c.NArg())
			}
			in, err := readInputConfig(c, c.Args().First())
			if err != nil {
				return err
			}
			cfg := qcConfig{Input: in, Dir: c.String("output"), Meta: c.String("meta"), Group: c.String("group"),
				NTop: c.Int("ntop"), MaxHeatmap: c.Int("max-heatmap"), FitType: c.String("fit-type"), NSub: c.Int("nsub"),
				Before: c.String("before"), ControlPrefix: c.String("control-prefix"), ControlGenes: c.String("control-genes")}
			return runQC(e, cfg)
		}),
	}
}

type qcConfig struct {
	Input       inputConfig
	Dir         string
	Meta, Group string
	NTop        int
	MaxHeatmap  int
	FitType     string
	NSub        int
	// Before-and-after views: the uncorrected counts, or spike-in control
	// genes (compared with all-gene size factors).
	Before                      string
	ControlPrefix, ControlGenes string
}

func runQC(e *env, cfg qcConfig) error {
	if cfg.NTop < 2 {
		return usagef("--ntop must be at least 2, not %d", cfg.NTop)
	}
	if cfg.MaxHeatmap < 2 {
		return usagef("--max-heatmap must be at least 2, not %d", cfg.MaxHeatmap)
	}
	if cfg.FitType != "parametric" && cfg.FitType != "mean" {
		return usagef("--fit-type must be parametric or mean, not %q", cfg.FitType)
	}
	if cfg.Group != "" && cfg.Meta == "" {
		return usagef("--group needs --meta")
	}
	if cfg.ControlPrefix != "" && cfg.ControlGenes != "" {
		return usagef("give --control-prefix or --control-genes, not both")
	}
	if cfg.Before != "" && (cfg.ControlPrefix != "" || cfg.ControlGenes != "") {
		return usagef("--before and control genes each make a before/after view: give one")
	}
	cfg.Input.Extra = func(G, N int) []memoryItem {
		return append(rowStoreMemory(G, N, cfg.NSub), qcMemory(G, N, cfg.NTop, cfg.MaxHeatmap)...)
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	e.meter.Plan(qcPasses(cfg.Before != "" || cfg.ControlPrefix != "" || cfg.ControlGenes != ""))
	e.noteInput(src)
	samples := src.Samples()
	var factors []htmlreport.Factor
	var groups []string
	if cfg.Meta != "" {
		meta, err := metadata.Read(cfg.Meta)
		if err != nil {
			return err
		}
		for _, name := range meta.Columns {
			levels, err := meta.Factor(name, samples)
			if err != nil {
				return err
			}
			factors = append(factors, htmlreport.Factor{Name: name, Levels: levels})
			if name == cfg.Group || (cfg.Group == "" && groups == nil) {
				groups = levels
			}
		}
		if cfg.Group != "" && groups == nil {
			return &columnar.InputError{File: cfg.Meta, Msg: fmt.Sprintf("no column %q for --group (columns: %v)", cfg.Group, meta.Columns)}
		}
	}
	var controls []bool
	if cfg.ControlPrefix != "" || cfg.ControlGenes != "" {
		if controls, err = controlMask(src, cfg.ControlPrefix, cfg.ControlGenes); err != nil {
			return err
		}
	}
	model, err := fitVSTWith(e, cfg.Input, src, deseq2.FitType(cfg.FitType), cfg.NSub, controls)
	if err != nil {
		return err
	}
	e.noteVST(model)
	scanOpts := qc.ScanOptions{NTop: cfg.NTop, MaxHeatmap: cfg.MaxHeatmap, TempDir: cfg.Input.TempDir, Pass: cfg.Input.pass(e, "qc")}
	res, err := qc.Scan(e.ctx, src, model, scanOpts)
	if err != nil {
		return err
	}
	before, err := qcBefore(e, cfg, src, scanOpts, controls != nil)
	if err != nil {
		return err
	}
	res.Outliers = qc.FlagOutliers(res, groups)
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", cfg.Dir, err)
	}
	if err := writeQCTables(e, cfg.Dir, samples, model, res); err != nil {
		return err
	}
	d := qcReportData(src, model, res, factors)
	d.Before = before
	return writeReport(filepath.Join(cfg.Dir, "report.html"), d)
}

// qcBefore computes the PCA of the before view: the --before counts, or
// the input with all-gene size factors when the VST used spike-ins. nil
// when there is no such view.
func qcBefore(e *env, cfg qcConfig, src columnar.Source, opts qc.ScanOptions, spikeIns bool) (*htmlreport.Comparison, error) {
	opts.PCAOnly = true
	label := "counts with size factors from all genes"
	other := src
	switch {
	case cfg.Before != "":
		in := cfg.Input
		in.Path = cfg.Before
		var err error
		if other, err = in.open(); err != nil {
			return nil, err
		}
		defer other.Close()
		if !slices.Equal(other.Samples(), src.Samples()) {
			return nil, &columnar.InputError{File: cfg.Before, Msg: "--before must hold the same samples as " + src.Path() + ", in the same order"}
		}
		label = "counts before correction (" + filepath.Base(cfg.Before) + ")"
	case !spikeIns:
		return nil, nil
	}
	model, err := fitVST(e, cfg.Input, other, deseq2.FitType(cfg.FitType), cfg.NSub)
	if err != nil {
		return nil, err
	}
	res, err := qc.Scan(e.ctx, other, model, opts)
	if err != nil {
		return nil, err
	}
	return &htmlreport.Comparison{Label: label, PCA: htmlreport.PCA{Scores: res.PCA.Scores, VarFrac: res.PCA.VarFrac, NTop: res.NTop}}, nil
}

// writeQCTables writes the TSVs of CONTRACT.md and the outliers and size factors.
func writeQCTables(e *env, dir string, samples []string, model *deseq2.VSTModel, res *qc.Result) error {
	k := len(res.PCA.VarFrac)
	header := []string{"sample"}
	for c := 0; c < k; c++ {
		header = append(header, "PC"+strconv.Itoa(c+1))
	}
	var rows [][]string
	for j, s := range samples {
		r := []string{s}
		for c := 0; c < k; c++ {
			r = append(r, formatFloat(res.PCA.Scores[j][c]))
		}
		rows = append(rows, r)
	}
	if err := writeTable(e, filepath.Join(dir, "pca.tsv"), header, rows); err != nil {
		return err
	}
	rows = nil
	for c, v := range res.PCA.VarFrac {
		rows = append(rows, []string{"PC" + strconv.Itoa(c+1), formatFloat(v)})
	}
	if err := writeTable(e, filepath.Join(dir, "pca_variance.tsv"), []string{"pc", "percent_var"}, rows); err != nil {
		return err
	}
	header, rows = []string{"sample"}, nil
	for _, a := range res.Heatmap {
		header = append(header, samples[a])
	}
	for x, a := range res.Heatmap {
		r := []string{samples[a]}
		for y := range res.Heatmap {
			r = append(r, formatFloat(res.Cor[x][y]))
		}
		rows = append(rows, r)
	}
	if err := writeTable(e, filepath.Join(dir, "sample_cor.tsv"), header, rows); err != nil {
		return err
	}
	rows = nil
	for p, o := range res.Order {
		rows = append(rows, []string{strconv.Itoa(p + 1), samples[res.Heatmap[o-1]]})
	}
	if err := writeTable(e, filepath.Join(dir, "hclust_order.tsv"), []string{"position", "sample"}, rows); err != nil {
		return err
	}
	rows = nil
	for _, o := range res.Outliers {
		reasons := ""
		for i, r := range o.Reasons {
			if i > 0 {
				reasons += "; "
			}
			reasons += r
		}
		rows = append(rows, []string{samples[o.Sample], formatOrEmpty(o.MedianCor), formatOrEmpty(o.PCDistance), reasons})
	}
	if err := writeTable(e, filepath.Join(dir, "outliers.tsv"), []string{"sample", "median_cor", "pc_distance", "reason"}, rows); err != nil {
		return err
	}
	return writeDESeq2Factors(e, filepath.Join(dir, "size_factors.tsv"), model.Factors)
}

// formatOrEmpty is formatFloat, or an empty field for a value that was not
// computed (NaN): a sample outside the heatmap subsample has no median
// correlation, one in a group of fewer than 5 no PC distance.
func formatOrEmpty(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return formatFloat(v)
}

// writeReport writes the HTML report atomically.
func writeReport(path string, d *htmlreport.Data) error {
	f, err := columnar.CreateAtomic(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := htmlreport.Write(f, d); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// qcReportData gathers what the report shows.
func qcReportData(src columnar.Source, model *deseq2.VSTModel, res *qc.Result, factors []htmlreport.Factor) *htmlreport.Data {
	d := &htmlreport.Data{
		Title:      "colnorm sample QC",
		Input:      src.Path(),
		Samples:    src.Samples(),
		Genes:      len(src.Genes()),
		Factors:    factors,
		LibSize:    model.Factors.LibSize,
		SizeFactor: model.Factors.SizeFactor,
		PCA:        htmlreport.PCA{Scores: res.PCA.Scores, VarFrac: res.PCA.VarFrac, NTop: res.NTop},
	}
	t := model.Trend
	switch t.Type {
	case deseq2.Parametric:
		d.Method = fmt.Sprintf("DESeq2 blind VST, parametric trend α(μ) = %.4g + %.4g/μ fitted on %d genes", t.A0, t.A1, t.Genes)
	default:
		d.Method = fmt.Sprintf("DESeq2 blind VST, mean trend α = %.4g from %d genes", t.MeanDisp, t.Genes)
	}
	if model.Factors.Method != deseq2.Ratio {
		d.Notes = append(d.Notes, "Every gene has a zero, so ratio size factors do not exist: poscounts size factors were used.")
	}
	if t.Fallback != "" {
		d.Notes = append(d.Notes, "The parametric dispersion trend failed ("+t.Fallback+"); DESeq2 would switch to a local fit, colnorm used the mean trend.")
	}
	if model.Subset != nil {
		d.Notes = append(d.Notes, fmt.Sprintf("The dispersion trend was fitted on %d genes chosen as DESeq2's vst() chooses them.", len(model.Subset)))
	}
	if len(res.Heatmap) < len(d.Samples) {
		d.Notes = append(d.Notes, fmt.Sprintf("Correlations and clustering use %d of the %d samples, evenly spaced in input order.", len(res.Heatmap), len(d.Samples)))
	}
	d.Heatmap = &htmlreport.Heatmap{Samples: res.Heatmap, Cor: res.Cor, Merge: res.Merge, Height: res.Height, Order: res.Order}
	for j := range d.Samples {
		d.BoxBefore = append(d.BoxBefore, htmlreport.Box(res.BoxBefore[j]))
		d.BoxAfter = append(d.BoxAfter, htmlreport.Box(res.BoxAfter[j]))
	}
	for _, c := range res.Curves {
		d.LogRatios = append(d.LogRatios, htmlreport.RatioCurve{Sample: c.Sample, Quantiles: c.Quantiles, Median: c.Median, N: c.N})
	}
	for _, o := range res.Outliers {
		d.Outliers = append(d.Outliers, htmlreport.Outlier{Sample: o.Sample, MedianCor: o.MedianCor, PCDistance: o.PCDistance, Reasons: o.Reasons})
	}
	return d
}
