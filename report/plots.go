package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
)

// ---------------------------------------------------------------- scatter

// scatterSpec is one scatter plot of the samples.
type scatterSpec struct {
	aria           string
	w, h           float64
	x, y           []float64 // per sample; NaN is left out; y nil: a one-dimensional strip
	xtitle, ytitle string
	xfmt, yfmt     func(step, maxAbs float64) func(float64) string // nil: plain numbers
	refLine        func(x float64) float64                         // optional dashed reference curve
	refLabel       string                                          // its label, at the end inside the plot
	logX, logY     bool                                            // logarithmic axes (values <= 0 are left out)
}

// log10s maps values to log10 (NaN for values <= 0).
func log10s(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.NaN()
		if x > 0 {
			out[i] = math.Log10(x)
		}
	}
	return out
}

// logAxis returns tick positions (in log10 units) over [lo, hi] (log10
// units) and their labels: 1-2-5 steps per decade over a wide range, nice
// linear steps of the values over a narrow one.
func logAxis(lo, hi float64, format func(step, maxAbs float64) func(float64) string) ([]float64, func(float64) string) {
	if format == nil {
		format = func(step, _ float64) func(float64) string { return tickFormat(step) }
	}
	a, z := math.Pow(10, lo), math.Pow(10, hi)
	var out []float64
	if z/a >= 20 {
		for _, mult := range [][]float64{{1, 2, 5}, {1}} {
			out = out[:0]
			for k := math.Floor(lo); k <= math.Ceil(hi); k++ {
				for _, m := range mult {
					if v := m * math.Pow(10, k); v >= a*(1-1e-9) && v <= z*(1+1e-9) {
						out = append(out, math.Log10(v))
					}
				}
			}
			if len(out) <= 9 {
				break
			}
		}
		return out, func(t float64) string {
			v := math.Pow(10, t)
			v = math.Round(v/math.Pow(10, math.Floor(t)-2)) * math.Pow(10, math.Floor(t)-2) // 3 significant digits
			return format(v, v)(v)
		}
	}
	tk, st := ticks(a, z, 5)
	f := format(st, z)
	for _, v := range tk {
		if v > 0 {
			out = append(out, math.Log10(v))
		}
	}
	return out, func(t float64) string { return f(math.Pow(10, t)) }
}

// pointRadius is the marker size for n points.
func pointRadius(n int) float64 {
	switch {
	case n <= maxLabelledPoints:
		return 5
	case n <= 500:
		return 3.5
	default:
		return 2.5
	}
}

// scatter draws the samples as points coloured by the selected factor,
// labelled with their names up to maxLabelledPoints samples (beyond, only
// flagged outliers are labelled), each with a hover tooltip.
func (p *page) scatter(b *strings.Builder, s scatterSpec) {
	const ml, mr, mt, mb = 74.0, 18.0, 14.0, 56.0
	oneD := s.y == nil
	xs, ys := s.x, s.y
	if oneD {
		ys = make([]float64, p.n)
	}
	if s.logX {
		xs = log10s(xs)
	}
	if s.logY && !oneD {
		ys = log10s(ys)
	}
	xlo, xhi, okx := extent(xs)
	ylo, yhi, oky := extent(ys)
	if !okx || !oky {
		svgOpen(b, s.w, 60, s.aria)
		b.WriteString(`<text x="10" y="30">no finite values to plot</text></svg>`)
		return
	}
	xlo, xhi = pad(xlo, xhi, 0.06)
	ylo, yhi = pad(ylo, yhi, 0.06)
	if oneD {
		ylo, yhi = -1, 1
	}
	f := newFrame(ml, mt, s.w-ml-mr, s.h-mt-mb, xlo, xhi, ylo, yhi, 6, 6)
	switch {
	case s.logX:
		f.xt, f.xf = logAxis(xlo, xhi, s.xfmt)
	case s.xfmt != nil:
		_, st := ticks(xlo, xhi, 6)
		f.xf = s.xfmt(st, math.Max(math.Abs(xlo), math.Abs(xhi)))
	}
	switch {
	case s.logY && !oneD:
		f.yt, f.yf = logAxis(ylo, yhi, s.yfmt)
	case s.yfmt != nil:
		_, st := ticks(ylo, yhi, 6)
		f.yf = s.yfmt(st, math.Max(math.Abs(ylo), math.Abs(yhi)))
	}
	// ref maps the reference curve into the plotted (possibly log) units.
	ref := s.refLine
	if ref != nil && (s.logX || s.logY) {
		raw := s.refLine
		ref = func(x float64) float64 {
			if s.logX {
				x = math.Pow(10, x)
			}
			y := raw(x)
			if s.logY {
				if y <= 0 {
					return math.NaN()
				}
				y = math.Log10(y)
			}
			return y
		}
	}
	svgOpen(b, s.w, s.h, s.aria)
	f.grid(b, true, !oneD)
	f.axes(b, s.xtitle, s.ytitle, true, !oneD)
	if s.refLine != nil {
		var path strings.Builder
		for k := 0; k <= 60; k++ {
			xv := xlo + (xhi-xlo)*float64(k)/60
			yv := ref(xv)
			if math.IsNaN(yv) || math.IsInf(yv, 0) {
				continue
			}
			if path.Len() == 0 {
				path.WriteString("M")
			} else {
				path.WriteString("L")
			}
			fmt.Fprintf(&path, "%s %s", c(f.xs.at(xv)), c(f.ys.at(yv)))
		}
		fmt.Fprintf(b, `<clipPath id="clip-%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>`,
			idSafe(s.aria), c(f.x0), c(f.y0), c(f.w), c(f.h))
		fmt.Fprintf(b, `<path class="ref" fill="none" clip-path="url(#clip-%s)" d="%s"/>`, idSafe(s.aria), path.String())
	}
	r := pointRadius(p.n)
	pts := make([][2]float64, 0, p.n)
	var ls []label
	labelAll := p.n <= maxLabelledPoints
	b.WriteString(`<g class="pts">`)
	for i := 0; i < p.n; i++ {
		if math.IsNaN(xs[i]) || math.IsNaN(ys[i]) || math.IsInf(xs[i], 0) || math.IsInf(ys[i], 0) {
			continue
		}
		px, py := f.xs.at(xs[i]), f.ys.at(ys[i])
		pts = append(pts, [2]float64{px, py})
		fmt.Fprintf(b, `<circle%s cx="%s" cy="%s" r="%s"%s><title>%s</title></circle>`,
			p.classAttr(i, ""), c(px), c(py), c(r), p.fillAttr(i), p.tooltip(i))
		if labelAll || (p.outlier[i] && len(ls) < maxLabelledOutliers) {
			ls = append(ls, label{px, py, truncate(p.d.Samples[i], 24)})
		}
	}
	b.WriteString(`</g>`)
	for i := 0; i < p.n; i++ {
		if p.outlier[i] && !math.IsNaN(xs[i]) && !math.IsNaN(ys[i]) && !math.IsInf(xs[i], 0) && !math.IsInf(ys[i], 0) {
			fmt.Fprintf(b, `<circle class="ring" cx="%s" cy="%s" r="%s"/>`, c(f.xs.at(xs[i])), c(f.ys.at(ys[i])), c(r+3.5))
		}
	}
	const size = 11.5
	bounds := rect{f.x0 + 2, f.y0 + 2, f.x0 + f.w - 2, f.y0 + f.h - 2}
	var fixed []rect
	if s.refLine != nil && s.refLabel != "" {
		// Along the curve, from its right end, the first place where the
		// label sits above it clear of the points.
		w := textWidth(s.refLabel, size)
		for k := 60; k >= 0; k-- {
			xv := xlo + (xhi-xlo)*float64(k)/60
			px, py := f.xs.at(xv)-4, f.ys.at(ref(xv))-6
			box := rect{px - w, py - size, px, py + 3}
			free := box.inside(bounds)
			for _, pt := range pts {
				if free && pt[0]+r > box.x0 && pt[0]-r < box.x1 && pt[1]+r > box.y0 && pt[1]-r < box.y1 {
					free = false
				}
			}
			if free {
				fmt.Fprintf(b, `<g class="lbl" font-size="%s"><text x="%s" y="%s" text-anchor="end" fill="#555">%s</text></g>`,
					c(size), c(px), c(py), esc(s.refLabel))
				fixed = append(fixed, box)
				break
			}
		}
	}
	if len(ls) > 0 {
		drawLabels(b, ls, placeLabels(ls, pts, r+1, size, bounds, fixed...), size)
	}
	b.WriteString(`</svg>`)
}

// idSafe turns an internal label into an id fragment.
func idSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ---------------------------------------------------------------- PCA

func (p *page) pcaSection(b *strings.Builder) {
	d := p.d
	b.WriteString(`<section id="pca"><h2>Principal components</h2>`)
	sc := d.PCA.Scores
	if len(sc) == 0 || len(sc[0]) == 0 {
		b.WriteString("<p>Not computed.</p></section>\n")
		return
	}
	k := len(sc[0])
	b.WriteString(`<p>Each point is a sample`)
	if d.PCA.NTop > 0 {
		fmt.Fprintf(b, `; the PCA uses the %s most variable genes`, thousands(float64(d.PCA.NTop)))
	}
	b.WriteString(`. Samples that cluster by a biological factor, and not by batch, are what one hopes to see.</p>`)
	extra := ""
	if len(d.Outliers) > 0 {
		extra = `<span class="key"><span class="sym">◯</span>flagged outlier</span>`
	}
	p.legend(b, extra)
	pairs := [][2]int{{0, 1}}
	switch {
	case k == 1:
		pairs = [][2]int{{0, -1}}
	case k == 3:
		pairs = append(pairs, [2]int{0, 2})
	case k >= 4:
		pairs = append(pairs, [2]int{2, 3})
	}
	comp := func(j int) []float64 {
		v := make([]float64, p.n)
		for i := range v {
			v[i] = sc[i][j]
		}
		return v
	}
	axis := func(j int) string {
		return fmt.Sprintf("PC%d (%s variance)", j+1, percent(d.PCA.VarFrac[j]))
	}
	b.WriteString(`<div class="figs">`)
	for _, pr := range pairs {
		s := scatterSpec{w: 620, h: 500, x: comp(pr[0]), xtitle: axis(pr[0])}
		if p.n > crowdedLabels && p.n <= maxLabelledPoints {
			s.w, s.h = 1000, 660 // room for many names: one plot per row
		}
		if pr[1] >= 0 {
			s.y, s.ytitle = comp(pr[1]), axis(pr[1])
			s.aria = fmt.Sprintf("PC%d vs PC%d", pr[0]+1, pr[1]+1)
		} else {
			s.aria = "PC1"
		}
		b.WriteString(`<figure>`)
		p.scatter(b, s)
		b.WriteString(`</figure>`)
	}
	b.WriteString(`</div>`)
	p.beforeAfter(b, comp, axis)
	b.WriteString(`<p class="cap">Axes are scaled independently, so distances along a low-variance component look larger than they are; the percentages say how much each component explains.`)
	if p.n > maxLabelledPoints {
		b.WriteString(` With this many samples only flagged outliers are labelled; hover over a point for its name.`)
	}
	if k == 1 {
		b.WriteString(` Only one component exists.`)
	}
	b.WriteString("</p></section>\n")
}

// beforeAfter draws PC1/PC2 before a correction (Data.Before) beside
// PC1/PC2 after it, when both exist for every sample.
func (p *page) beforeAfter(b *strings.Builder, comp func(int) []float64, axis func(int) string) {
	bf := p.d.Before
	if bf == nil || len(bf.PCA.Scores) != p.n || len(p.d.PCA.Scores[0]) < 2 || len(bf.PCA.Scores[0]) < 2 || len(bf.PCA.VarFrac) < 2 {
		return
	}
	bcomp := func(j int) []float64 {
		v := make([]float64, p.n)
		for i := range v {
			v[i] = bf.PCA.Scores[i][j]
		}
		return v
	}
	baxis := func(j int) string {
		return fmt.Sprintf("PC%d (%s variance)", j+1, percent(bf.PCA.VarFrac[j]))
	}
	fmt.Fprintf(b, `<h3>Before and after</h3><p>PC1/PC2 of the %s (first) and of the input (second), on the same samples and colours: a correction that worked moves samples from grouping by batch or library to grouping by biology.</p>`, esc(bf.Label))
	b.WriteString(`<div class="figs">`)
	for _, side := range []struct {
		name string
		c    func(int) []float64
		a    func(int) string
	}{{"before: " + bf.Label, bcomp, baxis}, {"after", comp, axis}} {
		fmt.Fprintf(b, `<figure><figcaption>%s</figcaption>`, esc(side.name))
		p.scatter(b, scatterSpec{w: 620, h: 500, x: side.c(0), y: side.c(1), xtitle: side.a(0), ytitle: side.a(1),
			aria: "PC1 vs PC2, " + side.name})
		b.WriteString(`</figure>`)
	}
	b.WriteString(`</div>`)
}

// ---------------------------------------------------------------- heatmap

func (p *page) heatmapSection(b *strings.Builder) {
	d := p.d
	b.WriteString(`<section id="heatmap"><h2>Sample correlation</h2>`)
	h := d.Heatmap
	if h == nil || len(h.Samples) == 0 {
		b.WriteString("<p>Not computed.</p></section>\n")
		return
	}
	m := len(h.Samples)
	ord := make([]int, m) // position -> heatmap sample (0-based)
	for i := range ord {
		ord[i] = i
		if h.Order != nil {
			ord[i] = h.Order[i] - 1
		}
	}
	lo, hi, ok := extent(h.Cor...)
	if !ok {
		lo, hi = 0, 1
	}
	if hi-lo < 1e-6 {
		lo = hi - 0.01
	}
	labelled := m <= maxLabelledHeatmap
	cell := 600.0 / float64(m)
	if labelled {
		cell = math.Max(10, math.Min(36, cell))
	}
	side := cell * float64(m)
	dendro := 0.0
	if h.Merge != nil && m > 1 {
		dendro = 90
	}
	strip := 0.0
	if len(p.cols) > 0 && m <= maxHeatmapPixels {
		strip = 12
	}
	font := math.Min(12, cell*0.95)
	names := make([]string, m)
	labW := 0.0
	for pos, k := range ord {
		names[pos] = truncate(d.Samples[h.Samples[k]], 24)
		labW = math.Max(labW, textWidth(names[pos], font))
	}
	if !labelled {
		labW = 0
	}
	hx := 10 + dendro + 4
	hy := 10 + dendro + 4 + strip + 3
	if dendro == 0 {
		hy = 10 + strip + 3
	}
	legX := hx + side + 8 + labW + 28
	W := legX + 16 + 60
	H := hy + side + 10
	if labelled {
		H += labW + 8
	}
	H = math.Max(H, hy+260)

	fmt.Fprintf(b, `<p>Pearson correlation between samples`)
	if m < p.n {
		fmt.Fprintf(b, ` (%s of the %s samples)`, thousands(float64(m)), thousands(float64(p.n)))
	}
	b.WriteString(`, rows and columns in the order of the hierarchical clustering`)
	if dendro > 0 {
		b.WriteString(`, whose dendrogram is drawn above and to the left`)
	}
	fmt.Fprintf(b, `. Colours span the observed range, r = %s to %s.`, sig(lo, 4), sig(hi, 4))
	if m > maxSVGHeatmap {
		b.WriteString(` The cells are an embedded image; the coloured strip above them gives each sample’s name on hover.`)
	}
	if m > maxHeatmapPixels {
		bl := int(math.Ceil(float64(m) / maxHeatmapPixels))
		fmt.Fprintf(b, ` Each cell is the mean of a %d×%d block of samples in cluster order.`, bl, bl)
	}
	b.WriteString(`</p>`)
	if strip > 0 {
		p.legend(b, "")
	}
	b.WriteString(`<figure>`)
	svgOpen(b, W, H, "sample correlation heatmap")
	val := func(i, j int) float64 { return h.Cor[ord[i]][ord[j]] }
	if m <= maxSVGHeatmap {
		b.WriteString(`<g shape-rendering="crispEdges">`)
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				v := val(i, j)
				fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s × %s: r = %s</title></rect>`,
					c(hx+float64(j)*cell), c(hy+float64(i)*cell), c(cell+0.05), c(cell+0.05), hex(viridis((v-lo)/(hi-lo))),
					esc(d.Samples[h.Samples[ord[i]]]), esc(d.Samples[h.Samples[ord[j]]]), fixed(v, 4))
			}
		}
		b.WriteString(`</g>`)
	} else {
		uri := heatmapPNG(m, val, lo, hi)
		fmt.Fprintf(b, `<image x="%s" y="%s" width="%s" height="%s" preserveAspectRatio="none" style="image-rendering:pixelated" href="%s"/>`,
			c(hx), c(hy), c(side), c(side), uri)
	}
	if strip > 0 {
		b.WriteString(`<g shape-rendering="crispEdges">`)
		for pos, k := range ord {
			i := h.Samples[k]
			fmt.Fprintf(b, `<rect%s x="%s" y="%s" width="%s" height="%s" %s><title>%s</title></rect>`,
				p.classAttr(i, ""), c(hx+float64(pos)*cell), c(hy-strip-3), c(cell+0.05), c(strip), p.fillAttr(i), p.tooltip(i))
		}
		b.WriteString(`</g>`)
	}
	if dendro > 0 {
		pos := make([]float64, m) // leaf k -> centre position in pixels from the heatmap edge
		for ps, k := range ord {
			pos[k] = (float64(ps) + 0.5) * cell
		}
		top := dendrogram(h.Merge, h.Height, pos, func(p, t float64) (float64, float64) {
			return hx + p, hy - strip - 3 - 4 - t*dendro
		})
		left := dendrogram(h.Merge, h.Height, pos, func(p, t float64) (float64, float64) {
			return hx - 4 - t*dendro, hy + p
		})
		sw := c(math.Max(0.4, math.Min(1, cell/2)))
		fmt.Fprintf(b, `<path fill="none" stroke="#444" stroke-width="%s" d="%s"/><path fill="none" stroke="#444" stroke-width="%s" d="%s"/>`, sw, top, sw, left)
	}
	if labelled {
		fmt.Fprintf(b, `<g font-size="%s">`, c(font))
		for ps := range ord {
			yc := hy + (float64(ps)+0.5)*cell
			fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`, c(hx+side+5), c(yc+font*0.35), esc(names[ps]))
			xc := hx + (float64(ps)+0.5)*cell
			fmt.Fprintf(b, `<text transform="translate(%s,%s) rotate(90)">%s</text>`, c(xc-font*0.35), c(hy+side+5), esc(names[ps]))
		}
		b.WriteString(`</g>`)
	}
	// Colour bar.
	barH := math.Max(160, math.Min(side, 300))
	barY := hy
	b.WriteString(`<linearGradient id="viridis" x1="0" y1="1" x2="0" y2="0">`)
	for k := 0; k <= 10; k++ {
		fmt.Fprintf(b, `<stop offset="%s" stop-color="%s"/>`, c(float64(k)/10), hex(viridis(float64(k)/10)))
	}
	b.WriteString(`</linearGradient>`)
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="16" height="%s" fill="url(#viridis)"/>`, c(legX), c(barY), c(barH))
	fmt.Fprintf(b, `<rect class="box" x="%s" y="%s" width="16" height="%s"/>`, c(legX), c(barY), c(barH))
	tk, st := ticks(lo, hi, 5)
	tf := tickFormat(st)
	b.WriteString(`<g class="tick">`)
	for _, t := range tk {
		y := barY + barH*(1-(t-lo)/(hi-lo))
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/><text x="%s" y="%s">%s</text>`,
			c(legX+16), c(y), c(legX+21), c(y), c(legX+24), c(y+4), tf(t))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(b, `<text class="ptitle" x="%s" y="%s">r</text>`, c(legX+4), c(barY+barH+20))
	b.WriteString(`</svg></figure></section>` + "\n")
}

// dendrogram returns the SVG path of an hclust tree: leaf k sits at pos[k]
// along the heatmap edge, and heights are scaled to [0, 1] (the root at 1).
// at maps (position, scaled height) to pixels.
func dendrogram(merge [][2]int, height []float64, pos []float64, at func(p, t float64) (float64, float64)) string {
	hmax := 0.0
	for _, v := range height {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			hmax = math.Max(hmax, v)
		}
	}
	if hmax <= 0 {
		hmax = 1
	}
	th := func(v float64) float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return 0
		}
		return math.Min(v/hmax, 1)
	}
	np := make([]float64, len(merge)) // node position
	nh := make([]float64, len(merge)) // node scaled height
	item := func(v int) (float64, float64) {
		if v < 0 {
			return pos[-v-1], 0
		}
		return np[v-1], nh[v-1]
	}
	var b strings.Builder
	for s, row := range merge {
		pa, ha := item(row[0])
		pb, hb := item(row[1])
		hs := math.Max(th(height[s]), math.Max(ha, hb))
		np[s], nh[s] = (pa+pb)/2, hs
		x1, y1 := at(pa, ha)
		x2, y2 := at(pa, hs)
		x3, y3 := at(pb, hs)
		x4, y4 := at(pb, hb)
		fmt.Fprintf(&b, "M%s %sL%s %sL%s %sL%s %s", c(x1), c(y1), c(x2), c(y2), c(x3), c(y3), c(x4), c(y4))
	}
	return b.String()
}

// heatmapPNG draws the matrix val(i, j) (i, j < m, in display order) as a
// paletted PNG data URI, one pixel per cell; beyond maxHeatmapPixels cells a
// side, each pixel is the mean of a square block of cells.
func heatmapPNG(m int, val func(i, j int) float64, lo, hi float64) string {
	bl := 1
	if m > maxHeatmapPixels {
		bl = int(math.Ceil(float64(m) / maxHeatmapPixels))
	}
	side := (m + bl - 1) / bl
	pal := make(color.Palette, 256)
	for k := 0; k < 255; k++ {
		pal[k] = viridis(float64(k) / 254)
	}
	pal[255] = color.RGBA{0xBB, 0xBB, 0xBB, 0xFF} // NaN
	img := image.NewPaletted(image.Rect(0, 0, side, side), pal)
	for bi := 0; bi < side; bi++ {
		for bj := 0; bj < side; bj++ {
			sum, cnt := 0.0, 0
			for i := bi * bl; i < min((bi+1)*bl, m); i++ {
				for j := bj * bl; j < min((bj+1)*bl, m); j++ {
					if v := val(i, j); !math.IsNaN(v) {
						sum += v
						cnt++
					}
				}
			}
			idx := uint8(255)
			if cnt > 0 {
				t := (sum/float64(cnt) - lo) / (hi - lo)
				idx = uint8(math.Round(math.Max(0, math.Min(1, t)) * 254))
			}
			img.SetColorIndex(bj, bi, idx)
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil { // cannot fail writing to memory
		panic(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// ---------------------------------------------------------------- samples along x

// sampleAxis is the layout shared by the box plots and the library-size
// bars: one slot per sample in sample order.
type sampleAxis struct {
	w, h, ml, mt, plotH, slot, labW float64
	labelled, drawn                 bool
}

func (p *page) newSampleAxis(plotH float64) sampleAxis {
	a := sampleAxis{ml: 74, mt: 16, plotH: plotH}
	a.drawn = p.n <= maxDrawnSamples
	a.labelled = p.n <= maxLabelledPoints
	if a.drawn {
		a.w = math.Max(460, math.Min(1280, 110+float64(p.n)*44))
	} else {
		a.w = 1280
	}
	a.slot = (a.pw()) / float64(max(p.n, 1))
	if a.labelled {
		for _, s := range p.d.Samples {
			a.labW = math.Max(a.labW, textWidth(truncate(s, 24), 11.5))
		}
	}
	a.h = a.mt + plotH + 12
	if a.labelled {
		a.h += a.labW*math.Sin(55*math.Pi/180) + 16
	} else {
		a.h += 50
	}
	return a
}

// pw is the width of the plotting area (the right margin leaves room for
// the last tick label).
func (a sampleAxis) pw() float64 { return a.w - a.ml - 28 }

func (a sampleAxis) x(i int) float64 { return a.ml + (float64(i)+0.5)*a.slot }

// names writes rotated sample names under the plot, or an axis title.
func (a sampleAxis) names(b *strings.Builder, p *page) {
	yb := a.mt + a.plotH
	if a.labelled {
		b.WriteString(`<g font-size="11.5">`)
		for i, s := range p.d.Samples {
			fmt.Fprintf(b, `<text text-anchor="end" transform="translate(%s,%s) rotate(-55)">%s</text>`,
				c(a.x(i)+4), c(yb+10), esc(truncate(s, 24)))
		}
		b.WriteString(`</g>`)
		return
	}
	tk, _ := ticks(1, float64(p.n), 8)
	b.WriteString(`<g class="tick">`)
	for _, t := range tk {
		if t < 1 || t != math.Trunc(t) {
			continue
		}
		x := a.x(int(t) - 1)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/><text x="%s" y="%s" text-anchor="middle">%s</text>`,
			c(x), c(yb), c(x), c(yb+5), c(x), c(yb+18), thousands(t))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(b, `<text class="atitle" x="%s" y="%s" text-anchor="middle">sample (input order)</text>`,
		c(a.ml+(a.pw())/2), c(yb+38))
}

// ---------------------------------------------------------------- box plots

func (p *page) boxSection(b *strings.Builder) {
	d := p.d
	b.WriteString(`<section id="counts"><h2>Counts before and after normalization</h2>`)
	if len(d.BoxBefore) == 0 && len(d.BoxAfter) == 0 {
		b.WriteString("<p>Not computed.</p></section>\n")
		return
	}
	var all []float64
	for _, bs := range [][]Box{d.BoxBefore, d.BoxAfter} {
		for _, x := range bs {
			all = append(all, x.Min, x.Max, x.Q1, x.Q3, x.Median)
		}
	}
	lo, hi, ok := extent(all)
	if !ok {
		lo, hi = 0, 1
	}
	lo, hi = pad(lo, hi, 0.04)
	if p.n <= maxDrawnSamples {
		b.WriteString(`<p>Per sample: the box spans the quartiles of log2 counts over genes, the thick line is the median and the whiskers reach the minimum and maximum. After normalization the boxes should line up.</p>`)
		p.legend(b, "")
	} else {
		b.WriteString(`<p>Per sample, in input order: the dark line is the median log2 count, the band the interquartile range (Q1–Q3) and the light band the minimum to maximum. After normalization the medians should form a flat line.</p>`)
	}
	b.WriteString(`<div class="figs">`)
	if len(d.BoxBefore) > 0 {
		p.boxPanel(b, d.BoxBefore, "Before: log2(count + 1)", "log2(count + 1)", lo, hi)
	}
	if len(d.BoxAfter) > 0 {
		p.boxPanel(b, d.BoxAfter, "After: log2(count / size factor + 1)", "log2(normalized + 1)", lo, hi)
	}
	b.WriteString("</div></section>\n")
}

func (p *page) boxPanel(b *strings.Builder, boxes []Box, title, ytitle string, lo, hi float64) {
	a := p.newSampleAxis(280)
	a.mt = 30
	a.h += 14
	f := newFrame(a.ml, a.mt, a.pw(), a.plotH, 0, 1, lo, hi, 1, 6)
	b.WriteString(`<figure>`)
	svgOpen(b, a.w, a.h, title)
	fmt.Fprintf(b, `<text class="ptitle" x="%s" y="18">%s</text>`, c(a.ml), esc(title))
	f.grid(b, false, true)
	f.axes(b, "", ytitle, false, true)
	y := f.ys.at
	if a.drawn {
		bw := math.Max(2, math.Min(30, a.slot*0.65))
		for i, x := range boxes {
			if math.IsNaN(x.Median) {
				continue
			}
			xc := a.x(i)
			fmt.Fprintf(b, `<g><title>%s&#10;max %s · Q3 %s · median %s · Q1 %s · min %s</title>`, p.tooltip(i),
				fixed(x.Max, 2), fixed(x.Q3, 2), fixed(x.Median, 2), fixed(x.Q1, 2), fixed(x.Min, 2))
			fmt.Fprintf(b, `<line stroke="#555" x1="%s" y1="%s" x2="%s" y2="%s"/><line stroke="#555" x1="%s" y1="%s" x2="%s" y2="%s"/>`,
				c(xc), c(y(x.Max)), c(xc), c(y(x.Q3)), c(xc), c(y(x.Q1)), c(xc), c(y(x.Min)))
			if a.slot >= 8 {
				fmt.Fprintf(b, `<line stroke="#555" x1="%s" y1="%s" x2="%s" y2="%s"/><line stroke="#555" x1="%s" y1="%s" x2="%s" y2="%s"/>`,
					c(xc-bw/4), c(y(x.Max)), c(xc+bw/4), c(y(x.Max)), c(xc-bw/4), c(y(x.Min)), c(xc+bw/4), c(y(x.Min)))
			}
			fmt.Fprintf(b, `<rect%s x="%s" y="%s" width="%s" height="%s" %s fill-opacity="0.55" stroke="#333"/>`,
				p.classAttr(i, ""), c(xc-bw/2), c(y(x.Q3)), c(bw), c(math.Max(y(x.Q1)-y(x.Q3), 0.5)), p.fillAttr(i))
			fmt.Fprintf(b, `<line stroke="#000" stroke-width="2.2" x1="%s" y1="%s" x2="%s" y2="%s"/></g>`,
				c(xc-bw/2), c(y(x.Median)), c(xc+bw/2), c(y(x.Median)))
		}
	} else {
		pick := func(v func(Box) float64) func(int) float64 { return func(i int) float64 { return v(boxes[i]) } }
		sp, ok := columns(a, len(boxes), pick(func(x Box) float64 { return x.Min }), pick(func(x Box) float64 { return x.Max }))
		fmt.Fprintf(b, `<path fill="#c9dcee" d="%s"/>`, bandPath(sp, ok, y))
		sp, ok = columns(a, len(boxes), pick(func(x Box) float64 { return x.Q1 }), pick(func(x Box) float64 { return x.Q3 }))
		fmt.Fprintf(b, `<path fill="#5b95c9" fill-opacity="0.8" d="%s"/>`, bandPath(sp, ok, y))
		med := pick(func(x Box) float64 { return x.Median })
		sp, ok = columns(a, len(boxes), med, med)
		fmt.Fprintf(b, `<path fill="none" stroke="#08306b" stroke-width="1.2" stroke-linejoin="round" d="%s"/>`, linePath(sp, ok, y))
	}
	a.names(b, p)
	b.WriteString(`</svg></figure>`)
}

// span is one drawn column of a summarised per-sample series: the samples
// whose slots fall in one pixel column, and the range of their values.
type span struct{ x, lo, hi float64 }

// columns bins samples into pixel columns when there are more samples than
// pixels (what a renderer would show anyway, at a fraction of the size), and
// keeps one column per sample otherwise. Each column holds the minimum of
// lower and the maximum of upper over its samples; missing values break the
// series (ok false).
func columns(a sampleAxis, n int, lower, upper func(int) float64) (out []span, ok []bool) {
	width := a.pw()
	bins := n
	if float64(n) > width {
		bins = int(width)
	}
	for k := 0; k < bins; k++ {
		i0, i1 := k*n/bins, (k+1)*n/bins
		sp := span{x: a.ml + (float64(i0+i1)/2)*a.slot, lo: math.Inf(1), hi: math.Inf(-1)}
		for i := i0; i < i1; i++ {
			if l, u := lower(i), upper(i); !math.IsNaN(l) && !math.IsNaN(u) {
				sp.lo, sp.hi = math.Min(sp.lo, l), math.Max(sp.hi, u)
			}
		}
		out = append(out, sp)
		ok = append(ok, sp.lo <= sp.hi)
	}
	return out, ok
}

// bandPath is the closed outline of the columns' ranges, broken at gaps.
func bandPath(sp []span, ok []bool, y func(float64) float64) string {
	var b strings.Builder
	var run []int
	flush := func() {
		if len(run) == 0 {
			return
		}
		for k, i := range run {
			cmd := "L"
			if k == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&b, "%s%s %s", cmd, c(sp[i].x), c(y(sp[i].hi)))
		}
		for k := len(run) - 1; k >= 0; k-- {
			fmt.Fprintf(&b, "L%s %s", c(sp[run[k]].x), c(y(sp[run[k]].lo)))
		}
		b.WriteString("Z")
		run = run[:0]
	}
	for i := range sp {
		if !ok[i] {
			flush()
			continue
		}
		run = append(run, i)
	}
	flush()
	return b.String()
}

// linePath is the polyline through the columns' values (lo == hi when a
// column holds one sample), broken at gaps.
func linePath(sp []span, ok []bool, y func(float64) float64) string {
	var b strings.Builder
	pen := false
	for i, s := range sp {
		if !ok[i] {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		fmt.Fprintf(&b, "%s%s %s", cmd, c(s.x), c(y(s.lo)))
		if s.hi != s.lo {
			fmt.Fprintf(&b, "L%s %s", c(s.x), c(y(s.hi)))
		}
		pen = true
	}
	return b.String()
}

// ---------------------------------------------------------------- library sizes

func (p *page) libSection(b *strings.Builder) {
	d := p.d
	b.WriteString(`<section id="libsize"><h2>Library sizes and size factors</h2>`)
	if len(d.LibSize) == 0 {
		b.WriteString("<p>Not computed.</p></section>\n")
		return
	}
	b.WriteString(`<p>Library size is the sum of a sample’s counts. The median-of-ratios size factor follows it only when the samples differ in depth alone; where it departs from the dashed line (library size over its geometric mean) the composition differs, e.g. a few very highly expressed genes take up more of one library.</p>`)
	if p.n <= maxDrawnSamples || len(d.SizeFactor) == p.n {
		p.legend(b, "")
	}
	b.WriteString(`<div class="figs">`)
	a := p.newSampleAxis(260)
	_, hiL, ok := extent(d.LibSize)
	if !ok {
		hiL = 1
	}
	hiL *= 1.05
	f := newFrame(a.ml, a.mt, a.pw(), a.plotH, 0, 1, 0, hiL, 1, 5)
	_, st := ticks(0, hiL, 5)
	f.yf = siFormat(st, hiL)
	b.WriteString(`<figure>`)
	svgOpen(b, a.w, a.h, "library sizes")
	f.grid(b, false, true)
	f.axes(b, "", "Library size (reads)", false, true)
	y0 := f.ys.at(0)
	if a.drawn {
		bw := math.Max(1, math.Min(34, a.slot*0.75))
		for i, v := range d.LibSize {
			if math.IsNaN(v) {
				continue
			}
			yv := f.ys.at(v)
			fmt.Fprintf(b, `<rect%s x="%s" y="%s" width="%s" height="%s" %s><title>%s&#10;library size %s</title></rect>`,
				p.classAttr(i, ""), c(a.x(i)-bw/2), c(yv), c(bw), c(y0-yv), p.fillAttr(i), p.tooltip(i), thousands(v))
		}
	} else {
		lib := func(i int) float64 { return d.LibSize[i] }
		sp, ok := columns(a, p.n, lib, lib)
		for i := range sp {
			sp[i].lo = 0
		}
		fmt.Fprintf(b, `<path fill="#5b95c9" d="%s"/>`, bandPath(sp, ok, f.ys.at))
	}
	a.names(b, p)
	b.WriteString(`</svg></figure>`)
	if len(d.SizeFactor) == p.n {
		gm, k := 0.0, 0
		for _, v := range d.LibSize {
			if v > 0 && !math.IsInf(v, 0) {
				gm += math.Log(v)
				k++
			}
		}
		s := scatterSpec{aria: "size factor vs library size", w: 560, h: 460, x: d.LibSize, y: d.SizeFactor,
			xtitle: "Library size (reads, log scale)", ytitle: "Size factor (log scale)", xfmt: siFormat, logX: true, logY: true}
		switch {
		case !a.drawn: // alone on its row, and many points
			s.w, s.h = 760, 540
		case p.n > crowdedLabels && p.n <= maxLabelledPoints:
			s.w, s.h = 1000, 620
		}
		if k > 0 {
			gm = math.Exp(gm / float64(k))
			s.refLine = func(x float64) float64 { return x / gm }
			s.refLabel = "library size / geometric mean"
		}
		b.WriteString(`<figure>`)
		p.scatter(b, s)
		b.WriteString(`</figure>`)
	}
	b.WriteString("</div></section>\n")
}

// ---------------------------------------------------------------- median of ratios

func (p *page) ratioSection(b *strings.Builder) {
	d := p.d
	b.WriteString(`<section id="ratios"><h2>How median-of-ratios works</h2>`)
	b.WriteString(`<p>DESeq2 builds a pseudo-reference sample from each gene’s geometric mean across all samples (genes with a zero anywhere are left out). For one sample, every gene gives a ratio count / geometric mean. Most genes are not differentially expressed, so their ratios all reflect just the sequencing depth: the <b>median</b> ratio is the size factor. Below, each panel sorts one sample’s log ratios from smallest to largest; the flat middle of the curve is where the median sits (orange line and dot), and <b>size factor = exp(median)</b>. A curve above zero means a deeper library than the reference.</p>`)
	curves := d.LogRatios
	if len(curves) == 0 {
		b.WriteString("<p>Not computed.</p></section>\n")
		return
	}
	if len(curves) > maxRatioPanels {
		fmt.Fprintf(b, `<p>Showing %d of the %d samples given.</p>`, maxRatioPanels, len(curves))
		curves = curves[:maxRatioPanels]
	}
	// A shared y range from the 2% to the 98% points of all curves, so the
	// medians can be compared across panels; the tails are clipped.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range curves {
		q := r.Quantiles
		if len(q) == 0 {
			continue
		}
		at := func(pr float64) float64 { return q[int(math.Round(pr*float64(len(q)-1)))] }
		for _, v := range []float64{at(0.02), at(0.98), r.Median, 0} {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if !(lo <= hi) {
		lo, hi = -1, 1
	}
	lo, hi = pad(lo, hi, 0.08)
	b.WriteString(`<div class="figs small">`)
	for n, r := range curves {
		p.ratioPanel(b, n, r, lo, hi)
	}
	b.WriteString(`</div>`)
	b.WriteString(`<p class="cap">x: the gene’s rank among the sample’s log ratios, as a fraction (0 = smallest); y: natural log of count / geometric mean. All panels share the y axis, which shows the 2%–98% range; the tails are cut off.</p>`)
	b.WriteString("</section>\n")
}

func (p *page) ratioPanel(b *strings.Builder, n int, r RatioCurve, lo, hi float64) {
	const w, h = 296.0, 250.0
	const ml, mr, mt, mb = 52.0, 12.0, 58.0, 44.0
	f := newFrame(ml, mt, w-ml-mr, h-mt-mb, 0, 1, lo, hi, 4, 5)
	name := p.d.Samples[r.Sample]
	b.WriteString(`<figure>`)
	svgOpen(b, w, h, "log ratios of "+name)
	fmt.Fprintf(b, `<title>%s</title>`, p.tooltip(r.Sample))
	fmt.Fprintf(b, `<text class="ptitle" x="%s" y="16">%s</text>`, c(ml), esc(truncate(name, 34)))
	var sub []string
	if r.N > 0 {
		sub = append(sub, thousands(float64(r.N))+" genes")
	}
	finite := !math.IsNaN(r.Median) && !math.IsInf(r.Median, 0)
	if finite {
		sub = append(sub, "median = "+fixed(r.Median, 3))
	}
	fmt.Fprintf(b, `<text x="%s" y="32">%s</text>`, c(ml), strings.Join(sub, " · "))
	if finite {
		fmt.Fprintf(b, `<text x="%s" y="48">size factor = exp(median) = <tspan font-weight="700">%s</tspan></text>`, c(ml), sig(math.Exp(r.Median), 4))
	}
	f.grid(b, true, true)
	f.axes(b, "", "", true, true)
	fmt.Fprintf(b, `<text class="tick" x="%s" y="%s" text-anchor="middle">rank fraction</text>`, c(ml+f.w/2), c(h-8))
	fmt.Fprintf(b, `<text class="tick" transform="translate(14,%s) rotate(-90)" text-anchor="middle">log ratio</text>`, c(mt+f.h/2))
	if lo < 0 && hi > 0 {
		fmt.Fprintf(b, `<line class="ref" x1="%s" y1="%s" x2="%s" y2="%s"/>`, c(f.x0), c(f.ys.at(0)), c(f.x0+f.w), c(f.ys.at(0)))
	}
	id := fmt.Sprintf("rc%d", n)
	fmt.Fprintf(b, `<clipPath id="%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>`, id, c(f.x0), c(f.y0), c(f.w), c(f.h))
	var path strings.Builder
	q := r.Quantiles
	pen := false
	for k, v := range q {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		x := 0.5
		if len(q) > 1 {
			x = float64(k) / float64(len(q)-1)
		}
		fmt.Fprintf(&path, "%s%s %s", cmd, c(f.xs.at(x)), c(f.ys.at(v)))
		pen = true
	}
	fmt.Fprintf(b, `<path clip-path="url(#%s)" fill="none" stroke="#0072B2" stroke-width="2" d="%s"/>`, id, path.String())
	if finite {
		ym := f.ys.at(r.Median)
		fmt.Fprintf(b, `<line stroke="#D55E00" stroke-width="1.5" x1="%s" y1="%s" x2="%s" y2="%s"/>`, c(f.x0), c(ym), c(f.x0+f.w), c(ym))
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="4.5" fill="#D55E00" stroke="#fff"/>`, c(f.xs.at(0.5)), c(ym))
	}
	b.WriteString(`</svg></figure>`)
}
