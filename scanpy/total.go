// Package scanpy reproduces scanpy's normalisations of a count matrix, with
// colnorm's samples (columns) as scanpy's observations (rows of an AnnData).
//
// pp.normalize_total (scanpy preprocessing/_normalization.py), dense data,
// exclude_highly_expressed = False, and pp.log1p (_simple.py), in float64:
//
//	T_j    = Σ_i c_ij                                  the sample's total
//	target = median{T_j : T_j > 0}                     unless target_sum is given
//	f_j    = T_j / target   (T_j = 0: f_j = 1/target)  scanpy adds 1 to a zero total
//	x_ij   = c_ij / f_j                                 a division, as numpy's np.divide
//	log1p:   ln(1 + x_ij), by log1p (natural logarithm)
//
// The median is numpy's: the middle value, or the mean of the two middle
// values for an even count. The default target leaves samples whose total
// is zero out of the median (scanpy's _compute_nnz_median, counts[counts > 0]
// in 1.9); such a sample stays all zero, as in scanpy. When every sample is
// zero scanpy's median is NaN and so is everything it writes: here that is
// an error unless a target is given. scanpy turns integer input into
// float32 before dividing (a TODO in its source); colnorm stays in float64,
// as its reference does. The reference computes (c/T)·target, which differs
// from c/(T/target) by at most an ulp.
//
// Two passes over the sample columns (totals, then the output); memory is a
// few columns per thread.
package scanpy

import (
	"context"
	"errors"
	"math"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// TotalOptions configure NormalizeTotal.
type TotalOptions struct {
	// TargetSum is scanpy's target_sum; 0 takes the median of the non-zero
	// totals.
	TargetSum float64
	// Log1p writes ln(1 + x) (pp.log1p after normalize_total).
	Log1p bool
	Pass  pass.Options
}

// ErrNoTarget is returned (in an InputError) when every sample's total is
// zero and no target was given: scanpy's median is then NaN.
var ErrNoTarget = errors.New("every sample's total is zero: the default target (the median of the non-zero totals) does not exist; give a target sum")

// Totals returns every sample's total T_j, in one pass. Whole counts below
// 2^53 sum exactly; fractional ones are summed with compensation.
func Totals(ctx context.Context, src columnar.Source, opts pass.Options) ([]float64, error) {
	t := make([]float64, len(src.Samples()))
	err := pass.Run(ctx, src, opts, func(_, j int, col []float64) error {
		t[j] = kernels.SumCompensated(col)
		return nil
	}, nil)
	return t, err
}

// DefaultTarget is the median of the positive totals; ok is false when no
// total is positive.
func DefaultTarget(totals []float64) (target float64, ok bool) {
	var pos []float64
	for _, t := range totals {
		if t > 0 {
			pos = append(pos, t)
		}
	}
	if len(pos) == 0 {
		return 0, false
	}
	return kernels.Median(pos), true
}

// Divisors returns f_j = T_j/target, with 1/target for a zero total.
func Divisors(totals []float64, target float64) []float64 {
	f := make([]float64, len(totals))
	for j, t := range totals {
		if t == 0 {
			t = 1
		}
		f[j] = t / target
	}
	return f
}

// NormalizeTotal writes scanpy's normalize_total of src (and log1p of it
// with opts.Log1p) to sink, column by column in sample order, and returns
// the target it used.
func NormalizeTotal(ctx context.Context, src columnar.Source, sink columnar.Sink, opts TotalOptions) (float64, error) {
	if opts.TargetSum < 0 || math.IsNaN(opts.TargetSum) || math.IsInf(opts.TargetSum, 0) {
		return 0, errors.New("scanpy: the target sum must be positive and finite")
	}
	totals, err := Totals(ctx, src, opts.Pass)
	if err != nil {
		return 0, err
	}
	target := opts.TargetSum
	if target == 0 {
		var ok bool
		if target, ok = DefaultTarget(totals); !ok {
			return 0, &columnar.InputError{File: src.Path(), Msg: ErrNoTarget.Error()}
		}
	}
	f := Divisors(totals, target)
	err = pass.Run(ctx, src, opts.Pass, func(_, j int, col []float64) error {
		d := f[j]
		for i, c := range col {
			col[i] = c / d
		}
		if opts.Log1p {
			for i, x := range col {
				col[i] = math.Log1p(x)
			}
		}
		return nil
	}, sink.WriteColumn)
	return target, err
}
