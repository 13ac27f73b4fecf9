package shard

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/colnorm/colnorm/columnar"
	"github.com/colnorm/colnorm/kernels"
)

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		i, n int
		ok   bool
	}{{"1/1", 1, 1, true}, {"3/8", 3, 8, true}, {"0/8", 0, 0, false}, {"9/8", 0, 0, false}, {"3/08", 0, 0, false}, {"3", 0, 0, false}, {"3/8x", 0, 0, false}} {
		i, n, err := ParseShard(c.in)
		if (err == nil) != c.ok || i != c.i || n != c.n {
			t.Errorf("ParseShard(%q) = %d, %d, %v", c.in, i, n, err)
		}
	}
}

// The vectors of a state survive the file exactly, with -Inf and NaN.
func TestStateRoundTrip(t *testing.T) {
	sums := kernels.NewExactSums(2)
	sums.Add(0, math.Log(3))
	sums.Add(1, -0.1)
	st := &State{Spec: Spec{Job: JobFactors, Method: "ratio", Shards: 2, Options: map[string]string{"a": "b"}}, Pass: 1, Passes: 2, Shard: 2,
		Samples: []string{"s1", "s2", "s3"}}
	v := []float64{math.Inf(-1), math.NaN(), 0.1 + 0.2, -0.0}
	st.Data.setFloats("v", v)
	st.Data.setSums("s", sums)
	path := filepath.Join(t.TempDir(), "x.state")
	if err := st.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	gv, err := got.Data.floats("v", 4)
	if err != nil {
		t.Fatal(err)
	}
	for k := range v {
		if math.Float64bits(gv[k]) != math.Float64bits(v[k]) {
			t.Errorf("value %d: %v, want %v", k, gv[k], v[k])
		}
	}
	gs, err := got.Data.sums("s", 2)
	if err != nil || gs.Float64(0) != math.Log(3) || gs.Float64(1) != -0.1 {
		t.Errorf("sums %v %v (%v)", gs.Float64(0), gs.Float64(1), err)
	}
	if specDiff(st.Spec, got.Spec) != "" || got.Shard != 2 || got.Pass != 1 {
		t.Errorf("header changed: %+v", got)
	}
	if _, err := ReadModel(path); err == nil {
		t.Error("a state read as a model")
	}
	// another version is refused
	b, _ := os.ReadFile(path)
	var raw map[string]any
	json.Unmarshal(b, &raw)
	raw["version"] = 99
	b, _ = json.Marshal(raw)
	os.WriteFile(path, b, 0o644)
	if _, err := ReadState(path); err == nil {
		t.Error("version 99 accepted")
	}
}

// Contiguous ranges cover every sample once, in order, for any N <= S.
func TestOpenRanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.tsv")
	text := "gene_id"
	for j := 0; j < 11; j++ {
		text += "\ts" + string(rune('a'+j))
	}
	text += "\ng1"
	for j := 0; j < 11; j++ {
		text += "\t1"
	}
	os.WriteFile(path, []byte(text+"\n"), 0o644)
	for n := 1; n <= 11; n++ {
		var all []string
		var fp string
		for i := 1; i <= n; i++ {
			in, err := Open(path, i, n, columnar.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Src.Samples()) == 0 || in.Offset != len(all) {
				t.Fatalf("n=%d shard %d: %d samples at offset %d", n, i, len(in.Src.Samples()), in.Offset)
			}
			all = append(all, in.Src.Samples()...)
			if fp != "" && fp != in.Fingerprint.SampleHash {
				t.Fatal("shards of one file have different fingerprints")
			}
			fp = in.Fingerprint.SampleHash
			in.Close()
		}
		if len(all) != 11 || all[0] != "sa" || all[10] != "sk" {
			t.Fatalf("n=%d: samples %v", n, all)
		}
	}
	if _, err := Open(path, 1, 12, columnar.Options{}); err == nil {
		t.Error("12 shards of 11 samples accepted")
	}
}
