package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/shard"
)

func mergeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "many machines: merge the state files of one pass over every shard into a model",
		ArgsUsage: "STATE...",
		Description: "A sharded run is: a pass over each shard (size-factors, normalize or filter with --shard I/N --state-out STATE),\n" +
			"then merge of the N states of that pass into a model (-o MODEL; with --model, the model the pass was run with).\n" +
			"While the model is not final, run the next pass with --model MODEL and merge again. With the final model,\n" +
			"normalize/filter --model MODEL --shard I/N -o DIR writes each shard's part of the output, and\n" +
			"size-factors --model MODEL writes the table. The states are taken in shard order, so the result is bit-identical\n" +
			"to one run over all samples; a missing, repeated or foreign state file is refused.\n\n" +
			"Examples:\n" +
			"  colnorm merge -o model1.json pass1-*.state                        # ratio, pass 1: after --shard I/N --state-out pass1-I.state\n" +
			"  colnorm merge --model model1.json -o model2.json pass2-*.state    # after --model model1.json --shard I/N; final\n" +
			"  colnorm normalize --model model2.json --shard 3/8 counts.parquet -o normalized/",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the model here", Required: true},
			&cli.StringFlag{Name: "model", Usage: "the model the states' pass was run with (every pass but the first)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not say what comes next"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("merge needs the state files of one pass, one for each shard")
			}
			return runMerge(e, c.String("model"), c.Args().Slice(), c.String("output"), c.Bool("quiet"))
		},
	}
}

func runMerge(e *env, modelPath string, statePaths []string, output string, quiet bool) error {
	var prev *shard.Model
	if modelPath != "" {
		var err error
		if prev, err = shard.ReadModel(modelPath); err != nil {
			return err
		}
	}
	states := make([]*shard.State, len(statePaths))
	for k, p := range statePaths {
		s, err := shard.ReadState(p)
		if err != nil {
			return err
		}
		states[k] = s
	}
	m, err := shard.Merge(prev, states)
	if err != nil {
		return shardError(err)
	}
	if err := m.Write(output); err != nil {
		return err
	}
	if !quiet {
		if m.Final() {
			fmt.Fprintf(e.stderr, "colnorm: merged pass %d of %d from %d shards -> %s (final: write the parts with --model %s --shard I/%d -o DIR)\n",
				m.Pass, m.Passes, m.Shards, output, output, m.Shards)
		} else {
			fmt.Fprintf(e.stderr, "colnorm: merged pass %d of %d from %d shards -> %s (next: pass %d over every shard with --model %s --state-out STATE)\n",
				m.Pass, m.Passes, m.Shards, output, m.Pass+1, output)
		}
	}
	return nil
}
