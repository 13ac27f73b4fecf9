package qc

import (
	"math"
	"sync"
	"sync/atomic"
)

// chunkRows is how many gene rows are transposed and processed together: a
// chunk holds 2·chunkRows float64s per sample (8 kB per sample and kind).
const chunkRows = 512

// taskWidth is how many partner samples one task pairs with one sample: a
// task reads 16 kB of its sample and 32 x 8 kB = 256 kB of partners.
const taskWidth = 32

// Pairwise accumulates, over gene rows streamed in gene order, the sums
// behind Euclidean distances and Pearson correlations between every pair of
// m samples:
//
//	SD_ab = Σ_i (v_ia - v_ib)²                      (dist)
//	SC_ab = Σ_i (v_ia - mean_a)·(v_ib - mean_b)     (cor, a <= b)
//
// Each sum runs sequentially over the genes in the order they were added,
// with no fused multiply-add, exactly as R's dist() accumulates, so
// Distances equals dist(t(vst)) to the last bit. Pairs are shared out among
// worker goroutines, but every pair's sum is computed by one goroutine in
// gene order, so the results are bit-identical whatever the number of
// threads and however the genes are cut into blocks.
//
// Work is O(G·m²) time and O(m²) memory. Values must be finite (R's dist
// skips NaN pairs and rescales; Pairwise does not). A Pairwise is not safe
// for concurrent use.
type Pairwise struct {
	m       int
	means   []float64
	threads int
	genes   int

	sd, sc []float64 // packed upper triangles; sc includes the diagonal
	raw    []float64 // chunk, sample-major: raw[a*rows+i] = v_ia
	cen    []float64 // chunk, sample-major, centred: v_ia - mean_a
	tasks  []pairTask
}

// pairTask pairs sample a with samples b0 <= b < b1 (a < b0). Every pair
// a < b belongs to exactly one task.
type pairTask struct{ a, b0, b1 int }

// NewPairwise makes an accumulator for m samples. colMeans[a] is sample a's
// mean over all genes that will be added (compute it like R's mean, e.g.
// kernels.MeanR of the column, to match R's cor to the last bits); it is
// copied. threads < 1 means 1. It panics if len(colMeans) != m.
func NewPairwise(m int, colMeans []float64, threads int) *Pairwise {
	if len(colMeans) != m {
		panic("qc: NewPairwise: len(colMeans) != m")
	}
	p := &Pairwise{
		m:       m,
		means:   append([]float64(nil), colMeans...),
		threads: max(1, threads),
		sd:      make([]float64, m*(m+1)/2),
		sc:      make([]float64, m*(m+1)/2),
	}
	// Tasks go block of partners by block: consecutive tasks share their
	// partners, which stay in cache while the samples a pass by.
	for lo := 0; lo < m; lo += taskWidth {
		hi := min(lo+taskWidth, m)
		for a := range hi - 1 {
			p.tasks = append(p.tasks, pairTask{a, max(lo, a+1), hi})
		}
	}
	return p
}

// Genes returns how many gene rows have been added.
func (p *Pairwise) Genes() int { return p.genes }

// AddBlock adds the next rows genes: block is row-major, rows x m, gene by
// gene (block[i*m+a] is gene i's value in sample a). Blocks must come in
// gene order; their sizes are free. It panics if len(block) < rows*m.
func (p *Pairwise) AddBlock(block []float64, rows int) {
	p.addChunks("AddBlock", block, rows, func(start, n int) {
		p.transpose(block[start*p.m:(start+n)*p.m], n)
	})
}

// AddColumns is AddBlock for a block stored sample by sample:
// block[a*rows+i] is gene i's value in sample a (as deseq2.EachBlock gives
// a RowStore's blocks), copied into the chunks as they are, with no
// transposition. The sums are AddBlock's, bit for bit.
func (p *Pairwise) AddColumns(block []float64, rows int) {
	p.addChunks("AddColumns", block, rows, func(start, n int) {
		for a := range p.m {
			col := block[a*rows+start : a*rows+start+n]
			raw, cen, mean := p.raw[a*n:(a+1)*n], p.cen[a*n:(a+1)*n], p.means[a]
			copy(raw, col)
			for i, v := range col {
				cen[i] = v - mean
			}
		}
	})
}

// addChunks adds the block's rows genes chunk by chunk: fill(start, n)
// puts rows [start, start+n) of the block into the sample-major raw and
// centred buffers, and runChunk adds them to the sums. method names the
// caller in the panic for a block shorter than rows x m.
func (p *Pairwise) addChunks(method string, block []float64, rows int, fill func(start, n int)) {
	m := p.m
	if rows < 0 || len(block) < rows*m {
		panic("qc: Pairwise." + method + ": block shorter than rows x m")
	}
	if p.raw == nil && rows > 0 {
		p.raw = make([]float64, m*chunkRows)
		p.cen = make([]float64, m*chunkRows)
	}
	for start := 0; start < rows; start += chunkRows {
		n := min(chunkRows, rows-start)
		fill(start, n)
		p.runChunk(n)
	}
	p.genes += rows
}

// transpose copies n rows into the sample-major raw and centred buffers, 16
// samples at a time so that each row's cache line is read once.
func (p *Pairwise) transpose(rowsBlock []float64, n int) {
	m := p.m
	for a0 := 0; a0 < m; a0 += 16 {
		a1 := min(a0+16, m)
		for i := range n {
			row := rowsBlock[i*m+a0 : i*m+a1]
			for k, v := range row {
				a := a0 + k
				p.raw[a*n+i] = v
				p.cen[a*n+i] = v - p.means[a]
			}
		}
	}
}

// runChunk adds the chunk of n rows to every pair's sums, sharing the tasks
// out among the goroutines.
func (p *Pairwise) runChunk(n int) {
	for a := range p.m { // the diagonal Σ (v_ia - mean_a)², sequential
		c := p.cen[a*n : (a+1)*n]
		s := p.sc[p.at(a, a)]
		for _, x := range c {
			s += float64(x * x)
		}
		p.sc[p.at(a, a)] = s
	}
	workers := min(p.threads, len(p.tasks))
	if workers <= 1 {
		for _, t := range p.tasks {
			p.runTask(t, n)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(p.tasks) {
					return
				}
				p.runTask(p.tasks[k], n)
			}
		})
	}
	wg.Wait()
}

// runTask adds the chunk to the pairs (t.a, b), t.b0 <= b < t.b1, four
// partners at a time.
func (p *Pairwise) runTask(t pairTask, n int) {
	ra := p.raw[t.a*n : (t.a+1)*n]
	ca := p.cen[t.a*n : (t.a+1)*n]
	base := p.at(t.a, 0) // packed index of (a, b) is base + b
	b := t.b0
	for ; b+4 <= t.b1; b += 4 {
		k := base + b
		sd := (*[4]float64)(p.sd[k : k+4])
		sc := (*[4]float64)(p.sc[k : k+4])
		sd[0], sd[1], sd[2], sd[3] = squaredDiffs4(ra, p.raw[b*n:(b+4)*n], sd[0], sd[1], sd[2], sd[3])
		sc[0], sc[1], sc[2], sc[3] = products4(ca, p.cen[b*n:(b+4)*n], sc[0], sc[1], sc[2], sc[3])
	}
	for ; b < t.b1; b++ {
		k := base + b
		p.sd[k], p.sc[k] = pair(ra, ca, p.raw[b*n:(b+1)*n], p.cen[b*n:(b+1)*n], p.sd[k], p.sc[k])
	}
}

// squaredDiffs4 adds Σ_i (x_i - y_k,i)² to d_k for the four vectors
// y_k = y[k·n : (k+1)·n], n = len(x): four independent chains, each in order.
// (Two loops of four chains each, this one and products4, run faster in Go
// than one loop of eight, which spills registers.)
func squaredDiffs4(x, y []float64, d0, d1, d2, d3 float64) (float64, float64, float64, float64) {
	n := len(x)
	y0, y1, y2, y3 := y[:n], y[n:2*n], y[2*n:3*n], y[3*n:4*n]
	for i, r := range x {
		// float64(...) forbids fusing into an FMA: R rounds each square.
		e0 := r - y0[i]
		d0 += float64(e0 * e0)
		e1 := r - y1[i]
		d1 += float64(e1 * e1)
		e2 := r - y2[i]
		d2 += float64(e2 * e2)
		e3 := r - y3[i]
		d3 += float64(e3 * e3)
	}
	return d0, d1, d2, d3
}

// products4 adds Σ_i x_i·y_k,i to s_k for the four vectors
// y_k = y[k·n : (k+1)·n], n = len(x), each sum in order.
func products4(x, y []float64, s0, s1, s2, s3 float64) (float64, float64, float64, float64) {
	n := len(x)
	y0, y1, y2, y3 := y[:n], y[n:2*n], y[2*n:3*n], y[3*n:4*n]
	for i, c := range x {
		s0 += float64(c * y0[i])
		s1 += float64(c * y1[i])
		s2 += float64(c * y2[i])
		s3 += float64(c * y3[i])
	}
	return s0, s1, s2, s3
}

// pair adds a chunk to one pair's two sums.
func pair(ra, ca, rb, cb []float64, d, x float64) (float64, float64) {
	rb, ca, cb = rb[:len(ra)], ca[:len(ra)], cb[:len(ra)]
	for i, r := range ra {
		e := r - rb[i]
		d += float64(e * e)
		x += float64(ca[i] * cb[i])
	}
	return d, x
}

// at is the packed index of (a, b), a <= b, in the upper triangle with
// diagonal; (a, b) for fixed a are contiguous in b.
func (p *Pairwise) at(a, b int) int {
	return a*(2*p.m-a-1)/2 + b
}

// Distances returns the m x m Euclidean distance matrix
// D_ab = √(Σ_i (v_ia - v_ib)²) over the genes added so far: R's
// as.matrix(dist(t(vst))). The diagonal is 0.
func (p *Pairwise) Distances() [][]float64 {
	out := square(p.m)
	for a := range p.m {
		for b := a + 1; b < p.m; b++ {
			v := math.Sqrt(p.sd[p.at(a, b)])
			out[a][b], out[b][a] = v, v
		}
	}
	return out
}

// Correlation returns the m x m Pearson correlation matrix of the samples
// over the genes added so far, in the shape of R's cor(vst):
// cov_ab = SC_ab/(G-1), s_a = √cov_aa, r_ab = cov_ab/(s_a·s_b), clamped to
// [-1, 1]. The diagonal is exactly 1. A sample with zero variance has NaN
// correlations with every other sample (R: NA with a warning); fewer than
// two genes give NaN off the diagonal.
func (p *Pairwise) Correlation() [][]float64 {
	m := p.m
	out := square(m)
	n1 := float64(p.genes - 1)
	sdev := make([]float64, m)
	for a := range m {
		sdev[a] = math.Sqrt(p.sc[p.at(a, a)] / n1)
	}
	for a := range m {
		out[a][a] = 1
		for b := a + 1; b < m; b++ {
			r := math.NaN()
			if p.genes >= 2 && sdev[a] != 0 && sdev[b] != 0 {
				r = (p.sc[p.at(a, b)] / n1) / (sdev[a] * sdev[b])
				r = max(-1, min(1, r))
			}
			out[a][b], out[b][a] = r, r
		}
	}
	return out
}

// square allocates an m x m matrix in one backing array.
func square(m int) [][]float64 {
	back := make([]float64, m*m)
	out := make([][]float64, m)
	for a := range out {
		out[a] = back[a*m : (a+1)*m]
	}
	return out
}
