package main

import (
	"bufio"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

// outputFlags are the flags of commands that write a matrix.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output file; the extension chooses the format (.tsv, .csv, .parquet, .arrow); - or none writes TSV to stdout"},
		&cli.StringFlag{Name: "layout", Usage: "output layout: wide (genes as rows) or long (gene_id, sample, value)", Value: columnar.LayoutWide},
	}
}

// outputConfig is what outputFlags give.
type outputConfig struct {
	Path   string
	Layout string
}

func readOutputConfig(c *cli.Context) (outputConfig, error) {
	o := outputConfig{Path: c.String("output"), Layout: c.String("layout")}
	if o.Layout != columnar.LayoutWide && o.Layout != columnar.LayoutLong {
		return o, usagef("--layout must be wide or long, not %q", o.Layout)
	}
	return o, nil
}

// writeOutput creates the output for genes x samples, lets fill write every
// column to it, and commits it: the file appears complete at its path, or,
// on any error or interrupt, not at all.
func writeOutput(e *env, in inputConfig, out outputConfig, genes, samples []string, integer bool, fill func(columnar.Sink) error) error {
	sink, err := columnar.Create(out.Path, genes, samples, columnar.SinkOptions{
		Layout: out.Layout, Integer: integer, TempDir: in.TempDir, Stdout: e.stdout, Done: e.ctx.Done(), SpillBudget: in.spillBudget()})
	if err != nil {
		return err
	}
	defer sink.Abort()
	if err := fill(sink); err != nil {
		return err
	}
	if e.ctx.Err() != nil {
		return e.ctx.Err()
	}
	return sink.Commit()
}

// writeMatrix streams every column of src through work into a new output.
func writeMatrix(e *env, in inputConfig, out outputConfig, src columnar.Source, integer bool, opts pass.Options, work pass.WorkFunc) error {
	return writeOutput(e, in, out, src.Genes(), src.Samples(), integer, func(sink columnar.Sink) error {
		return pass.Run(e.ctx, src, opts, work, sink.WriteColumn)
	})
}

// writeTable writes a small table (a header and rows of text) as TSV to
// stdout, or atomically to a file (comma-separated for .csv).
func writeTable(e *env, path string, header []string, rows [][]string) error {
	sep := "\t"
	var w io.Writer = e.stdout
	var f *columnar.AtomicFile
	if path != "" && path != "-" {
		var err error
		if f, err = columnar.CreateAtomic(path); err != nil {
			return err
		}
		defer f.Abort()
		w = f
		if strings.HasSuffix(strings.ToLower(path), ".csv") {
			sep = ","
		}
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(header, sep) + "\n")
	for _, r := range rows {
		bw.WriteString(strings.Join(r, sep) + "\n")
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		return f.Commit()
	}
	return nil
}

// formatFloat is the shortest text that reads back as the same float64.
func formatFloat(v float64) string { return string(columnar.AppendFloat(nil, v)) }
