package main

import (
	"encoding/json"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
)

// version is colnorm's version: set with -ldflags "-X main.version=v1.2.3",
// or else taken from the build (the module version, or the VCS revision of a
// build from a checkout).
var version = ""

// colnormVersion returns version, or what the build knows.
func colnormVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

// jsonFlag is --json: a machine-readable summary on stdout.
func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print a JSON summary on stdout (command, options, input size, size factors, timings); needs -o for matrix outputs"}
}

// summary is what --json prints when a command succeeds.
type summary struct {
	Command     string         `json:"command"`
	Method      string         `json:"method,omitempty"`
	Options     map[string]any `json:"options"`
	Input       string         `json:"input"`
	Genes       int            `json:"genes"`
	Samples     int            `json:"samples"`
	SizeFactors []sampleFactor `json:"size_factors,omitempty"`
	// SizeFactorMethod is the method the size factors come from, where it
	// differs from Method (poscounts after a fall-back; TMM for filterByExpr).
	SizeFactorMethod string     `json:"size_factor_method,omitempty"`
	GenesKept        *int       `json:"genes_kept,omitempty"`
	VSTTrend         *vstTrend  `json:"vst_trend,omitempty"`
	Output           string     `json:"output,omitempty"`
	Timings          jsonTiming `json:"timings"`
	Version          string     `json:"colnorm_version"`
}

// sampleFactor is one sample's row of the size-factors table.
type sampleFactor struct {
	Sample     string   `json:"sample"`
	LibSize    float64  `json:"lib_size"`
	NormFactor *float64 `json:"norm_factor,omitempty"` // edgeR methods
	SizeFactor float64  `json:"size_factor"`
}

// vstTrend is the VST's dispersion trend: α(μ) = a0 + a1/μ (parametric) or
// α = mean_dispersion (mean).
type vstTrend struct {
	Type           string  `json:"type"`
	A0             float64 `json:"a0,omitempty"`
	A1             float64 `json:"a1,omitempty"`
	MeanDispersion float64 `json:"mean_dispersion,omitempty"`
	Genes          int     `json:"genes"`
	Fallback       string  `json:"fallback,omitempty"`
}

// jsonTiming is the wall time of the whole run and of each column pass.
type jsonTiming struct {
	Seconds float64    `json:"seconds"`
	Passes  []jsonPass `json:"passes"`
}

type jsonPass struct {
	Pass    int     `json:"pass"`
	Name    string  `json:"name"`
	Columns int     `json:"columns"`
	Seconds float64 `json:"seconds"`
}

// withJSON wraps a command's action for --json: it refuses a matrix on
// stdout (the summary goes there), gathers the summary while the action
// runs (e.summary), and prints it when the action succeeds. matrixOut says
// whether -o names a matrix (false for size-factors' table, whose JSON
// replaces it, and for qc's folder).
func withJSON(e *env, matrixOut bool, action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if !c.Bool("json") {
			return action(c)
		}
		out := c.String("output")
		if matrixOut && (out == "" || out == "-") {
			return usagef("--json prints its summary on stdout, where %s would write the matrix: give -o FILE", c.Command.Name)
		}
		s := &summary{Command: c.Command.Name, Method: c.String("method"), Options: map[string]any{},
			Input: c.Args().First(), Output: out, Version: colnormVersion()}
		for _, f := range c.Command.Flags {
			name := f.Names()[0]
			switch name {
			case "help", "json":
				continue
			}
			s.Options[name] = c.Value(name)
		}
		e.summary = s
		if err := action(c); err != nil {
			return err
		}
		s.Timings.Seconds = e.meter.Elapsed().Seconds()
		s.Timings.Passes = []jsonPass{}
		for k, p := range e.meter.Passes() {
			s.Timings.Passes = append(s.Timings.Passes, jsonPass{Pass: k + 1, Name: p.Name, Columns: p.Columns, Seconds: p.Elapsed.Seconds()})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
}

// The note* methods fill the summary of a --json run; they do nothing
// without --json (e.summary nil).

// noteInput records the input's size.
func (e *env) noteInput(src columnar.Source) {
	if e.summary != nil {
		e.summary.Genes, e.summary.Samples = len(src.Genes()), len(src.Samples())
	}
}

// noteDESeq2 records DESeq2 size factors.
func (e *env) noteDESeq2(f *deseq2.Factors) {
	if e.summary == nil {
		return
	}
	e.summary.SizeFactors = nil
	for j, s := range f.Samples {
		e.summary.SizeFactors = append(e.summary.SizeFactors, sampleFactor{Sample: s, LibSize: f.LibSize[j], SizeFactor: f.SizeFactor[j]})
	}
	if string(f.Method) != e.summary.Method {
		e.summary.SizeFactorMethod = string(f.Method)
	}
}

// noteEdgeR records edgeR normalization factors.
func (e *env) noteEdgeR(f *edger.Factors, method string) {
	if e.summary == nil {
		return
	}
	e.summary.SizeFactors = nil
	for j, s := range f.Samples {
		nf := f.NormFactor[j]
		e.summary.SizeFactors = append(e.summary.SizeFactors, sampleFactor{Sample: s, LibSize: f.LibSize[j], NormFactor: &nf, SizeFactor: f.SizeFactor[j]})
	}
	if method != e.summary.Method {
		e.summary.SizeFactorMethod = method
	}
}

// noteKept records the number of genes a filter kept.
func (e *env) noteKept(keep []bool) {
	if e.summary == nil {
		return
	}
	n := 0
	for _, k := range keep {
		if k {
			n++
		}
	}
	e.summary.GenesKept = &n
}

// noteVST records a VST model's size factors and trend.
func (e *env) noteVST(m *deseq2.VSTModel) {
	if e.summary == nil {
		return
	}
	e.noteDESeq2(m.Factors)
	t := m.Trend
	e.summary.VSTTrend = &vstTrend{Type: string(t.Type), Genes: t.Genes, Fallback: t.Fallback}
	if t.Type == deseq2.Parametric {
		e.summary.VSTTrend.A0, e.summary.VSTTrend.A1 = t.A0, t.A1
	} else {
		e.summary.VSTTrend.MeanDispersion = t.MeanDisp
	}
}
