package columnar

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// Benchmarks of Parquet reading and writing at a realistic size.
//
//	go test ./columnar/ -run '^$' -bench Parquet -benchtime 200x

const (
	pqBenchGenes   = 60000
	pqBenchSamples = 200
)

// pqBenchFile writes a 60,000 x 200 wide file of counts in one of several
// encodings and returns its path.
func pqBenchFile(b *testing.B, variant string) string {
	m := newPQMatrix(pqBenchGenes, pqBenchSamples, 11, true, 0)
	path := filepath.Join(b.TempDir(), variant+".parquet")
	switch variant {
	case "colnorm-double":
		pqWriteSink(b, path, m, SinkOptions{})
	case "colnorm-int64":
		pqWriteSink(b, path, m, SinkOptions{Integer: true})
	case "dict-int64": // like pyarrow and DuckDB 1.2+: dictionary pages, nullable
		writePQWide(b, path, m, pqFixture{kind: "int64", dict: true, optional: true, rowGroup: 1 << 20})
	case "plain-double-nullable":
		writePQWide(b, path, m, pqFixture{kind: "double", optional: true, rowGroup: 1 << 20})
	case "plain-int32-rowgroups=4":
		writePQWide(b, path, m, pqFixture{kind: "int32", rowGroup: pqBenchGenes / 4})
	default:
		b.Fatalf("unknown variant %s", variant)
	}
	return path
}

// BenchmarkParquetReadColumn reads every column of a 60,000-gene x 200-sample
// wide file, one column per operation: ns/op and allocs/op are per column.
func BenchmarkParquetReadColumn(b *testing.B) {
	for _, variant := range []string{"colnorm-double", "colnorm-int64", "dict-int64", "plain-double-nullable", "plain-int32-rowgroups=4"} {
		b.Run(fmt.Sprintf("genes=%d/samples=%d/%s", pqBenchGenes, pqBenchSamples, variant), func(b *testing.B) {
			path := pqBenchFile(b, variant)
			src, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			benchReadColumns(b, src, pqBenchSamples)
		})
	}
}

// BenchmarkParquetReadColumnBoxed is the same read through parquet-go's boxed
// values (Page.Values().ReadValues), for comparison with the typed gather
// that ReadColumn uses.
func BenchmarkParquetReadColumnBoxed(b *testing.B) {
	for _, variant := range []string{"colnorm-double", "dict-int64"} {
		b.Run(fmt.Sprintf("genes=%d/samples=%d/%s", pqBenchGenes, pqBenchSamples, variant), func(b *testing.B) {
			path := pqBenchFile(b, variant)
			q, err := openPQ(path)
			if err != nil {
				b.Fatal(err)
			}
			defer q.close()
			pf, err := openParquetFooter(q.f, q.size)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float64, pqBenchGenes)
			vals := make([]parquet.Value, 4096)
			b.SetBytes(8 * pqBenchGenes)
			b.ReportAllocs()
			j := 0
			for b.Loop() {
				c := 1 + j%pqBenchSamples
				err := pqBenchScanBoxed(pf, c, func(p parquet.Page, row int64) error {
					r := p.Values()
					for {
						n, err := r.ReadValues(vals)
						for i, v := range vals[:n] {
							if v.IsNull() {
								dst[row+int64(i)] = math.NaN()
							} else if v.Kind() == parquet.Double {
								dst[row+int64(i)] = v.Double()
							} else {
								dst[row+int64(i)] = float64(v.Int64())
							}
						}
						row += int64(n)
						if err == io.EOF {
							return nil
						}
						if err != nil {
							return err
						}
					}
				})
				if err != nil {
					b.Fatal(err)
				}
				j++
			}
		})
	}
}

// pqBenchScanBoxed calls fn with every page of column c, read by parquet-go,
// and the row it begins at.
func pqBenchScanBoxed(pf *parquet.File, c int, fn func(p parquet.Page, row int64) error) error {
	var row int64
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[c].Pages()
		for {
			p, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				pages.Close()
				return err
			}
			err = fn(p, row)
			row += p.NumRows()
			parquet.Release(p)
			if err != nil {
				pages.Close()
				return err
			}
		}
		pages.Close()
	}
	return nil
}

// BenchmarkParquetSinkWide writes a 60,000 x 500 wide file of integers,
// of random doubles, and of the VST-like transform of counts given to
// WriteColumnFunc (vst), and reports the largest heap in use seen after
// any column (peak-heap-MB), the growth of the process's peak resident set
// (VmHWM) over the run and the file's size.
func BenchmarkParquetSinkWide(b *testing.B) {
	const G, S = 60000, 500
	vst := func(c float64) float64 {
		const a0, a1 = 0.1, 0.97
		return math.Log((1+a1+2*a0*c+2*math.Sqrt(a0*c*(1+a1+a0*c)))/(4*a0)) / math.Ln2
	}
	for _, kind := range []string{"integer", "double", "vst"} {
		integer := kind == "integer"
		b.Run(fmt.Sprintf("genes=%d/samples=%d/%s", G, S, kind), func(b *testing.B) {
			genes := make([]string, G)
			for g := range genes {
				genes[g] = fmt.Sprintf("ENSG%011d", g)
			}
			samples := make([]string, S)
			for j := range samples {
				samples[j] = fmt.Sprintf("sample_%04d", j)
			}
			col := make([]float64, G)
			r := rand.New(rand.NewPCG(1, 2))
			path := filepath.Join(b.TempDir(), "out.parquet")
			var peak uint64
			var ms runtime.MemStats
			b.SetBytes(8 * G * S)
			hwm0 := pqVmHWM()
			for b.Loop() {
				sink, err := Create(path, genes, samples, SinkOptions{Integer: integer})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				base := ms.HeapInuse
				for j := range S {
					for g := range col {
						switch kind {
						case "integer":
							col[g] = float64(r.IntN(5000))
						case "double":
							col[g] = r.Float64() * 100
						default:
							col[g] = math.Floor(math.Exp(r.NormFloat64()*2 + 3))
						}
					}
					var err error
					if kind == "vst" {
						err = sink.(ColumnFuncWriter).WriteColumnFunc(j, col, vst)
					} else {
						err = sink.WriteColumn(j, col)
					}
					if err != nil {
						b.Fatal(err)
					}
					if j%50 == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse-min(base, ms.HeapInuse))
					}
				}
				if err := sink.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			st, _ := os.Stat(path)
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(pqVmHWM()-hwm0)/(1<<10), "VmHWM-growth-MB")
			b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
		})
	}
}

// pqVmHWM is the process's peak resident set in KiB (0 where unknown).
func pqVmHWM() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// pqBenchLongSamples is the number of samples of the long benchmark file:
// 60,000 x 40 = 2.4 million rows, three row groups as the sink writes them.
const pqBenchLongSamples = 40

// pqBenchLongFile writes a 60,000-gene x 40-sample long file of counts with
// the Parquet sink (dictionary-encoded ids, INT32 counts, snappy, as
// bench/cmd/gen writes the bench files) and returns its path.
func pqBenchLongFile(b *testing.B) string {
	m := newPQMatrix(pqBenchGenes, pqBenchLongSamples, 11, true, 0)
	path := filepath.Join(b.TempDir(), "long.parquet")
	pqWriteSink(b, path, m, SinkOptions{Integer: true, Layout: LayoutLong})
	return path
}

// BenchmarkParquetLongOpen opens a 60,000 x 40 long file: one scan of the
// gene and sample columns (longParquet.index) and the runs' checks. ns/op is
// per open; MB/s counts 8 bytes (two int32 ids) a row.
func BenchmarkParquetLongOpen(b *testing.B) {
	path := pqBenchLongFile(b)
	b.SetBytes(8 * pqBenchGenes * pqBenchLongSamples)
	b.ReportAllocs()
	for b.Loop() {
		src, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := src.(*longParquet); !ok {
			b.Fatalf("opened as %T, not as a long table", src)
		}
		src.Close()
	}
}

// BenchmarkParquetLongReadColumn reads the samples of a 60,000 x 40 long
// file one after the other: ns/op is per sample.
func BenchmarkParquetLongReadColumn(b *testing.B) {
	path := pqBenchLongFile(b)
	src, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	benchReadColumns(b, src, pqBenchLongSamples)
}

// benchReadColumns reads the first samples columns of src in turn while b
// loops: ns/op and allocs/op are per column.
func benchReadColumns(b *testing.B, src Source, samples int) {
	dst := make([]float64, pqBenchGenes)
	b.SetBytes(8 * pqBenchGenes)
	b.ReportAllocs()
	j := 0
	for b.Loop() {
		if err := src.ReadColumn(j%samples, dst); err != nil {
			b.Fatal(err)
		}
		j++
	}
}
