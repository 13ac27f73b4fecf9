package deseq2

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// Iterate is DESeq2's estimateSizeFactors(type = "iterate") (DESeq2 1.38
// estimateSizeFactorsIterate): size factors that maximise a negative
// binomial likelihood instead of taking medians of ratios. It needs no gene
// without zeros.
//
// With design ~1, only the genes whose counts are not all zero, s = 1, and
// then up to 10 rounds of:
//
//  1. estimateDispersions(fitType = "mean") with size factors s: gene-wise
//     estimates α̂_i (as for the VST, with R's lgamma: iteratedisp.go), the trend α_tr = the
//     mean of the α̂_i > 1e-7 trimmed by 0.1% at each end, the spread
//     σ²_lr = mad(ln α̂_i - ln α_tr)² over α̂_i ≥ 1e-6, the prior variance
//     σ²_p = max(σ²_lr - ψ₁((m-1)/2), 0.25) (ψ₁ the trigamma function), and
//     the MAP estimates: DESeq2's line search on ln α of the Cox–Reid
//     likelihood plus the prior -(ln α - ln α_tr)²/(2σ²_p), from α̂_i (α_tr
//     where α̂_i ≤ 0.1·α_tr), with its grid search where the search does not
//     converge, bounded to [1e-8, max(10, m)]; genes with
//     ln α̂_i > ln α_tr + 2σ_lr (dispersion outliers) keep α̂_i.
//
//  2. With μ_ij = max(baseMean_i·s_j, 0.5) (the fit's means), q_ij = μ_ij/s_j
//     and the final dispersions α_i, maximise over p ∈ ℝ^m
//
//     F(p) = Σ_{i: L_i > Q} L_i,  L_i = Σ_j ln NB(c_ij; mean q_ij·s'_j, size 1/α_i),
//     s' = exp(p - mean(p)),
//
//     where Q is the 5% quantile (type 7) of the L_i, by R's optim L-BFGS-B
//     from p = ln s with central-difference gradients (lbfgsb.go).
//
//  3. s ← exp(p̂ - mean(p̂)); stop from round 2 on when Σ_j (ln s_old - ln s)² < 1e-4.
//
// DESeq2 fails when a round's optimisation does not converge or 10 rounds
// do not; so does this. The rounds stop well short of the fixed point (the
// answer is the last round's optimum, reached to L-BFGS-B's tolerance), so
// matching R needs each round's path: the gradient is R's finite
// difference, not the analytic one. Fewer than 5 samples are refused: DESeq2
// then draws its prior variance by simulation (set.seed(2), rchisq, loess).
const Iterate Method = "iterate"

const (
	iterateRounds   = 10
	iterateQuantile = 0.05 // DESeq2's Q: genes at or below this quantile of L_i are left out
	iterateTol      = 1e-4 // on Σ (Δ ln s)²
	outlierSD       = 2    // estimateDispersionsMAP's outlierSD
	madConstant     = 1.4826
)

// perturbationBudget is the memory, in float64 values, for the gene
// log-likelihoods of the finite-difference points evaluated in one pass over
// the rows (8 Mi values, 64 MiB); more points take more passes. A variable
// for the tests.
var perturbationBudget = 8 << 20

// IterateOptions configure SizeFactorsIterate.
type IterateOptions struct {
	// TempDir holds the row blocks of a matrix beyond 64 MiB ("" is the
	// system's temporary folder).
	TempDir string
	Pass    pass.Options
	// Trace, when not nil, is told each round's outcome.
	Trace func(IterateRound)
}

// SizeFactorsIterate estimates DESeq2's iterative size factors of src (see
// Iterate).
//
// Gene blocks, not sample columns: every step works on whole gene rows (a
// gene's dispersion fit, and L_i, a sum over the gene's samples that is
// then trimmed by a quantile over genes), and a round asks for F with its
// gradient 4 to 10 times. So one pass over the sample columns finds the
// library sizes and the genes that are not all zero, a second copies those
// genes' counts into gene blocks (ReadRows: in memory up to 64 MiB, in a
// temporary file beyond, read back a block at a time), and everything after
// reads the blocks: per round two passes for the dispersions, then one pass
// per F with its gradient. The gradient, 2m more values of F in R, shares
// the row sums of one sign among its points (iterateObjective.fg), so a
// pass costs 5 densities per count instead of R's 2m + 1; it takes more
// passes only when the 2m points' gene values exceed 64 MiB
// (perturbationBudget). Memory beyond the blocks: a few values per gene,
// and min(2m, 8 Mi/genes) × genes for the points.
//
// Counts must be whole (DESeq2's likelihood is 0 elsewhere); at least 5
// samples, none all zero, and a gene that is not constant are required.
func SizeFactorsIterate(ctx context.Context, src columnar.Source, opts IterateOptions) (*Factors, error) {
	G, m := len(src.Genes()), len(src.Samples())
	if m < 5 {
		return nil, &columnar.InputError{File: src.Path(), Msg: fmt.Sprintf(
			"iterate needs at least 5 samples (%d given): with fewer DESeq2 draws its dispersion prior by simulation, which colnorm does not reproduce; use ratio or poscounts", m)}
	}
	lib := make([]float64, m)
	nonzero := make([]bool, G)
	varying := make([]bool, G) // some count differs from the first sample's
	first := make([]float64, G)
	work := func(_, j int, col []float64) error {
		lib[j] = kernels.Sum(col)
		if opts.Pass.AllowFractional {
			for i, v := range col {
				if v != math.Trunc(v) {
					return &columnar.InputError{File: src.Path(), Sample: src.Samples()[j], Gene: src.Genes()[i],
						Msg: fmt.Sprintf("fractional count %v: DESeq2's iterative size factors need whole counts (its likelihood is zero elsewhere)", v)}
				}
			}
		}
		return nil
	}
	reduce := func(j int, col []float64) error {
		for i, v := range col {
			if v > 0 {
				nonzero[i] = true
			}
			if j == 0 {
				first[i] = v
			} else if v != first[i] {
				varying[i] = true
			}
		}
		return nil
	}
	if err := pass.Run(ctx, src, opts.Pass, work, reduce); err != nil {
		return nil, err
	}
	for j, l := range lib {
		if l == 0 {
			return nil, &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: "every count of this sample is zero: DESeq2's iteration does not converge with it (its likelihood keeps rising as the factor falls to 0); remove the sample"}
		}
	}
	var genes []int
	anyVarying := false
	for i, nz := range nonzero {
		if nz {
			genes = append(genes, i)
		}
		anyVarying = anyVarying || varying[i]
	}
	if !anyVarying {
		return nil, &columnar.InputError{File: src.Path(), Msg: "every gene has the same count in every sample: DESeq2 cannot estimate dispersions (estimateDispersions fails)"}
	}
	rows, closer, err := ReadRows(ctx, src, genes, opts.Pass, opts.TempDir)
	if err != nil {
		return nil, err
	}
	defer closer.Close()

	sf, err := iterateRows(ctx, rows, len(genes), opts)
	if err != nil {
		if ie, ok := err.(*columnar.InputError); ok && ie.File == "" {
			ie.File = src.Path()
		}
		return nil, err
	}
	return &Factors{Method: Iterate, Samples: src.Samples(), LibSize: lib, SizeFactor: sf}, nil
}

// IterateRound is what SizeFactorsIterate's Trace is told after a round.
type IterateRound struct {
	Round       int
	SizeFactors []float64
	Change      float64 // Σ_j (ln s_old - ln s)²
	Iterations  int     // L-BFGS-B iterations
	Evaluations int     // evaluations of F with its gradient
	Message     string  // L-BFGS-B's
}

// iterateRows runs the rounds on the G genes of rows (none all zero) and
// returns the size factors. Its input errors name no file.
func iterateRows(ctx context.Context, rows RowBlocks, G int, opts IterateOptions) ([]float64, error) {
	m := rows.Samples()
	threads := opts.Pass.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	sf := make([]float64, m)
	for j := range sf {
		sf[j] = 1
	}
	logSF := make([]float64, m)
	rp := newRowPasses(ctx, rows, threads)
	obj := newIterateObjective(rp, G)
	for round := 1; round <= iterateRounds; round++ {
		disp, bm, err := iterateDispersions(rp, G, sf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &columnar.InputError{Msg: fmt.Sprintf("iterate, round %d: %v", round, err)}
		}
		obj.round(bm, disp, sf)
		for j, s := range sf {
			logSF[j] = math.Log(s)
		}
		res, err := minimizeLBFGSB(logSF, obj.fg)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("iterate, round %d: %w", round, err)
		}
		if res.Convergence != 0 {
			return nil, &columnar.InputError{Msg: fmt.Sprintf(
				"iterative size factor normalization did not converge within an iteration (round %d: %s); DESeq2 fails here too: use ratio or poscounts", round, res.Message)}
		}
		centre := kernels.MeanR(res.Par)
		newSF := make([]float64, m)
		change := make([]float64, m)
		for j, p := range res.Par {
			newSF[j] = math.Exp(p - centre)
			d := logSF[j] - math.Log(newSF[j])
			change[j] = d * d
		}
		delta := kernels.SumCompensated(change)
		sf = newSF
		if opts.Trace != nil {
			opts.Trace(IterateRound{Round: round, SizeFactors: sf, Change: delta, Iterations: res.Iterations,
				Evaluations: res.Evaluations, Message: res.Message})
		}
		if round > 1 && delta < iterateTol {
			return sf, nil
		}
	}
	return nil, &columnar.InputError{Msg: fmt.Sprintf(
		"iterative size factor normalization did not converge in %d rounds; DESeq2 fails here too: use ratio or poscounts", iterateRounds)}
}

// iterateDispersions runs estimateDispersions(fitType = "mean") for the G
// genes of rows (none all zero) with size factors sf and returns the final
// dispersions and the base means.
func iterateDispersions(rp *rowPasses, G int, sf []float64) (disp, bm []float64, err error) {
	m := rp.rows.Samples()
	genes := make([]GeneDispersion, G)
	err = rp.each(func() func(i int, y []float64) {
		f := newIterFitter(sf)
		return func(i int, y []float64) { genes[i] = f.geneWise(y) }
	})
	if err != nil {
		return nil, nil, err
	}
	usable := false
	for _, g := range genes {
		usable = usable || g.Estimate > 100*minDisp
	}
	if !usable {
		return nil, nil, fmt.Errorf("every gene-wise dispersion estimate is within 2 orders of magnitude of the minimum (1e-8): the counts are close to Poisson and DESeq2 cannot fit the dispersion trend")
	}
	fit := meanTrend(genes).MeanDisp
	// The spread of the log estimates around the trend (dispersionFunction<-).
	var res []float64
	for _, g := range genes {
		if g.Estimate >= 100*minDisp {
			res = append(res, math.Log(g.Estimate)-math.Log(fit))
		}
	}
	varLog := math.Pow(madR(res), 2)
	priorVar := math.Max(varLog-trigammaFn(float64(m-1)/2), 0.25)
	outlierCut := math.Log(fit) + outlierSD*math.Sqrt(varLog)
	disp = make([]float64, G)
	bm = make([]float64, G)
	err = rp.each(func() func(i int, y []float64) {
		f := newIterFitter(sf)
		return func(i int, y []float64) {
			g := genes[i]
			bm[i] = g.BaseMean
			disp[i] = f.mapEstimate(y, g, fit, priorVar)
			if math.Log(g.Estimate) > outlierCut {
				disp[i] = g.Estimate // dispersion outlier
			}
		}
	})
	return disp, bm, err
}

// rowPasses reads the gene blocks of rows for one pass after another,
// reusing one block buffer (none for rows in memory, read in place).
type rowPasses struct {
	ctx     context.Context
	rows    RowBlocks
	threads int
	block   []float64
}

func newRowPasses(ctx context.Context, rows RowBlocks, threads int) *rowPasses {
	return &rowPasses{ctx: ctx, rows: rows, threads: threads}
}

// each is EachGene over the rows with the pass's buffer.
func (p *rowPasses) each(newWorker func() func(i int, y []float64)) error {
	var err error
	p.block, err = EachGene(p.ctx, p.rows, p.threads, p.block, newWorker)
	return err
}

// madR is R's mad(x): 1.4826 times the median absolute deviation from the
// median. It reorders x.
func madR(x []float64) float64 {
	c := kernels.Median(x)
	for i, v := range x {
		x[i] = math.Abs(v - c)
	}
	return madConstant * kernels.Median(x)
}

// trigamma is ψ₁(x) = Σ_{k≥0} 1/(x+k)² for x > 0: the recurrence
// ψ₁(x) = ψ₁(x+1) + 1/x² up to x ≥ 10, then the asymptotic series
// 1/x + 1/(2x²) + Σ B_2k/x^(2k+1) through B_16 (error below 1e-18 there).
func trigammaFn(x float64) float64 {
	var small float64
	var steps []float64
	for x < 10 {
		steps = append(steps, 1/(x*x))
		x++
	}
	for k := len(steps) - 1; k >= 0; k-- { // smallest first
		small += steps[k]
	}
	z := 1 / (x * x)
	// Bernoulli numbers B2..B16: 1/6, -1/30, 1/42, -1/30, 5/66, -691/2730, 7/6, -3617/510
	series := z * (1.0/6 + z*(-1.0/30+z*(1.0/42+z*(-1.0/30+z*(5.0/66+z*(-691.0/2730+z*(7.0/6+z*(-3617.0/510))))))))
	return small + (1+1/(2*x)+series)/x
}

// iterateObjective evaluates -F (optim minimises F/fnscale with fnscale =
// -1) and its central-difference gradient over the gene blocks.
type iterateObjective struct {
	rp     *rowPasses
	size   []float64   // per gene: 1/α_i
	bm     []float64   // per gene: base mean
	sf     []float64   // the round's size factors s_j (q_ij = max(bm_i s_j, 0.5)/s_j)
	base   []float64   // per gene: L_i at the point
	pert   [][]float64 // per perturbed point of a chunk, per gene: L_i
	sorted [][]float64 // per worker: scratch for the quantile
}

// newIterateObjective sets up the buffers for G genes; round sets the
// round's values.
func newIterateObjective(rp *rowPasses, G int) *iterateObjective {
	m := rp.rows.Samples()
	chunk := max(1, min(2*m, perturbationBudget/max(G, 1)))
	o := &iterateObjective{rp: rp, size: make([]float64, G), base: make([]float64, G),
		pert: make([][]float64, chunk), sorted: make([][]float64, rp.threads)}
	for k := range o.pert {
		o.pert[k] = make([]float64, G)
	}
	for w := range o.sorted {
		o.sorted[w] = make([]float64, G)
	}
	return o
}

// round sets the base means, dispersions and size factors of a round.
func (o *iterateObjective) round(bm, disp, sf []float64) {
	for i, d := range disp {
		o.size[i] = 1 / d
	}
	o.bm, o.sf = bm, sf
}

// centredExp returns exp(p - mean(p)) as R computes s' (R's mean).
func centredExp(dst, p []float64) []float64 {
	c := kernels.MeanR(p)
	for j, v := range p {
		dst[j] = math.Exp(v - c)
	}
	return dst
}

// trimmedSum is Σ_{v > Q} v with Q = quantile(v, 0.05) (type 7), DESeq2's
// sum(gene.ll[gene.ll > quantile(gene.ll, Q)]), compensated (every v is a
// log probability, ≤ 0, so the order of the terms hardly matters). scratch
// has len(v).
func trimmedSum(v, scratch []float64) float64 {
	copy(scratch, v)
	q := kernels.Quantile7(scratch, iterateQuantile)
	var s, c float64
	for _, x := range v {
		if x > q {
			t := s + x
			if math.Abs(s) >= math.Abs(x) {
				c += (s - t) + x
			} else {
				c += (x - t) + s
			}
			s = t
		}
	}
	return s + c
}

// fg sets grad to the gradient of -F at p as optim's finite differences
// give it, g_k = (-F(p + h e_k) + F(p - h e_k)) / (h + h) with h = 1e-3, and
// returns -F(p).
//
// The perturbed points share most of their densities: moving p_k by ±h
// moves mean(p) by ±h/m, so every sample's s'_j but the k-th is multiplied
// by the same exp(∓h/m). Per gene and sign the row sum over every sample
// at these common factors, S±_i, is formed once; the point (k, ±) then
// replaces sample k's term by its own: L_i = S±_i - ℓ_ik(common) + ℓ_ik(own).
// A pass thus costs 5 densities per count (1 at p, 2 for S±, 2 of the
// points' own) instead of R's 2m + 1. Each point's own s'_k is computed as
// R computes it for that point; the common factors are those of the point
// that perturbs the first sample, which differ from the other points' by
// rounding only (about 1e-16, against steps of 1e-3).
func (o *iterateObjective) fg(p, grad []float64) (float64, error) {
	m := len(p)
	const h = optimNdeps
	sf0 := centredExp(make([]float64, m), p)
	common := [2][]float64{make([]float64, m), make([]float64, m)} // per sign (+, -)
	own := [2][]float64{make([]float64, m), make([]float64, m)}    // per sign: s'_k of point (k, sign)
	pp := make([]float64, m)
	for sign := 0; sign < 2; sign++ {
		for k := 0; k < m; k++ {
			copy(pp, p)
			if sign == 0 {
				pp[k] = p[k] + h
			} else {
				pp[k] = p[k] - h
			}
			c := kernels.MeanR(pp)
			own[sign][k] = math.Exp(pp[k] - c)
			if k == 0 {
				for j, v := range p {
					common[sign][j] = math.Exp(v - c)
				}
			}
		}
	}
	vals := make([]float64, 2*m) // -F at point (k, sign), index sign*m + k
	chunk := len(o.pert)
	for first := 0; first < 2*m; first += chunk {
		last := min(first+chunk, 2*m)
		if err := o.pass(sf0, common, own, first, last, first == 0); err != nil {
			return 0, err
		}
		if err := o.reduce(vals, first, last); err != nil {
			return 0, err
		}
	}
	for k := 0; k < m; k++ {
		grad[k] = (vals[k] - vals[m+k]) / (h + h)
	}
	return -trimmedSum(o.base, o.sorted[0]), nil
}

// reduce turns the chunk's per-gene values into -F at points first..last-1.
func (o *iterateObjective) reduce(vals []float64, first, last int) error {
	var wg sync.WaitGroup
	n, threads := last-first, o.rp.threads
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := w; k < n; k += threads {
				vals[first+k] = -trimmedSum(o.pert[k], o.sorted[w])
			}
		}(w)
	}
	wg.Wait()
	return o.rp.ctx.Err()
}

// pass computes every gene's L_i at p (when withBase) and at the perturbed
// points first..last-1 (index sign*m + k) into o.pert.
func (o *iterateObjective) pass(sf0 []float64, common, own [2][]float64, first, last int, withBase bool) error {
	m := len(sf0)
	return o.rp.each(func() func(i int, y []float64) {
		q := make([]float64, m)
		terms := [2][]float64{make([]float64, m), make([]float64, m)}
		return func(i int, y []float64) {
			size := o.size[i]
			for j, s := range o.sf {
				q[j] = math.Max(o.bm[i]*s, minMu) / s
			}
			if withBase {
				hi, lo := rowLogLik(nil, y, q, sf0, size)
				o.base[i] = hi + lo
			}
			var sums [2][2]float64 // per sign: the compensated row sum at the common factors
			for sign := 0; sign < 2; sign++ {
				if first < (sign+1)*m && last > sign*m {
					sums[sign][0], sums[sign][1] = rowLogLik(terms[sign], y, q, common[sign], size)
				}
			}
			for idx := first; idx < last; idx++ {
				sign, k := idx/m, idx%m
				add := logDNBinomMu(y[k], size, q[k]*own[sign][k])
				o.pert[idx-first][i] = sums[sign][0] + ((sums[sign][1] - terms[sign][k]) + add)
			}
		}
	})
}

// rowLogLik returns Σ_j ln NB(y_j; q_j·s_j, size) as a compensated pair
// (sum, compensation), summed in sample order (R's rowSums accumulates in
// long double), and keeps the terms in terms when it is not nil.
func rowLogLik(terms, y, q, s []float64, size float64) (sum, comp float64) {
	for j, yj := range y {
		v := logDNBinomMu(yj, size, q[j]*s[j])
		if terms != nil {
			terms[j] = v
		}
		t := sum + v
		if math.Abs(sum) >= math.Abs(v) {
			comp += (sum - t) + v
		} else {
			comp += (v - t) + sum
		}
		sum = t
	}
	return sum, comp
}
