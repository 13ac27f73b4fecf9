package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/pass"
)

// ladder is the size ladder of the benchmarks: 60,000 genes (GENCODE's
// genes with non-coding ones) and a growing number of samples. Only the
// first runs under -short.
var ladder = []Params{
	{Genes: 60000, Samples: 100, Seed: 1},
	{Genes: 60000, Samples: 500, Seed: 1},
	{Genes: 60000, Samples: 2000, Seed: 1},
}

func sizeName(p Params) string { return fmt.Sprintf("genes=%d/samples=%d", p.Genes, p.Samples) }

// cachedFile generates (once, into CacheDir) and returns the file for p.
func cachedFile(b *testing.B, p Params, kind Kind) (path string, size int64) {
	b.Helper()
	start := time.Now()
	path, err := Cached(context.Background(), CacheDir(), p, kind)
	if err != nil {
		b.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		b.Logf("generated %s in %.1fs", path, d.Seconds())
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, st.Size()
}

// BenchmarkSizeFactors times deseq2.SizeFactors (ratio) on a wide Parquet
// file: open, two passes over the sample columns, close. Bytes are those
// of the file. Metrics: ns/count (per value of the matrix), peak-heap-MB
// (the Go heap, sampled during the timed loop) and peak-RSS-MB (one run in
// a child process), which for 60,000 genes should not grow with samples.
func BenchmarkSizeFactors(b *testing.B) {
	for k, p := range ladder {
		b.Run(sizeName(p), func(b *testing.B) {
			if testing.Short() && k > 0 {
				b.Skip("a large size: run without -short")
			}
			path, size := cachedFile(b, p, WideParquet)
			b.SetBytes(size)
			peak := sampleHeap()
			for b.Loop() {
				if err := sizeFactors(path); err != nil {
					b.Fatal(err)
				}
			}
			heap := peak()
			reportPerCount(b, p)
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(childPeakRSS(b, path))/(1<<20), "peak-RSS-MB")
		})
	}
}

// BenchmarkReadColumns times one pass over the columns of the same files
// that does nothing with them but the count checks: the reading part of a
// size factor pass.
func BenchmarkReadColumns(b *testing.B) {
	for k, p := range ladder {
		b.Run(sizeName(p), func(b *testing.B) {
			if testing.Short() && k > 0 {
				b.Skip("a large size: run without -short")
			}
			path, size := cachedFile(b, p, WideParquet)
			b.SetBytes(size)
			for b.Loop() {
				src, err := columnar.Open(path, columnar.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := pass.Run(context.Background(), src, pass.Options{}, nil, nil); err != nil {
					b.Fatal(err)
				}
				src.Close()
			}
			reportPerCount(b, p)
		})
	}
}

// BenchmarkGenerate times the generator: one column of 60,000 genes.
func BenchmarkGenerate(b *testing.B) {
	m := New(Params{Genes: 60000, Samples: 1000, Seed: 1})
	col := make([]float64, 60000)
	j := 0
	for b.Loop() {
		if err := m.ReadColumn(j%1000, col); err != nil {
			b.Fatal(err)
		}
		j++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/60000, "ns/count")
}

func sizeFactors(path string) error {
	src, err := columnar.Open(path, columnar.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = deseq2.SizeFactors(context.Background(), src, deseq2.Options{Method: deseq2.Ratio})
	return err
}

func reportPerCount(b *testing.B, p Params) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(p.Genes*p.Samples), "ns/count")
}

// sampleHeap starts sampling the bytes of heap objects (live and not yet
// swept) every millisecond, after a collection; the function it returns
// stops the sampling and returns the largest value seen.
func sampleHeap() func() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak {
			peak = v
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		read()
		return peak
	}
}

// childEnv names the input of a child process that runs sizeFactors once.
const childEnv = "COLNORM_BENCH_CHILD_INPUT"

// childPeakRSS runs sizeFactors on path once in a child process (this test
// binary, running TestChildSizeFactors) and returns its peak RSS in bytes.
func childPeakRSS(b *testing.B, path string) int64 {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildSizeFactors$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	m, err := Measure(cmd)
	if err != nil {
		b.Fatalf("measuring peak RSS in a child: %v", err)
	}
	return m.PeakRSS
}

// TestChildSizeFactors is the child process of childPeakRSS; it does
// nothing in ordinary test runs.
func TestChildSizeFactors(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("only run as a child of BenchmarkSizeFactors")
	}
	if err := sizeFactors(path); err != nil {
		t.Fatal(err)
	}
}
