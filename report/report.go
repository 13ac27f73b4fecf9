// Package report renders colnorm's sample QC report: one self-contained HTML
// file (inline CSS and inline SVG, no scripts, nothing fetched from the
// network) that a person opens in a browser.
//
// The page holds, in order: a header (title, input, method, counts, notes);
// the flagged outliers and the size factors; PCA scatter plots (PC1 vs PC2,
// and PC3 vs PC4, or PC1 vs PC3 when there are three components); the sample
// correlation heatmap (viridis colours over the observed range) with its
// dendrograms; box plots of log2 counts before and after normalization;
// library sizes, and size factor against library size on log axes; and the
// "how median-of-ratios works" panels.
//
// Colouring by metadata: every sample mark carries one CSS class per factor
// level ("f0l2 f1l0"), and a row of radio buttons at the top (pure CSS, no
// JavaScript) chooses which factor's colours apply to every plot. Without
// factors everything is one colour. Factors with more than eight levels keep
// the Okabe–Ito colour for their seven most frequent levels and show the rest
// as grey "other"; missing values are light grey "NA".
//
// Sizes: the page stays readable at a few samples and useful at thousands.
// Sample names label the scatter plots up to 50 samples (from 21 samples on,
// each labelled plot gets a full row); beyond, only flagged outliers are
// labelled and every point keeps a hover tooltip. Labels are placed greedily
// next to their points, moving outward with a leader line when crowded. Box
// plots and library-size bars are drawn per sample up to 200 samples and as
// bands/lines in sample order beyond (binned to one column per pixel: the
// range of the samples falling in it). The heatmap is drawn as SVG cells
// with tooltips up to 50 samples, and as an inline PNG (a data: URI made
// with image/png, one pixel per cell, scaled without smoothing) beyond; past
// 500 heatmap samples the PNG shows the means of square blocks of cells (in
// cluster order) so that it has at most 500×500 pixels. Heatmap sample names
// are shown up to 100 samples. At most eight factors are offered for
// colouring, and beyond 50 samples tooltips name only the first three. With
// 5,000 samples, a 500-sample heatmap and three factors the file is about
// 3.3 MB.
package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Data is everything the report shows. Slices that are empty mean "not
// computed" and leave their section out (with a line saying so); non-empty
// per-sample slices must have one entry per sample.
type Data struct {
	Title   string
	Input   string   // input path, shown in the header
	Method  string   // e.g. "VST (parametric trend: a0=0.0196, a1=3.68)"
	Notes   []string // messages such as fall-backs, subsampling
	Samples []string
	Genes   int      // number of genes in the input (0: not known)
	Factors []Factor // metadata columns; may be empty

	LibSize    []float64 // per sample, raw column sums
	SizeFactor []float64 // per sample, DESeq2 size factors

	PCA       PCA
	Heatmap   *Heatmap     // nil when not computed
	BoxBefore []Box        // per sample: summary of log2(count+1)
	BoxAfter  []Box        // per sample: summary of log2(count/sizefactor+1)
	LogRatios []RatioCurve // a selection of samples (may be fewer than all)
	Outliers  []Outlier
	// Before, when not nil, is the PCA of the same samples before a
	// correction (batch correction, spike-in size factors), drawn beside
	// PC1/PC2 after it.
	Before *Comparison
}

// Comparison is a PCA of the same samples under another treatment.
type Comparison struct {
	Label string // what the samples were before, e.g. "uncorrected counts"
	PCA   PCA
}

// Factor is one metadata column: a level per sample.
type Factor struct {
	Name   string
	Levels []string // one per sample
}

// PCA holds sample scores on the first components.
type PCA struct {
	Scores  [][]float64 // samples x k, k <= 4
	VarFrac []float64   // len k, fractions of the total variance
	NTop    int         // number of most variable genes used (0: not known)
}

// Heatmap is the sample correlation matrix and its hierarchical clustering,
// in R's hclust conventions.
type Heatmap struct {
	Samples []int       // indices into Data.Samples of the samples in the heatmap (all, or a subsample)
	Cor     [][]float64 // len(Samples) x len(Samples) Pearson correlations
	// Merge is R's hclust merge: row s joins two items; negative -k is
	// singleton k (1-based index into Heatmap.Samples), positive s' is the
	// cluster made by earlier row s' (1-based). Nil: no dendrogram.
	Merge  [][2]int
	Height []float64 // merge heights, one per Merge row
	Order  []int     // R hclust order: 1-based positions into Heatmap.Samples, left to right (nil: as given)
}

// Box summarises one sample's values; the whiskers go to Min and Max.
type Box struct{ Min, Q1, Median, Q3, Max float64 }

// RatioCurve is one sample's sorted log ratios to the geometric means.
type RatioCurve struct {
	Sample    int       // index into Data.Samples
	Quantiles []float64 // sorted log ratios log(count/geomean) at evenly spaced probabilities 0..1 (e.g. 101 points)
	Median    float64   // the median log ratio; exp(Median) is the size factor
	N         int       // number of genes used
}

// Outlier is a sample flagged by the QC rules, and why.
type Outlier struct {
	Sample     int
	MedianCor  float64
	PCDistance float64
	Reasons    []string
}

// Thresholds of the summarising rules.
const (
	maxLabelledPoints   = 50  // PCA and scatter points labelled with names
	crowdedLabels       = 20  // beyond, labelled scatter plots get a row each
	maxDrawnSamples     = 200 // box plots and bars drawn one per sample
	maxSVGHeatmap       = 50  // heatmap as SVG cells (with tooltips)
	maxLabelledHeatmap  = 100 // heatmap sample names shown
	maxHeatmapPixels    = 500 // heatmap raster side, in cells
	maxFullTable        = 50  // size-factor table shown open
	maxRatioPanels      = 48  // median-of-ratios small multiples drawn
	maxLabelledOutliers = 40  // outliers labelled in large PCA plots
	maxColourFactors    = 8   // factors offered for colouring (the first ones)
	maxTipFactors       = 3   // factors in tooltips and the full table beyond maxLabelledPoints samples
)

// Write renders the report for d as one HTML document.
func Write(w io.Writer, d *Data) error {
	if d == nil {
		return errors.New("report: no data")
	}
	if err := validate(d); err != nil {
		return err
	}
	p := newPage(d)
	var b strings.Builder
	p.render(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// validate checks that the shapes agree, so that a mistake in the caller
// shows as an error rather than as a wrong picture.
func validate(d *Data) error {
	n := len(d.Samples)
	per := func(name string, k int) error {
		if k != 0 && k != n {
			return fmt.Errorf("report: %s has %d entries for %d samples", name, k, n)
		}
		return nil
	}
	for _, f := range d.Factors {
		if len(f.Levels) != n {
			return fmt.Errorf("report: factor %q has %d levels for %d samples", f.Name, len(f.Levels), n)
		}
	}
	for _, e := range []error{
		per("LibSize", len(d.LibSize)), per("SizeFactor", len(d.SizeFactor)),
		per("PCA.Scores", len(d.PCA.Scores)), per("BoxBefore", len(d.BoxBefore)), per("BoxAfter", len(d.BoxAfter)),
	} {
		if e != nil {
			return e
		}
	}
	if len(d.PCA.Scores) > 0 {
		k := len(d.PCA.Scores[0])
		for i, r := range d.PCA.Scores {
			if len(r) != k {
				return fmt.Errorf("report: PCA.Scores row %d has %d components, row 0 has %d", i, len(r), k)
			}
		}
		if len(d.PCA.VarFrac) != k {
			return fmt.Errorf("report: PCA.VarFrac has %d entries for %d components", len(d.PCA.VarFrac), k)
		}
	}
	for _, r := range d.LogRatios {
		if r.Sample < 0 || r.Sample >= n {
			return fmt.Errorf("report: LogRatios sample %d out of range [0, %d)", r.Sample, n)
		}
	}
	for _, o := range d.Outliers {
		if o.Sample < 0 || o.Sample >= n {
			return fmt.Errorf("report: outlier sample %d out of range [0, %d)", o.Sample, n)
		}
	}
	if h := d.Heatmap; h != nil {
		m := len(h.Samples)
		for _, s := range h.Samples {
			if s < 0 || s >= n {
				return fmt.Errorf("report: heatmap sample %d out of range [0, %d)", s, n)
			}
		}
		if len(h.Cor) != m {
			return fmt.Errorf("report: heatmap has %d correlation rows for %d samples", len(h.Cor), m)
		}
		for i, r := range h.Cor {
			if len(r) != m {
				return fmt.Errorf("report: heatmap correlation row %d has %d entries for %d samples", i, len(r), m)
			}
		}
		if h.Order != nil {
			if len(h.Order) != m {
				return fmt.Errorf("report: heatmap order has %d entries for %d samples", len(h.Order), m)
			}
			seen := make([]bool, m)
			for _, o := range h.Order {
				if o < 1 || o > m || seen[o-1] {
					return fmt.Errorf("report: heatmap order is not a permutation of 1..%d", m)
				}
				seen[o-1] = true
			}
		}
		if h.Merge != nil {
			if err := validMerge(h.Merge, h.Height, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// validMerge checks an hclust merge matrix: m-1 rows, each item used once,
// clusters referring to earlier rows.
func validMerge(merge [][2]int, height []float64, m int) error {
	if len(merge) != max(m-1, 0) {
		return fmt.Errorf("report: heatmap merge has %d rows for %d samples", len(merge), m)
	}
	if len(height) != len(merge) {
		return fmt.Errorf("report: heatmap has %d heights for %d merges", len(height), len(merge))
	}
	usedLeaf := make([]bool, m)
	usedNode := make([]bool, len(merge))
	for s, row := range merge {
		for _, v := range row {
			switch {
			case v < 0 && -v <= m && !usedLeaf[-v-1]:
				usedLeaf[-v-1] = true
			case v > 0 && v <= s && !usedNode[v-1]:
				usedNode[v-1] = true
			default:
				return fmt.Errorf("report: heatmap merge row %d refers to %d, which is not an unused earlier item", s+1, v)
			}
		}
	}
	return nil
}

// page is the state shared by the sections while rendering.
type page struct {
	d       *Data
	n       int
	cols    []*colouring
	cls     []string // per sample: the class attribute value (may be empty)
	fill    []string // per sample: the colour without CSS (first factor)
	outlier []bool
	tip     int // number of factors named in tooltips and the full table
}

func newPage(d *Data) *page {
	p := &page{d: d, n: len(d.Samples)}
	for k, f := range d.Factors {
		if k == maxColourFactors {
			break
		}
		p.cols = append(p.cols, newColouring(f))
	}
	// With many samples, every mark's tooltip and the full table name only
	// the first factors, so that the file stays small.
	p.tip = len(p.cols)
	if p.n > maxLabelledPoints {
		p.tip = min(p.tip, maxTipFactors)
	}
	p.cls = make([]string, p.n)
	p.fill = make([]string, p.n)
	for i := range p.n {
		var parts []string
		for fi, col := range p.cols {
			parts = append(parts, fmt.Sprintf("f%dl%d", fi, col.of[i]))
		}
		p.cls[i] = strings.Join(parts, " ")
		p.fill[i] = plainColour
		if len(p.cols) > 0 {
			p.fill[i] = p.cols[0].colours[p.cols[0].of[i]]
		}
	}
	p.outlier = make([]bool, p.n)
	for _, o := range d.Outliers {
		p.outlier[o.Sample] = true
	}
	return p
}

// classAttr returns ` class="..."` for sample i with extra classes.
func (p *page) classAttr(i int, extra string) string {
	s := strings.TrimSpace(extra + " " + p.cls[i])
	if s == "" {
		return ""
	}
	return ` class="` + s + `"`
}

// tooltip is the hover text of sample i: its name and factor levels.
func (p *page) tooltip(i int) string {
	var b strings.Builder
	b.WriteString(p.d.Samples[i])
	for _, f := range p.d.Factors[:p.tip] {
		b.WriteString(" · ")
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Levels[i])
	}
	return esc(b.String())
}

func (p *page) render(b *strings.Builder) {
	d := p.d
	title := d.Title
	if title == "" {
		title = "Sample QC report"
	}
	b.WriteString("<!DOCTYPE html>\n")
	b.WriteString(`<html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>`)
	fmt.Fprintf(b, "<title>%s</title>\n<style>\n", esc(title))
	b.WriteString(baseCSS)
	p.colourCSS(b)
	b.WriteString("</style></head>\n<body>\n")
	for fi := range p.cols {
		checked := ""
		if fi == 0 {
			checked = ` checked="checked"`
		}
		fmt.Fprintf(b, `<input type="radio" name="colour" class="cf" id="cf%d"%s/>`, fi, checked)
	}
	p.nav(b)
	b.WriteString(`<div class="wrap">`)
	p.header(b, title)
	p.summary(b)
	p.pcaSection(b)
	p.heatmapSection(b)
	p.boxSection(b)
	p.libSection(b)
	p.ratioSection(b)
	b.WriteString(`<footer>Written by colnorm. Self-contained: no scripts, fonts or images are loaded from anywhere.</footer>`)
	b.WriteString("</div>\n</body></html>\n")
}

// colourCSS writes the rules that colour every sample mark by the factor
// whose radio button is checked, and show that factor's legend.
func (p *page) colourCSS(b *strings.Builder) {
	for fi, col := range p.cols {
		for li, cl := range col.colours {
			fmt.Fprintf(b, "#cf%d:checked~.wrap .f%dl%d{fill:%s}\n", fi, fi, li, cl)
		}
		fmt.Fprintf(b, "#cf%d:checked~.wrap .lf%d{display:flex}\n", fi, fi)
		fmt.Fprintf(b, "#cf%d:checked~nav label[for=cf%d]{background:#0b5394;color:#fff;border-color:#0b5394}\n", fi, fi)
		fmt.Fprintf(b, "#cf%d:focus-visible~nav label[for=cf%d]{outline:2px solid #E69F00}\n", fi, fi)
	}
}

func (p *page) nav(b *strings.Builder) {
	b.WriteString(`<nav><span class="links"><a href="#summary">Summary</a><a href="#pca">PCA</a><a href="#heatmap">Correlation</a><a href="#counts">Counts</a><a href="#libsize">Library sizes</a><a href="#ratios">Median of ratios</a></span>`)
	switch len(p.cols) {
	case 0:
	case 1:
		fmt.Fprintf(b, `<span class="switch">Coloured by <b>%s</b></span>`, esc(p.cols[0].name))
	default:
		b.WriteString(`<span class="switch">Colour samples by:`)
		for fi, col := range p.cols {
			fmt.Fprintf(b, ` <label for="cf%d">%s</label>`, fi, esc(col.name))
		}
		b.WriteString(`</span>`)
	}
	b.WriteString("</nav>\n")
}

// legend writes the HTML legends of every factor (CSS shows the selected one).
func (p *page) legend(b *strings.Builder, extra string) {
	if len(p.cols) == 0 {
		if extra != "" {
			fmt.Fprintf(b, `<div class="legend static">%s</div>`, extra)
		}
		return
	}
	for fi, col := range p.cols {
		fmt.Fprintf(b, `<div class="legend lf%d"><b>%s:</b>`, fi, esc(col.name))
		for li, name := range col.levels {
			fmt.Fprintf(b, `<span class="key"><i style="background:%s"></i>%s <small>(%d)</small></span>`,
				col.colours[li], esc(truncate(name, 40)), col.counts[li])
		}
		if extra != "" {
			b.WriteString(extra)
		}
		b.WriteString(`</div>`)
	}
}

func (p *page) header(b *strings.Builder, title string) {
	d := p.d
	fmt.Fprintf(b, `<header><h1>%s</h1><dl class="meta">`, esc(title))
	if d.Input != "" {
		fmt.Fprintf(b, `<dt>Input</dt><dd><code>%s</code></dd>`, esc(d.Input))
	}
	if d.Method != "" {
		fmt.Fprintf(b, `<dt>Method</dt><dd>%s</dd>`, esc(d.Method))
	}
	fmt.Fprintf(b, `<dt>Samples</dt><dd>%s</dd>`, thousands(float64(p.n)))
	if d.Genes > 0 {
		fmt.Fprintf(b, `<dt>Genes</dt><dd>%s</dd>`, thousands(float64(d.Genes)))
	}
	if len(d.Factors) > 0 {
		var names []string
		for _, c := range p.cols {
			names = append(names, fmt.Sprintf("%s (%d levels)", esc(c.name), c.nlevels))
		}
		fmt.Fprintf(b, `<dt>Metadata</dt><dd>%s`, strings.Join(names, ", "))
		if len(d.Factors) > len(p.cols) {
			fmt.Fprintf(b, `; %d more columns not used for colouring`, len(d.Factors)-len(p.cols))
		}
		b.WriteString(`</dd>`)
	} else {
		b.WriteString(`<dt>Metadata</dt><dd>none (samples are drawn in one colour)</dd>`)
	}
	if h := d.Heatmap; h != nil && len(h.Samples) < p.n {
		fmt.Fprintf(b, `<dt>Heatmap</dt><dd>%s of %s samples</dd>`, thousands(float64(len(h.Samples))), thousands(float64(p.n)))
	}
	b.WriteString(`</dl>`)
	if len(d.Notes) > 0 {
		b.WriteString(`<ul class="notes">`)
		for _, n := range d.Notes {
			fmt.Fprintf(b, `<li>%s</li>`, esc(n))
		}
		b.WriteString(`</ul>`)
	}
	b.WriteString("</header>\n")
}

func (p *page) summary(b *strings.Builder) {
	d := p.d
	b.WriteString(`<section id="summary"><h2>Outliers</h2>`)
	if len(d.Outliers) == 0 {
		b.WriteString(`<p class="ok">No outliers flagged.</p>`)
	} else {
		fmt.Fprintf(b, `<p class="warn">%d sample%s flagged.</p>`, len(d.Outliers), plural(len(d.Outliers)))
		b.WriteString(`<table class="num"><thead><tr><th>Sample</th><th>Median correlation</th><th>PC distance</th><th class="txt">Reasons</th></tr></thead><tbody>`)
		for _, o := range d.Outliers {
			var rs []string
			for _, r := range o.Reasons {
				rs = append(rs, esc(r))
			}
			fmt.Fprintf(b, `<tr><td>%s</td><td>%s</td><td>%s</td><td class="txt">%s</td></tr>`,
				esc(d.Samples[o.Sample]), notComputed(fixed, o.MedianCor), notComputed(func(v float64, _ int) string { return sig(v, 3) }, o.PCDistance), strings.Join(rs, "; "))
		}
		b.WriteString(`</tbody></table>`)
	}
	b.WriteString(`<h2>Size factors</h2>`)
	if len(d.LibSize) == 0 && len(d.SizeFactor) == 0 {
		b.WriteString(`<p>Not computed.</p></section>`)
		return
	}
	if lo, hi, ok := extent(d.SizeFactor); ok {
		fmt.Fprintf(b, `<p>Size factors from %s to %s (median %s)`, sig(lo, 4), sig(hi, 4), sig(median(d.SizeFactor), 4))
		if llo, lhi, ok := extent(d.LibSize); ok {
			fmt.Fprintf(b, `; library sizes from %s to %s`, thousands(llo), thousands(lhi))
		}
		b.WriteString(`.</p>`)
	}
	all := make([]int, p.n)
	for i := range all {
		all[i] = i
	}
	if p.n <= maxFullTable {
		p.sfTable(b, all)
	} else {
		if len(d.SizeFactor) == p.n {
			idx := append([]int(nil), all...)
			sort.SliceStable(idx, func(i, j int) bool { return lessNaN(d.SizeFactor[idx[i]], d.SizeFactor[idx[j]]) })
			b.WriteString(`<div class="pair"><div><h3>Smallest size factors</h3>`)
			p.sfTable(b, idx[:5])
			b.WriteString(`</div><div><h3>Largest size factors</h3>`)
			top := append([]int(nil), idx[len(idx)-5:]...)
			for i, j := 0, len(top)-1; i < j; i, j = i+1, j-1 {
				top[i], top[j] = top[j], top[i]
			}
			p.sfTable(b, top)
			b.WriteString(`</div></div>`)
		}
		fmt.Fprintf(b, `<details><summary>All %s samples</summary>`, thousands(float64(p.n)))
		p.sfTable(b, all)
		b.WriteString(`</details>`)
	}
	b.WriteString("</section>\n")
}

// lessNaN orders numbers with NaN last.
func lessNaN(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	return math.IsNaN(b) || a < b
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// sfTable writes the size-factor table for the given samples.
func (p *page) sfTable(b *strings.Builder, rows []int) {
	d := p.d
	// Only the last one or two columns are numbers (right-aligned by CSS).
	nnum := 0
	if len(d.LibSize) > 0 {
		nnum++
	}
	if len(d.SizeFactor) > 0 {
		nnum++
	}
	fmt.Fprintf(b, `<table class="sf n%d"><thead><tr><th>Sample</th>`, nnum)
	factors := d.Factors[:p.tip]
	for _, f := range factors {
		fmt.Fprintf(b, `<th>%s</th>`, esc(f.Name))
	}
	if len(d.LibSize) > 0 {
		b.WriteString(`<th>Library size</th>`)
	}
	if len(d.SizeFactor) > 0 {
		b.WriteString(`<th>Size factor</th>`)
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, i := range rows {
		fmt.Fprintf(b, `<tr><td>%s</td>`, esc(d.Samples[i]))
		for _, f := range factors {
			fmt.Fprintf(b, `<td>%s</td>`, esc(f.Levels[i]))
		}
		if len(d.LibSize) > 0 {
			fmt.Fprintf(b, `<td>%s</td>`, thousands(d.LibSize[i]))
		}
		if len(d.SizeFactor) > 0 {
			fmt.Fprintf(b, `<td>%s</td>`, sig(d.SizeFactor[i], 4))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString(`</tbody></table>`)
}

// median of the finite values (NaN if none).
func median(v []float64) float64 {
	var s []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	sort.Float64s(s)
	k := len(s) / 2
	if len(s)%2 == 1 {
		return s[k]
	}
	return (s[k-1] + s[k]) / 2
}

const baseCSS = `*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif;color:#1b1b1b;background:#fff}
.wrap{max-width:1320px;margin:0 auto;padding:0 20px 40px}
h1{font-size:26px;margin:20px 0 10px}
h2{font-size:20px;margin:34px 0 8px;padding-top:8px;border-top:2px solid #e3e6ea}
h3{font-size:15px;margin:14px 0 6px}
section h2:first-child{margin-top:26px}
p{margin:6px 0;max-width:980px}
.cf{position:absolute;opacity:0;width:1px;height:1px;margin:0}
nav{position:sticky;top:0;z-index:5;background:#f4f6f8;border-bottom:1px solid #d5d9de;padding:7px 20px;display:flex;flex-wrap:wrap;gap:6px 24px;align-items:center;font-size:14px}
nav .links{display:flex;flex-wrap:wrap;gap:4px 16px}
nav a{color:#0b5394;text-decoration:none}
nav a:hover{text-decoration:underline}
nav label{display:inline-block;padding:1px 10px;margin-left:4px;border:1px solid #9aa5b1;border-radius:12px;cursor:pointer;background:#fff}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:0}
dl.meta dt{font-weight:600;color:#444}
dl.meta dd{margin:0;overflow-wrap:anywhere}
ul.notes{margin:10px 0;padding:8px 12px 8px 30px;background:#fff8e6;border-left:4px solid #E69F00;max-width:980px}
.ok{color:#006b4f;font-weight:600}
.warn{color:#a33d00;font-weight:600}
table{border-collapse:collapse;font-size:14px;margin:6px 0}
th,td{padding:3px 10px;border-bottom:1px solid #e3e6ea;text-align:left}
th{background:#f4f6f8;font-weight:600}
table.num td,table.num th{text-align:right;font-variant-numeric:tabular-nums}
table.num td:first-child,table.num th:first-child,table.num .txt{text-align:left}
table.sf td,table.sf th{font-variant-numeric:tabular-nums}
table.n1 td:nth-last-child(1),table.n1 th:nth-last-child(1),table.n2 td:nth-last-child(-n+2),table.n2 th:nth-last-child(-n+2){text-align:right}
details{margin:8px 0}
details summary{cursor:pointer;color:#0b5394}
details table{font-size:13px}
.pair{display:flex;flex-wrap:wrap;gap:12px 48px}
.figs{display:flex;flex-wrap:wrap;gap:14px 28px;align-items:flex-start}
.figs.small{gap:6px 16px}
figure{margin:8px 0}
.cap{font-size:13.5px;color:#444}
.legend{display:none;flex-wrap:wrap;gap:4px 16px;align-items:center;font-size:14px;margin:6px 0}
.legend.static{display:flex}
.legend .key{white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;border-radius:50%;margin-right:5px;vertical-align:-1px;border:1px solid #fff;box-shadow:0 0 0 1px #999}
.legend .sym{display:inline-block;margin-right:5px}
svg{max-width:100%;height:auto;display:block}
svg{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif;font-size:12px}
svg text{fill:#222}
.grid line{stroke:#ebebeb}
.box{fill:none;stroke:#8a8a8a}
.tick line{stroke:#8a8a8a}
.tick text{fill:#333}
.atitle{font-size:14px;font-weight:600}
.ptitle{font-size:13px;font-weight:600}
.lbl text{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round;fill:#111}
.leader line{stroke:#666;stroke-width:.8}
.pts circle{stroke:#fff;stroke-width:.8}
.ring{fill:none;stroke:#000;stroke-width:1.6}
.ref{stroke:#777;stroke-dasharray:4 3}
footer{margin-top:40px;font-size:13px;color:#666}
`

// fillAttr is the fill attribute of sample i's mark. With factors the CSS
// rules colour the marks (a radio button is always checked), so large pages
// leave it out; small ones keep it for the SVG to stand alone.
func (p *page) fillAttr(i int) string {
	if len(p.cols) > 0 && p.n > maxLabelledPoints {
		return ""
	}
	return ` fill="` + p.fill[i] + `"`
}

// notComputed formats v with f, or "–" (not computed) when v is NaN: a
// sample outside the heatmap subsample has no median correlation, a sample
// in a small group no PC distance.
func notComputed(f func(float64, int) string, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return f(v, 4)
}
