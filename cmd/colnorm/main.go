// Command colnorm normalizes RNA-seq count matrices column by column: DESeq2
// and edgeR size factors, normalized values and transforms, from TSV, Parquet
// or Arrow, in memory bounded by the number of genes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

func main() {
	// The heap is mostly long-lived (a Parquet footer of many thousands of
	// column chunks, per-gene state); letting it grow to only 1.5 times the
	// live heap before a collection, instead of Go's default 2, keeps peak
	// memory flat in the number of samples at a small cost in GC time.
	debug.SetGCPercent(50)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv("COLNORM_CPUPROFILE"))
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stopProfile()
	writeAllocsProfile(os.Getenv("COLNORM_MEMPROFILE"))
	stop()
	os.Exit(code)
}

// startProfile writes a CPU profile of the whole run to path when it is not
// empty (COLNORM_CPUPROFILE=FILE colnorm ...; read it with go tool pprof).
// It is for developers measuring the decode and kernel paths (bench/README.md).
func startProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "colnorm: COLNORM_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// writeAllocsProfile writes the allocations of the whole run (pprof's
// allocs profile, sampled) to path when it is not empty
// (COLNORM_MEMPROFILE=FILE colnorm ...; go tool pprof -sample_index
// alloc_space FILE): what the garbage collector is made to run for.
func writeAllocsProfile(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "colnorm: COLNORM_MEMPROFILE:", err)
	}
}
