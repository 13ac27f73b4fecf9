package columnar

import (
	"fmt"
	"strings"
)

// Metadata is the key-value metadata an output carries: Parquet's footer
// key_value_metadata, an Arrow schema's metadata. Text outputs have no place
// for it and ignore it.
//
// A command gives the sink a *Metadata in SinkOptions and may go on setting
// keys after Create (size factors are often known only then); sinks read it
// as late as their format allows: Parquet when it writes the footer (Commit),
// Arrow when it writes the schema (the first column of a long output, Commit
// of a wide one). Set every key before the first WriteColumn. The zero value
// is empty and ready to use; a nil *Metadata is empty.
type Metadata struct {
	keys, values []string
}

// Set sets key to value, replacing an earlier value of key; keys keep the
// order of their first Set.
func (m *Metadata) Set(key, value string) {
	for i, k := range m.keys {
		if k == key {
			m.values[i] = value
			return
		}
	}
	m.keys = append(m.keys, key)
	m.values = append(m.values, value)
}

// Get returns the value of key and whether it is set.
func (m *Metadata) Get(key string) (string, bool) {
	if m == nil {
		return "", false
	}
	for i, k := range m.keys {
		if k == key {
			return m.values[i], true
		}
	}
	return "", false
}

// Pairs returns copies of the keys and their values, in order.
func (m *Metadata) Pairs() (keys, values []string) {
	if m == nil {
		return nil, nil
	}
	return append([]string(nil), m.keys...), append([]string(nil), m.values...)
}

// Len is the number of keys.
func (m *Metadata) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Compression codecs of Parquet outputs (SinkOptions.Compression).
const (
	CompressionZstd   = "zstd" // the default: the best ratio that still decodes fast
	CompressionSnappy = "snappy"
	CompressionGzip   = "gzip"
	CompressionNone   = "none"
)

// Compressions lists the codecs Parquet outputs can use.
var Compressions = []string{CompressionZstd, CompressionSnappy, CompressionGzip, CompressionNone}

// checkCompression reports an unknown codec name.
func checkCompression(name string) error {
	if name == "" {
		return nil
	}
	for _, c := range Compressions {
		if name == c {
			return nil
		}
	}
	return fmt.Errorf("columnar: unknown compression %q (want %s)", name, strings.Join(Compressions, ", "))
}
