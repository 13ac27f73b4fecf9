#!/usr/bin/env Rscript
# Times sva's ComBat_seq on a count matrix and writes its output, for the README's comparison with
# colnorm batch-correct (the generated 91,897 x 32 matrix of bench/cmd/gen -seed 1, converted to TSV).
# Usage: Rscript combatseq_sva_timing.R COUNTS.tsv META.tsv OUT.tsv   (META: sample, batch, group)
suppressPackageStartupMessages(library(sva))
args <- commandArgs(trailingOnly = TRUE)
raw <- read.delim(args[1], check.names = FALSE)
cts <- as.matrix(raw[, -1]); rownames(cts) <- raw[[1]]; storage.mode(cts) <- "integer"
meta <- read.delim(args[2], check.names = FALSE); rownames(meta) <- meta[[1]]; meta <- meta[colnames(cts), ]
t0 <- proc.time()
invisible(capture.output(res <- ComBat_seq(cts, batch = factor(meta$batch), group = factor(meta$group))))
el <- proc.time() - t0
cat(sprintf("ComBat_seq: %.1f s elapsed, %.1f s user\n", el[["elapsed"]], el[["user.self"]]))
write.table(data.frame(gene_id = rownames(res), res, check.names = FALSE), args[3], sep = "\t", quote = FALSE, row.names = FALSE)
