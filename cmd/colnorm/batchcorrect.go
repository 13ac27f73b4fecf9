package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/combatseq"
	"github.com/colnorm/colnorm/metadata"
)

func batchCorrectCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:         "batch-correct",
		Usage:        "remove batch effects from counts (sva ComBat-seq), keeping the group effect",
		ArgsUsage:    "IN",
		BashComplete: completeMethods("combat-seq"),
		Description: "--method combat-seq: sva's ComBat_seq(counts, batch, group) with shrink = FALSE. Per batch,\n" +
			"edgeR's common and gene-wise dispersions; per gene, negative binomial fits of\n" +
			"~ batch + group (~ batch without --group); then each count is moved to the same\n" +
			"quantile of its batch-free distribution. The output is integer counts, for\n" +
			"visualisation, clustering and machine learning. For differential expression put\n" +
			"the batch in the model (DESeq2 ~ batch + condition) instead of correcting counts.\n\n" +
			"Genes that are all zero in some batch are written unchanged, as sva does. A batch\n" +
			"with one sample, a single batch, or a group confounded with batch is an error.\n\n" +
			"Examples:\n" +
			"  colnorm batch-correct --method combat-seq --meta samples.tsv --batch run --group tissue counts.tsv -o adjusted.tsv\n" +
			"  colnorm batch-correct --meta samples.tsv --batch run counts.parquet -o adjusted.parquet   # no group to keep\n" +
			"  colnorm qc --before counts.tsv adjusted.tsv -o qc/                      # PCA before and after",
		Flags: append(append(inputFlags(), outputFlags()...),
			&cli.StringFlag{Name: "method", Aliases: []string{"m"}, Value: "combat-seq", Usage: "the correction: combat-seq (sva ComBat_seq, shrink = FALSE)"},
			&cli.StringFlag{Name: "meta", Usage: "sample metadata (TSV/CSV, first column the sample id)"},
			&cli.StringFlag{Name: "batch", Usage: "metadata column with the batch of each sample"},
			&cli.StringFlag{Name: "group", Usage: "metadata column with the biological group to keep (optional)"},
			jsonFlag(),
		),
		Action: withJSON(e, true, func(c *cli.Context) error {
			in, out, err := matrixIO(c)
			if err != nil {
				return err
			}
			return runBatchCorrect(e, batchCorrectConfig{Input: in, Output: out, Method: c.String("method"),
				Meta: c.String("meta"), Batch: c.String("batch"), Group: c.String("group")})
		}),
	}
}

type batchCorrectConfig struct {
	Input              inputConfig
	Output             outputConfig
	Method             string
	Meta, Batch, Group string
}

func runBatchCorrect(e *env, cfg batchCorrectConfig) error {
	if cfg.Method != "combat-seq" {
		return usagef("unknown batch correction %q: the method is combat-seq", cfg.Method)
	}
	if cfg.Meta == "" || cfg.Batch == "" {
		return usagef("batch-correct needs --meta FILE and --batch COLUMN (and optionally --group COLUMN)")
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	e.meter.Plan(batchCorrectPasses)
	e.noteInput(src)
	meta, err := metadata.Read(cfg.Meta)
	if err != nil {
		return err
	}
	batch, err := meta.Factor(cfg.Batch, src.Samples())
	if err != nil {
		return err
	}
	var group []string
	if cfg.Group != "" {
		if group, err = meta.Factor(cfg.Group, src.Samples()); err != nil {
			return err
		}
	}
	design, err := combatseq.NewDesign(batch, group)
	if errors.Is(err, combatseq.ErrDesign) {
		msg := strings.TrimPrefix(err.Error(), combatseq.ErrDesign.Error()+": ")
		if cfg.Group != "" {
			msg = strings.Replace(msg, "the group is confounded with batch", fmt.Sprintf("group column %q is confounded with batch column %q", cfg.Group, cfg.Batch), 1)
		}
		return &columnar.InputError{File: cfg.Meta, Msg: msg}
	}
	if err != nil {
		return err
	}
	var res *combatseq.Result
	cfg.Output.setMethod("combat-seq")
	err = writeOutput(e, cfg.Input, cfg.Output, src.Genes(), src.Samples(), src.Integer(), func(sink columnar.Sink) error {
		var err error
		res, err = combatseq.Adjust(e.ctx, src, design, sink, combatseq.Options{
			Pass: cfg.Input.pass(e, "batch-correct"), TempDir: cfg.Input.TempDir})
		return err
	})
	if err != nil {
		return err
	}
	if !cfg.Input.Quiet {
		model := "~ batch"
		if !design.Null() {
			model = "~ batch + group"
		}
		fmt.Fprintf(e.stderr, "colnorm: batch-correct: %d batches, model %s; %d of %d genes all zero in some batch were written unchanged\n",
			len(design.Batches), model, res.HeldOut, res.Genes)
	}
	return nil
}
