package progress

import (
	"testing"

	"github.com/colnorm/colnorm/internal/ptytest"
)

func TestIsTerminalForAPseudoTerminal(t *testing.T) {
	c, term, err := ptytest.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer c.Close()
	defer term.Close()
	if !IsTerminal(term) {
		t.Error("a pseudo-terminal is not a terminal")
	}
}
