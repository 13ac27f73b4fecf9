package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/colnorm/colnorm/columnar"
)

// Input is one shard of an input: its samples as a Source, and the
// fingerprint of the whole input.
type Input struct {
	Path          string
	Shard, Shards int
	Src           columnar.Source // the shard's samples only
	Fingerprint   Fingerprint
	// Offset is the index of the shard's first sample among all samples; -1
	// for a folder until a model says (Model.Offset).
	Offset int

	whole columnar.Source // a file input: all its samples
	files []string        // a folder input: its Parquet files in order
	opts  columnar.Options
}

// ParseShard reads "I/N" (1 <= I <= N).
func ParseShard(s string) (i, n int, err error) {
	if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err != nil || fmt.Sprintf("%d/%d", i, n) != s || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard must be I/N with 1 <= I <= N (shard I of N), not %q", s)
	}
	return i, n, nil
}

// PartName is the file name of shard i of n's part of a sharded output.
func PartName(i, n int, ext string) string {
	return fmt.Sprintf("part-%05d-of-%05d%s", i, n, ext)
}

// isParquetName reports whether a folder entry is a Parquet shard (as
// columnar reads folders: hidden and _-prefixed names are not).
func isParquetName(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".parquet" || ext == ".pq"
}

func stamp(path string) (FileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return FileStamp{}, &columnar.InputError{File: path, Msg: "cannot open: " + err.Error()}
	}
	return FileStamp{Name: filepath.Base(path), Size: st.Size(), ModTime: st.ModTime().UTC().Format(time.RFC3339Nano)}, nil
}

func hashStrings(v []string) string {
	h := sha256.New()
	for _, s := range v {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Open opens shard i of n of path: a contiguous range of a file's samples,
// or the i-th Parquet file of a folder (n must then be the number of files).
func Open(path string, i, n int, opts columnar.Options) (*Input, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &columnar.InputError{File: path, Msg: "cannot open: " + err.Error()}
	}
	in := &Input{Path: path, Shard: i, Shards: n, opts: opts}
	if st.IsDir() && opts.Format != columnar.FormatText && opts.Format != columnar.FormatArrow {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, &columnar.InputError{File: path, Msg: "cannot read the folder: " + err.Error()}
		}
		var names []string
		for _, e := range entries {
			if isParquetName(e.Name()) && !e.IsDir() {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		if len(names) != n {
			return nil, &columnar.InputError{File: path, Msg: fmt.Sprintf("the folder holds %d Parquet files; a folder is sharded one file a shard, so --shard I/N needs N = %d", len(names), len(names))}
		}
		in.Fingerprint.Folder = true
		for _, name := range names {
			file := filepath.Join(path, name)
			s, err := stamp(file)
			if err != nil {
				return nil, err
			}
			in.files = append(in.files, file)
			in.Fingerprint.Files = append(in.Fingerprint.Files, s)
		}
		fo := opts
		fo.Format = columnar.FormatParquet
		if in.Src, err = columnar.Open(in.files[i-1], fo); err != nil {
			return nil, err
		}
		in.Offset = -1
	} else {
		s, err := stamp(path)
		if err != nil {
			return nil, err
		}
		in.Fingerprint.Files = []FileStamp{s}
		if in.whole, err = columnar.Open(path, opts); err != nil {
			return nil, err
		}
		S := len(in.whole.Samples())
		if S < n {
			in.whole.Close()
			return nil, &columnar.InputError{File: path, Msg: fmt.Sprintf("%d samples cannot make %d shards (at most one shard a sample)", S, n)}
		}
		lo, hi := (i-1)*S/n, i*S/n
		in.Src = &rangeSource{Source: in.whole, lo: lo, samples: in.whole.Samples()[lo:hi]}
		in.Offset = lo
		in.Fingerprint.Samples = S
		in.Fingerprint.SampleHash = hashStrings(in.whole.Samples())
	}
	in.Fingerprint.Genes = len(in.Src.Genes())
	in.Fingerprint.GeneHash = hashStrings(in.Src.Genes())
	return in, nil
}

// Close closes the input.
func (in *Input) Close() error {
	if in.whole != nil {
		return in.whole.Close()
	}
	return in.Src.Close()
}

// readSample reads sample global (of all samples, named name) into dst:
// from the file itself, or from the folder's file that holds it.
func (in *Input) readSample(m *Model, global int, dst []float64) error {
	if in.whole != nil {
		if got := in.whole.Samples()[global]; got != m.Samples[global] {
			return &columnar.InputError{File: in.Path, Sample: got, Msg: "sample " + fmt.Sprint(global+1) + " is not " + m.Samples[global] + " as in the model"}
		}
		return in.whole.ReadColumn(global, dst)
	}
	k := 1
	for global >= m.Offset(k+1) && k < m.Shards {
		k++
	}
	src := in.Src
	if k != in.Shard {
		fo := in.opts
		fo.Format = columnar.FormatParquet
		s, err := columnar.Open(in.files[k-1], fo)
		if err != nil {
			return err
		}
		defer s.Close()
		src = s
	}
	j := global - m.Offset(k)
	if got := src.Samples()[j]; got != m.Samples[global] {
		return &columnar.InputError{File: src.Path(), Sample: got, Msg: "is not " + m.Samples[global] + " as in the model"}
	}
	return src.ReadColumn(j, dst)
}

// rangeSource is samples [lo, lo+len(samples)) of a Source.
type rangeSource struct {
	columnar.Source
	lo      int
	samples []string
}

func (r *rangeSource) Samples() []string { return r.samples }
func (r *rangeSource) ReadColumn(j int, dst []float64) error {
	if j < 0 || j >= len(r.samples) {
		panic("shard: ReadColumn: sample out of range")
	}
	return r.Source.ReadColumn(r.lo+j, dst)
}
func (r *rangeSource) Close() error { return nil }
