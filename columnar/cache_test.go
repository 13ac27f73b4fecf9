package columnar

import (
	"math"
	"math/rand/v2"
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

// benchCountColumn is 60,000 counts shaped like an RNA-seq sample: most
// below 255, one in ten above, a few above 65535.
func benchCountColumn() []float64 {
	r := rand.New(rand.NewPCG(3, 4))
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
	return x
}

func BenchmarkCacheEncode(b *testing.B) {
	x := benchCountColumn()
	arena, err := newArena(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	defer arena.free()
	c := &cache{arena: arena}
	b.SetBytes(int64(len(x)))
	for i := 0; i < b.N; i++ {
		arena.next.Store(0) // the same memory again: no page faults
		if _, ok := c.encode(x); !ok {
			b.Fatal("not encoded")
		}
	}
}

func BenchmarkCacheDecode(b *testing.B) {
	x := benchCountColumn()
	arena, err := newArena(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	defer arena.free()
	col, ok := (&cache{arena: arena}).encode(x)
	if !ok {
		b.Fatal("not encoded")
	}
	dst := make([]float64, len(x))
	b.SetBytes(int64(len(x)))
	for i := 0; i < b.N; i++ {
		col.decode(dst)
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
