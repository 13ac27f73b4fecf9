package combatseq

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ErrDesign is wrapped by every error about the batch and group labels
// (a batch with one sample, a single batch, a group confounded with batch):
// bad input, which the command line reports with exit status 2.
var ErrDesign = errors.New("combatseq: bad design")

func designErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDesign}, args...)...)
}

// Design is the model of ComBat_seq(counts, batch, group) for one set of
// samples, with the levels in R's factor order.
type Design struct {
	Batches []string // batch levels
	Groups  []string // group levels (nil or one level: the null model)

	batch []int // batch level of each sample
	group []int // group level of each sample (all 0 in the null model)
	size  []int // samples per batch

	// X is [batch indicators | group treatment dummies for levels 2..L],
	// samples x coefs, column-major (X[c*n+j]).
	X     []float64
	coefs int

	// The batch-wise dispersion models: per batch, whether gene-wise
	// (tagwise) dispersions are estimated with the group design restricted to
	// the batch, or only the batch's common dispersion with an intercept.
	tagwise []bool
	// Per batch, the samples (indices into all samples) in order and their
	// group level, for the one-way fits of the dispersion estimation.
	members [][]int
	// Per batch, the design used for its dispersions: 1 (intercept) or L.
	dispCoefs []int
	// Per batch: dispersion design as a column-major matrix over members.
	dispX [][]float64

	// The main fit: one-way (as many distinct rows of X as coefficients) or
	// Levenberg-Marquardt.
	oneWay     bool
	cell       []int     // one-way: the distinct row ("cell") of each sample
	cellRows   []float64 // one-way: the distinct rows, cells x coefs, row-major
	cellIsUnit bool      // one-way: the distinct rows are unit vectors (X is an indicator matrix)
}

// Samples is the number of samples.
func (d *Design) Samples() int { return len(d.batch) }

// Null reports whether the model has no group term.
func (d *Design) Null() bool { return len(d.Groups) <= 1 }

// Tagwise reports whether batch k gets gene-wise dispersions; otherwise all
// its genes share its common dispersion.
func (d *Design) Tagwise(k int) bool { return d.tagwise[k] }

// BatchSize is the number of samples in batch k.
func (d *Design) BatchSize(k int) int { return d.size[k] }

// NewDesign checks the batch and group labels of the samples (group may be
// nil) and builds the model ComBat_seq fits:
//
//   - batch levels and group levels are sorted as R's factor() sorts them
//     (numerically when every label is a number, as when R reads a numeric
//     column; otherwise by bytes, the C locale's order);
//   - a batch with one sample, or a single batch, is an error (sva stops:
//     "ComBat-seq doesn't support 1 sample per batch yet");
//   - with a group of two or more levels the model is ~ batch + group
//     (full_mod = TRUE): X = [batch indicators | group dummies for levels
//     2..L]; otherwise the null model X = batch indicators;
//   - X must have full column rank, which for two factors means the graph
//     joining each batch to the groups it contains is connected; otherwise
//     the group is confounded with batch and the error says so;
//   - batch k gets gene-wise dispersions when it has more than L samples and
//     every group level (L of them, 1 in the null model) among them;
//     otherwise only its common dispersion, estimated with an intercept.
func NewDesign(batch, group []string) (*Design, error) {
	n := len(batch)
	if group != nil && len(group) != n {
		panic("combatseq: batch and group lengths differ")
	}
	d := &Design{}
	d.Batches, d.batch = factor(batch)
	K := len(d.Batches)
	d.size = make([]int, K)
	for _, b := range d.batch {
		d.size[b]++
	}
	for k, s := range d.size {
		if s <= 1 {
			return nil, designErrorf("batch %q has %d sample; ComBat-seq needs at least 2 samples in every batch (sva: \"ComBat-seq doesn't support 1 sample per batch yet\")", d.Batches[k], s)
		}
	}
	if K < 2 {
		return nil, designErrorf("every sample is in batch %q: there is nothing to correct (ComBat-seq needs 2 or more batches)", d.Batches[0])
	}
	d.group = make([]int, n)
	if group != nil {
		d.Groups, d.group = factor(group)
	}
	L := 1
	if !d.Null() {
		L = len(d.Groups)
	} else {
		d.Groups = nil
		d.group = make([]int, n)
	}
	if !d.Null() {
		if err := d.checkConfounding(); err != nil {
			return nil, err
		}
	}

	// X = [batch indicators | group dummies].
	d.coefs = K + L - 1
	d.X = make([]float64, n*d.coefs)
	for j := 0; j < n; j++ {
		d.X[d.batch[j]*n+j] = 1
		if g := d.group[j]; g > 0 {
			d.X[(K+g-1)*n+j] = 1
		}
	}

	// Batch-wise dispersion designs.
	d.tagwise = make([]bool, K)
	d.members = make([][]int, K)
	d.dispCoefs = make([]int, K)
	d.dispX = make([][]float64, K)
	for j, b := range d.batch {
		d.members[b] = append(d.members[b], j)
	}
	for k := range d.members {
		present := map[int]bool{}
		for _, j := range d.members[k] {
			present[d.group[j]] = true
		}
		d.tagwise[k] = d.size[k] > L && len(present) == L
		m := d.members[k]
		if !d.tagwise[k] {
			d.dispCoefs[k] = 1
			d.dispX[k] = ones(len(m))
			continue
		}
		// model.matrix(~group)[batch k, ]: intercept and dummies.
		d.dispCoefs[k] = L
		x := make([]float64, len(m)*L)
		for i, j := range m {
			x[i] = 1
			if g := d.group[j]; g > 0 {
				x[g*len(m)+i] = 1
			}
		}
		d.dispX[k] = x
	}

	// One-way layout of the main fit: the distinct rows of X.
	cells := map[string]int{}
	d.cell = make([]int, n)
	for j := 0; j < n; j++ {
		key := fmt.Sprint(d.batch[j], d.group[j])
		c, ok := cells[key]
		if !ok {
			c = len(cells)
			cells[key] = c
			for col := 0; col < d.coefs; col++ {
				d.cellRows = append(d.cellRows, d.X[col*n+j])
			}
		}
		d.cell[j] = c
	}
	d.oneWay = len(cells) == d.coefs
	if d.oneWay {
		// edgeR drops the design (coefficients = cell means) when the
		// distinct rows are the unit vectors in order of the cells' levels.
		d.cellIsUnit = d.Null()
	}
	return d, nil
}

func ones(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 1
	}
	return x
}

// checkConfounding returns an error naming the batches and groups that
// cannot be separated when [batch | group] is rank-deficient, i.e. when the
// bipartite graph of batches and the group levels they contain falls apart.
func (d *Design) checkConfounding() error {
	K, L := len(d.Batches), len(d.Groups)
	parent := make([]int, K+L)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for j := range d.batch {
		a, b := find(d.batch[j]), find(K+d.group[j])
		if a != b {
			parent[a] = b
		}
	}
	root := find(0)
	var apart []string
	for i := range parent {
		if find(i) != root {
			if i < K {
				apart = append(apart, "batch "+strconv.Quote(d.Batches[i]))
			} else {
				apart = append(apart, "group "+strconv.Quote(d.Groups[i-K]))
			}
		}
	}
	if len(apart) == 0 {
		return nil
	}
	// Describe the first component: which batches hold which groups.
	var comp []string
	for k := 0; k < K; k++ {
		if find(k) != root {
			continue
		}
		var gs []string
		seen := map[int]bool{}
		for j, b := range d.batch {
			if b == k && !seen[d.group[j]] {
				seen[d.group[j]] = true
				gs = append(gs, strconv.Quote(d.Groups[d.group[j]]))
			}
		}
		comp = append(comp, fmt.Sprintf("batch %q has only group %s", d.Batches[k], strings.Join(gs, ", ")))
	}
	return designErrorf("the group is confounded with batch (%s, and no batch holds both these groups and %s), so the batch effect cannot be told from the group effect; sva stops here too (\"The covariate is confounded with batch!\"): run without --group, or with samples of each group in more than one batch",
		strings.Join(comp, "; "), strings.Join(apart, ", "))
}

// factor returns the sorted distinct labels and each label's index, as R's
// factor(): numbers sort numerically when every label parses as one (R
// reads such a metadata column as numeric), other labels by their bytes.
func factor(x []string) (levels []string, index []int) {
	seen := map[string]bool{}
	for _, v := range x {
		if !seen[v] {
			seen[v] = true
			levels = append(levels, v)
		}
	}
	numeric := true
	num := map[string]float64{}
	for _, v := range levels {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) {
			numeric = false
			break
		}
		num[v] = f
	}
	sort.SliceStable(levels, func(i, j int) bool {
		if numeric && num[levels[i]] != num[levels[j]] {
			return num[levels[i]] < num[levels[j]]
		}
		return levels[i] < levels[j]
	})
	pos := map[string]int{}
	for i, v := range levels {
		pos[v] = i
	}
	index = make([]int, len(x))
	for j, v := range x {
		index[j] = pos[v]
	}
	return levels, index
}
