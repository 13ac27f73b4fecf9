package edger

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/colnorm/colnorm/kernels"
)

// tmmCase is one sample and reference column pair for the bit-identity
// tests, with the rows kept (some count > 0 in the whole matrix) and the
// library sizes.
type tmmCase struct {
	name     string
	obs, ref []float64
	keep     []bool
	nO, nR   float64
}

// randomTMMCase draws a column pair meant to hit what the trims are
// sensitive to: many tied small counts, zeros in one or both columns, rows
// whose log ratios or averages tie exactly (a common scale) or nearly (the
// same ratio at different sizes, whose quotients round differently), the
// sample equal to the reference or a multiple of it, very large counts,
// fractional counts, and now and then values outside the fast path's range.
func randomTMMCase(rng *rand.Rand, trial int) tmmCase {
	G := 1 + rng.IntN(400)
	if rng.IntN(20) == 0 {
		G = 2000 + rng.IntN(3000)
	}
	obs, ref := make([]float64, G), make([]float64, G)
	mean := math.Exp(rng.Float64() * 8)
	zeroP := []float64{0, 0.05, 0.3, 0.7}[rng.IntN(4)]
	style := rng.IntN(8)
	count := func(mu float64) float64 {
		// a Poisson-gamma-ish draw: exponential spread, rounded
		return math.Floor(mu * rng.ExpFloat64() * rng.ExpFloat64())
	}
	for i := range obs {
		mu := mean * math.Exp(rng.NormFloat64()*2)
		ref[i] = count(mu)
		switch style {
		case 0: // the reference itself
			obs[i] = ref[i]
		case 1: // a multiple of it: every M equal
			obs[i] = 3 * ref[i]
		case 2: // a few ratio families: exact and near ties of M
			k := float64(1 + rng.IntN(1000))
			a := float64(1 + rng.IntN(3))
			ref[i] = k * float64(1+rng.IntN(3))
			obs[i] = k * a
		case 3: // tiny counts: everything ties
			ref[i] = float64(rng.IntN(4))
			obs[i] = float64(rng.IntN(4))
		case 4: // large counts
			ref[i] = math.Floor(mu * 1e6 * rng.Float64())
			obs[i] = math.Floor(mu * 1e6 * rng.Float64())
		case 5: // fractional counts
			ref[i] = mu * rng.Float64()
			obs[i] = mu * rng.Float64()
		default:
			obs[i] = count(mu)
		}
		if rng.Float64() < zeroP {
			obs[i] = 0
		}
		if rng.Float64() < zeroP {
			ref[i] = 0
		}
	}
	name := fmt.Sprintf("trial %d style %d G %d", trial, style, G)
	// now and then a value outside [fastMin, fastMax]: the exact path
	if rng.IntN(25) == 0 {
		v := []float64{1e-120, 1e-300, 5e-324, 1e101}[rng.IntN(4)]
		if rng.IntN(2) == 0 {
			obs[rng.IntN(G)] = v
		} else {
			ref[rng.IntN(G)] = v
		}
		name += fmt.Sprintf(" with %g", v)
	}
	keep := make([]bool, G)
	for i := range keep {
		keep[i] = obs[i] > 0 || ref[i] > 0 || rng.IntN(3) == 0
	}
	c := tmmCase{name: name, obs: obs, ref: ref, keep: keep, nO: kernels.Sum(obs), nR: kernels.Sum(ref)}
	if c.nO == 0 {
		c.nO = 1
	}
	if c.nR == 0 {
		c.nR = 1
	}
	return c
}

// randomTMMOptions draws calcNormFactors options: mostly the defaults, and
// trims, weighting and A cutoffs that move the bounds to their edges.
func randomTMMOptions(rng *rand.Rand) Options {
	o := Options{Method: TMM}
	o.defaults()
	if rng.IntN(3) == 0 {
		return o
	}
	trims := []float64{0.3, 0.05, 0, 0.1, 0.25, 0.45, 0.5, 0.7, 1, 1.5, -0.2, math.NaN()}
	o.LogratioTrim = trims[rng.IntN(len(trims))]
	o.SumTrim = trims[rng.IntN(len(trims))]
	o.NoWeighting = rng.IntN(3) == 0
	if rng.IntN(4) == 0 {
		o.ACutoff = []float64{-1e10, -1001, -999, -20, -5, 2, math.NaN()}[rng.IntN(7)]
	}
	return o
}

// keyMTolerance bounds the relative difference between a TMM factor summed
// from the keys' M (mFromKey) and the exact one: 3e-13 from the bound on
// each M, with room.
const keyMTolerance = 1e-12

// checkTMM compares tmm of obs against the sorting implementation's factor
// want: with exactSums the bits must agree (the same rows survive the trims
// and enter the sums in the same order); with the keys' M the factor must
// lie within keyMTolerance of want, and be exactly want where that is 1
// (nothing kept, or every M within 1e-6 of 0).
func checkTMM(s *tmmScratch, obs []float64, ref *tmmReference, nO float64, o Options, want float64) error {
	s.exactSums = true
	exact := s.tmm(obs, ref, nO, o)
	s.exactSums = false
	if math.Float64bits(exact) != math.Float64bits(want) {
		return fmt.Errorf("factor with exact M %.17g, the sorting implementation %.17g", exact, want)
	}
	got := s.tmm(obs, ref, nO, o)
	if want == 1 && got != 1 || !(math.Abs(got-want) <= keyMTolerance*math.Abs(want)) {
		return fmt.Errorf("factor %.17g, the sorting implementation %.17g (relative difference %.2g)", got, want, (got-want)/want)
	}
	// The same sample as 32-bit counts, where it is one: the same bits.
	if counts, ok := asCounts(obs); ok {
		for _, exactSums := range []bool{true, false} {
			s.exactSums = exactSums
			f, fc := s.tmm(obs, ref, nO, o), s.tmmCounts(counts, ref, nO, o)
			if math.Float64bits(f) != math.Float64bits(fc) {
				return fmt.Errorf("factor of the counts %.17g, of their float64s %.17g (exact M %v)", fc, f, exactSums)
			}
		}
		s.exactSums = false
	}
	return nil
}

// asCounts is x as 32-bit counts, when every value is a whole number in
// [0, 2^32).
func asCounts(x []float64) ([]uint32, bool) {
	c := make([]uint32, len(x))
	for i, v := range x {
		if !(v >= 0 && v < 1<<32 && v == math.Trunc(v)) {
			return nil, false
		}
		c[i] = uint32(v)
	}
	return c, true
}

// TestTMMSameBits: the selection kernel gives the bits of the sorting
// implementation (tmm_old_test.go) on many random columns when it sums
// exact M, and the same factor within keyMTolerance with the keys' M.
func TestTMMSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	trials := 4000
	if testing.Short() {
		trials = 500
	}
	var s tmmScratch
	var old oldTMMScratch
	notOne := 0
	for trial := 0; trial < trials; trial++ {
		c := randomTMMCase(rng, trial)
		o := randomTMMOptions(rng)
		want := old.tmmOld(gatherKept(nil, c.obs, c.keep), gatherKept(nil, c.ref, c.keep), c.nO, c.nR, o)
		if err := checkTMM(&s, c.obs, newTMMReference(c.ref, c.keep, c.nR), c.nO, o, want); err != nil {
			t.Fatalf("%s, options %+v: %v", c.name, o, err)
		}
		if want != 1 {
			notOne++
		}
	}
	// the trials must mostly exercise the trims, not the early returns
	if notOne < trials/2 {
		t.Errorf("only %d of %d trials gave a factor other than 1", notOne, trials)
	}
}

// TestTMMEdgeCases: hand-made columns at the edges of the selection.
func TestTMMEdgeCases(t *testing.T) {
	cases := map[string][2][]float64{
		"one row":              {{5}, {7}},
		"two rows":             {{5, 1}, {7, 9}},
		"all tied M":           {{2, 4, 6, 8, 10}, {1, 2, 3, 4, 5}},
		"reference":            {{1, 2, 3}, {1, 2, 3}},
		"no row in both":       {{1, 0, 3}, {0, 2, 0}},
		"ties at the bounds":   {{1, 1, 1, 2, 2, 2, 3, 3, 3, 4}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		"every row zero":       {{0, 0}, {1, 2}},
		"near ratios":          {{1000001, 2000001, 3, 999999, 6}, {1000000, 2000000, 3, 1000000, 6}},
		"same ratio, scaled":   {{3, 6, 9, 12, 15, 1, 2}, {7, 14, 21, 28, 35, 3, 3}},
		"tiny fractional":      {{1e-120, 2, 3, 4}, {1, 2, 5, 4}},
		"subnormal":            {{5e-324, 2, 3, 4}, {1, 2, 5, 4}},
		"larger than fast max": {{1e101, 2, 3, 4}, {1, 2, 5, 4}},
		"extreme":              {{1e99, 2, 3, 4, 1}, {1e-99, 2, 5, 4, 1e99}},
	}
	for name, cols := range cases {
		obs, ref := cols[0], cols[1]
		keep := make([]bool, len(obs))
		for i := range keep {
			keep[i] = true
		}
		for _, o := range []Options{{}, {NoWeighting: true}, {LogratioTrim: 0.45, SumTrim: 0.2}} {
			o.defaults()
			// the library sizes, and sizes below the counts (off the fast path)
			for _, libs := range [][2]float64{{kernels.Sum(obs), kernels.Sum(ref)}, {0.5, kernels.Sum(ref)}, {kernels.Sum(obs), 0.25}, {1e-99, 1e99}} {
				nO, nR := libs[0], libs[1]
				var s tmmScratch
				var old oldTMMScratch
				want := old.tmmOld(obs, ref, nO, nR, o)
				if err := checkTMM(&s, obs, newTMMReference(ref, keep, nR), nO, o, want); err != nil {
					t.Errorf("%s, libraries %v, options %+v: %v", name, libs, o, err)
				}
			}
		}
	}
}

// TestTrimBoundsMatchRanks: the resolved conditions rank >= tLo and
// rank <= tHi agree with R's average ranks (kernels.AverageRanks) for
// exact keys with many ties and thresholds anywhere, integer or not.
func TestTrimBoundsMatchRanks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 2))
	var s tmmScratch
	for trial := 0; trial < 3000; trial++ {
		n := 1 + rng.IntN(60)
		if trial%10 == 0 { // long enough for orderStats' buckets
			n = 500 + rng.IntN(3000)
		}
		keys := make([]float64, n)
		levels := 1 + rng.IntN(n)
		for i := range keys {
			keys[i] = float64(rng.IntN(levels)) - float64(levels)/3
			if trial%3 == 0 { // skewed, with a far outlier now and then
				keys[i] = math.Exp(keys[i] / float64(levels) * 6)
			}
		}
		if trial%7 == 0 {
			keys[rng.IntN(n)] = 1e9
		}
		tLo := rng.Float64()*float64(n+4) - 2
		tHi := rng.Float64()*float64(n+4) - 2
		if rng.IntN(3) == 0 {
			tLo, tHi = math.Round(tLo), math.Round(tHi)
		}
		s.histM.filled = false
		lo, hi := s.trimBounds(keys, &s.histM, 0, tLo, tHi, func(c int) float64 { return keys[c] })
		rank, _ := kernels.AverageRanks(make([]float64, n), make([]int, n), keys)
		for i, k := range keys {
			for _, c := range []struct {
				tb   *trimBound
				want bool
			}{{&lo, rank[i] >= tLo}, {&hi, rank[i] <= tHi}} {
				got := false
				switch c.tb.byKey(k) {
				case passes:
					got = true
				case undecided:
					got = c.tb.byValue(k)
				}
				if got != c.want {
					t.Fatalf("keys %v, tLo %g, tHi %g: row %d (rank %g) passes %v, want %v", keys, tLo, tHi, i, rank[i], got, c.want)
				}
			}
		}
	}
}

// TestCountQuantileSameBits: the histogram quantile gives the bits of
// kernels.Quantile7 on the gathered kept counts: small and large whole
// counts, ties, zeros, fractional counts, and quantiles at and between
// order statistics.
func TestCountQuantileSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 3))
	var q countQuantile
	for trial := 0; trial < 3000; trial++ {
		G := 1 + rng.IntN(300)
		col := make([]float64, G)
		keep := make([]bool, G)
		var kept []int32
		scale := math.Exp(rng.Float64() * 12)
		for i := range col {
			col[i] = math.Floor(scale * rng.ExpFloat64() * rng.ExpFloat64())
			if rng.IntN(4) == 0 {
				col[i] = 0
			}
			if trial%50 == 0 && rng.IntN(10) == 0 {
				col[i] += 0.5
			}
			keep[i] = col[i] > 0 || rng.IntN(2) == 0
			if keep[i] {
				kept = append(kept, int32(i))
			}
		}
		p := []float64{0.75, 0.5, 0, 1, 0.1, 0.999, rng.Float64()}[rng.IntN(7)]
		want := kernels.Quantile7(gatherKept(nil, col, keep), p)
		got := q.quantile7(col, kept, keep, p)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d, p %g, counts %v: %.17g, Quantile7 %.17g", trial, p, gatherKept(nil, col, keep), got, want)
		}
		if trial%50 != 0 { // whole counts: the same as 32-bit counts
			counts := make([]uint32, G)
			for i, v := range col {
				counts[i] = uint32(v)
			}
			if got := q.quantile7Counts(counts, kept, p); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("trial %d, p %g, counts %v: quantile7Counts %.17g, Quantile7 %.17g", trial, p, gatherKept(nil, col, keep), got, want)
			}
		}
	}
}

// randomWSPOptions draws options for TMMwsp: trims in [0, 1] (the sorting
// implementation indexes out of range with negative or NaN trims, which the
// command line refuses) and weighting on or off.
func randomWSPOptions(rng *rand.Rand) Options {
	o := Options{Method: TMMwsp}
	o.defaults()
	if rng.IntN(3) == 0 {
		return o
	}
	trims := []float64{0.3, 0.05, 0, 0.1, 0.25, 0.45, 0.5, 0.7, 1}
	o.LogratioTrim = trims[rng.IntN(len(trims))]
	o.SumTrim = trims[rng.IntN(len(trims))]
	o.NoWeighting = rng.IntN(3) == 0
	return o
}

// TestTMMwspSameBits: the selection kernel of TMMwsp gives the bits of the
// sorting implementation (tmm_old_test.go) on many random columns, with
// rows positive in one column only (the pairing of singles), values at the
// 1e-14 threshold of "positive", and large values off the fast path.
func TestTMMwspSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 4))
	trials := 4000
	if testing.Short() {
		trials = 500
	}
	var s tmmScratch
	var old oldTMMScratch
	notOne := 0
	for trial := 0; trial < trials; trial++ {
		c := randomTMMCase(rng, trial)
		for i := range c.obs {
			// below and at the threshold of "positive"; no subnormal
			// fractions of 1e-14 are needed to reach the exact path
			if c.obs[i] < 1e-100 && c.obs[i] > 0 {
				c.obs[i] = []float64{1e-14, 1e-15, 2e-14}[rng.IntN(3)]
			}
			if c.ref[i] < 1e-100 && c.ref[i] > 0 {
				c.ref[i] = []float64{1e-14, 1e-15, 2e-14}[rng.IntN(3)]
			}
		}
		o := randomWSPOptions(rng)
		want := old.tmmwspOld(gatherKept(nil, c.obs, c.keep), gatherKept(nil, c.ref, c.keep), c.nO, c.nR, o)
		got := s.tmmwsp(c.obs, newWSPReference(c.ref, c.keep, c.nR), c.nO, o)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s, options %+v: factor %.17g, the sorting implementation %.17g", c.name, o, got, want)
		}
		if want != 1 && !math.IsNaN(want) {
			notOne++
		}
	}
	if notOne < trials/2 {
		t.Errorf("only %d of %d trials gave a factor other than 1", notOne, trials)
	}
}

// TestTMMwspEdgeCases: hand-made columns at the edges of TMMwsp.
func TestTMMwspEdgeCases(t *testing.T) {
	cases := map[string][2][]float64{
		"one row":              {{5}, {7}},
		"singles only":         {{5, 0, 3, 0}, {0, 7, 0, 2}},
		"more singles in obs":  {{5, 0, 3, 4, 1, 9}, {0, 7, 0, 0, 2, 9}},
		"reference":            {{1, 2, 3}, {1, 2, 3}},
		"all tied M":           {{2, 4, 6, 8, 10}, {1, 2, 3, 4, 5}},
		"ties broken by M*":    {{1, 2, 4, 8, 3, 6, 12}, {2, 4, 8, 16, 6, 12, 24}},
		"threshold":            {{1e-14, 2e-14, 3, 4}, {2e-14, 1e-14, 5, 4}},
		"larger than fast max": {{1e101, 2, 3, 4}, {1, 2, 5, 4}},
		"every row zero":       {{0, 0}, {0, 0}},
		"extreme":              {{1e99, 2, 3, 4, 1}, {1e-13, 2, 5, 4, 1e99}},
	}
	for name, cols := range cases {
		obs, ref := cols[0], cols[1]
		keep := make([]bool, len(obs))
		for i := range keep {
			keep[i] = true
		}
		for _, o := range []Options{{}, {NoWeighting: true}, {LogratioTrim: 0.45, SumTrim: 0.2}} {
			o.defaults()
			nO, nR := max(kernels.Sum(obs), 1), max(kernels.Sum(ref), 1)
			for _, libs := range [][2]float64{{nO, nR}, {0.5, nR}, {nO, 0.25}, {1e-99, 1e99}} {
				var s tmmScratch
				var old oldTMMScratch
				want := old.tmmwspOld(obs, ref, libs[0], libs[1], o)
				got := s.tmmwsp(obs, newWSPReference(ref, keep, libs[1]), libs[0], o)
				if math.Float64bits(got) != math.Float64bits(want) {
					t.Errorf("%s, libraries %v, options %+v: factor %.17g, the sorting implementation %.17g", name, libs, o, got, want)
				}
			}
		}
	}
}

// TestSelectTuple: selectTuple picks the tuple a sort would put at k.
func TestSelectTuple(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 2000; trial++ {
		n := 1 + rng.IntN(200)
		tuples := make([]wspTuple, n)
		for i := range tuples {
			tuples[i] = wspTuple{float64(rng.IntN(1 + n/10)), float64(rng.IntN(3)), i}
		}
		rng.Shuffle(n, func(i, j int) { tuples[i], tuples[j] = tuples[j], tuples[i] })
		sorted := slices.Clone(tuples)
		slices.SortFunc(sorted, compareWSP)
		k := rng.IntN(n)
		if got := selectTuple(tuples, k); got != sorted[k] {
			t.Fatalf("n %d, k %d: %v, sorted %v", n, k, got, sorted[k])
		}
	}
}
