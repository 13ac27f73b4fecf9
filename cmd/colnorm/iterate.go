package main

import (
	"fmt"

	"github.com/colnorm/colnorm/deseq2"
)

// runSizeFactorsIterate is size-factors --method iterate: DESeq2's
// estimateSizeFactors(type = "iterate"), with the table of the DESeq2 methods.
func runSizeFactorsIterate(e *env, cfg sizeFactorsConfig) error {
	if cfg.ControlPrefix != "" || cfg.ControlGenes != "" {
		return usagef("control genes apply to DESeq2's ratio and poscounts methods, not iterate")
	}
	cfg.Input.Extra = func(G, N int) []memoryItem { return rowStoreMemory(G, N, 0) }
	src, err := cfg.Input.open()
	if err != nil {
		return err
	}
	defer src.Close()
	e.meter.Plan(sizeFactorPasses(cfg.Method, false))
	e.noteInput(src)
	opts := deseq2.IterateOptions{TempDir: cfg.Input.TempDir, Pass: cfg.Input.pass(e, "size factors")}
	if e.meter.Drawing() && !cfg.Input.Quiet { // a terminal: say how the rounds go
		opts.Trace = func(r deseq2.IterateRound) {
			fmt.Fprintf(e.stderr, "size factors (iterate): round %d, sum of squared log changes %.3g\n", r.Round, r.Change)
		}
	}
	f, err := deseq2.SizeFactorsIterate(e.ctx, src, opts)
	if err != nil {
		return err
	}
	return reportDESeq2Factors(e, cfg.Output, f)
}
