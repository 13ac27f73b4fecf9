package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildColnorm builds the colnorm binary into a temporary folder and returns
// its path.
func buildColnorm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "colnorm")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}
