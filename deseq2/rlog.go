package deseq2

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

// The regularized logarithm of DESeq2 1.38 (rlog(dds, blind = TRUE)), for
// the design ~1, streamed over blocks of genes.
//
// With raw counts c_ij, size factors s_j, q_ij = c_ij/s_j and m samples:
//
//  1. Gene-wise dispersions and the trend as for the blind VST, on every
//     gene (GeneDispersions, FitTrend). Each gene then uses the trend value
//     α_i = a₀ + a₁/baseMean_i (fitType mean: α_i = ᾱ); neither its own
//     estimate nor a MAP shrinkage enters.
//  2. Genes whose counts are all zero give rlog 0 in every sample and take
//     no part in anything below.
//  3. The prior variance (betaPriorVar, log2 scale) matches the upper 5% of
//     the absolute log fold changes x_ij = |log2(q_ij + 0.5) − log2(baseMean_i
//     + 0.5)| to a normal distribution: σ² = (Q/qnorm(0.975))², where Q is
//     the weighted 0.95 quantile (Hmisc wtd.quantile, normwt = TRUE) of the
//     x_ij with weights w_i = 1/(1/baseMean_i + α_i), normalised to sum to
//     the number of values N. Q = (1−g)·v(lo) + g·v(hi) with h = 1 +
//     (n−1)·0.95 (n the total weight), lo = max(⌊h⌋, 1), hi = min(lo+1, n),
//     g = h − ⌊h⌋, and v(t) the smallest value whose cumulative weight
//     reaches t (the first value when t is below every cumulative weight,
//     the last when above). Where values repeat, R first merges the values
//     that print alike with 15 significant digits and uses the printed value;
//     so does this code, which notices repeats within a gene (two equal
//     normalized counts, typically two zeros), between genes with the same
//     counts, and among the values next to the quantile; a repeat that is
//     none of these would change Q by at most 5e-16 relative.
//  4. Each gene is fitted by the ridge-penalised negative binomial GLM with
//     the expanded design X = [1 | I_m] (an intercept and one coefficient
//     per sample), log link, offsets ln s_j and the penalty
//     Λ = diag(1e-6, 1/σ², …, 1/σ²)/(ln 2)² on the natural-log scale,
//     by DESeq2's fitBeta iteration: from β = (ln baseMean, 0, …, 0) with
//     μ_j = max(s_j e^{β₀+β_j}, 0.5), repeat at most 100 times
//     W_j = μ_j/(1 + α μ_j), z_j = ln(μ_j/s_j) + (c_j − μ_j)/μ_j,
//     β = (XᵀWX + Λ)⁻¹ XᵀWz, stop if any |β_k| > 30, update μ (clamped),
//     dev = −2 Σ_j ln NB(c_j; size 1/α, mean μ_j), and stop from the second
//     iteration on when |dev − dev_old|/(|dev| + 0.1) < 1e-4. The stopping
//     rule is part of the result: a fully converged fit differs by up to
//     0.1.
//  5. rlog_ij = log2(e)·β₀ + log2(e)·β_j.
//
// The normal equations of the expanded design have a closed form: with
// a_j = W_j/(W_j + λ), where λ is the samples' ridge and λ₀ the intercept's,
//
//	β₀ = Σ_j a_j z_j / (λ₀/λ + Σ_j a_j),  β_j = a_j (z_j − β₀),
//
// so each iteration costs O(m) instead of the O(m³) of a QR decomposition.
// (From the sample rows, W_j β₀ + (W_j + λ) β_j = W_j z_j; put into the
// intercept row.) DESeq2 solves the same equations by a QR decomposition of
// the augmented matrix [√W X; √Λ]; the two agree to about 1e-14. The
// deviance is computed as Σ_j [lnΓ(c_j+r) − lnΓ(r) − lnΓ(c_j+1)], once per
// gene, plus the part that depends on μ, −r ln(1+μ_j/r) − c_j ln(1+r/μ_j)
// with r = 1/α; it steers only the stopping rule, and differs from R's
// dnbinom by about 1e-13 relative.
//
// Memory: the counts in row blocks (ReadRows: in memory up to 64 MiB,
// otherwise a temporary file read back in blocks of about 64 MiB), a
// histogram of 2^19 bins for the quantile, and for large matrices a second
// temporary file that turns the fitted rows into output columns (64 MiB of
// buffers). Nothing grows with the number of genes but a few values per gene.
// Fractional counts (Options.AllowFractional) are fitted as they are; DESeq2
// itself refuses them.
//
// The trend must come from the parametric fit (or fitType mean when asked
// for): where the parametric fit fails DESeq2 switches to a locfit trend,
// which colnorm does not reproduce, and FitRlog fails with an InputError.

const (
	rlogBetaTol    = 1e-4 // fitBeta's betaTol in rlogData
	rlogMaxIter    = 100
	rlogLargeBeta  = 30   // |β| beyond which fitBeta gives up on a gene
	rlogInterRidge = 1e-6 // the intercept's ridge (log2 scale)
	rlogMinMu      = 0.5
	rlogPriorProb  = 0.95
	rlogQnorm975   = 1.9599639845400536 // qnorm(0.975)
	rlogLog2E      = 1.4426950408889634 // R's log2(exp(1))
)

// RlogOptions configure FitRlog.
type RlogOptions struct {
	Fit     FitType // Parametric (default) or MeanFit
	TempDir string  // for the rows of a large matrix and the output; "" is the system's
	Pass    pass.Options
}

// Rlog is a fitted blind rlog: everything up to the per-gene GLMs, and the
// counts in row blocks for them. Write runs the GLMs; Close releases the
// rows.
type Rlog struct {
	Factors  *Factors
	Trend    *Trend
	Genes    []GeneDispersion // every gene; all-zero genes have BaseMean 0
	DispFit  []float64        // the trend's dispersion per gene (0 for all-zero genes)
	PriorVar float64          // betaPriorVar: σ² of the sample coefficients, log2 scale
	// Quantile is Q, the weighted 0.95 quantile of the absolute log fold
	// changes, and Passes the number of reads of the rows that found it.
	Quantile float64
	Passes   int

	src     columnar.Source
	rows    RowBlocks
	closer  io.Closer
	threads int
	tempDir string
	written bool
}

// RlogStats describe the per-gene fits of Write.
type RlogStats struct {
	Genes        int // genes fitted (not all zero)
	AllZero      int // genes whose counts are all zero (rlog 0)
	Iterations   int // iterations over all genes
	MaxIter      int // the most iterations of one gene
	NotConverged int // genes stopped after 100 iterations
	LargeBeta    int // genes stopped because a coefficient exceeded 30 in absolute value
	// SparseFraction is DESeq2's sparseTest: of the genes whose normalized
	// counts sum to more than 100, the fraction where one sample holds more
	// than 90% of the sum. rlog warns above 0.1 (SparseWarning).
	SparseFraction float64
	SparseWarning  bool
}

// FitRlog prepares DESeq2's blind rlog of src: ratio size factors
// (poscounts where every gene has a zero, noted in Factors.Method), the
// counts in row blocks (in memory up to 64 MiB, otherwise a temporary file),
// gene-wise dispersions of every gene, the trend and the prior variance.
// Close the result when done.
func FitRlog(ctx context.Context, src columnar.Source, opts RlogOptions) (*Rlog, error) {
	if opts.Fit == "" {
		opts.Fit = Parametric
	}
	if opts.Fit != Parametric && opts.Fit != MeanFit {
		return nil, fmt.Errorf("deseq2: unknown fit type %q (parametric or mean)", opts.Fit)
	}
	if m := len(src.Samples()); m < 2 {
		return nil, &columnar.InputError{File: src.Path(), Msg: fmt.Sprintf("rlog needs at least 2 samples (%d given): with one sample no dispersion can be estimated", m)}
	}
	threads := opts.Pass.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	f, err := SizeFactors(ctx, src, Options{Method: Ratio, FallbackToPosCounts: true, Pass: opts.Pass})
	if err != nil {
		return nil, err
	}
	rows, closer, err := ReadRows(ctx, src, nil, opts.Pass, opts.TempDir)
	if err != nil {
		return nil, err
	}
	return fitRlogRows(ctx, src, f, rows, closer, opts, threads)
}

// fitRlogRows is FitRlog after the size factors and the rows; it closes
// closer on failure.
func fitRlogRows(ctx context.Context, src columnar.Source, f *Factors, rows RowBlocks, closer io.Closer, opts RlogOptions, threads int) (*Rlog, error) {
	if opts.Fit == "" {
		opts.Fit = Parametric
	}
	var err error
	r := &Rlog{Factors: f, src: src, rows: rows, closer: closer, threads: threads, tempDir: opts.TempDir}
	fail := func(err error) (*Rlog, error) {
		r.Close()
		return nil, err
	}
	if r.Genes, err = GeneDispersions(ctx, rows, f.SizeFactor, threads); err != nil {
		return fail(err)
	}
	if r.Trend, err = FitTrend(r.Genes, opts.Fit); err != nil {
		return fail(&columnar.InputError{File: src.Path(), Msg: err.Error()})
	}
	if r.Trend.Fallback != "" {
		return fail(&columnar.InputError{File: src.Path(), Msg: "rlog: " + r.Trend.Fallback +
			"; DESeq2 would switch to a local (locfit) trend, which colnorm does not reproduce: use --fit-type mean, or the VST"})
	}
	r.DispFit = make([]float64, len(r.Genes))
	for i, g := range r.Genes {
		if g.BaseMean > 0 {
			r.DispFit[i] = rlogTrendDispersion(r.Trend, g.BaseMean)
		}
	}
	sel := newRlogSelection(rlogSelLevels, rlogSelCollectLimit)
	q, passes, err := rlogPriorQuantile(ctx, rows, f.SizeFactor, r.Genes, r.DispFit, threads, sel)
	if err != nil {
		return fail(err)
	}
	r.Quantile, r.Passes = q, passes
	sd := q / rlogQnorm975
	r.PriorVar = sd * sd
	if !(r.PriorVar > 0) || math.IsInf(r.PriorVar, 0) {
		return fail(&columnar.InputError{File: src.Path(), Msg: fmt.Sprintf("rlog: the prior variance of the log fold changes is %g (their weighted 95%% quantile is %g): the normalized counts hardly vary between samples; use the VST or log2", r.PriorVar, q)})
	}
	return r, nil
}

// rlogTrendDispersion is the trend's value at mean normalized count mean
// (DESeq2's dispFit).
func rlogTrendDispersion(t *Trend, mean float64) float64 {
	if t.Type == MeanFit {
		return t.MeanDisp
	}
	return t.A0 + t.A1/mean
}

// Close releases the row blocks (a temporary file for large inputs).
func (r *Rlog) Close() error {
	if r.closer == nil {
		return nil
	}
	err := r.closer.Close()
	r.closer = nil
	return err
}

// Write fits every gene and writes the rlog values of every sample to sink,
// column by column. It can be called once: for matrices held in memory it
// overwrites the counts with the results. Matrices beyond 64 MiB go through
// a temporary file (TempDir) to turn the genes' rows into sample columns.
// The results do not depend on the number of threads.
func (r *Rlog) Write(ctx context.Context, sink columnar.Sink) (RlogStats, error) {
	var st RlogStats
	if r.written {
		return st, fmt.Errorf("deseq2: Rlog.Write called twice")
	}
	r.written = true
	m := r.rows.Samples()
	G := len(r.Genes)
	sf := r.Factors.SizeFactor
	lambda := 1 / r.PriorVar / (math.Ln2 * math.Ln2)
	lambda0 := rlogInterRidge / (math.Ln2 * math.Ln2)

	type workerState struct {
		fit  *rlogFitter
		y    []float64
		beta []float64
		st   RlogStats
		big  int // genes with a normalized sum above 100
		conc int // of those, genes with one sample above 90% of the sum
	}
	ws := make([]*workerState, r.threads)
	for w := range ws {
		ws[w] = &workerState{fit: newRlogFitter(sf, lambda, lambda0), y: make([]float64, m), beta: make([]float64, m+1)}
	}

	inMemory, _ := r.rows.(*RowMatrix)
	var out *columnar.Spill
	if inMemory == nil {
		var err error
		if out, err = columnar.NewRowSpill(r.tempDir, m, rowsInMemory/2); err != nil {
			return st, err
		}
		defer out.Close()
	}
	row := make([]float64, m)
	_, err := EachBlock(ctx, r.rows, nil, func(g0, n int, block []float64) error {
		var wg sync.WaitGroup
		for w := range ws {
			wg.Add(1)
			go func(s *workerState, w int) {
				defer wg.Done()
				for k := w; k < n; k += len(ws) {
					i := g0 + k
					var sum, max float64
					for j := range s.y {
						s.y[j] = block[j*n+k]
						q := s.y[j] / sf[j]
						sum += q
						if q > max {
							max = q
						}
					}
					if sum > 100 {
						s.big++
						if max/sum > 0.9 {
							s.conc++
						}
					}
					bm := r.Genes[i].BaseMean
					if bm == 0 {
						s.st.AllZero++
						for j := 0; j < m; j++ {
							block[j*n+k] = 0
						}
						continue
					}
					iter, status := s.fit.fit(s.y, bm, r.DispFit[i], s.beta)
					s.st.Genes++
					s.st.Iterations += iter
					if iter > s.st.MaxIter {
						s.st.MaxIter = iter
					}
					switch status {
					case rlogAtMaxIter:
						s.st.NotConverged++
					case rlogAtLargeBeta:
						s.st.LargeBeta++
					}
					b0 := rlogLog2E * s.beta[0]
					for j := 0; j < m; j++ {
						block[j*n+k] = b0 + float64(rlogLog2E*s.beta[j+1])
					}
				}
			}(ws[w], w)
		}
		wg.Wait()
		if out == nil {
			return nil
		}
		for k := 0; k < n; k++ {
			for j := range row {
				row[j] = block[j*n+k]
			}
			if err := out.AppendRow(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	var big, conc int
	for _, s := range ws {
		st.Genes += s.st.Genes
		st.AllZero += s.st.AllZero
		st.Iterations += s.st.Iterations
		st.NotConverged += s.st.NotConverged
		st.LargeBeta += s.st.LargeBeta
		st.MaxIter = max(st.MaxIter, s.st.MaxIter)
		big += s.big
		conc += s.conc
	}
	if big > 0 {
		st.SparseFraction = float64(conc) / float64(big)
		st.SparseWarning = st.SparseFraction > 0.1
	}
	if inMemory != nil {
		for j := 0; j < m; j++ {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			if err := sink.WriteColumn(j, inMemory.Column(j)); err != nil {
				return st, err
			}
		}
		return st, nil
	}
	if err := out.Flush(); err != nil {
		return st, err
	}
	col := make([]float64, G)
	for j := 0; j < m; j++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := out.ReadColumn(j, col); err != nil {
			return st, err
		}
		if err := sink.WriteColumn(j, col); err != nil {
			return st, err
		}
	}
	return st, nil
}

// rlogFitStatus says how fitBeta stopped.
type rlogFitStatus int

const (
	rlogConverged   rlogFitStatus = iota
	rlogAtMaxIter                 // 100 iterations without meeting the tolerance
	rlogAtLargeBeta               // a coefficient beyond ±30
	rlogAtNaN                     // the deviance change was NaN
)

// rlogFitter fits the expanded-design GLM of one gene; one per worker.
type rlogFitter struct {
	s              []float64 // size factors
	lambda         float64   // ridge of the sample coefficients, natural-log scale
	lambda0        float64   // ridge of the intercept, natural-log scale
	mu, a, z, next []float64
}

func newRlogFitter(sf []float64, lambda, lambda0 float64) *rlogFitter {
	m := len(sf)
	return &rlogFitter{s: sf, lambda: lambda, lambda0: lambda0,
		mu: make([]float64, m), a: make([]float64, m), z: make([]float64, m), next: make([]float64, m+1)}
}

// fit runs DESeq2's fitBeta for counts y with mean normalized count bm and
// dispersion alpha, leaving the coefficients (natural-log scale: intercept,
// then one per sample) in beta. It returns the number of iterations and how
// the iteration stopped.
func (f *rlogFitter) fit(y []float64, bm, alpha float64, beta []float64) (iter int, status rlogFitStatus) {
	m := len(y)
	beta[0] = math.Log(bm)
	for j := 1; j <= m; j++ {
		beta[j] = 0
	}
	f.means(beta)
	size := 1 / alpha
	// The part of Σ ln NB that does not depend on μ:
	// Σ_j lnΓ(y_j + size) − lnΓ(size) − lnΓ(y_j + 1).
	lgSize, _ := math.Lgamma(size)
	var constPart float64
	for _, yj := range y {
		if yj > 0 {
			a, _ := math.Lgamma(yj + size)
			b, _ := math.Lgamma(yj + 1)
			constPart += (a - lgSize) - b
		}
	}
	ratio := f.lambda0 / f.lambda
	var devOld float64
	for t := 0; t < rlogMaxIter; t++ {
		iter++
		var sa, saz float64
		for j, mu := range f.mu {
			w := mu / (1 + alpha*mu)
			z := math.Log(mu/f.s[j]) + (y[j]-mu)/mu
			a := w / (w + f.lambda)
			f.a[j], f.z[j] = a, z
			sa += a
			saz += a * z
		}
		b0 := saz / (ratio + sa)
		large := math.Abs(b0) > rlogLargeBeta
		beta[0] = b0
		for j := range f.a {
			bj := f.a[j] * (f.z[j] - b0)
			beta[j+1] = bj
			if math.Abs(bj) > rlogLargeBeta {
				large = true
			}
		}
		if large {
			return rlogMaxIter, rlogAtLargeBeta
		}
		f.means(beta)
		dev := -2 * (constPart + rlogNBLogLikMu(y, f.mu, size))
		conv := math.Abs(dev-devOld) / (math.Abs(dev) + 0.1)
		if math.IsNaN(conv) {
			return rlogMaxIter, rlogAtNaN
		}
		if t > 0 && conv < rlogBetaTol {
			return iter, rlogConverged
		}
		devOld = dev
	}
	return iter, rlogAtMaxIter
}

// means sets μ_j = max(s_j·e^{β₀+β_j}, 0.5).
func (f *rlogFitter) means(beta []float64) {
	for j, s := range f.s {
		f.mu[j] = math.Max(s*math.Exp(beta[0]+beta[j+1]), rlogMinMu)
	}
}

// rlogNBLogLikMu is the part of Σ_j ln NB(y_j; size, μ_j) that depends on μ:
// Σ_j −size·ln(1 + μ_j/size) − y_j·ln(1 + size/μ_j). With the constant
// Σ_j lnΓ(y_j+size) − lnΓ(size) − lnΓ(y_j+1) it is the log likelihood.
func rlogNBLogLikMu(y, mu []float64, size float64) float64 {
	var s float64
	for j, yj := range y {
		s -= size * math.Log1p(mu[j]/size)
		if yj > 0 {
			s -= yj * math.Log1p(size/mu[j])
		}
	}
	return s
}
