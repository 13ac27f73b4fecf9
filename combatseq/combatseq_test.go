package combatseq

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/pass"
)

// The worked example of ALGORITHMS.md §9 (null model; b1 = s1-s3,
// b2 = s4-s6), with the values R printed there.
var exampleCounts = [][]float64{ // genes x samples
	{10, 14, 8, 30, 18, 52},
	{0, 0, 0, 5, 3, 2},
	{120, 95, 160, 260, 390, 180},
	{3, 1, 0, 6, 11, 2},
	{50, 70, 38, 70, 120, 48},
	{22, 30, 12, 20, 41, 26},
}

var exampleWant = [][]float64{
	{12, 22, 7, 25, 20, 35},
	{0, 0, 0, 5, 3, 2},
	{127, 107, 161, 258, 389, 152},
	{4, 1, 0, 4, 8, 2},
	{44, 58, 36, 80, 151, 50},
	{19, 24, 12, 20, 50, 34},
}

func exampleSource() columnar.Source {
	genes := []string{"g1", "g2", "g3", "g4", "g5", "g6"}
	samples := []string{"s1", "s2", "s3", "s4", "s5", "s6"}
	cols := make([][]float64, 6)
	for j := range cols {
		for i := range genes {
			cols[j] = append(cols[j], exampleCounts[i][j])
		}
	}
	return columnar.NewMemory("example", genes, samples, cols)
}

func TestWorkedExample(t *testing.T) {
	d, err := NewDesign([]string{"b1", "b1", "b1", "b2", "b2", "b2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 3} {
		sink := reftest.NewCollect(6)
		res, err := Adjust(context.Background(), exampleSource(), d, sink, Options{Pass: pass.Options{Threads: threads}})
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range []float64{0.075557446750806168, 0.13774394022488007} {
			if rel := math.Abs(res.Common[k]-want) / want; rel > 1e-6 {
				t.Errorf("common dispersion of batch %d: %v, R %v", k, res.Common[k], want)
			}
		}
		if res.HeldOut != 1 {
			t.Errorf("%d genes held out, want 1 (g2)", res.HeldOut)
		}
		for j := range sink.Cols {
			for i, v := range sink.Cols[j] {
				if v != exampleWant[i][j] {
					t.Errorf("threads %d: g%d s%d = %v, sva %v", threads, i+1, j+1, v, exampleWant[i][j])
				}
			}
		}
	}
}

func TestDesignErrors(t *testing.T) {
	for _, tc := range []struct {
		batch, group []string
		want         string
	}{
		{[]string{"a", "a", "b"}, nil, `batch "b" has 1 sample`},
		{[]string{"a", "a", "a"}, nil, "nothing to correct"},
		{[]string{"a", "a", "b", "b"}, []string{"x", "x", "y", "y"}, "confounded with batch"},
		{[]string{"a", "a", "b", "b", "c", "c"}, []string{"x", "y", "x", "y", "z", "z"}, `batch "c"`},
	} {
		_, err := NewDesign(tc.batch, tc.group)
		if err == nil || !errors.Is(err, ErrDesign) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v / %v: %v, want an ErrDesign saying %q", tc.batch, tc.group, err, tc.want)
		}
	}
	// A group with one level is the null model; a group linking the
	// batches is fine.
	d, err := NewDesign([]string{"a", "a", "b", "b"}, []string{"x", "x", "x", "x"})
	if err != nil || !d.Null() {
		t.Errorf("one-level group: %v, null %v", err, d != nil && d.Null())
	}
	if _, err := NewDesign([]string{"a", "a", "b", "b", "c", "c"}, []string{"x", "y", "y", "z", "z", "x"}); err != nil {
		t.Errorf("chained groups: %v", err)
	}
}

func TestFactorOrder(t *testing.T) {
	levels, idx := factor([]string{"10", "2", "b10", "2"})
	if strings.Join(levels, ",") != "10,2,b10" || idx[1] != 1 {
		t.Errorf("mixed labels: %v %v", levels, idx)
	}
	levels, _ = factor([]string{"10", "2", "1.5"})
	if strings.Join(levels, ",") != "1.5,2,10" {
		t.Errorf("numeric labels: %v", levels)
	}
	levels, _ = factor([]string{"run2", "Run1", "run1"})
	if strings.Join(levels, ",") != "Run1,run1,run2" {
		t.Errorf("byte order: %v", levels)
	}
}

// TestHeldOutAndErrors: every gene all zero in a batch, and a batch with no
// gene of total 5, are input errors.
func TestHeldOutAndErrors(t *testing.T) {
	genes := []string{"g1", "g2"}
	samples := []string{"s1", "s2", "s3", "s4"}
	d, _ := NewDesign([]string{"a", "a", "b", "b"}, nil)
	run := func(cols [][]float64) error {
		_, err := Adjust(context.Background(), columnar.NewMemory("m.tsv", genes, samples, cols), d, reftest.NewCollect(4), Options{})
		return err
	}
	err := run([][]float64{{0, 5}, {0, 7}, {3, 0}, {4, 0}})
	var ie *columnar.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "every gene is all zero") {
		t.Errorf("all held out: %v", err)
	}
	err = run([][]float64{{1, 1}, {1, 2}, {30, 40}, {20, 50}})
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `batch "a"`) {
		t.Errorf("no total of 5: %v", err)
	}
}
