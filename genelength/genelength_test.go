package genelength

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/colnorm/colnorm/columnar"
)

func TestGTFUnionOfExons(t *testing.T) {
	gtf := "#!genome-build test\n" +
		"chr1\tsrc\tgene\t100\t400\t.\t+\t.\tgene_id \"G1\"; gene_name \"A\";\n" +
		"chr1\tsrc\texon\t100\t199\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T1\";\n" +
		"chr1\tsrc\texon\t150\t249\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T2\";\n" + // overlaps: union 100..249 = 150
		"chr1\tsrc\texon\t250\t259\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T2\";\n" + // adjacent: 10 more
		"chr1\tsrc\texon\t300\t400\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T1\";\n" + // separate: 101
		"chr2\tsrc\texon\t1\t1\t.\t-\t.\tgene_id \"G2\"; transcript_id \"T3\";\n"
	p := filepath.Join(t.TempDir(), "a.gtf")
	os.WriteFile(p, []byte(gtf), 0o644)
	got, err := ReadGTF(p)
	if err != nil {
		t.Fatal(err)
	}
	if got["G1"] != 261 || got["G2"] != 1 || len(got) != 2 {
		t.Errorf("lengths = %v, want G1 261, G2 1", got)
	}
}

func TestTableAndAlign(t *testing.T) {
	p := filepath.Join(t.TempDir(), "len.tsv")
	os.WriteFile(p, []byte("gene_id\tlength\ng1\t1000\ng2\t250\n"), 0o644)
	m, err := ReadTable(p)
	if err != nil {
		t.Fatal(err)
	}
	src := columnar.NewMemory("c.tsv", []string{"g2", "g1"}, []string{"s"}, [][]float64{{1, 2}})
	l, err := Align(src, m, p)
	if err != nil || l[0] != 250 || l[1] != 1000 {
		t.Fatalf("Align = %v, %v", l, err)
	}
	src = columnar.NewMemory("c.tsv", []string{"g3"}, []string{"s"}, [][]float64{{1}})
	var ie *columnar.InputError
	if _, err := Align(src, m, p); !errors.As(err, &ie) || ie.Gene != "g3" {
		t.Errorf("missing length: %v", err)
	}
	os.WriteFile(p, []byte("gene_id\tlength\ng1\t-5\n"), 0o644)
	if _, err := ReadTable(p); !errors.As(err, &ie) || ie.Gene != "g1" {
		t.Errorf("negative length: %v", err)
	}
}
