package combatseq

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

// Options configure Adjust.
type Options struct {
	// Pass configures the read of the input (threads, fractional counts,
	// progress). Its Threads also sets the workers of the per-gene fits.
	Pass pass.Options
	// TempDir holds the temporary files of matrices beyond MemoryBudget
	// ("" uses the system's).
	TempDir string
	// MemoryBudget is the size in bytes above which the input's and the
	// output's gene blocks go to temporary files (0: 64 MiB each).
	MemoryBudget int
}

func (o Options) workers() int {
	if o.Pass.Threads > 0 {
		return o.Pass.Threads
	}
	return runtime.NumCPU()
}

func (o Options) budget() int {
	if o.MemoryBudget > 0 {
		return o.MemoryBudget
	}
	return 64 << 20
}

// Result describes a ComBat-seq fit.
type Result struct {
	Genes   int       // genes in the input
	HeldOut int       // genes all zero in some batch, written unchanged
	Common  []float64 // each batch's common dispersion
	// Tagwise says, per batch, whether its genes got gene-wise dispersions
	// (otherwise they all have the batch's common dispersion).
	Tagwise []bool
	// Levenberg reports that the main fit needed Levenberg-Marquardt (the
	// design is not a one-way layout).
	Levenberg bool
}

// Adjust runs ComBat_seq(counts, batch, group) (shrink = FALSE) on src with
// the design d (NewDesign) and writes the adjusted counts of every sample,
// in the input's order, to sink. See the package documentation for the
// steps. Memory: the input is held as gene blocks (in memory up to
// MemoryBudget, otherwise in a temporary file), and so is the output until
// it is written column by column; per gene, a few values per batch.
func Adjust(ctx context.Context, src columnar.Source, d *Design, sink columnar.Sink, opts Options) (*Result, error) {
	G, S := len(src.Genes()), len(src.Samples())
	if d.Samples() != S {
		panic("combatseq: the design's samples do not match the matrix")
	}
	rows, err := readBlocks(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	a := &adjuster{ctx: ctx, src: src, d: d, rows: rows, G: G, S: S, K: len(d.Batches), workers: opts.workers()}
	res := &Result{Genes: G, Tagwise: append([]bool(nil), d.tagwise...), Levenberg: !d.oneWay}

	if err := a.scan(); err != nil {
		return nil, err
	}
	for _, k := range a.kept {
		if !k {
			res.HeldOut++
		}
	}
	if res.HeldOut == G {
		return nil, &columnar.InputError{File: src.Path(), Msg: "every gene is all zero in at least one batch, so ComBat-seq has no gene to adjust"}
	}
	if err := a.commonDispersions(); err != nil {
		return nil, err
	}
	res.Common = append([]float64(nil), a.common...)

	out, err := newRowStore(G, S, opts.budget(), opts.TempDir)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	if err := a.adjustAll(out); err != nil {
		return nil, err
	}
	col := make([]float64, G)
	for j := 0; j < S; j++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := out.ReadColumn(j, col); err != nil {
			return nil, err
		}
		if err := sink.WriteColumn(j, col); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type adjuster struct {
	ctx     context.Context
	src     columnar.Source
	d       *Design
	rows    *blocks
	G, S, K int
	workers int

	kept     []bool
	batchSum []float64 // G x K: each gene's total count in each batch
	offsets  []float64 // ln lib_j over the kept genes
	models   []*batchModel
	common   []float64

	buf, gm []float64 // a spilled block as read, and gene-major
}

// forBlocks calls fn for each gene block with its values gene-major:
// value (gene g0+r, sample j) at y[r*S+j].
func (a *adjuster) forBlocks(fn func(g0, n int, y []float64) error) error {
	if a.rows.mem != nil {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		return fn(0, a.G, a.rows.mem)
	}
	sp := a.rows.spill
	bg := sp.BlockGenes()
	if a.buf == nil {
		a.buf = make([]float64, bg*a.S)
		a.gm = make([]float64, bg*a.S)
	}
	for b := 0; b < sp.NumBlocks(); b++ {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		n, err := sp.ReadBlock(b, a.buf)
		if err != nil {
			return err
		}
		y := a.gm[:n*a.S]
		for j := 0; j < a.S; j++ {
			for r, v := range a.buf[j*n : (j+1)*n] {
				y[r*a.S+j] = v
			}
		}
		if err := fn(b*bg, n, y); err != nil {
			return err
		}
	}
	return nil
}

// blocks is the input matrix held for per-gene work: gene-major in memory
// when it fits the budget, otherwise a temporary file of gene blocks
// (columnar.Spill, blocks of a quarter of the budget: a block is held
// three times over, as read, gene-major and adjusted).
type blocks struct {
	mem   []float64 // gene-major: value (g, j) at mem[g*S+j]
	spill *columnar.Spill
}

func (b *blocks) Close() error {
	if b.spill != nil {
		return b.spill.Close()
	}
	return nil
}

// readBlocks reads every column of src once (checking the counts) into
// blocks.
func readBlocks(ctx context.Context, src columnar.Source, opts Options) (*blocks, error) {
	G, S := len(src.Genes()), len(src.Samples())
	if int64(G)*int64(S)*8 <= int64(opts.budget()) {
		b := &blocks{mem: make([]float64, G*S)}
		err := pass.Run(ctx, src, opts.Pass, func(_, j int, col []float64) error {
			for g, v := range col {
				b.mem[g*S+j] = v
			}
			return nil
		}, nil)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	sp, err := columnar.NewColumnSpill(opts.TempDir, G, S, opts.budget()/4)
	if err != nil {
		return nil, err
	}
	err = pass.Run(ctx, src, opts.Pass, nil, sp.WriteColumn)
	if err != nil {
		sp.Close()
		return nil, err
	}
	return &blocks{spill: sp}, nil
}

// parallel runs fn on chunks of [0, n) with the adjuster's workers; each
// call gets its worker index. Results must be written per index, so that
// they do not depend on the number of workers.
func (a *adjuster) parallel(n int, fn func(w, lo, hi int)) error {
	const chunk = 64
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	workers := a.workers
	if max := (n + chunk - 1) / chunk; workers > max {
		workers = max
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for a.ctx.Err() == nil {
				mu.Lock()
				lo := next
				next += chunk
				mu.Unlock()
				if lo >= n {
					return
				}
				fn(w, lo, min(lo+chunk, n))
			}
		}(w)
	}
	wg.Wait()
	return a.ctx.Err()
}

// scan finds the genes to hold out (all zero in some batch), each gene's
// total per batch, and the library sizes over the kept genes (summed in
// long double, as R's colSums).
func (a *adjuster) scan() error {
	a.kept = make([]bool, a.G)
	a.batchSum = make([]float64, a.G*a.K)
	libs := make([]extended, a.S)
	err := a.forBlocks(func(g0, n int, y []float64) error {
		for r := 0; r < n; r++ {
			g := g0 + r
			row := y[r*a.S : (r+1)*a.S]
			sums := a.batchSum[g*a.K : (g+1)*a.K]
			var ext [8]extended
			exts := ext[:0]
			if a.K <= len(ext) {
				exts = ext[:a.K]
			} else {
				exts = make([]extended, a.K)
			}
			for j, v := range row {
				exts[a.d.batch[j]].add(v)
			}
			kept := true
			for k := range sums {
				sums[k] = exts[k].float64()
				if sums[k] == 0 {
					kept = false
				}
			}
			a.kept[g] = kept
			if kept {
				for j, v := range row {
					libs[j].add(v)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.offsets = make([]float64, a.S)
	for j := range libs {
		a.offsets[j] = math.Log(libs[j].float64())
	}
	a.models = make([]*batchModel, a.K)
	for k := range a.models {
		a.models[k] = newBatchModel(a.d, k, a.offsets)
	}
	return nil
}

// commonDispersions estimates each batch's common dispersion (edgeR's
// dispCoxReid): over the kept genes whose total in the batch is 5 or more,
// the maximum of S(t) = Σ APL_i(t⁴) for t in [0, 4^¼] by R's optimize (tol
// 1e-5), the APLs added in long double as R's sum does; φ̄ = t⁴. The
// batches' searches run side by side, so that each round of evaluations is
// one pass over the gene blocks.
func (a *adjuster) commonDispersions() error {
	K := a.K
	genes := make([][]int, K)
	for g := 0; g < a.G; g++ {
		if !a.kept[g] {
			continue
		}
		for k := 0; k < K; k++ {
			if a.batchSum[g*K+k] >= 5 {
				genes[k] = append(genes[k], g)
			}
		}
	}
	for k := range genes {
		if len(genes[k]) == 0 {
			return &columnar.InputError{File: a.src.Path(), Msg: fmt.Sprintf("no gene has a total count of 5 or more in the samples of batch %q, so its dispersion cannot be estimated (edgeR: \"no data rows with required number of counts\")", a.d.Batches[k])}
		}
	}

	// Each batch's Brent search runs in its own goroutine and asks for
	// function values through a channel; the driver answers all pending
	// requests with one pass over the blocks.
	type request struct {
		k     int
		phi   float64
		reply chan float64
	}
	requests := make(chan request)
	results := make([]float64, K)
	done := make(chan int)
	stop := make(chan struct{})
	defer close(stop)
	for k := 0; k < K; k++ {
		go func(k int) {
			reply := make(chan float64)
			t := brentMin(0, math.Sqrt2, 1e-5, func(t float64) float64 {
				select {
				case requests <- request{k, pow4(t), reply}:
				case <-stop:
					return math.NaN()
				}
				select {
				case v := <-reply:
					return -v
				case <-stop:
					return math.NaN()
				}
			})
			results[k] = pow4(t)
			select {
			case done <- k:
			case <-stop:
			}
		}(k)
	}
	active := K
	apl := make([][]float64, K)
	for k := range apl {
		apl[k] = make([]float64, len(genes[k]))
	}
	for active > 0 {
		// Collect one request from every active search.
		var pending []request
		for len(pending) < active {
			select {
			case r := <-requests:
				pending = append(pending, r)
			case <-done:
				active--
			}
		}
		if len(pending) == 0 {
			break
		}
		reqs := make([]evalReq, len(pending))
		for i, r := range pending {
			reqs[i] = evalReq{r.k, r.phi}
		}
		if err := a.evalCommon(reqs, genes, apl); err != nil {
			return err
		}
		for _, r := range pending {
			r.reply <- sumR(apl[r.k])
		}
	}
	a.common = results
	return nil
}

type evalReq struct {
	k   int
	phi float64
}

// evalCommon fills apl[k][i] = APL of gene genes[k][i] in batch k at the
// requested dispersion, for every request, in one pass over the blocks.
func (a *adjuster) evalCommon(reqs []evalReq, genes [][]int, apl [][]float64) error {
	// Position of each gene in each batch's list, found by a moving index
	// per block (the lists are in gene order).
	start := make([]int, a.K)
	scratch := make([][]*aplScratch, a.workers)
	for w := range scratch {
		scratch[w] = make([]*aplScratch, a.K)
		for k, m := range a.models {
			scratch[w][k] = newAPLScratch(len(m.members), m.p)
		}
	}
	return a.forBlocks(func(g0, n int, y []float64) error {
		for _, rq := range reqs {
			k, phi := rq.k, rq.phi
			list := genes[k]
			lo := start[k]
			hi := lo
			for hi < len(list) && list[hi] < g0+n {
				hi++
			}
			start[k] = hi
			m := a.models[k]
			err := a.parallel(hi-lo, func(w, i0, i1 int) {
				s := scratch[w][k]
				for i := lo + i0; i < lo+i1; i++ {
					r := list[i] - g0
					a.gather(m, y[r*a.S:(r+1)*a.S], s)
					apl[k][i] = m.adjustedProfile(s.y, s.lgy1, phi, s)
				}
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// gather copies a gene's counts in the batch's samples, and their lnΓ(y+1),
// into the scratch space.
func (a *adjuster) gather(m *batchModel, row []float64, s *aplScratch) {
	for i, j := range m.members {
		s.y[i] = row[j]
		s.lgy1[i] = lnGamma1(row[j])
	}
}
