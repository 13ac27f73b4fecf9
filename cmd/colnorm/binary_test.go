package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestMain runs the test binary as colnorm itself when
// COLNORM_TEST_AS_MAIN=1 (colnormProcess: sharded runs as separate
// processes), and otherwise the tests, then removes the binary that
// buildColnorm built.
func TestMain(m *testing.M) {
	if os.Getenv("COLNORM_TEST_AS_MAIN") == "1" {
		main()
	}
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	builtDir  string
	builtBin  string
	buildErr  error
)

// buildColnorm builds the colnorm binary once per test run, into a
// temporary folder, and returns its path. Tests that need it are skipped
// under -short.
func buildColnorm(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		if builtDir, buildErr = os.MkdirTemp("", "colnorm-test-bin-*"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(builtDir, "colnorm")
		cmd := exec.Command("go", "build", "-o", builtBin, ".")
		cmd.Stderr = os.Stderr
		buildErr = cmd.Run()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return builtBin
}
