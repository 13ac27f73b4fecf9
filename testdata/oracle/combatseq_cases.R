#!/usr/bin/env Rscript
# Extra sva ComBat_seq references for the design layouts the reference sets do not cover
# (sva 3.46 / edgeR 3.40.2, R 4.2.2). For each case it writes
#   combatseq_<case>_counts.tsv  the simulated counts (gene_id, samples)
#   combatseq_<case>_meta.tsv    sample, batch, group
#   combatseq_<case>_ref.tsv     ComBat_seq(counts, batch, group) (group = NULL where the case has none)
# Usage: Rscript combatseq_cases.R OUTDIR
suppressPackageStartupMessages(library(sva))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
set.seed(20261122)

simulate <- function(batch, group, genes = 400) {
  n <- length(batch)
  base <- exp(rnorm(genes, 3, 2))              # means from ~0.1 to ~5000
  disp <- 0.02 + 0.5 / sqrt(base)              # dispersion falling with the mean
  bfx <- matrix(rnorm(genes * nlevels(batch), 0, 0.4), genes)   # batch effects
  gfx <- matrix(rnorm(genes * nlevels(group), 0, 0.7), genes)   # group effects
  lib <- runif(n, 0.6, 1.6)
  mu <- base * lib[col(matrix(0, genes, n))] *
        exp(bfx[, as.integer(batch)] + gfx[, as.integer(group)])
  y <- matrix(rnbinom(genes * n, mu = mu, size = 1 / disp), genes)
  y[1:8, batch == levels(batch)[1]] <- 0       # all zero in the first batch: held out
  y[9:14, ] <- rbinom(6 * n, 1, 0.15)          # totals below 5 in a batch
  rownames(y) <- sprintf("g%03d", seq_len(genes))
  colnames(y) <- sprintf("s%02d", seq_len(n))
  storage.mode(y) <- "integer"
  y
}

cases <- list(
  null2     = list(batch = rep(c("b1", "b2"), c(3, 3)), group = NULL),
  null3     = list(batch = rep(c("b1", "b2", "b3"), c(3, 4, 5)), group = NULL),
  crossed   = list(batch = rep(c("b1", "b2"), each = 4), group = rep(c("A", "B"), 4)),
  absent    = list(batch = rep(c("b1", "b2"), c(4, 4)), group = c("A", "B", "A", "B", "A", "A", "A", "A")),
  small     = list(batch = rep(c("b1", "b2", "b3"), c(4, 2, 4)), group = rep(c("A", "B"), 5)),
  nested    = list(batch = rep(c("b1", "b2", "b3"), c(3, 4, 3)), group = c("A", "A", "A", "A", "B", "A", "B", "B", "B", "B")),
  three3    = list(batch = rep(c("x", "y", "z"), each = 6), group = rep(c("c1", "c2", "c3"), 6)),
  numeric   = list(batch = rep(c("2", "10"), each = 5), group = rep(c("1", "3"), 5))
)

for (name in names(cases)) {
  cs <- cases[[name]]
  batch <- factor(cs$batch)
  group <- if (is.null(cs$group)) NULL else factor(cs$group)
  y <- simulate(batch, if (is.null(group)) factor(rep("A", length(batch))) else group)
  meta <- data.frame(sample = colnames(y), batch = cs$batch,
                     group = if (is.null(cs$group)) "none" else cs$group)
  # R reads numeric labels as numbers: batch 2 < 10 (factor order), as colnorm does.
  if (name == "numeric") { batch <- factor(as.integer(cs$batch)); group <- factor(as.integer(cs$group)) }
  invisible(capture.output(res <- ComBat_seq(y, batch = batch, group = group)))
  write.table(data.frame(gene_id = rownames(y), y, check.names = FALSE),
              file.path(out, sprintf("combatseq_%s_counts.tsv", name)), sep = "\t", quote = FALSE, row.names = FALSE)
  write.table(meta, file.path(out, sprintf("combatseq_%s_meta.tsv", name)), sep = "\t", quote = FALSE, row.names = FALSE)
  write.table(data.frame(gene_id = rownames(res), res, check.names = FALSE),
              file.path(out, sprintf("combatseq_%s_ref.tsv", name)), sep = "\t", quote = FALSE, row.names = FALSE)
}
