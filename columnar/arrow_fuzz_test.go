package columnar

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// FuzzArrow feeds the Arrow IPC reader (file and stream formats, wide and
// long layouts, samples as rows): it checks what fuzzOpenAndRead checks,
// then a round trip through the Arrow writer in the layout that was read.
func FuzzArrow(f *testing.F) {
	rng := rand.New(rand.NewPCG(6, 1))
	dir := f.TempDir()
	add := func(spec arrowTable, samplesAsRows bool) {
		path := filepath.Join(dir, "seed.arrow")
		arrowWriteTable(f, path, spec)
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, samplesAsRows)
	}
	types := []arrow.DataType{arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Uint32,
		arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64}
	compressions := [][]ipc.Option{nil, {ipc.WithLZ4()}, {ipc.WithZstd()}}
	geneKinds := []string{"utf8", "large", "view", "dict", "dict16"}
	for i, typ := range types {
		m := arrowRandMatrix(rng, 9, 3, true, i%2 == 0)
		spec := arrowWideSpec(m, geneKinds[i%len(geneKinds)], typ)
		spec.opts = compressions[i%len(compressions)]
		spec.batchRows = 4 * (i % 2)
		spec.stream = i%3 == 2
		spec.freshDicts = spec.stream
		add(spec, false)
		long := arrowLongSpec(m, arrowLongRows(m), geneKinds[(i+1)%len(geneKinds)], typ)
		long.opts = compressions[(i+1)%len(compressions)]
		add(long, false)
	}
	add(arrowWideSpec(arrowRandMatrix(rng, 4, 6, false, false), "utf8", arrow.PrimitiveTypes.Float64), true)
	for _, opts := range []SinkOptions{{}, {Integer: true}, {Layout: LayoutLong, Integer: true}} {
		m := arrowRandMatrix(rng, 9, 3, true, false)
		path := filepath.Join(dir, "sink.arrow")
		pqWriteSink(f, path, &pqMatrix{genes: m.genes, samples: m.samples, cols: m.cols}, opts)
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, samplesAsRows bool) {
		path := fuzzWriteInput(t, "in.arrow", data)
		opts := Options{SamplesAsRows: samplesAsRows, TempDir: t.TempDir(), SpillBudget: 1 << 12}
		m := fuzzOpenAndRead(t, path, len(data), opts)
		fuzzRoundTrip(t, m, "rt.arrow", SinkOptions{}, Options{Layout: LayoutWide})
	})
}
