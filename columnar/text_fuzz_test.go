package columnar

import (
	"testing"
)

// FuzzText feeds the text reader (TSV, CSV, featureCounts, GCT, gzip and
// zstd compressed, wide or with samples as rows). It may refuse an input,
// with a one-line input error naming the file, but must not crash, hang or
// make up values; what it accepts must survive a write and a read unchanged.
func FuzzText(f *testing.F) {
	for _, seed := range []string{
		plainTSV,
		"gene_id,s1,s2\ng1,10,0\ng2,3.5,NA\n",
		"\"gene id\",\"s,1\",s2\r\n\"g\"\"1\",1,2\r\ng2,,4\r\n",
		"# Program:featureCounts v2.0.1\nGeneid\tChr\tStart\tEnd\tStrand\tLength\ta.bam\tb.bam\n" +
			"G1\tchr1;chr1\t11869;12613\t12227;12721\t+;+\t468\t5\t0\nG2\tchr1\t14404\t29570\t-\t1500\t12\t7\n",
		"#1.2\n2\t2\nName\tDescription\ts1\ts2\ng1\tna\t1\t2\ng2\tna\t3\t4\n",
		"sample\tg1\tg2\tg3\ns1\t1\t2\t3\ns2\t4\t5\t6\n",
		"gene\ts1\ng1\t1e-3\ng2\tInf\ng3\tNaN\ng4\t-0\ng5\t123456789012345678\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Add(gz([]byte(plainTSV)), false)
	f.Add(zst([]byte(plainTSV)), false)
	f.Fuzz(func(t *testing.T, data []byte, samplesAsRows bool) {
		path := fuzzWriteInput(t, "in.tsv", data)
		m := fuzzOpenAndRead(t, path, len(data), Options{SamplesAsRows: samplesAsRows, TempDir: t.TempDir(), SpillBudget: 1 << 12})
		out := "rt.tsv"
		if len(data)%2 == 1 {
			out = "rt.csv.gz"
		}
		fuzzRoundTrip(t, m, out, SinkOptions{}, Options{SpillBudget: 1 << 12})
	})
}
