package pass

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colnorm/colnorm/columnar"
)

func source(S, G int) *columnar.Memory {
	genes := make([]string, G)
	for i := range genes {
		genes[i] = fmt.Sprintf("g%d", i)
	}
	samples := make([]string, S)
	cols := make([][]float64, S)
	for j := range cols {
		samples[j] = fmt.Sprintf("s%d", j)
		cols[j] = make([]float64, G)
		for i := range cols[j] {
			cols[j][i] = float64(j*G + i)
		}
	}
	return columnar.NewMemory("m.tsv", genes, samples, cols)
}

// Reduce sees every column once, in sample order, with the work applied,
// whatever the number of threads.
func TestReduceInSampleOrder(t *testing.T) {
	src := source(37, 5)
	for _, threads := range []int{1, 2, 3, 8, 64} {
		var worked atomic.Int32
		next := 0
		err := Run(context.Background(), src, Options{Threads: threads}, func(_, j int, col []float64) error {
			worked.Add(1)
			col[0] = -float64(j) // work is visible to reduce
			return nil
		}, func(j int, col []float64) error {
			if j != next {
				return fmt.Errorf("reduce got column %d, want %d", j, next)
			}
			if col[0] != -float64(j) || col[1] != float64(j*5+1) {
				return fmt.Errorf("column %d holds %v", j, col)
			}
			next++
			return nil
		})
		if err != nil {
			t.Fatalf("threads %d: %v", threads, err)
		}
		if next != 37 || worked.Load() != 37 {
			t.Fatalf("threads %d: reduced %d, worked %d", threads, next, worked.Load())
		}
	}
}

func TestFirstErrorStopsThePass(t *testing.T) {
	src := source(50, 3)
	boom := errors.New("boom")
	err := Run(context.Background(), src, Options{Threads: 4}, func(_, j int, _ []float64) error {
		if j == 17 {
			return boom
		}
		return nil
	}, func(int, []float64) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	err = Run(context.Background(), src, Options{Threads: 4}, nil, func(j int, _ []float64) error {
		if j == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("reduce error: %v", err)
	}
}

// In a pass without a reduce step, the other workers stop after the
// column they are on when one fails, not after their batch of columns.
func TestFirstErrorStopsTheBatches(t *testing.T) {
	const S = 2000 // batches of 16 columns for 2 workers
	boom := errors.New("boom")
	var calls atomic.Int32
	started := make(chan struct{}) // the other worker is in its batch
	var once sync.Once
	err := Run(context.Background(), source(S, 3), Options{Threads: 2}, func(_, j int, _ []float64) error {
		calls.Add(1)
		if j == 0 {
			<-started
			return boom
		}
		once.Do(func() { close(started) })
		time.Sleep(time.Millisecond)
		return nil
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n := calls.Load(); n > 4 {
		t.Errorf("%d columns processed; the other worker went on with its batch after the first failed", n)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Run(ctx, source(10, 3), Options{Threads: 2}, nil, func(int, []float64) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckNamesSampleAndGene(t *testing.T) {
	src := source(3, 4)
	cases := []struct {
		v        float64
		frac     bool
		wantErr  string
		wantPass bool
	}{
		{math.NaN(), false, "missing", false},
		{math.Inf(1), false, "infinite", false},
		{-1, false, "negative", false},
		{1 << 53, false, "2^53", false},
		{2.5, false, "fractional", false},
		{2.5, true, "", true},
		{0, false, "", true},
	}
	for _, c := range cases {
		col := []float64{1, 2, c.v, 4}
		err := Check(src, 1, col, c.frac)
		if c.wantPass {
			if err != nil {
				t.Errorf("%v: %v", c.v, err)
			}
			continue
		}
		var ie *columnar.InputError
		if !errors.As(err, &ie) || ie.Sample != "s1" || ie.Gene != "g2" || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%v: err = %v, want an InputError for s1/g2 saying %q", c.v, err, c.wantErr)
		}
	}
}

func TestNoCheckPassesValuesThrough(t *testing.T) {
	src := columnar.NewMemory("m", []string{"g"}, []string{"s"}, [][]float64{{math.NaN()}})
	if err := Run(context.Background(), src, Options{}, nil, nil); err == nil {
		t.Error("NaN passed the check")
	}
	if err := Run(context.Background(), src, Options{NoCheck: true}, nil, nil); err != nil {
		t.Errorf("NoCheck: %v", err)
	}
}

// progressLog records what a pass tells its Progress.
type progressLog struct{ events []string }

func (p *progressLog) Start(columns, genes int) {
	p.events = append(p.events, fmt.Sprintf("start %d x %d", columns, genes))
}
func (p *progressLog) Done(columns int) { p.events = append(p.events, fmt.Sprintf("done %d", columns)) }
func (p *progressLog) End()             { p.events = append(p.events, "end") }

// Progress hears the start, every column in order, and the end; a failed
// pass still ends.
func TestProgressEvents(t *testing.T) {
	var p progressLog
	if err := Run(context.Background(), source(3, 4), Options{Threads: 2, Progress: &p}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.events, ", "); got != "start 3 x 4, done 1, done 2, done 3, end" {
		t.Fatalf("events: %s", got)
	}
	p = progressLog{}
	fail := errors.New("boom")
	err := Run(context.Background(), source(3, 4), Options{Threads: 1, Progress: &p}, nil, func(j int, _ []float64) error {
		if j == 1 {
			return fail
		}
		return nil
	})
	if !errors.Is(err, fail) {
		t.Fatalf("err %v", err)
	}
	if got := strings.Join(p.events, ", "); got != "start 3 x 4, done 1, end" {
		t.Fatalf("events of a failed pass: %s", got)
	}
}

// With Options.Rows a pass hands on those genes' values only, in both the
// ordered and the unordered runs, from a cached source (which reads them
// without the rest) and from one that reads whole columns; a bad value is
// reported at its gene, and a bad value in a gene not read is not seen.
func TestRowsReadThoseGenes(t *testing.T) {
	const S, G = 9, 40
	rows := []int{0, 3, 4, 17, 39}
	for _, cached := range []bool{false, true} {
		var src columnar.Source = source(S, G)
		if cached {
			src = columnar.Cached(src, 1<<20)
		}
		for _, ordered := range []bool{false, true} {
			var seen atomic.Int64
			work := func(_, j int, col []float64) error {
				if len(col) != len(rows) {
					return fmt.Errorf("sample %d: %d values, want %d", j, len(col), len(rows))
				}
				for k, i := range rows {
					if col[k] != float64(j*G+i) {
						return fmt.Errorf("sample %d: value %d is %v, want gene %d's %d", j, k, col[k], i, j*G+i)
					}
				}
				seen.Add(1)
				return nil
			}
			var reduce ReduceFunc
			if ordered {
				reduce = func(int, []float64) error { return nil }
			}
			if err := Run(context.Background(), src, Options{Threads: 3, Rows: rows}, work, reduce); err != nil {
				t.Fatalf("cached %v, ordered %v: %v", cached, ordered, err)
			}
			if seen.Load() != S {
				t.Errorf("cached %v, ordered %v: %d columns, want %d", cached, ordered, seen.Load(), S)
			}
		}
	}
	bad := source(S, G)
	col := make([]float64, G)
	bad.ReadColumn(2, col)
	col[17], col[5] = -1, math.NaN() // gene 5 is not read
	cols := make([][]float64, S)
	for j := range cols {
		cols[j] = make([]float64, G)
		bad.ReadColumn(j, cols[j])
	}
	cols[2] = col
	src := columnar.NewMemory("m.tsv", bad.Genes(), bad.Samples(), cols)
	err := Run(context.Background(), src, Options{Rows: rows}, nil, nil)
	var ie *columnar.InputError
	if !errors.As(err, &ie) || ie.Sample != "s2" || ie.Gene != "g17" || !strings.Contains(err.Error(), "negative") {
		t.Errorf("err = %v, want a negative count at s2/g17", err)
	}
}

// readCounter counts the columns read from a source.
type readCounter struct {
	columnar.Source
	reads atomic.Int64
}

func (r *readCounter) ReadColumn(j int, dst []float64) error {
	r.reads.Add(1)
	return r.Source.ReadColumn(j, dst)
}

// WriteMapped writes the same file from a cache that holds every column as
// from the plain source, without reading the held columns again; with a
// cache that holds some, it reads the others, once each.
func TestWriteMappedFromCache(t *testing.T) {
	const S, G = 9, 500
	plain := source(S, G)
	of := func(j int) func(float64) float64 {
		return func(c float64) float64 { return math.Log2(c/float64(j+1) + 1) }
	}
	dir := t.TempDir()
	write := func(name string, src columnar.Source) []byte {
		path := dir + "/" + name + ".parquet"
		sink, err := columnar.Create(path, plain.Genes(), plain.Samples(), columnar.SinkOptions{RowGroupRows: 200})
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteMapped(context.Background(), src, Options{Threads: 3}, sink, of); err != nil {
			t.Fatal(err)
		}
		if err := sink.Commit(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := write("plain", plain)
	for _, c := range []struct {
		name   string
		budget int64
		all    bool // the cache holds every column
	}{{"all held", 1 << 30, true}, {"some held", 4 * 2 * (G + 8), false}} {
		under := &readCounter{Source: plain}
		src := columnar.Cached(under, c.budget)
		if err := Run(context.Background(), src, Options{Threads: 1}, nil, nil); err != nil {
			t.Fatal(err)
		}
		held := 0
		for j := 0; j < S; j++ {
			if src.(columnar.KnownCounts).CountsKnown(j) {
				held++
			}
		}
		if c.all && held != S || !c.all && (held == 0 || held == S) {
			t.Fatalf("%s: the cache holds %d of %d columns", c.name, held, S)
		}
		before, hits := under.reads.Load(), columnar.CacheHits(src)
		got := write(c.name, src)
		if c.all && columnar.CacheHits(src) != hits {
			t.Errorf("%s: %d columns read from the cache, want none (the sink takes them as held)", c.name, columnar.CacheHits(src)-hits)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: a different file from the cache (%d bytes, want %d)", c.name, len(got), len(want))
		}
		if reads := under.reads.Load() - before; reads != int64(S-held) {
			t.Errorf("%s: %d columns read again with %d of %d held, want %d", c.name, reads, held, S, S-held)
		}
	}
}

// columnsOf is every column of src, to change and make a source of again.
func columnsOf(src *columnar.Memory) [][]float64 {
	cols := make([][]float64, len(src.Samples()))
	for j := range cols {
		cols[j] = make([]float64, len(src.Genes()))
		src.ReadColumn(j, cols[j])
	}
	return cols
}

// RunCounts hands the columns that the cache holds to counts, with the
// values of the source, and the others (not held yet, fractional, past the
// budget) to work, checked: a negative count is an error naming its
// sample and gene in every pass, and a fractional one unless allowed.
func TestRunCountsTakesHeldColumns(t *testing.T) {
	const S, G = 7, 300
	plain := source(S, G)
	cols := columnsOf(plain)
	cols[2][5] = 2.5 // fractional: never held
	mem := columnar.NewMemory("m.tsv", plain.Genes(), plain.Samples(), cols)
	src := columnar.Cached(mem, int64(5*(G+8))) // room for some of the whole columns
	for pass := 0; pass < 2; pass++ {
		var asCounts, asValues atomic.Int32
		err := RunCounts(context.Background(), src, Options{Threads: 3, AllowFractional: true}, func(_, j int, c []uint32) error {
			asCounts.Add(1)
			for i, v := range c {
				if float64(v) != cols[j][i] {
					return fmt.Errorf("sample %d gene %d: count %d, want %v", j, i, v, cols[j][i])
				}
			}
			return nil
		}, func(_, j int, col []float64) error {
			asValues.Add(1)
			for i, v := range col {
				if v != cols[j][i] {
					return fmt.Errorf("sample %d gene %d: value %v, want %v", j, i, v, cols[j][i])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		held := 0
		for j := range S {
			if src.(columnar.KnownCounts).CountsKnown(j) {
				held++
			}
		}
		wantCounts := 0
		if pass == 1 {
			wantCounts = held
		}
		if held == 0 || held >= S-1 || int(asCounts.Load()) != wantCounts || int(asValues.Load()) != S-wantCounts {
			t.Fatalf("pass %d: %d columns as counts, %d as values, %d held; want %d as counts", pass, asCounts.Load(), asValues.Load(), held, wantCounts)
		}
	}
	for _, opts := range []Options{{Threads: 1}, {Threads: 1, AllowFractional: true}} { // one thread: the first error in sample order
		cols[4][9] = -3
		bad := columnar.Cached(columnar.NewMemory("m.tsv", plain.Genes(), plain.Samples(), cols), 1<<20)
		for pass := 0; pass < 2; pass++ {
			err := RunCounts(context.Background(), bad, opts, func(int, int, []uint32) error { return nil }, nil)
			var ie *columnar.InputError
			sample, gene := "s4", "g9"
			if !opts.AllowFractional {
				sample, gene = "s2", "g5"
			}
			if !errors.As(err, &ie) || ie.Sample != sample || ie.Gene != gene {
				t.Errorf("fractional allowed %v, pass %d: err = %v, want an InputError for %s/%s", opts.AllowFractional, pass, err, sample, gene)
			}
		}
	}
}

// With KeepCounts a CountsFunc may keep a column's counts until its
// worker's next call has returned, and after the worker's last call: the
// column a worker kept is as it was, also when columns read as values came
// in between.
func TestRunCountsKeepsTheLastColumn(t *testing.T) {
	const S, G = 40, 300
	plain := source(S, G)
	cols := columnsOf(plain)
	cols[6][3], cols[7][3], cols[19][0] = 0.5, 1.5, 2.5 // fractional: read as values
	mem := columnar.NewMemory("m.tsv", plain.Genes(), plain.Samples(), cols)
	src := columnar.Cached(mem, 1<<20)
	same := func(c []uint32, j int) error {
		for i, v := range c {
			if float64(v) != cols[j][i] {
				return fmt.Errorf("kept sample %d gene %d: count %d, want %v", j, i, v, cols[j][i])
			}
		}
		return nil
	}
	for pass := 0; pass < 2; pass++ { // the second from the cache
		type kept struct {
			j int
			c []uint32
		}
		last := make([]kept, 3)
		var counted atomic.Int32
		err := RunCounts(context.Background(), src, Options{Threads: 3, AllowFractional: true, KeepCounts: true}, func(w, j int, c []uint32) error {
			counted.Add(1)
			if k := last[w]; k.c != nil {
				if err := same(k.c, k.j); err != nil {
					return err
				}
			}
			last[w] = kept{j, c}
			return same(c, j)
		}, func(int, int, []float64) error { return nil })
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		for _, k := range last {
			if k.c != nil {
				if err := same(k.c, k.j); err != nil {
					t.Fatalf("pass %d, after it: %v", pass, err)
				}
			}
		}
		if pass == 1 && counted.Load() != S-3 {
			t.Fatalf("pass %d: %d columns as counts, want %d", pass, counted.Load(), S-3)
		}
	}
}

// A pass without a reduce step hands columns out in batches of neighbours:
// each worker takes unorderedBatch columns in a row, in sample order, and
// every column once.
func TestUnorderedBatches(t *testing.T) {
	for _, c := range []struct{ columns, workers, want int }{{2000, 2, 16}, {100, 2, 3}, {20, 2, 1}, {5, 8, 1}, {100000, 64, 16}} {
		if got := unorderedBatch(c.columns, c.workers); got != c.want {
			t.Errorf("unorderedBatch(%d, %d) = %d, want %d", c.columns, c.workers, got, c.want)
		}
	}
	const S = 500
	src := source(S, 3)
	byWorker := make([]int32, S)
	var seen atomic.Int32
	err := Run(context.Background(), src, Options{Threads: 2}, func(w, j int, _ []float64) error {
		byWorker[j] = int32(w)
		seen.Add(1)
		return nil
	}, nil)
	if err != nil || seen.Load() != S {
		t.Fatalf("err %v, %d columns seen of %d", err, seen.Load(), S)
	}
	batch := unorderedBatch(S, 2)
	for j0 := 0; j0 < S; j0 += batch {
		for j := j0; j < min(j0+batch, S); j++ {
			if byWorker[j] != byWorker[j0] {
				t.Fatalf("columns %d and %d of one batch of %d went to workers %d and %d", j0, j, batch, byWorker[j0], byWorker[j])
			}
		}
	}
}
