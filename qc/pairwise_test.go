package qc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/kernels"
)

// pairwiseOf feeds rows (genes x samples) to a Pairwise in blocks of the
// given number of rows.
func pairwiseOf(rows [][]float64, blockRows, threads int) *Pairwise {
	m := len(rows[0])
	p := NewPairwise(m, sampleMeans(rows), threads)
	block := make([]float64, 0, blockRows*m)
	for start := 0; start < len(rows); start += blockRows {
		end := min(start+blockRows, len(rows))
		block = block[:0]
		for _, r := range rows[start:end] {
			block = append(block, r...)
		}
		p.AddBlock(block, end-start)
	}
	return p
}

func TestPairwiseWorkedExample(t *testing.T) {
	p := pairwiseOf(m2VST, 5, 1)
	// R: as.matrix(dist(t(v))) and cor(v) for the M2 VST, printed with 17
	// digits (the distances differ from §6's in the last digits because
	// this VST differs from §5.8's at 1e-14).
	wantDist := [][]float64{
		{0, 1.25691586732868954, 1.29862153781994238, 1.26777552561929219},
		{1.25691586732868954, 0, 1.19033136114890437, 0.93964378043138475},
		{1.29862153781994238, 1.19033136114890437, 0, 1.05415694796741377},
		{1.26777552561929219, 0.93964378043138475, 1.05415694796741377, 0},
	}
	wantCor := [][]float64{
		{1, 0.98307807669626313, 0.98670142979118725, 0.98547110065726207},
		{0.98307807669626313, 1, 0.98353977460488784, 0.98942428461218546},
		{0.98670142979118725, 0.98353977460488784, 1, 0.98721931138250829},
		{0.98547110065726207, 0.98942428461218546, 0.98721931138250829, 1},
	}
	d, c := p.Distances(), p.Correlation()
	for a := range 4 {
		for b := range 4 {
			if d[a][b] != wantDist[a][b] { // bit for bit
				t.Errorf("dist[%d][%d] = %.17g, want %.17g", a, b, d[a][b], wantDist[a][b])
			}
			if math.Abs(c[a][b]-wantCor[a][b]) > 1e-15 {
				t.Errorf("cor[%d][%d] = %.17g, want %.17g", a, b, c[a][b], wantCor[a][b])
			}
		}
	}
	if p.Genes() != 24 {
		t.Errorf("Genes() = %d, want 24", p.Genes())
	}
}

// TestPairwiseMatchesRDist compares Distances with R's dist() on the
// reference VST values, bit for bit (testdata/dist_*.tsv, written by R 4.2.2
// from the same files).
func TestPairwiseMatchesRDist(t *testing.T) {
	for _, set := range refSets {
		vst := reftest.ReadMatrix(t, reftest.Path("reference", set, "ref", "vst.tsv.gz"))
		d := pairwiseOf(rowsOf(vst.Cols), 777, 3).Distances()
		_, rows := reftest.Table(t, fmt.Sprintf("testdata/dist_%s.tsv", set))
		differ := 0
		var worst float64
		for a, r := range rows {
			for b := range rows {
				want := reftest.Num(t, r[b+1])
				if d[a][b] != want {
					differ++
					worst = max(worst, reftest.RelErr(d[a][b], want))
				}
			}
		}
		t.Logf("%s: %d of %d distances differ from R's bits (max relative %.2g)", set, differ, len(rows)*len(rows), worst)
		if differ != 0 {
			t.Errorf("%s: %d distances differ from R's dist(), max relative %.3g", set, differ, worst)
		}
	}
}

func randomRows(rng *rand.Rand, genes, m int) [][]float64 {
	rows := make([][]float64, genes)
	for i := range rows {
		level := 8 + 2*rng.NormFloat64()
		rows[i] = make([]float64, m)
		for j := range rows[i] {
			rows[i][j] = level + rng.NormFloat64()
		}
	}
	return rows
}

// TestPairwiseDeterministic checks that the sums do not depend on threads or
// block sizes, and that they are the plain sequential sums in gene order.
func TestPairwiseDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rows := randomRows(rng, 1300, 37) // 37 = 9 groups of four and one left over
	ref := pairwiseOf(rows, 1300, 1)
	refD, refC := ref.Distances(), ref.Correlation()

	// The sequential sums, written out.
	m := 37
	for a := range m {
		for b := a + 1; b < m; b++ {
			var s float64
			for _, r := range rows {
				e := r[a] - r[b]
				s += float64(e * e)
			}
			if math.Sqrt(s) != refD[a][b] {
				t.Fatalf("dist[%d][%d] = %.17g, sequential sum gives %.17g", a, b, refD[a][b], math.Sqrt(s))
			}
		}
	}

	for _, c := range []struct{ block, threads int }{{1, 4}, {7, 4}, {512, 4}, {513, 2}, {1300, 4}, {100, 1}, {2000, 8}} {
		for _, byColumns := range []bool{false, true} {
			p := pairwiseOf(rows, c.block, c.threads)
			if byColumns {
				p = pairwiseOfColumns(rows, c.block, c.threads)
			}
			d, r := p.Distances(), p.Correlation()
			for a := range m {
				for b := range m {
					if math.Float64bits(d[a][b]) != math.Float64bits(refD[a][b]) ||
						math.Float64bits(r[a][b]) != math.Float64bits(refC[a][b]) {
						t.Fatalf("block %d, threads %d, AddColumns %v: (%d,%d) dist %.17g cor %.17g, want %.17g %.17g",
							c.block, c.threads, byColumns, a, b, d[a][b], r[a][b], refD[a][b], refC[a][b])
					}
				}
			}
		}
	}
}

// sampleMeans are the means of the columns of rows (genes x samples).
func sampleMeans(rows [][]float64) []float64 {
	means := make([]float64, len(rows[0]))
	col := make([]float64, len(rows))
	for j := range means {
		for i, r := range rows {
			col[i] = r[j]
		}
		means[j] = kernels.MeanR(col)
	}
	return means
}

// pairwiseOfColumns is pairwiseOf through AddColumns: blocks of blockRows
// genes, stored sample by sample.
func pairwiseOfColumns(rows [][]float64, blockRows, threads int) *Pairwise {
	m := len(rows[0])
	p := NewPairwise(m, sampleMeans(rows), threads)
	for start := 0; start < len(rows); start += blockRows {
		end := min(start+blockRows, len(rows))
		block := make([]float64, (end-start)*m)
		for i, r := range rows[start:end] {
			for a, v := range r {
				block[a*(end-start)+i] = v
			}
		}
		p.AddColumns(block, end-start)
	}
	return p
}

func TestPairwiseEdges(t *testing.T) {
	// A constant sample has NaN correlations; the diagonal stays 1.
	rows := [][]float64{{1, 5, 2}, {2, 5, 4}, {4, 5, 5}}
	p := pairwiseOf(rows, 2, 2)
	c := p.Correlation()
	if !math.IsNaN(c[0][1]) || !math.IsNaN(c[1][2]) || c[1][1] != 1 {
		t.Errorf("constant sample: %v", c)
	}
	if math.Abs(c[0][2]-0.92857142857142849) > 1e-15 { // R: cor(c(1,2,4), c(2,4,5))
		t.Errorf("cor = %.17g", c[0][2])
	}
	// One gene: correlations undefined, distances defined.
	p = pairwiseOf([][]float64{{1, 4}}, 1, 1)
	if c := p.Correlation(); !math.IsNaN(c[0][1]) || c[0][0] != 1 {
		t.Errorf("one gene: %v", c)
	}
	if d := p.Distances(); d[0][1] != 3 || d[1][0] != 3 || d[0][0] != 0 {
		t.Errorf("one gene distances: %v", d)
	}
	// No samples, and an empty block.
	p = NewPairwise(0, nil, 4)
	p.AddBlock(nil, 0)
	if len(p.Correlation()) != 0 || len(p.Distances()) != 0 {
		t.Error("m = 0 gave a non-empty matrix")
	}
	defer func() {
		if recover() == nil {
			t.Error("short block did not panic")
		}
	}()
	NewPairwise(2, []float64{0, 0}, 1).AddBlock([]float64{1, 2, 3}, 2)
}

// BenchmarkPairwise times AddBlock over all genes in blocks of 1000 rows.
func BenchmarkPairwise(b *testing.B) {
	for _, size := range []struct{ genes, samples int }{{60000, 200}, {3000, 2000}} {
		rng := rand.New(rand.NewPCG(7, 8))
		block := make([]float64, 1000*size.samples)
		for i := range block {
			block[i] = 8 + rng.NormFloat64()
		}
		means := make([]float64, size.samples)
		for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
			name := fmt.Sprintf("genes=%d/samples=%d/threads=%d", size.genes, size.samples, threads)
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(8 * size.genes * size.samples))
				for b.Loop() {
					p := NewPairwise(size.samples, means, threads)
					for g := 0; g < size.genes; g += 1000 {
						p.AddBlock(block, 1000)
					}
					_ = p.Distances()
					_ = p.Correlation()
				}
				pairs := float64(size.samples*(size.samples-1)/2) * float64(size.genes)
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/pairs, "ns/pair-gene")
			})
		}
	}
}
