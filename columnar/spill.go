package columnar

import (
	"fmt"
	"os"
	"unsafe"
)

// Spill is a temporary on-disk store of a genes x samples float64 matrix that
// turns rows into columns (and columns into rows) in bounded memory.
//
// The file is a sequence of blocks of up to BlockGenes consecutive genes; a
// block holds its genes' values for every sample, stored sample by sample
// (column-major within the block). Reading one sample column therefore takes
// one read per block, and reading a block of rows for every sample takes one
// read. Values are stored in the machine's byte order: the file never leaves
// the process that wrote it.
//
// A Spill is filled either by AppendRow (genes arrive one at a time, the
// number of samples is fixed) or by WriteColumn (the number of genes is fixed;
// with samples unknown, everything is one block and columns are appended).
// After filling, ReadColumn and ReadBlock are safe for concurrent use.
type Spill struct {
	f       *os.File
	samples int // S; 0 while unknown (column mode with one block)
	block   int // genes per block
	genes   int // genes written so far (row mode) or fixed (column mode)
	rowBuf  []float64
	rowN    int
	scratch []float64
}

// NewRowSpill makes a Spill that takes gene rows of `samples` values each,
// holding at most about budget bytes of them before writing a block.
func NewRowSpill(dir string, samples, budget int) (*Spill, error) {
	if samples <= 0 {
		panic("columnar: NewRowSpill needs at least one sample")
	}
	block := budget / (8 * samples)
	if block < 16 {
		block = 16
	}
	f, err := os.CreateTemp(dir, "colnorm-spill-*")
	if err != nil {
		return nil, fmt.Errorf("columnar: spill file: %w", err)
	}
	os.Remove(f.Name()) // unlinked: the space is freed when the file closes, even on a crash
	return &Spill{f: f, samples: samples, block: block, rowBuf: make([]float64, 0, block*samples),
		scratch: make([]float64, block*samples)}, nil
}

// NewColumnSpill makes a Spill for `genes` genes that takes whole sample
// columns. With samples > 0 the blocks are sized to budget bytes, so that
// ReadBlock serves rows in bounded memory; with samples == 0 the number of
// samples may grow without bound and the whole matrix is one block.
func NewColumnSpill(dir string, genes, samples, budget int) (*Spill, error) {
	block := genes
	if samples > 0 {
		block = budget / (8 * samples)
		if block < 16 {
			block = 16
		}
		if block > genes {
			block = genes
		}
	}
	if block < 1 {
		block = 1
	}
	f, err := os.CreateTemp(dir, "colnorm-spill-*")
	if err != nil {
		return nil, fmt.Errorf("columnar: spill file: %w", err)
	}
	os.Remove(f.Name())
	return &Spill{f: f, samples: samples, block: block, genes: genes}, nil
}

// Genes is the number of genes stored (after Flush in row mode).
func (s *Spill) Genes() int { return s.genes }

// Samples is the number of samples (known in row mode, or given, or counted
// as the largest column written plus one).
func (s *Spill) Samples() int { return s.samples }

// BlockGenes is the number of genes in every block but the last.
func (s *Spill) BlockGenes() int { return s.block }

func bytesOf(v []float64) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*8)
}

// blockOffset is the byte offset of block b; every block but the last is full.
func (s *Spill) blockOffset(b int) int64 {
	return int64(b) * int64(s.block) * int64(s.samples) * 8
}

// blockLen is the number of genes in block b.
func (s *Spill) blockLen(b int) int {
	n := s.genes - b*s.block
	if n > s.block {
		n = s.block
	}
	return n
}

// AppendRow adds one gene's values for every sample (row mode).
func (s *Spill) AppendRow(values []float64) error {
	if len(values) != s.samples {
		panic("columnar: Spill.AppendRow: row length does not match the number of samples")
	}
	s.rowBuf = append(s.rowBuf, values...)
	s.rowN++
	if s.rowN == s.block {
		return s.flushRows()
	}
	return nil
}

// Flush writes the rows still buffered (row mode). Call it once after the last AppendRow.
func (s *Spill) Flush() error {
	if s.rowN == 0 {
		return nil
	}
	return s.flushRows()
}

func (s *Spill) flushRows() error {
	n, S := s.rowN, s.samples
	out := s.scratch[:n*S]
	for r := 0; r < n; r++ {
		row := s.rowBuf[r*S : (r+1)*S]
		for j, v := range row {
			out[j*n+r] = v
		}
	}
	off := s.blockOffset(s.genes / s.block)
	if _, err := s.f.WriteAt(bytesOf(out), off); err != nil {
		return fmt.Errorf("columnar: spill write: %w", err)
	}
	s.genes += n
	s.rowN = 0
	s.rowBuf = s.rowBuf[:0]
	return nil
}

// WriteColumn stores sample j (column mode); values has one value per gene.
func (s *Spill) WriteColumn(j int, values []float64) error {
	if len(values) != s.genes {
		panic("columnar: Spill.WriteColumn: column length does not match the number of genes")
	}
	if s.samples == 0 { // one block, columns appended
		if _, err := s.f.WriteAt(bytesOf(values), int64(j)*int64(s.genes)*8); err != nil {
			return fmt.Errorf("columnar: spill write: %w", err)
		}
		return nil
	}
	for b := 0; b*s.block < s.genes; b++ {
		n := s.blockLen(b)
		off := s.blockOffset(b) + int64(j)*int64(n)*8
		if _, err := s.f.WriteAt(bytesOf(values[b*s.block:b*s.block+n]), off); err != nil {
			return fmt.Errorf("columnar: spill write: %w", err)
		}
	}
	return nil
}

// ReadColumn reads sample j into dst (one value per gene).
func (s *Spill) ReadColumn(j int, dst []float64) error {
	if len(dst) != s.genes {
		panic("columnar: Spill.ReadColumn: dst length does not match the number of genes")
	}
	if s.samples == 0 {
		_, err := s.f.ReadAt(bytesOf(dst), int64(j)*int64(s.genes)*8)
		if err != nil {
			return fmt.Errorf("columnar: spill read: %w", err)
		}
		return nil
	}
	for b := 0; b*s.block < s.genes; b++ {
		n := s.blockLen(b)
		off := s.blockOffset(b) + int64(j)*int64(n)*8
		if _, err := s.f.ReadAt(bytesOf(dst[b*s.block:b*s.block+n]), off); err != nil {
			return fmt.Errorf("columnar: spill read: %w", err)
		}
	}
	return nil
}

// NumBlocks is the number of gene blocks.
func (s *Spill) NumBlocks() int { return (s.genes + s.block - 1) / s.block }

// ReadBlock reads block b into dst, sample by sample: value (gene g0+r,
// sample j) is at dst[j*n+r], where g0 = b*BlockGenes() and n is the returned
// number of genes in the block. dst must hold BlockGenes()*samples values.
// Column mode needs a known number of samples.
func (s *Spill) ReadBlock(b int, dst []float64) (n int, err error) {
	if s.samples == 0 {
		panic("columnar: Spill.ReadBlock needs a known number of samples")
	}
	n = s.blockLen(b)
	if _, err := s.f.ReadAt(bytesOf(dst[:n*s.samples]), s.blockOffset(b)); err != nil {
		return 0, fmt.Errorf("columnar: spill read: %w", err)
	}
	return n, nil
}

// Close removes the spill file.
func (s *Spill) Close() error { return s.f.Close() }

// WriteColumnRange stores values for genes g0, g0+1, ... of sample j (column
// mode with one block, i.e. samples == 0 at construction): inputs that arrive
// in batches of rows, such as Arrow record batches, write each batch's part of
// every column.
func (s *Spill) WriteColumnRange(j, g0 int, values []float64) error {
	if s.samples != 0 {
		panic("columnar: Spill.WriteColumnRange needs a one-block spill")
	}
	if g0+len(values) > s.genes {
		panic("columnar: Spill.WriteColumnRange: range beyond the number of genes")
	}
	off := (int64(j)*int64(s.genes) + int64(g0)) * 8
	if _, err := s.f.WriteAt(bytesOf(values), off); err != nil {
		return fmt.Errorf("columnar: spill write: %w", err)
	}
	return nil
}
