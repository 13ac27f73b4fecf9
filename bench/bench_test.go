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
	"github.com/colnorm/colnorm/edger"
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
func BenchmarkSizeFactors(b *testing.B) { benchFactors(b, "ratio") }

// BenchmarkNormFactorsTMM times edger.NormFactors with TMM, edgeR's
// calcNormFactors(counts, method = "TMM"), on the same files, with the
// same metrics: three passes over the sample columns (library sizes and
// the rows to keep; upper quartiles, which choose the reference column;
// TMM of every sample against the reference, the one column held).
func BenchmarkNormFactorsTMM(b *testing.B) { benchFactors(b, "tmm") }

// benchFactors runs factors(method, ...) over the ladder of wide Parquet
// files; under -short only the smallest.
func benchFactors(b *testing.B, method string) {
	for k, p := range ladder {
		b.Run(sizeName(p), func(b *testing.B) {
			if testing.Short() && k > 0 {
				b.Skip("a large size: run without -short")
			}
			path, size := cachedFile(b, p, WideParquet)
			b.SetBytes(size)
			peak := sampleHeap()
			for b.Loop() {
				if err := factors(method, path); err != nil {
					b.Fatal(err)
				}
			}
			heap := peak()
			reportPerCount(b, p)
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(childPeakRSS(b, method, path))/(1<<20), "peak-RSS-MB")
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

// factors computes the factors of method, "ratio" (deseq2.SizeFactors) or
// "tmm" (edger.NormFactors), of the file at path: open, passes, close, as
// the commands do by default (no column cache).
func factors(method, path string) error {
	src, err := columnar.Open(path, columnar.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	switch method {
	case "ratio":
		_, err = deseq2.SizeFactors(context.Background(), src, deseq2.Options{Method: deseq2.Ratio})
	case "tmm":
		_, err = edger.NormFactors(context.Background(), src, edger.Options{Method: edger.TMM})
	default:
		err = fmt.Errorf("bench: unknown method %q", method)
	}
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

// childEnv and childMethodEnv name the input and the method of a child
// process that runs factors once.
const (
	childEnv       = "COLNORM_BENCH_CHILD_INPUT"
	childMethodEnv = "COLNORM_BENCH_CHILD_METHOD"
)

// childPeakRSS runs factors(method, path) once in a child process (this
// test binary, running TestChildSizeFactors) and returns its peak RSS in
// bytes.
func childPeakRSS(b *testing.B, method, path string) int64 {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildSizeFactors$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path, childMethodEnv+"="+method)
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
		t.Skip("only run as a child of BenchmarkSizeFactors and BenchmarkNormFactorsTMM")
	}
	method := os.Getenv(childMethodEnv)
	if method == "" {
		method = "ratio"
	}
	if err := factors(method, path); err != nil {
		t.Fatal(err)
	}
}
