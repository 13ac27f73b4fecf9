package edger

import (
	"math"

	"github.com/colnorm/colnorm/kernels"
)

// countHistogramSize bounds the whole counts that countQuantile counts in
// its histogram (16 KiB of counters); larger counts are selected among.
const countHistogramSize = 4096

// countQuantile is one worker's scratch for quantile7 of a sample's kept
// counts.
type countQuantile struct {
	hist  []int32
	large []float64
}

// quantile7 returns kernels.Quantile7 of the counts col[i] of the kept genes
// (keptGenes, in any order; keep marks them), with the same bits, without
// sorting them: whole counts below countHistogramSize are counted in a
// histogram, which gives the order statistics directly, and only when one of
// them lies among the larger counts is quickselect run, on those alone.
// With a fractional count it gathers the kept counts and calls Quantile7.
func (q *countQuantile) quantile7(col []float64, keptGenes []int32, keep []bool, p float64) float64 {
	if len(keptGenes) == 0 {
		return math.NaN()
	}
	hist, small := q.clearedHistogram(), 0
	for _, g := range keptGenes {
		v := col[g]
		if v < countHistogramSize {
			k := int(v)
			if float64(k) != v {
				q.large = gatherKept(q.large, col, keep)
				return kernels.Quantile7(q.large, p)
			}
			hist[k]++
			small++
		}
	}
	return quantileFromHistogram(q, col, keptGenes, small, p)
}

// quantile7Counts is quantile7 of whole counts given as 32-bit integers:
// the same bits, with no fractional count to look out for.
func (q *countQuantile) quantile7Counts(col []uint32, keptGenes []int32, p float64) float64 {
	if len(keptGenes) == 0 {
		return math.NaN()
	}
	hist, small := q.clearedHistogram(), 0
	for _, g := range keptGenes {
		if c := col[g]; c < countHistogramSize {
			hist[c]++
			small++
		}
	}
	return quantileFromHistogram(q, col, keptGenes, small, p)
}

// clearedHistogram is q.hist, of countHistogramSize zeros.
func (q *countQuantile) clearedHistogram() []int32 {
	if len(q.hist) != countHistogramSize {
		q.hist = make([]int32, countHistogramSize)
	}
	clear(q.hist)
	return q.hist
}

// quantileFromHistogram finishes quantile7 once q.hist counts the small
// whole counts of the kept genes (small of them): Quantile7's arithmetic,
// with x(k), the k-th smallest count, from the histogram or, selected
// among, the large counts.
func quantileFromHistogram[T float64 | uint32](q *countQuantile, col []T, keptGenes []int32, small int, p float64) float64 {
	n, hist := len(keptGenes), q.hist
	h := 1 + float64(n-1)*p
	lo := math.Floor(h)
	hi := math.Ceil(h)
	gathered := false
	nth := func(k int) float64 { // 1-based
		if k <= small {
			seen := 0
			for v, c := range hist {
				seen += int(c)
				if seen >= k {
					return float64(v)
				}
			}
		}
		if !gathered {
			q.large = q.large[:0]
			for _, g := range keptGenes {
				if v := col[g]; v >= countHistogramSize {
					q.large = append(q.large, float64(v))
				}
			}
			gathered = true
		}
		return kernels.Select(q.large, k-small-1)
	}
	qlo := nth(int(lo))
	if hi == lo {
		return qlo
	}
	qhi := nth(int(lo) + 1)
	if qhi == qlo {
		return qlo
	}
	g := h - lo
	return (1-g)*qlo + g*qhi
}
