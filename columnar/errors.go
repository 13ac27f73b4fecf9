package columnar

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode"
)

// ErrFormat is wrapped by every error about a malformed or unsupported input.
var ErrFormat = errors.New("bad input")

// InputError is an error in the data of an input file. It names the file and,
// where they are known, the sample and the gene, so that a user can find the
// offending value. Commands map it to exit status 2.
type InputError struct {
	File   string
	Sample string // empty when not known or not relevant
	Gene   string // empty when not known or not relevant
	Line   int    // 1-based line of a text file, 0 when not relevant
	Msg    string
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Sample != "" {
		fmt.Fprintf(&b, ": sample %s", printableName(e.Sample))
	}
	if e.Gene != "" {
		if e.Sample != "" {
			b.WriteString(",")
		} else {
			b.WriteString(":")
		}
		fmt.Fprintf(&b, " gene %s", printableName(e.Gene))
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// printableName is name as it is, or quoted (strconv.Quote) when it holds
// a control character such as a carriage return or a line feed, so that an
// error message stays on one line whatever a file calls its genes.
func printableName(name string) string {
	if strings.ContainsFunc(name, unicode.IsControl) {
		return strconv.Quote(name)
	}
	return name
}

// Unwrap makes errors.Is(err, ErrFormat) true for every InputError.
func (e *InputError) Unwrap() error { return ErrFormat }

// inputErrorf builds an InputError for a file with a formatted message.
func inputErrorf(file string, format string, args ...any) *InputError {
	return &InputError{File: file, Msg: fmt.Sprintf(format, args...)}
}

// Locator is implemented by sources that can say where a value is stored:
// the file that holds sample j's value of gene i (a shard of a folder, or
// the source's own path) and, for text, its 1-based line (0 when the format
// has no lines).
type Locator interface {
	Locate(j, i int) (file string, line int)
}

// ValueError is an InputError about sample j's value of gene i of src, as
// precisely located as src allows (see Locator).
func ValueError(src Source, j, i int, msg string) *InputError {
	e := &InputError{File: src.Path(), Sample: src.Samples()[j], Gene: src.Genes()[i], Msg: msg}
	if l, ok := src.(Locator); ok {
		e.File, e.Line = l.Locate(j, i)
	}
	return e
}

// ErrText is an error's text without the operation and path that an
// os.PathError adds, which an InputError already shows.
func ErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
