// Package progress draws the status of column passes as one line on a
// terminal, and records how long each pass took.
//
// A Meter is shared by the passes of one run. Each pass is announced by a
// Stage (pass.Options.Progress), which names it; the Meter numbers the passes
// in the order they start ("pass 2/3: normalize") and, while a pass runs,
// redraws one line at most every Interval:
//
//	pass 1/2: size factors  412/2000 columns  96.1 col/s  5.8M counts/s  left 0:33
//
// The line is drawn with a carriage return and cleared (ESC [K) when the pass
// ends, so that messages printed between passes start on a clean line. The
// rate is columns done over the pass's elapsed time; counts/s is that times
// the number of genes (values read per second). Time left is the pass's
// remaining columns at that rate, plus, when the number of passes was
// planned (Meter.Plan), the later passes' columns at the same rate; it is
// an estimate that assumes the passes cost alike.
//
// A Meter built with a nil writer draws nothing but still records the
// passes (Meter.Passes), for machine-readable summaries. Whether to draw is
// the caller's decision: IsTerminal tells whether a file is a terminal.
package progress
