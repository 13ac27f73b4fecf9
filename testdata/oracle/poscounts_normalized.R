# DESeq2 1.38.3 (R 4.2.2) counts(dds, normalized = TRUE) with poscounts size
# factors, for colnorm's `normalize --method poscounts` test
# (cmd/colnorm/poscounts_test.go). Run from this folder:
#   Rscript poscounts_normalized.R
# Written: every 16th gene of marioni and every 10th of synth_a (computed on
# the whole matrices), as dataset, gene_id, sample, value (17 digits).
suppressMessages(library(DESeq2))
out <- "dataset\tgene_id\tsample\tvalue"
for (ds in c("marioni", "synth_a")) {
  cts <- as.matrix(read.delim(file.path("..", "reference", ds, "counts.tsv"), row.names = 1, check.names = FALSE))
  dds <- DESeqDataSetFromMatrix(cts, data.frame(row.names = colnames(cts), x = rep(1, ncol(cts))), ~1)
  dds <- estimateSizeFactors(dds, type = "poscounts")
  n <- counts(dds, normalized = TRUE)
  rows <- seq(1, nrow(n), by = c(marioni = 16, synth_a = 10)[[ds]])
  for (i in rows) out <- c(out, paste(ds, rownames(n)[i], colnames(n), sprintf("%.17g", n[i, ]), sep = "\t"))
}
con <- gzfile("poscounts_normalized.tsv.gz", "w")
writeLines(out, con)
close(con)
