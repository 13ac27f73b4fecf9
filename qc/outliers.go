package qc

import (
	"fmt"
	"math"
	"slices"

	"github.com/colnorm/colnorm/kernels"
)

// Thresholds of the outlier rule (see Outliers).
const (
	// MinMedianCor is the median correlation below which a sample is flagged.
	MinMedianCor = 0.80
	// MinGroupSize is the smallest group whose PC1/PC2 spread is judged.
	MinGroupSize = 5
	// MaxRobustZ is the robust z-score of the PC1/PC2 distance above which a
	// sample is flagged.
	MaxRobustZ = 5.0
	// madScale makes the MAD a consistent estimate of a normal's standard
	// deviation (R's mad() constant).
	madScale = 1.4826
)

// Outlier is a flagged sample and why it was flagged.
type Outlier struct {
	Sample     int      // 0-based sample index
	MedianCor  float64  // median Pearson correlation with the other samples; NaN without cor
	PCDistance float64  // distance from its group's median in the PC1/PC2 plane; NaN when not judged
	Reasons    []string // short human sentences, one per rule that fired
}

// Outliers flags samples that look out of place, by two rules:
//
//  1. Low correlation: the median of sample a's Pearson correlations with
//     the other members of its group (all other samples without groups, or
//     when its group has fewer than 3 members) is below 0.80. Within a
//     group, so that two conditions that correlate at 0.7 with each other
//     do not flag every sample. A sample whose correlations are all
//     undefined (NaN, a constant sample) is flagged too. Skipped when cor
//     is nil or there is only one sample.
//  2. Far from its group in PC space: within each group of at least 5
//     samples, d_a is the Euclidean distance of sample a's (PC1, PC2)
//     scores from the group's coordinate-wise median (PC1 only when scores
//     has one column). With med = median(d) and MAD = median(|d - med|), a
//     sample is flagged when d_a > med + 5·1.4826·MAD (a robust z-score
//     above 5) and it is far in absolute terms:
//     - with other groups, d_a is more than half the distance from its
//     group's median to the nearest other group's median (a swapped or
//     mislabelled sample sits at about the whole distance). Noise
//     components make single samples look far (PCA of noise aligns with
//     the most extreme sample), and with a handful of points the MAD is
//     noisy (a z above 5 alone fires in 9% of groups of 5 points drawn
//     from one 2-D Gaussian): measured against the separation of the
//     groups, such jitter is not flagged;
//     - with one group, d_a > 3·med and d_a > 0.1·S, with S = √(var PC1 +
//     var PC2) over all samples (far on the scale of the plot).
//     Skipped when scores is nil.
//
// Read its flags as "look at this sample", not as a verdict.
//
// groups[a] names sample a's group; nil puts every sample in one group.
// scores is m x k (PCA.Scores), cor m x m (Pairwise.Correlation). The result
// lists only flagged samples, in increasing sample order, with MedianCor and
// PCDistance filled in whenever they were computed. Shapes that do not
// match samples panic.
func Outliers(samples int, cor [][]float64, scores [][]float64, groups []string) []Outlier {
	if cor != nil && len(cor) != samples {
		panic("qc: Outliers: cor is not samples x samples")
	}
	if scores != nil && len(scores) != samples {
		panic("qc: Outliers: scores do not have one row per sample")
	}
	if groups != nil && len(groups) != samples {
		panic("qc: Outliers: groups do not have one entry per sample")
	}
	medCor := make([]float64, samples)
	pcDist := make([]float64, samples)
	reasons := make([][]string, samples)
	for a := range samples {
		medCor[a], pcDist[a] = math.NaN(), math.NaN()
	}

	if cor != nil && samples >= 2 {
		others := make([]float64, 0, samples-1)
		peers := make([]bool, samples)
		size := map[string]int{}
		for _, g := range groups {
			size[g]++
		}
		for a := range samples {
			if len(cor[a]) != samples {
				panic("qc: Outliers: cor is not samples x samples")
			}
			for b := range peers {
				peers[b] = groups == nil || size[groups[a]] < 3 || groups[b] == groups[a]
			}
			others = others[:0]
			for b, r := range cor[a] {
				if b != a && peers[b] && !math.IsNaN(r) {
					others = append(others, r)
				}
			}
			medCor[a] = kernels.Median(others) // NaN when none is defined
			switch {
			case math.IsNaN(medCor[a]):
				reasons[a] = append(reasons[a], "correlation undefined (constant values)")
			case medCor[a] < MinMedianCor:
				reasons[a] = append(reasons[a], fmt.Sprintf("median correlation %s < %.2f", corText(medCor[a]), MinMedianCor))
			}
		}
	}

	if scores != nil {
		all := groupMembers(samples, groups)
		centres := make([][]float64, len(all))
		for k, g := range all {
			centres[k] = planeCentre(scores, g.members)
		}
		for k, g := range all {
			if len(g.members) < MinGroupSize {
				continue
			}
			// The distance a sample must exceed besides the robust z: half
			// the way to the nearest other group, or without another
			// group three times the typical distance and a tenth of the
			// plot's spread.
			floor := math.Inf(1)
			for h := range all {
				if h != k {
					floor = math.Min(floor, 0.5*euclid(centres[k], centres[h]))
				}
			}
			d := planeDistances(scores, g.members)
			med := kernels.Median(slices.Clone(d))
			dev := make([]float64, len(d))
			for i, v := range d {
				dev[i] = math.Abs(v - med)
			}
			spread := madScale * kernels.Median(dev)
			limit := med + MaxRobustZ*spread
			for i, a := range g.members {
				pcDist[a] = d[i]
				far := d[i] > floor
				if len(all) == 1 {
					far = d[i] > 3*med && d[i] > 0.1*planeSpread(scores)
				}
				if d[i] > limit && far && d[i] > 0 {
					z := math.Inf(1)
					if spread > 0 {
						z = (d[i] - med) / spread
					}
					reasons[a] = append(reasons[a], fmt.Sprintf("PC1/PC2 distance %s from %s median (robust z %s)",
						short(d[i]), groupText(g.name, groups == nil), short(z)))
				}
			}
		}
	}

	var out []Outlier
	for a := range samples {
		if len(reasons[a]) > 0 {
			out = append(out, Outlier{Sample: a, MedianCor: medCor[a], PCDistance: pcDist[a], Reasons: reasons[a]})
		}
	}
	return out
}

// planeSpread is √(var PC1 + var PC2) over all samples (PC1 alone with one
// column): the scale of the PC1/PC2 plot.
func planeSpread(scores [][]float64) float64 {
	if len(scores) < 2 {
		return 0
	}
	var total float64
	for c := 0; c < min(2, len(scores[0])); c++ {
		col := make([]float64, len(scores))
		for a := range scores {
			col[a] = scores[a][c]
		}
		total += RowVar(col)
	}
	return math.Sqrt(total)
}

type group struct {
	name    string
	members []int
}

// groupMembers lists the groups in order of first appearance.
func groupMembers(samples int, groups []string) []group {
	if groups == nil {
		all := make([]int, samples)
		for a := range all {
			all[a] = a
		}
		return []group{{members: all}}
	}
	var out []group
	at := map[string]int{}
	for a, name := range groups {
		k, ok := at[name]
		if !ok {
			k = len(out)
			at[name] = k
			out = append(out, group{name: name})
		}
		out[k].members = append(out[k].members, a)
	}
	return out
}

// planeCentre is the coordinate-wise median of the members' first two
// score columns (one when there is one).
func planeCentre(scores [][]float64, members []int) []float64 {
	dims := 2
	for _, a := range members {
		dims = min(dims, len(scores[a]))
	}
	centre := make([]float64, dims)
	col := make([]float64, len(members))
	for c := range dims {
		for i, a := range members {
			col[i] = scores[a][c]
		}
		centre[c] = kernels.Median(col)
	}
	return centre
}

// planeDistances returns each member's Euclidean distance from the members'
// planeCentre.
func planeDistances(scores [][]float64, members []int) []float64 {
	centre := planeCentre(scores, members)
	d := make([]float64, len(members))
	for i, a := range members {
		d[i] = euclid(scores[a][:len(centre)], centre)
	}
	return d
}

// euclid is the Euclidean distance between two points of the same length.
func euclid(x, y []float64) float64 {
	var s float64
	for c := range x {
		e := x[c] - y[c]
		s += e * e
	}
	return math.Sqrt(s)
}

func groupText(name string, single bool) string {
	if single {
		return "the all-sample"
	}
	return "group " + name
}

// corText shows a correlation with two decimals, or four when two would
// round it up to the threshold.
func corText(r float64) string {
	if s := fmt.Sprintf("%.2f", r); s != fmt.Sprintf("%.2f", MinMedianCor) {
		return s
	}
	return fmt.Sprintf("%.4f", r)
}

// short shows a number with about three significant digits.
func short(x float64) string {
	switch a := math.Abs(x); {
	case math.IsInf(x, 0) || math.IsNaN(x):
		return fmt.Sprint(x)
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 1:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.3g", x)
	}
}
