package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

func inspectCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe a matrix file: format, layout, types, row groups, values, zeros",
		ArgsUsage: "FILE",
		Description: "Shows what colnorm will make of a file before anything runs: the format and layout it\n" +
			"detects, genes and samples, the column types, Parquet row groups, codecs and encodings,\n" +
			"Arrow batches, the file's metadata, the value range and whether every value is an\n" +
			"integer, zeros per sample, genes that are zero in every sample, and whether DESeq2's\n" +
			"ratio size factors exist (some gene without a zero). Values are read one sample column\n" +
			"at a time. A file colnorm cannot read (a duplicate id, a damaged file) is described as\n" +
			"far as it goes and exits 2.\n\n" +
			"Examples:\n" +
			"  colnorm inspect counts.parquet\n" +
			"  colnorm inspect --json counts.tsv.gz",
		Flags: append(inputFlags(),
			&cli.BoolFlag{Name: "json", Usage: "write the description as JSON"},
			&cli.IntFlag{Name: "max-samples", Value: 20, Usage: "list zeros per sample in a table up to this many samples; summarize beyond"},
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
			return runInspect(e, in, c.Bool("json"), c.Int("max-samples"))
		},
	}
}

// inspectReport is what inspect finds; its JSON form is --json's output.
type inspectReport struct {
	File    *columnar.FileInfo `json:"file"`
	Genes   int                `json:"genes"`
	Samples int                `json:"samples"`
	// Problem is why colnorm cannot read the values ("" when it can).
	Problem string         `json:"problem,omitempty"`
	Values  *inspectValues `json:"values,omitempty"`
}

type inspectValues struct {
	Min         *float64 `json:"min"` // null when every value is missing
	Max         *float64 `json:"max"`
	AllIntegers bool     `json:"all_integers"`
	Missing     int      `json:"missing"`
	Negative    int      `json:"negative"`
	// ZeroGenes are the genes zero in every sample; GenesWithoutZero the
	// genes with no zero (DESeq2's ratio size factors need at least one).
	ZeroGenes        int             `json:"zero_genes"`
	ZeroGeneIDs      []string        `json:"zero_gene_ids"` // the first 20
	GenesWithoutZero int             `json:"genes_without_zero"`
	PerSample        []inspectSample `json:"per_sample"`
}

type inspectSample struct {
	Sample     string   `json:"sample"`
	Zeros      int      `json:"zeros"`
	Sum        float64  `json:"sum"`
	Min        *float64 `json:"min"`
	Max        *float64 `json:"max"`
	Missing    int      `json:"missing"`
	Negative   int      `json:"negative"`
	NonInteger int      `json:"non_integer"`
}

// runInspect describes the file, then reads every value once.
func runInspect(e *env, in inputConfig, asJSON bool, maxSamples int) error {
	fi, err := columnar.Describe(in.Path, columnar.Options{Format: in.Format, Layout: in.Layout})
	if err != nil {
		return err
	}
	rep := &inspectReport{File: fi}
	src, openErr := in.open()
	if openErr == nil {
		defer src.Close()
		rep.Genes, rep.Samples = len(src.Genes()), len(src.Samples())
		if in.SamplesAsRows {
			fi.Layout += ", samples as rows"
		}
		if rep.Values, err = scanValues(e, in, src); err != nil {
			return err
		}
	} else {
		var ie *columnar.InputError
		if !errors.As(openErr, &ie) {
			return openErr
		}
		rep.Problem = strings.TrimPrefix(openErr.Error(), "colnorm: ")
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printInspect(e.stdout, rep, maxSamples)
	}
	return openErr
}

// scanValues reads every column once: per-sample counts in the workers, the
// per-gene zero flags in sample order.
func scanValues(e *env, in inputConfig, src columnar.Source) (*inspectValues, error) {
	vs := columnar.NewValueSummary(src.Genes(), src.Samples())
	opts := in.pass(e, "inspect")
	opts.NoCheck = true // inspect reports bad values instead of stopping at them
	err := pass.Run(e.ctx, src, opts, func(_, j int, col []float64) error {
		vs.AddColumn(j, col)
		return nil
	}, func(_ int, col []float64) error {
		vs.AddGenes(col)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := &inspectValues{AllIntegers: vs.AllIntegers(), ZeroGeneIDs: []string{}}
	if lo, hi := vs.Range(); !math.IsNaN(lo) {
		v.Min, v.Max = &lo, &hi
	}
	for g, z := range vs.ZeroEverywhere {
		if z {
			v.ZeroGenes++
			if len(v.ZeroGeneIDs) < 20 {
				v.ZeroGeneIDs = append(v.ZeroGeneIDs, vs.Genes[g])
			}
		}
		if !vs.SomeZero[g] {
			v.GenesWithoutZero++
		}
	}
	for j, s := range vs.Samples {
		ps := inspectSample{Sample: s, Zeros: vs.Zeros[j], Sum: vs.Sum[j], Missing: vs.Missing[j],
			Negative: vs.Negative[j], NonInteger: vs.NonInteger[j]}
		if !math.IsNaN(vs.Min[j]) {
			lo, hi := vs.Min[j], vs.Max[j]
			ps.Min, ps.Max = &lo, &hi
		}
		v.Missing += ps.Missing
		v.Negative += ps.Negative
		v.PerSample = append(v.PerSample, ps)
	}
	return v, nil
}

func printInspect(w io.Writer, r *inspectReport, maxSamples int) {
	fi := r.File
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-16s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("file", "%s (%s)", fi.Path, humanBytes(fi.Bytes))
	line("format", "%s: %s, compression %s", fi.Format, fi.Kind, strings.Join(fi.Compression, ", "))
	how := "detected"
	if !fi.Detected {
		how = "as --input-layout says"
	}
	line("layout", "%s (%s)", fi.Layout, how)
	var cols []string
	for _, c := range fi.Columns {
		if c.Count == 1 {
			cols = append(cols, fmt.Sprintf("%s: %s", c.First, c.Type))
		} else {
			cols = append(cols, fmt.Sprintf("%d x %s (from %s)", c.Count, c.Type, c.First))
		}
	}
	line("columns", "%s", strings.Join(cols, "; "))
	if fi.RowGroups > 0 || fi.Format == columnar.FormatParquet {
		dict := "no dictionary encoding"
		if fi.Dictionary {
			dict = "dictionary-encoded"
		}
		line("row groups", "%d of %s rows (%d rows); encodings %s; %s", fi.RowGroups, rowRange(fi.RowGroupRows), fi.Rows,
			strings.Join(fi.Encodings, ", "), dict)
	}
	if fi.Batches > 0 {
		line("record batches", "%d (%d rows)", fi.Batches, fi.Rows)
	}
	keys := make([]string, 0, len(fi.Metadata))
	for k := range fi.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		label := ""
		if i == 0 {
			label = "metadata"
		}
		v := fi.Metadata[k]
		if len(v) > 100 {
			v = v[:97] + "..."
		}
		line(label, "%s = %s", k, v)
	}
	if r.Problem != "" {
		line("problem", "%s", r.Problem)
		return
	}
	line("genes", "%d", r.Genes)
	line("samples", "%d", r.Samples)
	v := r.Values
	if v == nil {
		return
	}
	kind := "all integers (counts)"
	if !v.AllIntegers {
		kind = "some not integers (estimated counts or normalized values: count methods need --allow-fractional)"
	}
	if v.Min == nil {
		line("values", "every value is missing")
	} else {
		line("values", "%s to %s; %s", formatFloat(*v.Min), formatFloat(*v.Max), kind)
	}
	if v.Missing > 0 || v.Negative > 0 {
		line("", "%d missing and %d negative values: the count methods refuse them", v.Missing, v.Negative)
	}
	line("zero genes", "%d of %d genes are zero in every sample%s", v.ZeroGenes, r.Genes, listSome(v.ZeroGeneIDs, v.ZeroGenes))
	if v.GenesWithoutZero == 0 && r.Genes > 0 {
		line("size factors", "every gene has a zero: DESeq2's ratio size factors do not exist (use poscounts, or iterate)")
	} else {
		line("size factors", "%d genes have no zero: DESeq2's ratio size factors exist", v.GenesWithoutZero)
	}
	if len(v.PerSample) <= maxSamples {
		fmt.Fprintf(w, "\n%-20s %10s %8s %16s %14s %14s\n", "sample", "zeros", "zeros %", "sum", "min", "max")
		for _, s := range v.PerSample {
			fmt.Fprintf(w, "%-20s %10d %8.1f %16s %14s %14s\n", s.Sample, s.Zeros, pct(s.Zeros, r.Genes), shortNum(s.Sum),
				optFloat(s.Min), optFloat(s.Max))
		}
		return
	}
	zeros := make([]int, len(v.PerSample))
	order := make([]int, len(v.PerSample))
	for j, s := range v.PerSample {
		zeros[j], order[j] = s.Zeros, j
	}
	sorted := slices.Clone(zeros)
	slices.Sort(sorted)
	line("zeros / sample", "min %d, median %s, max %d (of %d genes)", sorted[0], formatFloat(median(sorted)), sorted[len(sorted)-1], r.Genes)
	sort.SliceStable(order, func(a, b int) bool { return zeros[order[a]] > zeros[order[b]] })
	var worst []string
	for _, j := range order[:5] {
		worst = append(worst, fmt.Sprintf("%s (%d, %.1f%%)", v.PerSample[j].Sample, zeros[j], pct(zeros[j], r.Genes)))
	}
	line("most zeros", "%s", strings.Join(worst, ", "))
}

func median(sorted []int) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return float64(sorted[n/2])
	}
	return (float64(sorted[n/2-1]) + float64(sorted[n/2])) / 2
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func optFloat(p *float64) string {
	if p == nil {
		return "-"
	}
	return shortNum(*p)
}

// shortNum prints whole numbers in full (up to 2^53) and others to 7
// significant digits, for tables (--json has every digit).
func shortNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) <= 1<<53 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 7, 64)
}

func rowRange(r [2]int64) string {
	if r[0] == r[1] {
		return fmt.Sprint(r[0])
	}
	return fmt.Sprintf("%d to %d", r[0], r[1])
}

func listSome(ids []string, total int) string {
	if total == 0 {
		return ""
	}
	s := ": " + strings.Join(ids, ", ")
	if total > len(ids) {
		s += ", ..."
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
