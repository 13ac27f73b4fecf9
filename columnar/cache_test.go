package columnar

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// cacheTestSource is a Memory source that counts its reads.
type countingSource struct {
	*Memory
	mu    sync.Mutex
	reads int
}

func (s *countingSource) ReadColumn(j int, dst []float64) error {
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	return s.Memory.ReadColumn(j, dst)
}

func TestCachedGivesTheSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const G, S = 1000, 12
	genes, samples := make([]string, G), make([]string, S)
	for i := range genes {
		genes[i] = "g" + string(rune('a'+i%26))
	}
	cols := make([][]float64, S)
	for j := range cols {
		samples[j] = "s" + string(rune('a'+j))
		cols[j] = make([]float64, G)
		for i := range cols[j] {
			switch r.IntN(10) {
			case 0:
				cols[j][i] = float64(65535 + r.IntN(1<<20)) // beyond 2 bytes
			case 1:
				cols[j][i] = float64([]int{255, 256, 65534, 65535, 1<<32 - 1}[r.IntN(5)]) // the markers' edges
			case 2:
				cols[j][i] = float64(255 + r.IntN(65535-255)) // 2 bytes
			default:
				cols[j][i] = float64(r.IntN(300))
			}
		}
	}
	cols[3][7] = 2.5                  // fractional: not cached
	cols[4][0] = math.NaN()           // missing: not cached
	cols[5][9] = math.Copysign(0, -1) // -0 keeps its sign: not cached
	cols[6][1] = 1 << 33              // beyond 2^32: not cached
	src := &countingSource{Memory: NewMemory("m", genes, samples, cols)}
	c := Cached(src, 1<<30)
	dst := make([]float64, G)
	for pass := 0; pass < 3; pass++ {
		for j := range cols {
			if err := c.ReadColumn(j, dst); err != nil {
				t.Fatal(err)
			}
			for i, v := range dst {
				if math.Float64bits(v) != math.Float64bits(cols[j][i]) {
					t.Fatalf("pass %d sample %d gene %d: %v, want %v", pass, j, i, v, cols[j][i])
				}
			}
		}
	}
	// 8 columns cached after the first pass; 4 read again in passes 2 and 3.
	if want := S + 2*4; src.reads != want {
		t.Errorf("the source was read %d times, want %d", src.reads, want)
	}
	if got := CacheHits(c); got != 2*8 {
		t.Errorf("CacheHits = %d, want 16", got)
	}
}

func TestCachedKeepsToItsBudget(t *testing.T) {
	const G, S = 10000, 10
	genes, samples := make([]string, G), make([]string, S)
	cols := make([][]float64, S)
	for j := range cols {
		cols[j] = make([]float64, G)
		for i := range cols[j] {
			cols[j][i] = float64(i % 100)
		}
	}
	src := &countingSource{Memory: NewMemory("m", genes, samples, cols)}
	perColumn := int64(G) + 16       // every value below 255: one byte each, and the spare ends of mid and big (8 bytes each)
	c := Cached(src, 3*perColumn+10) // room for three columns
	dst := make([]float64, G)
	for pass := 0; pass < 2; pass++ {
		for j := 0; j < S; j++ {
			if err := c.ReadColumn(j, dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := CacheHits(c); got != 3 {
		t.Errorf("CacheHits = %d, want 3 (the budget holds three columns)", got)
	}
	if Cached(src, 0) != Source(src) {
		t.Error("a zero budget should return the source itself")
	}
}

// Concurrent readers of distinct columns (as pass workers are) race for the
// budget; run with -race.
func TestCachedConcurrent(t *testing.T) {
	const G, S = 500, 64
	genes, samples := make([]string, G), make([]string, S)
	cols := make([][]float64, S)
	for j := range cols {
		cols[j] = make([]float64, G)
		for i := range cols[j] {
			cols[j][i] = float64(i*j) + 70000*float64(i%2)
		}
	}
	c := Cached(NewMemory("m", genes, samples, cols), 20*int64(G+2*G/2+4*G/2))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]float64, G)
			for pass := 0; pass < 3; pass++ {
				for j := w; j < S; j += 4 {
					if err := c.ReadColumn(j, dst); err != nil {
						t.Error(err)
						return
					}
					for i := range dst {
						if dst[i] != cols[j][i] {
							t.Errorf("sample %d gene %d: %v, want %v", j, i, dst[i], cols[j][i])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}

// benchCountColumns are 64 columns of 60,000 counts shaped like RNA-seq
// samples: most below 255, one in ten above, a few above 65535. Benchmarks
// cycle through them, as a pass does through its samples: one column read
// again and again would let the branch predictor learn its pattern.
func benchCountColumns() [][]float64 {
	r := rand.New(rand.NewPCG(3, 4))
	cols := make([][]float64, 64)
	for j := range cols {
		x := make([]float64, 60000)
		for i := range x {
			switch r.IntN(100) {
			case 0:
				x[i] = float64(65535 + r.IntN(1<<20))
			case 1, 2, 3, 4, 5, 6, 7, 8, 9:
				x[i] = float64(255 + r.IntN(20000))
			default:
				x[i] = float64(r.IntN(255))
			}
		}
		cols[j] = x
	}
	return cols
}

func BenchmarkCacheEncode(b *testing.B) {
	xs := benchCountColumns()
	arena, err := newArena(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	defer arena.free()
	c := &cache{arena: arena}
	b.SetBytes(int64(len(xs[0])))
	for i := 0; i < b.N; i++ {
		arena.next.Store(0) // the same memory again: no page faults
		if _, ok := encodeFloats(c, xs[i%len(xs)]); !ok {
			b.Fatal("not encoded")
		}
	}
}

// BenchmarkCacheEncodeInt32 packs the same columns from int32s, as the
// cache does for wide Parquet INT32 counts.
func BenchmarkCacheEncodeInt32(b *testing.B) {
	xs := benchCountColumns()
	ys := make([][]int32, len(xs))
	for j, x := range xs {
		ys[j] = make([]int32, len(x))
		for i, v := range x {
			ys[j][i] = int32(v)
		}
	}
	arena, err := newArena(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	defer arena.free()
	c := &cache{arena: arena}
	b.SetBytes(int64(len(ys[0])))
	for i := 0; i < b.N; i++ {
		arena.next.Store(0)
		y := ys[i%len(ys)]
		if _, ok := c.encode(len(y), func(small []uint8, mid []uint16, big []uint32) (int, int, bool) {
			return packInt32s(y, small, mid, big)
		}); !ok {
			b.Fatal("not encoded")
		}
	}
}

// encodeFloats packs x as the cache does a column read as float64s.
func encodeFloats(c *cache, x []float64) (*cachedColumn, bool) {
	return c.encode(len(x), func(small []uint8, mid []uint16, big []uint32) (int, int, bool) {
		return packCounts(x, small, mid, big)
	})
}

// benchCachedColumns are benchCountColumns packed as the cache packs them,
// in an arena that the caller frees.
func benchCachedColumns(b *testing.B) ([]*cachedColumn, *arena) {
	xs := benchCountColumns()
	arena, err := newArena(int64(len(xs)) << 17)
	if err != nil {
		b.Fatal(err)
	}
	cols := make([]*cachedColumn, len(xs))
	for j, x := range xs {
		var ok bool
		if cols[j], ok = encodeFloats(&cache{arena: arena}, x); !ok {
			b.Fatal("not encoded")
		}
	}
	return cols, arena
}

func BenchmarkCacheDecode(b *testing.B) {
	cols, arena := benchCachedColumns(b)
	defer arena.free()
	dst := make([]float64, len(cols[0].small))
	b.SetBytes(int64(len(dst)))
	for i := 0; i < b.N; i++ {
		cols[i%len(cols)].decode(dst)
	}
}

// BenchmarkCacheDecodeCounts is BenchmarkCacheDecode to 32-bit counts, as
// WriteCountsFunc decodes a column.
func BenchmarkCacheDecodeCounts(b *testing.B) {
	cols, arena := benchCachedColumns(b)
	defer arena.free()
	dst := make([]uint32, len(cols[0].small))
	b.SetBytes(int64(len(dst)))
	for i := 0; i < b.N; i++ {
		cols[i%len(cols)].decodeCounts(dst)
	}
}

// markerBytes flags exactly the 0xFF bytes of a word, whatever the bytes
// around them (a carry or borrow from a neighbour would flag a wrong one).
func TestMarkerBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	edge := []byte{0x00, 0x01, 0x7e, 0x7f, 0x80, 0xfe, 0xff}
	for n := 0; n < 200000; n++ {
		var w, want uint64
		for k := 0; k < 8; k++ {
			b := byte(r.IntN(256))
			if r.IntN(2) == 0 {
				b = edge[r.IntN(len(edge))]
			}
			w |= uint64(b) << (8 * k)
			if b == 0xff {
				want |= 0x80 << (8 * k)
			}
		}
		if got := markerBytes(w); got != want {
			t.Fatalf("markerBytes(%#016x) = %#016x, want %#016x", w, got, want)
		}
	}
}

// A column is known to hold counts once it is cached, and only then; a
// column that cannot be cached (a fractional value) never is.
func TestCachedKnowsItsCounts(t *testing.T) {
	cols := [][]float64{{1, 2, 3}, {1, 2.5, 3}}
	c := Cached(NewMemory("m", []string{"a", "b", "c"}, []string{"s1", "s2"}, cols), 1<<20)
	k, ok := c.(KnownCounts)
	if !ok {
		t.Fatal("the cache does not implement KnownCounts")
	}
	if k.CountsKnown(0) || k.CountsKnown(1) {
		t.Error("columns are known before they are read")
	}
	dst := make([]float64, 3)
	for j := range cols {
		if err := c.ReadColumn(j, dst); err != nil {
			t.Fatal(err)
		}
	}
	if !k.CountsKnown(0) {
		t.Error("column 0 (whole counts) is read and cached but not known")
	}
	if k.CountsKnown(1) {
		t.Error("column 1 holds 2.5 but is said to hold counts")
	}
}

// packInt32s packs what packCounts packs from the same values as float64s,
// and refuses a negative value as packCounts does, in its groups of eight
// rows and in the rows after the last group (lengths 4993 to 5000).
func TestPackInt32sMatchesPackCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	edges := []int32{0, 1, 254, 255, 256, 65534, 65535, 65536, math.MaxInt32}
	for n := 0; n < 80; n++ {
		x := make([]int32, 4993+n%8)
		f := make([]float64, len(x))
		for i := range x {
			switch r.IntN(4) {
			case 0:
				x[i] = edges[r.IntN(len(edges))]
			case 1:
				x[i] = r.Int32()
			default:
				x[i] = int32(r.IntN(300))
			}
		}
		if n%10 == 9 {
			x[r.IntN(len(x))] = -1 - r.Int32N(1000)
		}
		if n%10 == 4 { // in the last rows, which no group of eight covers
			x[len(x)-1-r.IntN(len(x)%8)] = -1 - r.Int32N(1000) // n%8 is even: a tail of 1, 3, 5 or 7 rows
		}
		for i, v := range x {
			f[i] = float64(v)
		}
		s1, m1, b1 := make([]uint8, len(x)), make([]uint16, len(x)+midSlack), make([]uint32, len(x))
		s2, m2, b2 := make([]uint8, len(x)), make([]uint16, len(x)+midSlack), make([]uint32, len(x))
		nm1, nb1, ok1 := packInt32s(x, s1, m1, b1)
		nm2, nb2, ok2 := packCounts(f, s2, m2, b2)
		if ok1 != ok2 || ok1 != (n%10 != 9 && n%10 != 4) {
			t.Fatalf("round %d: packInt32s ok %v, packCounts ok %v", n, ok1, ok2)
		}
		if !ok1 {
			continue
		}
		if nm1 != nm2 || nb1 != nb2 || !slices.Equal(s1, s2) || !slices.Equal(m1[:nm1], m2[:nm2]) || !slices.Equal(b1[:nb1], b2[:nb2]) {
			t.Fatalf("round %d: packInt32s and packCounts differ", n)
		}
	}
}

// Parquet INT32 columns, wide or long (read in place, in the canonical
// gene order), reach the cache as int32s (plain, dictionary, optional
// without nulls) and come back with the bits of the file; a column with a
// null or a negative value is read but not cached; other types, and a
// long table's samples in another gene order, take the float64 path.
func TestCachedInt32Parquet(t *testing.T) {
	dir := t.TempDir()
	const G, S = 3000, 6
	canonical := make([]int, G*S) // sample by sample, every gene in order
	for k := range canonical {
		canonical[k] = k
	}
	shuffled := slices.Clone(canonical) // the genes of each sample after the first in another order
	for j := 1; j < S; j++ {
		rand.New(rand.NewPCG(uint64(j), 5)).Shuffle(G, func(a, b int) {
			shuffled[j*G+a], shuffled[j*G+b] = shuffled[j*G+b], shuffled[j*G+a]
		})
	}
	for _, tc := range []struct {
		fx     pqFixture
		nan    float64
		layout string
		order  []int // of a long table's rows
		int32  bool  // readWithInt32 fills the counts
	}{
		{pqFixture{kind: "int32", rowGroup: 700}, 0, LayoutWide, nil, true},
		{pqFixture{kind: "int32", dict: true, rowGroup: 1500, pageBytes: 2048}, 0, LayoutWide, nil, true},
		{pqFixture{kind: "int32", optional: true, rowGroup: 1000}, 0, LayoutWide, nil, true},
		{pqFixture{kind: "int32", optional: true, dict: true}, 0.001, LayoutWide, nil, false},
		{pqFixture{kind: "uint32"}, 0, LayoutWide, nil, false},
		{pqFixture{kind: "int64", rowGroup: 700}, 0, LayoutWide, nil, false},
		{pqFixture{kind: "int32", rowGroup: 2500}, 0, LayoutLong, canonical, true},
		{pqFixture{kind: "int32", dict: true, rowGroup: 4000, pageBytes: 2048}, 0, LayoutLong, canonical, true},
		{pqFixture{kind: "int32", optional: true}, 0, LayoutLong, canonical, true},
		{pqFixture{kind: "int32", optional: true}, 0.001, LayoutLong, canonical, false},
		{pqFixture{kind: "int32", rowGroup: 2500}, 0, LayoutLong, shuffled, false},
		{pqFixture{kind: "int64"}, 0, LayoutLong, canonical, false},
	} {
		fx := tc.fx
		name := fmt.Sprintf("%s-%s-opt=%v-dict=%v-nan=%v-inorder=%v", tc.layout, fx.kind, fx.optional, fx.dict, tc.nan, tc.order == nil || tc.order[G+1] == G+1)
		t.Run(name, func(t *testing.T) {
			m := newPQMatrix(G, S, 4, true, tc.nan)
			m.cols[1][17], m.cols[2][18] = 65535, 1<<31-1
			if fx.kind != "uint32" {
				m.cols[5][2999] = -7 // a negative count: read, not cached
			}
			path := filepath.Join(dir, name+".parquet")
			if tc.layout == LayoutWide {
				writePQWide(t, path, m, fx)
			} else {
				writePQLong(t, path, m, fx, tc.order)
			}
			src := pqOpen(t, path, Options{})
			if long, ok := src.(*longParquet); ok && long.spill != nil {
				t.Fatal("the long table was regrouped into a spill, not read in place")
			}
			cachable := func(j int) bool { // whole counts in [0, 2^32), no null
				return !slices.ContainsFunc(m.cols[j], func(v float64) bool { return v < 0 || math.IsNaN(v) })
			}
			// ReadCounts reads the file's int32s: sample j's INT32 values, in the order of the genes
			asInt32 := func(j int) bool {
				return fx.kind == "int32" && cachable(j) && (tc.order == nil || slices.Equal(tc.order[j*G:(j+1)*G], canonical[j*G:(j+1)*G]))
			}
			if asInt32(1) != tc.int32 {
				t.Fatalf("the case says int32 = %v, its sample 1 %v", tc.int32, asInt32(1))
			}
			if r, ok := src.(int32Reader); ok {
				counts := make([]int32, G)
				filled, err := r.readInt32s(1, counts)
				if err != nil {
					t.Fatal(err)
				}
				if filled != tc.int32 {
					t.Errorf("readInt32s filled = %v, want %v", filled, tc.int32)
				}
				for i := range counts {
					if filled && float64(counts[i]) != m.cols[1][i] {
						t.Fatalf("gene %d: count %d, want %v", i, counts[i], m.cols[1][i])
					}
				}
			} else if tc.int32 {
				t.Fatalf("a %s Parquet source is not an int32Reader", tc.layout)
			}
			// ReadCounts from the file itself, and through the cache: in the
			// first pass where it reads int32s (and keeps them), in the
			// second where the cache holds the column (read by ReadColumn
			// otherwise).
			counts, dst := make([]uint32, G), make([]float64, G)
			c := Cached(src, 1<<30)
			wantHits := 0
			for pass := -1; pass < 2; pass++ {
				from := c
				if pass < 0 {
					from = src
				}
				for j := range m.samples {
					ok, err := ReadCounts(from, j, counts)
					if err != nil {
						t.Fatal(err)
					}
					if want := asInt32(j) || pass == 1 && cachable(j); ok != want {
						t.Fatalf("pass %d sample %d: ReadCounts ok = %v, want %v", pass, j, ok, want)
					}
					for i := range counts {
						if ok && float64(counts[i]) != m.cols[j][i] {
							t.Fatalf("pass %d sample %d gene %d: count %d, want %v", pass, j, i, counts[i], m.cols[j][i])
						}
					}
					if err := from.ReadColumn(j, dst); err != nil {
						t.Fatal(err)
					}
					for i, v := range dst {
						if !pqSame(v, m.cols[j][i]) || math.Signbit(v) != math.Signbit(m.cols[j][i]) {
							t.Fatalf("pass %d sample %d gene %d: %v, want %v", pass, j, i, v, m.cols[j][i])
						}
					}
					wantHits += oneIf(pass == 0 && asInt32(j)) + 2*oneIf(pass == 1 && cachable(j))
				}
			}
			if got := CacheHits(c); got != int64(wantHits) {
				t.Errorf("CacheHits = %d, want %d (the columns without a null or a negative count)", got, wantHits)
			}
		})
	}
}

// ReadRows gives the values ReadColumn gives at the rows asked: from the
// cache without the other rows (gather) on a hit, from the source on a
// miss or for a column that is not cached; rows out of order are read from
// the whole column. The columns have long stretches without the marker and
// stretches of big values, so that the counting of skipped markers crosses
// words of either kind.
func TestCachedReadRows(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const G, S = 777, 6
	genes, samples := make([]string, G), make([]string, S)
	for i := range genes {
		genes[i] = fmt.Sprint("g", i)
	}
	cols := make([][]float64, S)
	for j := range cols {
		samples[j] = fmt.Sprint("s", j)
		cols[j] = make([]float64, G)
		for i := range cols[j] {
			switch stretch := (i / 50) % 3; {
			case stretch == 0:
				cols[j][i] = float64(r.IntN(255)) // no markers
			case r.IntN(3) == 0:
				cols[j][i] = float64([]int{255, 65534, 65535, 65536, 1<<32 - 1}[r.IntN(5)])
			default:
				cols[j][i] = float64(r.IntN(70000))
			}
		}
	}
	cols[5][3] = 0.5 // not cached
	c := Cached(NewMemory("m", genes, samples, cols), 1<<30)
	full := make([]float64, G)
	got := make([]float64, G)
	for round := 0; round < 200; round++ {
		j := r.IntN(S)
		var rows []int
		switch round % 4 {
		case 0:
			for i := 0; i < G; i++ {
				if r.IntN(40) == 0 { // few enough for gather
					rows = append(rows, i)
				}
			}
		case 1: // every row, or none, or the last alone
			rows = [][]int{nil, {G - 1}, {0}}[r.IntN(3)]
			if r.IntN(2) == 0 {
				rows = make([]int, G)
				for i := range rows {
					rows[i] = i
				}
			}
		case 2: // out of order; or ascending with a large count twice
			rows = []int{r.IntN(G), r.IntN(G), 5, 5, 0}
			if r.IntN(2) == 0 {
				m := 50 + r.IntN(50)
				for cols[j][m] < 255 {
					m++
				}
				rows = []int{m - 1, m, m, m + 1}
			}
		case 3: // a run of neighbours
			s := r.IntN(G - 20)
			for i := s; i < s+20; i++ {
				rows = append(rows, i)
			}
		}
		hits, cached := CacheHits(c), c.(KnownCounts).CountsKnown(j)
		if err := c.(RowReader).ReadRows(j, rows, got); err != nil {
			t.Fatal(err)
		}
		for k, i := range rows {
			if math.Float64bits(got[k]) != math.Float64bits(cols[j][i]) {
				t.Fatalf("round %d sample %d: row %d (gene %d) is %v, want %v", round, j, k, i, got[k], cols[j][i])
			}
		}
		// a cached column answers from the cache when rows ascend
		ascending := slices.IsSorted(rows) && len(slices.Compact(slices.Clone(rows))) == len(rows)
		if cached && ascending && CacheHits(c) != hits+1 {
			t.Fatalf("round %d: rows of cached sample %d were not served by gather", round, j)
		}
		if err := c.ReadColumn(j, full); err != nil { // caches it for the next rounds
			t.Fatal(err)
		}
	}
	if c.(KnownCounts).CountsKnown(5) {
		t.Error("sample 5 holds a fraction but was cached")
	}
}

// BenchmarkCacheGather reads benchGatherPerTenThousand in 10,000 genes
// (170: the VST's nsub 1000 of 60,000 genes; try 600 and 4600) of the
// columns BenchmarkCacheDecode decodes whole.
func BenchmarkCacheGather(b *testing.B) {
	cols, arena := benchCachedColumns(b)
	defer arena.free()
	r := rand.New(rand.NewPCG(7, 8))
	var rows []int
	for i := range cols[0].small {
		if r.IntN(10000) < benchGatherPerTenThousand {
			rows = append(rows, i)
		}
	}
	dst := make([]float64, len(rows))
	b.SetBytes(int64(len(cols[0].small)))
	for i := 0; i < b.N; i++ {
		if !cols[i%len(cols)].gather(rows, dst) {
			b.Fatal("not gathered")
		}
	}
}

var benchGatherPerTenThousand = 170

// decode and decodeCounts give back every count, whatever the share of marker rows (none,
// few, a group of more than four, all) and of big counts among them, and
// whatever the length (short columns and tails after the last full group).
func TestCacheDecodeShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	arena, err := newArena(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer arena.free()
	c := &cache{arena: arena}
	for _, share := range []int{0, 5, 10, 30, 60, 100} { // percent of marker rows
		for _, bigShare := range []int{0, 10, 100} { // percent of the markers at 65535 or more
			for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 1000, 1003} {
				x := make([]float64, n)
				for i := range x {
					switch {
					case r.IntN(100) >= share:
						x[i] = float64(r.IntN(255))
					case r.IntN(100) < bigShare:
						x[i] = float64(65535 + r.IntN(1<<24))
					default:
						x[i] = float64(255 + r.IntN(65535-255))
					}
				}
				col, ok := encodeFloats(c, x)
				if !ok {
					t.Fatalf("share %d/%d, n %d: not encoded", share, bigShare, n)
				}
				got := make([]float64, n)
				col.decode(got)
				counts := make([]uint32, n)
				col.decodeCounts(counts)
				for i := range x {
					if got[i] != x[i] || float64(counts[i]) != x[i] {
						t.Fatalf("share %d/%d, n %d: row %d is %v (decodeCounts %d), want %v", share, bigShare, n, i, got[i], counts[i], x[i])
					}
				}
			}
		}
	}
}

// markerMask turns the flags of every pattern of marker bytes into its
// rows' bits, and markerRows lists those rows, up to four, then 8.
func TestMarkerMaskAndRows(t *testing.T) {
	for mk := 0; mk < 256; mk++ {
		var w uint64
		var rows []uint32
		for r := 0; r < 8; r++ {
			b := uint64(r * 17) // not the marker
			if mk&(1<<r) != 0 {
				b = 0xff
				rows = append(rows, uint32(r))
			}
			w |= b << (8 * r)
		}
		if got := markerMask(markerBytes(w)); int(got) != mk {
			t.Fatalf("mask of %#x: %#x, want %#x", w, got, mk)
		}
		for len(rows) < midSlack {
			rows = append(rows, 8)
		}
		for k := 0; k < midSlack; k++ {
			if got := markerRows[mk] >> (8 * k) & 0xff; got != rows[k] {
				t.Fatalf("markerRows[%#x] byte %d: %d, want %d", mk, k, got, rows[k])
			}
		}
	}
}
