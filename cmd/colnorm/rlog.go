package main

import (
	"fmt"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
)

// runRlog writes DESeq2's blind rlog of src. It says on stderr where it
// departs from the default path (poscounts size factors) and passes on
// DESeq2's sparsity warning; a failed parametric trend is an input error
// (exit 2) that suggests --fit-type mean.
func runRlog(e *env, cfg transformConfig, src columnar.Source) error {
	r, err := deseq2.FitRlog(e.ctx, src, deseq2.RlogOptions{Fit: deseq2.FitType(cfg.FitType),
		TempDir: cfg.Input.TempDir, Pass: cfg.Input.pass(e, "rlog fit")})
	if err != nil {
		return err
	}
	defer r.Close()
	e.noteDESeq2(r.Factors)
	if r.Factors.Method != deseq2.Ratio {
		fmt.Fprintf(e.stderr, "colnorm: %s: every gene has a zero, so ratio size factors do not exist; using poscounts\n", src.Path())
	}
	var st deseq2.RlogStats
	cfg.Output.setFactors(metaSizeFactors, src.Samples(), r.Factors.SizeFactor)
	err = writeOutput(e, cfg.Input, cfg.Output, src.Genes(), src.Samples(), false, func(sink columnar.Sink) error {
		st, err = r.Write(e.ctx, sink)
		return err
	})
	if err != nil {
		return err
	}
	if st.SparseWarning {
		fmt.Fprintf(e.stderr, "colnorm: %s: warning (as DESeq2's rlog gives it): in %.1f%% of the genes whose normalized counts sum to more than 100, one sample holds more than 90%% of the sum; rlog assumes counts close to negative binomial, and the VST or log2 may suit these data better\n",
			src.Path(), 100*st.SparseFraction)
	}
	return nil
}
