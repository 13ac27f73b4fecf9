// Command harness times colnorm, DuckDB SQL and R DESeq2 computing the same
// DESeq2 median-of-ratios size factors on the same generated files, colnorm
// and R edgeR computing the same TMM normalization factors (-method tmm),
// and colnorm and R DESeq2's vst() computing the same blind VST (-method
// vst), checks that their results agree, and prints a table per method. See
// ../doc.go for usage.
//
// It is its own Go module so that the DuckDB driver (cgo) stays out of
// colnorm's dependencies.
package main

import (
	"bufio"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/colnorm/colnorm/bench"
)

//go:embed sizefactors.R
var rScript string

//go:embed tmm.R
var rTMMScript string

//go:embed vst.R
var rVSTScript string

// The methods of -method: the factors compared and the tools that compute them.
const (
	ratio = "ratio" // DESeq2 median of ratios: colnorm, DuckDB, R DESeq2; size_factor
	tmm   = "tmm"   // edgeR TMM: colnorm and R edgeR; norm_factor
	vst   = "vst"   // DESeq2 blind VST (nsub 1000): colnorm transform and qc, R DESeq2 vst(); vst_mean
	// DESeq2 normalized counts written as zstd Parquet: colnorm normalize
	// against the decode, with its passes timed (read, cached, write)
	normalize = "normalize"
)

var knownMethods = []string{ratio, tmm, vst, normalize}

// compared is the column of the output tables that is compared with colnorm's.
func compared(method string) string {
	switch method {
	case tmm:
		return "norm_factor"
	case vst:
		return "vst_mean"
	}
	return "size_factor"
}

type config struct {
	genes      int
	samples    []int
	methods    []string
	seed       uint64
	int64      bool
	runs       int
	tools      []string
	maxSamples map[string]int // per tool
	dir        string
	colnorm    string
	threads    int
	keepOutput bool
}

func main() {
	// The column means child process (-method vst):
	// harness -worker colmeans -input X.parquet -o OUT.tsv
	if len(os.Args) > 2 && os.Args[1] == "-worker" && os.Args[2] == "colmeans" {
		fs := flag.NewFlagSet("worker", flag.ExitOnError)
		in := fs.String("input", "", "")
		out := fs.String("o", "", "")
		fs.Parse(os.Args[3:])
		if err := runColMeansWorker(*in, *out); err != nil {
			fmt.Fprintln(os.Stderr, "colmeans worker:", err)
			os.Exit(1)
		}
		return
	}
	// The plain decode child process: harness -worker decode -input X.parquet
	if len(os.Args) > 2 && os.Args[1] == "-worker" && os.Args[2] == "decode" {
		fs := flag.NewFlagSet("worker", flag.ExitOnError)
		in := fs.String("input", "", "")
		threads := fs.Int("threads", 0, "")
		fs.Parse(os.Args[3:])
		if err := runDecodeWorker(*in, *threads); err != nil {
			fmt.Fprintln(os.Stderr, "decode worker:", err)
			os.Exit(1)
		}
		return
	}
	// The DuckDB child process: harness -worker duckdb ...
	if len(os.Args) > 2 && os.Args[1] == "-worker" && os.Args[2] == "duckdb" {
		fs := flag.NewFlagSet("worker", flag.ExitOnError)
		in := fs.String("input", "", "")
		layout := fs.String("layout", "long", "")
		out := fs.String("o", "", "")
		threads := fs.Int("threads", 0, "")
		fs.Parse(os.Args[3:])
		if err := runDuckDBWorker(*in, *layout, *out, *threads); err != nil {
			fmt.Fprintln(os.Stderr, "duckdb worker:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	var samples, methods, tools, limits string
	flag.IntVar(&cfg.genes, "genes", 60000, "genes of the generated matrices")
	flag.StringVar(&samples, "samples", "100,500,2000", "comma-separated sample counts")
	flag.StringVar(&methods, "method", ratio, "ratio (DESeq2 size factors), tmm (edgeR TMM: colnorm and r only), vst (DESeq2 blind VST, nsub 1000: colnorm transform and qc, r), normalize (DESeq2 normalized counts as zstd Parquet: colnorm and decode only), or several: ratio,tmm (both),vst")
	flag.Uint64Var(&cfg.seed, "seed", 1, "generator seed")
	flag.BoolVar(&cfg.int64, "int64", false, "generated Parquet files store counts as INT64 (as pandas and pyarrow write them) instead of INT32 (as R's arrow does)")
	flag.IntVar(&cfg.runs, "runs", 3, "timed runs of each tool at each size (the table shows the median)")
	flag.StringVar(&tools, "tools", "colnorm,duckdb,r", "comma-separated: colnorm, duckdb (long Parquet), duckdb-wide (wide Parquet, UNPIVOT), r (DESeq2 for ratio and vst, edgeR for tmm); duckdb is for ratio only; -method vst adds colnorm-qc (colnorm qc) to colnorm")
	flag.StringVar(&limits, "max-samples", "duckdb-wide=500", "comma-separated tool=N: skip the tool above N samples (e.g. r=2000)")
	flag.StringVar(&cfg.dir, "dir", bench.CacheDir(), "folder of the generated files (kept and reused)")
	flag.StringVar(&cfg.colnorm, "colnorm", "", "colnorm binary (default: build it from this repository)")
	flag.IntVar(&cfg.threads, "threads", 0, "threads for colnorm and DuckDB (0: one per core)")
	flag.BoolVar(&cfg.keepOutput, "keep", false, "keep the size factor tables each tool wrote (in a folder printed at the end)")
	flag.Parse()
	for _, s := range strings.Split(samples, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatalf("-samples: bad sample count %q", s)
		}
		cfg.samples = append(cfg.samples, n)
	}
	for _, m := range strings.Split(methods, ",") {
		m = strings.TrimSpace(m)
		if m == "both" {
			cfg.methods = append(cfg.methods, knownMethods...)
			continue
		}
		if !slices.Contains(knownMethods, m) {
			fatalf("-method: unknown method %q (ratio, tmm, vst, normalize, or several: ratio,tmm)", m)
		}
		if !slices.Contains(cfg.methods, m) {
			cfg.methods = append(cfg.methods, m)
		}
	}
	for _, t := range strings.Split(tools, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(knownTools, t) {
			fatalf("-tools: unknown tool %q", t)
		}
		cfg.tools = append(cfg.tools, t)
	}
	cfg.maxSamples = map[string]int{}
	for _, l := range strings.Split(limits, ",") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		t, n, ok := strings.Cut(strings.TrimSpace(l), "=")
		lim, err := strconv.Atoi(n)
		if !ok || err != nil || !slices.Contains(knownTools, t) {
			fatalf("-max-samples: want tool=N, not %q", l)
		}
		cfg.maxSamples[t] = lim
	}
	if cfg.runs < 1 || cfg.genes < 1 {
		fatalf("-runs and -genes must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fatalf("%v", err)
	}
}

var knownTools = []string{"colnorm", "colnorm-qc", "colnorm-long", "colnorm-long-duckdb", "colnorm-shards", "decode", "duckdb", "duckdb-wide", "r"}

// decodeName is the table's name of the plain decode row (-tools decode).
const decodeName = "decode (parquet-go)"

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "harness: "+format+"\n", args...)
	os.Exit(1)
}

// tool is one way of computing the factors of one method.
type tool struct {
	name string
	kind bench.Kind // the file it reads
	// cmd returns the command that reads in and writes a table with
	// columns sample and compared(method) to out; nil when the tool does
	// not compute the method.
	cmd func(in, out string) *exec.Cmd
	// why the tool does not run for this method, when cmd is nil
	why string
	// post, when set, runs after the first run (untimed): it turns what cmd
	// wrote next to out into the table out, and returns key=value notes.
	post func(out string) (map[string]string, error)
	// noTable: the tool writes no table with compared(method) (colnorm qc).
	noTable bool
	// notesOf, when set, reads a run's key=value notes from what the tool
	// printed on stdout (key=value lines are notes without it).
	notesOf func(stdout string) (map[string]string, error)
}

// result gathers the runs of one tool at one size for one method.
type result struct {
	method  string
	tool    string
	samples int
	genes   int
	walls   []float64 // seconds
	rss     []int64
	rssFrom string
	notes   map[string][]string // key=value lines the tool printed, per run
	factors map[string]float64  // compared(method) of the first run
	libs    map[string]float64  // lib_size of the first run (tmm)
	diff    diffs               // of |s/s_colnorm - 1| over samples (|v - v_colnorm| for vst)
	pcaDiff float64             // vst: max |R's - colnorm qc's| PC1, PC2 variance fraction
	hasPCA  bool                // pcaDiff was computed
	libDiff diffs               // the same for lib_size (tmm)
	err     error
	skipped string
}

func run(ctx context.Context, cfg config) error {
	work, err := os.MkdirTemp("", "colnorm-harness-*")
	if err != nil {
		return err
	}
	if cfg.keepOutput {
		defer fmt.Fprintln(os.Stderr, "harness: outputs kept in", work)
	} else {
		defer os.RemoveAll(work)
	}
	repo := repoRoot()
	colnorm := cfg.colnorm
	if colnorm == "" {
		colnorm = filepath.Join(work, "colnorm")
		fmt.Fprintln(os.Stderr, "harness: building colnorm from", repo)
		build := exec.CommandContext(ctx, "go", "build", "-o", colnorm, "./cmd/colnorm")
		build.Dir, build.Stdout, build.Stderr = repo, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building colnorm: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	rscript, rErr := exec.LookPath("Rscript")
	rPath := filepath.Join(work, "sizefactors.R")
	if err := os.WriteFile(rPath, []byte(rScript), 0o644); err != nil {
		return err
	}
	rTMMPath := filepath.Join(work, "tmm.R")
	if err := os.WriteFile(rTMMPath, []byte(rTMMScript), 0o644); err != nil {
		return err
	}
	rVSTPath := filepath.Join(work, "vst.R")
	if err := os.WriteFile(rVSTPath, []byte(rVSTScript), 0o644); err != nil {
		return err
	}
	threads := func(args []string) []string {
		if cfg.threads > 0 {
			return append(args, "--threads", strconv.Itoa(cfg.threads))
		}
		return args
	}
	const noDuckDB = "not run for TMM (not needed: TMM is compared with R edgeR only)"
	const noDuckDBVST = "not run for the VST (not needed: the VST is compared with R DESeq2 only)"
	const notNormalize = "not run for normalize (it times colnorm's writing against the decode)"
	var qc tool // asks the binary whether it has a qc command, for -method vst only
	if slices.Contains(cfg.methods, vst) {
		qc = vstQC(ctx, colnorm, threads)
	}
	// decode reads the wide file once and computes nothing: the floor of a pass.
	decode := tool{name: decodeName, kind: bench.WideParquet, noTable: true, cmd: func(in, out string) *exec.Cmd {
		return exec.Command(self, threads([]string{"-worker", "decode", "-input", in})...)
	}}
	// colnormOn is colnorm size-factors on another layout of the same matrix.
	colnormOn := func(name, method string, kind bench.Kind) tool {
		return tool{name: name, kind: kind, cmd: func(in, out string) *exec.Cmd {
			return exec.Command(colnorm, threads([]string{"size-factors", "--method", method, "--quiet", "-o", out, in})...)
		}}
	}
	all := map[string]map[string]tool{
		ratio: {
			"colnorm": {name: "colnorm", kind: bench.WideParquet, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(colnorm, threads([]string{"size-factors", "--method", "ratio", "--quiet", "-o", out, in})...)
			}},
			"colnorm-long":        colnormOn("colnorm (long Parquet)", ratio, bench.LongParquet),
			"colnorm-long-duckdb": colnormOn("colnorm (long Parquet by DuckDB)", ratio, longDuckDB),
			"colnorm-shards":      colnormOn("colnorm (folder of shards)", ratio, bench.ShardFolder),
			"decode":              decode,
			"duckdb": {name: "duckdb", kind: bench.LongParquet, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(self, threads([]string{"-worker", "duckdb", "-layout", "long", "-input", in, "-o", out})...)
			}},
			"duckdb-wide": {name: "duckdb-wide", kind: bench.WideParquet, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(self, threads([]string{"-worker", "duckdb", "-layout", "wide", "-input", in, "-o", out})...)
			}},
			"r": {name: "R DESeq2", kind: bench.TSV, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(rscript, rPath, in, out)
			}},
		},
		tmm: {
			"colnorm": {name: "colnorm", kind: bench.WideParquet, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(colnorm, threads([]string{"size-factors", "--method", "tmm", "--quiet", "-o", out, in})...)
			}},
			"colnorm-long":        colnormOn("colnorm (long Parquet)", tmm, bench.LongParquet),
			"colnorm-long-duckdb": colnormOn("colnorm (long Parquet by DuckDB)", tmm, longDuckDB),
			"colnorm-shards":      colnormOn("colnorm (folder of shards)", tmm, bench.ShardFolder),
			"decode":              decode,
			"duckdb":              {name: "duckdb", kind: bench.LongParquet, why: noDuckDB},
			"duckdb-wide":         {name: "duckdb-wide", kind: bench.WideParquet, why: noDuckDB},
			"r": {name: "R edgeR", kind: bench.TSV, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(rscript, rTMMPath, in, out)
			}},
		},
		vst: {
			// colnorm writes the VST matrix; the harness then takes its
			// column means with DuckDB (another Parquet reader) into out.
			"colnorm": {name: "colnorm", kind: bench.WideParquet, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(colnorm, threads([]string{"transform", "--method", "vst", "--nsub", "1000", "--quiet", in, "-o", vstMatrix(out)})...)
			}, post: func(out string) (map[string]string, error) {
				return nil, colMeans(ctx, self, vstMatrix(out), out)
			}},
			"colnorm-qc":          qc,
			"colnorm-long":        {name: "colnorm (long Parquet)", kind: bench.LongParquet, why: "not run for the VST"},
			"colnorm-long-duckdb": {name: "colnorm (long Parquet by DuckDB)", kind: longDuckDB, why: "not run for the VST"},
			"colnorm-shards":      {name: "colnorm (folder of shards)", kind: bench.ShardFolder, why: "not run for the VST"},
			"decode":              decode,
			"duckdb":              {name: "duckdb", kind: bench.LongParquet, why: noDuckDBVST},
			"duckdb-wide":         {name: "duckdb-wide", kind: bench.WideParquet, why: noDuckDBVST},
			"r": {name: "R DESeq2 vst()", kind: bench.TSV, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(rscript, rVSTPath, in, out)
			}},
		},
		normalize: {
			// colnorm writes the normalized counts as zstd Parquet (its
			// default) and prints its pass times (--json); DuckDB then
			// reads the file as it is, for its column means.
			"colnorm": {name: "colnorm", kind: bench.WideParquet, noTable: true, cmd: func(in, out string) *exec.Cmd {
				return exec.Command(colnorm, threads([]string{"normalize", "--method", "ratio", "--json", "--quiet", in, "-o", normalizedMatrix(out)})...)
			}, notesOf: passNotes, post: func(out string) (map[string]string, error) {
				return normalizedNotes(ctx, self, normalizedMatrix(out), out)
			}},
			"colnorm-qc":          {name: qcName, kind: bench.WideParquet, why: notNormalize},
			"colnorm-long":        {name: "colnorm (long Parquet)", kind: bench.LongParquet, why: notNormalize},
			"colnorm-long-duckdb": {name: "colnorm (long Parquet by DuckDB)", kind: longDuckDB, why: notNormalize},
			"colnorm-shards":      {name: "colnorm (folder of shards)", kind: bench.ShardFolder, why: notNormalize},
			"decode":              decode,
			"duckdb":              {name: "duckdb", kind: bench.LongParquet, why: notNormalize},
			"duckdb-wide":         {name: "duckdb-wide", kind: bench.WideParquet, why: notNormalize},
			"r":                   {name: "R", kind: bench.TSV, why: notNormalize},
		},
	}
	// colnorm always runs: it is the reference of the ratios and the factors.
	// colnorm qc is a second colnorm row of the VST only.
	names := func(method string) []string {
		names := []string{"colnorm"}
		if method == vst {
			names = append(names, "colnorm-qc")
		}
		for _, t := range cfg.tools {
			if t != "colnorm" && t != "colnorm-qc" {
				names = append(names, t)
			}
		}
		return names
	}
	load0 := loadAvg()
	var results []*result
	for _, S := range cfg.samples {
		p := bench.Params{Genes: cfg.genes, Samples: S, Seed: cfg.seed, Int64: cfg.int64}
		files := map[bench.Kind]string{}
		for _, method := range cfg.methods {
			size, err := runSize(ctx, cfg, work, p, method, names(method), all[method], files, rErr)
			if err != nil {
				return err
			}
			results = append(results, size...)
		}
	}
	printReport(os.Stdout, cfg, repo, results, load0+" at the start, "+loadAvg()+" at the end")
	return nil
}

// runSize times the tools names of one method at one size, interleaved,
// and compares their factors with colnorm's, the first. files holds the
// generated files of this size, filled as they are needed.
func runSize(ctx context.Context, cfg config, work string, p bench.Params, method string, names []string,
	tools map[string]tool, files map[bench.Kind]string, rErr error) ([]*result, error) {
	S := p.Samples
	var size []*result
	for _, name := range names {
		t := tools[name]
		res := &result{method: method, tool: t.name, samples: S, genes: p.Genes, notes: map[string][]string{}}
		size = append(size, res)
		if t.cmd == nil {
			res.skipped = t.why
			continue
		}
		if name == "r" && rErr != nil {
			res.skipped = "Rscript not found: R skipped"
			fmt.Fprintln(os.Stderr, "harness:", res.skipped)
			continue
		}
		if lim, ok := cfg.maxSamples[name]; ok && S > lim {
			res.skipped = fmt.Sprintf("not run above %d samples (-max-samples)", lim)
			continue
		}
		if files[t.kind] == "" {
			start := time.Now()
			path, err := cachedFile(ctx, cfg.dir, p, t.kind)
			if err != nil {
				return nil, err
			}
			if d := time.Since(start); d > time.Second {
				fmt.Fprintf(os.Stderr, "harness: generated %s in %.1fs\n", path, d.Seconds())
			}
			files[t.kind] = path
			if err := warm(path); err != nil {
				return nil, err
			}
		}
	}
	for r := 0; r < cfg.runs; r++ {
		for k, name := range names {
			res := size[k]
			if res.skipped != "" || res.err != nil {
				continue
			}
			t := tools[name]
			// Warm the input again before every run: this machine's kernel
			// pages out memory left idle (DAMON's pageout scheme), page cache
			// included, so that a tool run after R's 5 GB read its file from
			// disk (TMM 1.68 s first, 2.04-2.07 s after an R run).
			if err := warm(files[t.kind]); err != nil {
				return nil, err
			}
			out := filepath.Join(work, fmt.Sprintf("%s-%s-s%d-run%d.tsv", method, strings.ReplaceAll(name, " ", "_"), S, r+1))
			cmd := t.cmd(files[t.kind], out)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			m, err := bench.Measure(cmd)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				res.err = fmt.Errorf("%v: %s", err, lastLine(stderr.String()))
				fmt.Fprintf(os.Stderr, "harness: %s %s at %d samples failed: %v\n", method, t.name, S, res.err)
				continue
			}
			res.walls = append(res.walls, m.Wall.Seconds())
			res.rss = append(res.rss, m.PeakRSS)
			res.rssFrom = m.RSSFrom
			for _, line := range strings.Split(stdout.String(), "\n") {
				if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && t.notesOf == nil {
					res.notes[k] = append(res.notes[k], v)
				}
			}
			if t.notesOf != nil {
				notes, err := t.notesOf(stdout.String())
				if err != nil {
					res.err = err
					continue
				}
				for k, v := range notes {
					res.notes[k] = append(res.notes[k], v)
				}
			}
			if r == 0 && t.post != nil {
				notes, err := t.post(out)
				if err != nil {
					res.err = err
					continue
				}
				for _, k := range slices.Sorted(maps.Keys(notes)) {
					res.notes[k] = append(res.notes[k], notes[k])
				}
			}
			if r == 0 && !t.noTable {
				if res.factors, err = readColumn(out, compared(method)); err != nil {
					res.err = err
				} else if method == tmm {
					res.libs, res.err = readColumn(out, "lib_size")
				}
			}
			fmt.Fprintf(os.Stderr, "harness: %s, %d samples, run %d: %-12s %7.2fs %7.0f MB\n",
				method, S, r+1, t.name, m.Wall.Seconds(), float64(m.PeakRSS)/(1<<20))
		}
	}
	ref := size[0]
	for _, res := range size[1:] {
		if res.err == nil && res.factors != nil && ref.factors != nil {
			res.diff, res.err = compare(res.factors, ref.factors, method == vst)
			if res.err == nil && res.libs != nil && ref.libs != nil {
				res.libDiff, res.err = compare(res.libs, ref.libs, false)
			}
		}
	}
	if method == vst {
		comparePCA(size)
	}
	return size, nil
}

// warm reads a file (or every file of a folder) once so that the tool run
// next finds it in the page cache.
func warm(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := warm(filepath.Join(path, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// repoRoot is the colnorm repository: two levels above this source file.
func repoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// readColumn reads the numeric column col of a TSV table with a sample
// column, by sample.
func readColumn(path, col string) (map[string]float64, error) {
	return readKeyed(path, "sample", col)
}

// readKeyed reads the numeric column col of a TSV table by its column key.
func readKeyed(path, key, col string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return nil, fmt.Errorf("%s: empty", path)
	}
	header := strings.Split(sc.Text(), "\t")
	is, ifac := slices.Index(header, key), slices.Index(header, col)
	if is < 0 || ifac < 0 {
		return nil, fmt.Errorf("%s: no %s and %s columns in %q", path, key, col, header)
	}
	out := map[string]float64{}
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) <= max(is, ifac) {
			return nil, fmt.Errorf("%s: short line %q", path, sc.Text())
		}
		v, err := strconv.ParseFloat(fields[ifac], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		out[fields[is]] = v
	}
	return out, sc.Err()
}

// diffs summarizes the relative differences |got/want - 1| over samples.
type diffs struct {
	max    float64
	worst  string // the sample of max (the first by name on ties)
	median float64
}

// compare returns the relative differences of got from want (the absolute
// differences |got - want| when abs is set), or an error when they do not
// have the same samples.
func compare(got, want map[string]float64, abs bool) (diffs, error) {
	if len(got) != len(want) {
		return diffs{}, fmt.Errorf("%d factors, colnorm has %d", len(got), len(want))
	}
	var out diffs
	var all []float64
	for _, s := range slices.Sorted(maps.Keys(want)) {
		w := want[s]
		g, ok := got[s]
		if !ok {
			return diffs{}, fmt.Errorf("no factor for sample %s", s)
		}
		d := math.Abs(g/w - 1)
		if abs {
			d = math.Abs(g - w)
		}
		if math.IsNaN(d) {
			return diffs{}, fmt.Errorf("sample %s: %v, colnorm %v", s, g, w)
		}
		if d > out.max || out.worst == "" {
			out.max, out.worst = d, s
		}
		all = append(all, d)
	}
	out.median = median(all)
	return out, nil
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// noteMedian is the median of a numeric key=value note over the runs.
func (r *result) noteMedian(key string) (float64, bool) {
	var xs []float64
	for _, v := range r.notes[key] {
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			xs = append(xs, x)
		}
	}
	return median(xs), len(xs) > 0
}

func (r *result) note(key string) string {
	if v := r.notes[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func printReport(w io.Writer, cfg config, repo string, results []*result, load string) {
	fmt.Fprintf(w, "date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s RAM, %s\n", runtime.NumCPU(), cpuModel(), memTotal(), kernel())
	fmt.Fprintf(w, "load average (1, 5, 15 min): %s\n", load)
	if cfg.colnorm != "" {
		// A given binary may be older than the repository's state now.
		built := "?"
		if st, err := os.Stat(cfg.colnorm); err == nil {
			built = st.ModTime().UTC().Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(w, "go: %s; colnorm: %s (given with -colnorm, modified %s); repository now at %s\n",
			runtime.Version(), cfg.colnorm, built, gitDescribe(repo))
	} else {
		fmt.Fprintf(w, "go: %s; colnorm: %s\n", runtime.Version(), gitDescribe(repo))
	}
	var versions []string
	for _, r := range results {
		for _, k := range []string{"duckdb_version", "r_version", "deseq2_version", "edger_version"} {
			if v := r.note(k); v != "" && !slices.Contains(versions, k+" "+v) {
				versions = append(versions, k+" "+v)
			}
		}
	}
	if len(versions) > 0 {
		fmt.Fprintf(w, "versions: %s\n", strings.ReplaceAll(strings.Join(versions, ", "), "_version", ""))
	}
	width := "INT32"
	if cfg.int64 {
		width = "INT64"
	}
	fmt.Fprintf(w, "matrices: %d genes, seed %d, snappy Parquet with %s counts, generated by colnorm/bench into %s\n", cfg.genes, cfg.seed, width, cfg.dir)
	rssFrom := ""
	for _, r := range results {
		if r.rssFrom != "" {
			rssFrom = r.rssFrom
		}
	}
	fmt.Fprintf(w, "runs: %d per tool and size, interleaved; wall = median; peak RSS = largest over runs (%s)\n", cfg.runs, rssFrom)
	for _, method := range cfg.methods {
		fmt.Fprintln(w)
		switch method {
		case ratio:
			fmt.Fprintln(w, "method ratio: DESeq2 median-of-ratios size factors; max rel diff is of size_factor")
		case tmm:
			fmt.Fprintln(w, `method tmm: edgeR calcNormFactors(counts, method = "TMM"); max rel diff is of norm_factor`)
			fmt.Fprintln(w, "DuckDB: not run for TMM (not needed: TMM is compared with R edgeR only)")
		case normalize:
			fmt.Fprintln(w, "method normalize: colnorm normalize --method ratio, DESeq2 normalized counts written as zstd Parquet (wide, float64);")
			fmt.Fprintln(w, "notes: colnorm's passes (--json): read = the first size-factor pass (decodes the file, keeps it in the cache),")
			fmt.Fprintln(w, "cached = the second (from the cache), write = the normalized matrix encoded and written; write/read is their ratio;")
			fmt.Fprintln(w, "the output's size, and DuckDB's read of it (read_parquet, the mean of every column)")
		case vst:
			fmt.Fprintln(w, "method vst: DESeq2 blind parametric VST, nsub 1000 (R: vst(DESeqDataSetFromMatrix(counts, data.frame(row.names = colnames(counts)), ~1), blind = TRUE, nsub = 1000));")
			fmt.Fprintln(w, "colnorm: transform --method vst --nsub 1000 (Parquet out) and qc --nsub 1000 (VST, PCA of the 500 most variable genes, correlations and clustering of at most 500 samples, HTML report);")
			fmt.Fprintln(w, "R also times plotPCA's PCA (rowVars, top 500, prcomp) as pca; max abs diff is of the per-sample means of the VST matrix")
			fmt.Fprintln(w, "(colnorm's Parquet output averaged by DuckDB favg, Kahan summation; R colMeans), and of PC1 and PC2's variance fractions against colnorm qc's pca_variance.tsv")
			fmt.Fprintln(w, "DuckDB: not run for the VST (not needed: the VST is compared with R DESeq2 only)")
		}
		fmt.Fprintln(w)
		var rs []*result
		for _, r := range results {
			if r.method == method {
				rs = append(rs, r)
			}
		}
		printTable(w, method, rs)
	}
	var failed []string
	for _, r := range results {
		if r.err != nil {
			failed = append(failed, fmt.Sprintf("%s %s at %d samples: %v", r.method, r.tool, r.samples, r.err))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nproblems:\n- %s\n", strings.Join(failed, "\n- "))
	}
}

// printTable prints the results of one method.
func printTable(w io.Writer, method string, results []*result) {
	what := "max rel diff vs colnorm"
	if method == vst {
		what = "max abs diff of vst_mean vs colnorm"
	}
	fmt.Fprintf(w, "| samples | tool | wall s (median) | min-max s | M counts/s | peak RSS MB | x colnorm | x decode | %s | notes |\n", what)
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
	ref, refQC, dec := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for _, r := range results {
		if r.tool == "colnorm" && len(r.walls) > 0 {
			ref[r.samples] = median(r.walls)
		}
		if r.tool == decodeName && len(r.walls) > 0 {
			dec[r.samples] = median(r.walls)
		}
		if r.tool == qcName && len(r.walls) > 0 {
			refQC[r.samples] = median(r.walls)
		}
	}
	for _, r := range results {
		if r.skipped != "" {
			fmt.Fprintf(w, "| %d | %s | - | - | - | - | - | - | - | %s |\n", r.samples, r.tool, r.skipped)
			continue
		}
		if len(r.walls) == 0 {
			fmt.Fprintf(w, "| %d | %s | - | - | - | - | - | - | - | failed: %v |\n", r.samples, r.tool, r.err)
			continue
		}
		wall := median(r.walls)
		rate := float64(r.genes) * float64(r.samples) / wall / 1e6
		xDecode := "-"
		if d, ok := dec[r.samples]; ok && r.tool != decodeName {
			xDecode = fmt.Sprintf("%.2f", wall/d)
		}
		ratio := "-"
		if c, ok := ref[r.samples]; ok && r.tool != "colnorm" {
			ratio = fmt.Sprintf("%.1f", wall/c)
		}
		diff := "(reference)"
		if r.tool == qcName || r.tool == decodeName {
			diff = "-"
			if r.err != nil {
				diff = "ERROR: " + r.err.Error()
			}
		} else if r.tool != "colnorm" {
			diff = fmt.Sprintf("%.1e", r.diff.max)
			if r.err != nil {
				diff = "ERROR: " + r.err.Error()
			}
		}
		var notes []string
		for _, k := range []string{"load_s", "read_s", "compute_s", "pca_s", "open_s", "query_s", "pass_read_s", "pass_cached_s", "pass_write_s"} {
			if v, ok := r.noteMedian(k); ok {
				label := strings.TrimPrefix(strings.TrimSuffix(k, "_s"), "pass_")
				if method == vst && k == "compute_s" {
					label = "vst()"
				}
				notes = append(notes, fmt.Sprintf("%s %.2f", label, v))
			}
		}
		note := ""
		if len(notes) > 0 {
			note = "median s: " + strings.Join(notes, ", ")
		}
		// R's own work without loading its package, against colnorm's whole run.
		if rd, ok := r.noteMedian("read_s"); ok {
			if cp, ok := r.noteMedian("compute_s"); ok {
				if c, ok := ref[r.samples]; ok {
					note += fmt.Sprintf("; read+compute %.2f s = %.1fx colnorm", rd+cp, (rd+cp)/c)
					if method == vst {
						note += fmt.Sprintf("; vst() alone %.1fx colnorm", cp/c)
					}
				}
				// R's VST and PCA against colnorm qc (which does more).
				if pc, ok := r.noteMedian("pca_s"); ok {
					if q, ok := refQC[r.samples]; ok {
						note += fmt.Sprintf("; read+vst()+pca %.2f s = %.1fx colnorm qc", rd+cp+pc, (rd+cp+pc)/q)
					}
				}
			}
		}
		if rd, ok := r.noteMedian("pass_read_s"); ok {
			if wr, ok := r.noteMedian("pass_write_s"); ok {
				note += fmt.Sprintf("; write/read %.2f", wr/rd)
			}
		}
		if v := r.note("output_mib"); v != "" {
			note += fmt.Sprintf("; output %s MiB zstd, read by DuckDB in %s s", v, r.note("duckdb_read_s"))
		}
		if r.hasPCA {
			note += fmt.Sprintf("; PC1, PC2 variance fractions max abs diff %.1e vs colnorm qc", r.pcaDiff)
		}
		// Beyond the contract's 1e-9: which sample, and whether the others
		// follow (as they do through the geometric-mean recentring).
		if r.tool != "colnorm" && r.err == nil && r.diff.max > 1e-9 {
			note += fmt.Sprintf("; largest difference at sample %s, median over samples %.1e", r.diff.worst, r.diff.median)
		}
		if r.tool != "colnorm" && r.libs != nil && r.err == nil {
			if r.libDiff.max == 0 {
				note += "; lib_size identical"
			} else {
				note += fmt.Sprintf("; lib_size max rel diff %.1e", r.libDiff.max)
			}
		}
		fmt.Fprintf(w, "| %d | %s | %.2f | %.2f-%.2f | %.0f | %.0f | %s | %s | %s | %s |\n", r.samples, r.tool, wall,
			slices.Min(r.walls), slices.Max(r.walls), rate, float64(slices.Max(r.rss))/(1<<20), ratio, xDecode, diff, note)
	}
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	return "?"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return "Linux " + strings.TrimSpace(string(b))
}

func gitDescribe(repo string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	desc := "commit " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", repo, "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		desc += " plus uncommitted changes"
	}
	return desc
}
