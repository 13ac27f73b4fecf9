package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/colnorm/colnorm/bench"
	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/internal/reftest"
)

// colnormProcess runs colnorm as a separate process.
func colnormProcess(args ...string) (int, string) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Args[0] = "colnorm"
	cmd.Env = append(os.Environ(), "COLNORM_TEST_AS_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), stderr.String()
		}
		return -1, err.Error()
	}
	return 0, stderr.String()
}

// shardedRun runs cmd's passes over n shards as concurrent processes, the
// merges, and the write (or the table) as a user would, and returns the
// folder of parts and the model.
func shardedRun(t *testing.T, dir string, n int, in string, cmd []string) (parts, model string) {
	t.Helper()
	var modelArgs []string
	for k := 1; ; k++ {
		var wg sync.WaitGroup
		errs := make([]string, n)
		var states []string
		for i := 1; i <= n; i++ {
			state := filepath.Join(dir, fmt.Sprintf("pass%d-shard%d.state", k, i))
			states = append(states, state)
			args := append(append(append([]string{}, cmd...), modelArgs...), "--shard", fmt.Sprintf("%d/%d", i, n), "--state-out", state, "-q", in)
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if code, stderr := colnormProcess(args...); code != 0 {
					errs[i-1] = fmt.Sprintf("%v: exit %d: %s", args, code, stderr)
				}
			}(i)
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Fatal(e)
			}
		}
		model = filepath.Join(dir, fmt.Sprintf("model%d.json", k))
		margs := append(append([]string{"merge"}, modelArgs...), append([]string{"-o", model}, states...)...)
		code, stderr := colnormProcess(margs...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", margs, code, stderr)
		}
		modelArgs = []string{"--model", model}
		if strings.Contains(stderr, "(final") {
			break
		}
		if k > 5 {
			t.Fatalf("no final model after %d passes: %s", k, stderr)
		}
	}
	if cmd[0] == "size-factors" {
		return "", model
	}
	parts = filepath.Join(dir, "parts")
	os.MkdirAll(parts, 0o755)
	for i := 1; i <= n; i++ {
		args := append(append(append([]string{}, cmd...), modelArgs...), "--shard", fmt.Sprintf("%d/%d", i, n), "-q", in, "-o", parts)
		if code, stderr := colnormProcess(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	return parts, model
}

func TestShardedRunsEqualOneRun(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.parquet")
	if err := bench.Write(context.Background(), bench.New(bench.Params{Genes: 3000, Samples: 61, Seed: 7}), gen, columnar.SinkOptions{}); err != nil {
		t.Fatal(err)
	}
	meta := reftest.Path("reference", "marioni", "meta.tsv")
	// A folder input: marioni's 10 samples as 3 Parquet files (a sharded
	// threshold filter that keeps every gene copies them).
	copyDir := filepath.Join(dir, "copy")
	os.MkdirAll(copyDir, 0o755)
	copyParts, _ := shardedRun(t, copyDir, 3, marioni, []string{"filter", "--min-count", "0", "--min-samples", "1"})
	folder := filepath.Join(dir, "marioni-parts")
	if err := os.Rename(copyParts, folder); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		n    int
		cmd  []string
		same []string // the single run
	}{
		{marioni, 3, []string{"normalize", "--method", "ratio"}, nil},
		{gen, 5, []string{"normalize", "--method", "ratio", "--log"}, nil},
		{gen, 4, []string{"normalize", "--method", "poscounts"}, nil},
		{folder, 3, []string{"normalize", "--method", "tmm"}, nil},
		{gen, 7, []string{"normalize", "--method", "tmm", "--log", "--prior-count", "3"}, nil},
		{marioni, 2, []string{"normalize", "--method", "tmmwsp"}, nil},
		{gen, 3, []string{"normalize", "--method", "tmm", "--ref-sample", "S0007", "--logratio-trim", "0.2"}, nil},
		{folder, 3, []string{"normalize", "--method", "rle"}, nil},
		{gen, 3, []string{"normalize", "--method", "upperquartile"}, nil},
		{gen, 6, []string{"normalize", "--method", "cpm", "--log"}, nil},
		{gen, 5, []string{"size-factors", "--method", "ratio"}, nil},
		{folder, 3, []string{"size-factors", "--method", "tmm"}, nil},
		{gen, 4, []string{"size-factors", "--method", "rle"}, nil},
		{marioni, 4, []string{"filter", "--by-expr", "--meta", meta, "--group", "tissue"}, nil},
		{gen, 5, []string{"filter", "--by-expr"}, nil},
		{gen, 3, []string{"filter", "--min-count", "20", "--min-cpm", "5", "--min-samples", "10"}, nil},
	}
	for k, c := range cases {
		name := fmt.Sprintf("%d-%s-%s", k, filepath.Base(c.in), strings.Join(c.cmd, " "))
		t.Run(name, func(t *testing.T) {
			work := filepath.Join(dir, fmt.Sprint(k))
			os.MkdirAll(work, 0o755)
			parts, model := shardedRun(t, work, c.n, c.in, c.cmd)
			if c.cmd[0] == "size-factors" {
				code, want, stderr := colnorm(t, append(append([]string{}, c.cmd...), "-q", c.in)...)
				if code != 0 {
					t.Fatalf("single run: exit %d: %s", code, stderr)
				}
				code, got, stderr := colnorm(t, "size-factors", "--model", model)
				if code != 0 {
					t.Fatalf("table: exit %d: %s", code, stderr)
				}
				if got != want {
					t.Fatalf("sharded table differs from the single run:\n%s\nwant\n%s", got, want)
				}
				return
			}
			single := filepath.Join(work, "single.tsv")
			if code, _, stderr := colnorm(t, append(append([]string{}, c.cmd...), "-q", c.in, "-o", single)...); code != 0 {
				t.Fatalf("single run: exit %d: %s", code, stderr)
			}
			joined := filepath.Join(work, "sharded.tsv")
			if code, _, stderr := colnorm(t, "convert", "-q", parts, joined); code != 0 {
				t.Fatalf("convert: exit %d: %s", code, stderr)
			}
			a, _ := os.ReadFile(single)
			b, _ := os.ReadFile(joined)
			if len(a) < 100 || !bytes.Equal(a, b) {
				t.Fatalf("sharded output (%d bytes) differs from the single run (%d bytes)", len(b), len(a))
			}
			entries, _ := os.ReadDir(parts)
			if len(entries) != c.n {
				t.Fatalf("%d parts, want %d", len(entries), c.n)
			}
		})
	}
}

// TestMergeRefusesBadShards: missing, repeated and foreign shards, a state of
// another pass's model, and a model that is not final.
func TestMergeRefusesBadShards(t *testing.T) {
	dir := t.TempDir()
	pass1 := func(name, method, shard string, extra ...string) string {
		p := filepath.Join(dir, name)
		args := append([]string{"normalize", "--method", method, "--shard", shard, "--state-out", p, "-q"}, extra...)
		if code, _, stderr := colnorm(t, append(args, marioni)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return p
	}
	s1, s2, s3 := pass1("a1", "ratio", "1/3"), pass1("a2", "ratio", "2/3"), pass1("a3", "ratio", "3/3")
	spike := reftest.Path("reference", "spike", "counts.tsv")
	pass1other := func(name, shard string) string {
		p := filepath.Join(dir, name)
		if code, _, stderr := colnorm(t, "normalize", "--shard", shard, "--state-out", p, "-q", spike); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return p
	}
	model := filepath.Join(dir, "model.json")
	for _, c := range []struct {
		states []string
		want   string
	}{
		{[]string{s1, s3}, "shard 2 of 3 missing"},
		{[]string{s1, s2, s2, s3}, "shard 2 of 3 is given twice"},
		{[]string{s1, s2, pass1("t3", "tmm", "3/3")}, "foreign shard: it has method tmm rather ratio"},
		{[]string{s1, s2, pass1other("o3", "3/3")}, "foreign shard"},
		{[]string{s1, s2, pass1("f3", "ratio", "3/4")}, "foreign shard: it has 4 shards rather 3"},
	} {
		code, _, stderr := colnorm(t, append([]string{"merge", "-o", model}, c.states...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("merge %v: exit %d, %q; want exit 2 and %q", c.states, code, stderr, c.want)
		}
		if _, err := os.Stat(model); err == nil {
			t.Fatalf("a refused merge left %s", model)
		}
	}
	if code, _, stderr := colnorm(t, "merge", "-q", "-o", model, s3, s1, s2); code != 0 {
		t.Fatalf("merge in any order: exit %d: %s", code, stderr)
	}
	// the model is not final: no output yet
	code, _, stderr := colnorm(t, "normalize", "--model", model, "--shard", "1/3", marioni, "-o", filepath.Join(dir, "out.parquet"))
	if code != 2 || !strings.Contains(stderr, "after pass 1 of 2") {
		t.Errorf("write with a pass-1 model: exit %d, %q", code, stderr)
	}
	// pass 2 with the model over another input
	code, _, stderr = colnorm(t, "normalize", "--model", model, "--shard", "1/3", "--state-out", filepath.Join(dir, "x"), spike)
	if code != 2 || !strings.Contains(stderr, "not the input of the model") {
		t.Errorf("pass 2 over another input: exit %d, %q", code, stderr)
	}
	// a pass-2 state made with another model
	model2 := filepath.Join(dir, "model-b.json")
	if code, _, stderr := colnorm(t, "merge", "-q", "-o", model2, s1, s2, s3); code != 0 {
		t.Fatal(stderr)
	}
	os.WriteFile(model2, append(mustRead(os.ReadFile(model2)), ' '), 0o644) // same content, other digest
	var p2 []string
	for i := 1; i <= 3; i++ {
		p := filepath.Join(dir, fmt.Sprintf("p2-%d", i))
		m := model
		if i == 2 {
			m = model2
		}
		if code, _, stderr := colnorm(t, "normalize", "--model", m, "--shard", fmt.Sprintf("%d/3", i), "--state-out", p, "-q", marioni); code != 0 {
			t.Fatal(stderr)
		}
		p2 = append(p2, p)
	}
	code, _, stderr = colnorm(t, append([]string{"merge", "--model", model, "-o", filepath.Join(dir, "m2")}, p2...)...)
	if code != 2 || !strings.Contains(stderr, "made with another model") {
		t.Errorf("merge of a state of another model: exit %d, %q", code, stderr)
	}
	code, _, stderr = colnorm(t, append([]string{"merge", "-o", filepath.Join(dir, "m2")}, p2...)...)
	if code != 2 || !strings.Contains(stderr, "needs --model") {
		t.Errorf("merge of pass 2 without the model: exit %d, %q", code, stderr)
	}
}

func mustRead(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
