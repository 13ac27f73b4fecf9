package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/kernels"
)

func normalizeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "normalize",
		Usage:     "write the normalized matrix",
		ArgsUsage: "IN",
		Description: "Methods: ratio, poscounts (DESeq2 counts(dds, normalized=TRUE): count / size factor).\n" +
			"--log writes log2(normalized + 1).",
		Flags: append(append(inputFlags(), outputFlags()...),
			&cli.StringFlag{Name: "method", Aliases: []string{"m"}, Value: "ratio", Usage: "ratio or poscounts"},
			&cli.BoolFlag{Name: "log", Usage: "write log2(normalized + 1)"},
		),
		Action: func(c *cli.Context) error {
			path, err := oneInput(c)
			if err != nil {
				return err
			}
			in, err := readInputConfig(c, path)
			if err != nil {
				return err
			}
			out, err := readOutputConfig(c)
			if err != nil {
				return err
			}
			return runNormalize(e, normalizeConfig{Input: in, Output: out, Method: c.String("method"), Log: c.Bool("log")})
		},
	}
}

type normalizeConfig struct {
	Input  inputConfig
	Output outputConfig
	Method string
	Log    bool
}

func runNormalize(e *env, cfg normalizeConfig) error {
	method, err := deseq2Method(cfg.Method)
	if err != nil {
		return err
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: method, Pass: cfg.Input.pass(e, "size factors")})
	if err != nil {
		return err
	}
	return writeScaled(e, cfg.Input, cfg.Output, src, f.SizeFactor, cfg.Log, "normalize")
}

// writeScaled writes count / size factor, or log2 of it plus one.
func writeScaled(e *env, in inputConfig, out outputConfig, src columnar.Source, sf []float64, log2p1 bool, what string) error {
	return writeMatrix(e, in, out, src, false, in.pass(e, what), func(_, j int, col []float64) error {
		kernels.DivideInto(col, col, sf[j])
		if log2p1 {
			kernels.Log2p1Into(col, col)
		}
		return nil
	})
}

func transformCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "transform",
		Usage:     "write a transformed matrix for visualisation",
		ArgsUsage: "IN",
		Description: "Methods: log2: log2(count / size factor + 1) with DESeq2 ratio size factors\n" +
			"(poscounts, with a note on stderr, where every gene has a zero).",
		Flags: append(append(inputFlags(), outputFlags()...),
			&cli.StringFlag{Name: "method", Aliases: []string{"m"}, Value: "log2", Usage: "log2"},
			&cli.StringFlag{Name: "size-factors", Usage: "ratio or poscounts (default: ratio, or poscounts where every gene has a zero)"},
		),
		Action: func(c *cli.Context) error {
			path, err := oneInput(c)
			if err != nil {
				return err
			}
			in, err := readInputConfig(c, path)
			if err != nil {
				return err
			}
			out, err := readOutputConfig(c)
			if err != nil {
				return err
			}
			return runTransform(e, transformConfig{Input: in, Output: out, Method: c.String("method"), SizeFactors: c.String("size-factors")})
		},
	}
}

type transformConfig struct {
	Input       inputConfig
	Output      outputConfig
	Method      string
	SizeFactors string // "" chooses ratio, falling back to poscounts
}

func runTransform(e *env, cfg transformConfig) error {
	if cfg.Method != "log2" {
		return usagef("unknown transform %q: this build knows log2", cfg.Method)
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	sf, err := defaultSizeFactors(e, cfg.Input, src, cfg.SizeFactors)
	if err != nil {
		return err
	}
	return writeScaled(e, cfg.Input, cfg.Output, src, sf, true, "transform")
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
		return f.SizeFactor, nil
	}
	f, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: deseq2.Ratio, Pass: in.pass(e, "size factors")})
	if deseq2.EveryGeneHasAZero(err) {
		fmt.Fprintf(e.stderr, "colnorm: %s: every gene has a zero, so ratio size factors do not exist; using poscounts\n", src.Path())
		f, err = deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: deseq2.PosCounts, Pass: in.pass(e, "size factors")})
	}
	if err != nil {
		return nil, err
	}
	return f.SizeFactor, nil
}

func convertCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "write the same matrix in another format or layout",
		ArgsUsage: "IN OUT",
		Description: "Values are copied exactly; integer inputs give integer columns where the output format has them.\n" +
			"The output format comes from OUT's extension (.tsv, .csv, .parquet, .arrow; - for TSV on stdout).",
		Flags: append(inputFlags(),
			&cli.StringFlag{Name: "layout", Usage: "output layout: wide or long", Value: columnar.LayoutWide},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("convert needs an input and an output, got %d arguments", c.NArg())
			}
			in, err := readInputConfig(c, c.Args().Get(0))
			if err != nil {
				return err
			}
			out := outputConfig{Path: c.Args().Get(1), Layout: c.String("layout")}
			if out.Layout != columnar.LayoutWide && out.Layout != columnar.LayoutLong {
				return usagef("--layout must be wide or long, not %q", out.Layout)
			}
			return runConvert(e, in, out)
		},
	}
}

func runConvert(e *env, in inputConfig, out outputConfig) error {
	src, err := in.open()
	if err != nil {
		return err
	}
	defer src.Close()
	opts := in.pass(e, "convert")
	opts.NoCheck = true // a copy: any values, counts or not, pass through unchanged
	return writeMatrix(e, in, out, src, src.Integer(), opts, nil)
}
