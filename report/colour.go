package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"
	"unicode"
)

// okabeIto is the Okabe–Ito colour-blind-safe palette, reordered so that the
// first colours are the most distinct on white (yellow comes late).
var okabeIto = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

const (
	plainColour = "#0072B2" // points and bars when there is no factor
	otherColour = "#8C8C8C" // levels beyond the palette
	naColour    = "#D9D9D9" // missing levels ("" or NA)
)

// colouring is one factor's levels as they appear in a legend, and each
// sample's index into them.
type colouring struct {
	name    string
	levels  []string // legend entries
	colours []string
	counts  []int
	of      []int // per sample
	nlevels int   // distinct non-missing levels
}

// isNA reports whether a metadata value means "missing".
func isNA(s string) bool {
	switch strings.TrimSpace(s) {
	case "", "NA", "NaN", "nan", "N/A", "null", "NULL":
		return true
	}
	return false
}

// newColouring assigns colours to a factor's levels: up to eight levels get
// the Okabe–Ito colours in natural sort order; with more, the seven most
// frequent keep a colour and the rest share a grey "other" entry. Missing
// values are a separate light grey "NA" entry.
func newColouring(f Factor) *colouring {
	count := map[string]int{}
	for _, v := range f.Levels {
		if !isNA(v) {
			count[v]++
		}
	}
	levels := make([]string, 0, len(count))
	for v := range count {
		levels = append(levels, v)
	}
	sort.Slice(levels, func(i, j int) bool { return naturalLess(levels[i], levels[j]) })
	keep := levels
	var others int
	if len(levels) > len(okabeIto) {
		byCount := append([]string(nil), levels...)
		sort.SliceStable(byCount, func(i, j int) bool { return count[byCount[i]] > count[byCount[j]] })
		top := map[string]bool{}
		for _, v := range byCount[:len(okabeIto)-1] {
			top[v] = true
		}
		keep = nil
		for _, v := range levels {
			if top[v] {
				keep = append(keep, v)
			}
		}
		others = len(levels) - len(keep)
	}
	col := &colouring{name: f.Name, of: make([]int, len(f.Levels)), nlevels: len(levels)}
	idx := map[string]int{}
	for i, v := range keep {
		idx[v] = i
		col.levels = append(col.levels, v)
		col.colours = append(col.colours, okabeIto[i])
		col.counts = append(col.counts, count[v])
	}
	other, na := -1, -1
	for i, v := range f.Levels {
		switch k, ok := idx[v]; {
		case ok:
			col.of[i] = k
		case isNA(v):
			if na < 0 {
				na = -2 // assigned below, after "other"
			}
			col.of[i] = -2
		default:
			if other < 0 {
				other = len(col.levels)
				col.levels = append(col.levels, fmt.Sprintf("other (%d levels)", others))
				col.colours = append(col.colours, otherColour)
				col.counts = append(col.counts, 0)
			}
			col.of[i] = other
			col.counts[other]++
		}
	}
	if na == -2 {
		na = len(col.levels)
		col.levels = append(col.levels, "NA")
		col.colours = append(col.colours, naColour)
		col.counts = append(col.counts, 0)
		for i, k := range col.of {
			if k == -2 {
				col.of[i] = na
				col.counts[na]++
			}
		}
	}
	return col
}

// naturalLess orders strings with embedded numbers numerically ("run2" before
// "run10"), case-insensitively, falling back to byte order.
func naturalLess(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	i, j := 0, 0
	for i < len(ra) && j < len(rb) {
		if unicode.IsDigit(ra[i]) && unicode.IsDigit(rb[j]) {
			si, sj := i, j
			for i < len(ra) && unicode.IsDigit(ra[i]) {
				i++
			}
			for j < len(rb) && unicode.IsDigit(rb[j]) {
				j++
			}
			na := strings.TrimLeft(string(ra[si:i]), "0")
			nb := strings.TrimLeft(string(rb[sj:j]), "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			continue
		}
		ca, cb := unicode.ToLower(ra[i]), unicode.ToLower(rb[j])
		if ca != cb {
			return ca < cb
		}
		i++
		j++
	}
	if len(ra)-i != len(rb)-j {
		return len(ra)-i < len(rb)-j
	}
	return a < b
}

// viridisAnchors is R's viridis(10).
var viridisAnchors = [][3]float64{
	{0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3E, 0x4A, 0x89}, {0x31, 0x68, 0x8E}, {0x26, 0x82, 0x8E},
	{0x1F, 0x9E, 0x89}, {0x35, 0xB7, 0x79}, {0x6D, 0xCD, 0x59}, {0xB4, 0xDE, 0x2C}, {0xFD, 0xE7, 0x25},
}

// viridis returns the colour at t in [0, 1] of the viridis scale (perceptually
// uniform and readable with every common colour-vision deficiency).
func viridis(t float64) color.RGBA {
	if math.IsNaN(t) {
		return color.RGBA{0xBB, 0xBB, 0xBB, 0xFF}
	}
	t = math.Max(0, math.Min(1, t))
	x := t * float64(len(viridisAnchors)-1)
	k := int(math.Floor(x))
	if k >= len(viridisAnchors)-1 {
		k = len(viridisAnchors) - 2
	}
	f := x - float64(k)
	a, b := viridisAnchors[k], viridisAnchors[k+1]
	return color.RGBA{
		uint8(math.Round(a[0] + f*(b[0]-a[0]))),
		uint8(math.Round(a[1] + f*(b[1]-a[1]))),
		uint8(math.Round(a[2] + f*(b[2]-a[2]))),
		0xFF,
	}
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
