package main

import (
	"bufio"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
)

func sizeFactorsCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:         "size-factors",
		Usage:        "estimate one size factor per sample",
		ArgsUsage:    "IN",
		BashComplete: completeMethods("ratio", "poscounts", "iterate", "tmm", "tmmwsp", "rle", "upperquartile"),
		Description: "Writes a table with columns sample, lib_size (column sum) and size_factor, and for edgeR's\n" +
			"methods norm_factor (calcNormFactors) with size_factor = lib_size x norm_factor over its geometric mean.\n" +
			"Methods: ratio (DESeq2 median of ratios, the default), poscounts (DESeq2, for data where every gene\n" +
			"has a zero), iterate (DESeq2 type=\"iterate\": maximises a negative binomial likelihood; at least 5 samples),\n" +
			"tmm, tmmwsp, rle, upperquartile (edgeR).\n\n" +
			"Examples:\n" +
			"  colnorm size-factors counts.tsv                             # DESeq2 median of ratios\n" +
			"  colnorm size-factors --method tmm counts.parquet -o sf.tsv  # edgeR TMM, table to a file\n" +
			"  colnorm size-factors --control-prefix ERCC- counts.tsv      # from the spike-ins only\n" +
			"  colnorm size-factors --json featureCounts.txt               # a JSON summary instead of the table",
		Flags: append(append(append(inputFlags(), edgerFlags()...), shardFlags()...),
			&cli.StringFlag{Name: "method", Aliases: []string{"m"}, Value: "ratio", Usage: "ratio, poscounts, iterate, tmm, tmmwsp, rle or upperquartile"},
			&cli.StringFlag{Name: "control-prefix", Usage: "take the median over genes whose id starts with this prefix only (e.g. ERCC- spike-ins)"},
			&cli.StringFlag{Name: "control-genes", Usage: "file with one control gene id a line: the median is taken over these genes only"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the table here (.tsv or .csv) instead of stdout"},
			jsonFlag(),
		),
		Action: withJSON(e, false, func(c *cli.Context) error {
			if sharded(c) {
				return runShardFactors(e, c, "size-factors")
			}
			path, err := oneInput(c)
			if err != nil {
				return err
			}
			in, err := readInputConfig(c, path)
			if err != nil {
				return err
			}
			ecfg, err := readEdgerConfig(c)
			if err != nil {
				return err
			}
			cfg := sizeFactorsConfig{Input: in, Method: c.String("method"), ControlPrefix: c.String("control-prefix"),
				ControlGenes: c.String("control-genes"), Output: c.String("output"), EdgeR: ecfg}
			return runSizeFactors(e, cfg)
		}),
	}
}

type sizeFactorsConfig struct {
	Input         inputConfig
	Method        string
	ControlPrefix string
	ControlGenes  string
	Output        string
	EdgeR         edgerConfig
}

func deseq2Method(name string) (deseq2.Method, error) {
	switch m := deseq2.Method(name); m {
	case deseq2.Ratio, deseq2.PosCounts:
		return m, nil
	}
	return "", usagef("unknown method %q: this command knows ratio and poscounts", name)
}

func runSizeFactors(e *env, cfg sizeFactorsConfig) error {
	if cfg.Method == string(deseq2.Iterate) {
		return runSizeFactorsIterate(e, cfg)
	}
	family := methodFamily(cfg.Method)
	if family == "" {
		return usagef("unknown method %q: use ratio, poscounts, iterate, tmm, tmmwsp, rle or upperquartile", cfg.Method)
	}
	if cfg.ControlPrefix != "" && cfg.ControlGenes != "" {
		return usagef("give --control-prefix or --control-genes, not both")
	}
	if family == familyEdgeR && (cfg.ControlPrefix != "" || cfg.ControlGenes != "") {
		return usagef("control genes apply to DESeq2's ratio and poscounts methods, not %s", cfg.Method)
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	e.meter.Plan(sizeFactorPasses(cfg.Method, cfg.EdgeR.RefSample != ""))
	e.noteInput(src)
	if family == familyEdgeR {
		o, err := cfg.EdgeR.options(src, cfg.Method)
		if err != nil {
			return err
		}
		o.Pass = cfg.Input.pass(e, "size factors")
		f, err := edger.NormFactors(e.ctx, src, o)
		if err != nil {
			return err
		}
		e.noteEdgeR(f, cfg.Method)
		if jsonOnStdout(e, cfg.Output) {
			return nil
		}
		rows := make([][]string, len(f.Samples))
		for j, s := range f.Samples {
			rows[j] = []string{s, formatFloat(f.LibSize[j]), formatFloat(f.NormFactor[j]), formatFloat(f.SizeFactor[j])}
		}
		return writeTable(e, cfg.Output, []string{"sample", "lib_size", "norm_factor", "size_factor"}, rows)
	}
	method := deseq2.Method(cfg.Method)
	controls, err := controlMask(src, cfg.ControlPrefix, cfg.ControlGenes)
	if err != nil {
		return err
	}
	f, err := deseq2.SizeFactors(e.ctx, src, deseq2.Options{Method: method, Controls: controls,
		Pass: cfg.Input.pass(e, "size factors")})
	if err != nil {
		return err
	}
	return reportDESeq2Factors(e, cfg.Output, f)
}

// reportDESeq2Factors says on stderr what the DESeq2 factors departed from
// (noteDESeq2) and writes their table to out, unless --json's summary
// takes stdout.
func reportDESeq2Factors(e *env, out string, f *deseq2.Factors) error {
	e.noteDESeq2(f)
	if jsonOnStdout(e, out) {
		return nil
	}
	return writeDESeq2Factors(e, out, f)
}

// jsonOnStdout reports whether --json's summary takes stdout in place of a
// table that would go there.
func jsonOnStdout(e *env, path string) bool {
	return e.summary != nil && (path == "" || path == "-")
}

// writeDESeq2Factors writes the table of DESeq2 size factors: sample,
// lib_size, size_factor.
func writeDESeq2Factors(e *env, path string, f *deseq2.Factors) error {
	rows := make([][]string, len(f.Samples))
	for j, s := range f.Samples {
		rows[j] = []string{s, formatFloat(f.LibSize[j]), formatFloat(f.SizeFactor[j])}
	}
	return writeTable(e, path, []string{"sample", "lib_size", "size_factor"}, rows)
}

// controlMask marks the control genes given by a prefix or a file of ids; nil
// when neither is given.
func controlMask(src columnar.Source, prefix, file string) ([]bool, error) {
	if prefix == "" && file == "" {
		return nil, nil
	}
	mask := make([]bool, len(src.Genes()))
	n := 0
	if prefix != "" {
		for i, g := range src.Genes() {
			if strings.HasPrefix(g, prefix) {
				mask[i] = true
				n++
			}
		}
		if n == 0 {
			return nil, &columnar.InputError{File: src.Path(), Msg: "no gene id starts with the control prefix " + prefix}
		}
		return mask, nil
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, &columnar.InputError{File: file, Msg: "cannot open the control gene list: " + columnar.ErrText(err)}
	}
	defer fh.Close()
	index := make(map[string]int, len(src.Genes()))
	for i, g := range src.Genes() {
		index[g] = i
	}
	sc := bufio.NewScanner(fh)
	for line := 1; sc.Scan(); line++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" || strings.HasPrefix(id, "#") {
			continue
		}
		i, ok := index[id]
		if !ok {
			return nil, &columnar.InputError{File: file, Line: line, Gene: id, Msg: "control gene is not in " + src.Path()}
		}
		if !mask[i] {
			mask[i] = true
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &columnar.InputError{File: file, Msg: err.Error()}
	}
	if n == 0 {
		return nil, &columnar.InputError{File: file, Msg: "the control gene list is empty"}
	}
	return mask, nil
}
