package main

import (
	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/edger"
	"github.com/colnorm/colnorm/metadata"
)

func filterCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "filter",
		Usage:     "keep the genes that are expressed enough; their rows are written unchanged",
		ArgsUsage: "IN",
		Description: "--by-expr: edgeR filterByExpr(y, group) on TMM-normalized library sizes, with its defaults\n" +
			"(--min-count 10 --min-total-count 15 --large-n 10 --min-prop 0.7); --meta F --group COL give the groups.\n" +
			"Otherwise: keep genes with at least --min-samples samples at count >= --min-count (and CPM >= --min-cpm).\n\n" +
			"Examples:\n" +
			"  colnorm filter --by-expr --meta samples.tsv --group tissue counts.tsv -o kept.tsv\n" +
			"  colnorm filter --by-expr gtex.gct -o kept.parquet                       # one group\n" +
			"  colnorm filter --min-count 10 --min-samples 3 counts.parquet -o kept.parquet",
		Flags: append(append(append(inputFlags(), outputFlags()...), shardFlags()...),
			&cli.BoolFlag{Name: "by-expr", Usage: "edgeR filterByExpr"},
			&cli.StringFlag{Name: "meta", Usage: "sample metadata (TSV/CSV, first column the sample id)"},
			&cli.StringFlag{Name: "group", Usage: "metadata column with the group of each sample"},
			&cli.Float64Flag{Name: "min-count", Usage: "minimum count (filterByExpr: 10)"},
			&cli.Float64Flag{Name: "min-total-count", Value: 15, Usage: "filterByExpr: minimum total count over samples"},
			&cli.Float64Flag{Name: "large-n", Value: 10, Usage: "filterByExpr: number of samples per group considered large"},
			&cli.Float64Flag{Name: "min-prop", Value: 0.7, Usage: "filterByExpr: minimum proportion of samples in the smallest group beyond large-n"},
			&cli.Float64Flag{Name: "min-cpm", Usage: "threshold filter: minimum counts per million (column sums)"},
			&cli.IntFlag{Name: "min-samples", Usage: "threshold filter: number of samples that must pass"},
			jsonFlag(),
		),
		Action: withJSON(e, true, func(c *cli.Context) error {
			if sharded(c) {
				return runShardFilterCommand(e, c)
			}
			in, out, err := matrixIO(c)
			if err != nil {
				return err
			}
			cfg := filterConfig{Input: in, Output: out, ByExpr: c.Bool("by-expr"), Meta: c.String("meta"), Group: c.String("group"),
				MinCount: c.Float64("min-count"), MinCPM: c.Float64("min-cpm"), MinSamples: c.Int("min-samples"),
				Expr: edger.FilterOptions{MinCount: c.Float64("min-count"), MinTotalCount: c.Float64("min-total-count"),
					LargeN: c.Float64("large-n"), MinProp: c.Float64("min-prop")}}
			return runFilter(e, cfg)
		}),
	}
}

type filterConfig struct {
	Input       inputConfig
	Output      outputConfig
	ByExpr      bool
	Meta, Group string
	MinCount    float64
	MinCPM      float64
	MinSamples  int
	Expr        edger.FilterOptions
}

func runFilter(e *env, cfg filterConfig) error {
	if (cfg.Meta == "") != (cfg.Group == "") {
		return usagef("--meta and --group go together")
	}
	if !cfg.ByExpr {
		if cfg.MinSamples < 1 {
			return usagef("give --by-expr, or --min-samples K with --min-count N and/or --min-cpm X")
		}
		if cfg.Group != "" {
			return usagef("--group applies to --by-expr")
		}
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	popts := cfg.Input.pass(e, "filter")
	e.meter.Plan(filterPasses(cfg.ByExpr))
	e.noteInput(src)
	if e.summary != nil {
		e.summary.Method = "threshold"
		if cfg.ByExpr {
			e.summary.Method = "filterByExpr"
		}
	}
	var keep []bool
	if cfg.ByExpr {
		var group []string
		if cfg.Meta != "" {
			m, err := metadata.Read(cfg.Meta)
			if err != nil {
				return err
			}
			if group, err = m.Factor(cfg.Group, src.Samples()); err != nil {
				return err
			}
		}
		f, err := edger.NormFactors(e.ctx, src, edger.Options{Method: edger.TMM, Pass: cfg.Input.pass(e, "TMM library sizes")})
		if err != nil {
			return err
		}
		e.noteEdgeR(f, string(edger.TMM))
		if keep, err = edger.FilterByExpr(e.ctx, src, f.EffectiveLibSize(), group, cfg.Expr, popts); err != nil {
			return err
		}
	} else if keep, err = edger.FilterThreshold(e.ctx, src, cfg.MinCount, cfg.MinCPM, cfg.MinSamples, popts); err != nil {
		return err
	}
	e.noteKept(keep)
	var kept []string
	for i, g := range src.Genes() {
		if keep[i] {
			kept = append(kept, g)
		}
	}
	return writeOutput(e, cfg.Input, cfg.Output, kept, src.Samples(), src.Integer(), func(sink columnar.Sink) error {
		return edger.WriteKept(e.ctx, src, keep, sink, popts)
	})
}
