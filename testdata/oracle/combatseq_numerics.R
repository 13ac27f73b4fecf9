#!/usr/bin/env Rscript
# Oracle values for combatseq's numeric kernels (R 4.2.2 on x86-64):
#   combatseq_sums.tsv.gz     R's sum() (long double accumulation) and rowMeans() of random vectors
#   combatseq_pnbinom.tsv.gz  pnbinom(x, size=, mu=) (TOMS 708 bratio)
#   combatseq_qnbinom.tsv.gz  qnbinom(p, size=, mu=) (R 4.2 search with its 8-epsilon fuzz)
# Every double is written in C's %a hexadecimal form, so it reads back exactly.
# Usage: Rscript combatseq_numerics.R OUTDIR
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
set.seed(20261121)
hex <- function(x) sprintf("%a", x)

# Sums: magnitudes and cancellation like the per-gene adjusted profile likelihoods.
rows <- lapply(1:300, function(i) {
  n <- sample(c(2:5, 10, 50, 200), 1)
  x <- switch(1 + i %% 4,
              rnorm(n) * 10^runif(n, -3, 3),
              -abs(rnorm(n, 50, 30)) * 10^runif(1, 0, 4),
              c(1e16, rnorm(n - 1)),
              runif(n) - 0.5)
  data.frame(values = paste(hex(x), collapse = ","), sum = hex(sum(x)),
             rowmean = hex(rowMeans(matrix(x, 1))))
})
write.table(do.call(rbind, rows), gzfile(file.path(out, "combatseq_sums.tsv.gz")), sep = "\t", quote = FALSE, row.names = FALSE)

# pnbinom with mu: sizes 1/phi for phi from 1e-6 to 20, means from 1e-3 to 1e6, x around the
# distribution and in both tails.
n <- 6000
size <- 10^runif(n, -1.3, 6)
mu <- 10^runif(n, -3, 6)
sd <- sqrt(mu + mu^2 / size)
x <- pmax(0, floor(mu + sd * rnorm(n, 0, 2)))
x[1:500] <- floor(runif(500, 0, 20))
p <- pnbinom(x, size = size, mu = mu)
write.table(data.frame(x = x, size = hex(size), mu = hex(mu), p = hex(p)),
            gzfile(file.path(out, "combatseq_pnbinom.tsv.gz")), sep = "\t", quote = FALSE, row.names = FALSE)

# qnbinom with mu, on probabilities as match_quantiles makes them: pnbinom of another
# distribution's count (so some sit next to steps of F), and uniform ones.
n <- 6000
size <- 10^runif(n, -1.3, 6)
mu <- 10^runif(n, -3, 6)
size2 <- size * 10^runif(n, -0.3, 0.3)
mu2 <- mu * 10^runif(n, -0.5, 0.5)
sd <- sqrt(mu2 + mu2^2 / size2)
y <- pmax(0, floor(mu2 + sd * rnorm(n)))
p <- pnbinom(y, size = size2, mu = mu2)
p[1:1000] <- runif(1000)
same <- 1001:1500 # the same distribution: P sits on a step of F
p[same] <- pnbinom(y[same], size = size[same], mu = mu[same])
q <- qnbinom(p, size = size, mu = mu)
write.table(data.frame(p = hex(p), size = hex(size), mu = hex(mu), q = q),
            gzfile(file.path(out, "combatseq_qnbinom.tsv.gz")), sep = "\t", quote = FALSE, row.names = FALSE)
