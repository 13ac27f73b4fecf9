package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }
func lines(out string) []string          { return strings.Split(out, "\r") }
func last(out string) string             { l := lines(out); return l[len(l)-1] }
func count(out, s string) int            { return strings.Count(out, s) }
func newMeter(w *bytes.Buffer, c *fakeClock) *Meter {
	return New(w, Interval(time.Second), Clock(c.now))
}

// Two planned passes: numbered k/2, throttled to one redraw per interval,
// rates and time left from the pass's own elapsed time, cleared at the end.
func TestMeterDrawsThrottledLines(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	m := newMeter(&w, c)
	m.Plan(2)
	s := m.Stage("size factors", true)
	s.Start(100, 2000)
	if got := w.String(); got != "\rpass 1/2: size factors  0/100 columns\x1b[K" {
		t.Fatalf("start drew %q", got)
	}
	w.Reset()
	c.add(500 * time.Millisecond)
	s.Done(10) // within the interval of the start's draw: nothing
	if w.Len() != 0 {
		t.Fatalf("drew %q within the interval", w.String())
	}
	c.add(500 * time.Millisecond)
	s.Done(20) // 20 columns in 1 s: 20 col/s, 40k counts/s; 80 + 100 left: 9 s
	want := "\rpass 1/2: size factors  20/100 columns  20.0 col/s  40.0k counts/s  left 0:09\x1b[K"
	if got := w.String(); got != want {
		t.Fatalf("drew %q\nwant %q", got, want)
	}
	w.Reset()
	c.add(4 * time.Second)
	s.End()
	if got := w.String(); got != "\r\x1b[K" {
		t.Fatalf("end wrote %q, want a cleared line", got)
	}
	w.Reset()
	n := m.Stage("normalize", true)
	n.Start(100, 2000)
	c.add(2 * time.Second)
	n.Done(100)
	if got := last(w.String()); got != "pass 2/2: normalize  100/100 columns  50.0 col/s  100k counts/s  left 0:00\x1b[K" {
		t.Fatalf("second pass drew %q", got)
	}
	n.End()
	ps := m.Passes()
	if len(ps) != 2 || ps[0].Name != "size factors" || ps[0].Elapsed != 5*time.Second || ps[0].Done != 20 ||
		ps[1].Name != "normalize" || ps[1].Elapsed != 2*time.Second || ps[1].Done != 100 || ps[1].Genes != 2000 {
		t.Fatalf("passes %+v", ps)
	}
}

// Passes beyond the plan, or without one, are numbered without a total.
func TestMeterUnplannedPasses(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	m := newMeter(&w, c)
	m.Plan(1)
	for k := 0; k < 2; k++ {
		s := m.Stage("iterate", true)
		s.Start(4, 10)
		s.End()
	}
	out := w.String()
	if count(out, "pass 1/1: iterate") != 1 || count(out, "pass 2: iterate") != 1 || count(out, "pass 2/") != 0 {
		t.Fatalf("drew %q", out)
	}
}

// A quiet stage, and a Meter without a writer, draw nothing but record.
func TestMeterQuietRecords(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	m := newMeter(&w, c)
	s := m.Stage("filter", false)
	s.Start(3, 7)
	c.add(3 * time.Second)
	s.Done(3)
	s.End()
	if w.Len() != 0 {
		t.Fatalf("a quiet stage drew %q", w.String())
	}
	r := New(nil, Clock(c.now))
	if r.Drawing() {
		t.Fatal("a Meter without a writer says it draws")
	}
	q := r.Stage("filter", true)
	q.Start(3, 7)
	c.add(time.Second)
	q.Done(3)
	q.End()
	if ps := m.Passes(); len(ps) != 1 || ps[0].Elapsed != 3*time.Second || ps[0].Done != 3 {
		t.Fatalf("quiet passes %+v", ps)
	}
	if ps := r.Passes(); len(ps) != 1 || ps[0].Elapsed != time.Second {
		t.Fatalf("recorded passes %+v", ps)
	}
}

func TestRateAndHMS(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00", 3.4159: "3.42", 96.14: "96.1", 412.4: "412", 999.4: "999",
		999.6: "1.00k", 5800: "5.80k", 61_740_000: "61.7M", 2.5e9: "2.50G"} {
		if got := Rate(v); got != want {
			t.Errorf("Rate(%v) = %q, want %q", v, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0:00", 1: "0:01", time.Second: "0:01", 61 * time.Second: "1:01",
		3599 * time.Second: "59:59", 3661 * time.Second: "1:01:01", -time.Second: "0:00"} {
		if got := HMS(d); got != want {
			t.Errorf("HMS(%v) = %q, want %q", d, got, want)
		}
	}
}

// Pipes and /dev/null are not terminals (a character-device test would
// take /dev/null for one).
func TestIsTerminalNotForPipesOrNull(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) || IsTerminal(nil) {
		t.Error("a pipe (or nil) is a terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Error("/dev/null is a terminal")
	}
}

// A skipped pass leaves the plan and an extra one joins it: the next pass
// shows the new total; a plan below the passes already run is refused.
func TestMeterReplans(t *testing.T) {
	var w bytes.Buffer
	c := newClock()
	m := newMeter(&w, c)
	m.Plan(3)
	s := m.Stage("size factors", true)
	s.Start(4, 10)
	s.End()
	s.Replan(-1)
	s.Start(4, 10)
	s.End()
	s.Replan(-1) // the plan is now 2, and two passes ran
	if out := w.String(); count(out, "pass 1/3: size factors") != 1 || count(out, "pass 2/2: size factors") != 1 || m.Planned() != 2 {
		t.Fatalf("drew %q, planned %d", out, m.Planned())
	}
	s.Replan(+1)
	s.Start(4, 10)
	s.End()
	if out := w.String(); count(out, "pass 3/3: size factors") != 1 || m.Planned() != 3 {
		t.Fatalf("drew %q, planned %d", out, m.Planned())
	}
}
