#!/usr/bin/env Rscript
# R 4.2.2 values for deseq2/iterate_test.go: the negative binomial log density
# (dnbinom with mu, log = TRUE) and lgamma above 10, as DESeq2's iterative size
# factors use them. Run from the repository root:
#   Rscript testdata/oracle/iterate_numerics.R
set.seed(7)
n <- 400
x <- round(c(rep(c(0, 1, 2, 3, 5, 10), 10), exp(runif(n - 60, 0, log(2e6)))))
disp <- exp(runif(n, log(1e-8), log(20)))
mu <- exp(runif(n, log(0.01), log(3e6)))
near <- sample(n, 150)
mu[near] <- x[near] * exp(rnorm(150, 0, 0.05)) + 0.5
fmt <- function(z) trimws(formatC(z, digits = 17, format = "g"))
d <- data.frame(fn = "dnbinom", x = fmt(x), size = fmt(1 / disp), mu = fmt(mu),
                value = fmt(dnbinom(x, size = 1 / disp, mu = mu, log = TRUE)))
lx <- c(10.5, 11, 15.3, 4934719.9, 4934720.5, 94906265.7, 1e8 + 0.3, exp(runif(193, log(10), log(1e9))))
l <- data.frame(fn = "lgamma", x = fmt(lx), size = "", mu = "", value = fmt(lgamma(lx)))
t <- c(0.5, 1, 1.5, 2, 4.5, 5.5, 7.5, 49.5, 499.5)
tg <- data.frame(fn = "trigamma", x = fmt(t), size = "", mu = "", value = fmt(trigamma(t)))
write.table(rbind(d, l, tg), "testdata/oracle/iterate_numerics.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
