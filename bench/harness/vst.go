package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/colnorm/colnorm/bench"
)

// qcName is the table's name of the colnorm qc row of -method vst.
const qcName = "colnorm qc"

// vstMatrix is where colnorm writes the VST matrix of a run whose table of
// column means is out.
func vstMatrix(out string) string {
	return strings.TrimSuffix(out, ".tsv") + ".parquet"
}

// qcDir is the folder colnorm qc writes to in a run whose table would be out.
func qcDir(out string) string {
	return strings.TrimSuffix(out, ".tsv") + "-qc"
}

// colMeans writes the per-sample means of the wide Parquet matrix in to out
// (columns sample, vst_mean) through the DuckDB worker, a child process so
// that DuckDB's memory stays out of the harness.
func colMeans(ctx context.Context, self, in, out string) error {
	cmd := exec.CommandContext(ctx, self, "-worker", "colmeans", "-input", in, "-o", out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("column means of %s: %v: %s", in, err, lastLine(stderr.String()))
	}
	return nil
}

// vstQC is the colnorm qc tool of -method vst, or a tool that says why it
// does not run when the colnorm binary has no qc command.
func vstQC(ctx context.Context, colnorm string, threads func([]string) []string) tool {
	t := tool{name: qcName, kind: bench.WideParquet, noTable: true}
	help, err := exec.CommandContext(ctx, colnorm, "--help").CombinedOutput()
	if err != nil {
		t.why = fmt.Sprintf("skipped: %s --help failed (%v)", filepath.Base(colnorm), err)
		return t
	}
	if !slices.Contains(parseCommands(string(help)), "qc") {
		t.why = "skipped: this colnorm binary has no qc command (not in its --help)"
		return t
	}
	t.cmd = func(in, out string) *exec.Cmd {
		return exec.Command(colnorm, threads([]string{"qc", "--nsub", "1000", "--quiet", in, "-o", qcDir(out)})...)
	}
	t.post = func(out string) (map[string]string, error) {
		pv, err := readKeyed(filepath.Join(qcDir(out), "pca_variance.tsv"), "pc", "percent_var")
		if err != nil {
			return nil, err
		}
		notes := map[string]string{}
		for i, pc := range []string{"PC1", "PC2"} {
			v, ok := pv[pc]
			if !ok {
				return nil, fmt.Errorf("colnorm qc: no %s in pca_variance.tsv", pc)
			}
			notes[fmt.Sprintf("pc%d_var", i+1)] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		return notes, nil
	}
	return t
}

// parseCommands returns the command names of a urfave/cli help text: the
// first word of each line of its COMMANDS: section ("help, h" gives help).
func parseCommands(help string) []string {
	var names []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "COMMANDS:"):
			in = true
			continue
		case !in:
			continue
		case trimmed == "":
			if len(names) > 0 {
				return names
			}
			continue
		case !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t"):
			return names // the next section
		}
		if f := strings.Fields(trimmed); len(f) > 0 {
			names = append(names, strings.TrimSuffix(f[0], ","))
		}
	}
	return names
}

// comparePCA sets, on each result of one size of -method vst that printed
// the PCA's variance fractions (R), the largest absolute difference of PC1's
// and PC2's from colnorm qc's.
func comparePCA(size []*result) {
	var qc *result
	for _, r := range size {
		if r.tool == qcName && r.note("pc1_var") != "" {
			qc = r
		}
	}
	if qc == nil {
		return
	}
	for _, r := range size {
		if r == qc || r.note("pc1_var") == "" {
			continue
		}
		d, err := pcaDiff(r.note("pc1_var"), r.note("pc2_var"), qc.note("pc1_var"), qc.note("pc2_var"))
		if err != nil {
			if r.err == nil {
				r.err = err
			}
			continue
		}
		r.pcaDiff, r.hasPCA = d, true
	}
}

// pcaDiff is max(|a1 - b1|, |a2 - b2|) of four decimal numbers.
func pcaDiff(a1, a2, b1, b2 string) (float64, error) {
	var v [4]float64
	for i, s := range []string{a1, a2, b1, b2} {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("PCA variance fraction: %v", err)
		}
		v[i] = x
	}
	return max(math.Abs(v[0]-v[2]), math.Abs(v[1]-v[3])), nil
}

// runColMeansWorker writes the mean of each floating-point column of the
// Parquet file input to out (TSV: sample, vst_mean), computed by DuckDB's
// favg (Kahan summation), in the columns' order.
func runColMeansWorker(input, out string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	from := duckdbFrom(input, "long") // read_parquet('input')
	rows, err := db.Query("DESCRIBE SELECT * FROM " + from)
	if err != nil {
		return err
	}
	var samples []string
	for rows.Next() {
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return err
		}
		name, typ := fmt.Sprint(vals[0]), fmt.Sprint(vals[1])
		if typ == "DOUBLE" || typ == "FLOAT" {
			samples = append(samples, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if len(samples) == 0 {
		return fmt.Errorf("%s: no floating-point columns", input)
	}
	exprs := make([]string, len(samples))
	for i, s := range samples {
		exprs[i] = "favg(" + quoteIdent(s) + ")"
	}
	means := make([]float64, len(samples))
	ptrs := make([]any, len(samples))
	for i := range means {
		ptrs[i] = &means[i]
	}
	if err := db.QueryRow("SELECT " + strings.Join(exprs, ", ") + " FROM " + from).Scan(ptrs...); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("sample\tvst_mean\n")
	for i, s := range samples {
		w.WriteString(s + "\t" + strconv.FormatFloat(means[i], 'g', -1, 64) + "\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// quoteIdent quotes a column name for DuckDB SQL.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
