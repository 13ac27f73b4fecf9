package genelength

import (
	"bytes"
	"compress/gzip"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar"
)

const fuzzGTF = "#!genome-build test\n" +
	"chr1\tsrc\tgene\t100\t400\t.\t+\t.\tgene_id \"G1\"; gene_name \"A\";\n" +
	"chr1\tsrc\texon\t100\t199\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T1\";\n" +
	"chr1\tsrc\texon\t150\t249\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T2\";\n" +
	"chr1\tsrc\texon\t250\t259\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T2\";\n" +
	"chr1\tsrc\texon\t300\t400\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T1\";\n" +
	"chr2\tsrc\texon\t1\t1\t.\t-\t.\tgene_id \"G2\"; transcript_id \"T3\";\n" +
	"chr1\tHAVANA\texon\t248936422\t248956422\t.\t+\t.\tgene_id \"ENSG00000279457.4\"; transcript_id \"ENST1\"; exon_number 1;\n"

func fuzzGzip(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func fuzzWrite(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkInputError(t *testing.T, path string, err error) {
	t.Helper()
	if !errors.Is(err, columnar.ErrFormat) {
		t.Fatalf("not an input error: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("an input error names the file, on one line: %q", msg)
	}
}

// FuzzReadTable feeds the lengths table reader: refused with a one-line
// input error naming the file, or every length positive and finite.
func FuzzReadTable(f *testing.F) {
	for _, seed := range []string{
		"gene_id\tlength\ng1\t1000\ng2\t250\n",
		"\"gene\",\"len\"\r\n\"g1\",1e3\r\ng2,2.5\r\n",
		"g1\t10\ng2\t20\n",
		"gene_id\tlength\ng1\t-5\n",
		"# c\n\ngene\tlength\tx\ng1\t0x10\t1\n",
	} {
		f.Add([]byte(seed))
		f.Add(fuzzGzip([]byte(seed)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzWrite(t, "lengths.tsv", data)
		lengths, err := ReadTable(path)
		if err != nil {
			checkInputError(t, path, err)
			return
		}
		for id, l := range lengths {
			if !(l > 0) || math.IsInf(l, 0) {
				t.Fatalf("gene %q: length %v", id, l)
			}
		}
	})
}

// FuzzReadGTF feeds the GTF reader: refused with a one-line input error
// naming the file, or every length a whole number of bases from 1 to 2^53;
// and since a length is the size of a union of exons, the file read twice
// over (every exon repeated) gives the same lengths.
func FuzzReadGTF(f *testing.F) {
	f.Add([]byte(fuzzGTF))
	f.Add(fuzzGzip([]byte(fuzzGTF)))
	f.Add([]byte("chr1\tsrc\texon\t5\t4\t.\t+\t.\tgene_id \"G1\";\n"))
	f.Add([]byte("chr1\tsrc\texon\t1\t10\t.\t+\t.\ttranscript_id \"T\";\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzWrite(t, "genes.gtf", data)
		lengths, err := ReadGTF(path)
		if err != nil {
			checkInputError(t, path, err)
			return
		}
		for id, l := range lengths {
			if !(l >= 1 && l <= 1<<53 && l == math.Trunc(l)) {
				t.Fatalf("gene %q: length %v", id, l)
			}
		}
		if len(data) > 1<<16 || len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			return
		}
		twice := slices.Concat(bytes.TrimRight(data, "\n"), []byte("\n"), data)
		again, err := ReadGTF(fuzzWrite(t, "twice.gtf", twice))
		if err != nil {
			t.Fatalf("the file read twice over: %v", err)
		}
		if !maps.Equal(lengths, again) {
			t.Fatalf("lengths %v, with every exon repeated %v", lengths, again)
		}
	})
}

// TestGTFCoordinatesInRange: coordinates are 1-based and bounded, so that a
// length can neither overflow nor be zero. Before, an exon from -2^63 to
// 2^63-1 gave a length of 0 (end-start+1 overflowed), and -5..-1 a length
// of 5; the FuzzReadGTF property (lengths from 1 to 2^53) fails on both.
func TestGTFCoordinatesInRange(t *testing.T) {
	for _, span := range []string{"-9223372036854775808\t9223372036854775807", "-5\t-1", "0\t0", "1\t9007199254740993"} {
		path := fuzzWrite(t, "g.gtf", []byte("chr1\ts\texon\t"+span+"\t.\t+\t.\tgene_id \"G\";\n"))
		var ie *columnar.InputError
		if l, err := ReadGTF(path); !errors.As(err, &ie) || ie.Line != 1 {
			t.Errorf("exon %s: got %v, %v; want an input error on line 1", span, l, err)
		}
	}
	path := fuzzWrite(t, "g.gtf", []byte("chr1\ts\texon\t1\t9007199254740992\t.\t+\t.\tgene_id \"G\";\n"))
	if l, err := ReadGTF(path); err != nil || l["G"] != 1<<53 {
		t.Errorf("exon 1..2^53: got %v, %v", l, err)
	}
}
