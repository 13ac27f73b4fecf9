package metadata

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/columnar"
)

// FuzzRead feeds the --meta reader: it may refuse a file with a one-line
// input error naming it, but must not crash; what it accepts must give, for
// every factor column and every sample row, the value of that row, or an
// input error naming the sample when the value is empty or NA.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		"sample\tcondition\tbatch\ns1\tA\t1\ns2\tB\t1\ns3\tA\t2\n",
		"\"sample\",\"tissue\",\"run\"\n\"b\",liver,1\n\"a\",kidney,2\nextra,x,3\n",
		"# comment\r\nid\tgroup\r\n\r\nx\tNA\r\ny\t\r\nz\tctl\r\n",
		"sample\n",
		"sample\tg\ns1\tA\ns1\tB\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "meta.tsv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tab, err := Read(path)
		if err != nil {
			checkInputError(t, path, err)
			return
		}
		if len(tab.Columns) == 0 {
			t.Fatal("a table without factor columns")
		}
		samples := make([]string, 0, len(tab.rows))
		for s, row := range tab.rows {
			if len(row) != len(tab.Columns) {
				t.Fatalf("sample %q has %d values for %d columns", s, len(row), len(tab.Columns))
			}
			samples = append(samples, s)
		}
		slices.Sort(samples)
		for _, name := range tab.Columns {
			vals, err := tab.Factor(name, samples)
			if err != nil {
				checkInputError(t, path, err)
				var ie *columnar.InputError
				if !errors.As(err, &ie) || ie.Sample == "" {
					t.Fatalf("column %q: error names no sample: %v", name, err)
				}
				if v := tab.value(ie.Sample, name); v != "" && v != "NA" {
					t.Fatalf("column %q, sample %q: refused the value %q", name, ie.Sample, v)
				}
				continue
			}
			if len(vals) != len(samples) {
				t.Fatalf("column %q: %d values for %d samples", name, len(vals), len(samples))
			}
			for j, s := range samples {
				if vals[j] == "" || vals[j] == "NA" {
					t.Fatalf("column %q, sample %q: missing value %q came through", name, s, vals[j])
				}
				if !slices.Contains(tab.values(s, name), vals[j]) {
					t.Fatalf("column %q, sample %q: %q is not in its row %q", name, s, vals[j], tab.rows[s])
				}
			}
		}
		absent := "absent"
		for tab.rows[absent] != nil {
			absent += "!"
		}
		if _, err := tab.Factor(tab.Columns[0], append(samples, absent)); err == nil {
			t.Fatal("a sample without a row was given a value")
		} else {
			checkInputError(t, path, err)
		}
	})
}

// values are sample's values in the columns called name (a header may
// repeat a name).
func (t *Table) values(sample, name string) []string {
	var out []string
	for k, c := range t.Columns {
		if c == name {
			out = append(out, t.rows[sample][k])
		}
	}
	return out
}

// value is the value that Factor reads: the last column called name.
func (t *Table) value(sample, name string) string {
	v := t.values(sample, name)
	return v[len(v)-1]
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

// TestEmptySampleID: a row with an empty sample id is refused on its line.
// FuzzRead found the row "\t1\t" read as sample "", whose missing value then
// gave an error that named no sample.
func TestEmptySampleID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.tsv")
	if err := os.WriteFile(path, []byte("sample\tcondition\tbatch\ns1\tA\t1\n\t1\t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ie *columnar.InputError
	if _, err := Read(path); !errors.As(err, &ie) || ie.Line != 3 || !strings.Contains(err.Error(), "empty sample id") {
		t.Errorf("got %v, want an input error on line 3", err)
	}
}
