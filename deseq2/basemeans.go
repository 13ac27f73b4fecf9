package deseq2

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// Base means: mean_j c_ij/s_j, the mean normalized count of every gene, as
// R's rowMeans(counts(dds, normalized = TRUE)) makes them. vst(nsub) uses
// them only to choose its subset (VSTSubset): the genes above 5, in the
// order of their base means.
//
// BaseMeans sums the normalized counts of each gene in sample order with
// compensation, in a pass's reduce step. The medians pass of the VST needs
// less: roughMeans sums c_ij·(1/s_j) per worker, in any order, to within
// a bound of BaseMeans' values, and settleMeans replaces, by BaseMeans over
// their rows alone, the few base means whose bound leaves their order or
// their side of 5 open. The subset is then the one BaseMeans' values give,
// for a summing step that costs a third as much and runs in the workers.

// BaseMeans returns every gene's mean normalized count, mean_j c_ij/s_j, in
// one pass (per-gene compensated sums in sample order); of the genes
// opts.Rows alone when it is not nil.
func BaseMeans(ctx context.Context, src columnar.Source, sf []float64, opts pass.Options) ([]float64, error) {
	genes := len(src.Genes())
	if opts.Rows != nil {
		genes = len(opts.Rows)
	}
	sums := newBaseMeanSums(genes)
	err := pass.Run(ctx, src, opts, func(_, j int, col []float64) error {
		kernels.DivideInto(col, col, sf[j])
		return nil
	}, sums.add)
	if err != nil {
		return nil, err
	}
	return sums.means(len(sf)), nil
}

// baseMeanSums accumulates the base means: per gene, a compensated sum of
// the normalized counts, added sample by sample in sample order (the bits
// depend on that order; pass.Run's reduce step keeps it).
type baseMeanSums struct{ sum, comp []float64 }

func newBaseMeanSums(genes int) *baseMeanSums {
	return &baseMeanSums{sum: make([]float64, genes), comp: make([]float64, genes)}
}

// add adds sample j's normalized counts q; j must follow the previous one.
func (b *baseMeanSums) add(_ int, q []float64) error {
	sum, comp := b.sum, b.comp
	for i, v := range q {
		t := sum[i] + v
		if math.Abs(sum[i]) >= math.Abs(v) {
			comp[i] += (sum[i] - t) + v
		} else {
			comp[i] += (v - t) + sum[i]
		}
		sum[i] = t
	}
	return nil
}

// means returns the base means over m samples, reusing the sums' memory.
func (b *baseMeanSums) means(m int) []float64 {
	for i := range b.sum {
		b.sum[i] = (b.sum[i] + b.comp[i]) / float64(m)
	}
	return b.sum
}

// roughMeans accumulates rough base means in a pass's workers: worker w
// adds c_ij·(1/s_j) to sums[w], in the order it takes the samples.
type roughMeans struct {
	sums [][]float64
}

func newRoughMeans(workers, genes int) *roughMeans {
	r := &roughMeans{sums: make([][]float64, workers)}
	for w := range r.sums {
		r.sums[w] = make([]float64, genes)
	}
	return r
}

// add adds counts c of a sample with size factor s, in worker w.
func (r *roughMeans) add(w int, c []float64, s float64) { addScaled(r.sums[w], c, 1/s) }

// addCounts is add for counts given as 32-bit integers (the same bits).
func (r *roughMeans) addCounts(w int, c []uint32, s float64) { addScaled(r.sums[w], c, 1/s) }

// addScaled adds c[i]·inv to sum[i].
func addScaled[T float64 | uint32](sum []float64, c []T, inv float64) {
	sum = sum[:len(c)]
	for i, v := range c {
		sum[i] += float64(v) * inv
	}
}

// means returns the rough base means over m samples and their bound k:
// each is within k·bm of the base mean BaseMeans gives.
//
// With u = 2^-53, a term c·fl(1/s) is within 2u of c/s; summing n
// non-negative terms one by one adds at most (n-1)u of the sum, adding the
// workers' sums (W-1)u more, dividing by m u. So a rough mean is within
// (m+W+2)u, to first order, of the exact mean, and BaseMeans' compensated
// sum within 3u: k = 2(m+W+8)u is more than their distance.
func (r *roughMeans) means(m int) (bm []float64, k float64) {
	bm = r.sums[0]
	for _, s := range r.sums[1:] {
		for i, v := range s {
			bm[i] += v
		}
	}
	for i := range bm {
		bm[i] /= float64(m)
	}
	return bm, float64(m+len(r.sums)+8) * 0x1p-52
}

// unsettledGenes returns, in ascending order, the genes whose rough base
// mean (within k·bm of the exact one) leaves open whether the exact one
// exceeds above, or how it orders against another gene's above it: those
// whose interval [bm(1-2k), bm(1+2k)] holds above, and those whose interval
// meets a neighbour's in the order of bm among the genes whose interval
// reaches above. (Intervals proportional to bm meet a farther gene's only
// if they meet the neighbour's between.)
func unsettledGenes(bm []float64, k, above float64) []int {
	lo := func(v float64) float64 { return v * (1 - 2*k) }
	hi := func(v float64) float64 { return v * (1 + 2*k) }
	var high, out []int
	for i, v := range bm {
		if hi(v) > above {
			high = append(high, i)
			if lo(v) <= above {
				out = append(out, i)
			}
		}
	}
	slices.SortFunc(high, func(a, b int) int {
		if c := cmp.Compare(bm[a], bm[b]); c != 0 {
			return c
		}
		return a - b
	})
	for n := 1; n < len(high); n++ {
		a, b := high[n-1], high[n]
		if hi(bm[a]) >= lo(bm[b]) {
			out = append(out, a, b)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// settleMeans returns the rough base means bm (bound k) with those of the
// unsettled genes (unsettledGenes about above) replaced by BaseMeans', from
// a pass over their rows alone when there are any: base means that order
// the genes, and place them about above, as BaseMeans' would.
func settleMeans(ctx context.Context, src columnar.Source, sf, bm []float64, k, above float64, opts pass.Options) ([]float64, error) {
	open := unsettledGenes(bm, k, above)
	if len(open) == 0 {
		return bm, nil
	}
	pass.Replan(opts, +1)
	opts.Rows = open
	exact, err := BaseMeans(ctx, src, sf, opts)
	if err != nil {
		return nil, err
	}
	for n, i := range open {
		bm[i] = exact[n]
	}
	return bm, nil
}
