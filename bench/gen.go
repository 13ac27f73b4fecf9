package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
)

// Params name a generated matrix: the same Params give the same counts.
type Params struct {
	Genes   int
	Samples int
	Seed    uint64
	// Int64 stores the counts of Parquet files as INT64 columns, as pandas
	// and pyarrow write them, instead of INT32 as R's arrow writes an integer
	// matrix (the files the performance targets were set on). The counts
	// are the same.
	Int64 bool
}

func (p Params) String() string {
	return fmt.Sprintf("genes=%d/samples=%d/seed=%d", p.Genes, p.Samples, p.Seed)
}

// The model. Expression and dispersion follow what DESeq2 fits on real bulk
// RNA-seq: log-normal gene means spread over five orders of magnitude and a
// dispersion trend a0 + a1/mean.
const (
	// zeroHeavyFraction of the genes are barely expressed: their means are
	// log-normal around zeroHeavyMedian, so most of their counts are zero.
	zeroHeavyFraction = 0.12
	zeroHeavyMedian   = 0.3
	zeroHeavySigma    = 1.0
	// The other genes have log-normal means: median expressedMedian,
	// log-scale standard deviation expressedSigma (about a third of them
	// below 10 counts, a few above 100,000).
	expressedMedian = 20.0
	expressedSigma  = 2.2
	maxGeneMean     = 2e6
	// Dispersion is dispersionAsymptote + dispersionExtraPoisson/mean: the
	// negative binomial variance is mean + dispersion*mean^2.
	dispersionAsymptote    = 0.1
	dispersionExtraPoisson = 1.0
	// Library size factors are 2^u with u uniform on [-libSpread/2, libSpread/2]:
	// the largest library is up to 2^libSpread times the smallest.
	libSpread = 1.0
)

// Stream names of the generator's random streams.
const (
	streamGenes = iota + 1
	streamSizes
	streamCounts
)

// Matrix is a generated genes x samples matrix of negative binomial counts:
// count_ij ~ NB(mean_i * s_j, dispersion_i). It is a columnar.Source that
// computes column j on demand from (Seed, j), so it holds only per-gene
// parameters, whatever the number of samples. A column does not depend on
// the number of samples, and the first n genes of a matrix are those of
// the matrix with n genes and the same seed.
type Matrix struct {
	p          Params
	genes      []string
	samples    []string
	mean       []float64 // per gene: expected count at size factor 1
	shape      []float64 // per gene: 1/dispersion, the gamma shape of the NB
	sizeFactor []float64 // per sample
}

// New makes the matrix named by p. It panics if p has a negative size.
func New(p Params) *Matrix {
	if p.Genes < 0 || p.Samples < 0 {
		panic("bench: negative matrix size")
	}
	m := &Matrix{p: p, genes: make([]string, p.Genes), samples: make([]string, p.Samples),
		mean: make([]float64, p.Genes), shape: make([]float64, p.Genes), sizeFactor: make([]float64, p.Samples)}
	r := newRNG(p.Seed, streamGenes, 0)
	for i := range m.genes {
		m.genes[i] = fmt.Sprintf("ENSG%011d", i+1)
		var mu float64
		if r.float64() < zeroHeavyFraction {
			mu = zeroHeavyMedian * math.Exp(zeroHeavySigma*r.normal())
		} else {
			mu = expressedMedian * math.Exp(expressedSigma*r.normal())
		}
		mu = math.Min(mu, maxGeneMean)
		m.mean[i] = mu
		m.shape[i] = 1 / (dispersionAsymptote + dispersionExtraPoisson/mu)
	}
	width := max(4, len(fmt.Sprint(p.Samples)))
	for j := range m.samples {
		m.samples[j] = fmt.Sprintf("S%0*d", width, j+1)
		r := newRNG(p.Seed, streamSizes, uint64(j))
		m.sizeFactor[j] = math.Exp2(libSpread * (r.float64() - 0.5))
	}
	return m
}

// Params returns the matrix's parameters.
func (m *Matrix) Params() Params { return m.p }

// Path names the matrix for messages.
func (m *Matrix) Path() string { return "generated:" + m.p.String() }

// Genes are Ensembl-like ids ENSG00000000001, ... in row order.
func (m *Matrix) Genes() []string { return m.genes }

// Samples are S0001, S0002, ...
func (m *Matrix) Samples() []string { return m.samples }

// Integer reports true: every value is a count.
func (m *Matrix) Integer() bool { return true }

// Close does nothing.
func (m *Matrix) Close() error { return nil }

// GeneMeans are the expected counts of each gene at size factor 1.
func (m *Matrix) GeneMeans() []float64 { return m.mean }

// Dispersion returns gene i's negative binomial dispersion.
func (m *Matrix) Dispersion(i int) float64 { return 1 / m.shape[i] }

// TrueSizeFactors are the library size factors the counts were drawn with
// (ratio size factors estimate them up to a common scale).
func (m *Matrix) TrueSizeFactors() []float64 { return m.sizeFactor }

// ReadColumn computes sample j into dst, which must hold one value per gene.
// It is safe for concurrent use with distinct dst, and allocates nothing.
func (m *Matrix) ReadColumn(j int, dst []float64) error {
	if len(dst) != len(m.genes) {
		panic("bench: ReadColumn: dst must hold one value per gene")
	}
	if j < 0 || j >= len(m.samples) {
		return fmt.Errorf("bench: %s: no sample %d", m.Path(), j)
	}
	r := newRNG(m.p.Seed, streamCounts, uint64(j))
	s := m.sizeFactor[j]
	for i, mu := range m.mean {
		// NB as a gamma-Poisson mixture: lambda ~ Gamma(shape, mean/shape).
		k := m.shape[i]
		dst[i] = r.poisson(r.gamma(k) * (mu * s / k))
	}
	return nil
}

// Write writes m to path through columnar.Create (the extension chooses the
// format; opts.Layout the layout), with integer columns (opts.Int32 for
// INT32 Parquet columns; counts beyond int32 are then an error). Columns are
// generated by one worker per core; the file appears only when complete.
func Write(ctx context.Context, m columnar.Source, path string, opts columnar.SinkOptions) error {
	opts.Integer = true
	sink, err := columnar.Create(path, m.Genes(), m.Samples(), opts)
	if err != nil {
		return err
	}
	defer sink.Abort()
	if err := pass.Run(ctx, m, pass.Options{NoCheck: true}, nil, sink.WriteColumn); err != nil {
		return err
	}
	return sink.Commit()
}

// Kind is a file format and layout of the cache.
type Kind string

// The kinds of file Cached writes.
const (
	WideParquet Kind = "wide.parquet" // gene_id, then one int32 (Params.Int64: int64) column per sample; snappy
	LongParquet Kind = "long.parquet" // gene_id, sample, value (int32 or int64), in sample order; snappy
	TSV         Kind = "wide.tsv"     // genes as rows, a header of sample names
	// ShardFolder is a folder of wide Parquet files, each a contiguous range
	// of about ShardSamples samples: the layout beyond wide Parquet's column
	// limit (about 65,000 samples), read by colnorm as one matrix.
	ShardFolder Kind = "shards"
)

// ShardSamples is the number of samples of each file of a ShardFolder.
const ShardSamples = 250

// genVersion is part of cached file names: change it when the generator's
// output changes, so that stale files are not reused.
const genVersion = 3

// CacheDir is $COLNORM_BENCH_DIR, or colnorm-bench in os.TempDir().
func CacheDir() string {
	if d := os.Getenv("COLNORM_BENCH_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "colnorm-bench")
}

// CachedName is the file name Cached uses for p and kind.
func CachedName(p Params, kind Kind) string {
	width := ""
	if p.Int64 {
		width = "-int64"
	}
	return fmt.Sprintf("gen%d-g%d-s%d-seed%d%s-%s", genVersion, p.Genes, p.Samples, p.Seed, width, kind)
}

// Cached returns the path of the matrix p as a file of the given kind in
// dir, writing it first if it is not there yet.
func Cached(ctx context.Context, dir string, p Params, kind Kind) (string, error) {
	path := filepath.Join(dir, CachedName(p, kind))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	// Snappy, the codec most Parquet writers (Spark, pyarrow, DuckDB, Polars)
	// use by default, and the one the performance targets are set for.
	opts := columnar.SinkOptions{Layout: columnar.LayoutWide, TempDir: dir, Compression: columnar.CompressionSnappy, Int32: !p.Int64}
	switch kind {
	case WideParquet, TSV:
	case LongParquet:
		opts.Layout = columnar.LayoutLong
	case ShardFolder:
		return path, WriteShards(ctx, New(p), path, ShardSamples, opts)
	default:
		return "", fmt.Errorf("bench: unknown file kind %q (want %s)", kind,
			strings.Join([]string{string(WideParquet), string(LongParquet), string(TSV), string(ShardFolder)}, ", "))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := Write(ctx, New(p), path, opts); err != nil {
		return "", fmt.Errorf("bench: generating %s: %w", path, err)
	}
	return path, nil
}

// WriteShards writes m as a folder of wide Parquet files of per samples
// each (part-00001.parquet, ...), renamed into place when all are written.
// The folder path may end in a slash; a folder already there must be empty.
func WriteShards(ctx context.Context, m *Matrix, path string, per int, opts columnar.SinkOptions) error {
	path = filepath.Clean(path)
	if entries, err := os.ReadDir(path); err == nil && len(entries) > 0 {
		return fmt.Errorf("bench: %s already holds files: remove it, or choose another folder", path)
	}
	tmp := path + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	S := len(m.Samples())
	for k, lo := 1, 0; lo < S; k, lo = k+1, lo+per {
		part := &sampleRange{Matrix: m, lo: lo, hi: min(lo+per, S)}
		if err := Write(ctx, part, filepath.Join(tmp, fmt.Sprintf("part-%05d.parquet", k)), opts); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("bench: generating %s: %w", path, err)
		}
	}
	return os.Rename(tmp, path)
}

// sampleRange is samples [lo, hi) of a generated matrix.
type sampleRange struct {
	*Matrix
	lo, hi int
}

func (r *sampleRange) Samples() []string { return r.Matrix.Samples()[r.lo:r.hi] }
func (r *sampleRange) ReadColumn(j int, dst []float64) error {
	return r.Matrix.ReadColumn(r.lo+j, dst)
}
