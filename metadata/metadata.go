// Package metadata reads sample annotations: a TSV or CSV whose first column
// is the sample id and whose further columns are factors (tissue, batch,
// condition). Rows may come in any order and may list samples that the
// matrix does not have.
package metadata

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/colnorm/colnorm/columnar"
)

// Table is a sample annotation table.
type Table struct {
	Path    string
	Columns []string            // factor names, without the sample id column
	rows    map[string][]string // sample id -> one value per factor
}

// Read reads a metadata file. A row with an empty sample id, a repeated
// sample id or a number of fields other than the header's is an InputError
// naming the line.
func Read(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &columnar.InputError{File: path, Msg: "cannot open: " + columnar.ErrText(err)}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	t := &Table{Path: path, rows: map[string][]string{}}
	sep := ""
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if sep == "" {
			sep = "\t"
			if !strings.Contains(text, "\t") && strings.Contains(text, ",") {
				sep = ","
			}
		}
		fields := strings.Split(text, sep)
		for i := range fields {
			fields[i] = strings.Trim(strings.TrimSpace(fields[i]), `"`)
		}
		if t.Columns == nil {
			if len(fields) < 2 {
				return nil, &columnar.InputError{File: path, Line: line, Msg: "the header names no factor column after the sample id"}
			}
			t.Columns = fields[1:]
			continue
		}
		if len(fields) != len(t.Columns)+1 {
			return nil, &columnar.InputError{File: path, Line: line, Sample: fields[0],
				Msg: fmt.Sprintf("%d fields where the header has %d", len(fields), len(t.Columns)+1)}
		}
		if fields[0] == "" {
			return nil, &columnar.InputError{File: path, Line: line, Msg: "empty sample id"}
		}
		if _, dup := t.rows[fields[0]]; dup {
			return nil, &columnar.InputError{File: path, Line: line, Sample: fields[0], Msg: "duplicate sample id"}
		}
		t.rows[fields[0]] = fields[1:]
	}
	if err := sc.Err(); err != nil {
		return nil, &columnar.InputError{File: path, Msg: err.Error()}
	}
	if t.Columns == nil {
		return nil, &columnar.InputError{File: path, Msg: "empty metadata file"}
	}
	return t, nil
}

// Factor returns column name's value for each of samples, in order. A
// missing column, a sample without a row, or an empty or NA value is an
// InputError naming it.
func (t *Table) Factor(name string, samples []string) ([]string, error) {
	k := -1
	for i, c := range t.Columns {
		if c == name {
			k = i
		}
	}
	if k < 0 {
		return nil, &columnar.InputError{File: t.Path, Msg: fmt.Sprintf("no column %q (columns: %s)", name, strings.Join(t.Columns, ", "))}
	}
	out := make([]string, len(samples))
	for j, s := range samples {
		row, ok := t.rows[s]
		if !ok {
			return nil, &columnar.InputError{File: t.Path, Sample: s, Msg: "sample of the matrix has no metadata row"}
		}
		v := row[k]
		if v == "" || v == "NA" {
			return nil, &columnar.InputError{File: t.Path, Sample: s, Msg: fmt.Sprintf("no value in column %q", name)}
		}
		out[j] = v
	}
	return out, nil
}
