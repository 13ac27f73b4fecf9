package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/colnorm/colnorm/progress"
)

// Every command's --help shows examples (2 to 4 command lines) and every
// flag says what it does.
func TestHelpTeaches(t *testing.T) {
	var out, errb bytes.Buffer
	app := newApp(&env{ctx: context.Background(), stdout: &out, stderr: &errb, meter: progress.New(nil)})
	for _, c := range app.Commands {
		code, help, stderr := colnorm(t, c.Name, "--help")
		if code != 0 || stderr != "" {
			t.Errorf("%s --help: exit %d, %q", c.Name, code, stderr)
		}
		_, examples, ok := strings.Cut(help, "Examples:\n")
		n := 0
		for _, l := range strings.Split(examples, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "colnorm ") || strings.HasPrefix(l, "source <(colnorm ") {
				n++
			}
		}
		if !ok || n < 2 || n > 4 {
			t.Errorf("%s --help: %d examples:\n%s", c.Name, n, help)
		}
		for _, f := range c.Flags {
			d, ok := f.(cli.DocGenerationFlag)
			if !ok || len(d.GetUsage()) < 10 {
				t.Errorf("%s --%s: usage %q", c.Name, f.Names()[0], d.GetUsage())
			}
		}
	}
}
