package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// esc makes user text safe in HTML and SVG text and in double-quoted
// attributes. It also replaces what XML 1.0 forbids (invalid UTF-8, control
// characters) so that the page stays well-formed XML as well as HTML.
func esc(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case r < 0x20 || (r >= 0x7F && r < 0xA0) || r == 0xFFFE || r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
	return html.EscapeString(s)
}

// truncate shortens a label to at most n runes, ending it with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// c formats an SVG coordinate with at most one decimal.
func c(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	v = math.Round(v*10) / 10
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// minus replaces a leading hyphen by a typographic minus sign.
func minus(s string) string {
	if strings.HasPrefix(s, "-") {
		return "−" + s[1:]
	}
	return s
}

// fixed formats v with dec decimals and a real minus sign ("−0" is "0").
func fixed(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return minus(s)
}

// sig formats v with n significant digits, without an exponent for the
// magnitudes size factors and correlations take.
func sig(v float64, n int) string {
	if math.IsNaN(v) {
		return "NA"
	}
	if math.IsInf(v, 0) {
		if v > 0 {
			return "∞"
		}
		return "−∞"
	}
	if v == 0 {
		return "0"
	}
	e := int(math.Floor(math.Log10(math.Abs(v))))
	if e < -4 || e >= 15 {
		return minus(strconv.FormatFloat(v, 'g', n, 64))
	}
	dec := n - 1 - e
	if dec < 0 {
		dec = 0
	}
	return fixed(v, dec)
}

// thousands formats a count with comma thousands separators.
func thousands(v float64) string {
	if math.IsNaN(v) {
		return "NA"
	}
	if math.IsInf(v, 0) || math.Abs(v) >= 1e18 {
		return sig(v, 4)
	}
	neg := v < 0
	s := strconv.FormatFloat(math.Round(math.Abs(v)), 'f', 0, 64)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// percent formats a variance fraction as a percentage.
func percent(f float64) string {
	p := f * 100
	switch {
	case math.IsNaN(p):
		return "NA"
	case p >= 0.1 || p == 0:
		return fixed(p, 1) + "%"
	default:
		return sig(p, 2) + "%"
	}
}

// scale maps a data interval linearly onto a pixel interval.
type scale struct{ d0, d1, r0, r1 float64 }

func (s scale) at(v float64) float64 {
	if s.d1 == s.d0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// extent returns the finite minimum and maximum of the values (ok false when
// there is none).
func extent(vals ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, vs := range vals {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo = math.Min(lo, v)
			hi = math.Max(hi, v)
		}
	}
	return lo, hi, lo <= hi
}

// pad widens [lo, hi] by frac of its width on each side (or by a unit-ish
// amount when it is a single point).
func pad(lo, hi, frac float64) (float64, float64) {
	if hi == lo {
		d := math.Max(math.Abs(lo)*0.1, 1)
		return lo - d, hi + d
	}
	d := (hi - lo) * frac
	return lo - d, hi + d
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that divides
// [lo, hi] into about n intervals.
func niceStep(lo, hi float64, n int) float64 {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch r := raw / mag; {
	case r < 1.5:
		return mag
	case r < 3:
		return 2 * mag
	case r < 7:
		return 5 * mag
	default:
		return 10 * mag
	}
}

// ticks returns the multiples of a nice step inside [lo, hi] and the step.
func ticks(lo, hi float64, n int) ([]float64, float64) {
	step := niceStep(lo, hi, n)
	var out []float64
	start := math.Ceil(lo/step - 1e-9)
	for k := start; k*step <= hi+step*1e-9 && len(out) < 100; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, v)
	}
	return out, step
}

// tickFormat returns a formatter showing as many decimals as the step needs.
func tickFormat(step float64) func(float64) string {
	dec := 0
	if step > 0 && step < 1 {
		dec = int(-math.Floor(math.Log10(step) + 1e-9))
	}
	return func(v float64) string { return fixed(v, dec) }
}

// siFormat formats ticks of large counts with k/M/G suffixes.
func siFormat(step, maxAbs float64) func(float64) string {
	unit, suffix := 1.0, ""
	switch {
	case maxAbs >= 1e9:
		unit, suffix = 1e9, "G"
	case maxAbs >= 1e6:
		unit, suffix = 1e6, "M"
	case maxAbs >= 1e4:
		unit, suffix = 1e3, "k"
	}
	f := tickFormat(step / unit)
	return func(v float64) string {
		if v == 0 {
			return "0"
		}
		return f(v/unit) + suffix
	}
}

// textWidth estimates the rendered width of s in pixels at a font size. It
// errs on the wide side (DejaVu Sans, the widest common default sans-serif).
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("iljI.,:;|!'`", r):
			w += 0.32
		case strings.ContainsRune("ftr() []{}-", r):
			w += 0.42
		case strings.ContainsRune("mwMW@%", r):
			w += 0.95
		case r >= 'A' && r <= 'Z':
			w += 0.72
		case r >= '0' && r <= '9':
			w += 0.64
		case r < 128:
			w += 0.62
		default:
			w += 0.9
		}
	}
	return w * size
}

// ---------------------------------------------------------------- axes

// frame describes one plot: the pixel box of the data area and the scales.
type frame struct {
	x0, y0, w, h float64 // data area, top-left corner and size
	xs, ys       scale
	xt, yt       []float64
	xf, yf       func(float64) string
}

// newFrame makes a frame over the data ranges, with nice ticks.
func newFrame(x0, y0, w, h, xlo, xhi, ylo, yhi float64, nx, ny int) *frame {
	f := &frame{x0: x0, y0: y0, w: w, h: h}
	var xstep, ystep float64
	f.xt, xstep = ticks(xlo, xhi, nx)
	f.yt, ystep = ticks(ylo, yhi, ny)
	f.xs = scale{xlo, xhi, x0, x0 + w}
	f.ys = scale{ylo, yhi, y0 + h, y0}
	f.xf, f.yf = tickFormat(xstep), tickFormat(ystep)
	return f
}

// grid draws light grid lines at the ticks (xGrid/yGrid select which).
func (f *frame) grid(b *strings.Builder, xGrid, yGrid bool) {
	b.WriteString(`<g class="grid">`)
	if xGrid {
		for _, t := range f.xt {
			x := f.xs.at(t)
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, c(x), c(f.y0), c(x), c(f.y0+f.h))
		}
	}
	if yGrid {
		for _, t := range f.yt {
			y := f.ys.at(t)
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, c(f.x0), c(y), c(f.x0+f.w), c(y))
		}
	}
	b.WriteString(`</g>`)
}

// axes draws the box, ticks, tick labels and axis titles. An empty title
// leaves that axis without a title; nil ticks leave it without ticks.
func (f *frame) axes(b *strings.Builder, xtitle, ytitle string, xTicks, yTicks bool) {
	fmt.Fprintf(b, `<rect class="box" x="%s" y="%s" width="%s" height="%s"/>`, c(f.x0), c(f.y0), c(f.w), c(f.h))
	b.WriteString(`<g class="tick">`)
	yb := f.y0 + f.h
	if xTicks {
		for _, t := range f.xt {
			x := f.xs.at(t)
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/><text x="%s" y="%s" text-anchor="middle">%s</text>`,
				c(x), c(yb), c(x), c(yb+5), c(x), c(yb+18), esc(f.xf(t)))
		}
	}
	if yTicks {
		for _, t := range f.yt {
			y := f.ys.at(t)
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/><text x="%s" y="%s" text-anchor="end">%s</text>`,
				c(f.x0-5), c(y), c(f.x0), c(y), c(f.x0-8), c(y+4), esc(f.yf(t)))
		}
	}
	b.WriteString(`</g>`)
	if xtitle != "" {
		fmt.Fprintf(b, `<text class="atitle" x="%s" y="%s" text-anchor="middle">%s</text>`, c(f.x0+f.w/2), c(yb+38), esc(xtitle))
	}
	if ytitle != "" {
		yw := 0.0
		if yTicks {
			for _, t := range f.yt {
				yw = math.Max(yw, textWidth(f.yf(t), 12))
			}
		}
		x := f.x0 - 8 - yw - 10
		fmt.Fprintf(b, `<text class="atitle" transform="translate(%s,%s) rotate(-90)" text-anchor="middle">%s</text>`,
			c(x), c(f.y0+f.h/2), esc(ytitle))
	}
}

// svgOpen starts an SVG of the given size; it scales down with the page.
func svgOpen(b *strings.Builder, w, h float64, label string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="%s">`,
		c(w), c(h), c(w), c(h), esc(label))
}

// ---------------------------------------------------------------- labels

type rect struct{ x0, y0, x1, y1 float64 }

func (a rect) overlaps(o rect) bool {
	return a.x0 < o.x1 && o.x0 < a.x1 && a.y0 < o.y1 && o.y0 < a.y1
}

func (a rect) inside(o rect) bool {
	return a.x0 >= o.x0 && a.x1 <= o.x1 && a.y0 >= o.y0 && a.y1 <= o.y1
}

// segHits reports whether the segment (x1,y1)-(x2,y2) passes through r
// (Liang–Barsky clipping).
func segHits(x1, y1, x2, y2 float64, r rect) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := x2-x1, y2-y1
	for _, pq := range [4][2]float64{{-dx, x1 - r.x0}, {dx, r.x1 - x1}, {-dy, y1 - r.y0}, {dy, r.y1 - y1}} {
		p, q := pq[0], pq[1]
		if p == 0 {
			if q < 0 {
				return false
			}
			continue
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			t0 = math.Max(t0, t)
		} else {
			if t < t0 {
				return false
			}
			t1 = math.Min(t1, t)
		}
	}
	return t0 < t1
}

// label is a text to place next to a point.
type label struct {
	x, y float64 // the point, in pixels
	text string
}

// placement is where a label went: its box, and a leader line from the
// point when the label had to move away from it.
type placement struct {
	box                rect
	leader             bool
	lx1, ly1, lx2, ly2 float64
}

// placeLabels puts each label near its point without overlapping the other
// labels, and avoiding the points (obstacles, drawn with radius pr) and the
// outside of bounds, and the fixed boxes (other text). Crowded points are served first; a label that cannot
// sit next to its point moves outward along rings and gets a leader line.
func placeLabels(ls []label, obstacles [][2]float64, pr, size float64, bounds rect, fixed ...rect) []placement {
	h := size * 1.25
	out := make([]placement, len(ls))
	// Crowding: number of other labelled points within 40 px.
	crowd := make([]int, len(ls))
	for i := range ls {
		for j := range ls {
			if i != j && math.Hypot(ls[i].x-ls[j].x, ls[i].y-ls[j].y) < 40 {
				crowd[i]++
			}
		}
	}
	order := make([]int, len(ls))
	for i := range order {
		order[i] = i
	}
	// Stable insertion sort: most crowded first, then top to bottom.
	less := func(a, b int) bool {
		if crowd[a] != crowd[b] {
			return crowd[a] > crowd[b]
		}
		return ls[a].y < ls[b].y
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && less(order[j], order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	// Obstacles indexed on a coarse grid so thousands of points stay cheap.
	const cell = 16.0
	grid := map[[2]int][]int{}
	for k, p := range obstacles {
		key := [2]int{int(math.Floor(p[0] / cell)), int(math.Floor(p[1] / cell))}
		grid[key] = append(grid[key], k)
	}
	pointsIn := func(r rect) int {
		n := 0
		for gx := int(math.Floor((r.x0 - pr) / cell)); gx <= int(math.Floor((r.x1+pr)/cell)); gx++ {
			for gy := int(math.Floor((r.y0 - pr) / cell)); gy <= int(math.Floor((r.y1+pr)/cell)); gy++ {
				for _, k := range grid[[2]int{gx, gy}] {
					p := obstacles[k]
					if p[0]+pr > r.x0 && p[0]-pr < r.x1 && p[1]+pr > r.y0 && p[1]-pr < r.y1 {
						n++
					}
				}
			}
		}
		return n
	}
	// pointsOn counts the obstacles a leader line passes through (sampled
	// every few pixels; the line's own point is where it starts, excluded).
	pointsOn := func(x1, y1, x2, y2 float64) int {
		steps := int(math.Hypot(x2-x1, y2-y1)/4) + 1
		seen := map[int]bool{}
		for s := 1; s <= steps; s++ {
			t := float64(s) / float64(steps)
			x, y := x1+(x2-x1)*t, y1+(y2-y1)*t
			gx, gy := int(math.Floor(x/cell)), int(math.Floor(y/cell))
			for dx := -1; dx <= 1; dx++ {
				for dy := -1; dy <= 1; dy++ {
					for _, k := range grid[[2]int{gx + dx, gy + dy}] {
						if o := obstacles[k]; !seen[k] && math.Hypot(o[0]-x, o[1]-y) < pr && math.Hypot(o[0]-x1, o[1]-y1) > 1.5*pr {
							seen[k] = true
						}
					}
				}
			}
		}
		return len(seen)
	}
	var done []placement
	for _, r := range fixed {
		done = append(done, placement{box: r})
	}
	for _, i := range order {
		l := ls[i]
		w := textWidth(l.text, size)
		best, bestCost := placement{}, math.Inf(1)
		try := func(p placement, base float64) {
			cost := base
			r := p.box
			if !r.inside(bounds) {
				cost += 1e5
			}
			for _, d := range done {
				if d.box.overlaps(rect{r.x0 - 2, r.y0 - 1, r.x1 + 2, r.y1 + 1}) {
					cost += 1000
				}
				if d.leader && segHits(d.lx1, d.ly1, d.lx2, d.ly2, r) {
					cost += 300
				}
				if p.leader && segHits(p.lx1, p.ly1, p.lx2, p.ly2, d.box) {
					cost += 300
				}
			}
			// Labels have a white halo, so sitting on points is a mild
			// fault, and all the same in a dense cloud.
			cost += 40 * math.Min(float64(pointsIn(r)), 4)
			if p.leader {
				cost += 25 * math.Min(float64(pointsOn(p.lx1, p.ly1, p.lx2, p.ly2)), 4)
			}
			if cost < bestCost {
				best, bestCost = p, cost
			}
		}
		g := pr + 4.5
		// Ring 0: the eight classic positions touching the point.
		adj := []rect{
			{l.x + g, l.y - h/2, l.x + g + w, l.y + h/2},                 // right
			{l.x - g - w, l.y - h/2, l.x - g, l.y + h/2},                 // left
			{l.x + g*0.7, l.y - g*0.7 - h, l.x + g*0.7 + w, l.y - g*0.7}, // upper right
			{l.x + g*0.7, l.y + g*0.7, l.x + g*0.7 + w, l.y + g*0.7 + h}, // lower right
			{l.x - g*0.7 - w, l.y - g*0.7 - h, l.x - g*0.7, l.y - g*0.7}, // upper left
			{l.x - g*0.7 - w, l.y + g*0.7, l.x - g*0.7, l.y + g*0.7 + h}, // lower left
			{l.x - w/2, l.y - g - h, l.x + w/2, l.y - g},                 // above
			{l.x - w/2, l.y + g, l.x + w/2, l.y + g + h},                 // below
		}
		for k, r := range adj {
			try(placement{box: r}, float64(k)*0.1)
		}
		// Rings further out, with a leader line.
		for ring := 1; ring <= 14 && bestCost >= 1; ring++ {
			R := g + float64(ring)*11
			for a := 0; a < 24; a++ {
				th := float64(a) * math.Pi / 12
				ax, ay := l.x+R*math.Cos(th), l.y-R*math.Sin(th)
				var r rect
				switch cs := math.Cos(th); {
				case cs > 0.3:
					r.x0, r.x1 = ax, ax+w
				case cs < -0.3:
					r.x0, r.x1 = ax-w, ax
				default:
					r.x0, r.x1 = ax-w/2, ax+w/2
				}
				switch sn := math.Sin(th); {
				case sn > 0.3:
					r.y0, r.y1 = ay-h, ay
				case sn < -0.3:
					r.y0, r.y1 = ay, ay+h
				default:
					r.y0, r.y1 = ay-h/2, ay+h/2
				}
				// Leader from the point's edge to the nearest point of the box.
				nx := math.Max(r.x0, math.Min(l.x, r.x1))
				ny := math.Max(r.y0, math.Min(l.y, r.y1))
				d := math.Hypot(nx-l.x, ny-l.y)
				p := placement{box: r, leader: true, lx2: nx, ly2: ny}
				if d > 0 {
					p.lx1, p.ly1 = l.x+(nx-l.x)/d*pr, l.y+(ny-l.y)/d*pr
				}
				try(p, 1+float64(ring)*2+float64(a%12)*0.01)
			}
		}
		out[i] = best
		done = append(done, best)
	}
	return out
}

// drawLabels writes placed labels (with leader lines) in class "lbl".
func drawLabels(b *strings.Builder, ls []label, ps []placement, size float64) {
	b.WriteString(`<g class="leader">`)
	for _, p := range ps {
		if p.leader {
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, c(p.lx1), c(p.ly1), c(p.lx2), c(p.ly2))
		}
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(b, `<g class="lbl" font-size="%s">`, c(size))
	for i, p := range ps {
		fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`, c(p.box.x0), c(p.box.y1-size*0.3), esc(ls[i].text))
	}
	b.WriteString(`</g>`)
}
