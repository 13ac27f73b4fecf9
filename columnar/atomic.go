package columnar

import (
	"fmt"
	"os"
	"path/filepath"
)

// AtomicFile is an output file written under a temporary name in the folder
// of its final path and renamed into place by Commit, so that a reader never
// sees a partial file at the final path.
type AtomicFile struct {
	*os.File
	final string
	done  bool
}

// CreateAtomic creates the temporary file for path.
func CreateAtomic(path string) (*AtomicFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("columnar: cannot create %s: %w", path, err)
	}
	return &AtomicFile{File: f, final: path}, nil
}

// Commit flushes, closes and renames the file to its final path.
func (a *AtomicFile) Commit() error {
	if a.done {
		return nil
	}
	a.done = true
	if err := a.File.Sync(); err != nil {
		a.File.Close()
		os.Remove(a.File.Name())
		return fmt.Errorf("columnar: writing %s: %w", a.final, err)
	}
	if err := a.File.Close(); err != nil {
		os.Remove(a.File.Name())
		return fmt.Errorf("columnar: writing %s: %w", a.final, err)
	}
	if err := os.Chmod(a.File.Name(), 0o644); err != nil {
		os.Remove(a.File.Name())
		return fmt.Errorf("columnar: writing %s: %w", a.final, err)
	}
	if err := os.Rename(a.File.Name(), a.final); err != nil {
		os.Remove(a.File.Name())
		return fmt.Errorf("columnar: writing %s: %w", a.final, err)
	}
	return nil
}

// Abort closes and removes the temporary file. It does nothing after Commit.
func (a *AtomicFile) Abort() error {
	if a.done {
		return nil
	}
	a.done = true
	a.File.Close()
	return os.Remove(a.File.Name())
}
