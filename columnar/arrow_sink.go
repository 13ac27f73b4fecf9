package columnar

import (
	"bufio"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() {
	createArrow = createArrowSink
}

// arrowLongBatch is the number of rows of a long Arrow output's record batches.
const arrowLongBatch = 1 << 16

// arrowSink writes an Arrow IPC file (Feather v2) or an Arrow IPC stream
// (the same messages without the file's footer, readable from a pipe),
// uncompressed: every Arrow reader (pyarrow and pandas, polars, R arrow,
// DuckDB's arrow extension) reads it, whatever codecs it was built with.
//
// Wide: a utf8 gene id column, then one float64 (float32 with
// SinkOptions.Float32, int64 with SinkOptions.Integer) column per sample; the
// columns are kept in a Spill and written on Commit as one record batch per
// spill block of genes. Long: gene id, sample and value columns, written in
// batches of arrowLongBatch rows as the columns arrive. SinkOptions.Metadata
// becomes the schema's metadata, read when the schema is written: on the
// first column of a long output, on Commit of a wide one.
type arrowSink struct {
	out     committer
	path    string
	done    bool            // committed or aborted
	stop    <-chan struct{} // SinkOptions.Done
	buf     *bufio.Writer   // arrow-go writes each buffer and its padding separately
	w       arrowRecordWriter
	stream  bool
	fields  []arrow.Field
	meta    *Metadata
	schema  *arrow.Schema
	genes   []string
	samples []string
	integer bool
	float32 bool
	long    bool
	spill   *Spill
	mem     memory.Allocator
	// long layout
	gb   *array.StringBuilder
	sb   *array.StringBuilder
	fb   *array.Float64Builder
	f32b *array.Float32Builder
	ib   *array.Int64Builder
	nb   int
}

// arrowRecordWriter is an ipc.FileWriter or an ipc.Writer (stream).
type arrowRecordWriter interface {
	Write(rec arrow.RecordBatch) error
	Close() error
}

func createArrowSink(path string, genes, samples []string, opts SinkOptions, stream bool) (Sink, error) {
	if opts.Layout != LayoutLong && opts.Layout != LayoutWide && opts.Layout != "" {
		return nil, fmt.Errorf("columnar: %s: unknown layout %q (want wide or long)", path, opts.Layout)
	}
	valueType := arrow.DataType(arrow.PrimitiveTypes.Float64)
	switch {
	case opts.Integer:
		valueType = arrow.PrimitiveTypes.Int64
	case opts.Float32:
		valueType = arrow.PrimitiveTypes.Float32
	}
	s := &arrowSink{path: path, stream: stream, meta: opts.Metadata, genes: genes, samples: samples,
		integer: opts.Integer, float32: opts.Float32 && !opts.Integer, long: opts.Layout == LayoutLong, mem: arrowAlloc, stop: opts.Done}
	if s.long {
		s.fields = []arrow.Field{
			{Name: opts.geneLabel(), Type: arrow.BinaryTypes.String},
			{Name: "sample", Type: arrow.BinaryTypes.String},
			{Name: opts.valueName(), Type: valueType, Nullable: true},
		}
	} else {
		s.fields = make([]arrow.Field, 0, len(samples)+1)
		s.fields = append(s.fields, arrow.Field{Name: opts.geneLabel(), Type: arrow.BinaryTypes.String})
		for _, name := range samples {
			s.fields = append(s.fields, arrow.Field{Name: name, Type: valueType, Nullable: true})
		}
	}
	out, err := opts.output(path)
	if err != nil {
		return nil, err
	}
	s.out = out
	s.buf = bufio.NewWriterSize(out, 1<<20)
	if s.long {
		s.gb = array.NewStringBuilder(s.mem)
		s.sb = array.NewStringBuilder(s.mem)
		switch {
		case s.integer:
			s.ib = array.NewInt64Builder(s.mem)
		case s.float32:
			s.f32b = array.NewFloat32Builder(s.mem)
		default:
			s.fb = array.NewFloat64Builder(s.mem)
		}
	} else if len(genes) > 0 && len(samples) > 0 {
		s.spill, err = NewColumnSpill(opts.TempDir, len(genes), len(samples), opts.spillBudget())
		if err != nil {
			s.Abort()
			return nil, err
		}
	}
	return s, nil
}

// start makes the schema, with the metadata as it is now, and the IPC
// writer; it does nothing once they exist.
func (s *arrowSink) start() error {
	if s.w != nil {
		return nil
	}
	var md *arrow.Metadata
	if s.meta.Len() > 0 {
		m := arrow.NewMetadata(s.meta.Pairs())
		md = &m
	}
	s.schema = arrow.NewSchema(s.fields, md)
	var err error
	if s.stream {
		s.w = ipc.NewWriter(s.buf, ipc.WithSchema(s.schema), ipc.WithAllocator(s.mem))
	} else if s.w, err = ipc.NewFileWriter(s.buf, ipc.WithSchema(s.schema), ipc.WithAllocator(s.mem)); err != nil {
		return fmt.Errorf("columnar: %s: %w", s.path, err)
	}
	return nil
}

// checkInteger reports the first value of an integer output that is not an
// integer (NaN is written as null).
func (s *arrowSink) checkInteger(j int, values []float64) error {
	for i, v := range values {
		if v != math.Trunc(v) && !math.IsNaN(v) || math.Abs(v) >= 1<<63 {
			return fmt.Errorf("columnar: %s: sample %s, gene %s: %v is not an integer (the output has integer columns)",
				s.path, s.samples[j], s.genes[i], v)
		}
	}
	return nil
}

func (s *arrowSink) WriteColumn(j int, values []float64) error {
	if len(values) != len(s.genes) {
		panic("columnar: WriteColumn: column length does not match the number of genes")
	}
	if s.integer {
		if err := s.checkInteger(j, values); err != nil {
			return err
		}
	}
	if !s.long {
		if s.spill == nil {
			return nil
		}
		return s.spill.WriteColumn(j, values)
	}
	if err := s.start(); err != nil {
		return err
	}
	sample := s.samples[j]
	for i, v := range values {
		s.gb.Append(s.genes[i])
		s.sb.Append(sample)
		switch {
		case s.float32:
			s.f32b.Append(float32(v))
		case !s.integer:
			s.fb.Append(v)
		case math.IsNaN(v):
			s.ib.AppendNull()
		default:
			s.ib.Append(int64(v))
		}
		s.nb++
		if s.nb == arrowLongBatch {
			if err := s.flushLong(); err != nil {
				return err
			}
		}
	}
	return nil
}

// reserveLong sizes the long builders for a batch like the last one, so that
// they do not grow by doubling batch after batch.
func (s *arrowSink) reserveLong(geneBytes, sampleBytes int) {
	s.gb.Reserve(arrowLongBatch)
	s.gb.ReserveData(geneBytes)
	s.sb.Reserve(arrowLongBatch)
	s.sb.ReserveData(sampleBytes)
	switch {
	case s.integer:
		s.ib.Reserve(arrowLongBatch)
	case s.float32:
		s.f32b.Reserve(arrowLongBatch)
	default:
		s.fb.Reserve(arrowLongBatch)
	}
}

// flushLong writes the rows in the long builders as one record batch.
func (s *arrowSink) flushLong() error {
	if s.nb == 0 {
		return nil
	}
	geneBytes, sampleBytes := s.gb.DataLen(), s.sb.DataLen()
	cols := make([]arrow.Array, 3)
	cols[0] = s.gb.NewArray()
	cols[1] = s.sb.NewArray()
	switch {
	case s.integer:
		cols[2] = s.ib.NewArray()
	case s.float32:
		cols[2] = s.f32b.NewArray()
	default:
		cols[2] = s.fb.NewArray()
	}
	rec := array.NewRecordBatch(s.schema, cols, int64(s.nb))
	for _, c := range cols {
		c.Release()
	}
	s.nb = 0
	s.reserveLong(geneBytes, sampleBytes)
	err := s.w.Write(rec)
	rec.Release()
	if err != nil {
		return fmt.Errorf("columnar: writing %s: %w", s.path, err)
	}
	return nil
}

// writeWide writes the matrix from the spill, one record batch per block of
// genes (a batch of gene ids alone when there are no samples).
func (s *arrowSink) writeWide() error {
	S := len(s.samples)
	blockGenes := arrowLongBatch
	var block []float64
	if s.spill != nil {
		blockGenes = s.spill.BlockGenes()
		block = make([]float64, blockGenes*S)
	}
	cols := make([]arrow.Array, S+1)
	for g0, b := 0, 0; g0 < len(s.genes); g0, b = g0+blockGenes, b+1 {
		n := min(blockGenes, len(s.genes)-g0)
		if err := interrupted(s.stop); err != nil {
			return err
		}
		if s.spill != nil {
			if _, err := s.spill.ReadBlock(b, block); err != nil {
				return err
			}
		}
		gb := array.NewStringBuilder(s.mem)
		gb.AppendValues(s.genes[g0:g0+n], nil)
		cols[0] = gb.NewArray()
		gb.Release()
		for j := 0; j < S; j++ {
			cols[j+1] = s.valueArray(block[j*n : (j+1)*n])
		}
		rec := array.NewRecordBatch(s.schema, cols, int64(n))
		for _, c := range cols {
			c.Release()
		}
		err := s.w.Write(rec)
		rec.Release()
		if err != nil {
			return fmt.Errorf("columnar: writing %s: %w", s.path, err)
		}
	}
	return nil
}

// valueArray wraps one sample's values of a block as an Arrow array without
// copying them; integer outputs are converted in place to int64, with NaN as
// null, and float32 outputs in place to float32 (value i's 4 bytes overwrite
// bytes of values before it, already read). The array is only valid until
// the block is next read.
func (s *arrowSink) valueArray(v []float64) arrow.Array {
	if s.float32 {
		fv := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(v))), 2*len(v))[:len(v)]
		for i, x := range v {
			fv[i] = float32(x)
		}
		data := array.NewData(arrow.PrimitiveTypes.Float32, len(v),
			[]*memory.Buffer{nil, memory.NewBufferBytes(bytesOf(v)[:4*len(v)])}, nil, 0, 0)
		defer data.Release()
		return array.MakeFromData(data)
	}
	if !s.integer {
		data := array.NewData(arrow.PrimitiveTypes.Float64, len(v),
			[]*memory.Buffer{nil, memory.NewBufferBytes(bytesOf(v))}, nil, 0, 0)
		defer data.Release()
		return array.MakeFromData(data)
	}
	var valid *memory.Buffer
	nulls := 0
	iv := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
	for i, x := range v {
		if math.IsNaN(x) {
			if valid == nil {
				bits := make([]byte, bitutil.BytesForBits(int64(len(v))))
				bitutil.SetBitsTo(bits, 0, int64(len(v)), true)
				valid = memory.NewBufferBytes(bits)
			}
			bitutil.ClearBit(valid.Bytes(), i)
			nulls++
			iv[i] = 0
			continue
		}
		iv[i] = int64(x)
	}
	data := array.NewData(arrow.PrimitiveTypes.Int64, len(v),
		[]*memory.Buffer{valid, memory.NewBufferBytes(bytesOf(v))}, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

func (s *arrowSink) Commit() error {
	if s.done {
		return nil
	}
	err := s.start()
	if err == nil && s.long {
		err = s.flushLong()
	} else if err == nil {
		err = s.writeWide()
	}
	if err == nil {
		if e := s.w.Close(); e != nil {
			err = fmt.Errorf("columnar: writing %s: %w", s.path, e)
		} else if e := s.buf.Flush(); e != nil {
			err = fmt.Errorf("columnar: writing %s: %w", s.path, e)
		}
	}
	if err != nil {
		s.Abort()
		return err
	}
	s.release()
	s.done = true
	return s.out.Commit()
}

// release frees the builders and the spill.
func (s *arrowSink) release() {
	if s.gb != nil {
		s.gb.Release()
		s.sb.Release()
		s.gb, s.sb = nil, nil
	}
	if s.fb != nil {
		s.fb.Release()
		s.fb = nil
	}
	if s.f32b != nil {
		s.f32b.Release()
		s.f32b = nil
	}
	if s.ib != nil {
		s.ib.Release()
		s.ib = nil
	}
	if s.spill != nil {
		s.spill.Close()
		s.spill = nil
	}
}

func (s *arrowSink) Abort() error {
	if s.done {
		return nil
	}
	s.done = true
	s.release()
	return s.out.Abort()
}
