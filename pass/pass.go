// Package pass runs passes over the sample columns of a columnar.Source.
//
// A pass reads every sample column once. Columns are read and processed by
// one worker per thread, in any order; an optional reduce step then sees the
// columns strictly in sample order, one at a time, so that per-gene state
// accumulated across samples has the same bits whatever the number of
// threads. Memory is a window of a few columns per worker: O(genes x threads),
// independent of the number of samples.
//
// Every column is checked as it is read (see Check): counts must be finite,
// non-negative, below 2^53 and, unless fractional values are allowed, whole.
package pass

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
)

// Options configure a pass.
type Options struct {
	// Threads is the number of workers; 0 uses runtime.NumCPU().
	Threads int
	// AllowFractional accepts non-integer counts (Salmon or kallisto estimates).
	AllowFractional bool
	// NoCheck skips the count checks: for passes that copy values as they are.
	NoCheck bool
	// Progress, when not nil, hears about the pass as it runs.
	Progress Progress
	// unread, when not nil, says which columns a pass with a reduce step
	// does not read: their work is not called and reduce gets a nil column
	// (WriteMapped).
	unread func(j int) bool
	// Rows, when not nil, are the genes (indexes in ascending order) the
	// pass reads: the columns it hands on hold their values only, col[k]
	// being gene Rows[k]'s, read with columnar.ReadRows (from the cache
	// without decoding the other genes).
	Rows []int
	// KeepCounts makes RunCounts fill two buffers of counts in turn in each
	// worker, so that a CountsFunc may keep the counts it was given until
	// its worker's next call has returned, and after the worker's last call
	// until it is done with them (to take two columns in one sweep).
	KeepCounts bool
}

// genes is the number of values of a column of the pass.
func (o Options) genes(src columnar.Source) int {
	if o.Rows != nil {
		return len(o.Rows)
	}
	return len(src.Genes())
}

// Progress follows a pass: Start before the first column is read, Done
// after each column is reduced (in the reducing goroutine, with the number
// of columns done so far, in sample order; in a pass without a reduce step,
// after each column is processed, by the workers one at a time), and End when
// the pass returns, whether it succeeded or not. progress.Stage implements it.
type Progress interface {
	Start(columns, genes int)
	Done(columns int)
	End()
}

// Replanner is a Progress that can hear that the data changed the number
// of passes planned: a pass made unnecessary, or one more needed
// (progress.Stage implements it).
type Replanner interface {
	Replan(delta int)
}

// Replan tells opts.Progress, when it is a Replanner, that delta more
// passes (fewer, when negative) than planned will run.
func Replan(opts Options, delta int) {
	if r, ok := opts.Progress.(Replanner); ok {
		r.Replan(delta)
	}
}

func (o Options) threads() int {
	if o.Threads > 0 {
		return o.Threads
	}
	return runtime.NumCPU()
}

// WorkFunc processes sample j's column in a worker; worker is in [0, threads)
// and may index per-worker scratch space. It may modify col.
type WorkFunc func(worker, j int, col []float64) error

// ReduceFunc sees sample j's column (as left by the WorkFunc) in sample order.
type ReduceFunc func(j int, col []float64) error

// Workers reports the number of workers a pass with these options uses, for
// sizing per-worker scratch space.
func (o Options) Workers(src columnar.Source) int {
	w := o.threads()
	if n := len(src.Samples()); w > n && n > 0 {
		w = n
	}
	return w
}

// Run reads every column of src, checks it, and calls work (concurrently)
// and then reduce (in sample order) for it. Either function may be nil. It
// stops at the first error and returns it; cancelling ctx stops it between
// columns with ctx.Err().
func Run(ctx context.Context, src columnar.Source, opts Options, work WorkFunc, reduce ReduceFunc) error {
	return run(ctx, src, opts, work, nil, reduce)
}

// run is Run, and RunCounts with counts (then reduce is nil).
func run(ctx context.Context, src columnar.Source, opts Options, work WorkFunc, counts CountsFunc, reduce ReduceFunc) error {
	samples := src.Samples()
	S, G := len(samples), opts.genes(src)
	workers := opts.Workers(src)
	if S == 0 {
		return nil
	}
	if opts.Progress != nil {
		opts.Progress.Start(S, G)
		defer opts.Progress.End()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if reduce == nil {
		return runUnordered(ctx, cancel, src, opts, work, counts, workers)
	}

	type job struct {
		j      int
		col    []float64
		unread bool // opts.unread: col holds nothing, reduce gets nil
	}
	// A window of buffers handed out in sample order: the column the reducer
	// waits for always holds a buffer, so the window cannot deadlock.
	window := 2 * workers
	pool := make(chan []float64, window)
	for i := 0; i < window; i++ {
		pool <- make([]float64, G)
	}
	jobs := make(chan job)
	done := make(chan job, window)

	var (
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}

	go func() { // dispatcher
		defer close(jobs)
		for j := 0; j < S; j++ {
			var buf []float64
			select {
			case buf = <-pool:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{j: j, col: buf}:
			case <-ctx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for jb := range jobs {
				if ctx.Err() != nil {
					return
				}
				jb.unread = opts.unread != nil && opts.unread(jb.j)
				if !jb.unread {
					if err := readColumn(src, opts, work, worker, jb.j, jb.col); err != nil {
						fail(err)
						return
					}
				}
				select {
				case done <- jb:
				case <-ctx.Done():
					return
				}
			}
		}(w)
	}
	go func() { wg.Wait(); close(done) }()

	// Reducer: deliver in sample order.
	pending := make(map[int]job, window)
	next := 0
	for jb := range done {
		if ctx.Err() != nil {
			continue // drain
		}
		pending[jb.j] = jb
		for {
			jb, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			if reduce != nil {
				in := jb.col
				if jb.unread {
					in = nil
				}
				if err := reduce(next, in); err != nil {
					fail(err)
					break
				}
			}
			next++
			if opts.Progress != nil {
				opts.Progress.Done(next)
			}
			pool <- jb.col
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil && next < S {
		return err
	}
	if next != S {
		return errors.New("pass: internal error: not every column was reduced")
	}
	return nil
}

// CountsFunc processes sample j's counts in a worker, as a WorkFunc does
// its values; it may modify counts, and keep them past its return only
// with Options.KeepCounts.
type CountsFunc func(worker, j int, counts []uint32) error

// RunCounts is Run without a reduce step, for work that has a form on
// whole counts: each column that src gives as 32-bit counts
// (columnar.ReadCounts: a cached column, a Parquet INT32 one) goes to
// counts, with no check (they are counts) and no float64s; any other is
// read as values, checked as Run checks them, and goes to work. opts.Rows
// must be nil.
func RunCounts(ctx context.Context, src columnar.Source, opts Options, counts CountsFunc, work WorkFunc) error {
	if opts.Rows != nil {
		panic("pass: RunCounts reads whole columns")
	}
	if !columnar.CountsReadable(src) {
		counts = nil
	}
	return run(ctx, src, opts, work, counts, nil)
}

// runUnordered is Run without a reduce step: each worker reads the next
// unclaimed column into a buffer of its own and hands nothing on, so that
// its one buffer stays in the core's cache from column to column (the
// window of Run's ordered delivery cycles 2 x workers buffers of 8 bytes a
// gene through every core). Columns are claimed in sample order, a few
// at a time (unorderedBatch), so that neighbouring columns go to the same
// worker one after the other: a long table's samples share the page that
// holds the end of one and the start of the next, and one worker then
// decompresses it once and finds it again for the next sample, where two
// workers reading the two samples at the same moment would meet at it.
// With counts, a column that columnar.ReadCounts gives goes to it instead.
func runUnordered(ctx context.Context, cancel context.CancelFunc, src columnar.Source, opts Options, work WorkFunc, counts CountsFunc, workers int) error {
	S, G := len(src.Samples()), opts.genes(src)
	var (
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
		mu       sync.Mutex // serializes Progress.Done
		finished int        // columns processed, under mu
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	batch := unorderedBatch(S, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			col := make([]float64, G)
			// one buffer of counts, or two taken in turn (KeepCounts)
			var cnt [2][]uint32
			if counts != nil {
				cnt[0] = make([]uint32, G)
				cnt[1] = cnt[0]
				if opts.KeepCounts {
					cnt[1] = make([]uint32, G)
				}
			}
			turn := 0
			for ctx.Err() == nil {
				j0 := int(next.Add(int64(batch)) - int64(batch))
				if j0 >= S {
					return
				}
				for j := j0; j < min(j0+batch, S) && ctx.Err() == nil; j++ {
					tookCounts, err := readCountsOrColumn(src, opts, work, counts, worker, j, col, cnt[turn])
					if err != nil {
						fail(err)
						return
					}
					if tookCounts {
						turn ^= 1
					}
					mu.Lock()
					finished++
					if opts.Progress != nil {
						opts.Progress.Done(finished)
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if finished != S {
		return ctx.Err()
	}
	return nil
}

// unorderedBatch is how many columns in a row a worker of runUnordered
// claims at a time: up to 16, fewer when that would leave a worker without
// its share of a few batches (and 1 for a handful of columns).
func unorderedBatch(columns, workers int) int {
	return max(1, min(16, columns/(16*workers)))
}

// readCountsOrColumn is readColumn, or, with counts, a call of counts on
// column j as columnar.ReadCounts gives it into cnt where it can; tookCounts
// says which.
func readCountsOrColumn(src columnar.Source, opts Options, work WorkFunc, counts CountsFunc, worker, j int, col []float64, cnt []uint32) (tookCounts bool, err error) {
	if counts != nil {
		ok, err := columnar.ReadCounts(src, j, cnt)
		if err != nil {
			return false, err
		}
		if ok {
			return true, counts(worker, j, cnt)
		}
	}
	return false, readColumn(src, opts, work, worker, j, col)
}

// readColumn is a worker's step for column j: read it (or its opts.Rows)
// into col, check it (unless opts.NoCheck, or the source vouches for it)
// and call work.
func readColumn(src columnar.Source, opts Options, work WorkFunc, worker, j int, col []float64) error {
	var err error
	if opts.Rows == nil {
		err = src.ReadColumn(j, col)
	} else {
		err = columnar.ReadRows(src, j, opts.Rows, col)
	}
	if err != nil {
		return err
	}
	if !opts.NoCheck && !countsKnown(src, j) {
		if err := checkRows(src, j, col, opts.Rows, opts.AllowFractional); err != nil {
			return err
		}
	}
	if work == nil {
		return nil
	}
	return work(worker, j, col)
}

// countsKnown reports whether src vouches that column j holds valid
// counts (columnar.KnownCounts), so that checking it again is needless.
func countsKnown(src columnar.Source, j int) bool {
	k, ok := src.(columnar.KnownCounts)
	return ok && k.CountsKnown(j)
}

// Check returns an InputError for the first value of sample j that is not a
// valid count: missing (NaN), infinite, negative, 2^53 or more, or (unless
// allowFractional) not a whole number.
func Check(src columnar.Source, j int, col []float64, allowFractional bool) error {
	return checkRows(src, j, col, nil, allowFractional)
}

// checkRows is Check for the values of genes rows (all genes when nil).
func checkRows(src columnar.Source, j int, col []float64, rows []int, allowFractional bool) error {
	for k, v := range col {
		if kernels.IsCount(v, allowFractional) {
			continue
		}
		if rows != nil {
			return CountError(src, j, rows[k], v)
		}
		return CountError(src, j, k, v)
	}
	return nil
}

// CountError is the InputError for value v of gene i in sample j, which
// is not a valid count (see Check).
func CountError(src columnar.Source, j, i int, v float64) error {
	var msg string
	switch {
	case math.IsNaN(v):
		msg = "missing value (NA, null, NaN or empty): counts must be present"
	case math.IsInf(v, 0):
		msg = fmt.Sprintf("infinite value %v", v)
	case v < 0:
		msg = fmt.Sprintf("negative count %v", v)
	case v >= kernels.MaxExactCount:
		if v < 1e18 {
			msg = fmt.Sprintf("count %.0f is 2^53 or more and cannot be held exactly", v)
		} else {
			msg = fmt.Sprintf("count %g is 2^53 or more and cannot be held exactly", v)
		}
	default:
		msg = fmt.Sprintf("fractional count %v (use --allow-fractional for estimated counts such as Salmon's)", v)
	}
	return columnar.ValueError(src, j, i, msg)
}

// WriteMapped writes every sample j of src to sink as of(j) applied to its
// counts, in sample order: a normalization or transform whose value is a
// function of the count within a sample (of(j) must be pure). A sink that
// takes a column as a function of another (columnar.ColumnFuncWriter: the
// wide Parquet one) gets the counts and the function, and builds its
// dictionary from the counts; any other gets the values, mapped in the
// workers by kernels.MapCounts. Where the sink can take a column's counts
// as src holds them in memory (columnar.HoldsCounts: a cached column, a
// wide Parquet file), the column is not read at all: the sink encodes it
// from the cache (columnar.WriteCountsFunc), so the sink must be committed
// or aborted before src is closed.
func WriteMapped(ctx context.Context, src columnar.Source, opts Options, sink columnar.Sink, of func(j int) func(float64) float64) error {
	if fs, ok := sink.(columnar.ColumnFuncWriter); ok {
		// A column held at the worker's turn stays held (a cache keeps
		// what it has), so the reducer finds it there.
		opts.unread = func(j int) bool { return columnar.HoldsCounts(sink, src, j) }
		return Run(ctx, src, opts, nil, func(j int, col []float64) error {
			if col == nil {
				if ok, err := columnar.WriteCountsFunc(sink, src, j, of(j)); ok || err != nil {
					return err
				}
				return errors.New("pass: internal error: a held column is no longer held")
			}
			return fs.WriteColumnFunc(j, col, of(j))
		})
	}
	return Run(ctx, src, opts, func(_, j int, col []float64) error {
		kernels.MapCounts(col, col, of(j))
		return nil
	}, sink.WriteColumn)
}
