package columnar

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// Value columns with few distinct values are written dictionary-encoded,
// columns of distinct values PLAIN; either way DuckDB and colnorm's reader
// give back the very bits written, -0 and +0, NaN and infinities included,
// for every value type of the output.
func TestParquetDictionaryValues(t *testing.T) {
	db := pqDuckDB(t)
	dir := t.TempDir()
	const G = 3000
	m := &pqMatrix{}
	for g := range G {
		m.genes = append(m.genes, fmt.Sprintf("g%d", g))
	}
	m.samples = []string{"repeats", "distinct", "specials"}
	repeats, distinct, specials := make([]float64, G), make([]float64, G), make([]float64, G)
	for g := range G {
		repeats[g] = float64(g%97) / 1.37 // 97 distinct normalized counts
		distinct[g] = math.Sqrt(float64(g) + 0.5)
		specials[g] = []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 2.5}[g%6]
	}
	m.cols = [][]float64{repeats, distinct, specials}
	for _, typ := range []struct {
		name string
		opts SinkOptions
	}{{"double", SinkOptions{}}, {"float", SinkOptions{Float32: true}}} {
		path := filepath.Join(dir, typ.name+".parquet")
		pqWriteSink(t, path, m, typ.opts)
		q, err := openPQ(path)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := openParquetFooter(q.f, q.size)
		if err != nil {
			t.Fatal(err)
		}
		for _, rg := range pf.Metadata().RowGroups {
			for k, c := range rg.Columns[1:] { // the value columns
				// Statistics: the smallest and largest value, NaN aside,
				// -0 as a zero minimum (the spec's rule).
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, v := range m.cols[k] {
					if typ.opts.Float32 {
						v = float64(float32(v))
					}
					if !math.IsNaN(v) {
						lo, hi = min(lo, v), max(hi, v)
					}
				}
				if lo == 0 {
					lo = math.Copysign(0, -1)
				}
				st := c.MetaData.Statistics
				gotLo, gotHi := pqStatValue(st.MinValue), pqStatValue(st.MaxValue)
				if math.Float64bits(gotLo) != math.Float64bits(lo) || gotHi != hi {
					t.Errorf("%s: column %s: statistics [%v, %v], want [%v, %v]", typ.name, c.MetaData.PathInSchema[0], gotLo, gotHi, lo, hi)
				}
				dict := c.MetaData.DictionaryPageOffset > 0
				if want := c.MetaData.PathInSchema[0] != "distinct"; dict != want {
					t.Errorf("%s: column %s: dictionary %v, want %v", typ.name, c.MetaData.PathInSchema[0], dict, want)
				}
				if dict && (len(c.MetaData.Encoding) != 2 || c.MetaData.Encoding[1] != format.RLEDictionary) {
					t.Errorf("%s: column %s: encodings %v", typ.name, c.MetaData.PathInSchema[0], c.MetaData.Encoding)
				}
			}
		}
		q.close()
		src, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, G)
		for j, col := range m.cols {
			if err := src.ReadColumn(j, got); err != nil {
				t.Fatal(err)
			}
			for g, v := range col {
				if typ.opts.Float32 {
					v = float64(float32(v))
				}
				if math.Float64bits(got[g]) != math.Float64bits(v) && !(math.IsNaN(v) && math.IsNaN(got[g])) {
					t.Fatalf("%s: %s, gene %d: read %v (bits %x), wrote %v", typ.name, m.samples[j], g, got[g], math.Float64bits(got[g]), v)
				}
			}
		}
		src.Close()
		_, rows := pqQuery(t, db, fmt.Sprintf(`SELECT gene_id, "repeats"::DOUBLE, "distinct"::DOUBLE, "specials"::DOUBLE FROM read_parquet('%s')`, path))
		for g, row := range rows {
			for j, col := range m.cols {
				v := col[g]
				if typ.opts.Float32 {
					v = float64(float32(v))
				}
				if !pqSame(row[j], v) || row[j] == 0 && math.Signbit(row[j]) != math.Signbit(v) {
					t.Fatalf("%s: DuckDB reads %s, gene %d as %v, want %v", typ.name, m.samples[j], g, row[j], v)
				}
			}
		}
	}
}

// pqStatValue reads a PLAIN-encoded DOUBLE or FLOAT statistic.
func pqStatValue(b []byte) float64 {
	if len(b) == 4 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// BenchmarkEncodeValueChunk encodes and zstd-compresses a 16,384-gene chunk
// of a sample: normalized counts (log-normal gene means, about two thousand
// distinct values, written with a dictionary), their VST (DESeq2's
// parametric transform, a function of the count: as many distinct values),
// the same VST given as the counts and the transform (vst-of-counts: the
// dictionary found from the counts, as WriteColumnFunc does; its time
// includes a transform per distinct count, made before the vst case; and
// vst-of-uint32-counts: the counts as 32-bit integers, as WriteCountsFunc
// gives them) and
// values that are all distinct (PLAIN), at the zstd level of long files
// (default) and of wide files (pqZstdWideLevel). It reports the compressed
// bytes a value.
func BenchmarkEncodeValueChunk(b *testing.B) {
	const n = 1 << 14
	r := rand.New(rand.NewPCG(9, 9))
	counts, wholes, vst, distinct := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	counts32 := make([]uint32, n)
	const a0, a1, sf = 0.1, 0.97, 1.37
	transform := func(c float64) float64 {
		q := c / sf
		return math.Log((1+a1+2*a0*q+2*math.Sqrt(a0*q*(1+a1+a0*q)))/(4*a0)) / math.Ln2
	}
	for i := range counts {
		c := math.Floor(math.Exp(r.NormFloat64()*2 + 3))
		counts[i] = c / sf
		wholes[i] = c
		counts32[i] = uint32(c)
		vst[i] = transform(c)
		distinct[i] = math.Sqrt(float64(i) + 0.5)
	}
	w, err := newPQWriter(nil, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	defer w.enc.Close()
	wide, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(pqZstdWideLevel), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		b.Fatal(err)
	}
	defer wide.Close()
	w.valueType = format.Double
	for _, level := range []struct {
		name string
		enc  *zstd.Encoder
	}{{"long", w.enc}, {"wide", wide}} {
		for _, c := range []struct {
			name   string
			values []float64
			counts []uint32
			f      func(float64) float64
		}{{"dictionary", counts, nil, nil}, {"vst", vst, nil, nil}, {"vst-of-counts", wholes, nil, transform},
			{"vst-of-uint32-counts", nil, counts32, transform}, {"plain", distinct, nil, nil}} {
			b.Run(level.name+"/"+c.name, func(b *testing.B) {
				w.valueEnc = level.enc
				b.SetBytes(8 * n)
				size := 0
				for b.Loop() {
					ec, err := w.encodeValueChunk("s", c.values, c.counts, c.f, nil)
					if err != nil {
						b.Fatal(err)
					}
					size = 0
					for _, p := range ec.pages {
						size += len(p.data)
						d := p.data[:0]
						pqPageBuffers.Put(&d)
					}
				}
				b.ReportMetric(float64(size)/n, "bytes/value")
			})
		}
	}
}
