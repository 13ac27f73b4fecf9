// Command colnorm normalizes RNA-seq count matrices column by column: DESeq2
// and edgeR size factors, normalized values and transforms, from TSV, Parquet
// or Arrow, in memory bounded by the number of genes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
