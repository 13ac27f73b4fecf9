package main

import (
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
)

// Method families.
const (
	familyDESeq2 = "deseq2" // ratio, poscounts
	familyEdgeR  = "edger"  // tmm, tmmwsp, rle, upperquartile
)

func methodFamily(name string) string {
	switch name {
	case string(deseq2.Ratio), string(deseq2.PosCounts):
		return familyDESeq2
	case string(edger.TMM), string(edger.TMMwsp), string(edger.RLE), string(edger.UpperQuartile):
		return familyEdgeR
	}
	return ""
}

// edgerFlags are calcNormFactors' options.
func edgerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ref-sample", Usage: "TMM/TMMwsp reference sample, by name or 1-based position (default: chosen as edgeR does)"},
		&cli.Float64Flag{Name: "logratio-trim", Value: edger.DefaultLogratioTrim, Usage: "TMM: fraction of log ratios trimmed at each end"},
		&cli.Float64Flag{Name: "sum-trim", Value: edger.DefaultSumTrim, Usage: "TMM: fraction of average log expression trimmed at each end"},
		&cli.BoolFlag{Name: "no-weighting", Usage: "TMM: no precision weights (doWeighting = FALSE)"},
		&cli.Float64Flag{Name: "acutoff", Value: edger.DefaultACutoff, Usage: "TMM: cutoff on average log expression"},
		&cli.Float64Flag{Name: "p", Value: edger.DefaultP, Usage: "upperquartile: the quantile"},
	}
}

// edgerConfig is what edgerFlags give.
type edgerConfig struct {
	RefSample    string
	LogratioTrim float64
	SumTrim      float64
	NoWeighting  bool
	ACutoff      float64
	P            float64
}

func readEdgerConfig(c *cli.Context) (edgerConfig, error) {
	cfg := edgerConfig{RefSample: c.String("ref-sample"), LogratioTrim: c.Float64("logratio-trim"), SumTrim: c.Float64("sum-trim"),
		NoWeighting: c.Bool("no-weighting"), ACutoff: c.Float64("acutoff"), P: c.Float64("p")}
	if !(cfg.LogratioTrim > 0 && cfg.LogratioTrim < 0.5) || !(cfg.SumTrim > 0 && cfg.SumTrim < 0.5) {
		return cfg, usagef("--logratio-trim and --sum-trim must be between 0 and 0.5")
	}
	if !(cfg.P > 0 && cfg.P <= 1) {
		return cfg, usagef("--p must be in (0, 1], not %v", cfg.P)
	}
	return cfg, nil
}

// options turns the flags into edger.Options for src.
func (cfg edgerConfig) options(src columnar.Source, method string) (edger.Options, error) {
	o := edger.Options{Method: edger.Method(method), LogratioTrim: cfg.LogratioTrim, SumTrim: cfg.SumTrim,
		NoWeighting: cfg.NoWeighting, ACutoff: cfg.ACutoff, P: cfg.P}
	if cfg.RefSample != "" {
		for j, s := range src.Samples() {
			if s == cfg.RefSample {
				o.RefSample = j + 1
			}
		}
		if o.RefSample == 0 {
			n, err := strconv.Atoi(cfg.RefSample)
			if err != nil || n < 1 || n > len(src.Samples()) {
				return o, usagef("--ref-sample %q is neither a sample of %s nor a position 1..%d", cfg.RefSample, src.Path(), len(src.Samples()))
			}
			o.RefSample = n
		}
	}
	return o, nil
}

// defaultEdgerConfig is calcNormFactors' defaults, for commands without the flags.
var defaultEdgerConfig = edgerConfig{LogratioTrim: edger.DefaultLogratioTrim, SumTrim: edger.DefaultSumTrim,
	ACutoff: edger.DefaultACutoff, P: edger.DefaultP}
