package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/ptytest"
)

// runOnTerminal runs the binary with stderr on a new pseudo-terminal and
// returns what the terminal received.
func runOnTerminal(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctl, term, err := ptytest.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ctl.Close()
	wait := ptytest.Capture(ctl)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = term
	err = cmd.Run()
	term.Close() // the child's copy is closed too: the capture ends
	screen := string(wait())
	if err != nil {
		t.Fatalf("%v: %v; terminal: %q", args, err, screen)
	}
	return screen
}

// The built binary draws its passes on a terminal, clears the line at the
// end, and writes nothing to a piped stderr or with --quiet.
func TestProgressOnTerminalOnly(t *testing.T) {
	bin := buildColnorm(t)
	dir := t.TempDir()
	args := []string{"normalize", marioni, "-o", filepath.Join(dir, "n.parquet")}

	screen := runOnTerminal(t, bin, args...)
	for _, want := range []string{"pass 1/3: size factors", "pass 3/3: normalize", "/10 columns"} {
		if !strings.Contains(screen, want) {
			t.Errorf("terminal lacks %q: %q", want, screen)
		}
	}
	if !strings.HasSuffix(screen, "\r\x1b[K") {
		t.Errorf("the last line is not cleared: %q", screen)
	}

	if quiet := runOnTerminal(t, bin, append(args, "--quiet")...); quiet != "" {
		t.Errorf("--quiet on a terminal wrote %q", quiet)
	}

	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr // a pipe
	if err := cmd.Run(); err != nil {
		t.Fatalf("piped: %v: %s", err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("piped stderr got %q", stderr.String())
	}
}
