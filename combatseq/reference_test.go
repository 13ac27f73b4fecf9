package combatseq

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
	"github.com/colnorm/colnorm/metadata"
	"github.com/colnorm/colnorm/pass"
)

// conformance reads a reference folder's conformance.json: which metadata
// columns are the batch and the group.
func conformance(t *testing.T, name string) (batch, group string) {
	t.Helper()
	var c struct{ Batch, Group string }
	if err := json.Unmarshal([]byte(reftest.ReadFile(t, reftest.Path("reference", name, "conformance.json"))), &c); err != nil {
		t.Fatal(err)
	}
	return c.Batch, c.Group
}

// agreement counts the values equal to the reference's and the largest
// difference.
func agreement(t *testing.T, m *reftest.Matrix, got [][]float64, refPath string) (equal, total int, worst float64) {
	t.Helper()
	want := reftest.ReadMatrix(t, refPath)
	row := map[string]int{}
	for i, g := range m.Genes {
		row[g] = i
	}
	col := map[string]int{}
	for j, s := range m.Samples {
		col[s] = j
	}
	for jw, s := range want.Samples {
		j, ok := col[s]
		if !ok {
			t.Fatalf("reference sample %s is not in the matrix", s)
		}
		for iw, g := range want.Genes {
			i, ok := row[g]
			if !ok {
				t.Fatalf("reference gene %s is not in the matrix", g)
			}
			v, w := got[j][i], want.Cols[jw][iw]
			total++
			if v == w {
				equal++
			}
			worst = math.Max(worst, math.Abs(v-w))
		}
	}
	return equal, total, worst
}

func runReference(t *testing.T, name string, opts Options) (*reftest.Matrix, [][]float64, *Result) {
	t.Helper()
	batchCol, groupCol := conformance(t, name)
	m := reftest.ReadMatrix(t, reftest.Path("reference", name, "counts.tsv"))
	meta, err := metadata.Read(reftest.Path("reference", name, "meta.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := meta.Factor(batchCol, m.Samples)
	if err != nil {
		t.Fatal(err)
	}
	var group []string
	if groupCol != "" {
		if group, err = meta.Factor(groupCol, m.Samples); err != nil {
			t.Fatal(err)
		}
	}
	d, err := NewDesign(batch, group)
	if err != nil {
		t.Fatal(err)
	}
	sink := reftest.NewCollect(len(m.Samples))
	res, err := Adjust(reftest.Background, m.Source(name), d, sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, sink.Cols, res
}

// TestReferenceCombatSeq compares with sva's ComBat_seq(counts, batch, group)
// on the reference sets (testdata/reference/*/ref/combat_seq.tsv.gz): the
// contract asks for at least 99.9% of the values equal and none off by more
// than 1.
func TestReferenceCombatSeq(t *testing.T) {
	for _, name := range []string{"marioni", "spike"} {
		t.Run(name, func(t *testing.T) {
			m, got, res := runReference(t, name, Options{})
			equal, total, worst := agreement(t, m, got, reftest.Path("reference", name, "ref", "combat_seq.tsv.gz"))
			t.Logf("%s: %d of %d values equal to sva's (%.4f%%), largest difference %g; %d genes held out, common dispersions %v, tagwise %v, Levenberg %v",
				name, equal, total, 100*float64(equal)/float64(total), worst, res.HeldOut, res.Common, res.Tagwise, res.Levenberg)
			if float64(equal) < 0.999*float64(total) || worst > 1 {
				t.Errorf("%s: %d of %d equal, largest difference %g", name, equal, total, worst)
			}
		})
	}
}

// TestCasesCombatSeq compares with sva on the layouts of
// testdata/oracle/combatseq_cases.R: null models with 2 and 3 batches,
// crossed batch x group (Levenberg-Marquardt), a group absent from a batch
// and a batch with no more samples than groups (common dispersion only), a
// nested layout (a one-way full model), 3 x 3 crossed, and numeric labels.
// Each has genes all zero in a batch and genes with totals below 5.
func TestCasesCombatSeq(t *testing.T) {
	for _, name := range []string{"null2", "null3", "crossed", "absent", "small", "nested", "three3", "numeric"} {
		t.Run(name, func(t *testing.T) {
			m := reftest.ReadMatrix(t, reftest.Path("oracle", "combatseq_"+name+"_counts.tsv"))
			meta, err := metadata.Read(reftest.Path("oracle", "combatseq_"+name+"_meta.tsv"))
			if err != nil {
				t.Fatal(err)
			}
			batch, _ := meta.Factor("batch", m.Samples)
			group, _ := meta.Factor("group", m.Samples)
			if group[0] == "none" {
				group = nil
			}
			d, err := NewDesign(batch, group)
			if err != nil {
				t.Fatal(err)
			}
			sink := reftest.NewCollect(len(m.Samples))
			res, err := Adjust(reftest.Background, m.Source(name), d, sink, Options{})
			if err != nil {
				t.Fatal(err)
			}
			equal, total, worst := agreement(t, m, sink.Cols, reftest.Path("oracle", "combatseq_"+name+"_ref.tsv"))
			t.Logf("%s: %d of %d equal, largest difference %g (held out %d, tagwise %v, Levenberg %v)", name, equal, total, worst, res.HeldOut, res.Tagwise, res.Levenberg)
			if float64(equal) < 0.999*float64(total) || worst > 1 {
				t.Errorf("%s: %d of %d equal, largest difference %g", name, equal, total, worst)
			}
		})
	}
}

// TestBlocksAndThreads: spilling the input and the output to temporary
// files in small gene blocks, and any number of threads, give the same
// counts as one block in memory.
func TestBlocksAndThreads(t *testing.T) {
	_, want, _ := runReference(t, "marioni", Options{Pass: pass.Options{Threads: 1}})
	for _, opts := range []Options{
		{Pass: pass.Options{Threads: 3}, MemoryBudget: 100 << 10, TempDir: t.TempDir()},
		{Pass: pass.Options{Threads: 2}, MemoryBudget: 1 << 20, TempDir: t.TempDir()},
	} {
		_, got, _ := runReference(t, "marioni", opts)
		for j := range want {
			for i := range want[j] {
				if got[j][i] != want[j][i] {
					t.Fatalf("budget %d, threads %d: gene %d sample %d: %v, one block %v", opts.MemoryBudget, opts.Pass.Threads, i, j, got[j][i], want[j][i])
				}
			}
		}
	}
}
