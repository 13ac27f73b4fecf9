package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Measurement is the wall time and peak resident memory of one run of a
// command.
type Measurement struct {
	Wall    time.Duration
	PeakRSS int64  // bytes; 0 when it could not be measured
	RSSFrom string // how PeakRSS was measured
}

// gnuTime is GNU time's path, or "" when it is absent.
var gnuTime = sync.OnceValue(func() string {
	const path = "/usr/bin/time"
	if err := exec.Command(path, "-f", "%M", "-o", os.DevNull, "true").Run(); err != nil {
		return ""
	}
	return path
})

// Measure runs cmd, which must not have been started, and measures it.
//
// Peak RSS comes from GNU time (/usr/bin/time -f %M) when it is installed,
// and otherwise from polling VmHWM in /proc/<pid>/status every few
// milliseconds (which can miss a peak in the last milliseconds of the run).
// It is not taken from the rusage that os/exec reports: Go starts children
// with vfork semantics, and Linux then carries the parent's own peak RSS
// into the child's ru_maxrss, so a child of a large parent would seem large.
func Measure(cmd *exec.Cmd) (Measurement, error) {
	if cmd.Err != nil {
		return Measurement{}, cmd.Err
	}
	if t := gnuTime(); t != "" {
		return measureGNUTime(t, cmd)
	}
	return measurePolling(cmd)
}

func measureGNUTime(timePath string, cmd *exec.Cmd) (Measurement, error) {
	f, err := os.CreateTemp("", "colnorm-bench-time-*")
	if err != nil {
		return Measurement{}, err
	}
	f.Close()
	defer os.Remove(f.Name())
	wrapped := exec.Command(timePath, append([]string{"-f", "maxrss_kb=%M", "-o", f.Name(), cmd.Path}, cmd.Args[1:]...)...)
	wrapped.Dir, wrapped.Env = cmd.Dir, cmd.Env
	wrapped.Stdin, wrapped.Stdout, wrapped.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	start := time.Now()
	runErr := wrapped.Run()
	m := Measurement{Wall: time.Since(start), RSSFrom: "GNU time %M"}
	cmd.ProcessState = wrapped.ProcessState
	out, err := os.ReadFile(f.Name())
	if err == nil {
		if i := bytes.LastIndex(out, []byte("maxrss_kb=")); i >= 0 {
			kb, perr := strconv.ParseInt(strings.TrimSpace(string(out[i+len("maxrss_kb="):])), 10, 64)
			if perr == nil {
				m.PeakRSS = kb << 10
			}
		}
	}
	if runErr != nil {
		return m, fmt.Errorf("%s: %w", cmd, runErr)
	}
	return m, nil
}

func measurePolling(cmd *exec.Cmd) (Measurement, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Measurement{}, err
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := vmHWM(status); kb > peak {
				peak = kb
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	m := Measurement{Wall: time.Since(start), RSSFrom: "VmHWM polled every 2ms"}
	close(done)
	wg.Wait()
	m.PeakRSS = peak << 10
	if err != nil {
		return m, fmt.Errorf("%s: %w", cmd, err)
	}
	return m, nil
}

// vmHWM reads the peak resident set size, in KiB, from a /proc status file;
// 0 when it cannot.
func vmHWM(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
