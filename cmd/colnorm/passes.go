package main

import (
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
)

// The number of column passes each command makes, for the progress line's
// "pass k/n" and its time left (TestPassPlans checks every count against
// the passes the libraries run). A wrong count only changes the display:
// passes beyond it show as "pass k".

// sizeFactorPasses: DESeq2's ratio, poscounts and iterate read the columns
// twice (sums, then medians or gene rows); edgeR's methods read them for
// library sizes and then their quantiles or TMM against the reference,
// which TMM first chooses from the upper quartiles unless --ref-sample
// names it. The quantiles come from the first pass when no gene is zero in
// every sample: edgeR then drops (pass.Replan) the pass planned for them.
func sizeFactorPasses(method string, refSample bool) int {
	if method == string(edger.TMM) && !refSample {
		return 3
	}
	return 2
}

// normalizePasses: the size factors' passes and one writing pass; CPM,
// RPKM and scanpy's total need the column sums first, TPM needs nothing.
func normalizePasses(method string, refSample bool) int {
	switch {
	case methodFamily(method) != "":
		return sizeFactorPasses(method, refSample) + 1
	case method == "tpm":
		return 1
	}
	return 2 // cpm, rpkm, fpkm, total
}

// filterPasses: filterByExpr takes TMM library sizes (3 passes), then
// per-gene counts and the write; the threshold filter counts and writes.
func filterPasses(byExpr bool) int {
	if byExpr {
		return sizeFactorPasses(string(edger.TMM), false) + 2
	}
	return 2
}

// vstFitPasses: size factors and the read of the gene rows, with or without
// --nsub: the base means that choose the trend's genes come from the
// medians pass (a pass of their own, added to the plan by pass.Replan,
// after the poscounts fall-back or with control genes).
func vstFitPasses() int {
	return sizeFactorPasses(string(deseq2.Ratio), false) + 1
}

// transformPasses: log2 writes after the size factors; the VST after its
// fit; rlog writes from its gene blocks, after the VST's passes.
func transformPasses(method string) int {
	switch method {
	case "log2":
		return sizeFactorPasses(string(deseq2.Ratio), false) + 1
	case "rlog":
		return vstFitPasses()
	}
	return vstFitPasses() + 1
}

// batchCorrectPasses: ComBat-seq reads the columns once into gene blocks and
// writes from them.
const batchCorrectPasses = 1

// qcPasses: the VST fit and the scan's two passes (statistics, then the
// top genes' rows), twice with a before view (--before, or control genes).
func qcPasses(before bool) int {
	n := vstFitPasses() + 2
	if before {
		n *= 2
	}
	return n
}
