package main

import (
	"math"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/scanpy"
)

// runNormalizeTotal is normalize --method total [--target-sum X] [--log1p]:
// scanpy's pp.normalize_total, and pp.log1p after it.
func runNormalizeTotal(e *env, cfg normalizeConfig) error {
	switch {
	case cfg.Log:
		return usagef("--log is log2 for the other methods; with --method total use --log1p (scanpy's natural log1p)")
	case cfg.Lengths != "" || cfg.GTF != "":
		return usagef("--lengths and --gtf apply to tpm, rpkm and fpkm only")
	case cfg.TargetSumSet && !(cfg.TargetSum > 0 && !math.IsInf(cfg.TargetSum, 0)):
		return usagef("--target-sum must be a positive number, not %v", cfg.TargetSum)
	}
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	e.meter.Plan(normalizePasses(cfg.Method, false))
	e.noteInput(src)
	opts := scanpy.TotalOptions{TargetSum: cfg.TargetSum, Log1p: cfg.Log1p, Pass: cfg.Input.pass(e, "normalize")}
	cfg.Output.setMethod("total")
	return writeOutput(e, cfg.Input, cfg.Output, src.Genes(), src.Samples(), false, func(sink columnar.Sink) error {
		_, err := scanpy.NormalizeTotal(e.ctx, src, sink, opts)
		return err
	})
}
