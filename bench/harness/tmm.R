# edgeR's TMM normalization factors of a TSV count matrix (genes as rows, a
# gene id column, a header of sample names), for the colnorm bench harness.
# Usage: Rscript tmm.R IN.tsv OUT.tsv
# Writes sample, lib_size (column sums) and norm_factor; prints load/read/
# compute seconds as key=value lines on stdout.
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
suppressPackageStartupMessages(library(edgeR))
t1 <- proc.time()[["elapsed"]]
# The same read as sizefactors.R: base read.delim, column classes given.
header <- scan(args[1], what = "", sep = "\t", nlines = 1, quiet = TRUE)
counts <- read.delim(args[1], row.names = 1, check.names = FALSE, quote = "", comment.char = "",
                     colClasses = c("character", rep("integer", length(header) - 1)))
counts <- as.matrix(counts)
t2 <- proc.time()[["elapsed"]]
# calcNormFactors.default: lib.size = colSums(counts), refColumn = NULL.
nf <- calcNormFactors(counts, method = "TMM")
t3 <- proc.time()[["elapsed"]]
write.table(data.frame(sample = colnames(counts), lib_size = sprintf("%.17g", colSums(counts)),
                       norm_factor = sprintf("%.17g", nf)), args[2],
            sep = "\t", quote = FALSE, row.names = FALSE)
cat(sprintf("load_s=%.3f\nread_s=%.3f\ncompute_s=%.3f\n", t1 - t0, t2 - t1, t3 - t2))
cat(sprintf("r_version=%s.%s\nedger_version=%s\n", R.version$major, R.version$minor,
            as.character(packageVersion("edgeR"))))
