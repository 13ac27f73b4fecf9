package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeBigTSV writes a genes x samples matrix of counts (a pattern with no
// all-zero gene) and returns its path.
func writeBigTSV(t *testing.T, dir string, genes, samples int) string {
	path := filepath.Join(dir, "big.tsv")
	f, err := os.Create(path)
	must(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("gene_id")
	for j := 0; j < samples; j++ {
		fmt.Fprintf(w, "\ts%d", j)
	}
	w.WriteString("\n")
	var line []byte
	for i := 0; i < genes; i++ {
		line = append(line[:0], 'g')
		line = strconv.AppendInt(line, int64(i), 10)
		for j := 0; j < samples; j++ {
			line = append(line, '\t')
			line = strconv.AppendInt(line, int64(1+(i*7919+j*104729)%997), 10)
		}
		line = append(line, '\n')
		w.Write(line)
	}
	must(t, w.Flush())
	must(t, f.Close())
	return path
}

// tempFiles lists the temporary files of out's folder that belong to out.
func tempFiles(out string) []string {
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*"))
	return m
}

// startAndWaitForWriting starts the binary and returns once its temporary
// output file holds data, that is, once it is writing the output.
func startAndWaitForWriting(t *testing.T, bin string, args []string, out string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, tmp := range tempFiles(out) {
			if st, err := os.Stat(tmp); err == nil && st.Size() > 0 {
				return cmd
			}
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("the output was never being written: %s", stderr.String())
	return nil
}

// A run killed (SIGKILL) or interrupted (SIGINT) while it writes its output
// leaves the file that was at the output path before byte-identical; an
// interrupted run exits 130 and leaves no temporary file, a killed one can
// only leave its temporary file (.NAME.tmp-*), never a partial output.
func TestKilledRunKeepsOldOutput(t *testing.T) {
	bin := buildColnorm(t)
	dir := t.TempDir()
	in := writeBigTSV(t, dir, 20000, 300)
	old := []byte("the output of an earlier run\n")
	for _, c := range []struct {
		name   string
		signal syscall.Signal
		out    string
	}{
		{"SIGKILL/tsv", syscall.SIGKILL, "norm.tsv"},
		{"SIGINT/tsv", syscall.SIGINT, "norm.tsv"},
		{"SIGKILL/parquet", syscall.SIGKILL, "norm.parquet"},
		{"SIGINT/parquet", syscall.SIGINT, "norm.parquet"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), c.out)
			must(t, os.WriteFile(out, old, 0o644))
			start := time.Now()
			cmd := startAndWaitForWriting(t, bin, []string{"normalize", "--threads", "2", in, "-o", out}, out)
			writing := time.Since(start)
			must(t, cmd.Process.Signal(c.signal))
			err := cmd.Wait()
			t.Logf("%s after %v of the run", c.signal, writing.Round(time.Millisecond))
			code := cmd.ProcessState.ExitCode()
			if c.signal == syscall.SIGINT {
				if code != 130 {
					t.Errorf("exit %d (%v), want 130", code, err)
				}
				if tmp := tempFiles(out); len(tmp) != 0 {
					t.Errorf("temporary files left: %v", tmp)
				}
			} else if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Errorf("the run was not killed: %v", err)
			}
			if b, err := os.ReadFile(out); err != nil || string(b) != string(old) {
				t.Errorf("the old output changed: %d bytes, %v", len(b), err)
			}
		})
	}
}
