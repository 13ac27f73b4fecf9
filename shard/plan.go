package shard

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// Methods that shard.
var (
	FactorMethods = []string{"ratio", "poscounts", "tmm", "tmmwsp", "rle", "upperquartile", "cpm"}
	FilterMethods = []string{"by-expr", "threshold"}
)

func isDESeq2(method string) bool { return method == "ratio" || method == "poscounts" }
func isEdgeR(method string) bool {
	return method == "tmm" || method == "tmmwsp" || method == "rle" || method == "upperquartile"
}

// edgerOptions is the spec's calcNormFactors options (filterByExpr: TMM's defaults).
func (s Spec) edgerOptions() edger.Options {
	if s.Job == JobFilter {
		return edger.Options{Method: edger.TMM}.WithDefaults()
	}
	f := func(name string) float64 {
		v, _ := strconv.ParseFloat(s.Options[name], 64)
		return v
	}
	return edger.Options{Method: edger.Method(s.Method), LogratioTrim: f("logratio_trim"), SumTrim: f("sum_trim"),
		NoWeighting: s.Options["no_weighting"] == "true", ACutoff: f("acutoff"), P: f("p")}.WithDefaults()
}

// usesTMM reports whether the spec runs edgeR's first pass and factors
// (edgeR methods, and filterByExpr's TMM library sizes).
func (s Spec) usesTMM() bool {
	return isEdgeR(s.Method) || (s.Job == JobFilter && s.Method == "by-expr")
}

// tmmChoosesRef reports whether TMM's reference needs the upper-quartile pass.
func (s Spec) tmmChoosesRef() bool {
	return s.edgerOptions().Method == edger.TMM && s.Options["ref_sample"] == ""
}

// factorPasses is the number of passes of the factors (without filter's last).
func (s Spec) factorPasses() int {
	switch {
	case s.Method == "cpm" || s.Method == "threshold":
		return 1
	case s.usesTMM() && (s.edgerOptions().Method == edger.TMM && s.tmmChoosesRef()):
		return 3
	}
	return 2
}

// Passes is the number of statistics passes of a spec.
func Passes(s Spec) int {
	if s.Job == JobFilter && s.Method == "by-expr" {
		return s.factorPasses() + 1
	}
	return s.factorPasses()
}

// RunPass runs the next statistics pass over the shard: pass 1 without a
// model, else the pass after the model's. groups are the shard's samples'
// groups (filter --by-expr with groups, pass 1 only).
func RunPass(ctx context.Context, in *Input, spec Spec, m *Model, groups []string, popts pass.Options) (*State, error) {
	st := &State{Spec: spec, Pass: 1, Shard: in.Shard, Path: in.Path, Samples: in.Src.Samples()}
	if m != nil {
		st.Spec, st.Pass, st.Model = m.Spec, m.Pass+1, m.digest
		if m.Final() {
			return nil, &columnar.InputError{File: m.file, Msg: fmt.Sprintf("this model is final (all %d passes merged): write the output with it, no pass is left", m.Passes)}
		}
		if err := in.checkModel(m); err != nil {
			return nil, err
		}
	}
	st.Spec.Shards = in.Shards
	st.Spec.Input = in.Fingerprint
	if m != nil {
		if d := specDiff(m.Spec, st.Spec); d != "" {
			return nil, &columnar.InputError{File: in.Path, Msg: "not the input of the model " + m.file + ": " + d}
		}
	}
	st.Passes = Passes(st.Spec)
	s, k := st.Spec, st.Pass
	G := len(in.Src.Genes())
	S := len(in.Src.Samples())
	offset := in.Offset
	if m != nil && offset < 0 {
		offset = m.Offset(in.Shard)
	}
	d := &st.Data
	var err error
	switch {
	case s.Method == "cpm":
		var lib []float64
		if lib, err = edger.LibSizes(ctx, in.Src, popts); err == nil {
			d.setFloats("lib_size", lib)
		}
	case s.Method == "threshold":
		hits := make([]int32, G)
		minCount, _ := strconv.ParseFloat(s.Options["min_count"], 64)
		minCPM, _ := strconv.ParseFloat(s.Options["min_cpm"], 64)
		err = pass.Run(ctx, in.Src, popts, nil, func(_ int, col []float64) error {
			edger.ThresholdAccumulate(hits, col, minCount, minCPM)
			return nil
		})
		d.setFloats("hits", int32s(hits))
	case isDESeq2(s.Method) && k == 1:
		var g *deseq2.GeneLogSums
		if g, err = deseq2.SumLogs(ctx, in.Src, popts); err == nil {
			d.setFloats("lib_size", g.LibSize)
			d.setSums("log_sum", g.Exact)
			d.setFloats("zeros", int32s(g.Zeros))
		}
	case isDESeq2(s.Method) && k == 2:
		var ell, sf []float64
		if ell, err = m.Data.floats("log_geo_mean", G); err == nil {
			if sf, err = deseq2.MediansOfRatios(ctx, in.Src, ell, nil, popts); err == nil {
				d.setFloats("raw_factor", sf)
			}
		}
	case s.usesTMM() && k == 1:
		err = edgerFirstPass(ctx, in, s.Method == "rle", groups, d, popts)
	case s.usesTMM() && k <= s.factorPasses():
		if unit, _ := m.Data.floats("unit", 1); unit[0] == 1 {
			d.setFloats("raw_factor", make([]float64, S)) // factors are 1: nothing to compute
			d.setFloats("quantile", make([]float64, S))
			break
		}
		err = edgerLaterPass(ctx, in, m, offset, d, popts)
	case s.Job == JobFilter && k == s.factorPasses()+1:
		err = filterCountPass(ctx, in, m, offset, d, popts)
	default:
		return nil, fmt.Errorf("shard: no pass %d for %s %s", k, s.Job, s.Method)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// checkModel checks that the shard's samples are the model's.
func (in *Input) checkModel(m *Model) error {
	mine := m.Spec
	mine.Input = in.Fingerprint
	if d := specDiff(m.Spec, mine); d != "" {
		return &columnar.InputError{File: in.Path, Msg: "not the input of the model " + m.file + ": it has " + d}
	}
	if in.Shards != m.Shards {
		return usageError(fmt.Sprintf("--shard %d/%d, but the model %s is of %d shards", in.Shard, in.Shards, m.file, m.Shards))
	}
	lo := m.Offset(in.Shard)
	want := m.Samples[lo : lo+m.ShardSamples[in.Shard-1]]
	got := in.Src.Samples()
	for j := range got {
		if j >= len(want) || got[j] != want[j] {
			return &columnar.InputError{File: in.Src.Path(), Sample: got[j], Msg: fmt.Sprintf("shard %d's samples are not those of the model %s", in.Shard, m.file)}
		}
	}
	if len(got) != len(want) {
		return &columnar.InputError{File: in.Src.Path(), Msg: fmt.Sprintf("shard %d has %d samples, the model %s %d", in.Shard, len(got), m.file, len(want))}
	}
	return nil
}

// UsageError is a wrong combination of shard, model and command.
type UsageError string

func (e UsageError) Error() string { return string(e) }

func usageError(s string) error { return UsageError(s) }

func int32s(v []int32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func toInt32s(v []float64) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

func bools(v []bool) []float64 {
	out := make([]float64, len(v))
	for i, b := range v {
		if b {
			out[i] = 1
		}
	}
	return out
}

func toBools(v []float64) []bool {
	out := make([]bool, len(v))
	for i, x := range v {
		out[i] = x != 0
	}
	return out
}

// edgerFirstPass: library sizes, Σ√c, genes with a positive count (and for
// RLE exact log sums and zeros).
func edgerFirstPass(ctx context.Context, in *Input, rle bool, groups []string, d *Data, popts pass.Options) error {
	G, S := len(in.Src.Genes()), len(in.Src.Samples())
	lib, sqrtSum, positive := make([]float64, S), make([]float64, S), make([]bool, G)
	var logSum kernels.ExactSums
	var zeros []int32
	if rle {
		logSum, zeros = kernels.NewExactSums(G), make([]int32, G)
	}
	work := func(_, j int, col []float64) error {
		lib[j] = kernels.Sum(col)
		sqrtSum[j] = edger.SqrtSum(col)
		return nil
	}
	reduce := func(_ int, col []float64) error {
		for i, v := range col {
			if v > 0 {
				positive[i] = true
			}
		}
		if rle {
			kernels.LogSumsExact(logSum, zeros, col)
		}
		return nil
	}
	if err := pass.Run(ctx, in.Src, popts, work, reduce); err != nil {
		return err
	}
	d.setFloats("lib_size", lib)
	d.setFloats("sqrt_sum", sqrtSum)
	d.setFloats("positive", bools(positive))
	if rle {
		d.setSums("log_sum", logSum)
		d.setFloats("zeros", int32s(zeros))
	}
	if groups != nil {
		d.setStrings("group", groups)
	}
	return nil
}

// edgerLaterPass: upper quartiles (for TMM's reference) or each sample's
// unscaled factor.
func edgerLaterPass(ctx context.Context, in *Input, m *Model, offset int, d *Data, popts pass.Options) error {
	G, S := len(in.Src.Genes()), len(in.Src.Samples())
	o := m.edgerOptions()
	lib, err := m.Data.floats("lib_size", len(m.Samples))
	if err != nil {
		return err
	}
	keepF, err := m.Data.floats("keep", G)
	if err != nil {
		return err
	}
	keep := toBools(keepF)
	out := make([]float64, S)
	workers := popts.Workers(in.Src)
	scratch := make([][]float64, workers)
	var work pass.WorkFunc
	name := "raw_factor"
	_, haveRef := m.Data.Floats["ref"]
	switch {
	case o.Method == edger.UpperQuartile:
		work = func(w, j int, col []float64) error {
			out[j], scratch[w] = edger.ColumnQuantile(scratch[w], col, keep, o.P, lib[offset+j])
			return nil
		}
	case o.Method == edger.RLE:
		gm, err := m.Data.floats("rle_geo_mean", G)
		if err != nil {
			return err
		}
		work = func(w, j int, col []float64) error {
			out[j], scratch[w] = edger.RLEFactor(scratch[w], col, gm, lib[offset+j])
			return nil
		}
	case !haveRef: // TMM: upper quartiles for the reference choice
		name = "quantile"
		work = func(w, j int, col []float64) error {
			out[j], scratch[w] = edger.ColumnQuantile(scratch[w], col, keep, 0.75, lib[offset+j])
			return nil
		}
	default: // TMM, TMMwsp against the reference column
		refF, _ := m.Data.floats("ref", 1)
		ref := int(refF[0])
		full := make([]float64, G)
		if err := in.readSample(m, ref, full); err != nil {
			return err
		}
		refTMM := edger.NewTMMReference(full, keep, lib[ref], o.Method)
		tmm := make([]edger.TMMScratch, workers)
		work = func(w, j int, col []float64) error {
			out[j] = tmm[w].Factor(col, refTMM, lib[offset+j], o)
			return nil
		}
	}
	if err := pass.Run(ctx, in.Src, popts, work, nil); err != nil {
		return err
	}
	d.setFloats(name, out)
	return nil
}

// filterCountPass: filterByExpr's per-gene counts above the cutoff and totals.
func filterCountPass(ctx context.Context, in *Input, m *Model, offset int, d *Data, popts pass.Options) error {
	G := len(in.Src.Genes())
	eff, err := m.Data.floats("eff_lib_size", len(m.Samples))
	if err != nil {
		return err
	}
	cut, err := m.Data.floats("cutoff", 1)
	if err != nil {
		return err
	}
	above, total := make([]int32, G), kernels.NewExactSums(G)
	err = pass.Run(ctx, in.Src, popts, nil, func(j int, col []float64) error {
		edger.FilterAccumulate(above, total, col, eff[offset+j], cut[0])
		return nil
	})
	if err != nil {
		return err
	}
	d.setFloats("above", int32s(above))
	d.setSums("total", total)
	return nil
}

// mergeData combines the shards' data of pass m.Pass into m.Data.
func mergeData(prev *Model, m *Model, shards []*State) error {
	s, k := m.Spec, m.Pass
	G := s.Input.Genes
	file := m.Path
	if prev != nil {
		m.Data = prev.Data // carried forward; entries below replace or add
		m.Data.Floats = copyMap(prev.Data.Floats)
	}
	d := &m.Data
	sumGenes := func(name string) ([]float64, error) {
		out := make([]float64, G)
		for _, st := range shards {
			v, err := st.Data.floats(name, G)
			if err != nil {
				return nil, &columnar.InputError{File: st.file, Msg: err.Error()}
			}
			for i, x := range v {
				out[i] += x // whole numbers below 2^53: exact in any order
			}
		}
		return out, nil
	}
	mergeSums := func(name string) (kernels.ExactSums, error) {
		acc := kernels.NewExactSums(G)
		for _, st := range shards {
			v, err := st.Data.sums(name, G)
			if err != nil {
				return acc, &columnar.InputError{File: st.file, Msg: err.Error()}
			}
			acc.Merge(v)
		}
		return acc, nil
	}
	switch {
	case s.Method == "cpm":
		lib, err := concat(shards, "lib_size")
		if err != nil {
			return err
		}
		if err := edger.CheckLibSizes(file, m.Samples, lib); err != nil {
			return err
		}
		d.setFloats("lib_size", lib)
	case s.Method == "threshold":
		hits, err := sumGenes("hits")
		if err != nil {
			return err
		}
		minSamples, _ := strconv.Atoi(s.Options["min_samples"])
		keep := make([]bool, G)
		for i := range keep {
			keep[i] = int(hits[i]) >= minSamples
		}
		d.setFloats("keep", bools(keep))
	case isDESeq2(s.Method) && k == 1:
		lib, err := concat(shards, "lib_size")
		if err != nil {
			return err
		}
		for j, l := range lib {
			if l == 0 {
				return &columnar.InputError{File: file, Sample: m.Samples[j],
					Msg: "every count of this sample is zero: DESeq2 has no size factor for it (NA, or every gene has a zero); remove the sample"}
			}
		}
		zeros, err := sumGenes("zeros")
		if err != nil {
			return err
		}
		exact, err := mergeSums("log_sum")
		if err != nil {
			return err
		}
		g := deseq2.NewGeneLogSums(exact, toInt32s(zeros), lib)
		ell := g.LogGeoMeans(deseq2.Method(s.Method))
		usable := 0
		for _, l := range ell {
			if !math.IsInf(l, -1) {
				usable++
			}
		}
		if usable == 0 {
			msg := "every gene is zero in every sample; no size factors can be estimated"
			if s.Method == "ratio" {
				msg = "every gene contains at least one zero, cannot compute log geometric means (DESeq2 fails here); use --method poscounts, which works"
			}
			return &columnar.InputError{File: file, Msg: msg}
		}
		d.setFloats("lib_size", lib)
		d.setFloats("log_geo_mean", ell)
	case isDESeq2(s.Method) && k == 2:
		sf, err := concat(shards, "raw_factor")
		if err != nil {
			return err
		}
		if s.Method == "poscounts" {
			kernels.Recentre(sf)
		}
		d.setFloats("size_factor", sf)
		delete(d.Floats, "log_geo_mean")
	case s.usesTMM() && k == 1:
		return mergeEdgerFirst(m, shards, sumGenes, mergeSums)
	case s.usesTMM() && k < s.factorPasses() && s.tmmChoosesRef():
		q, err := concat(shards, "quantile")
		if err != nil {
			return err
		}
		d.setFloats("ref", []float64{float64(edger.ChooseReference(d.Floats["sqrt_sum"], q))})
	case s.usesTMM() && k == s.factorPasses():
		raw, err := concat(shards, "raw_factor")
		if err != nil {
			return err
		}
		return finishEdger(m, raw)
	case s.Job == JobFilter && k == s.factorPasses()+1:
		above, err := sumGenes("above")
		if err != nil {
			return err
		}
		total, err := mergeSums("total")
		if err != nil {
			return err
		}
		n, _ := m.Data.floats("min_samples", 1)
		keep := edger.FilterKeep(toInt32s(above), total, n[0], filterOptions(s))
		d.setFloats("keep", bools(keep))
	default:
		return fmt.Errorf("shard: no merge of pass %d for %s %s", k, s.Job, s.Method)
	}
	return nil
}

func copyMap(m map[string]Float64s) map[string]Float64s {
	out := make(map[string]Float64s, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func filterOptions(s Spec) edger.FilterOptions {
	f := func(name string) float64 {
		v, _ := strconv.ParseFloat(s.Options[name], 64)
		return v
	}
	return edger.FilterOptions{MinCount: f("min_count"), MinTotalCount: f("min_total_count"), LargeN: f("large_n"), MinProp: f("min_prop")}
}

// mergeEdgerFirst: library sizes, the kept genes, the reference where it is
// known now, RLE's geometric means.
func mergeEdgerFirst(m *Model, shards []*State, sumGenes func(string) ([]float64, error), mergeSums func(string) (kernels.ExactSums, error)) error {
	s, d := m.Spec, &m.Data
	S := len(m.Samples)
	lib, err := concat(shards, "lib_size")
	if err != nil {
		return err
	}
	for j, l := range lib {
		if l == 0 {
			return &columnar.InputError{File: m.Path, Sample: m.Samples[j],
				Msg: "every count of this sample is zero: its library size is 0 and edgeR's factors are NA (TMM fails); remove the sample"}
		}
	}
	sqrtSum, err := concat(shards, "sqrt_sum")
	if err != nil {
		return err
	}
	positive, err := sumGenes("positive")
	if err != nil {
		return err
	}
	keep := make([]float64, len(positive))
	kept := 0
	for i, p := range positive {
		if p > 0 {
			keep[i] = 1
			kept++
		}
	}
	unit := 0.0
	if kept == 0 || S == 1 {
		unit = 1
	}
	d.setFloats("lib_size", lib)
	d.setFloats("sqrt_sum", sqrtSum)
	d.setFloats("keep", keep)
	d.setFloats("unit", []float64{unit})
	if s.Job == JobFilter {
		var group []string
		for _, st := range shards {
			group = append(group, st.Data.Strings["group"]...)
		}
		if len(group) == S {
			d.setStrings("group", group)
		}
	}
	o := s.edgerOptions()
	if rs := s.Options["ref_sample"]; rs != "" {
		ref := -1
		for j, name := range m.Samples {
			if name == rs {
				ref = j
			}
		}
		if ref < 0 {
			n, err := strconv.Atoi(rs)
			if err != nil || n < 1 || n > S {
				return usageError(fmt.Sprintf("--ref-sample %q is neither a sample of %s nor a position 1..%d", rs, m.Path, S))
			}
			ref = n - 1
		}
		d.setFloats("ref", []float64{float64(ref)})
	} else if o.Method == edger.TMMwsp {
		d.setFloats("ref", []float64{float64(edger.ChooseReference(sqrtSum, nil))})
	}
	if o.Method == edger.RLE && unit == 0 {
		zeros, err := sumGenes("zeros")
		if err != nil {
			return err
		}
		logSum, err := mergeSums("log_sum")
		if err != nil {
			return err
		}
		gm, ok := edger.RLEGeoMeans(logSum, toInt32s(zeros), toBools(keep), S)
		if !ok {
			return &columnar.InputError{File: m.Path, Msg: edger.RLENoGenes}
		}
		d.setFloats("rle_geo_mean", gm)
	}
	if m.Final() { // never: every edgeR method has a later pass
		return finishEdger(m, nil)
	}
	return nil
}

// finishEdger turns the unscaled factors into norm and size factors (as
// edger.NormFactors), and for filterByExpr prepares the counting pass.
func finishEdger(m *Model, raw []float64) error {
	d := &m.Data
	S := len(m.Samples)
	lib := d.Floats["lib_size"]
	o := m.edgerOptions()
	nf := make([]float64, S)
	if d.Floats["unit"][0] == 1 {
		for j := range nf {
			nf[j] = 1
		}
	} else {
		if o.Method == edger.UpperQuartile {
			for j, v := range raw {
				if v == 0 {
					return &columnar.InputError{File: m.Path, Sample: m.Samples[j],
						Msg: fmt.Sprintf("the %g quantile of this sample's counts is zero, so edgeR's upperquartile factors are NaN; use tmm or tmmwsp, or a higher --p", o.P)}
				}
			}
		}
		copy(nf, raw)
		kernels.Recentre(nf)
	}
	f := &edger.Factors{LibSize: lib, NormFactor: nf}
	sf := f.EffectiveLibSize()
	kernels.Recentre(sf)
	for _, name := range []string{"sqrt_sum", "rle_geo_mean", "unit"} {
		delete(d.Floats, name)
	}
	if m.Job == JobFilter {
		eff := f.EffectiveLibSize()
		if err := edger.CheckLibSizes(m.Path, m.Samples, eff); err != nil {
			return err
		}
		fo := filterOptions(m.Spec)
		n := edger.MinSampleSize(d.Strings["group"], S, fo)
		d.setFloats("eff_lib_size", eff)
		d.setFloats("cutoff", []float64{edger.FilterCutoff(eff, fo)})
		d.setFloats("min_samples", []float64{n})
		delete(d.Floats, "keep")
		return nil
	}
	d.setFloats("norm_factor", nf)
	d.setFloats("size_factor", sf)
	delete(d.Floats, "keep")
	delete(d.Floats, "ref")
	return nil
}
