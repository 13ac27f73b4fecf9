package metadata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/colnorm/colnorm/columnar"
)

func TestFactorInMatrixOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meta.csv")
	os.WriteFile(p, []byte("\"sample\",\"tissue\",\"run\"\n\"b\",liver,1\n\"a\",kidney,2\nextra,x,3\n"), 0o644)
	m, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Factor("tissue", []string{"a", "b"})
	if err != nil || g[0] != "kidney" || g[1] != "liver" {
		t.Fatalf("Factor = %v, %v", g, err)
	}
	var ie *columnar.InputError
	if _, err := m.Factor("tissue", []string{"a", "c"}); !errors.As(err, &ie) || ie.Sample != "c" {
		t.Errorf("missing sample: %v", err)
	}
	if _, err := m.Factor("nope", []string{"a"}); !errors.As(err, &ie) {
		t.Errorf("missing column: %v", err)
	}
}
