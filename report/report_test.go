package report

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"flag"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/colnorm/colnorm/internal/reftest"
)

// go test ./report -run TestDemo -demo /tmp/report-check writes the example
// reports (Marioni, and 5,000 synthetic samples) for looking at.
var demoDir = flag.String("demo", "", "write example reports to this folder")

// ---------------------------------------------------------------- test data

// quantile7 is R's quantile(type = 7) of sorted values.
func quantile7(s []float64, p float64) float64 {
	h := p * float64(len(s)-1)
	lo := math.Floor(h)
	if int(lo)+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[int(lo)] + (h-lo)*(s[int(lo)+1]-s[int(lo)])
}

func boxOf(v []float64) Box {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return Box{s[0], quantile7(s, 0.25), quantile7(s, 0.5), quantile7(s, 0.75), s[len(s)-1]}
}

// completeLinkage is hclust(as.dist(d), "complete") with R's merge and
// order conventions (singletons first, then earlier clusters first; the
// order is the left-first traversal from the last merge).
func completeLinkage(d [][]float64) (merge [][2]int, height []float64, order []int) {
	m := len(d)
	dist := make([][]float64, m)
	for i := range dist {
		dist[i] = append([]float64(nil), d[i]...)
	}
	id := make([]int, m) // current item of each active slot
	active := make([]bool, m)
	for i := range id {
		id[i] = -(i + 1)
		active[i] = true
	}
	for step := 1; step < m; step++ {
		bi, bj, best := -1, -1, math.Inf(1)
		for i := 0; i < m; i++ {
			if !active[i] {
				continue
			}
			for j := i + 1; j < m; j++ {
				if active[j] && dist[i][j] < best {
					bi, bj, best = i, j, dist[i][j]
				}
			}
		}
		a, b := id[bi], id[bj]
		switch {
		case a < 0 && b < 0 && -a > -b, a > 0 && b < 0, a > 0 && b > 0 && a > b:
			a, b = b, a
		}
		merge = append(merge, [2]int{a, b})
		height = append(height, best)
		for k := 0; k < m; k++ {
			if active[k] && k != bi && k != bj {
				v := math.Max(dist[bi][k], dist[bj][k])
				dist[bi][k], dist[k][bi] = v, v
			}
		}
		active[bj] = false
		id[bi] = step
	}
	var walk func(v int)
	walk = func(v int) {
		if v < 0 {
			order = append(order, -v)
			return
		}
		walk(merge[v-1][0])
		walk(merge[v-1][1])
	}
	if m == 1 {
		return nil, nil, []int{1}
	}
	walk(m - 1)
	return merge, height, order
}

// marioni builds the report data of the Marioni kidney/liver example from
// the reference outputs of DESeq2 in testdata.
func marioni(t testing.TB) *Data {
	t.Helper()
	dir := reftest.Path("reference", "marioni")
	header, rows := reftest.Table(t, filepath.Join(dir, "counts.tsv"))
	samples := header[1:]
	n := len(samples)
	counts := make([][]float64, n)
	for _, r := range rows {
		for j := 0; j < n; j++ {
			counts[j] = append(counts[j], reftest.Num(t, r[j+1]))
		}
	}
	d := &Data{
		Title:   "Sample QC: Marioni et al. 2008, kidney vs liver",
		Input:   "testdata/reference/marioni/counts.tsv",
		Method:  "VST (parametric dispersion trend), DESeq2 median-of-ratios size factors",
		Samples: samples,
		Genes:   len(rows),
		Notes:   []string{"Example built from DESeq2 1.38.3 reference outputs."},
	}
	_, meta := reftest.Table(t, filepath.Join(dir, "meta.tsv"))
	tissue, run := Factor{Name: "tissue"}, Factor{Name: "run"}
	for j, s := range samples {
		if meta[j][0] != s {
			t.Fatalf("meta row %d is %s, want %s", j, meta[j][0], s)
		}
		tissue.Levels = append(tissue.Levels, meta[j][1])
		run.Levels = append(run.Levels, meta[j][2])
	}
	d.Factors = []Factor{tissue, run}

	sf := reftest.Column(t, filepath.Join(dir, "ref", "size_factors.tsv.gz"), "ratio")
	for j, s := range samples {
		sum := 0.0
		for _, v := range counts[j] {
			sum += v
		}
		d.LibSize = append(d.LibSize, sum)
		d.SizeFactor = append(d.SizeFactor, sf[s])
		before := make([]float64, len(counts[j]))
		after := make([]float64, len(counts[j]))
		for g, v := range counts[j] {
			before[g] = math.Log2(v + 1)
			after[g] = math.Log2(v/sf[s] + 1)
		}
		d.BoxBefore = append(d.BoxBefore, boxOf(before))
		d.BoxAfter = append(d.BoxAfter, boxOf(after))
	}
	// Log ratios over the genes with no zero.
	var use []int
	logGeo := map[int]float64{}
	for g := range rows {
		s, ok := 0.0, true
		for j := 0; j < n; j++ {
			if counts[j][g] <= 0 {
				ok = false
				break
			}
			s += math.Log(counts[j][g])
		}
		if ok {
			use = append(use, g)
			logGeo[g] = s / float64(n)
		}
	}
	for j := 0; j < n; j++ {
		lr := make([]float64, len(use))
		for k, g := range use {
			lr[k] = math.Log(counts[j][g]) - logGeo[g]
		}
		sort.Float64s(lr)
		q := make([]float64, 101)
		for k := range q {
			q[k] = quantile7(lr, float64(k)/100)
		}
		d.LogRatios = append(d.LogRatios, RatioCurve{Sample: j, Quantiles: q, Median: quantile7(lr, 0.5), N: len(lr)})
	}

	_, pca := reftest.Table(t, filepath.Join(dir, "ref", "pca.tsv.gz"))
	for j, r := range pca {
		if r[0] != samples[j] {
			t.Fatalf("pca row %d is %s", j, r[0])
		}
		var sc []float64
		for _, v := range r[1:] {
			sc = append(sc, reftest.Num(t, v))
		}
		d.PCA.Scores = append(d.PCA.Scores, sc)
	}
	_, pv := reftest.Table(t, filepath.Join(dir, "ref", "pca_variance.tsv.gz"))
	for _, r := range pv {
		d.PCA.VarFrac = append(d.PCA.VarFrac, reftest.Num(t, r[1]))
	}
	d.PCA.NTop = 500

	_, cor := reftest.Table(t, filepath.Join(dir, "ref", "sample_cor.tsv.gz"))
	h := &Heatmap{}
	dist := make([][]float64, n)
	for j, r := range cor {
		h.Samples = append(h.Samples, j)
		var row []float64
		for _, v := range r[1:] {
			row = append(row, reftest.Num(t, v))
		}
		h.Cor = append(h.Cor, row)
		for _, v := range row {
			dist[j] = append(dist[j], 1-v)
		}
	}
	h.Merge, h.Height, h.Order = completeLinkage(dist)
	d.Heatmap = h
	return d
}

// synthetic builds n samples with four factors, a PCA with group structure
// and a few outliers, and a heatmap of every (n/hm)-th sample.
func synthetic(n, hm int) *Data {
	rng := rand.New(rand.NewPCG(1, 2))
	d := &Data{
		Title:  "Sample QC: synthetic cohort",
		Input:  "/data/cohort/counts.parquet",
		Method: "VST (parametric trend: a0=0.0196, a1=3.68)",
		Genes:  58_000,
		Notes:  []string{"Heatmap on a random subsample of 500 samples.", "3 samples have a size factor below 0.2."},
	}
	batch, tissue, sex := Factor{Name: "batch"}, Factor{Name: "tissue"}, Factor{Name: "sex"}
	tissues := []string{"blood", "brain", "colon", "heart", "kidney", "liver", "lung", "muscle", "skin", "spleen", "stomach", "thyroid"}
	gm := 0.0
	for i := 0; i < n; i++ {
		d.Samples = append(d.Samples, "GTEX-"+strconv.Itoa(100000+i*7)+"-SM")
		b := rng.IntN(6)
		ti := rng.IntN(len(tissues))
		if ti > 6 && rng.IntN(2) == 0 { // make some tissues rarer
			ti = rng.IntN(7)
		}
		batch.Levels = append(batch.Levels, "b"+strconv.Itoa(b+1))
		tissue.Levels = append(tissue.Levels, tissues[ti])
		s := []string{"female", "male", "NA"}[min(rng.IntN(41)/20, 2)]
		sex.Levels = append(sex.Levels, s)
		pc1 := float64(ti%4)*12 - 18 + rng.NormFloat64()*3
		pc2 := float64(b)*4 - 10 + rng.NormFloat64()*2.5
		pc3 := float64(ti/4)*5 - 5 + rng.NormFloat64()*2
		pc4 := rng.NormFloat64() * 2
		d.PCA.Scores = append(d.PCA.Scores, []float64{pc1, pc2, pc3, pc4})
		lib := math.Exp(math.Log(25e6) + rng.NormFloat64()*0.45)
		d.LibSize = append(d.LibSize, lib)
		gm += math.Log(lib)
		med := 6.5 + float64(b)*0.15 + rng.NormFloat64()*0.3 + math.Log2(lib/25e6)
		d.BoxBefore = append(d.BoxBefore, Box{0, med - 3.1, med, med + 2.6, med + 12})
		d.BoxAfter = append(d.BoxAfter, Box{0, 6.4 - 3.1, 6.5 + rng.NormFloat64()*0.05, 6.6 + 2.6, 18.5})
	}
	gm = math.Exp(gm / float64(n))
	for i := range d.LibSize {
		d.SizeFactor = append(d.SizeFactor, d.LibSize[i]/gm*math.Exp(rng.NormFloat64()*0.08))
	}
	d.Factors = []Factor{batch, tissue, sex}
	d.PCA.VarFrac = []float64{0.412, 0.221, 0.083, 0.051}
	d.PCA.NTop = 500
	for _, i := range []int{17, n / 4, n / 2, n * 4 / 5, n - 1} {
		d.PCA.Scores[i][0] += 45
		d.PCA.Scores[i][1] -= 20
		d.Outliers = append(d.Outliers, Outlier{Sample: i, MedianCor: 0.71 + float64(i%7)/100, PCDistance: 6.2,
			Reasons: []string{"median correlation below 0.80", "more than 5 SD from its group on PC1/PC2"}})
	}
	h := &Heatmap{}
	step := n / hm
	for k := 0; k < hm; k++ {
		h.Samples = append(h.Samples, k*step)
	}
	m := len(h.Samples)
	h.Cor = make([][]float64, m)
	dist := make([][]float64, m)
	for i := range h.Cor {
		h.Cor[i] = make([]float64, m)
		dist[i] = make([]float64, m)
	}
	for i := 0; i < m; i++ {
		h.Cor[i][i] = 1
		for j := i + 1; j < m; j++ {
			si, sj := h.Samples[i], h.Samples[j]
			r := 0.96 - rng.Float64()*0.01
			if d.Factors[1].Levels[si] != d.Factors[1].Levels[sj] {
				r -= 0.06
			}
			if d.Factors[0].Levels[si] != d.Factors[0].Levels[sj] {
				r -= 0.015
			}
			h.Cor[i][j], h.Cor[j][i] = r, r
			dist[i][j], dist[j][i] = 1-r, 1-r
		}
	}
	h.Merge, h.Height, h.Order = completeLinkage(dist)
	d.Heatmap = h
	for k := 0; k < 12; k++ {
		i := k * (n / 12)
		med := math.Log(d.SizeFactor[i])
		q := make([]float64, 101)
		for j := range q {
			pr := math.Min(math.Max(float64(j)/100, 0.002), 0.998)
			q[j] = med + 0.7*math.Sqrt2*math.Erfinv(2*pr-1)
		}
		d.LogRatios = append(d.LogRatios, RatioCurve{Sample: i, Quantiles: q, Median: med, N: 14_210})
	}
	return d
}

func render(t testing.TB, d *Data) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// ---------------------------------------------------------------- checks

// wellFormed parses the whole page, and each SVG on its own, as XML.
func wellFormed(t *testing.T, page string) {
	t.Helper()
	parse := func(what, s string) {
		dec := xml.NewDecoder(strings.NewReader(s))
		dec.Strict = true
		depth := 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not well-formed: %v", what, err)
			}
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
		}
		if depth != 0 {
			t.Fatalf("%s: %d unclosed elements", what, depth)
		}
	}
	parse("page", page)
	svgs := svgFragments(page)
	if len(svgs) == 0 {
		t.Fatal("no <svg> in the page")
	}
	for i, s := range svgs {
		if !strings.HasPrefix(s, `<svg xmlns="http://www.w3.org/2000/svg"`) {
			t.Fatalf("svg %d has no namespace: %.80s", i, s)
		}
		parse("svg "+strconv.Itoa(i), s)
	}
}

func svgFragments(page string) []string {
	var out []string
	for rest := page; ; {
		i := strings.Index(rest, "<svg")
		if i < 0 {
			return out
		}
		j := strings.Index(rest[i:], "</svg>")
		out = append(out, rest[i:i+j+len("</svg>")])
		rest = rest[i+j:]
	}
}

// section returns the HTML of the section with this id.
func section(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<section id="`+id+`">`)
	if i < 0 {
		t.Fatalf("no section %q", id)
	}
	j := strings.Index(page[i:], "</section>")
	return page[i : i+j]
}

var urlRE = regexp.MustCompile(`(?i)https?://[^"'\s<>)]*`)

func selfContained(t *testing.T, page string) {
	t.Helper()
	for _, u := range urlRE.FindAllString(page, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("page refers to %s", u)
		}
	}
	for _, bad := range []string{"<script", "<link", "@import", "url(http", `src="`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

// ---------------------------------------------------------------- tests

func TestMarioni(t *testing.T) {
	d := marioni(t)
	page := render(t, d)
	wellFormed(t, page)
	selfContained(t, page)
	for _, want := range []string{
		"PC1 (97.2% variance)", "PC2 (0.6% variance)", "PC3 (0.5% variance)", "PC4 (0.5% variance)",
		"No outliers flagged", "Samples</dt><dd>10</dd>", "Genes</dt><dd>5,088</dd>", "500 most variable genes",
		`<label for="cf0">tissue</label>`, `<label for="cf1">run</label>`, "Kidney <small>(5)</small>",
		"size factor = exp(median)", "434,975", "1.281",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every sample is labelled in both PCA plots.
	pca := section(t, page, "pca")
	if got := strings.Count(pca, "<svg"); got != 2 {
		t.Errorf("%d PCA plots, want 2", got)
	}
	for _, s := range d.Samples {
		if got := strings.Count(pca, ">"+s+"</text>"); got != 2 {
			t.Errorf("sample %s labelled %d times in the PCA plots, want 2", s, got)
		}
	}
	// The heatmap is in cluster order: its first row label is hclust's first sample.
	_, ord := reftest.Table(t, reftest.Path("reference", "marioni", "ref", "hclust_order.tsv.gz"))
	for p, r := range ord {
		if got := d.Samples[d.Heatmap.Order[p]-1]; got != r[1] {
			t.Fatalf("test clustering puts %s at position %d, R puts %s", got, p+1, r[1])
		}
	}
	hm := section(t, page, "heatmap")
	if i, j := strings.Index(hm, ">R1L7Kidney</text>"), strings.Index(hm, ">R1L6Liver</text>"); i < 0 || j < i {
		t.Errorf("heatmap labels not in cluster order (R1L7Kidney at %d, R1L6Liver at %d)", i, j)
	}
	if got := strings.Count(hm, "<rect x="); got < 100 {
		t.Errorf("heatmap has %d rects, want at least 10x10 cells", got)
	}
	// The median-of-ratios panels show exp(median) = the size factor.
	rat := section(t, page, "ratios")
	if got := strings.Count(rat, "<svg"); got != 10 {
		t.Errorf("%d ratio panels, want 10", got)
	}
	for j, r := range d.LogRatios {
		if !reftest.Close(math.Exp(r.Median), d.SizeFactor[j], 1e-12, 0) {
			t.Errorf("test data: exp(median) %v != size factor %v", math.Exp(r.Median), d.SizeFactor[j])
		}
	}
	if !strings.Contains(rat, "<tspan font-weight=\"700\">1.281</tspan>") {
		t.Error("ratio panel of R1L1Kidney does not give size factor 1.281")
	}
	if len(page) > 1<<20 {
		t.Errorf("10-sample page is %d bytes", len(page))
	}
	t.Logf("Marioni report: %d bytes", len(page))
}

func TestEscaping(t *testing.T) {
	d := marioni(t)
	evil := `<script>alert(1)</script>`
	d.Samples[3] = evil
	d.Title = `QC <i>report</i> & "friends"`
	d.Input = `/tmp/a"b<c>.tsv`
	d.Notes = append(d.Notes, `<img src=x onerror=alert(2)>`)
	d.Factors[0].Name = `tis<sue>`
	d.Factors[1].Levels[0] = `run'1"&`
	d.Outliers = []Outlier{{Sample: 3, MedianCor: 0.5, PCDistance: 9, Reasons: []string{"<b>bad</b>"}}}
	page := render(t, d)
	wellFormed(t, page)
	for _, raw := range []string{evil, "<script", "<img", "<i>report", "<b>bad", "tis<sue>", `run'1"&`, `a"b<c>`} {
		if strings.Contains(page, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "QC &lt;i&gt;report&lt;/i&gt; &amp; &#34;friends&#34;", "&lt;img src=x onerror=alert(2)&gt;", "tis&lt;sue&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks escaped %q", want)
		}
	}
	// Control characters and broken UTF-8 do not break the XML either.
	d.Samples[4] = "bad\x01name\xff"
	wellFormed(t, render(t, d))
}

func TestLarge(t *testing.T) {
	d := synthetic(5000, 500)
	page := render(t, d)
	t.Logf("5,000-sample report: %d bytes", len(page))
	if len(page) >= 5<<20 {
		t.Errorf("5,000-sample report is %d bytes, want < 5 MB", len(page))
	}
	wellFormed(t, page)
	selfContained(t, page)
	pca := section(t, page, "pca")
	labels := regexp.MustCompile(`>GTEX-\d+-SM</text>`).FindAllString(pca, -1)
	if len(labels) != 2*len(d.Outliers) {
		t.Errorf("%d sample labels in the PCA plots, want only the %d outliers in each of 2 plots", len(labels), len(d.Outliers))
	}
	if got := strings.Count(pca, "<circle"); got < 2*5000 {
		t.Errorf("%d points in the PCA plots, want 2 x 5,000", got)
	}
	if got := strings.Count(pca, "<title>"); got < 2*5000 {
		t.Errorf("%d tooltips in the PCA plots, want one per point", got)
	}
	for _, want := range []string{"PC1 (41.2% variance)", "PC4 (5.1% variance)", "other (5 levels)", "5 samples flagged", "<details>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// No per-sample labels under the box plots and bars.
	for _, id := range []string{"counts", "libsize"} {
		sec := section(t, page, id)
		if strings.Contains(sec, "rotate(-55)") {
			t.Errorf("section %s labels every sample", id)
		}
		if strings.Count(sec, "<rect") > 100 {
			t.Errorf("section %s draws %d rects; want a summary", id, strings.Count(sec, "<rect"))
		}
	}
	// The heatmap is a 500 x 500 PNG, without names.
	hm := section(t, page, "heatmap")
	if w, h := pngSize(t, hm); w != 500 || h != 500 {
		t.Errorf("heatmap image %dx%d, want 500x500", w, h)
	}
	if strings.Contains(hm, "rotate(90)") {
		t.Error("heatmap labels 500 samples")
	}
}

func pngSize(t *testing.T, s string) (int, int) {
	t.Helper()
	const pre = `href="data:image/png;base64,`
	i := strings.Index(s, pre)
	if i < 0 {
		t.Fatal("no PNG image")
	}
	j := strings.IndexByte(s[i+len(pre):], '"')
	raw, err := base64.StdEncoding.DecodeString(s[i+len(pre) : i+len(pre)+j])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Width, cfg.Height
}

func TestHeatmapGuard(t *testing.T) {
	// More than 500 heatmap samples: block means, at most 500 pixels a side.
	d := synthetic(1200, 1200)
	page := render(t, d)
	wellFormed(t, page)
	if w, h := pngSize(t, page); w != 400 || h != 400 {
		t.Errorf("heatmap of 1,200 samples is %dx%d pixels, want 400x400 (3x3 blocks)", w, h)
	}
	if !strings.Contains(page, "mean of a 3×3 block") {
		t.Error("the block averaging is not said")
	}
	// 51..100 samples: an image, but with names.
	d = synthetic(80, 80)
	page = render(t, d)
	hm := section(t, page, "heatmap")
	if w, _ := pngSize(t, hm); w != 80 {
		t.Errorf("80-sample heatmap image is %d pixels wide", w)
	}
	if got := strings.Count(hm, "rotate(90)"); got != 80 {
		t.Errorf("%d column labels on an 80-sample heatmap", got)
	}
	if labels := regexp.MustCompile(`>GTEX-\d+-SM</text>`).FindAllString(section(t, page, "pca"), -1); len(labels) != 2*len(d.Outliers) {
		t.Errorf("80 samples: %d PCA labels, want only outliers", len(labels))
	}
}

func TestLabelThreshold(t *testing.T) {
	name := regexp.MustCompile(`>GTEX-\d+-SM</text>`)
	d := synthetic(50, 50)
	if got := len(name.FindAllString(section(t, render(t, d), "pca"), -1)); got != 2*50 {
		t.Errorf("50 samples: %d PCA labels, want every sample in both plots", got)
	}
	d = synthetic(51, 51)
	if got := len(name.FindAllString(section(t, render(t, d), "pca"), -1)); got != 2*len(d.Outliers) {
		t.Errorf("51 samples: %d PCA labels, want only the %d outliers in both plots", got, len(d.Outliers))
	}
}

func TestManyFactors(t *testing.T) {
	// A metadata table with many columns: the first 8 colour the plots, and
	// the 5,000-sample page stays under 5 MB.
	d := synthetic(5000, 500)
	for k := 0; k < 9; k++ {
		f := Factor{Name: "attribute_" + strconv.Itoa(k)}
		for i := range d.Samples {
			f.Levels = append(f.Levels, "value-"+strconv.Itoa((i*(k+3))%40))
		}
		d.Factors = append(d.Factors, f)
	}
	page := render(t, d)
	t.Logf("5,000 samples, 12 factors: %d bytes", len(page))
	if len(page) >= 5<<20 {
		t.Errorf("report is %d bytes, want < 5 MB", len(page))
	}
	wellFormed(t, page)
	if !strings.Contains(page, "4 more columns not used for colouring") {
		t.Error("unused factors not mentioned")
	}
	if !strings.Contains(page, `id="cf7"`) || strings.Contains(page, `id="cf8"`) {
		t.Error("want radio buttons for exactly the first 8 factors")
	}
	if regexp.MustCompile(`<title>[^<]*attribute_`).MatchString(section(t, page, "pca")) {
		t.Error("tooltips of a 5,000-sample page name more than the first factors")
	}
}

func TestTwoSamplesNoFactorsNoHeatmap(t *testing.T) {
	d := &Data{
		Samples:    []string{"a", "b"},
		LibSize:    []float64{1000, 3000},
		SizeFactor: []float64{0.577, 1.732},
		PCA:        PCA{Scores: [][]float64{{-1.5, 0}, {1.5, 0}}, VarFrac: []float64{1, 0}},
		BoxBefore:  []Box{{0, 1, 2, 3, 9}, {0, 2, 3, 4, 10}},
		BoxAfter:   []Box{{0, 1.5, 2.5, 3.5, 9.5}, {0, 1.5, 2.5, 3.5, 9.5}},
	}
	page := render(t, d)
	wellFormed(t, page)
	selfContained(t, page)
	for _, want := range []string{"PC1 (100.0% variance)", "PC2 (0.0% variance)", "Sample QC report", "Metadata</dt><dd>none"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "PC3") {
		t.Error("page mentions PC3, which does not exist")
	}
	if got := section(t, page, "heatmap"); !strings.Contains(got, "Not computed") {
		t.Error("nil heatmap is not said to be not computed")
	}
	if strings.Contains(page, `type="radio"`) || strings.Contains(page, " f0l0") {
		t.Error("factor switch without factors")
	}
	if !strings.Contains(page, `fill="`+plainColour+`"`) {
		t.Error("points without factors are not drawn in the plain colour")
	}
	if got := strings.Count(section(t, page, "pca"), "<svg"); got != 1 {
		t.Errorf("%d PCA plots for 2 components, want 1", got)
	}
	// One component only, and nothing else computed.
	page = render(t, &Data{Samples: []string{"x", "y"}, PCA: PCA{Scores: [][]float64{{1}, {-1}}, VarFrac: []float64{1}}})
	wellFormed(t, page)
	if !strings.Contains(page, "PC1 (100.0% variance)") || strings.Contains(page, "PC2") {
		t.Error("one-component PCA is not drawn as PC1 alone")
	}
	if got := strings.Count(page, "Not computed"); got != 5 {
		t.Errorf("%d sections say not computed, want 5", got)
	}
}

func TestMissingValues(t *testing.T) {
	// NaN and infinite values are left out of the plots, never drawn at 0
	// by accident or written into coordinates.
	for _, d := range []*Data{marioni(t), synthetic(300, 60)} {
		nan := math.NaN()
		d.PCA.Scores[1][0] = nan
		d.PCA.Scores[2][3] = math.Inf(1)
		d.LibSize[3] = nan
		d.SizeFactor[4] = nan
		d.SizeFactor[5] = 0
		d.BoxBefore[2] = Box{nan, nan, nan, nan, nan}
		d.Heatmap.Cor[0][1], d.Heatmap.Cor[1][0] = nan, nan
		d.Heatmap.Height[0] = nan
		d.LogRatios[0].Quantiles[50] = nan
		d.LogRatios[1].Median = nan
		page := render(t, d)
		wellFormed(t, page)
		if m := regexp.MustCompile(`="[^"]*(NaN|Inf)[^"]*"`).FindString(page); m != "" {
			t.Errorf("attribute with a non-finite number: %s", m)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []func(d *Data){
		func(d *Data) { d.LibSize = d.LibSize[:3] },
		func(d *Data) { d.Factors[0].Levels = d.Factors[0].Levels[1:] },
		func(d *Data) { d.PCA.VarFrac = d.PCA.VarFrac[:2] },
		func(d *Data) { d.PCA.Scores[2] = d.PCA.Scores[2][:3] },
		func(d *Data) { d.Heatmap.Cor = d.Heatmap.Cor[1:] },
		func(d *Data) { d.Heatmap.Order[0] = d.Heatmap.Order[1] },
		func(d *Data) { d.Heatmap.Merge[0][0] = 3 },
		func(d *Data) { d.Heatmap.Merge[8][1] = d.Heatmap.Merge[8][0] },
		func(d *Data) { d.Heatmap.Height = d.Heatmap.Height[1:] },
		func(d *Data) { d.Outliers = []Outlier{{Sample: 10}} },
		func(d *Data) { d.LogRatios[0].Sample = -1 },
		func(d *Data) { d.Heatmap.Samples[0] = 99 },
	}
	for k, f := range bad {
		d := marioni(t)
		f(d)
		if err := Write(io.Discard, d); err == nil {
			t.Errorf("case %d: no error", k)
		}
	}
	if err := Write(io.Discard, nil); err == nil {
		t.Error("nil data: no error")
	}
	if err := Write(io.Discard, &Data{}); err != nil {
		t.Errorf("empty data: %v", err)
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		n      int
		want   string
	}{
		{-47.9, 47.6, 6, "−40 −20 0 20 40"},
		{0, 1, 4, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{0.79, 1.0, 5, "0.80 0.85 0.90 0.95 1.00"},
		{-3.6, 9.6, 6, "−2 0 2 4 6 8"},
	} {
		tk, st := ticks(c.lo, c.hi, c.n)
		f := tickFormat(st)
		var s []string
		for _, v := range tk {
			s = append(s, f(v))
		}
		if got := strings.Join(s, " "); got != c.want {
			t.Errorf("ticks(%v, %v) = %s, want %s", c.lo, c.hi, got, c.want)
		}
	}
	if got := siFormat(5e6, 3e7)(2.5e7); got != "25M" {
		t.Errorf("siFormat: %s", got)
	}
	if got := siFormat(1e5, 5.2e5)(3e5); got != "300k" {
		t.Errorf("siFormat: %s", got)
	}
}

func TestColouring(t *testing.T) {
	var f Factor
	f.Name = "tissue"
	for i := 0; i < 30; i++ {
		f.Levels = append(f.Levels, "t"+strconv.Itoa(i%12+1))
	}
	f.Levels[0] = "NA"
	for i := 0; i < 5; i++ { // t12 becomes the most frequent
		f.Levels = append(f.Levels, "t12")
	}
	col := newColouring(f)
	want := []string{"t1", "t2", "t3", "t4", "t5", "t6", "t12", "other (5 levels)", "NA"}
	if strings.Join(col.levels, ",") != strings.Join(want, ",") {
		t.Errorf("levels %q, want %q", col.levels, want)
	}
	total := 0
	for _, k := range col.counts {
		total += k
	}
	if total != 35 {
		t.Errorf("legend counts sum to %d", total)
	}
	if !naturalLess("run2", "run10") || naturalLess("run10", "run2") || !naturalLess("a", "B") {
		t.Error("naturalLess")
	}
}

func TestPlaceLabels(t *testing.T) {
	// Six points within a few pixels, as the kidney samples on PC1/PC2.
	var ls []label
	var pts [][2]float64
	for i := 0; i < 6; i++ {
		x, y := 100+float64(i%2)*2, 200+float64(i)*3
		ls = append(ls, label{x, y, "R1L" + strconv.Itoa(i) + "Kidney"})
		pts = append(pts, [2]float64{x, y})
	}
	bounds := rect{80, 20, 600, 480}
	ps := placeLabels(ls, pts, 6, 11.5, bounds)
	for i, a := range ps {
		if !a.box.inside(bounds) {
			t.Errorf("label %d outside the plot: %+v", i, a.box)
		}
		for j, b := range ps[:i] {
			if a.box.overlaps(b.box) {
				t.Errorf("labels %d and %d overlap: %+v %+v", i, j, a.box, b.box)
			}
		}
		if math.Hypot(a.box.x0-ls[i].x, (a.box.y0+a.box.y1)/2-ls[i].y) > 150 {
			t.Errorf("label %d is far from its point", i)
		}
	}
}

func TestDemo(t *testing.T) {
	if *demoDir == "" {
		t.Skip("no -demo folder")
	}
	if err := os.MkdirAll(*demoDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]*Data{"marioni.html": marioni(t), "large.html": synthetic(5000, 500), "fifty.html": synthetic(50, 50), "eighty.html": synthetic(80, 80), "two.html": {
		Samples: []string{"a", "b"}, PCA: PCA{Scores: [][]float64{{-1.5, 0}, {1.5, 0}}, VarFrac: []float64{1, 0}},
		LibSize: []float64{1000, 3000}, SizeFactor: []float64{0.577, 1.732},
	}} {
		f, err := os.Create(filepath.Join(*demoDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := Write(f, d); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
