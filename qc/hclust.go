package qc

import "math"

// HClustComplete clusters n objects by complete linkage from their distance
// matrix d (n x n, symmetric; only the upper triangle d[i][j], i < j, is
// read), reproducing R's hclust(as.dist(d), method = "complete") exactly:
// the same merges, heights and order, ties included.
//
// The algorithm is R's (Murtagh's nearest-neighbour chain bookkeeping,
// stats/src/hclust.f), with objects numbered 1..n:
//
//   - For each i < n, NN(i) is the first j > i with the strictly smallest
//     D(i,j), and DISNN(i) that distance.
//   - Each step takes the first active i with the strictly smallest DISNN
//     and merges i2 = min(i, NN(i)) with j2 = max(i, NN(i)) at height
//     DISNN(i); j2 becomes inactive. For every other active k,
//     D(i2,k) = max(D(i2,k), D(j2,k)); over k > i2 the first strict minimum
//     becomes NN(i2); for k < i2 a new D(i2,k) < DISNN(k) makes i2 the
//     nearest neighbour of k. Finally every active i whose NN was i2 or j2
//     looks again for its first strict minimum over active j > i.
//
// merge and order then follow R's hcass2:
//
//   - merge[s] is step s's pair. A label equal to the lower label of an
//     earlier step s' becomes +(s'+1) (the most recent such step, 1-based);
//     any other label is the singleton -label. A singleton is written before
//     a cluster, and two clusters in increasing order.
//   - order starts from the last step's pair; for s = n-2 down to 1, the
//     entry s is replaced in place by its pair (first, second). Entries are
//     1-based object numbers.
//
// height[s] is step s's distance. With n = 1, order is [1] and there are no
// merges; with n = 0 everything is empty. Distances must be finite: a NaN or
// ±Inf among them gives nil results (R stops with an error). A d that is
// not n x n panics. d is not modified.
func HClustComplete(d [][]float64) (merge [][2]int, height []float64, order []int) {
	n := len(d)
	for _, row := range d {
		if len(row) != n {
			panic("qc: HClustComplete: distance matrix is not square")
		}
	}
	if n == 0 {
		return nil, nil, nil
	}
	if n == 1 {
		return nil, nil, []int{1}
	}

	// Work on 1-based indices with a packed copy of the upper triangle.
	diss := newTriangle(n)
	for i := 1; i < n; i++ {
		for j := i + 1; j <= n; j++ {
			v := d[i-1][j-1]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, nil
			}
			diss.set(i, j, v)
		}
	}

	active := make([]bool, n+1)
	nn := make([]int, n+1)
	disnn := make([]float64, n+1)
	for i := 1; i <= n; i++ {
		active[i] = true
	}
	for i := 1; i < n; i++ {
		nn[i], disnn[i] = diss.nearest(i, active)
	}

	ia := make([]int, n-1) // lower label of each step
	ib := make([]int, n-1) // upper label of each step
	height = make([]float64, n-1)
	for step := range n - 1 {
		im, best := 0, math.Inf(1)
		for i := 1; i < n; i++ {
			if active[i] && disnn[i] < best {
				im, best = i, disnn[i]
			}
		}
		i2, j2 := min(im, nn[im]), max(im, nn[im])
		ia[step], ib[step], height[step] = i2, j2, best
		active[j2] = false

		// Complete linkage: the merged cluster's distance is the larger one.
		dmin, jj := math.Inf(1), 0
		for k := 1; k <= n; k++ {
			if !active[k] || k == i2 {
				continue
			}
			dk := math.Max(diss.get(i2, k), diss.get(j2, k))
			diss.set(i2, k, dk)
			if i2 < k {
				if dk < dmin {
					dmin, jj = dk, k
				}
			} else if dk < disnn[k] {
				disnn[k], nn[k] = dk, i2
			}
		}
		nn[i2], disnn[i2] = jj, dmin

		for i := 1; i < n; i++ {
			if active[i] && (nn[i] == i2 || nn[i] == j2) {
				nn[i], disnn[i] = diss.nearest(i, active)
			}
		}
	}
	merge, order = assemble(ia, ib)
	return merge, height, order
}

// assemble turns the steps' (lower, upper) object labels into R's merge
// matrix and leaf order (hcass2).
func assemble(ia, ib []int) (merge [][2]int, order []int) {
	steps := len(ia)
	merge = make([][2]int, steps)
	for s := range steps {
		merge[s] = [2]int{-ia[s], -ib[s]}
	}
	// A label that is the lower label of an earlier step stands for that
	// step's cluster; later steps overwrite earlier ones.
	for s := range steps {
		lower := min(ia[s], ib[s])
		for t := s + 1; t < steps; t++ {
			if ia[t] == lower {
				merge[t][0] = s + 1
			}
			if ib[t] == lower {
				merge[t][1] = s + 1
			}
		}
	}
	for s := range merge {
		a, b := merge[s][0], merge[s][1]
		switch {
		case a > 0 && b < 0:
			merge[s] = [2]int{b, a}
		case a > 0 && b > 0:
			merge[s] = [2]int{min(a, b), max(a, b)}
		}
	}

	// Expand clusters into their members, last merge first.
	order = make([]int, 0, steps+1)
	order = append(order, merge[steps-1][0], merge[steps-1][1])
	for s := steps - 1; s >= 1; s-- {
		for j, v := range order {
			if v == s {
				order[j] = merge[s-1][0]
				order = append(order, 0)
				copy(order[j+2:], order[j+1:])
				order[j+1] = merge[s-1][1]
				break
			}
		}
	}
	for j := range order {
		order[j] = -order[j]
	}
	return merge, order
}

// triangle is a packed strict upper triangle of an n x n matrix with
// 1-based indices.
type triangle struct {
	n int
	v []float64
}

func newTriangle(n int) triangle {
	return triangle{n: n, v: make([]float64, n*(n-1)/2)}
}

// index is the packed position of (i, j), i < j, row by row.
func (t triangle) index(i, j int) int {
	return (i-1)*(2*t.n-i)/2 + (j - i - 1)
}

func (t triangle) get(i, j int) float64 {
	if i > j {
		i, j = j, i
	}
	return t.v[t.index(i, j)]
}

func (t triangle) set(i, j int, x float64) {
	if i > j {
		i, j = j, i
	}
	t.v[t.index(i, j)] = x
}

// nearest returns the first active j > i with the strictly smallest
// distance to i, and that distance (0 and +Inf when there is none).
func (t triangle) nearest(i int, active []bool) (int, float64) {
	jm, dmin := 0, math.Inf(1)
	for j := i + 1; j <= t.n; j++ {
		if active[j] {
			if dj := t.v[t.index(i, j)]; dj < dmin {
				jm, dmin = j, dj
			}
		}
	}
	return jm, dmin
}
