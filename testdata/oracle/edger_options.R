# edgeR 3.40.2 (R 4.2.2) outputs for the edgeR options of the command line,
# read by cmd/colnorm/edger_options_test.go. Run from this folder:
#   Rscript edger_options.R
# It writes
#   edger_options_factors.tsv: calcNormFactors(counts, method, ...) with
#     non-default refColumn, logratioTrim, sumTrim, doWeighting, Acutoff, p,
#     for marioni and synth_a; `flags` are the colnorm flags that ask for it.
#   edger_options_cpm.tsv.gz: cpm(y), cpm(y, log = TRUE, prior.count), rpkm()
#     and TPM of marioni for every CPM-type method of `colnorm normalize`,
#     computed on the whole matrix; only the genes listed (every 64th, and the
#     first ten with a zero count) are written, to keep the file small.
#   edger_options_filter.tsv: filterByExpr(y, ...) on the TMM DGEList with
#     non-default options, with and without the group, and the threshold
#     filter rowSums(counts >= N & cpm(counts) >= X) >= K; `keep` has one
#     letter per gene of counts.tsv, in its order: T kept, F dropped.
# Numbers have 17 significant digits.
suppressMessages(library(edgeR))
fmt <- function(x) sprintf("%.17g", x)
read_counts <- function(ds) as.matrix(read.delim(file.path("..", "reference", ds, "counts.tsv"), row.names = 1, check.names = FALSE))

# 1. Normalization factors with options.
cases <- list(
  list("tmm", "--ref-sample 3", list(method = "TMM", refColumn = 3)),
  list("tmm", "--ref-sample @5", list(method = "TMM", refColumn = 5)), # @5: the 5th sample's name
  list("tmm", "--logratio-trim 0.2 --sum-trim 0.1", list(method = "TMM", logratioTrim = 0.2, sumTrim = 0.1)),
  list("tmm", "--no-weighting", list(method = "TMM", doWeighting = FALSE)),
  list("tmm", "--acutoff -17", list(method = "TMM", Acutoff = -17)),
  list("tmm", "--ref-sample 2 --logratio-trim 0.1 --sum-trim 0.2 --no-weighting --acutoff -18",
       list(method = "TMM", refColumn = 2, logratioTrim = 0.1, sumTrim = 0.2, doWeighting = FALSE, Acutoff = -18)),
  list("tmmwsp", "--ref-sample 4", list(method = "TMMwsp", refColumn = 4)),
  list("tmmwsp", "--logratio-trim 0.25 --sum-trim 0.1", list(method = "TMMwsp", logratioTrim = 0.25, sumTrim = 0.1)),
  list("tmmwsp", "--no-weighting", list(method = "TMMwsp", doWeighting = FALSE)),
  list("upperquartile", "--p 0.9", list(method = "upperquartile", p = 0.9)),
  list("upperquartile", "--p 0.5", list(method = "upperquartile", p = 0.5))
)
out <- c("dataset\tmethod\tflags\tsample\tlib_size\tnorm_factor")
for (ds in c("marioni", "synth_a")) {
  cts <- read_counts(ds)
  for (cs in cases) {
    flags <- sub("@5", colnames(cts)[5], cs[[2]], fixed = TRUE)
    f <- do.call(calcNormFactors, c(list(cts), cs[[3]]))
    def <- calcNormFactors(cts, method = cs[[3]]$method)
    if (max(abs(f / def - 1)) < 1e-6) stop(ds, " ", flags, ": the option changes nothing")
    out <- c(out, paste(ds, cs[[1]], flags, colnames(cts), fmt(colSums(cts)), fmt(f), sep = "\t"))
  }
}
writeLines(out, "edger_options_factors.tsv")

# 2. CPM-type normalized values of marioni.
cts <- read_counts("marioni")
len <- read.delim(file.path("..", "reference", "marioni", "lengths.tsv"), check.names = FALSE, stringsAsFactors = FALSE)
gl <- setNames(as.numeric(len[[2]]), len[[1]])[rownames(cts)]
rows <- sort(unique(c(seq(1, nrow(cts), by = 64), head(which(apply(cts == 0, 1, any)), 10))))
out <- c(paste(c("flags", "gene_id", colnames(cts)), collapse = "\t"))
add <- function(flags, m) {
  m <- m[rows, , drop = FALSE]
  txt <- matrix(fmt(m), nrow(m))
  out <<- c(out, paste(flags, rownames(cts)[rows], apply(txt, 1, paste, collapse = "\t"), sep = "\t"))
}
methods <- c(cpm = NA, tmm = "TMM", tmmwsp = "TMMwsp", rle = "RLE", upperquartile = "upperquartile")
for (m in names(methods)) {
  y <- DGEList(cts)
  if (!is.na(methods[[m]])) y <- calcNormFactors(y, method = methods[[m]])
  add(paste("--method", m), cpm(y))
  add(paste("--method", m, "--log"), cpm(y, log = TRUE, prior.count = 2))
}
y <- calcNormFactors(DGEList(cts), method = "TMM")
add("--method tmm --log --prior-count 0.5", cpm(y, log = TRUE, prior.count = 0.5))
add("--method tmm --log --prior-count 5", cpm(y, log = TRUE, prior.count = 5))
y <- calcNormFactors(DGEList(cts), method = "upperquartile", p = 0.9)
add("--method upperquartile --p 0.9", cpm(y))
add("--method rpkm", rpkm(cts, gene.length = gl))
add("--method fpkm", rpkm(cts, gene.length = gl))
add("--method rpkm --log", rpkm(cts, gene.length = gl, log = TRUE, prior.count = 2))
rate <- cts / gl
tpm <- t(t(rate) / colSums(rate)) * 1e6
add("--method tpm", tpm)
add("--method tpm --log", log2(tpm + 1))
con <- gzfile("edger_options_cpm.tsv.gz", "w")
writeLines(out, con)
close(con)

# 3. Filters.
out <- NULL
cols <- list()
for (ds in c("marioni", "synth_a")) {
  cts <- read_counts(ds)
  meta <- read.delim(file.path("..", "reference", ds, "meta.tsv"), check.names = FALSE, stringsAsFactors = FALSE)
  gcol <- c(marioni = "tissue", synth_a = "condition")[[ds]]
  group <- factor(meta[[gcol]][match(colnames(cts), meta[[1]])])
  y <- calcNormFactors(DGEList(cts), method = "TMM")
  lcpm <- cpm(cts)
  keep <- list(
    "--by-expr" = filterByExpr(y),
    "--by-expr --group" = filterByExpr(y, group = group),
    "--by-expr --group --min-count 5 --min-total-count 30 --large-n 3 --min-prop 0.5" =
      filterByExpr(y, group = group, min.count = 5, min.total.count = 30, large.n = 3, min.prop = 0.5),
    "--by-expr --min-count 20 --min-total-count 100" = filterByExpr(y, min.count = 20, min.total.count = 100),
    "--min-count 10 --min-samples 3" = rowSums(cts >= 10) >= 3,
    "--min-count 5 --min-cpm 20 --min-samples 4" = rowSums(cts >= 5 & lcpm >= 20) >= 4,
    "--min-cpm 50 --min-samples 2" = rowSums(lcpm >= 50) >= 2
  )
  for (k in names(keep)) {
    out <- c(out, paste(ds, k, paste(ifelse(keep[[k]], "T", "F"), collapse = ""), sep = "\t"))
  }
}
writeLines(c("dataset\tflags\tkeep", out), "edger_options_filter.tsv")
