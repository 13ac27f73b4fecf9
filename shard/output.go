package shard

import (
	"context"
	"fmt"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/deseq2"
	"github.com/colnorm/colnorm/edger"
	"github.com/colnorm/colnorm/pass"
)

// needFinal checks that m is a final model of the job.
func needFinal(m *Model, job string) error {
	if m.Job != job {
		return usageError(fmt.Sprintf("the model %s is of a %s run, not %s", m.file, m.Job, job))
	}
	if !m.Final() {
		return usageError(fmt.Sprintf("the model %s is after pass %d of %d: run pass %d over every shard with --model %s --state-out FILE, and merge, first",
			m.file, m.Pass, m.Passes, m.Pass+1, m.file))
	}
	return nil
}

// Table is the size-factor table of a final factors model: the columns
// (after sample) and one row of values per sample, as the single-machine
// size-factors command writes them.
func Table(m *Model) (columns []string, values [][]float64, err error) {
	if err := needFinal(m, JobFactors); err != nil {
		return nil, nil, err
	}
	switch {
	case isDESeq2(m.Method):
		columns = []string{"lib_size", "size_factor"}
	case m.Method == "cpm":
		columns = []string{"lib_size"}
	default:
		columns = []string{"lib_size", "norm_factor", "size_factor"}
	}
	for _, c := range columns {
		v, err := m.Data.floats(c, len(m.Samples))
		if err != nil {
			return nil, nil, &columnar.InputError{File: m.file, Msg: err.Error()}
		}
		values = append(values, v)
	}
	return columns, values, nil
}

// Log says what WriteNormalized writes: plain values, or log2 (edgeR's
// log-CPM with the prior count for CPM-type methods, log2(x + 1) for DESeq2's).
type Log struct {
	On         bool
	PriorCount float64
}

// WriteNormalized writes the shard's normalized columns to sink with a final
// factors model: count / size factor (DESeq2) or edgeR's CPM on lib × norm
// factor, exactly as the single-machine normalize writes them.
func WriteNormalized(ctx context.Context, in *Input, m *Model, log Log, sink columnar.Sink, popts pass.Options) error {
	if err := needFinal(m, JobFactors); err != nil {
		return err
	}
	if err := in.checkModel(m); err != nil {
		return err
	}
	off, n := m.Offset(in.Shard), len(in.Src.Samples())
	switch {
	case isDESeq2(m.Method):
		sf, err := m.Data.floats("size_factor", len(m.Samples))
		if err != nil {
			return err
		}
		scale := deseq2.Plain
		if log.On {
			scale = deseq2.Log2p1
		}
		return deseq2.Normalize(ctx, in.Src, sf[off:off+n], scale, sink, popts)
	}
	lib, err := m.Data.floats("lib_size", len(m.Samples))
	if err != nil {
		return err
	}
	if m.Method != "cpm" {
		nf, err := m.Data.floats("norm_factor", len(m.Samples))
		if err != nil {
			return err
		}
		lib = (&edger.Factors{LibSize: lib, NormFactor: nf}).EffectiveLibSize()
	}
	if err := edger.CheckLibSizes(m.Path, m.Samples, lib); err != nil {
		return err
	}
	p := edger.PriorCounts(lib, log.PriorCount)
	return edger.CPMPriors(ctx, in.Src, lib[off:off+n], p[off:off+n], log.On, sink, popts)
}

// Kept returns the kept genes' flags of a final filter model.
func Kept(m *Model) ([]bool, error) {
	if err := needFinal(m, JobFilter); err != nil {
		return nil, err
	}
	k, err := m.Data.floats("keep", m.Input.Genes)
	if err != nil {
		return nil, &columnar.InputError{File: m.file, Msg: err.Error()}
	}
	return toBools(k), nil
}

// WriteKept writes the shard's columns of the kept genes, unchanged.
func WriteKept(ctx context.Context, in *Input, m *Model, keep []bool, sink columnar.Sink, popts pass.Options) error {
	if err := in.checkModel(m); err != nil {
		return err
	}
	return edger.WriteKept(ctx, in.Src, keep, sink, popts)
}
