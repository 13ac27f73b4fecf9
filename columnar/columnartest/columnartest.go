// Package columnartest writes Parquet and Arrow IPC files column by column,
// with any of the value types the readers accept and with nulls, NaN and
// infinities where a test asks for them: the bad files that colnorm's own
// writers never make. It is for tests only.
package columnartest

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"
)

// Column types.
const (
	String  = "string"
	Int32   = "int32"
	Int64   = "int64"
	Float32 = "float32"
	Float64 = "float64"
)

// Column is one column of a table: its name, its type and its values, one
// per row. A value is a string (String columns), an int64 (integer
// columns), a float64 (float columns; NaN and infinities allowed) or nil for
// a null; a column with a nil value is written as nullable.
type Column struct {
	Name   string
	Type   string
	Values []any
}

func (c Column) nullable() bool { return slices.Contains(c.Values, nil) }

func rows(cols []Column) (int, error) {
	if len(cols) == 0 {
		return 0, fmt.Errorf("columnartest: no columns")
	}
	n := len(cols[0].Values)
	for _, c := range cols {
		if len(c.Values) != n {
			return 0, fmt.Errorf("columnartest: column %q has %d values, column %q %d", c.Name, len(c.Values), cols[0].Name, n)
		}
	}
	return n, nil
}

// orderedGroup is a Parquet group whose fields keep the given order
// (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	names []string
}

func (g orderedGroup) Fields() []parquet.Field {
	byName := map[string]parquet.Field{}
	for _, f := range g.Group.Fields() {
		byName[f.Name()] = f
	}
	out := make([]parquet.Field, len(g.names))
	for i, n := range g.names {
		out[i] = byName[n]
	}
	return out
}

func parquetLeaf(typ string) (parquet.Node, error) {
	switch typ {
	case String:
		return parquet.String(), nil
	case Int32:
		return parquet.Leaf(parquet.Int32Type), nil
	case Int64:
		return parquet.Leaf(parquet.Int64Type), nil
	case Float32:
		return parquet.Leaf(parquet.FloatType), nil
	case Float64:
		return parquet.Leaf(parquet.DoubleType), nil
	}
	return nil, fmt.Errorf("columnartest: unknown column type %q", typ)
}

func parquetValue(typ string, v any) (parquet.Value, error) {
	switch x := v.(type) {
	case nil:
		return parquet.NullValue(), nil
	case string:
		if typ == String {
			return parquet.ByteArrayValue([]byte(x)), nil
		}
	case int64:
		switch typ {
		case Int32:
			return parquet.Int32Value(int32(x)), nil
		case Int64:
			return parquet.Int64Value(x), nil
		}
	case float64:
		switch typ {
		case Float32:
			return parquet.FloatValue(float32(x)), nil
		case Float64:
			return parquet.DoubleValue(x), nil
		}
	}
	return parquet.Value{}, fmt.Errorf("columnartest: value %v (%T) in a %s column", v, v, typ)
}

// WriteParquet writes the columns, in their order, as a Parquet file of
// row groups of at most rowGroup rows (0: one row group).
func WriteParquet(path string, cols []Column, rowGroup int) error {
	n, err := rows(cols)
	if err != nil {
		return err
	}
	group := parquet.Group{}
	names := make([]string, len(cols))
	for i, c := range cols {
		leaf, err := parquetLeaf(c.Type)
		if err != nil {
			return err
		}
		if c.nullable() {
			leaf = parquet.Optional(leaf)
		}
		if _, dup := group[c.Name]; dup {
			return fmt.Errorf("columnartest: Parquet cannot hold two columns named %q", c.Name)
		}
		group[c.Name] = leaf
		names[i] = c.Name
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	opts := []parquet.WriterOption{parquet.NewSchema("m", orderedGroup{group, names})}
	if rowGroup > 0 {
		opts = append(opts, parquet.MaxRowsPerRowGroup(int64(rowGroup)))
	}
	w := parquet.NewWriter(f, opts...)
	for r := 0; r < n; r++ {
		row := make(parquet.Row, len(cols))
		for c, col := range cols {
			v, err := parquetValue(col.Type, col.Values[r])
			if err != nil {
				return err
			}
			def := 0
			if col.nullable() && col.Values[r] != nil {
				def = 1
			}
			row[c] = v.Level(0, def, c)
		}
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

func arrowType(typ string) (arrow.DataType, error) {
	switch typ {
	case String:
		return arrow.BinaryTypes.String, nil
	case Int32:
		return arrow.PrimitiveTypes.Int32, nil
	case Int64:
		return arrow.PrimitiveTypes.Int64, nil
	case Float32:
		return arrow.PrimitiveTypes.Float32, nil
	case Float64:
		return arrow.PrimitiveTypes.Float64, nil
	}
	return nil, fmt.Errorf("columnartest: unknown column type %q", typ)
}

func appendArrow(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		if s, ok := v.(string); ok {
			b.Append(s)
			return nil
		}
	case *array.Int32Builder:
		if x, ok := v.(int64); ok {
			b.Append(int32(x))
			return nil
		}
	case *array.Int64Builder:
		if x, ok := v.(int64); ok {
			b.Append(x)
			return nil
		}
	case *array.Float32Builder:
		if x, ok := v.(float64); ok {
			b.Append(float32(x))
			return nil
		}
	case *array.Float64Builder:
		if x, ok := v.(float64); ok {
			b.Append(x)
			return nil
		}
	}
	return fmt.Errorf("columnartest: value %v (%T) in a %T", v, v, b)
}

// WriteArrow writes the columns, in their order, as an Arrow IPC file with
// one record batch.
func WriteArrow(path string, cols []Column) error {
	n, err := rows(cols)
	if err != nil {
		return err
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		t, err := arrowType(c.Type)
		if err != nil {
			return err
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: c.nullable()}
	}
	schema := arrow.NewSchema(fields, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	for c, col := range cols {
		for r := 0; r < n; r++ {
			if err := appendArrow(rb.Field(c), col.Values[r]); err != nil {
				return err
			}
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		return err
	}
	if err := w.Write(rec); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

// Value turns the text of a count into a column value: "" and NA into nil
// (null), whole numbers within int64 into int64, anything else that parses
// as a number into float64 (NaN and Inf included), other text unchanged.
func Value(text string) any {
	switch text {
	case "", "NA", "null":
		return nil
	}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		return f
	}
	return text
}
