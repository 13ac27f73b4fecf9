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
	n := len(keptGenes)
	if n == 0 {
		return math.NaN()
	}
	if len(q.hist) != countHistogramSize {
		q.hist = make([]int32, countHistogramSize)
	}
	hist := q.hist
	clear(hist)
	small := 0
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
	// Quantile7's arithmetic, with x(k), the k-th smallest count, from the
	// histogram or the large counts
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
					q.large = append(q.large, v)
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
