package combatseq

import (
	"fmt"
	"math"
	"sync"

	"github.com/colnorm/colnorm/columnar"
)

// geneWork is one worker's scratch space for adjustGene.
type geneWork struct {
	fit        *fitter
	apl        []*aplScratch
	grid, spl  []float64
	phiK       []float64
	phi, o2    []float64
	mu         []float64
	beta1, gam []float64
}

func (a *adjuster) newGeneWork() *geneWork {
	d := a.d
	w := &geneWork{fit: newFitter(a.S, d.coefs, d.X)}
	for _, m := range a.models {
		w.apl = append(w.apl, newAPLScratch(len(m.members), m.p))
	}
	w.grid, w.spl = make([]float64, len(gridPoints)), make([]float64, 3*len(gridPoints))
	w.phiK = make([]float64, a.K)
	w.phi, w.o2, w.mu = make([]float64, a.S), make([]float64, a.S), make([]float64, a.S)
	w.beta1, w.gam = make([]float64, d.coefs), make([]float64, d.coefs)
	return w
}

// adjustAll is the last pass: per kept gene, its dispersions, the two GLM
// fits and the quantile matching; held-out genes are copied. Rows go to
// out in gene order.
func (a *adjuster) adjustAll(out *rowStore) error {
	work := make([]*geneWork, a.workers)
	for w := range work {
		work[w] = a.newGeneWork()
	}
	// The batch weights n_k/n of the mean batch effect.
	weights := make([]float64, a.K)
	for k := range weights {
		weights[k] = float64(a.d.size[k]) / float64(a.S)
	}
	var block []float64
	return a.forBlocks(func(g0, n int, y []float64) error {
		if cap(block) < n*a.S {
			block = make([]float64, n*a.S)
		}
		res := block[:n*a.S]
		var mu sync.Mutex
		bad := -1 // the first gene whose adjusted counts are not all finite
		err := a.parallel(n, func(w, lo, hi int) {
			for r := lo; r < hi; r++ {
				row, dst := y[r*a.S:(r+1)*a.S], res[r*a.S:(r+1)*a.S]
				if !a.kept[g0+r] {
					copy(dst, row)
					continue
				}
				a.adjustGene(g0+r, row, dst, weights, work[w])
				for _, v := range dst {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						mu.Lock()
						if bad < 0 || r < bad {
							bad = r
						}
						mu.Unlock()
						break
					}
				}
			}
		})
		if err != nil {
			return err
		}
		if bad >= 0 {
			return fmt.Errorf("combatseq: %s: gene %s: the negative binomial fits gave no finite adjusted count (sva would write NA)", a.src.Path(), a.src.Genes()[g0+bad])
		}
		return out.AppendRows(res, n)
	})
}

// adjustGene writes gene g's adjusted counts to dst.
func (a *adjuster) adjustGene(g int, row, dst, weights []float64, w *geneWork) {
	d, K := a.d, a.K
	// Dispersions per batch: gene-wise where the batch has them and the
	// gene's total there is 5 or more, otherwise the batch's common value.
	for k, m := range a.models {
		w.phiK[k] = a.common[k]
		if m.tagwise && a.batchSum[g*K+k] >= 5 {
			s := w.apl[k]
			a.gather(m, row, s)
			w.phiK[k] = m.tagwiseDispersion(s.y, s.lgy1, a.common[k], s, w.grid, w.spl)
		}
	}
	for j := range w.phi {
		w.phi[j] = w.phiK[d.batch[j]]
	}

	// Fit 1 (prior count 1e-4), offsets ln lib: the mean batch effect
	// α = Σ_k β_k n_k/n.
	w.fit.fitPrior(d, row, a.offsets, w.phi, w.beta1)
	alpha := 0.0
	for k := 0; k < K; k++ {
		alpha += float64(w.beta1[k] * weights[k])
	}
	// Fit 2, offsets ln lib + α: the fitted means μ (without the prior) and
	// the batch coefficients γ (with it).
	for j := range w.o2 {
		w.o2[j] = a.offsets[j] + alpha
	}
	w.fit.fit(d, row, w.o2, w.phi, w.beta1, w.mu)
	w.fit.fitPrior(d, row, w.o2, w.phi, w.gam)

	// φ* = the mean of the batches' dispersions (R's rowMeans: a long
	// double sum divided by K).
	var e extended
	for _, v := range w.phiK {
		e.add(v)
	}
	phiStar := e.divInt(K).float64()
	sizeStar := 1 / phiStar

	for j, v := range row {
		if v <= 1 {
			dst[j] = v
			continue
		}
		k := d.batch[j]
		p := pnbinomMu(v-1, 1/w.phiK[k], w.mu[j])
		if math.Abs(p-1) < 1e-4 {
			dst[j] = v
			continue
		}
		muStar := math.Exp(math.Log(w.mu[j]) - w.gam[k])
		dst[j] = 1 + qnbinomMu(p, sizeStar, muStar)
	}
}

// rowStore holds the output's rows until they are written column by
// column: in memory up to the budget, otherwise in a temporary file.
type rowStore struct {
	G, S  int
	mem   []float64 // sample-major: mem[j*G+g]
	rows  int
	spill *columnar.Spill
}

func newRowStore(G, S, budget int, dir string) (*rowStore, error) {
	st := &rowStore{G: G, S: S}
	if int64(G)*int64(S)*8 <= int64(budget) {
		st.mem = make([]float64, G*S)
		return st, nil
	}
	sp, err := columnar.NewRowSpill(dir, S, budget/4)
	if err != nil {
		return nil, err
	}
	st.spill = sp
	return st, nil
}

// AppendRows adds n rows given gene-major (value (r, j) at v[r*S+j]).
func (st *rowStore) AppendRows(v []float64, n int) error {
	if st.spill != nil {
		for r := 0; r < n; r++ {
			if err := st.spill.AppendRow(v[r*st.S : (r+1)*st.S]); err != nil {
				return err
			}
		}
		st.rows += n
		if st.rows == st.G {
			return st.spill.Flush()
		}
		return nil
	}
	for r := 0; r < n; r++ {
		g := st.rows + r
		for j := 0; j < st.S; j++ {
			st.mem[j*st.G+g] = v[r*st.S+j]
		}
	}
	st.rows += n
	return nil
}

// ReadColumn reads sample j's values for every gene.
func (st *rowStore) ReadColumn(j int, dst []float64) error {
	if st.spill != nil {
		return st.spill.ReadColumn(j, dst)
	}
	copy(dst, st.mem[j*st.G:(j+1)*st.G])
	return nil
}

func (st *rowStore) Close() error {
	if st.spill != nil {
		return st.spill.Close()
	}
	return nil
}
