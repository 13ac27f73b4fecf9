# DESeq2's vst() (blind, parametric, nsub = 1000) of a reference dataset, for
# colnorm's --nsub test. Usage: Rscript vst_nsub.R counts.tsv out.tsv
suppressMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
counts <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
dds <- DESeqDataSetFromMatrix(counts, data.frame(row.names = colnames(counts), x = rep(1, ncol(counts))), ~1)
v <- assay(vst(dds, blind = TRUE, nsub = 1000))
txt <- matrix(sprintf("%.17g", v), nrow(v))
writeLines(c(paste(c("gene_id", colnames(v)), collapse = "\t"),
             paste(rownames(v), apply(txt, 1, paste, collapse = "\t"), sep = "\t")), args[2])
