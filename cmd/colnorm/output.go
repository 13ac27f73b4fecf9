package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

// outputFlags are the flags of commands that write a matrix.
func outputFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output file; the extension chooses the format (.tsv, .csv, .parquet, .arrow, .arrows for an Arrow stream); - or none writes TSV to stdout, -.arrow an Arrow IPC stream, -.parquet Parquet"},
		&cli.StringFlag{Name: "layout", Usage: "output layout: wide (genes as rows) or long (gene_id, sample, value)", Value: columnar.LayoutWide},
	}, outputFormatFlags()...)
}

// outputFormatFlags are the flags that shape a matrix output's encoding.
func outputFormatFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output-format", Usage: "output format whatever the extension, also on stdout: " + strings.Join(columnar.OutputFormats, ", ") + " (arrow: IPC file; arrow-stream: IPC stream)"},
		&cli.BoolFlag{Name: "float32", Usage: "write values as float32 (Parquet FLOAT, Arrow float32; text prints the float32's shortest form); integer outputs stay integer"},
		&cli.StringFlag{Name: "compression", Value: columnar.CompressionZstd, Usage: "Parquet page compression: " + strings.Join(columnar.Compressions, ", ")},
		&cli.IntFlag{Name: "row-group-rows", Usage: "rows of a Parquet row group: genes of a wide file, rows of a long one (default: 16384 genes, more where that would make over 65536 column chunks; 1048576 rows long)"},
	}
}

// outputConfig is what outputFlags give.
type outputConfig struct {
	Path        string
	Layout      string
	Format      string // "" chooses by the extension
	Float32     bool
	Compression string
	RowGroup    int // rows of a Parquet row group; 0 chooses
	// Meta is the key-value metadata of Parquet and Arrow outputs: the
	// version and command line from the flags; commands add the method and
	// what they estimated (setSizeFactors) before writing the first column.
	Meta *columnar.Metadata
}

func readOutputConfig(c *cli.Context) (outputConfig, error) {
	return readOutputFormat(c, outputConfig{Path: c.String("output"), Layout: c.String("layout")})
}

// readOutputFormat reads outputFormatFlags into o and checks o.
func readOutputFormat(c *cli.Context, o outputConfig) (outputConfig, error) {
	o.Format, o.Float32, o.Compression = c.String("output-format"), c.Bool("float32"), c.String("compression")
	if o.RowGroup = c.Int("row-group-rows"); o.RowGroup < 0 {
		return o, usagef("--row-group-rows must be 0 (the default) or more, not %d", o.RowGroup)
	}
	if o.Layout != columnar.LayoutWide && o.Layout != columnar.LayoutLong {
		return o, usagef("--layout must be wide or long, not %q", o.Layout)
	}
	if o.Format != "" && !slices.Contains(columnar.OutputFormats, o.Format) {
		return o, usagef("--output-format must be one of %s, not %q", strings.Join(columnar.OutputFormats, ", "), o.Format)
	}
	if !slices.Contains(columnar.Compressions, o.Compression) {
		return o, usagef("--compression must be one of %s, not %q", strings.Join(columnar.Compressions, ", "), o.Compression)
	}
	o.Meta = &columnar.Metadata{}
	o.Meta.Set(metaVersion, colnormVersion())
	o.Meta.Set(metaCommand, commandLine(c))
	return o, nil
}

// Keys of the metadata of Parquet and Arrow outputs.
const (
	metaVersion     = "colnorm.version"
	metaCommand     = "colnorm.command"      // the command and the flags given (not the input and output paths)
	metaMethod      = "colnorm.method"       // the method that made the values
	metaSizeFactors = "colnorm.size_factors" // JSON object: sample -> size factor
	metaNormFactors = "colnorm.norm_factors" // JSON object: sample -> edgeR normalization factor
)

// commandLine is the command's name and the flags set on it with their
// values, leaving out those that do not change the values written (the
// output path, threads, temporary folder, progress).
func commandLine(c *cli.Context) string {
	parts := []string{c.Command.Name}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		switch name {
		case "output", "threads", "temp-dir", "quiet":
			continue
		}
		if !c.IsSet(name) {
			continue
		}
		if _, isBool := f.(*cli.BoolFlag); isBool {
			if c.Bool(name) {
				parts = append(parts, "--"+name)
			}
			continue
		}
		parts = append(parts, "--"+name, shellQuote(fmt.Sprint(c.Value(name))))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell where it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// setMethod records the method in the output's metadata.
func (o outputConfig) setMethod(method string) {
	if o.Meta != nil {
		o.Meta.Set(metaMethod, method)
	}
}

// setFactors records per-sample factors under key as a JSON object
// (sample -> factor, in sample order, numbers in their shortest float64 text).
func (o outputConfig) setFactors(key string, samples []string, factors []float64) {
	if o.Meta == nil || len(factors) != len(samples) {
		return
	}
	var b strings.Builder
	b.WriteByte('{')
	for j, s := range samples {
		if j > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(s)
		b.Write(name)
		b.WriteByte(':')
		f := factors[j]
		if math.IsNaN(f) || math.IsInf(f, 0) {
			b.WriteString("null") // JSON has no NaN; size factors are finite where a method succeeds
			continue
		}
		b.WriteString(formatFloat(f))
	}
	b.WriteByte('}')
	o.Meta.Set(key, b.String())
}

// writeOutput creates the output for genes x samples, lets fill write every
// column to it, and commits it: the file appears complete at its path, or,
// on any error or interrupt, not at all.
func writeOutput(e *env, in inputConfig, out outputConfig, genes, samples []string, integer bool, fill func(columnar.Sink) error) error {
	sink, err := columnar.Create(out.Path, genes, samples, columnar.SinkOptions{
		Layout: out.Layout, Integer: integer, TempDir: in.TempDir, Stdout: e.stdout,
		Done: e.ctx.Done(), SpillBudget: in.spillBudget(),
		Format: out.Format, Float32: out.Float32, Compression: out.Compression, Metadata: out.Meta,
		RowGroupRows: out.RowGroup})
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
