# DESeq2's blind VST (vst(), nsub = 1000: the fast path) of a TSV count
# matrix (genes as rows, a gene id column, a header of sample names) and the
# PCA that plotPCA makes of it, for the colnorm bench harness.
# Usage: Rscript vst.R IN.tsv OUT.tsv
# Writes sample, vst_mean (the column means of the VST matrix, %.17g); prints
# load/read/compute (vst)/pca seconds and the PCA's first two variance
# fractions as key=value lines on stdout.
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
suppressPackageStartupMessages(library(DESeq2))
t1 <- proc.time()[["elapsed"]]
# The same read as sizefactors.R: base read.delim, column classes given.
header <- scan(args[1], what = "", sep = "\t", nlines = 1, quiet = TRUE)
counts <- read.delim(args[1], row.names = 1, check.names = FALSE, quote = "", comment.char = "",
                     colClasses = c("character", rep("integer", length(header) - 1)))
counts <- as.matrix(counts)
t2 <- proc.time()[["elapsed"]]
vsd <- vst(DESeqDataSetFromMatrix(counts, data.frame(row.names = colnames(counts)), ~1),
           blind = TRUE, nsub = 1000)
x <- assay(vsd)
t3 <- proc.time()[["elapsed"]]
# plotPCA(vsd, ntop = 500) without the plot: DESeq2 1.38 uses rowVars
# (matrixStats through MatrixGenerics), the 500 most variable genes, and
# prcomp of the samples (centred, not scaled).
rv <- MatrixGenerics::rowVars(x)
select <- order(rv, decreasing = TRUE)[seq_len(min(500, length(rv)))]
pca <- prcomp(t(x[select, ]))
percentVar <- pca$sdev^2 / sum(pca$sdev^2)
t4 <- proc.time()[["elapsed"]]
write.table(data.frame(sample = colnames(x), vst_mean = sprintf("%.17g", colMeans(x))), args[2],
            sep = "\t", quote = FALSE, row.names = FALSE)
cat(sprintf("load_s=%.3f\nread_s=%.3f\ncompute_s=%.3f\npca_s=%.3f\n", t1 - t0, t2 - t1, t3 - t2, t4 - t3))
cat(sprintf("pc1_var=%.17g\npc2_var=%.17g\n", percentVar[1], percentVar[2]))
cat(sprintf("r_version=%s.%s\ndeseq2_version=%s\n", R.version$major, R.version$minor,
            as.character(packageVersion("DESeq2"))))
