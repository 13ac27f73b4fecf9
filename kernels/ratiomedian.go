package kernels

import "math"

// Grid of the histogram that LogRatioMedian narrows the median down with:
// ratioBuckets equal buckets of width 1/ratioScale from ratioLow, covering
// log ratios in [-32, 32) (ratios from e^-32 to e^32); smaller and larger
// values fall in the first and last bucket.
const (
	ratioBuckets = 4096
	ratioScale   = 64.0
	ratioLow     = -32.0
)

// RatioMedian is one worker's scratch space for LogRatioMedian.
type RatioMedian struct {
	ratios []float64
	bucket []uint16
	cand   []float64
	counts [ratioBuckets]int32
}

// LogRatioMedian returns the median, over the genes i in idx (UsableGenes)
// with x[i] > 0, of the log ratio ln x[i] - logRef[i] (LogCount for the
// logarithm), and the number n of those genes: DESeq2's log size factor of
// one sample. With n = 0 the median is NaN. The median is R's median():
// the middle value, or the mean of the two middle values for an even n. The
// result is exact: the same bits as Median over the same ratios.
//
// It takes two sweeps. The first computes the ratios and counts them in a
// histogram on a fixed grid (ratioBuckets buckets of width 1/64), noting each
// ratio's bucket. The buckets of the middle rank(s) follow from the counts;
// the second sweep picks the ratios of those buckets (a few hundred of tens
// of thousands), and Select finds the middle among them. Buckets keep the
// order of the values, since a bucket is a non-decreasing function of the
// ratio, so the ranks within the picked buckets are the overall ranks less
// the count below. When a middle rank falls in the first or last bucket,
// whose values are not bounded, Median finishes on all the ratios.
func (m *RatioMedian) LogRatioMedian(x, logRef []float64, idx []int32) (median float64, n int) {
	if len(logRef) != len(x) {
		panic(badLength)
	}
	ratios, bucket, counts := m.start(len(idx))
	for _, i := range idx {
		v := x[i]
		if !(v > 0) {
			continue
		}
		r := LogCount(v) - logRef[i]
		b := ratioBucket(r)
		ratios[n], bucket[n] = r, uint16(b)
		counts[b]++
		n++
	}
	return m.finish(n), n
}

// LogRatioMedianCounts is LogRatioMedian of whole counts given as 32-bit
// integers: the same bits as LogRatioMedian of their float64 values, with
// their logarithms from the table by index (LogCount's, for counts below
// 2^16).
func (m *RatioMedian) LogRatioMedianCounts(x []uint32, logRef []float64, idx []int32) (median float64, n int) {
	if len(logRef) != len(x) {
		panic(badLength)
	}
	ratios, bucket, counts := m.start(len(idx))
	for _, i := range idx {
		c := x[i]
		if c == 0 {
			continue
		}
		r := LogUint32(c) - logRef[i]
		b := ratioBucket(r)
		ratios[n], bucket[n] = r, uint16(b)
		counts[b]++
		n++
	}
	return m.finish(n), n
}

// ratioBucket is the histogram bucket of log ratio r: ⌊(r - ratioLow) ·
// ratioScale⌋, clamped to the grid (the mask tells the compiler so).
func ratioBucket(r float64) int {
	return min(max(int((r-ratioLow)*ratioScale), 0), ratioBuckets-1) & (ratioBuckets - 1)
}

// start readies the scratch space for up to genes ratios: the ratios, their
// buckets and the cleared histogram.
func (m *RatioMedian) start(genes int) (ratios []float64, bucket []uint16, counts *[ratioBuckets]int32) {
	if cap(m.ratios) < genes {
		m.ratios, m.bucket = make([]float64, genes), make([]uint16, genes)
	}
	m.counts = [ratioBuckets]int32{}
	return m.ratios[:genes], m.bucket[:genes], &m.counts
}

// finish returns the median of the first n ratios of the sweep, whose
// buckets the histogram counts (NaN for n = 0).
func (m *RatioMedian) finish(n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	ratios, bucket := m.ratios[:n], m.bucket[:n]
	k := n / 2 // the upper middle rank (0-based); for an even n, k-1 is the lower
	bFirst, bK, below := middleBuckets(m.counts[:], n, k)
	if bFirst == 0 || bK == ratioBuckets-1 {
		return Median(ratios)
	}
	m.cand = middleRatios(m.cand[:0], ratios, bucket, bFirst, bK)
	cand := m.cand
	kk := k - below
	upper := Select(cand, kk)
	if n%2 == 1 {
		return upper
	}
	// The lower middle value is the largest of cand[:kk], all <= upper
	// after Select (kk >= 1: rank k-1 is in bucket bFirst, above the
	// `below` ratios of the buckets before it).
	lower := cand[0]
	for _, v := range cand[1:kk] {
		lower = max(lower, v)
	}
	return (lower + upper) / 2
}

// middleRatios appends to cand the ratios whose bucket lies in [first, last]
// (buckets below ratioBuckets), in order. Four buckets are tested at a time
// as the 16-bit lanes of a word (middleLanes); only a word with a bucket in
// the range (a few in a hundred) is looked at bucket by bucket.
func middleRatios(cand, ratios []float64, bucket []uint16, first, last int) []float64 {
	lo, span := uint16(first), uint16(last-first)
	j := 0
	for ; j+4 <= len(bucket); j += 4 {
		b := bucket[j : j+4 : j+4]
		w := uint64(b[0]) | uint64(b[1])<<16 | uint64(b[2])<<32 | uint64(b[3])<<48
		if middleLanes(w, uint64(lo), uint64(span)) == 0 {
			continue
		}
		for k, bk := range b {
			if bk-lo <= span { // first <= bk <= last, in one unsigned comparison
				cand = append(cand, ratios[j+k])
			}
		}
	}
	for ; j < len(bucket); j++ {
		if bucket[j]-lo <= span {
			cand = append(cand, ratios[j])
		}
	}
	return cand
}

// middleLanes has the top bit of each 16-bit lane of w set where the lane,
// a bucket below 4096, lies in [first, first+span] (first, span < 4096),
// and no other bit. With d = lane + 0x4000 - first (in [0x3001, 0x4fff]),
// d + 0x4000 reaches the top bit exactly when lane >= first, and
// d + 0x3fff - span does not reach it exactly when lane <= first + span; no
// lane's sum leaves its 16 bits, so nothing carries into the next lane.
func middleLanes(w, first, span uint64) uint64 {
	const lanes, tops = 0x0001000100010001, 0x8000800080008000
	d := w + 0x4000*lanes - first*lanes
	return (d + 0x4000*lanes) &^ (d + (0x3fff-span)*lanes) & tops
}
