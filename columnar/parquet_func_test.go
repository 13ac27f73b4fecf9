package columnar

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pqFuncColumns are columns x and functions f for WriteColumnFunc: counts
// with a VST-like transform (strictly increasing: distinct x, distinct
// values), counts beyond pqSmallWholes, fractions and specials (-0, +0,
// negatives, NaN, infinities) under an injective f, distinct x (too many
// for a dictionary: PLAIN), and an f that gives several x the same value.
func pqFuncColumns(G int) (names []string, xs [][]float64, fs []func(float64) float64) {
	r := rand.New(rand.NewPCG(5, 6))
	vst := func(x float64) float64 {
		const a0, a1, sf = 0.1, 0.97, 1.37
		q := x / sf
		return math.Log((1+a1+2*a0*q+2*math.Sqrt(a0*q*(1+a1+a0*q)))/(4*a0)) / math.Ln2
	}
	counts, big, specials, distinct, collide := make([]float64, G), make([]float64, G), make([]float64, G), make([]float64, G), make([]float64, G)
	for g := range G {
		counts[g] = math.Floor(math.Exp(r.NormFloat64()*2 + 3))
		big[g] = float64(pqSmallWholes - 20 + r.IntN(60)) // both sides of the direct table
		specials[g] = []float64{0, math.Copysign(0, -1), -3, 2.5, math.NaN(), math.Inf(1), math.Inf(-1), 7, 1e300, float64(g % 40)}[g%10]
		distinct[g] = float64(g)
		collide[g] = float64(g % 300)
	}
	return []string{"counts", "big", "specials", "distinct", "collide"},
		[][]float64{counts, big, specials, distinct, collide},
		[]func(float64) float64{vst, vst, func(x float64) float64 { return x / 2 }, vst, func(x float64) float64 { return math.Floor(x / 3) }}
}

// WriteColumnFunc(j, x, f) writes what WriteColumn(j, f(x)) writes: the
// same bits read back, for DOUBLE, FLOAT and INT64 outputs, wide files of
// several row groups; with an injective f a DOUBLE file is the very same
// bytes (its dictionaries hold the same entries in the same order), and
// with several x to a value the dictionary holds repeated values, read back
// as written. An integer output names the value f(x) that is not whole.
func TestParquetColumnFunc(t *testing.T) {
	const G = 3000
	names, xs, fs := pqFuncColumns(G)
	genes := make([]string, G)
	for g := range genes {
		genes[g] = fmt.Sprintf("g%d", g)
	}
	dir := t.TempDir()
	for _, typ := range []struct {
		name string
		opts SinkOptions
	}{{"double", SinkOptions{RowGroupRows: 1100}}, {"float", SinkOptions{RowGroupRows: 1100, Float32: true}}, {"int64", SinkOptions{RowGroupRows: 1100, Integer: true}}} {
		cols := []int{0, 1, 2, 3, 4}
		if typ.opts.Integer {
			cols = []int{4} // the whole values
		}
		samples := make([]string, len(cols))
		want := make([][]float64, len(cols))
		for k, c := range cols {
			samples[k] = names[c]
			want[k] = make([]float64, G)
			for g, x := range xs[c] {
				want[k][g] = fs[c](x)
			}
		}
		byFunc, byValues := filepath.Join(dir, typ.name+"-func.parquet"), filepath.Join(dir, typ.name+"-values.parquet")
		// write writes the first n columns both ways: byFunc from x and f,
		// byValues from f(x)
		write := func(n int) {
			for _, path := range []string{byFunc, byValues} {
				sink, err := Create(path, genes, samples[:n], typ.opts)
				if err != nil {
					t.Fatal(err)
				}
				fw, ok := sink.(ColumnFuncWriter)
				if !ok {
					t.Fatalf("the wide Parquet sink is not a ColumnFuncWriter")
				}
				for k, c := range cols[:n] {
					if path == byFunc {
						err = fw.WriteColumnFunc(k, append([]float64(nil), xs[c]...), fs[c])
					} else {
						err = sink.WriteColumn(k, want[k])
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if err := sink.Commit(); err != nil {
					t.Fatal(err)
				}
			}
		}
		write(len(cols))
		src := pqOpen(t, byFunc, Options{})
		got := make([]float64, G)
		for k := range cols {
			if err := src.ReadColumn(k, got); err != nil {
				t.Fatal(err)
			}
			for g, v := range want[k] {
				if typ.opts.Float32 {
					v = float64(float32(v))
				}
				if math.Float64bits(got[g]) != math.Float64bits(v) && !(math.IsNaN(v) && math.IsNaN(got[g])) {
					t.Fatalf("%s: %s, gene %d: read %v, want %v", typ.name, samples[k], g, got[g], v)
				}
			}
		}
		a, err := os.ReadFile(byFunc)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(byValues)
		if err != nil {
			t.Fatal(err)
		}
		if typ.name != "double" {
			continue
		}
		if bytes.Equal(a, b) {
			t.Errorf("double: the files are the same bytes, although column collide's dictionaries repeat values")
		}
		// Without the column whose f is not injective, the same bytes.
		write(4)
		a, _ = os.ReadFile(byFunc)
		b, _ = os.ReadFile(byValues)
		if !bytes.Equal(a, b) {
			t.Errorf("double: WriteColumnFunc and WriteColumn wrote different files (%d and %d bytes)", len(a), len(b))
		}
	}
	// An integer output: the error names f(x), not x.
	sink, err := Create(filepath.Join(dir, "bad.parquet"), genes, []string{"s"}, SinkOptions{Integer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Abort()
	x := make([]float64, G)
	x[7] = 1
	err = sink.(ColumnFuncWriter).WriteColumnFunc(0, x, func(x float64) float64 { return x / 4 })
	if err == nil {
		err = sink.Commit()
	}
	if err == nil || !strings.Contains(err.Error(), "gene g7: 0.25 is not a whole number") {
		t.Fatalf("got %v, want an error about gene g7's 0.25", err)
	}
}

// WriteCountsFunc writes, from the counts a cache holds, the very bytes
// WriteColumnFunc writes from the decoded counts: counts of every tier of
// the cache (below 255, below 65,535 and above, both sides of the direct
// table of buildOfCounts), a chunk of too many distinct counts for a
// dictionary, and all-zero and one-value columns; wide files of several
// row groups, whose chunks start amid the cache's tiers. Where it cannot
// (a column the cache does not hold, a FLOAT or INT64 output, a text sink,
// an uncached source), it reports false and writes nothing.
func TestWriteCountsFunc(t *testing.T) {
	const G = 3000
	r := rand.New(rand.NewPCG(8, 1))
	names := []string{"lognormal", "tiers", "distinct", "zero", "one", "sparse"}
	cols := make([][]float64, len(names))
	for k := range cols {
		cols[k] = make([]float64, G)
	}
	for g := range G {
		cols[0][g] = math.Floor(math.Exp(r.NormFloat64()*2 + 3))
		cols[1][g] = []float64{0, 254, 255, 256, 4095, 4096, 65534, 65535, 65536, 1e6, float64(r.IntN(300))}[r.IntN(11)]
		cols[2][g] = float64(3*g + 1)
		cols[4][g] = 7
		if r.IntN(50) == 0 {
			cols[5][g] = float64(r.IntN(1 << 20))
		}
	}
	genes := make([]string, G)
	for g := range genes {
		genes[g] = fmt.Sprintf("g%d", g)
	}
	vst := func(x float64) float64 { return math.Log2(1 + x/1.37) }
	dir := t.TempDir()
	for _, rows := range []int{1100, G} {
		src := Cached(NewMemory("m", genes, names, cols), 1<<30)
		buf := make([]float64, G)
		for j := range names { // fill the cache
			if err := src.ReadColumn(j, buf); err != nil {
				t.Fatal(err)
			}
		}
		byCounts, byValues := filepath.Join(dir, "counts.parquet"), filepath.Join(dir, "values.parquet")
		for _, path := range []string{byCounts, byValues} {
			sink, err := Create(path, genes, names, SinkOptions{RowGroupRows: rows})
			if err != nil {
				t.Fatal(err)
			}
			for j := range names {
				if path == byCounts {
					if !HoldsCounts(sink, src, j) {
						t.Fatalf("%s: the cache does not hold %s", path, names[j])
					}
					if ok, err := WriteCountsFunc(sink, src, j, vst); !ok || err != nil {
						t.Fatalf("WriteCountsFunc %s: %v %v", names[j], ok, err)
					}
					continue
				}
				if err := src.ReadColumn(j, buf); err != nil {
					t.Fatal(err)
				}
				if err := sink.(ColumnFuncWriter).WriteColumnFunc(j, buf, vst); err != nil {
					t.Fatal(err)
				}
			}
			if err := sink.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := os.ReadFile(byCounts)
		b, _ := os.ReadFile(byValues)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("row groups of %d: WriteCountsFunc and WriteColumnFunc wrote different files (%d and %d bytes)", rows, len(a), len(b))
		}
		got := pqOpen(t, byCounts, Options{})
		for j := range names {
			if err := got.ReadColumn(j, buf); err != nil {
				t.Fatal(err)
			}
			for g, x := range cols[j] {
				if math.Float64bits(buf[g]) != math.Float64bits(vst(x)) {
					t.Fatalf("%s gene %d: read %v, want %v", names[j], g, buf[g], vst(x))
				}
			}
		}
		src.Close()
	}

	// Where it cannot.
	plain := NewMemory("m", genes, names, cols)
	small := Cached(plain, int64(G)+64) // one column's small bytes: no column held
	buf := make([]float64, G)
	if err := small.ReadColumn(0, buf); err != nil {
		t.Fatal(err)
	}
	full := Cached(plain, 1<<30)
	if err := full.ReadColumn(0, buf); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		src  Source
		opts SinkOptions
		path string
	}{
		{"uncached source", plain, SinkOptions{}, "a.parquet"},
		{"column not held", small, SinkOptions{}, "b.parquet"},
		{"FLOAT output", full, SinkOptions{Float32: true}, "c.parquet"},
		{"INT64 output", full, SinkOptions{Integer: true}, "d.parquet"},
		{"text output", full, SinkOptions{}, "e.tsv"},
	} {
		sink, err := Create(filepath.Join(dir, c.path), genes, names, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if HoldsCounts(sink, c.src, 0) {
			t.Errorf("%s: HoldsCounts is true", c.name)
		}
		if ok, err := WriteCountsFunc(sink, c.src, 0, vst); ok || err != nil {
			t.Errorf("%s: WriteCountsFunc wrote (%v, %v)", c.name, ok, err)
		}
		sink.Abort()
	}
}
