package deseq2

import (
	"context"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/colnorm/colnorm/kernels"
)

// The rlog prior variance needs a weighted quantile of genes x samples
// values: 24 million at 60,000 genes and 400 samples. Rather than holding
// and sorting them all, rlogPriorQuantile finds the two order statistics it
// needs by a radix selection over the bits of the values (non-negative
// floats order as their bit patterns do): one pass over the row blocks
// builds a histogram of the weights by the top bits, which names the bin
// holding each target cumulative weight; a second pass collects that bin's
// values (at most rlogSelCollectLimit of them) and resolves the target
// exactly, with R's rules. A larger bin is refined by the next bits first.
// Typically two passes; memory is a histogram of 2^19 bins and one bin's
// values.

// rlogSelLevels are the bit shifts of the successive histograms:
// the first bins by the top 19 value bits (sign excluded), then 16, 16 and
// 12 further bits.
var rlogSelLevels = []uint{44, 28, 12, 0}

// rlogSelCollectLimit is the most values a pass collects for one target.
const rlogSelCollectLimit = 1 << 20

// rlogDDSum is a double-double accumulator (the sum is hi + lo), standing in for
// R's long double sums.
type rlogDDSum struct{ hi, lo float64 }

func (d *rlogDDSum) add(x float64) {
	s := d.hi + x
	bb := s - d.hi
	d.lo += (d.hi - (s - bb)) + (x - bb)
	d.hi = s
}

func (d *rlogDDSum) addSum(e rlogDDSum) {
	d.add(e.hi)
	d.lo += e.lo
}

func (d rlogDDSum) value() float64 { return d.hi + d.lo }

type rlogSelBin struct {
	w rlogDDSum
	n int
}

type rlogWeighted struct{ x, w float64 }

// rlogSelTarget is the search for v(t), the first value (in increasing
// order) whose cumulative weight reaches t.
type rlogSelTarget struct {
	t          float64
	level      int       // the next histogram's index in levels
	rangeShift uint      // the current range is {key : key>>rangeShift == prefix}
	prefix     uint64    //
	below      rlogDDSum // the weight of all keys below the current range
	collect    bool      // the next pass collects the range's values
	done       bool
	value      float64
	bins       []rlogSelBin
	vals       []rlogWeighted
	share      *rlogSelTarget // another target in the same state, whose pass data this one reads
}

// rlogSelection finds v(t) for several targets t at once; see
// rlogPriorQuantile.
type rlogSelection struct {
	levels  []uint
	limit   int
	targets []*rlogSelTarget
}

func newRlogSelection(levels []uint, limit int) *rlogSelection {
	return &rlogSelection{levels: levels, limit: limit}
}

// reset starts a selection of the given cumulative weights.
func (s *rlogSelection) reset(ts []float64) {
	s.targets = s.targets[:0]
	for _, t := range ts {
		s.targets = append(s.targets, &rlogSelTarget{t: t, rangeShift: 64})
	}
}

// active reports whether a target still needs a pass, and prepares it.
func (s *rlogSelection) active() bool {
	any := false
	for k, tg := range s.targets {
		tg.share = nil
		if tg.done {
			continue
		}
		any = true
		for _, o := range s.targets[:k] {
			if !o.done && o.share == nil && o.level == tg.level && o.rangeShift == tg.rangeShift &&
				o.prefix == tg.prefix && o.collect == tg.collect {
				tg.share = o
				break
			}
		}
		if tg.share != nil {
			continue
		}
		if tg.collect {
			tg.vals = tg.vals[:0]
			continue
		}
		nb := 1 << (min(tg.rangeShift, 63) - s.levels[tg.level])
		if cap(tg.bins) < nb {
			tg.bins = make([]rlogSelBin, nb)
		}
		tg.bins = tg.bins[:nb]
		clear(tg.bins)
	}
	return any
}

// add feeds one value x ≥ 0 with weight w.
func (s *rlogSelection) add(x, w float64) {
	key := math.Float64bits(x)
	for _, tg := range s.targets {
		if tg.done || tg.share != nil || key>>tg.rangeShift != tg.prefix {
			continue
		}
		if tg.collect {
			tg.vals = append(tg.vals, rlogWeighted{x, w})
			continue
		}
		shift := s.levels[tg.level]
		b := &tg.bins[(key>>shift)&(1<<(min(tg.rangeShift, 63)-shift)-1)]
		b.w.add(w)
		b.n++
	}
}

// endPass narrows every target after a pass. dup says the values repeat
// somewhere (R then merges values by their 15-digit text).
func (s *rlogSelection) endPass(dup bool) {
	for _, tg := range s.targets {
		if tg.done {
			continue
		}
		data := tg
		if tg.share != nil {
			data = tg.share
		}
		if tg.collect {
			tg.resolve(data.vals, dup)
			continue
		}
		shift := s.levels[tg.level]
		cum := tg.below
		chosen, chosenBelow := -1, tg.below
		for b := range data.bins {
			bin := &data.bins[b]
			if bin.n == 0 {
				continue
			}
			chosen, chosenBelow = b, cum
			cum.addSum(bin.w)
			if cum.value() >= tg.t {
				break
			}
		}
		if chosen < 0 { // no values: cannot happen with at least one value
			tg.done, tg.value = true, math.NaN()
			continue
		}
		tg.below = chosenBelow
		tg.prefix = tg.prefix<<(min(tg.rangeShift, 63)-shift) | uint64(chosen)
		tg.rangeShift = shift
		tg.level++
		switch {
		case data.bins[chosen].n <= s.limit:
			tg.collect = true
		case shift == 0: // one key: every value in the bin is the same
			tg.done = true
			tg.value = math.Float64frombits(tg.prefix)
			if dup {
				tg.value = rlogText15(tg.value)
			}
		}
	}
}

// resolve finds v(t) among the range's values, as Hmisc's wtd.table and
// wtd.quantile do: sort; where any value repeats, merge the values with the
// same 15-significant-digit text into one with that text's value, summing
// their weights; v(t) is the first merged value whose cumulative weight
// (from the weight below the range) reaches t, or the last one.
func (tg *rlogSelTarget) resolve(vals []rlogWeighted, dup bool) {
	vals = slices.Clone(vals)
	slices.SortStableFunc(vals, func(a, b rlogWeighted) int {
		switch {
		case a.x < b.x:
			return -1
		case a.x > b.x:
			return 1
		}
		return 0
	})
	for k := 1; k < len(vals) && !dup; k++ {
		dup = vals[k].x == vals[k-1].x
	}
	cum := tg.below
	tg.done = true
	for k := 0; k < len(vals); {
		v := vals[k].x
		if dup {
			v = rlogText15(v)
		}
		var group rlogDDSum
		for ; k < len(vals); k++ {
			u := vals[k].x
			if dup {
				u = rlogText15(u)
			}
			if u != v {
				break
			}
			group.add(vals[k].w)
		}
		cum.add(group.value())
		tg.value = v
		if cum.value() >= tg.t {
			return
		}
	}
}

// rlogText15 is x as R prints it with 15 significant digits, read back.
func rlogText15(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 15, 64), 64)
	return v
}

// rlogPriorQuantile returns DESeq2's weighted 0.95 quantile of the absolute
// log fold changes |log2(q_ij + 0.5) − log2(baseMean_i + 0.5)| over the genes
// that are not all zero, weighted by 1/(1/baseMean_i + dispFit_i)
// (matchWeightedUpperQuantileForVariance), and the number of passes over
// the rows it took.
func rlogPriorQuantile(ctx context.Context, rows RowBlocks, sf []float64, genes []GeneDispersion, dispFit []float64, threads int, sel *rlogSelection) (float64, int, error) {
	m := len(sf)
	G := len(genes)
	wn := make([]float64, G)  // normalised weights
	ref := make([]float64, G) // log2(baseMean + 0.5)
	var sumW rlogDDSum        // Σ_i w_i
	nz := 0
	for i, g := range genes {
		if g.BaseMean == 0 {
			continue
		}
		nz++
		wn[i] = 1 / (1/g.BaseMean + dispFit[i])
		ref[i] = kernels.Log2(g.BaseMean + 0.5)
		sumW.add(wn[i])
	}
	if nz == 0 {
		return math.NaN(), 0, nil
	}
	N := float64(nz) * float64(m)
	total := rlogDDTimes(sumW, float64(m)) // R's sum over the weights repeated per sample
	var sumN rlogDDSum
	for i, g := range genes {
		if g.BaseMean > 0 {
			wn[i] = wn[i] * N / total
			sumN.add(wn[i])
		}
	}
	lo, hi, frac := rlogQuantileTargets(rlogDDTimes(sumN, float64(m)), rlogPriorProb)

	chunk := max(1, (1<<20)/m)
	xbuf := make([]float64, chunk*m)
	// Repeated values: R merges values by their text only where some value
	// repeats exactly. Within a gene that needs two equal normalized counts
	// (typically two zeros); across genes, two genes with the same counts
	// (found by a hash of each row). Other coincidences are not looked for:
	// missing one moves Q by at most 5e-16 relative.
	var dupWithin atomic.Bool
	rowHash := make([]uint64, G)
	scratch := make([][]float64, threads)
	for w := range scratch {
		scratch[w] = make([]float64, m)
	}
	sel.reset([]float64{lo, hi})
	passes := 0
	dup := false
	for sel.active() {
		passes++
		first := passes == 1
		_, err := EachBlock(ctx, rows, nil, func(g0, n int, block []float64) error {
			for c0 := 0; c0 < n; c0 += chunk {
				cn := min(chunk, n-c0)
				var wg sync.WaitGroup
				for w := 0; w < threads; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						q := scratch[w]
						for r := w; r < cn; r += threads {
							i := g0 + c0 + r
							if genes[i].BaseMean == 0 {
								continue
							}
							h := uint64(14695981039346656037)
							for j := 0; j < m; j++ {
								c := block[j*n+c0+r]
								q[j] = c / sf[j]
								xbuf[j*cn+r] = math.Abs(kernels.Log2(q[j]+0.5) - ref[i])
								h = (h ^ math.Float64bits(c)) * 1099511628211
								h ^= h >> 29
							}
							if first {
								rowHash[i] = h
								if !dupWithin.Load() && rlogHasRepeat(q) {
									dupWithin.Store(true)
								}
							}
						}
					}(w)
				}
				wg.Wait()
				for j := 0; j < m; j++ {
					for r := 0; r < cn; r++ {
						if i := g0 + c0 + r; genes[i].BaseMean > 0 {
							sel.add(xbuf[j*cn+r], wn[i])
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return 0, passes, err
		}
		if first {
			dup = dupWithin.Load() || rlogHasRepeatedRow(rowHash, genes)
		}
		sel.endPass(dup)
	}
	vlo, vhi := sel.targets[0].value, sel.targets[1].value
	return (1-frac)*vlo + frac*vhi, passes, nil
}

// rlogQuantileTargets are Hmisc wtd.quantile's cumulative weights for the
// quantile p of values whose weights sum to n: the quantile is
// (1−frac)·v(lo) + frac·v(hi).
func rlogQuantileTargets(n, p float64) (lo, hi, frac float64) {
	h := 1 + (n-1)*p
	lo = math.Max(math.Floor(h), 1)
	hi = math.Min(lo+1, n)
	return lo, hi, h - math.Floor(h)
}

// rlogHasRepeat reports whether two values of q are equal; it sorts q.
func rlogHasRepeat(q []float64) bool {
	zeros := 0
	for _, v := range q {
		if v == 0 {
			if zeros++; zeros == 2 {
				return true
			}
		}
	}
	slices.Sort(q)
	for k := 1; k < len(q); k++ {
		if q[k] == q[k-1] {
			return true
		}
	}
	return false
}

// rlogHasRepeatedRow reports whether two genes that are not all zero have the
// same row hash (the same counts, but for a 2^-64 chance).
func rlogHasRepeatedRow(hash []uint64, genes []GeneDispersion) bool {
	var hs []uint64
	for i, g := range genes {
		if g.BaseMean > 0 {
			hs = append(hs, hash[i])
		}
	}
	slices.Sort(hs)
	for k := 1; k < len(hs); k++ {
		if hs[k] == hs[k-1] {
			return true
		}
	}
	return false
}

// rlogDDTimes is the double-double sum d times k, rounded.
func rlogDDTimes(d rlogDDSum, k float64) float64 {
	p := d.hi * k
	e := math.FMA(d.hi, k, -p) + d.lo*k
	return p + e
}
