package main

import (
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
	"github.com/colnorm/colnorm/genelength"
)

func normalizeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:         "normalize",
		Usage:        "write the normalized matrix",
		ArgsUsage:    "IN",
		BashComplete: completeMethods("ratio", "poscounts", "tmm", "tmmwsp", "rle", "upperquartile", "cpm", "tpm", "rpkm", "fpkm", "total"),
		Description: "Methods:\n" +
			"  ratio, poscounts                 DESeq2 counts(dds, normalized=TRUE): count / size factor\n" +
			"  tmm, tmmwsp, rle, upperquartile  edgeR cpm(y) with calcNormFactors(method)\n" +
			"  cpm                              count / column sum x 1e6 (edgeR cpm of the matrix)\n" +
			"  tpm                              (count/length) / column sum of that x 1e6\n" +
			"  rpkm, fpkm                       edgeR rpkm(): CPM / (length / 1000)\n" +
			"  total                            scanpy normalize_total: count / (column sum / target), target --target-sum\n" +
			"                                   or the median of the non-zero column sums; --log1p adds scanpy's log1p (ln(1 + x))\n" +
			"--log: for CPM-type methods (tmm..., cpm, rpkm) edgeR's log-CPM with --prior-count; otherwise log2(x + 1).\n" +
			"Gene lengths come from --lengths, --gtf (union of each gene's exons) or a featureCounts Length column.\n\n" +
			"Examples:\n" +
			"  colnorm normalize counts.tsv -o normalized.parquet                      # DESeq2 normalized counts\n" +
			"  colnorm normalize --method tmm --log counts.tsv -o logcpm.tsv           # edgeR log-CPM\n" +
			"  colnorm normalize --method tpm featureCounts.txt -o tpm.parquet         # lengths from featureCounts\n" +
			"  colnorm normalize --layout long --json counts.tsv -o long.parquet       # gene_id, sample, value; JSON summary",
		Flags: append(append(append(append(inputFlags(), outputFlags()...), edgerFlags()...), shardFlags()...),
			&cli.StringFlag{Name: "method", Aliases: []string{"m"}, Value: "ratio", Usage: "ratio, poscounts, tmm, tmmwsp, rle, upperquartile, cpm, tpm, rpkm, fpkm or total"},
			&cli.BoolFlag{Name: "log", Usage: "write log2 values (edgeR log-CPM for CPM-type methods, log2(x + 1) otherwise)"},
			&cli.Float64Flag{Name: "target-sum", Usage: "total: every column's sum after normalization (scanpy target_sum; default: the median of the non-zero column sums)"},
			&cli.BoolFlag{Name: "log1p", Usage: "total: write ln(1 + x), scanpy's log1p"},
			&cli.Float64Flag{Name: "prior-count", Value: edger.DefaultPriorCount, Usage: "log-CPM: the prior count, scaled to each library"},
			&cli.StringFlag{Name: "lengths", Usage: "gene lengths for tpm/rpkm: TSV/CSV of gene id and length in bases"},
			&cli.StringFlag{Name: "gtf", Usage: "gene lengths for tpm/rpkm from a GTF: the union of each gene's exons"},
			&cli.StringFlag{Name: "control-prefix", Usage: "ratio, poscounts: size factors from the genes whose id starts with this prefix only (e.g. ERCC- spike-ins)"},
			&cli.StringFlag{Name: "control-genes", Usage: "ratio, poscounts: size factors from the gene ids in this file (one a line) only"},
			&cli.BoolFlag{Name: "drop-controls", Usage: "leave the control genes out of the output"},
			jsonFlag(),
		),
		Action: withJSON(e, true, func(c *cli.Context) error {
			if sharded(c) {
				return runShardFactors(e, c, "normalize")
			}
			in, out, err := matrixIO(c)
			if err != nil {
				return err
			}
			ecfg, err := readEdgerConfig(c)
			if err != nil {
				return err
			}
			cfg := normalizeConfig{Input: in, Output: out, Method: c.String("method"), Log: c.Bool("log"),
				PriorCount: c.Float64("prior-count"), Lengths: c.String("lengths"), GTF: c.String("gtf"), EdgeR: ecfg,
				TargetSumSet: c.IsSet("target-sum"), TargetSum: c.Float64("target-sum"), Log1p: c.Bool("log1p"),
				ControlPrefix: c.String("control-prefix"), ControlGenes: c.String("control-genes"), DropControls: c.Bool("drop-controls")}
			return runNormalize(e, cfg)
		}),
	}
}

type normalizeConfig struct {
	Input      inputConfig
	Output     outputConfig
	Method     string
	Log        bool
	PriorCount float64
	Lengths    string
	GTF        string
	EdgeR      edgerConfig
	// scanpy's normalize_total (--method total)
	TargetSumSet bool
	TargetSum    float64
	Log1p        bool
	// DESeq2 control genes (spike-ins): the size factors' median is taken
	// over them only; DropControls leaves them out of the output.
	ControlPrefix, ControlGenes string
	DropControls                bool
}

func runNormalize(e *env, cfg normalizeConfig) error {
	if cfg.Method == "total" {
		return runNormalizeTotal(e, cfg)
	}
	if cfg.Log1p || cfg.TargetSumSet {
		return usagef("--log1p and --target-sum apply to --method total (scanpy normalize_total) only")
	}
	if cfg.PriorCount < 0 {
		return usagef("--prior-count must not be negative")
	}
	useControls := cfg.ControlPrefix != "" || cfg.ControlGenes != ""
	if cfg.ControlPrefix != "" && cfg.ControlGenes != "" {
		return usagef("give --control-prefix or --control-genes, not both")
	}
	if useControls && methodFamily(cfg.Method) != familyDESeq2 {
		return usagef("control genes apply to DESeq2's ratio and poscounts methods, not %s", cfg.Method)
	}
	if cfg.DropControls && !useControls {
		return usagef("--drop-controls needs --control-prefix or --control-genes")
	}
	needLengths := cfg.Method == "tpm" || cfg.Method == "rpkm" || cfg.Method == "fpkm"
	if methodFamily(cfg.Method) == "" && cfg.Method != "cpm" && !needLengths {
		return usagef("unknown method %q: use ratio, poscounts, tmm, tmmwsp, rle, upperquartile, cpm, tpm, rpkm, fpkm or total", cfg.Method)
	}
	if (cfg.Lengths != "" || cfg.GTF != "") && !needLengths {
		return usagef("--lengths and --gtf apply to tpm, rpkm and fpkm only")
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	var lengths []float64
	if needLengths {
		if lengths, err = geneLengths(src, cfg.Lengths, cfg.GTF); err != nil {
			return err
		}
	}
	var controls []bool
	if useControls {
		if controls, err = controlMask(src, cfg.ControlPrefix, cfg.ControlGenes); err != nil {
			return err
		}
	}
	genes, keep := src.Genes(), []int(nil)
	if cfg.DropControls {
		genes = nil
		for i, g := range src.Genes() {
			if !controls[i] {
				genes = append(genes, g)
				keep = append(keep, i)
			}
		}
		if len(genes) == 0 {
			return &columnar.InputError{File: src.Path(), Msg: "every gene is a control gene: --drop-controls would leave nothing"}
		}
	}
	popts, sfOpts := cfg.Input.pass(e, "normalize"), cfg.Input.pass(e, "size factors")
	e.meter.Plan(normalizePasses(cfg.Method, cfg.EdgeR.RefSample != ""))
	e.noteInput(src)
	cfg.Output.setMethod(cfg.Method)
	return writeOutput(e, cfg.Input, cfg.Output, genes, src.Samples(), false, func(sink columnar.Sink) error {
		if keep != nil {
			sink = &rowSubsetSink{Sink: sink, keep: keep, buf: make([]float64, len(keep))}
		}
		switch {
		case methodFamily(cfg.Method) == familyDESeq2:
			f, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: deseq2.Method(cfg.Method), Controls: controls, Pass: sfOpts})
			if err != nil {
				return err
			}
			e.noteDESeq2(f)
			cfg.Output.setFactors(metaSizeFactors, src.Samples(), f.SizeFactor)
			return deseq2.Normalize(e.ctx, src, f.SizeFactor, logScaled(cfg.Log), sink, popts)
		case methodFamily(cfg.Method) == familyEdgeR:
			o, err := cfg.EdgeR.options(src, cfg.Method)
			if err != nil {
				return err
			}
			o.Pass = sfOpts
			f, err := edger.NormFactors(e.ctx, src, o)
			if err != nil {
				return err
			}
			e.noteEdgeR(f, cfg.Method)
			cfg.Output.setFactors(metaSizeFactors, src.Samples(), f.SizeFactor)
			cfg.Output.setFactors(metaNormFactors, src.Samples(), f.NormFactor)
			return edger.CPM(e.ctx, src, f.EffectiveLibSize(), cfg.Log, cfg.PriorCount, sink, popts)
		case cfg.Method == "tpm":
			return edger.TPM(e.ctx, src, lengths, cfg.Log, sink, popts)
		}
		// cpm, rpkm, fpkm on column sums
		lib, err := edger.LibSizes(e.ctx, src, popts)
		if err != nil {
			return err
		}
		if cfg.Method == "cpm" {
			return edger.CPM(e.ctx, src, lib, cfg.Log, cfg.PriorCount, sink, popts)
		}
		return edger.RPKM(e.ctx, src, lib, lengths, cfg.Log, cfg.PriorCount, sink, popts)
	})
}

// logScaled maps --log to DESeq2-style output: log2(x + 1) or the plain value.
func logScaled(log bool) deseq2.Scale {
	if log {
		return deseq2.Log2p1
	}
	return deseq2.Plain
}

// geneLengths aligns lengths from --lengths, --gtf, or the input's own
// (featureCounts Length) to src's genes.
func geneLengths(src columnar.Source, lengthsFile, gtf string) ([]float64, error) {
	switch {
	case lengthsFile != "" && gtf != "":
		return nil, usagef("give --lengths or --gtf, not both")
	case lengthsFile != "":
		m, err := genelength.ReadTable(lengthsFile)
		if err != nil {
			return nil, err
		}
		return genelength.Align(src, m, lengthsFile)
	case gtf != "":
		m, err := genelength.ReadGTF(gtf)
		if err != nil {
			return nil, err
		}
		return genelength.Align(src, m, gtf)
	}
	if gl, ok := src.(columnar.GeneLengther); ok && gl.GeneLengths() != nil {
		lengths := gl.GeneLengths()
		for i, l := range lengths {
			if !(l > 0) || math.IsInf(l, 0) {
				e := columnar.ValueError(src, 0, i, fmt.Sprintf("Length %v is not a positive number (featureCounts' gene length; give --lengths FILE to use others)", l))
				e.Sample = ""
				return nil, e
			}
		}
		return lengths, nil
	}
	return nil, usagef("tpm, rpkm and fpkm need gene lengths: give --lengths FILE or --gtf FILE (featureCounts output carries its own)")
}

// writeScaled writes count / size factor, or log2 of it plus one, to a new output.
func writeScaled(e *env, in inputConfig, out outputConfig, src columnar.Source, sf []float64, log2p1 bool, what string) error {
	out.setFactors(metaSizeFactors, src.Samples(), sf)
	return writeOutput(e, in, out, src.Genes(), src.Samples(), false, func(sink columnar.Sink) error {
		return deseq2.Normalize(e.ctx, src, sf, logScaled(log2p1), sink, in.pass(e, what))
	})
}

// defaultSizeFactors estimates the size factors a transform uses: the named
// method, or ratio with a fall-back to poscounts (said on stderr) where every
// gene has a zero, as DESeq2's users do and the references record.
func defaultSizeFactors(e *env, in inputConfig, src columnar.Source, name string) ([]float64, error) {
	if name != "" {
		m, err := deseq2Method(name)
		if err != nil {
			return nil, err
		}
		f, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: m, Pass: in.pass(e, "size factors")})
		if err != nil {
			return nil, err
		}
		e.noteDESeq2(f)
		return f.SizeFactor, nil
	}
	f, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: deseq2.Ratio, FallbackToPosCounts: true, Pass: in.pass(e, "size factors")})
	if err != nil {
		return nil, err
	}
	if f.Method != deseq2.Ratio {
		fmt.Fprintf(e.stderr, "colnorm: %s: every gene has a zero, so ratio size factors do not exist; using poscounts\n", src.Path())
	}
	e.noteDESeq2(f)
	return f.SizeFactor, nil
}

func convertCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "write the same matrix in another format or layout",
		ArgsUsage: "IN OUT",
		Description: "Values are copied exactly; integer inputs give integer columns where the output format has them.\n" +
			"The output format comes from OUT's extension (.tsv, .csv, .parquet, .arrow; - for TSV on stdout).\n\n" +
			"Examples:\n" +
			"  colnorm convert counts.tsv counts.parquet                    # wide Parquet, integer columns\n" +
			"  colnorm convert --layout long counts.tsv long.parquet        # gene_id, sample, value\n" +
			"  colnorm convert --samples-as-rows adata.csv counts.parquet   # one row per sample in\n" +
			"  colnorm convert counts.parquet - | head                      # TSV on stdout",
		Flags: append(append(inputFlags(),
			&cli.StringFlag{Name: "layout", Usage: "output layout: wide or long", Value: columnar.LayoutWide},
		), outputFormatFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("convert needs an input and an output, got %d arguments", c.NArg())
			}
			in, err := readInputConfig(c, c.Args().Get(0))
			if err != nil {
				return err
			}
			out, err := readOutputFormat(c, outputConfig{Path: c.Args().Get(1), Layout: c.String("layout")})
			if err != nil {
				return err
			}
			return runConvert(e, in, out)
		},
	}
}

func runConvert(e *env, in inputConfig, out outputConfig) error {
	src, err := in.openOnce()
	if err != nil {
		return err
	}
	defer src.Close()
	opts := in.pass(e, "convert")
	e.meter.Plan(1)
	opts.NoCheck = true // a copy: any values, counts or not, pass through unchanged
	return writeMatrix(e, in, out, src, src.Integer(), opts, nil)
}

// rowSubsetSink passes on the rows keep (in order) of every column.
type rowSubsetSink struct {
	columnar.Sink
	keep []int
	buf  []float64
}

func (s *rowSubsetSink) WriteColumn(j int, values []float64) error {
	for k, i := range s.keep {
		s.buf[k] = values[i]
	}
	return s.Sink.WriteColumn(j, s.buf)
}
