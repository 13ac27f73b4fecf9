package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEStartsWithDemoAndTests: README.md's first block of code is the
// two commands a newcomer runs first, the demo and the tests, and CI
// (.ci/run) runs the same test command.
func TestREADMEStartsWithDemoAndTests(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	// The title, a blank line, then the block.
	if len(lines) < 6 || !strings.HasPrefix(lines[0], "# ") || strings.TrimSpace(lines[1]) != "" || lines[2] != "```sh" {
		t.Fatalf("README.md does not open with its title and a sh block: %q", lines[:min(len(lines), 4)])
	}
	var cmds []string
	for _, l := range lines[3:] {
		if l == "```" {
			break
		}
		cmd, _, _ := strings.Cut(l, "#")
		cmds = append(cmds, strings.TrimSpace(cmd))
	}
	if len(cmds) != 2 || cmds[0] != "go run ./cmd/colnorm demo" || cmds[1] != "go test ./..." {
		t.Errorf("README.md's first block is %q, want the demo and the tests", cmds)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range strings.Split(string(ci), "\n") {
		if strings.TrimSpace(l) == cmds[len(cmds)-1] {
			found = true
		}
	}
	if !found {
		t.Errorf(".ci/run does not run %q on a line of its own", cmds[len(cmds)-1])
	}
}
