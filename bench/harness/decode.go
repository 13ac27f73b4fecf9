package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
)

// runDecodeWorker is the "decode" tool: the floor of any pass over a wide
// Parquet file. It reads every numeric column chunk once with parquet-go's
// typed page reads (Int32Reader, Int64Reader, ...), one goroutine per
// thread over the columns, and adds the values up so that nothing can be
// skipped; it computes no factors. A size factor run that reads the file
// twice is compared with this time (bench/README.md: "x decode").
func runDecodeWorker(input string, threads int) error {
	start := time.Now()
	f, err := os.Open(input)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return err
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	ncols := len(pf.Schema().Fields())
	type total struct {
		values int64
		sum    float64
		err    error
	}
	totals := make([]total, threads)
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// The sums live in locals, stored once at the end: adding into
			// totals[w] itself kept a memory round trip in the loop, and the
			// workers' totals share a cache line (false sharing), which made
			// this floor twice as slow as the decoding it measures.
			var t total
			defer func() { totals[w] = t }()
			var isum int64 // integer columns: summed exactly, no float dependency chain
			i32 := make([]int32, 8192)
			i64 := make([]int64, 8192)
			f32 := make([]float32, 8192)
			f64 := make([]float64, 8192)
			for c := 1 + w; c < ncols; c += threads { // column 0: the gene ids
				for _, rg := range pf.RowGroups() {
					pages := rg.ColumnChunks()[c].Pages()
					for {
						p, err := pages.ReadPage()
						if err == io.EOF {
							break
						}
						if err != nil {
							t.err = err
							pages.Close()
							return
						}
						vr := p.Values()
						for {
							var n int
							var err error
							switch r := vr.(type) {
							case parquet.Int32Reader:
								n, err = r.ReadInt32s(i32)
								for _, v := range i32[:n] {
									isum += int64(v)
								}
							case parquet.Int64Reader:
								n, err = r.ReadInt64s(i64)
								for _, v := range i64[:n] {
									isum += v
								}
							case parquet.FloatReader:
								n, err = r.ReadFloats(f32)
								for _, v := range f32[:n] {
									t.sum += float64(v)
								}
							case parquet.DoubleReader:
								n, err = r.ReadDoubles(f64)
								for _, v := range f64[:n] {
									t.sum += v
								}
							default:
								// An optional column's pages have no typed reader:
								// take the decoded values of the page at once.
								n, err = pageSum(p, &t.sum), io.EOF
								if n < 0 {
									err = fmt.Errorf("column %d: not a numeric column", c)
								}
							}
							t.values += int64(max(n, 0))
							t.sum += float64(isum)
							isum = 0
							if err == io.EOF {
								break
							}
							if err != nil {
								t.err = err
								parquet.Release(p)
								pages.Close()
								return
							}
						}
						parquet.Release(p)
					}
					pages.Close()
				}
			}
		}(w)
	}
	wg.Wait()
	var values int64
	var sum float64
	for _, t := range totals {
		if t.err != nil {
			return t.err
		}
		values += t.values
		sum += t.sum
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("values=%d\nsum=%.0f\nmvalues_per_s=%.1f\n", values, sum, float64(values)/secs/1e6)
	return nil
}

// pageSum adds the non-null values of a numeric page to sum and returns
// their number, or -1 when the page is not numeric.
func pageSum(p parquet.Page, sum *float64) int {
	data := p.Data()
	switch p.Type().Kind() {
	case parquet.Int32:
		v := data.Int32()
		for _, x := range v {
			*sum += float64(x)
		}
		return len(v)
	case parquet.Int64:
		v := data.Int64()
		for _, x := range v {
			*sum += float64(x)
		}
		return len(v)
	case parquet.Float:
		v := data.Float()
		for _, x := range v {
			*sum += float64(x)
		}
		return len(v)
	case parquet.Double:
		v := data.Double()
		for _, x := range v {
			*sum += x
		}
		return len(v)
	}
	return -1
}
