package edger

import (
	"testing"

	"github.com/colnorm/colnorm/bench"
	"github.com/colnorm/colnorm/kernels"
)

// tmmBenchColumns are 16 sample columns and a reference of the benchmark
// generator's 60,000-gene matrix (bench.New: negative binomial counts with
// DESeq2-like means and dispersions), the rows kept and the library sizes.
type tmmBenchColumns struct {
	cols [][]float64
	ref  []float64
	keep []bool
	lib  []float64
	nR   float64
}

func newTMMBenchColumns(b *testing.B) *tmmBenchColumns {
	const genes, samples = 60000, 17
	m := bench.New(bench.Params{Genes: genes, Samples: samples, Seed: 1})
	c := &tmmBenchColumns{keep: make([]bool, genes)}
	for j := 0; j < samples; j++ {
		col := make([]float64, genes)
		if err := m.ReadColumn(j, col); err != nil {
			b.Fatal(err)
		}
		for i, v := range col {
			if v > 0 {
				c.keep[i] = true
			}
		}
		if j == 0 {
			c.ref, c.nR = col, kernels.Sum(col)
			continue
		}
		c.cols = append(c.cols, col)
		c.lib = append(c.lib, kernels.Sum(col))
	}
	return c
}

// each calls sample(j) for the columns in turn while b loops, and reports
// the time per gene.
func (c *tmmBenchColumns) each(b *testing.B, sample func(j int)) {
	j := 0
	for b.Loop() {
		sample(j)
		j = (j + 1) % len(c.cols)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.ref)), "ns/gene")
}

// BenchmarkTMMSample times TMM and TMMwsp of one 60,000-gene sample against
// the reference (tmmScratch.tmm and tmmwsp, the per-sample kernels of
// calcNormFactors), the reference prepared once.
func BenchmarkTMMSample(b *testing.B) {
	c := newTMMBenchColumns(b)
	for _, method := range []Method{TMM, TMMwsp} {
		b.Run(string(method), func(b *testing.B) {
			ref := NewTMMReference(c.ref, c.keep, c.nR, method)
			o := Options{Method: method}
			o.defaults()
			var s tmmScratch
			c.each(b, func(j int) {
				if method == TMM {
					s.tmm(c.cols[j], ref.tmm, c.lib[j], o)
				} else {
					s.tmmwsp(c.cols[j], ref.wsp, c.lib[j], o)
				}
			})
		})
	}
}

// BenchmarkTMMSampleSorting is BenchmarkTMMSample for the sorting
// implementations the kernels replaced (tmm_old_test.go).
func BenchmarkTMMSampleSorting(b *testing.B) {
	c := newTMMBenchColumns(b)
	refKept := gatherKept(nil, c.ref, c.keep)
	for _, method := range []Method{TMM, TMMwsp} {
		b.Run(string(method), func(b *testing.B) {
			o := Options{Method: method}
			o.defaults()
			var s oldTMMScratch
			var obs []float64
			c.each(b, func(j int) {
				obs = gatherKept(obs, c.cols[j], c.keep)
				if method == TMM {
					s.tmmOld(obs, refKept, c.lib[j], c.nR, o)
				} else {
					s.tmmwspOld(obs, refKept, c.lib[j], c.nR, o)
				}
			})
		})
	}
}

// BenchmarkTMMRows times the first sweep of BenchmarkTMMSample alone
// (tmmScratch.fastRows: the rows positive in both columns, their keys and
// the keys' histograms).
func BenchmarkTMMRows(b *testing.B) {
	c := newTMMBenchColumns(b)
	ref := newTMMReference(c.ref, c.keep, c.nR)
	var s tmmScratch
	c.each(b, func(j int) {
		s.fastRows(c.cols[j], ref, c.lib[j])
	})
}

// BenchmarkFirstPassColumn times the first pass's work on one 60,000-gene
// column: Σx and the marks of the positive genes (TMM, RLE and
// upperquartile), and with Σ√x as well (TMMwsp, the former work of all).
func BenchmarkFirstPassColumn(b *testing.B) {
	c := newTMMBenchColumns(b)
	mark := make([]uint8, len(c.ref))
	var sink float64 // the sums are used, so that they are computed
	b.Run("sum", func(b *testing.B) {
		c.each(b, func(j int) { sink += sumAndMarks(c.cols[j], mark, true) })
	})
	b.Run("sum+sqrt", func(b *testing.B) {
		c.each(b, func(j int) {
			lib, sq := sumsAndMarks(c.cols[j], mark)
			sink += lib + sq
		})
	})
	if sink == 0 {
		b.Fatal("no sums")
	}
}
