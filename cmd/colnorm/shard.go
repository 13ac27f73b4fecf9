package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/metadata"
	"github.com/colnorm/colnorm/shard"
)

// Sharded runs (many machines; see package shard and the README's "Many
// machines"): size-factors, normalize and filter take
//
//	--shard I/N --state-out STATE [--model MODEL]   a statistics pass over shard I of N
//	--shard I/N --model FINAL -o OUT                normalize, filter: shard I's part of the output
//	--model FINAL [-o TABLE]                        size-factors: the table
//
// and `colnorm merge` turns the states of a pass into the next model.

// shardFlags are the flags of a sharded run.
func shardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "shard", Usage: "many machines: work on shard I/N of the samples (a contiguous range of a file's samples, or the I-th file of a folder of Parquet files)"},
		&cli.StringFlag{Name: "state-out", Usage: "many machines: run the next statistics pass over --shard and write its state here (merge the states with colnorm merge)"},
		&cli.StringFlag{Name: "model", Usage: "many machines: the model from colnorm merge: the next pass uses it; a final model writes the output (or the size-factor table)"},
	}
}

// sharded reports whether the command line asks for a sharded run.
func sharded(c *cli.Context) bool {
	return c.IsSet("shard") || c.IsSet("state-out") || c.IsSet("model")
}

// shardRun is what the sharded forms of size-factors, normalize and filter
// share.
type shardRun struct {
	Job       string // shard.JobFactors or shard.JobFilter
	Command   string // size-factors, normalize, filter
	Shard     string
	StateOut  string
	Model     string
	Input     inputConfig // Path "" when the command has no input argument
	Method    string      // from --method unless the model gives it
	MethodSet bool
	Options   map[string]string
	Groups    func(samples []string) ([]string, error) // filter --by-expr with groups
}

// runShardPass runs the next statistics pass over one shard and writes its state.
func runShardPass(e *env, r shardRun) error {
	if r.Shard == "" {
		return usagef("--state-out needs --shard I/N")
	}
	i, n, err := shard.ParseShard(r.Shard)
	if err != nil {
		return usagef("%v", err)
	}
	var m *shard.Model
	if r.Model != "" {
		if m, err = shard.ReadModel(r.Model); err != nil {
			return err
		}
		if m.Job != r.Job {
			return usagef("the model %s is of a %s run; %s cannot continue it", r.Model, m.Job, r.Command)
		}
		if r.MethodSet && r.Method != m.Method {
			return usagef("--method %s, but the model %s is of method %s", r.Method, r.Model, m.Method)
		}
	}
	spec := shard.Spec{Job: r.Job, Method: r.Method, Options: r.Options}
	in, err := shard.Open(r.Input.Path, i, n, r.Input.columnarOptions())
	if err != nil {
		return err
	}
	defer in.Close()
	var groups []string
	if m == nil && r.Groups != nil {
		if groups, err = r.Groups(in.Src.Samples()); err != nil {
			return err
		}
	}
	st, err := shard.RunPass(e.ctx, in, spec, m, groups, r.Input.pass(e, fmt.Sprintf("pass over shard %d/%d", i, n)))
	if err != nil {
		return shardError(err)
	}
	if e.ctx.Err() != nil {
		return e.ctx.Err()
	}
	if err := st.Write(r.StateOut); err != nil {
		return err
	}
	if !r.Input.Quiet {
		fmt.Fprintf(e.stderr, "colnorm: pass %d of %d over shard %d/%d (%d samples) -> %s\n", st.Pass, st.Passes, i, n, len(st.Samples), r.StateOut)
	}
	return nil
}

// shardError maps the shard package's usage errors to exit status 2.
func shardError(err error) error {
	var u shard.UsageError
	if errors.As(err, &u) {
		return usagef("%s", string(u))
	}
	return err
}

// openShardModel reads a final model and the shard for a write pass.
func openShardWrite(r shardRun) (*shard.Model, *shard.Input, error) {
	if r.Model == "" || r.Shard == "" {
		return nil, nil, usagef("%s of one shard's part needs --model FINAL and --shard I/N (or --state-out FILE for a statistics pass)", r.Command)
	}
	i, n, err := shard.ParseShard(r.Shard)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	m, err := shard.ReadModel(r.Model)
	if err != nil {
		return nil, nil, err
	}
	if r.MethodSet && r.Method != m.Method {
		return nil, nil, usagef("--method %s, but the model %s is of method %s", r.Method, r.Model, m.Method)
	}
	in, err := shard.Open(r.Input.Path, i, n, r.Input.columnarOptions())
	if err != nil {
		return nil, nil, err
	}
	return m, in, nil
}

// partPath is where shard i of n's part goes: out itself, or, when out is a
// folder, part-0000i-of-0000n.parquet inside it.
func partPath(out string, i, n int) string {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return filepath.Join(out, shard.PartName(i, n, ".parquet"))
	}
	return out
}

// runShardNormalize writes one shard's part of the normalized matrix.
func runShardNormalize(e *env, r shardRun, out outputConfig, log shard.Log) error {
	m, in, err := openShardWrite(r)
	if err != nil {
		return err
	}
	defer in.Close()
	out.Path = partPath(out.Path, in.Shard, in.Shards)
	return writeOutput(e, r.Input, out, in.Src.Genes(), in.Src.Samples(), false, func(sink columnar.Sink) error {
		return shardError(shard.WriteNormalized(e.ctx, in, m, log, sink, r.Input.pass(e, "normalize")))
	})
}

// runShardFilter writes one shard's part of the filtered matrix.
func runShardFilterWrite(e *env, r shardRun, out outputConfig) error {
	m, in, err := openShardWrite(r)
	if err != nil {
		return err
	}
	defer in.Close()
	keep, err := shard.Kept(m)
	if err != nil {
		return shardError(err)
	}
	var kept []string
	for i, g := range in.Src.Genes() {
		if keep[i] {
			kept = append(kept, g)
		}
	}
	out.Path = partPath(out.Path, in.Shard, in.Shards)
	popts := r.Input.pass(e, "filter")
	return writeOutput(e, r.Input, out, kept, in.Src.Samples(), in.Src.Integer(), func(sink columnar.Sink) error {
		return shardError(shard.WriteKept(e.ctx, in, m, keep, sink, popts))
	})
}

// runShardTable writes the size-factor table of a final model.
func runShardTable(e *env, modelPath, output string) error {
	m, err := shard.ReadModel(modelPath)
	if err != nil {
		return err
	}
	cols, values, err := shard.Table(m)
	if err != nil {
		return shardError(err)
	}
	rows := make([][]string, len(m.Samples))
	for j, s := range m.Samples {
		rows[j] = []string{s}
		for k := range cols {
			rows[j] = append(rows[j], formatFloat(values[k][j]))
		}
	}
	return writeTable(e, output, append([]string{"sample"}, cols...), rows)
}

// edgerShardOptions are the calcNormFactors options a sharded run records.
func edgerShardOptions(cfg edgerConfig) map[string]string {
	return map[string]string{
		"ref_sample":    cfg.RefSample,
		"logratio_trim": strconv.FormatFloat(cfg.LogratioTrim, 'g', -1, 64),
		"sum_trim":      strconv.FormatFloat(cfg.SumTrim, 'g', -1, 64),
		"no_weighting":  strconv.FormatBool(cfg.NoWeighting),
		"acutoff":       strconv.FormatFloat(cfg.ACutoff, 'g', -1, 64),
		"p":             strconv.FormatFloat(cfg.P, 'g', -1, 64),
	}
}

// runShardFactors is the sharded size-factors and normalize.
func runShardFactors(e *env, c *cli.Context, command string) error {
	r := shardRun{Job: shard.JobFactors, Command: command, Shard: c.String("shard"), StateOut: c.String("state-out"),
		Model: c.String("model"), Method: c.String("method"), MethodSet: c.IsSet("method")}
	if command == "size-factors" && r.StateOut == "" {
		if r.Shard != "" || c.NArg() > 0 {
			return usagef("size-factors --model FINAL writes the table of a final model; it takes no --shard or input")
		}
		return runShardTable(e, r.Model, c.String("output"))
	}
	for _, f := range []string{"control-prefix", "control-genes", "log1p", "target-sum", "lengths", "gtf"} {
		if c.IsSet(f) {
			return usagef("--%s is not available in a sharded run", f)
		}
	}
	known := false
	for _, m := range shard.FactorMethods {
		known = known || m == r.Method
	}
	if !known {
		return usagef("method %q does not shard; sharded runs know ratio, poscounts, tmm, tmmwsp, rle, upperquartile and cpm", r.Method)
	}
	path, err := oneInput(c)
	if err != nil {
		return err
	}
	if r.Input, err = readInputConfig(c, path); err != nil {
		return err
	}
	ecfg, err := readEdgerConfig(c)
	if err != nil {
		return err
	}
	r.Options = map[string]string{"allow_fractional": strconv.FormatBool(r.Input.AllowFractional)}
	if methodFamily(r.Method) == familyEdgeR {
		for k, v := range edgerShardOptions(ecfg) {
			r.Options[k] = v
		}
	}
	if r.StateOut != "" {
		return runShardPass(e, r)
	}
	out, err := shardPartOutput(c)
	if err != nil {
		return err
	}
	return runShardNormalize(e, r, out, shard.Log{On: c.Bool("log"), PriorCount: c.Float64("prior-count")})
}

// runShardFilterCommand is the sharded filter.
func runShardFilterCommand(e *env, c *cli.Context) error {
	r := shardRun{Job: shard.JobFilter, Command: "filter", Shard: c.String("shard"), StateOut: c.String("state-out"), Model: c.String("model")}
	path, err := oneInput(c)
	if err != nil {
		return err
	}
	if r.Input, err = readInputConfig(c, path); err != nil {
		return err
	}
	f := func(name string) string { return strconv.FormatFloat(c.Float64(name), 'g', -1, 64) }
	r.Options = map[string]string{"allow_fractional": strconv.FormatBool(r.Input.AllowFractional)}
	if c.Bool("by-expr") {
		r.Method = "by-expr"
		for _, name := range []string{"min-count", "min-total-count", "large-n", "min-prop"} {
			r.Options[strings.ReplaceAll(name, "-", "_")] = f(name)
		}
		meta, group := c.String("meta"), c.String("group")
		if (meta == "") != (group == "") {
			return usagef("--meta and --group go together")
		}
		if meta != "" {
			b, err := os.ReadFile(meta)
			if err != nil {
				return &columnar.InputError{File: meta, Msg: "cannot read: " + err.Error()}
			}
			h := sha256.Sum256(b)
			r.Options["meta_sha256"], r.Options["group"] = hex.EncodeToString(h[:]), group
			r.Groups = func(samples []string) ([]string, error) {
				t, err := metadata.Read(meta)
				if err != nil {
					return nil, err
				}
				return t.Factor(group, samples)
			}
		}
	} else {
		r.Method = "threshold"
		if c.Int("min-samples") < 1 {
			return usagef("give --by-expr, or --min-samples K with --min-count N and/or --min-cpm X")
		}
		r.Options["min_count"], r.Options["min_cpm"] = f("min-count"), f("min-cpm")
		r.Options["min_samples"] = strconv.Itoa(c.Int("min-samples"))
	}
	r.MethodSet = r.Model != ""
	if r.StateOut != "" {
		if r.Model != "" {
			r.MethodSet = false // the model says; a later pass repeats the flags or not
		}
		return runShardPass(e, r)
	}
	out, err := shardPartOutput(c)
	if err != nil {
		return err
	}
	r.MethodSet = false
	return runShardFilterWrite(e, r, out)
}

// shardPartOutput reads the output flags of a shard that writes its part of
// the matrix: -o must name a file or a folder, not standard output.
func shardPartOutput(c *cli.Context) (outputConfig, error) {
	out, err := readOutputConfig(c)
	if err == nil && (out.Path == "" || out.Path == "-") {
		err = usagef("a shard's part needs -o FILE or -o FOLDER (it is one part of a folder of Parquet files)")
	}
	return out, err
}
