package shard

import (
	"fmt"
	"strings"

	"github.com/colnorm/colnorm/columnar"
)

// Merge merges the states of one pass, one for each shard, into the next
// model. prev is the model the pass was run with (nil for pass 1). It
// refuses, with a message naming the files, states of other inputs, methods,
// options, passes or models, a shard given twice and a missing shard.
func Merge(prev *Model, states []*State) (*Model, error) {
	if len(states) == 0 {
		return nil, usageError("merge needs the state files of one pass, one for each shard")
	}
	first := states[0]
	want := first.Spec
	wantPass, wantModel := 1, ""
	if prev != nil {
		want, wantPass, wantModel = prev.Spec, prev.Pass+1, prev.digest
		if prev.Final() {
			return nil, &columnar.InputError{File: prev.file, Msg: fmt.Sprintf("this model is final (all %d passes merged); nothing is left to merge", prev.Passes)}
		}
	}
	for _, s := range states {
		if d := specDiff(want, s.Spec); d != "" {
			ref := "the first state file " + first.file
			if prev != nil {
				ref = "the model " + prev.file
			}
			return nil, &columnar.InputError{File: s.file, Msg: fmt.Sprintf("foreign shard: it has %s than %s", strings.Replace(d, ", not ", " rather ", 1), ref)}
		}
		if s.Pass != wantPass {
			if prev == nil {
				return nil, &columnar.InputError{File: s.file, Msg: fmt.Sprintf("this is pass %d's state; merging pass %d needs --model, the model pass %d was run with", s.Pass, s.Pass, s.Pass)}
			}
			return nil, &columnar.InputError{File: s.file, Msg: fmt.Sprintf("this is pass %d's state, but the model %s is after pass %d: merge pass %d's states with it", s.Pass, prev.file, prev.Pass, prev.Pass+1)}
		}
		if s.Model != wantModel {
			return nil, &columnar.InputError{File: s.file, Msg: fmt.Sprintf("this state was made with another model than %s (sha256 %.12s, not %.12s): rerun this shard's pass with --model %s", prev.file, s.Model, wantModel, prev.file)}
		}
	}
	N := want.Shards
	byShard := make([]*State, N+1)
	for _, s := range states {
		if s.Shard < 1 || s.Shard > N {
			return nil, &columnar.InputError{File: s.file, Msg: fmt.Sprintf("shard %d is not in 1..%d", s.Shard, N)}
		}
		if o := byShard[s.Shard]; o != nil {
			return nil, &columnar.InputError{File: s.file, Msg: fmt.Sprintf("shard %d of %d is given twice (also %s)", s.Shard, N, o.file)}
		}
		byShard[s.Shard] = s
	}
	var missing []string
	for i := 1; i <= N; i++ {
		if byShard[i] == nil {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		return nil, usageError(fmt.Sprintf("merge of pass %d: shard %s of %d missing (no state file given for it): run pass %d for it (--shard I/%d) and merge again",
			wantPass, strings.Join(missing, ", "), N, wantPass, N))
	}
	shards := byShard[1:]
	m := &Model{Spec: want, Pass: wantPass, Passes: first.Passes, Path: first.Path}
	if prev != nil {
		m.Path, m.ShardSamples, m.Samples = prev.Path, prev.ShardSamples, prev.Samples
		for k, s := range shards {
			if len(s.Samples) != m.ShardSamples[k] {
				return nil, &columnar.InputError{File: s.file, Msg: fmt.Sprintf("shard %d has %d samples, but %d in the model", k+1, len(s.Samples), m.ShardSamples[k])}
			}
		}
	} else {
		owner := map[string]string{}
		for _, s := range shards {
			for _, name := range s.Samples {
				if o, ok := owner[name]; ok {
					return nil, &columnar.InputError{File: s.file, Sample: name, Msg: "sample is also in " + o + ": every sample must be in one shard"}
				}
				owner[name] = s.file
			}
			m.ShardSamples = append(m.ShardSamples, len(s.Samples))
			m.Samples = append(m.Samples, s.Samples...)
		}
	}
	if err := mergeData(prev, m, shards); err != nil {
		return nil, err
	}
	return m, nil
}

// concat joins the shards' per-sample vectors in shard order.
func concat(shards []*State, name string) ([]float64, error) {
	var out []float64
	for _, s := range shards {
		v, err := s.Data.floats(name, len(s.Samples))
		if err != nil {
			return nil, &columnar.InputError{File: s.file, Msg: err.Error()}
		}
		out = append(out, v...)
	}
	return out, nil
}
