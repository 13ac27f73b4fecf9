# DESeq2's rlog(dds, blind = TRUE) on extra cases for colnorm's rlog tests
# (deseq2/rlog_test.go). Run from the repository root:
#   Rscript testdata/oracle/rlog.R
# Writes into testdata/oracle/:
#   rlog_synth_a.tsv.gz        rlog of testdata/reference/synth_a (fitType parametric)
#   rlog_mean_spike.tsv.gz     rlog of testdata/reference/spike with fitType = "mean"
#   rlog_sim_<name>_counts.tsv.gz and rlog_sim_<name>.tsv.gz
#                              simulated negative binomial sets (seeded) and their rlog
#   rlog_flat_counts.tsv.gz and rlog_flat_mean.tsv.gz
#                              a set where the parametric trend fails, and its rlog with fitType = "mean"
#   rlog_prior.tsv             per case: betaPriorVar, the size factor type, the fit type
#                              and the trend (a0, a1, or the mean dispersion)
# Size factors as reference.R sets them: ratio, or poscounts where ratio fails.
# Where the parametric trend fails (DESeq2 then substitutes locfit) the
# simulated set is redrawn with the next seed, so every case here is
# parametric or an explicit fitType = "mean".
suppressMessages(library(DESeq2))
out <- "testdata/oracle"

write_matrix <- function(m, path, fmt = "%.17g") {
  txt <- matrix(sprintf(fmt, m), nrow(m))
  con <- gzfile(path, "w")
  writeLines(c(paste(c("gene_id", colnames(m)), collapse = "\t"),
               paste(rownames(m), apply(txt, 1, paste, collapse = "\t"), sep = "\t")), con)
  close(con)
}

read_counts <- function(path) as.matrix(read.delim(path, row.names = 1, check.names = FALSE))

make_dds <- function(cts) {
  dds <- DESeqDataSetFromMatrix(cts, data.frame(row.names = colnames(cts), x = rep(1, ncol(cts))), ~1)
  sf <- tryCatch(sizeFactors(estimateSizeFactors(dds)), error = function(e) NULL)
  type <- "ratio"
  if (is.null(sf) || !all(is.finite(sf))) {
    sf <- sizeFactors(estimateSizeFactors(dds, type = "poscounts"))
    type <- "poscounts"
  }
  sizeFactors(dds) <- sf
  list(dds = dds, type = type)
}

# rlog, or NULL where the parametric trend fails.
run_rlog <- function(dds, fitType) {
  failed <- FALSE
  r <- withCallingHandlers(
    suppressWarnings(rlog(dds, blind = TRUE, fitType = fitType)),
    message = function(m) {
      if (grepl("local regression fit was automatically substituted", conditionMessage(m))) failed <<- TRUE
      invokeRestart("muffleMessage")
    })
  if (failed) NULL else r
}

# The trend rlog used: a0 and a1 (parametric) or the mean dispersion.
trend <- function(dds, fitType) {
  d <- estimateDispersionsFit(estimateDispersionsGeneEst(dds, quiet = TRUE), fitType, quiet = TRUE)
  f <- dispersionFunction(d)
  if (fitType == "mean") c("NA", "NA", sprintf("%.17g", attr(f, "mean")))
  else c(sprintf("%.17g", attr(f, "coefficients")), "NA")
}

prior <- data.frame(case = character(), beta_prior_var = character(), size_factors = character(), fit = character(),
                    a0 = character(), a1 = character(), mean_disp = character())
record <- function(name, r, d, fit) {
  prior[nrow(prior) + 1, ] <<- c(name, sprintf("%.17g", attr(r, "betaPriorVar")), d$type, fit,
                                 trend(d$dds, if (fit == "mean") "mean" else "parametric"))
}

for (ds in c("marioni", "spike", "synth_a")) {
  d <- make_dds(read_counts(file.path("testdata/reference", ds, "counts.tsv")))
  r <- run_rlog(d$dds, "parametric")
  record(ds, r, d, "parametric")
  if (ds == "synth_a") write_matrix(assay(r), file.path(out, "rlog_synth_a.tsv.gz"))
  if (ds == "spike") {
    r <- run_rlog(d$dds, "mean")
    record("spike_mean", r, d, "mean")
    write_matrix(assay(r), file.path(out, "rlog_mean_spike.tsv.gz"))
  }
}

# Simulated sets: G genes, m samples, means log-normal around 100, dispersion
# a0 + a1/mean, size factors spread over about 2x; "sparse" has a zero in
# every gene (poscounts) and many small counts.
sim <- function(G, m, seed, sparse = FALSE) {
  set.seed(seed)
  mu <- exp(rnorm(G, log(if (sparse) 8 else 100), 2))
  disp <- 0.05 + 1.5 / mu
  sf <- exp(runif(m, -0.4, 0.4))
  cts <- matrix(rnbinom(G * m, mu = outer(mu, sf), size = 1 / disp), G, m)
  if (sparse) cts[cbind(seq_len(G), sample.int(m, G, replace = TRUE))] <- 0
  cts[sample.int(G, 3), ] <- 0 # all-zero genes
  dimnames(cts) <- list(sprintf("gene%04d", seq_len(G)), sprintf("s%02d", seq_len(m)))
  storage.mode(cts) <- "integer"
  cts
}

cases <- list(m2 = c(600, 2), m3 = c(600, 3), m5 = c(800, 5), m12 = c(800, 12), m40 = c(400, 40), sparse = c(800, 8))
for (name in names(cases)) {
  G <- cases[[name]][1]
  m <- cases[[name]][2]
  seed <- 100
  repeat {
    cts <- sim(G, m, seed, sparse = name == "sparse")
    d <- make_dds(cts)
    r <- run_rlog(d$dds, "parametric")
    if (!is.null(r)) break
    seed <- seed + 1
  }
  write_matrix(cts, file.path(out, sprintf("rlog_sim_%s_counts.tsv.gz", name)), "%d")
  write_matrix(assay(r), file.path(out, sprintf("rlog_sim_%s.tsv.gz", name)))
  record(sprintf("sim_%s", name), r, d, sprintf("parametric (seed %d)", seed))
}
# A set where DESeq2's parametric trend fails (constant dispersion 0.05, so
# the fitted a1 comes out negative): rlog would silently use locfit. Its
# counts and rlog with fitType = "mean" are kept for the refusal and the
# --fit-type mean tests.
seed <- 1
repeat {
  set.seed(seed)
  G <- 400
  m <- 6
  mu <- 100 * 100^((seq_len(G) - 1) / (G - 1))
  cts <- matrix(rnbinom(G * m, mu = rep(mu, m), size = 20), G, m)
  dimnames(cts) <- list(sprintf("gene%04d", seq_len(G)), sprintf("s%02d", seq_len(m)))
  storage.mode(cts) <- "integer"
  d <- make_dds(cts)
  if (is.null(run_rlog(d$dds, "parametric"))) break
  seed <- seed + 1
}
write_matrix(cts, file.path(out, "rlog_flat_counts.tsv.gz"), "%d")
r <- run_rlog(d$dds, "mean")
write_matrix(assay(r), file.path(out, "rlog_flat_mean.tsv.gz"))
record("flat_mean", r, d, "mean")
prior$fit[nrow(prior)] <- sprintf("mean (parametric fails; seed %d)", seed)

write.table(prior, file.path(out, "rlog_prior.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
