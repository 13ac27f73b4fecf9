package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/pass"
	"github.com/colnorm/colnorm/progress"
)

// Exit statuses (CONTRACT.md).
const (
	exitOK          = 0
	exitFailure     = 1
	exitBadInput    = 2
	exitInterrupted = 130
)

// usageError is bad usage of the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env is what every command gets besides its flags.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	// meter numbers and times the column passes, and draws them on stderr
	// when stderr is a terminal.
	meter *progress.Meter
	// summary, with --json, gathers what the command prints as JSON.
	summary *summary
}

// newApp builds the command-line application.
func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:  "colnorm",
		Usage: "normalize RNA-seq count matrices column by column (DESeq2 and edgeR semantics)",
		Description: "colnorm COMMAND --help shows each command's methods, flags and examples.\n\n" +
			"Examples:\n" +
			"  colnorm demo                                                # the whole pipeline on built-in data\n" +
			"  colnorm size-factors counts.tsv                             # DESeq2 size factors\n" +
			"  colnorm normalize --method tmm --log counts.tsv -o logcpm.parquet\n" +
			"  source <(colnorm completion bash)                           # TAB completion",
		Writer:    e.stdout,
		ErrWriter: e.stderr,
		Commands: []*cli.Command{
			sizeFactorsCommand(e),
			normalizeCommand(e),
			filterCommand(e),
			transformCommand(e),
			batchCorrectCommand(e),
			qcCommand(e),
			convertCommand(e),
			inspectCommand(e),
			demoCommand(e),
			completionCommand(e),
			mergeCommand(e),
		},
		HideHelpCommand:      true,
		EnableBashCompletion: true, // the hidden --generate-bash-completion flag the completion scripts call
		Version:              colnormVersion(),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("unknown command %q (colnorm --help lists the commands)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err.Error()}
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run() maps errors to statuses
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	return app
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(&env{ctx: ctx, stdout: stdout, stderr: stderr, meter: progress.New(terminal(stderr))}, args)
}

// runEnv is run with a given env.
func runEnv(e *env, args []string) int {
	app := newApp(e)
	err := app.RunContext(e.ctx, reorderArgs(app, args))
	return report(e.ctx, err, e.stderr)
}

// report prints err as one line and returns its exit status.
func report(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "colnorm: interrupted; no output was written")
		return exitInterrupted
	case errors.As(err, new(usageError)), errors.Is(err, columnar.ErrFormat):
		fmt.Fprintln(stderr, "colnorm: "+msg)
		return exitBadInput
	}
	fmt.Fprintln(stderr, "colnorm: "+msg)
	return exitFailure
}

// reorderArgs moves a command's flags before its positional arguments, so
// that `colnorm convert IN OUT --layout long` works as users expect
// (urfave/cli v2 stops reading flags at the first positional argument).
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == completionFlag {
		return args
	}
	k := 1 // the command name: the first argument that is not a flag
	for k < len(args) && strings.HasPrefix(args[k], "-") {
		k++
	}
	if k >= len(args) {
		return args
	}
	cmd := app.Command(args[k])
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, positional []string
	rest := args[k+1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue[name] && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	out := append([]string{}, args[:k+1]...)
	out = append(out, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// Flags shared by the commands that read a matrix.
func inputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Usage: "input format: text, parquet or arrow (default: from the extension)"},
		&cli.StringFlag{Name: "input-layout", Usage: "layout of a Parquet/Arrow input: wide or long (default: from the schema)"},
		&cli.BoolFlag{Name: "samples-as-rows", Usage: "the input has one row per sample and one column per gene"},
		&cli.BoolFlag{Name: "allow-fractional", Usage: "accept non-integer counts (Salmon, kallisto estimates)"},
		&cli.IntFlag{Name: "threads", Usage: "worker threads (default: one per core)", Value: 0},
		&cli.StringFlag{Name: "temp-dir", Usage: "folder for temporary files (default: the system's)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress on stderr"},
		&cli.StringFlag{Name: "memory", Usage: "memory budget, e.g. 4GiB: inputs that would need more are refused up front (default: half the physical memory)"},
		&cli.StringFlag{Name: "cache", Usage: "keep up to SIZE (e.g. 1GiB; 0 for none) of decoded columns, about 1.2 bytes a count, for the later passes of a command instead of decoding the file again; counted in --memory (default: the whole matrix when it takes at most 192MiB and --memory has room for it, else none)"},
	}
}

// inputConfig is what inputFlags give.
type inputConfig struct {
	Path            string
	Format, Layout  string
	SamplesAsRows   bool
	AllowFractional bool
	Threads         int
	TempDir         string
	Quiet           bool
	// Memory is the budget in bytes (--memory); Extra, when set by a
	// command, adds what it holds beyond the base for G genes and N samples.
	Memory int64
	// Cache is the budget in bytes for decoded columns kept between passes
	// (--cache; 0: none), when CacheSet; otherwise cacheBudget chooses it.
	Cache    int64
	CacheSet bool
	Extra    func(G, N int) []memoryItem
}

func readInputConfig(c *cli.Context, path string) (inputConfig, error) {
	cfg := inputConfig{
		Path: path, Format: c.String("format"), Layout: c.String("input-layout"),
		SamplesAsRows: c.Bool("samples-as-rows"), AllowFractional: c.Bool("allow-fractional"),
		Threads: c.Int("threads"), TempDir: c.String("temp-dir"), Quiet: c.Bool("quiet"),
	}
	if cfg.Threads < 0 {
		return cfg, usagef("--threads must be 0 (one per core) or more, not %d", cfg.Threads)
	}
	cfg.Memory = defaultMemory()
	if c.IsSet("memory") {
		m, err := parseBytes(c.String("memory"))
		if err != nil {
			return cfg, usagef("%v", err)
		}
		cfg.Memory = m
	}
	if c.IsSet("cache") {
		cfg.CacheSet = true
		if v := strings.TrimSpace(c.String("cache")); v != "0" {
			m, err := parseBytes(v)
			if err != nil {
				return cfg, usagef("%v", strings.Replace(err.Error(), "--memory", "--cache", 1))
			}
			cfg.Cache = m
		}
	}
	switch cfg.Layout {
	case "", columnar.LayoutWide, columnar.LayoutLong:
	default:
		return cfg, usagef("--input-layout must be wide or long, not %q", cfg.Layout)
	}
	return cfg, nil
}

// open opens the input for a command that reads it more than once, with
// a cache of decoded columns (cacheBudget) for the later passes: measured
// on 60,000 x 2,000 snappy Parquet, decoding a column from the cache costs
// a quarter of decoding it from the file, and TMM size factors, with
// three passes, took 3.7 instead of 4.3 s of CPU (bench/README.md).
func (cfg inputConfig) open() (columnar.Source, error) {
	src, cache, err := cfg.openWith(true)
	if err != nil {
		return nil, err
	}
	return columnar.Cached(src, cache), nil
}

// openOnce opens the input for a command that reads every column once,
// refusing an empty matrix or one that would not fit --memory.
func (cfg inputConfig) openOnce() (columnar.Source, error) {
	src, _, err := cfg.openWith(false)
	return src, err
}

// columnarOptions are the reader options of the input flags, with the
// spill budget that --memory allows.
func (cfg inputConfig) columnarOptions() columnar.Options {
	return columnar.Options{Format: cfg.Format, Layout: cfg.Layout, SamplesAsRows: cfg.SamplesAsRows,
		TempDir: cfg.TempDir, SpillBudget: cfg.spillBudget()}
}

// openWith opens the input, refuses an empty matrix, and checks --memory;
// with cached, the memory counts the cache whose budget it returns.
func (cfg inputConfig) openWith(cached bool) (columnar.Source, int64, error) {
	src, err := columnar.Open(cfg.Path, cfg.columnarOptions())
	if err != nil {
		return nil, 0, err
	}
	if err := columnar.CheckNotEmpty(src, cfg.SamplesAsRows); err != nil {
		src.Close()
		return nil, 0, err
	}
	G, N := len(src.Genes()), len(src.Samples())
	var extra []memoryItem
	if cfg.Extra != nil {
		extra = cfg.Extra(G, N)
	}
	var cache int64
	if cached {
		if cache = cfg.cacheBudget(G, N, extra); cache > 0 {
			extra = append(extra, memoryItem{cache, "decoded columns kept between passes", "--cache"})
		}
	}
	if err := cfg.checkMemory(src, extra...); err != nil {
		src.Close()
		return nil, 0, err
	}
	return src, cache, nil
}

// pass gives the options of the passes of the step what: they are timed,
// and drawn on stderr when it is a terminal and --quiet is not given.
func (cfg inputConfig) pass(e *env, what string) pass.Options {
	return pass.Options{Threads: cfg.Threads, AllowFractional: cfg.AllowFractional,
		Progress: e.meter.Stage(what, !cfg.Quiet)}
}

// matrixIO reads the input file argument and the input and output flags of
// a command that turns one matrix into another.
func matrixIO(c *cli.Context) (inputConfig, outputConfig, error) {
	path, err := oneInput(c)
	if err != nil {
		return inputConfig{}, outputConfig{}, err
	}
	in, err := readInputConfig(c, path)
	if err != nil {
		return in, outputConfig{}, err
	}
	out, err := readOutputConfig(c)
	return in, out, err
}

// oneInput returns the single positional argument or a usage error.
func oneInput(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usagef("%s needs exactly one input file, got %d arguments", c.Command.Name, c.NArg())
	}
	return c.Args().First(), nil
}

// terminal returns w when it is a terminal, to draw progress on, and nil
// otherwise (a file, a pipe, /dev/null, a test's buffer).
func terminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && progress.IsTerminal(f) {
		return w
	}
	return nil
}
