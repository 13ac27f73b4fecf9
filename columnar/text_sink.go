package columnar

import (
	"bufio"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"path/filepath"
	"strconv"
	"strings"
)

// committer is the file under a text sink: an AtomicFile, or a stream that
// needs no commit (standard output).
type committer interface {
	io.Writer
	Commit() error
	Abort() error
}

// compressed wraps an output file in gzip or zstd compression when its name
// ends in .gz or .zst.
func compressed(f *AtomicFile, path string) (committer, error) {
	name := strings.ToLower(path)
	switch {
	case strings.HasSuffix(name, ".gz"):
		return &compressingFile{w: gzip.NewWriter(f), f: f}, nil
	case strings.HasSuffix(name, ".zst"):
		zw, err := zstd.NewWriter(f)
		if err != nil {
			return nil, err
		}
		return &compressingFile{w: zw, f: f}, nil
	}
	return f, nil
}

// compressingFile is an AtomicFile behind a compressor.
type compressingFile struct {
	w io.WriteCloser
	f *AtomicFile
}

func (c *compressingFile) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *compressingFile) Commit() error {
	if err := c.w.Close(); err != nil {
		c.f.Abort()
		return err
	}
	return c.f.Commit()
}
func (c *compressingFile) Abort() error { return c.f.Abort() }

type nopCommitter struct{ io.Writer }

func (nopCommitter) Commit() error { return nil }
func (nopCommitter) Abort() error  { return nil }

// isCSV reports whether a path names comma-separated text.
func isCSV(path string) bool {
	name := strings.ToLower(filepath.Base(path))
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".zst")
	return strings.HasSuffix(name, ".csv")
}

// textSink writes a matrix as delimited text with genes as rows (wide) or as
// gene, sample, value lines (long). Wide output must be transposed: columns
// go to a Spill and rows are written from it on Commit.
type textSink struct {
	out     committer
	w       *bufio.Writer
	genes   []string
	samples []string
	sep     byte
	long    bool
	spill   *Spill
	num     []byte
	done    <-chan struct{}
	float32 bool // print the float32 nearest each value
}

func newTextSink(out committer, genes, samples []string, sep byte, opts SinkOptions) (Sink, error) {
	s := &textSink{out: out, w: bufio.NewWriterSize(out, 1<<20), genes: genes, samples: samples, sep: sep,
		long: opts.Layout == LayoutLong, done: opts.Done, float32: opts.Float32 && !opts.Integer}
	if s.long {
		s.writeFields(opts.geneLabel(), "sample", opts.valueName())
		return s, nil
	}
	s.w.WriteString(quoteField(opts.geneLabel(), sep))
	for _, name := range samples {
		s.w.WriteByte(sep)
		s.w.WriteString(quoteField(name, sep))
	}
	s.w.WriteByte('\n')
	if len(genes) > 0 && len(samples) > 0 {
		sp, err := NewColumnSpill(opts.TempDir, len(genes), len(samples), opts.spillBudget())
		if err != nil {
			return nil, err
		}
		s.spill = sp
	}
	return s, nil
}

func (s *textSink) writeFields(fields ...string) {
	for i, f := range fields {
		if i > 0 {
			s.w.WriteByte(s.sep)
		}
		s.w.WriteString(quoteField(f, s.sep))
	}
	s.w.WriteByte('\n')
}

// quoteField quotes a field that holds the separator, a quote or a line break.
func quoteField(f string, sep byte) string {
	if !strings.ContainsAny(f, string(sep)+"\"\n\r") {
		return f
	}
	return `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
}

// AppendFloat appends the shortest text that reads back as the same float64.
func AppendFloat(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// AppendFloat32 appends the shortest text that reads back as float32(v).
func AppendFloat32(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, float64(float32(v)), 'g', -1, 32)
}

// appendValue appends a value as the sink prints it.
func (s *textSink) appendValue(dst []byte, v float64) []byte {
	if s.float32 {
		return AppendFloat32(dst, v)
	}
	return AppendFloat(dst, v)
}

func (s *textSink) WriteColumn(j int, values []float64) error {
	if s.long {
		sample := quoteField(s.samples[j], s.sep)
		for i, v := range values {
			s.w.WriteString(quoteField(s.genes[i], s.sep))
			s.w.WriteByte(s.sep)
			s.w.WriteString(sample)
			s.w.WriteByte(s.sep)
			s.num = s.appendValue(s.num[:0], v)
			s.w.Write(s.num)
			s.w.WriteByte('\n')
		}
		return nil
	}
	if s.spill == nil {
		return nil
	}
	return s.spill.WriteColumn(j, values)
}

func (s *textSink) Commit() error {
	if s.spill != nil {
		S := len(s.samples)
		block := make([]float64, s.spill.BlockGenes()*S)
		for b := 0; b < s.spill.NumBlocks(); b++ {
			n, err := s.spill.ReadBlock(b, block)
			if err != nil {
				s.Abort()
				return err
			}
			g0 := b * s.spill.BlockGenes()
			for r := 0; r < n; r++ {
				if r%1024 == 0 {
					if err := interrupted(s.done); err != nil {
						s.Abort()
						return err
					}
				}
				s.w.WriteString(quoteField(s.genes[g0+r], s.sep))
				for j := 0; j < S; j++ {
					s.w.WriteByte(s.sep)
					s.num = s.appendValue(s.num[:0], block[j*n+r])
					s.w.Write(s.num)
				}
				s.w.WriteByte('\n')
			}
		}
		s.spill.Close()
		s.spill = nil
	}
	if err := s.w.Flush(); err != nil {
		s.out.Abort()
		return err
	}
	return s.out.Commit()
}

func (s *textSink) Abort() error {
	if s.spill != nil {
		s.spill.Close()
		s.spill = nil
	}
	return s.out.Abort()
}
