package edger

import (
	"context"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
	"github.com/colnorm/colnorm/pass"
)

// DefaultPriorCount is edgeR's prior.count for log-CPM.
const DefaultPriorCount = 2

// PriorCounts returns edgeR's per-library prior counts p_j = prior·L_j/L̄,
// with L̄ the mean library size (edgeR's C++ sums in order and divides).
func PriorCounts(lib []float64, prior float64) []float64 {
	var sum float64
	for _, l := range lib {
		sum += l
	}
	mean := sum / float64(len(lib))
	p := make([]float64, len(lib))
	for j, l := range lib {
		p[j] = prior * l / mean
	}
	return p
}

// checkLibSizes is edgeR's "library sizes should be finite and non-negative"
// check (cpm stops on L <= 0), naming the sample.
func checkLibSizes(src columnar.Source, lib []float64) error {
	return CheckLibSizes(src.Path(), src.Samples(), lib)
}

// CPM writes edgeR's cpm(y, lib.size = lib) for every sample to sink; with
// log, cpm(y, log = TRUE, prior.count = prior). Library sizes are column sums
// for cpm(matrix) and lib × norm factor for cpm(DGEList).
func CPM(ctx context.Context, src columnar.Source, lib []float64, log bool, prior float64, sink columnar.Sink, opts pass.Options) error {
	if err := checkLibSizes(src, lib); err != nil {
		return err
	}
	return CPMPriors(ctx, src, lib, PriorCounts(lib, prior), log, sink, opts)
}

// CPMPriors is CPM with the per-library prior counts given (PriorCounts of
// every library, for a shard of the samples whose mean library size is
// that of all samples). The values are functions of the counts,
// kernels.CPMOf or LogCPMOf of the sample (pass.WriteMapped).
func CPMPriors(ctx context.Context, src columnar.Source, lib, p []float64, log bool, sink columnar.Sink, opts pass.Options) error {
	return pass.WriteMapped(ctx, src, opts, sink, func(j int) func(float64) float64 {
		if log {
			return kernels.LogCPMOf(lib[j], p[j])
		}
		return kernels.CPMOf(lib[j])
	})
}

// RPKM writes edgeR's rpkm(y, gene.length, lib.size = lib): CPM/(length/1000),
// or with log, log-CPM - log2(length/1000).
func RPKM(ctx context.Context, src columnar.Source, lib, lengths []float64, log bool, prior float64, sink columnar.Sink, opts pass.Options) error {
	if err := checkLibSizes(src, lib); err != nil {
		return err
	}
	p := PriorCounts(lib, prior)
	kb := make([]float64, len(lengths))
	logKb := make([]float64, len(lengths))
	for i, l := range lengths {
		kb[i] = l / 1000
		logKb[i] = kernels.Log2(kb[i])
	}
	work := func(_, j int, col []float64) error {
		if log {
			kernels.LogCPMInto(col, col, lib[j], p[j])
			for i := range col {
				col[i] -= logKb[i]
			}
		} else {
			kernels.CPMInto(col, col, lib[j])
			for i := range col {
				col[i] /= kb[i]
			}
		}
		return nil
	}
	return pass.Run(ctx, src, opts, work, sink.WriteColumn)
}

// TPM writes transcripts per million: r_ij = c_ij/length_i, then
// r_ij / Σ_k r_kj × 1e6 (the sum compensated, like R's colSums). With
// log2p1, log2(TPM + 1). A sample whose rates sum to 0 is an error.
func TPM(ctx context.Context, src columnar.Source, lengths []float64, log2p1 bool, sink columnar.Sink, opts pass.Options) error {
	work := func(_, j int, col []float64) error {
		for i := range col {
			col[i] /= lengths[i]
		}
		total := kernels.SumCompensated(col)
		if !(total > 0) {
			return &columnar.InputError{File: src.Path(), Sample: src.Samples()[j],
				Msg: "every count of this sample is zero, so its TPM is undefined; remove the sample"}
		}
		for i := range col {
			col[i] = col[i] / total * 1e6
		}
		if log2p1 {
			kernels.Log2p1Into(col, col)
		}
		return nil
	}
	return pass.Run(ctx, src, opts, work, sink.WriteColumn)
}

// LibSizes runs one pass for the column sums.
func LibSizes(ctx context.Context, src columnar.Source, opts pass.Options) ([]float64, error) {
	lib := make([]float64, len(src.Samples()))
	work := func(_, j int, col []float64) error { lib[j] = kernels.Sum(col); return nil }
	return lib, pass.Run(ctx, src, opts, work, nil)
}
