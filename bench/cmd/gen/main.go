// Command gen writes a generated RNA-seq count matrix (see package bench):
//
//	go run ./bench/cmd/gen -genes 60000 -samples 500 -seed 1 -o counts.parquet [--layout long]
//
// The extension of -o chooses the format (.parquet, .arrow, .tsv, .csv,
// optionally .gz or .zst); --layout long writes gene_id, sample, value rows.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/colnorm/colnorm/bench"
	"github.com/colnorm/colnorm/columnar"
)

func main() {
	genes := flag.Int("genes", 60000, "number of genes (rows)")
	samples := flag.Int("samples", 100, "number of samples (columns)")
	seed := flag.Uint64("seed", 1, "random seed: the same seed gives the same matrix")
	out := flag.String("o", "", "output file; the extension chooses the format")
	layout := flag.String("layout", columnar.LayoutWide, "wide (genes as rows) or long (gene_id, sample, value)")
	tmp := flag.String("temp-dir", "", "folder for the spill a text output needs (default: the system's)")
	codec := flag.String("compression", columnar.CompressionSnappy, "Parquet codec: zstd, snappy, gzip or none")
	shard := flag.Int("shard-samples", 0, "write -o as a folder of wide Parquet files of this many samples each")
	int64s := flag.Bool("int64", false, "Parquet count columns as INT64 (as pandas and pyarrow write them) instead of INT32 (as R's arrow does)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: gen -genes N -samples M -seed S -o FILE [--layout long]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 0 || *genes <= 0 || *samples <= 0 ||
		(*layout != columnar.LayoutWide && *layout != columnar.LayoutLong) {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := bench.Params{Genes: *genes, Samples: *samples, Seed: *seed}
	start := time.Now()
	opts := columnar.SinkOptions{Layout: *layout, TempDir: *tmp, Compression: *codec, Int32: !*int64s}
	var err error
	if *shard > 0 {
		err = bench.WriteShards(ctx, bench.New(p), *out, *shard, opts)
	} else {
		err = bench.Write(ctx, bench.New(p), *out, opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %s (%s, %s layout) in %.1fs\n", *out, p, *layout, time.Since(start).Seconds())
}
