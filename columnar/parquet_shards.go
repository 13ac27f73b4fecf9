package columnar

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// A folder of Parquet shards is one matrix whose samples are split across the
// files: every file lists the same genes in the same order, and the samples
// are the files' samples in lexical order of the file names. Each shard is
// opened as a file on its own (wide by default, or as opts says), so a shard
// may be anything a single Parquet file may be.

// shardsParquet is a folder of Parquet shards. Only a few shards are open at
// a time (maxOpenShards): an open shard holds its footer (a wide shard
// shares the folder's gene ids), and a folder may hold hundreds of shards
// (ARCHS4's 722,425 samples are 723 files of 1,000), so memory stays
// bounded by the genes, not by the number of files. A pass reads the samples in order, so the shards it
// needs are opened one after another.
type shardsParquet struct {
	path    string
	files   []string
	opts    Options // the layout every shard is read in
	genes   []string
	first   []int // first[k] is the first sample of shard k; first[len(files)] is the number of samples
	samples []string
	integer bool

	mu   sync.Mutex
	open map[int]*openShard
	tick uint64 // use counter, for closing the shard used least recently
}

// openShard is an open shard file, with the readers using it.
type openShard struct {
	src     Source
	readers int
	used    uint64
}

// maxOpenShards bounds the shards open at once. The workers of a pass read
// neighbouring samples, which lie in at most two or three shards; more stay
// open so that a folder of a few shards is opened once for every pass. An
// open shard holds its footer and a file descriptor (its gene ids are the
// folder's), so the bound keeps memory and descriptors small.
var maxOpenShards = 16 // a var for tests

// isParquetName reports whether a file name in a shard folder is a shard.
func isParquetName(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") { // hidden files, _SUCCESS, _metadata
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".parquet" || ext == ".pq"
}

// openParquetShards opens the .parquet files of folder dir as one matrix:
// each is opened once to check its genes and list its samples; the first
// maxOpenShards stay open for the first pass. The first shard sets the
// genes and the layout; the others are opened a few at a time in parallel
// (their gene ids, when they are the first shard's, cost a comparison).
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
	s := &shardsParquet{path: dir, integer: true, first: []int{0}, open: map[int]*openShard{}}
	for _, name := range names {
		s.files = append(s.files, filepath.Join(dir, name))
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	first, err := openParquetFile(s.files[0], opts)
	if err != nil {
		return nil, err
	}
	s.genes = first.Genes()
	if opts.Layout == LayoutAuto {
		// every shard is read in the first shard's layout, so that a wide
		// shard with a bad column is not taken for a long table
		opts.Layout = LayoutWide
		if _, long := first.(*longParquet); long {
			opts.Layout = LayoutLong
		}
	}
	s.opts = opts
	owner := make(map[string]string) // sample -> shard file
	batch := make([]Source, 2*runtime.GOMAXPROCS(0))
	errs := make([]error, len(batch))
	for b := 0; b < len(names); b += len(batch) {
		n := min(len(batch), len(names)-b)
		pqParallel(n, func(i int) {
			if b+i == 0 {
				batch[i], errs[i] = first, nil
			} else {
				batch[i], errs[i] = openParquetFileOf(s.files[b+i], opts, s.genes)
			}
		})
		for i := range n {
			if err == nil {
				err = errs[i]
			}
			if err == nil {
				err = s.add(b+i, batch[i], owner)
			}
			if err != nil && batch[i] != nil {
				batch[i].Close()
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// add takes shard k, open as sh, into the folder: its genes must be the
// folder's and its samples in no other shard. It stays open if fewer than
// maxOpenShards are.
func (s *shardsParquet) add(k int, sh Source, owner map[string]string) error {
	if err := pqSameGenes(s, sh); err != nil {
		return err
	}
	file := s.files[k]
	for _, sm := range sh.Samples() {
		if other, ok := owner[sm]; ok {
			return &InputError{File: file, Sample: sm, Msg: fmt.Sprintf("sample is also in %s", other)}
		}
		owner[sm] = file
	}
	s.samples = append(s.samples, sh.Samples()...)
	s.first = append(s.first, len(s.samples))
	s.integer = s.integer && sh.Integer()
	if len(s.open) < maxOpenShards {
		s.tick++
		s.open[k] = &openShard{src: sh, used: s.tick}
	} else {
		sh.Close()
	}
	return nil
}

// shard returns shard k open, opening it (and closing the shard used least
// recently beyond maxOpenShards) if need be; release(k) must follow. A
// shard opened again must still hold the genes and samples it held when
// the folder was opened.
func (s *shardsParquet) shard(k int) (Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick++
	if o, ok := s.open[k]; ok {
		o.readers++
		o.used = s.tick
		return o.src, nil
	}
	sh, err := openParquetFileOf(s.files[k], s.opts, s.genes)
	if err != nil {
		return nil, err
	}
	if err := pqSameGenes(s, sh); err != nil {
		sh.Close()
		return nil, err
	}
	if !slices.Equal(sh.Samples(), s.samples[s.first[k]:s.first[k+1]]) {
		sh.Close()
		return nil, inputErrorf(s.files[k], "the file's samples changed while it was being read")
	}
	s.open[k] = &openShard{src: sh, readers: 1, used: s.tick}
	for len(s.open) > maxOpenShards {
		victim := -1
		for kk, o := range s.open {
			if o.readers == 0 && (victim < 0 || o.used < s.open[victim].used) {
				victim = kk
			}
		}
		if victim < 0 {
			break // every open shard is being read
		}
		s.open[victim].src.Close()
		delete(s.open, victim)
	}
	return sh, nil
}

// release ends a use of shard k that shard began.
func (s *shardsParquet) release(k int) {
	s.mu.Lock()
	s.open[k].readers--
	s.mu.Unlock()
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
func (s *shardsParquet) Genes() []string   { return s.genes }
func (s *shardsParquet) Samples() []string { return s.samples }
func (s *shardsParquet) Integer() bool     { return s.integer }

// ReadColumn reads sample j from the shard that holds it.
func (s *shardsParquet) ReadColumn(j int, dst []float64) error {
	if j < 0 || j >= len(s.samples) {
		panic("columnar: ReadColumn: sample out of range")
	}
	k := sort.SearchInts(s.first, j+1) - 1 // the last shard whose first sample is <= j
	sh, err := s.shard(k)
	if err != nil {
		return err
	}
	defer s.release(k)
	return sh.ReadColumn(j-s.first[k], dst)
}

// readInt32s is int32Reader's method, from the shard that holds sample j
// when that shard's reader has it.
func (s *shardsParquet) readInt32s(j int, counts []int32) (bool, error) {
	k := sort.SearchInts(s.first, j+1) - 1
	sh, err := s.shard(k)
	if err != nil {
		return false, err
	}
	defer s.release(k)
	if r, ok := sh.(int32Reader); ok {
		return r.readInt32s(j-s.first[k], counts)
	}
	return false, nil
}

// Locate names the shard file that holds sample j.
func (s *shardsParquet) Locate(j, i int) (string, int) {
	return s.files[sort.SearchInts(s.first, j+1)-1], 0
}

func (s *shardsParquet) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for k, o := range s.open {
		if e := o.src.Close(); err == nil {
			err = e
		}
		delete(s.open, k)
	}
	return err
}
