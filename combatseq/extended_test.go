package combatseq

import (
	"math"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// hexFloat parses a double written by R's sprintf("%a").
func hexFloat(t testing.TB, s string) float64 {
	t.Helper()
	if s == "0x0p+0" {
		return 0
	}
	v := reftest.Num(t, s)
	return v
}

func TestSumRMatchesR(t *testing.T) {
	_, rows := reftest.Table(t, reftest.Path("oracle", "combatseq_sums.tsv.gz"))
	plainDiff := 0
	for i, r := range rows {
		var x []float64
		for _, f := range strings.Split(r[0], ",") {
			x = append(x, hexFloat(t, f))
		}
		want, wantMean := hexFloat(t, r[1]), hexFloat(t, r[2])
		if got := sumR(x); got != want {
			t.Errorf("row %d: sumR %x, R %x", i, got, want)
		}
		var e extended
		for _, v := range x {
			e.add(v)
		}
		if got := e.divInt(len(x)).float64(); got != wantMean {
			t.Errorf("row %d: mean %x, R rowMeans %x", i, got, wantMean)
		}
		var s float64
		for _, v := range x {
			s += v
		}
		if s != want {
			plainDiff++
		}
	}
	t.Logf("%d sums; a plain double sum differs from R's in %d", len(rows), plainDiff)
	if plainDiff == 0 {
		t.Error("the test vectors do not tell long double from double accumulation")
	}
}

func TestExtendedEdges(t *testing.T) {
	var e extended
	for _, v := range []float64{1, -1, 0, 1e300, -1e300, 0.1, -0.1} {
		e.add(v)
	}
	if got := e.float64(); got != 0 {
		t.Errorf("cancellation to zero: %v", got)
	}
	e = extended{}
	e.add(math.SmallestNonzeroFloat64 * (1 << 60))
	e.add(1)
	if got := e.float64(); got != 1 {
		t.Errorf("1 + tiny: %v", got)
	}
}
