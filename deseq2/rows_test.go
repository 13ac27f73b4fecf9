package deseq2

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/colnorm/colnorm/internal/reftest"
)

// blockedRows is a RowBlocks of genes x samples in blocks of per genes,
// value (gene i, sample j) = 1000·i + j.
type blockedRows struct{ genes, samples, per int }

func (b blockedRows) Genes() int      { return b.genes }
func (b blockedRows) Samples() int    { return b.samples }
func (b blockedRows) BlockGenes() int { return b.per }
func (b blockedRows) NumBlocks() int  { return (b.genes + b.per - 1) / b.per }

func (b blockedRows) ReadBlock(k int, dst []float64) (int, error) {
	g0 := k * b.per
	n := min(b.per, b.genes-g0)
	for j := 0; j < b.samples; j++ {
		for r := 0; r < n; r++ {
			dst[j*n+r] = float64(1000*(g0+r) + j)
		}
	}
	return n, nil
}

// EachGene hands every gene to exactly one worker, with its own counts,
// over several blocks and for any number of threads.
func TestEachGeneEveryGeneOnce(t *testing.T) {
	rows := blockedRows{genes: 23, samples: 5, per: 7}
	for _, threads := range []int{1, 2, 3, 8} {
		seen := make([]int32, rows.genes)
		_, err := EachGene(reftest.Background, rows, threads, nil, func() func(int, []float64) {
			return func(i int, y []float64) {
				atomic.AddInt32(&seen[i], 1)
				for j, v := range y {
					if v != float64(1000*i+j) {
						t.Errorf("threads %d: gene %d sample %d = %v", threads, i, j, v)
					}
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range seen {
			if n != 1 {
				t.Errorf("threads %d: gene %d seen %d times", threads, i, n)
			}
		}
	}
}

// A worker held up by one costly gene does not hold up the others: with two
// workers, gene 0 waits until every other gene of its block is done, which
// a fixed split of the genes (one worker every other gene) never allows.
func TestEachGeneHandsOutGenesAsWorkersFree(t *testing.T) {
	rows := blockedRows{genes: 40, samples: 3, per: 20}
	var done atomic.Int32
	othersDone := map[int]chan struct{}{0: make(chan struct{}), 20: make(chan struct{})}
	_, err := EachGene(reftest.Background, rows, 2, nil, func() func(int, []float64) {
		return func(i int, _ []float64) {
			first := i - i%rows.per
			if i == first {
				select {
				case <-othersDone[first]:
				case <-time.After(5 * time.Second):
					t.Errorf("gene %d still waits for the rest of its block", i)
				}
				done.Store(0)
				return
			}
			if done.Add(1) == int32(rows.per-1) {
				close(othersDone[first])
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
