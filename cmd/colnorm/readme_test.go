package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock is a fenced block of README.md marked with <!-- readme-test -->.
type readmeBlock struct {
	lang string // sh, sql or text
	line int    // of the opening fence
	text string
}

// readmeBlocks returns the marked blocks of the README at path, in order.
func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []readmeBlock
		marked  bool
		current *readmeBlock
		body    []string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case current != nil && l == "```":
			current.text = strings.Join(body, "\n")
			blocks = append(blocks, *current)
			current, body = nil, nil
		case current != nil:
			body = append(body, l)
		case marked && strings.HasPrefix(l, "```"):
			current, marked = &readmeBlock{lang: strings.TrimPrefix(l, "```"), line: n}, false
		case strings.TrimSpace(l) == "<!-- readme-test -->":
			marked = true
		case marked && strings.TrimSpace(l) != "":
			t.Fatalf("README.md:%d: the readme-test marker is not followed by a block", n)
		}
	}
	if current != nil {
		t.Fatalf("README.md:%d: the block does not end", current.line)
	}
	return blocks
}

// commandLines splits a shell block into its commands: comments and blank
// lines out, lines ending in \ joined to the next.
func commandLines(block string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(block, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		out = append(out, cur+l)
		cur = ""
	}
	return out
}

// namedOutputs returns what a command line names as its outputs: the words
// after -o, --output and >.
func namedOutputs(cmd string) []string {
	var out []string
	w := strings.Fields(cmd)
	for i := 0; i+1 < len(w); i++ {
		switch w[i] {
		case "-o", "--output", ">":
			if w[i+1] != "-" {
				out = append(out, w[i+1])
			}
		}
	}
	return out
}

// readmeSQL runs a query in dir and compares its rows with want; set by
// readme_duckdb_test.go where cgo (and so DuckDB) is available.
var readmeSQL func(t *testing.T, dir, query, want string)

// The README's task examples run as they are written: every command with
// the built binary, in a folder holding the example files, exits 0 and
// writes the outputs it names; the SQL gives the results shown.
func TestREADMEExamples(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, filepath.Join(root, "README.md"))
	count := map[string]int{}
	for _, b := range blocks {
		count[b.lang]++
	}
	if count["sh"] < 4 || count["sql"] < 1 || count["sql"] != count["text"] || len(blocks) != count["sh"]+count["sql"]+count["text"] {
		t.Fatalf("README.md's marked blocks: %v", count)
	}
	bin := buildColnorm(t)
	dir := t.TempDir()
	path := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	for k, b := range blocks {
		switch b.lang {
		case "sh":
			for _, cmd := range commandLines(b.text) {
				for _, w := range strings.Fields(cmd) {
					if strings.HasPrefix(w, "testdata/") {
						copyFile(t, filepath.Join(root, w), filepath.Join(dir, w))
					}
				}
				c := exec.Command("bash", "-c", "set -o pipefail; "+cmd)
				c.Dir = dir
				c.Env = append(os.Environ(), "PATH="+path)
				if out, err := c.CombinedOutput(); err != nil {
					t.Fatalf("README.md:%d: %s: %v\n%s", b.line, cmd, err, out)
				}
				for _, o := range namedOutputs(cmd) {
					checkOutput(t, b.line, filepath.Join(dir, o))
				}
			}
		case "sql":
			if readmeSQL == nil {
				t.Logf("README.md:%d: no cgo, so no DuckDB: the SQL is not run", b.line)
				continue
			}
			readmeSQL(t, dir, b.text, blocks[k+1].text)
		case "text":
			if k == 0 || blocks[k-1].lang != "sql" {
				t.Errorf("README.md:%d: a result block that follows no SQL", b.line)
			}
		default:
			t.Errorf("README.md:%d: marked block of unknown kind %q", b.line, b.lang)
		}
	}
}

// checkOutput fails unless path is a non-empty file, or for a path ending
// in / a folder with files in it.
func checkOutput(t *testing.T, line int, path string) {
	t.Helper()
	st, err := os.Stat(path)
	switch {
	case err != nil:
		t.Errorf("README.md:%d: no output %s: %v", line, path, err)
	case st.IsDir():
		if entries, err := os.ReadDir(path); err != nil || len(entries) == 0 {
			t.Errorf("README.md:%d: output folder %s is empty", line, path)
		}
	case st.Size() == 0:
		t.Errorf("README.md:%d: output %s is empty", line, path)
	}
}

// copyFile copies src to dst, making dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("an example file: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
