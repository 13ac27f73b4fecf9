package qc

import (
	"math"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/kernels"
)

// The references were written by ../shared/oracle/reference.R from the VST
// values in the same folder: prcomp(t(v[top, ])) of the 500 most variable
// genes, cor(v) and hclust(dist(t(v)), "complete")$order.
var refSets = []string{"marioni", "synth_a", "spike"}

// Tolerances: CONTRACT.md asks 1e-4 relative (PCA) and 1e-6 (correlation);
// these are what the code reaches, with some room.
const (
	tolScores  = 1e-10 // per component, relative to its largest |score|, up to sign
	tolVarFrac = 1e-12 // relative
	tolCor     = 1e-13 // absolute
)

// rowsOf returns the gene rows of a column-major matrix.
func rowsOf(cols [][]float64) [][]float64 {
	m, g := len(cols), len(cols[0])
	back := make([]float64, g*m)
	rows := make([][]float64, g)
	for i := range rows {
		rows[i] = back[i*m : (i+1)*m]
		for j := range m {
			rows[i][j] = cols[j][i]
		}
	}
	return rows
}

func TestReference(t *testing.T) {
	for _, set := range refSets {
		t.Run(set, func(t *testing.T) {
			ref := func(name string) string { return reftest.Path("reference", set, "ref", name) }
			vst := reftest.ReadMatrix(t, ref("vst.tsv.gz"))
			m := len(vst.Samples)
			rows := rowsOf(vst.Cols)

			// PCA of the 500 most variable genes.
			vars := make([]float64, len(rows))
			for i, r := range rows {
				vars[i] = RowVar(r)
			}
			idx := TopVariable(vars, DefaultTop)
			top := make([][]float64, len(idx))
			for i, g := range idx {
				top[i] = rows[g]
			}
			pca, err := PrincipalComponents(top)
			if err != nil {
				t.Fatal(err)
			}
			header, prow := reftest.Table(t, ref("pca.tsv.gz"))
			k := len(header) - 1
			if len(pca.VarFrac) != k || len(prow) != m {
				t.Fatalf("%d components for %d samples; reference has %d for %d", len(pca.VarFrac), m, k, len(prow))
			}
			for c := range k {
				want := make([]float64, m)
				for j, r := range prow {
					if r[0] != vst.Samples[j] {
						t.Fatalf("pca.tsv row %d is %s, want %s", j, r[0], vst.Samples[j])
					}
					want[j] = reftest.Num(t, r[c+1])
				}
				e := maxSignedErr(column(pca.Scores, c), want)
				t.Logf("PC%d scores: max error %.2e of the largest |score|", c+1, e)
				if e > tolScores {
					t.Errorf("PC%d scores: max error %.3g relative, want <= %g", c+1, e, tolScores)
				}
			}
			vf := reftest.Column(t, ref("pca_variance.tsv.gz"), "percent_var")
			var worstVF float64
			for c := range k {
				want := vf["PC"+string(rune('1'+c))]
				worstVF = max(worstVF, reftest.RelErr(pca.VarFrac[c], want))
			}
			t.Logf("variance fractions: max relative error %.2e", worstVF)
			if worstVF > tolVarFrac {
				t.Errorf("variance fractions: max relative error %.3g, want <= %g", worstVF, tolVarFrac)
			}

			// Correlations and distances, in blocks of 1000 genes.
			means := make([]float64, m)
			for j, col := range vst.Cols {
				means[j] = kernels.MeanR(col)
			}
			pw := NewPairwise(m, means, 2)
			block := make([]float64, 0, 1000*m)
			for start := 0; start < len(rows); start += 1000 {
				block = block[:0]
				end := min(start+1000, len(rows))
				for _, r := range rows[start:end] {
					block = append(block, r...)
				}
				pw.AddBlock(block, end-start)
			}
			cor := pw.Correlation()
			_, crow := reftest.Table(t, ref("sample_cor.tsv.gz"))
			var worstCor float64
			for a, r := range crow {
				for b := range m {
					if b == a && cor[a][b] != 1 {
						t.Errorf("cor[%d][%d] = %v, want exactly 1", a, a, cor[a][a])
					}
					worstCor = max(worstCor, math.Abs(cor[a][b]-reftest.Num(t, r[b+1])))
				}
			}
			t.Logf("correlation: max absolute error %.2e", worstCor)
			if worstCor > tolCor {
				t.Errorf("correlation: max absolute error %.3g, want <= %g", worstCor, tolCor)
			}

			_, _, order := HClustComplete(pw.Distances())
			_, orow := reftest.Table(t, ref("hclust_order.tsv.gz"))
			if len(order) != len(orow) {
				t.Fatalf("order has %d entries, reference %d", len(order), len(orow))
			}
			for p, r := range orow {
				if vst.Samples[order[p]-1] != r[1] {
					t.Fatalf("hclust order position %d is %s, reference %s", p+1, vst.Samples[order[p]-1], r[1])
				}
			}
			t.Logf("hclust order: identical (%d samples)", m)
		})
	}
}
