// Package combatseq adjusts RNA-seq counts for batch effects as sva's
// ComBat_seq(counts, batch, group) does (sva 3.46 with edgeR 3.40.2, R
// 4.2.2; shrink = FALSE, full_mod = TRUE, no covariates), keeping the
// biological group's effect when a group is given. The output is integer
// counts for visualisation, clustering or machine learning; for differential
// expression, put the batch in the model instead.
//
// # The model
//
// For gene i and sample j in batch b(j), with library size lib_j and
// o_j = ln lib_j, the counts are negative binomial with
//
//	ln μ_ij = o_j + γ_{i,b(j)} + Σ_g β_ig X_jg,   Var = μ + φ_{i,b(j)} μ²,
//
// X the treatment-coded group (~group: levels 2..L) and γ the batch
// coefficients. ComBat-seq then maps each count through the quantiles of
// its fitted distribution to those of a batch-free one:
//
//	y* = 1 + F⁻¹( F(y-1; μ_ij, φ_ib); μ*_ij, φ*_i ),  μ*_ij = exp(ln μ_ij - γ_{i,b(j)}),
//	φ*_i = mean over batches of φ_ib,
//
// F the negative binomial distribution function (pnbinom/qnbinom with
// size = 1/φ). Counts of 0 and 1 stay as they are, and so does every count
// whose F(y-1) is within 1e-4 of 1.
//
// # Steps (ALGORITHMS.md §9)
//
//  1. Genes that are all zero within any batch are held out and written
//     unchanged (sva keeps them in its output unchanged). The others are
//     the kept genes; lib_j is the column sum over them (no TMM).
//  2. Dispersions, batch by batch, with the batch's own samples and the
//     design ~group restricted to them (edgeR's estimateGLMCommonDisp, then
//     estimateGLMTagwiseDisp with prior.df = 0): a common dispersion
//     maximising the summed Cox-Reid adjusted profile likelihood over the
//     genes whose total in the batch is at least 5 (R's optimize on φ^¼ in
//     [0, √2], tol 1e-5), then per gene the maximum of a spline through that
//     likelihood at 11 multiples φ̄·2^p, p in [-6, 6]. Genes with a total
//     below 5 in the batch keep the common value. A batch with no more
//     samples than group levels, or missing a level, gets its common
//     dispersion only, estimated with an intercept, for every gene.
//  3. Two GLM fits per gene on [batch indicators | group dummies], with
//     dispersions φ_{i,b(j)}: a one-way fit where the design has as many
//     distinct rows as columns (always in the null model), otherwise
//     Levenberg-Marquardt. Fit 1 (with edgeR's prior count 1e-4) gives the
//     mean batch effect α_i = Σ_b γ_ib n_b/n; fit 2, with offsets o_j + α_i,
//     gives μ_ij (without the prior) and γ_ib (with it).
//  4. The quantile mapping above, value by value.
//
// # Edge cases
//
//   - A batch with one sample: error, as in sva ("ComBat-seq doesn't support
//     1 sample per batch yet"). A single batch: error.
//   - A group confounded with batch ([batch | group] rank-deficient: the
//     batches and the groups they hold fall into separate sets): error
//     naming them, as sva stops ("The covariate is confounded with batch!").
//     These errors wrap ErrDesign; the command line exits with status 2.
//   - A group with one level: the null model, as in sva.
//   - Every gene all zero in some batch, or no gene with a total of 5 in
//     some batch: a *columnar.InputError (sva fails in edgeR there).
//
// # Numbers
//
// The arithmetic follows R and edgeR's C++ step by step (long double sums
// where R uses them, the same LAPACK orderings, Brent's method as in R's
// optimize, the FMM spline), and the negative binomial distribution
// function is evaluated to about 1e-15 relative (3.4e-12 at worst; see
// betaRatio). Go's math.Log, Exp and Lgamma differ from the C library's in
// the last bit for a few percent of arguments, and the common dispersion is
// the end of an optimisation whose path a last-bit change can move (by up
// to about 1e-4 relative, within its tolerance), so a few counts in ten
// thousand can differ from sva's by one. Measured: marioni 5 of 50,880
// counts off by one, spike and eight more layouts (testdata/oracle)
// identical.
//
// # Memory and passes
//
// The input is read once into gene blocks (in memory up to 64 MiB,
// otherwise a temporary file read back in blocks of about 64 MiB); the
// common dispersions take one pass over the blocks per round of Brent's
// method (about 25, the batches' searches run side by side), the
// adjustment one more; the output's rows are held the same way and written
// column by column. Per gene the state is a few numbers per batch. Results
// do not depend on the number of threads.
package combatseq
