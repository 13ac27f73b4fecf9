package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
)

func transformCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:         "transform",
		Usage:        "write a transformed matrix for visualisation",
		ArgsUsage:    "IN",
		BashComplete: completeMethods("log2", "vst", "rlog"),
		Description: "Methods:\n" +
			"  log2  log2(count / size factor + 1) with DESeq2 ratio size factors (poscounts,\n" +
			"        with a note on stderr, where every gene has a zero).\n" +
			"  vst   DESeq2's blind variance-stabilizing transformation: gene-wise dispersions\n" +
			"        for the design ~1, the parametric trend a0 + a1/mean (--fit-type), and its\n" +
			"        closed-form transform. With --nsub N the trend is fitted on N genes as\n" +
			"        DESeq2's vst() chooses them (evenly spaced in mean among genes with mean\n" +
			"        normalized count > 5; no random numbers), holding N x samples counts.\n" +
			"        Where the parametric fit fails DESeq2 switches to a locfit trend; colnorm\n" +
			"        says so on stderr and uses fitType mean.\n" +
			"  rlog  DESeq2's blind regularized log (rlog): the same dispersions and trend, then\n" +
			"        a ridge-penalised GLM per gene, streamed over blocks of genes. Where the\n" +
			"        parametric trend fails it exits 2 (DESeq2 would use locfit): use --fit-type mean.\n\n" +
			"Examples:\n" +
			"  colnorm transform --method vst counts.parquet -o vst.parquet\n" +
			"  colnorm transform --method vst --nsub 1000 gtex.parquet -o vst.parquet\n" +
			"  colnorm transform --method rlog counts.tsv -o rlog.tsv\n" +
			"  colnorm transform counts.tsv -o log2.tsv                                # log2(normalized + 1)",
		Flags: append(append(inputFlags(), outputFlags()...),
			&cli.StringFlag{Name: "method", Aliases: []string{"m"}, Value: "log2", Usage: "log2, vst or rlog"},
			&cli.StringFlag{Name: "size-factors", Usage: "log2: ratio or poscounts (default: ratio, or poscounts where every gene has a zero)"},
			&cli.StringFlag{Name: "fit-type", Value: "parametric", Usage: "vst and rlog: the dispersion trend, parametric or mean"},
			&cli.IntFlag{Name: "nsub", Usage: "vst: fit the trend on this many genes as DESeq2's vst() does (0: every gene)"},
			jsonFlag(),
		),
		Action: withJSON(e, true, func(c *cli.Context) error {
			in, out, err := matrixIO(c)
			if err != nil {
				return err
			}
			return runTransform(e, transformConfig{Input: in, Output: out, Method: c.String("method"),
				SizeFactors: c.String("size-factors"), FitType: c.String("fit-type"), NSub: c.Int("nsub")})
		}),
	}
}

type transformConfig struct {
	Input       inputConfig
	Output      outputConfig
	Method      string
	SizeFactors string // log2: "" chooses ratio, falling back to poscounts
	FitType     string // vst: parametric or mean
	NSub        int    // vst: genes for the trend, 0 for all
}

func runTransform(e *env, cfg transformConfig) error {
	switch cfg.Method {
	case "log2", "vst", "rlog":
	default:
		return usagef("unknown transform %q: log2, vst or rlog", cfg.Method)
	}
	if cfg.Method == "vst" && cfg.SizeFactors != "" {
		return usagef("--size-factors is for log2: the VST uses ratio size factors (poscounts where every gene has a zero), as DESeq2 does")
	}
	if cfg.Method == "rlog" && (cfg.SizeFactors != "" || cfg.NSub != 0) {
		return usagef("--size-factors and --nsub are not for rlog: it uses ratio size factors (poscounts where every gene has a zero) and fits its trend on every gene, as DESeq2 does")
	}
	if cfg.FitType != "parametric" && cfg.FitType != "mean" {
		return usagef("--fit-type must be parametric or mean, not %q", cfg.FitType)
	}
	if cfg.NSub < 0 {
		return usagef("--nsub must be 0 (every gene) or more, not %d", cfg.NSub)
	}
	if cfg.Method != "log2" {
		cfg.Input.Extra = func(G, N int) []memoryItem { return rowStoreMemory(G, N, cfg.NSub) }
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	e.meter.Plan(transformPasses(cfg.Method))
	e.noteInput(src)
	cfg.Output.setMethod(cfg.Method)
	if cfg.Method == "log2" {
		sf, err := defaultSizeFactors(e, cfg.Input, src, cfg.SizeFactors)
		if err != nil {
			return err
		}
		return writeScaled(e, cfg.Input, cfg.Output, src, sf, true, "transform")
	}
	if cfg.Method == "rlog" {
		return runRlog(e, cfg, src)
	}
	model, err := fitVST(e, cfg.Input, src, deseq2.FitType(cfg.FitType), cfg.NSub)
	if err != nil {
		return err
	}
	e.noteVST(model)
	cfg.Output.setFactors(metaSizeFactors, src.Samples(), model.Factors.SizeFactor)
	return writeOutput(e, cfg.Input, cfg.Output, src.Genes(), src.Samples(), false, func(sink columnar.Sink) error {
		return deseq2.WriteVST(e.ctx, src, model, sink, cfg.Input.pass(e, "vst"))
	})
}

// fitVST fits the blind VST and says on stderr where it departs from the
// default path: poscounts size factors, or the mean trend after a failed
// parametric fit.
func fitVST(e *env, in inputConfig, src columnar.Source, fit deseq2.FitType, nsub int) (*deseq2.VSTModel, error) {
	return fitVSTWith(e, in, src, fit, nsub, nil)
}

// fitVSTWith is fitVST with size factors from control genes (nil: all).
func fitVSTWith(e *env, in inputConfig, src columnar.Source, fit deseq2.FitType, nsub int, controls []bool) (*deseq2.VSTModel, error) {
	model, err := deseq2.FitVST(e.ctx, src, deseq2.VSTOptions{Fit: fit, NSub: nsub, Controls: controls, TempDir: in.TempDir, Pass: in.pass(e, "vst fit")})
	if err != nil {
		return nil, err
	}
	if model.Factors.Method != deseq2.Ratio {
		fmt.Fprintf(e.stderr, "colnorm: %s: every gene has a zero, so ratio size factors do not exist; using poscounts\n", src.Path())
	}
	if t := model.Trend; t.Fallback != "" {
		fmt.Fprintf(e.stderr, "colnorm: %s: %s; DESeq2 would switch to a local (locfit) trend, which colnorm does not reproduce: using fitType mean (dispersion %.6g)\n",
			src.Path(), t.Fallback, t.MeanDisp)
	}
	return model, nil
}
