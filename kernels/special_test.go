package kernels

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// R 4.2.2's digamma and lgamma on 1,000 points from 1e-6 to 1e9
// (testdata/kernels/special_r.tsv, 17 significant digits).
func TestDigammaMatchesR(t *testing.T) {
	f, err := os.Open("../testdata/kernels/special_r.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	n, worst, worstL := 0, 0.0, 0.0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		x, err1 := strconv.ParseFloat(fields[0], 64)
		want, err2 := strconv.ParseFloat(fields[1], 64)
		wantL, err3 := strconv.ParseFloat(fields[2], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		n++
		// Relative to max(1, |ψ|): ψ has a root near 1.4616.
		e := math.Abs(Digamma(x)-want) / math.Max(1, math.Abs(want))
		if e > 2e-15 {
			t.Errorf("Digamma(%v) = %v, R %v (error %.2g)", x, Digamma(x), want, e)
		}
		worst = math.Max(worst, e)
		lg, _ := math.Lgamma(x)
		worstL = math.Max(worstL, math.Abs(lg-wantL)/math.Max(1, math.Abs(wantL)))
	}
	if n != 1000 {
		t.Fatalf("read %d points, want 1000", n)
	}
	// math.Lgamma is the log-gamma of the dispersion likelihood; it must stay
	// within a few ulps of R's lgammafn.
	if worstL > 1e-15 {
		t.Errorf("math.Lgamma differs from R's lgamma by %.2g relative", worstL)
	}
	t.Logf("worst relative error: digamma %.2g, math.Lgamma %.2g", worst, worstL)
}

func TestDigammaSpecialValues(t *testing.T) {
	const eulerGamma = 0.57721566490153286
	if got := Digamma(1); math.Abs(got+eulerGamma) > 2.5e-16 {
		t.Errorf("ψ(1) = %v, want -γ", got)
	}
	if got := Digamma(0.5); math.Abs(got-(-eulerGamma-2*math.Ln2)) > 1e-15 {
		t.Errorf("ψ(1/2) = %v", got)
	}
	for _, x := range []float64{0, -1, math.NaN()} {
		if !math.IsNaN(Digamma(x)) {
			t.Errorf("ψ(%v) should be NaN", x)
		}
	}
	// Recurrence across the lifting threshold.
	for _, x := range []float64{0.3, 3.3, 9.5, 9.999999, 10, 42} {
		if d := Digamma(x+1) - Digamma(x) - 1/x; math.Abs(d) > 1e-14 {
			t.Errorf("ψ(%v+1) - ψ(%v) - 1/x = %v", x, x, d)
		}
	}
}
