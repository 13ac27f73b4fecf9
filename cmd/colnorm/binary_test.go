package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// TestMain removes the binary that buildColnorm built, after all tests.
func TestMain(m *testing.M) {
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
