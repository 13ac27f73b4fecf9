package qc

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// distOf returns the Euclidean distance matrix of points (rows).
func distOf(points [][]float64) [][]float64 {
	n := len(points)
	d := square(n)
	for a := range n {
		for b := range n {
			var s float64
			for i := range points[a] {
				e := points[a][i] - points[b][i]
				s += e * e
			}
			d[a][b] = math.Sqrt(s)
		}
	}
	return d
}

func line(xs ...float64) [][]float64 {
	p := make([][]float64, len(xs))
	for i, x := range xs {
		p[i] = []float64{x}
	}
	return p
}

func TestHClustWorkedExamples(t *testing.T) {
	// ALGORITHMS.md §6: dist(t(vst)) of the M2 VST over all 24 genes.
	s12, s13, s14 := 1.25691586732868776, 1.29862153781993994, 1.26777552561929108
	s23, s24, s34 := 1.19033136114889992, 0.93964378043138097, 1.05415694796740889
	m2 := [][]float64{
		{0, s12, s13, s14},
		{s12, 0, s23, s24},
		{s13, s23, 0, s34},
		{s14, s24, s34, 0},
	}
	cases := []struct {
		name   string
		d      [][]float64
		merge  [][2]int
		height []float64
		order  []int
	}{
		{"M2", m2, [][2]int{{-2, -4}, {-3, 1}, {-1, 2}},
			[]float64{0.939643780431381, 1.1903313611489, 1.29862153781994}, []int{1, 3, 2, 4}},
		{"ties 0,1,2", distOf(line(0, 1, 2)), [][2]int{{-1, -2}, {-3, 1}}, []float64{1, 2}, []int{3, 1, 2}},
		{"ties 0,2,3,5", distOf(line(0, 2, 3, 5)), [][2]int{{-2, -3}, {-1, 1}, {-4, 2}}, []float64{1, 3, 5}, []int{4, 1, 2, 3}},
	}
	for _, c := range cases {
		merge, height, order := HClustComplete(c.d)
		if !slices.Equal(merge, c.merge) {
			t.Errorf("%s: merge %v, want %v", c.name, merge, c.merge)
		}
		if !slices.Equal(order, c.order) {
			t.Errorf("%s: order %v, want %v", c.name, order, c.order)
		}
		if len(height) != len(c.height) {
			t.Fatalf("%s: %d heights, want %d", c.name, len(height), len(c.height))
		}
		for s := range height {
			// The worked heights are printed to 15 significant digits.
			if math.Abs(height[s]-c.height[s]) > 1e-14 {
				t.Errorf("%s: height[%d] = %.17g, want %.17g", c.name, s, height[s], c.height[s])
			}
		}
	}
	// The heights are the input distances themselves, bit for bit.
	if _, h, _ := HClustComplete(m2); h[0] != s24 || h[1] != s23 || h[2] != s13 {
		t.Errorf("M2 heights %v are not the distances %v %v %v", h, s24, s23, s13)
	}
}

func TestHClustSmall(t *testing.T) {
	if m, h, o := HClustComplete(nil); m != nil || h != nil || o != nil {
		t.Errorf("n=0: %v %v %v", m, h, o)
	}
	if m, h, o := HClustComplete([][]float64{{0}}); len(m) != 0 || len(h) != 0 || !slices.Equal(o, []int{1}) {
		t.Errorf("n=1: %v %v %v", m, h, o)
	}
	m, h, o := HClustComplete([][]float64{{0, 2}, {2, 0}})
	if !slices.Equal(m, [][2]int{{-1, -2}}) || !slices.Equal(h, []float64{2}) || !slices.Equal(o, []int{1, 2}) {
		t.Errorf("n=2: %v %v %v", m, h, o)
	}
	if m, _, _ := HClustComplete([][]float64{{0, math.NaN()}, {math.NaN(), 0}}); m != nil {
		t.Errorf("NaN distance gave %v, want nil", m)
	}
}

// naiveComplete is textbook complete linkage: repeatedly merge the two
// clusters whose largest pairwise distance is smallest. Without ties it
// makes the same merges at the same heights as any correct algorithm.
func naiveComplete(d [][]float64) (heights []float64, sets [][]int) {
	var clusters [][]int
	for i := range d {
		clusters = append(clusters, []int{i + 1})
	}
	for len(clusters) > 1 {
		best, bi, bj := math.Inf(1), 0, 0
		for i := range clusters {
			for j := i + 1; j < len(clusters); j++ {
				var link float64
				for _, a := range clusters[i] {
					for _, b := range clusters[j] {
						link = max(link, d[a-1][b-1])
					}
				}
				if link < best {
					best, bi, bj = link, i, j
				}
			}
		}
		merged := slices.Sorted(slices.Values(append(slices.Clone(clusters[bi]), clusters[bj]...)))
		heights = append(heights, best)
		sets = append(sets, merged)
		clusters[bi] = merged
		clusters = slices.Delete(clusters, bj, bj+1)
	}
	return heights, sets
}

// members expands merge row s (0-based) into its sorted objects.
func members(merge [][2]int, s int) []int {
	var out []int
	for _, v := range merge[s] {
		if v < 0 {
			out = append(out, -v)
		} else {
			out = append(out, members(merge, v-1)...)
		}
	}
	slices.Sort(out)
	return out
}

func TestHClustAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + rng.IntN(25)
		pts := make([][]float64, n)
		for i := range pts {
			pts[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		}
		d := distOf(pts)
		merge, height, order := HClustComplete(d)
		wantH, wantSets := naiveComplete(d)
		for s := range wantH {
			if height[s] != wantH[s] || !slices.Equal(members(merge, s), wantSets[s]) {
				t.Fatalf("trial %d step %d: height %v members %v, want %v %v",
					trial, s, height[s], members(merge, s), wantH[s], wantSets[s])
			}
			for k, v := range merge[s] {
				if v > 0 && v > s {
					t.Fatalf("trial %d: merge row %d refers to a later row %d", trial, s+1, v)
				}
				if k == 1 && merge[s][0] > 0 && v < 0 {
					t.Fatalf("trial %d: merge row %d lists a cluster before a singleton", trial, s+1)
				}
			}
		}
		// The order is a permutation in which every merged cluster is contiguous.
		if !slices.Equal(slices.Sorted(slices.Values(order)), members(merge, n-2)) {
			t.Fatalf("trial %d: order %v is not a permutation", trial, order)
		}
		pos := make([]int, n+1)
		for p, o := range order {
			pos[o] = p
		}
		for s := range merge {
			ms := members(merge, s)
			lo, hi := n, -1
			for _, o := range ms {
				lo, hi = min(lo, pos[o]), max(hi, pos[o])
			}
			if hi-lo+1 != len(ms) {
				t.Fatalf("trial %d: cluster %v is not contiguous in order %v", trial, ms, order)
			}
		}
	}
}

// TestHClustMatchesRTies replays testdata/hclust_ties.txt: 200 tie-heavy
// inputs (2 to 24 points on a small integer grid in 1 to 3 dimensions) with
// the merge, height and order R 4.2.2 printed for hclust(dist(x), "complete")
// (generated in R with set.seed(20240611), then per case n <- sample(2:24, 1);
// dim <- sample(1:3, 1); k <- sample(2:5, 1);
// x <- matrix(sample(0:k, n*dim, replace=TRUE), n, dim)).
func TestHClustMatchesRTies(t *testing.T) {
	f, err := os.ReadFile(filepath.Join("testdata", "hclust_ties.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(f)), "\n")
	if len(lines)%5 != 0 {
		t.Fatalf("%d lines, want 5 per case", len(lines))
	}
	nums := func(line, tag string) []float64 {
		fields := strings.Fields(line)
		if fields[0] != tag {
			t.Fatalf("line %q, want %s", line, tag)
		}
		out := make([]float64, len(fields)-1)
		for i, s := range fields[1:] {
			if out[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	cases := 0
	for c := 0; c < len(lines); c += 5 {
		head := nums(lines[c], "case")
		n, dim := int(head[0]), int(head[1])
		x := nums(lines[c+1], "x")
		pts := make([][]float64, n)
		for i := range pts {
			pts[i] = x[i*dim : (i+1)*dim]
		}
		wantMerge := nums(lines[c+2], "merge")
		wantHeight := nums(lines[c+3], "height")
		wantOrder := nums(lines[c+4], "order")
		merge, height, order := HClustComplete(distOf(pts))
		for s := range merge {
			if merge[s][0] != int(wantMerge[2*s]) || merge[s][1] != int(wantMerge[2*s+1]) {
				t.Fatalf("case %d: merge %v, want %v", c/5+1, merge, wantMerge)
			}
			// Integer coordinates: the distances are square roots of integers,
			// the same bits in R and Go.
			if height[s] != wantHeight[s] {
				t.Fatalf("case %d: height %v, want %v", c/5+1, height, wantHeight)
			}
		}
		for i := range order {
			if order[i] != int(wantOrder[i]) {
				t.Fatalf("case %d: order %v, want %v", c/5+1, order, wantOrder)
			}
		}
		cases++
	}
	if cases != 200 {
		t.Fatalf("%d cases, want 200", cases)
	}
}
