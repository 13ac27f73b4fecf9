package columnar

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A folder of Parquet shards is one matrix whose samples are split across the
// files: every file lists the same genes in the same order, and the samples
// are the files' samples in lexical order of the file names. Each shard is
// opened as a file on its own (wide by default, or as opts says), so a shard
// may be anything a single Parquet file may be.

// shardsParquet is a folder of Parquet shards.
type shardsParquet struct {
	path    string
	shards  []Source
	first   []int // first[k] is the first sample of shard k; first[len(shards)] is the number of samples
	samples []string
	integer bool
}

// isParquetName reports whether a file name in a shard folder is a shard.
func isParquetName(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") { // hidden files, _SUCCESS, _metadata
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".parquet" || ext == ".pq"
}

// openParquetShards opens the .parquet files of folder dir as one matrix.
func openParquetShards(dir string, opts Options) (src Source, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &InputError{File: dir, Msg: "cannot read the folder: " + pqErrorText(err, dir)}
	}
	var names []string
	for _, e := range entries {
		if isParquetName(e.Name()) && !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, inputErrorf(dir, "the folder holds no .parquet files")
	}
	s := &shardsParquet{path: dir, integer: true, first: []int{0}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	owner := make(map[string]string) // sample -> shard file
	for _, name := range names {
		file := filepath.Join(dir, name)
		sh, err := openParquetFile(file, opts)
		if err != nil {
			return nil, err
		}
		s.shards = append(s.shards, sh)
		if opts.Layout == LayoutAuto {
			// every shard is read in the first shard's layout, so that a
			// wide shard with a bad column is not taken for a long table
			opts.Layout = LayoutWide
			if _, long := sh.(*longParquet); long {
				opts.Layout = LayoutLong
			}
		}
		if err := pqSameGenes(s.shards[0], sh); err != nil {
			return nil, err
		}
		for _, sm := range sh.Samples() {
			if other, ok := owner[sm]; ok {
				return nil, &InputError{File: file, Sample: sm, Msg: fmt.Sprintf("sample is also in %s", other)}
			}
			owner[sm] = file
		}
		s.samples = append(s.samples, sh.Samples()...)
		s.first = append(s.first, len(s.samples))
		s.integer = s.integer && sh.Integer()
	}
	return s, nil
}

// pqSameGenes checks that shard b lists the genes of shard a in the same
// order, and names the first gene that differs otherwise.
func pqSameGenes(a, b Source) error {
	ga, gb := a.Genes(), b.Genes()
	for i := 0; i < len(ga) || i < len(gb); i++ {
		switch {
		case i >= len(ga):
			return &InputError{File: b.Path(), Gene: gb[i],
				Msg: fmt.Sprintf("gene is not in %s (%d genes here, %d there): every shard must list the same genes in the same order", a.Path(), len(gb), len(ga))}
		case i >= len(gb):
			return &InputError{File: b.Path(), Gene: ga[i],
				Msg: fmt.Sprintf("gene of %s is missing here (%d genes here, %d there): every shard must list the same genes in the same order", a.Path(), len(gb), len(ga))}
		case ga[i] != gb[i]:
			return &InputError{File: b.Path(), Gene: gb[i],
				Msg: fmt.Sprintf("gene %d is %s here but %s in %s: every shard must list the same genes in the same order", i+1, gb[i], ga[i], a.Path())}
		}
	}
	return nil
}

func (s *shardsParquet) Path() string      { return s.path }
func (s *shardsParquet) Genes() []string   { return s.shards[0].Genes() }
func (s *shardsParquet) Samples() []string { return s.samples }
func (s *shardsParquet) Integer() bool     { return s.integer }

// ReadColumn reads sample j from the shard that holds it.
func (s *shardsParquet) ReadColumn(j int, dst []float64) error {
	if j < 0 || j >= len(s.samples) {
		panic("columnar: ReadColumn: sample out of range")
	}
	k := sort.SearchInts(s.first, j+1) - 1 // the last shard whose first sample is <= j
	return s.shards[k].ReadColumn(j-s.first[k], dst)
}

// Locate names the shard file that holds sample j.
func (s *shardsParquet) Locate(j, i int) (string, int) {
	k := sort.SearchInts(s.first, j+1) - 1
	if l, ok := s.shards[k].(Locator); ok {
		return l.Locate(j-s.first[k], i)
	}
	return s.shards[k].Path(), 0
}

func (s *shardsParquet) Close() error {
	var err error
	for _, sh := range s.shards {
		if e := sh.Close(); err == nil {
			err = e
		}
	}
	s.shards = nil
	return err
}
