package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// DefaultInterval is the least time between two redraws of the line.
const DefaultInterval = 200 * time.Millisecond

// Option configures a Meter.
type Option func(*Meter)

// Interval sets the least time between redraws (DefaultInterval).
func Interval(d time.Duration) Option { return func(m *Meter) { m.interval = d } }

// Clock replaces time.Now, for tests.
func Clock(now func() time.Time) Option { return func(m *Meter) { m.now = now } }

// Pass is the record of one pass.
type Pass struct {
	Name    string        // the Stage's name
	Columns int           // sample columns in the pass
	Genes   int           // values per column
	Done    int           // columns done (Columns unless the pass failed)
	Elapsed time.Duration // from Start to End
}

// Meter numbers, times and draws the passes of one run. Its methods are safe
// for concurrent use.
type Meter struct {
	mu       sync.Mutex
	w        io.Writer // nil: record only
	interval time.Duration
	now      func() time.Time
	begun    time.Time
	planned  int
	passes   []Pass
	start    time.Time // of the current pass
	running  bool
	lastDraw time.Time
	drawn    bool // a status line is on the terminal
}

// New returns a Meter drawing on w, or recording only when w is nil.
func New(w io.Writer, opts ...Option) *Meter {
	m := &Meter{w: w, interval: DefaultInterval, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	m.begun = m.now()
	return m
}

// Drawing reports whether the Meter draws (it was given a writer).
func (m *Meter) Drawing() bool { return m.w != nil }

// Plan announces that the run makes n passes in all, which shows as
// "pass k/n" and counts in the time left. A pass beyond the plan shows as
// "pass k" (the plan was wrong, or a method iterates).
func (m *Meter) Plan(n int) {
	m.mu.Lock()
	m.planned = n
	m.mu.Unlock()
}

// Planned is the number of passes given to Plan, 0 when none was.
func (m *Meter) Planned() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.planned
}

// Passes returns the records of the passes started so far, in order.
func (m *Meter) Passes() []Pass {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Pass, len(m.passes))
	copy(out, m.passes)
	if m.running {
		out[len(out)-1].Elapsed = m.now().Sub(m.start)
	}
	return out
}

// Elapsed is the time since the Meter was made.
func (m *Meter) Elapsed() time.Duration { return m.now().Sub(m.begun) }

// Stage returns the progress of passes called name; they draw on the
// terminal only when draw is true (false for --quiet), and are recorded
// either way. Its methods implement pass.Progress.
func (m *Meter) Stage(name string, draw bool) *Stage {
	return &Stage{m: m, name: name, draw: draw && m.w != nil}
}

// Stage is the progress of the passes of one named step.
type Stage struct {
	m    *Meter
	name string
	draw bool
}

// Start begins a pass over columns columns of genes values each.
func (s *Stage) Start(columns, genes int) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.passes = append(m.passes, Pass{Name: s.name, Columns: columns, Genes: genes})
	m.start, m.running = m.now(), true
	if s.draw {
		m.drawLocked(m.start)
	}
}

// Done says that the first done columns of the current pass are finished;
// it redraws the line when Interval has passed since the last draw, or
// when the pass is complete.
func (s *Stage) Done(done int) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.running {
		return
	}
	p := &m.passes[len(m.passes)-1]
	p.Done = done
	if !s.draw {
		return
	}
	if now := m.now(); now.Sub(m.lastDraw) >= m.interval {
		m.drawLocked(now)
	}
}

// Replan says that the data changed the plan: delta more passes will run
// (fewer when negative: passes made unnecessary), which the total and the
// time left show. Without a plan, or below the passes already run, the
// plan stays.
func (s *Stage) Replan(delta int) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.planned > 0 && m.planned+delta >= len(m.passes) {
		m.planned += delta
	}
}

// End finishes the current pass and clears the line.
func (s *Stage) End() {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.running {
		return
	}
	m.passes[len(m.passes)-1].Elapsed = m.now().Sub(m.start)
	m.running = false
	if m.drawn {
		io.WriteString(m.w, "\r\x1b[K")
		m.drawn = false
	}
}

// drawLocked redraws the status line of the current pass.
func (m *Meter) drawLocked(now time.Time) {
	m.lastDraw = now
	m.drawn = true
	io.WriteString(m.w, "\r"+m.lineLocked(now)+"\x1b[K")
}

// lineLocked is the status text of the current pass.
func (m *Meter) lineLocked(now time.Time) string {
	k := len(m.passes)
	p := m.passes[k-1]
	var b strings.Builder
	if m.planned >= k {
		fmt.Fprintf(&b, "pass %d/%d: %s", k, m.planned, p.Name)
	} else {
		fmt.Fprintf(&b, "pass %d: %s", k, p.Name)
	}
	fmt.Fprintf(&b, "  %d/%d columns", p.Done, p.Columns)
	secs := now.Sub(m.start).Seconds()
	if p.Done == 0 || secs <= 0 {
		return b.String()
	}
	rate := float64(p.Done) / secs
	fmt.Fprintf(&b, "  %s col/s  %s counts/s", Rate(rate), Rate(rate*float64(p.Genes)))
	remaining := p.Columns - p.Done
	if m.planned > k {
		remaining += (m.planned - k) * p.Columns
	}
	fmt.Fprintf(&b, "  left %s", HMS(time.Duration(float64(remaining)/rate*float64(time.Second))))
	return b.String()
}

// Rate writes a rate with three significant digits and a k, M or G
// suffix: 3.42, 96.1, 412, 5.8k, 61.7M.
func Rate(v float64) string {
	suffix := ""
	for _, s := range []string{"k", "M", "G"} {
		if v < 999.5 {
			break
		}
		v /= 1000
		suffix = s
	}
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f%s", v, suffix)
	case v < 99.95:
		return fmt.Sprintf("%.1f%s", v, suffix)
	}
	return fmt.Sprintf("%.0f%s", v, suffix)
}

// HMS writes a duration as h:mm:ss, or m:ss under an hour, rounded up
// to the second.
func HMS(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
