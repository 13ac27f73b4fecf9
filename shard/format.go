package shard

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
)

// Format names and version of the files.
const (
	StateFormat = "colnorm-shard-state"
	ModelFormat = "colnorm-shard-model"
	Version     = 1
)

// Jobs: what the passes compute.
const (
	JobFactors = "factors" // size factors (size-factors, normalize)
	JobFilter  = "filter"  // gene filters
)

// Spec is what a sharded run is: every state and model carries it, and merge
// takes states together only when their Specs are equal.
type Spec struct {
	Job     string            `json:"job"`
	Method  string            `json:"method"`
	Options map[string]string `json:"options"` // the options that change the numbers
	Shards  int               `json:"shards"`
	Input   Fingerprint       `json:"input"`
}

// Fingerprint identifies an input without reading its values.
type Fingerprint struct {
	Folder     bool        `json:"folder"` // a folder of Parquet files, one a shard
	Genes      int         `json:"genes"`
	GeneHash   string      `json:"gene_ids_sha256"`
	Samples    int         `json:"samples,omitempty"`             // a file input: all its samples
	SampleHash string      `json:"sample_names_sha256,omitempty"` // a file input
	Files      []FileStamp `json:"files"`
}

// FileStamp is one file of the input.
type FileStamp struct {
	Name    string `json:"name"` // base name
	Size    int64  `json:"size"`
	ModTime string `json:"mtime"` // RFC 3339, UTC, nanoseconds
}

// Data is a pass's or a model's numbers, by name.
type Data struct {
	Floats  map[string]Float64s `json:"floats,omitempty"`
	Sums    map[string]Words    `json:"exact_sums,omitempty"`
	Strings map[string][]string `json:"strings,omitempty"`
}

func (d *Data) setFloats(name string, v []float64) {
	if d.Floats == nil {
		d.Floats = map[string]Float64s{}
	}
	d.Floats[name] = v
}

func (d *Data) setSums(name string, s kernels.ExactSums) {
	if d.Sums == nil {
		d.Sums = map[string]Words{}
	}
	d.Sums[name] = s.Words()
}

func (d *Data) setStrings(name string, v []string) {
	if d.Strings == nil {
		d.Strings = map[string][]string{}
	}
	d.Strings[name] = v
}

// floats returns the named vector, checking its length (n < 0: any).
func (d *Data) floats(name string, n int) ([]float64, error) {
	v, ok := d.Floats[name]
	if !ok || (n >= 0 && len(v) != n) {
		return nil, fmt.Errorf("%w: %q missing or of the wrong length", errCorrupt, name)
	}
	return v, nil
}

func (d *Data) sums(name string, n int) (kernels.ExactSums, error) {
	v, ok := d.Sums[name]
	if !ok || len(v) != 4*n {
		return kernels.ExactSums{}, fmt.Errorf("%w: %q missing or of the wrong length", errCorrupt, name)
	}
	return kernels.ExactSumsFrom(append([]uint64(nil), v...)), nil
}

var errCorrupt = fmt.Errorf("not a complete colnorm shard file")

// Float64s is a float64 vector, written exactly (with Inf and NaN) as the
// base64 of its little-endian bytes.
type Float64s []float64

func (f Float64s) MarshalJSON() ([]byte, error) {
	b := make([]byte, 8*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

func (f *Float64s) UnmarshalJSON(data []byte) error {
	b, err := decodeB64(data)
	if err != nil || len(b)%8 != 0 {
		return errCorrupt
	}
	*f = make([]float64, len(b)/8)
	for i := range *f {
		(*f)[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return nil
}

// Words are the words of exact sums, written as base64 of little-endian bytes.
type Words []uint64

func (w Words) MarshalJSON() ([]byte, error) {
	b := make([]byte, 8*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

func (w *Words) UnmarshalJSON(data []byte) error {
	b, err := decodeB64(data)
	if err != nil || len(b)%8 != 0 {
		return errCorrupt
	}
	*w = make([]uint64, len(b)/8)
	for i := range *w {
		(*w)[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return nil
}

func decodeB64(data []byte) ([]byte, error) {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

// State is the result of one pass over one shard.
type State struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Spec
	Pass    int      `json:"pass"`   // 1-based
	Passes  int      `json:"passes"` // statistics passes of the method
	Shard   int      `json:"shard"`  // 1-based
	Model   string   `json:"model_sha256,omitempty"`
	Path    string   `json:"input_path"` // as given, for messages
	Samples []string `json:"samples"`    // the shard's samples
	Data    Data     `json:"data"`

	file string // where it was read from
}

// Model is the merge of the states of one pass: what the next pass, or the
// write pass and the tables, need.
type Model struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Spec
	Pass         int      `json:"pass"` // passes merged
	Passes       int      `json:"passes"`
	Path         string   `json:"input_path"`
	ShardSamples []int    `json:"shard_samples"` // samples in each shard
	Samples      []string `json:"samples"`       // all, in order
	Data         Data     `json:"data"`

	file   string
	digest string // sha256 of the file's bytes
}

// Final reports whether every statistics pass is merged: the model then
// gives the tables and the write pass.
func (m *Model) Final() bool { return m.Pass == m.Passes }

// Digest is the sha256 of the model file, which the states of the next pass
// record.
func (m *Model) Digest() string { return m.digest }

// Offset is the index of shard i's (1-based) first sample among all samples.
func (m *Model) Offset(i int) int {
	o := 0
	for k := 0; k < i-1; k++ {
		o += m.ShardSamples[k]
	}
	return o
}

// WriteFile writes v as JSON to path atomically.
func writeJSON(path string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	f, err := columnar.CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return nil, fmt.Errorf("shard: writing %s: %w", path, err)
	}
	return b, f.Commit()
}

// Write writes the state to path (atomically).
func (s *State) Write(path string) error {
	s.Format, s.Version = StateFormat, Version
	_, err := writeJSON(path, s)
	return err
}

// Write writes the model to path (atomically) and sets its digest.
func (m *Model) Write(path string) error {
	m.Format, m.Version = ModelFormat, Version
	b, err := writeJSON(path, m)
	if err != nil {
		return err
	}
	m.file, m.digest = path, digestOf(b)
	return nil
}

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readJSON reads a shard file of the given format.
func readJSON(path, format string, v any) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &columnar.InputError{File: path, Msg: "cannot read: " + err.Error()}
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if json.Unmarshal(b, &head) != nil || (head.Format != StateFormat && head.Format != ModelFormat) {
		return nil, &columnar.InputError{File: path, Msg: "not a colnorm shard state or model file"}
	}
	if head.Format != format {
		what := map[string]string{StateFormat: "a state file (from a pass over one shard)", ModelFormat: "a model file (from merge)"}
		return nil, &columnar.InputError{File: path, Msg: fmt.Sprintf("this is %s, but %s is needed here", what[head.Format], what[format])}
	}
	if head.Version != Version {
		return nil, &columnar.InputError{File: path, Msg: fmt.Sprintf("format version %d; this colnorm reads version %d (rerun the passes with one colnorm)", head.Version, Version)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return nil, &columnar.InputError{File: path, Msg: "corrupt shard file: " + err.Error()}
	}
	return b, nil
}

// ReadState reads a state file.
func ReadState(path string) (*State, error) {
	s := &State{}
	if _, err := readJSON(path, StateFormat, s); err != nil {
		return nil, err
	}
	s.file = path
	return s, nil
}

// ReadModel reads a model file.
func ReadModel(path string) (*Model, error) {
	m := &Model{}
	b, err := readJSON(path, ModelFormat, m)
	if err != nil {
		return nil, err
	}
	m.file, m.digest = path, digestOf(b)
	return m, nil
}

// specDiff names the first way b differs from a, or "".
func specDiff(a, b Spec) string {
	switch {
	case a.Job != b.Job:
		return fmt.Sprintf("job %s, not %s", b.Job, a.Job)
	case a.Method != b.Method:
		return fmt.Sprintf("method %s, not %s", b.Method, a.Method)
	case !reflect.DeepEqual(a.Options, b.Options):
		return fmt.Sprintf("options %v, not %v", b.Options, a.Options)
	case a.Shards != b.Shards:
		return fmt.Sprintf("%d shards, not %d", b.Shards, a.Shards)
	case a.Input.GeneHash != b.Input.GeneHash || a.Input.Genes != b.Input.Genes:
		return "other gene ids (another input)"
	case a.Input.SampleHash != b.Input.SampleHash || a.Input.Samples != b.Input.Samples || a.Input.Folder != b.Input.Folder:
		return "other samples (another input)"
	case !reflect.DeepEqual(a.Input.Files, b.Input.Files):
		return fmt.Sprintf("input files %v, not %v (another input, or changed since)", b.Input.Files, a.Input.Files)
	}
	return ""
}
