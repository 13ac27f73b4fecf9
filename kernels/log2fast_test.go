package kernels

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

var updateLog2Table = flag.Bool("update-log2-table", false, "rewrite log2_table.go from 300-bit arithmetic")

// wantLog2Table computes log2Fast's table: for each index i, the interval
// [zLo, zHi) of z, inv (a multiple of 2^-8 near 1/z at the interval's middle;
// 1 for the intervals next to z = 1) and -log2(inv) rounded to a
// double-double from 300 bits; it fails t when some r = z·inv - 1 of the
// interval would not fit in 53 bits (see log2fast.go) or exceed 0.0048.
func wantLog2Table(t *testing.T) [256]log2Entry {
	var tab [256]log2Entry
	for i := range tab {
		zLo, zHi := 1+float64(i)/256, 1+float64(i+1)/256
		limit := 0x1p-7 // z >= 1: z·inv is a multiple of 2^-60
		if i >= log2Split {
			zLo, zHi = zLo/2, zHi/2
			limit = 0x1p-8 // z < 1: a multiple of 2^-61
		}
		inv := math.Round(256/((zLo+zHi)/2)) / 256
		if i == 0 || i == 255 {
			inv = 1
		}
		for _, z := range []float64{zLo, zHi} {
			if r := math.Abs(z*inv - 1); r >= limit || r > 0.0048 {
				t.Fatalf("log2 table entry %d: |r| reaches %g", i, r)
			}
		}
		neg := new(big.Float).SetPrec(300).Neg(bigLog2(inv))
		hi, _ := neg.Float64()
		lo, _ := new(big.Float).SetPrec(300).Sub(neg, new(big.Float).SetFloat64(hi)).Float64()
		tab[i] = log2Entry{inv, hi, lo}
	}
	return tab
}

// TestLog2Table checks log2_table.go against 300-bit arithmetic; with
// -update-log2-table it writes the file.
func TestLog2Table(t *testing.T) {
	want := wantLog2Table(t)
	if *updateLog2Table {
		rows := make([][3]float64, len(want))
		for i, e := range want {
			rows[i] = [3]float64{e.inv, e.hi, e.lo}
		}
		writeTable(t, "log2_table.go", "TestLog2Table -update-log2-table",
			"log2Table[i] is log2Fast's interval i: inv ≈ 1/z and -log2(inv) = hi + lo.", "log2Table = [256]log2Entry", rows)
		return
	}
	for i := range want {
		if log2Table[i] != want[i] {
			t.Errorf("log2Table[%d] = %v, want %v", i, log2Table[i], want[i])
		}
	}
}

// TestLog2FastMatchesExact checks that log2Fast, where it decides, returns
// log2Exact's bits, on inputs like TMM's (quotients of counts and library
// sizes), around 1 and around powers of two, and on random doubles; and
// that it decides nearly all of them.
func TestLog2FastMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	deferred := 0
	for k := 0; k < n; k++ {
		var x float64
		switch k % 6 {
		case 0: // TMM's M: (x/nO)/(r/nR)
			nO, nR := 1e6+rng.Float64()*1e8, 1e6+rng.Float64()*1e8
			x = (float64(1+rng.IntN(100000)) / nO) / (float64(1+rng.IntN(100000)) / nR)
		case 1: // just around 1
			x = 1 + (rng.Float64()-0.5)*math.Ldexp(1, -rng.IntN(50))
		case 2: // around a power of two
			x = math.Ldexp(1+(rng.Float64()-0.5)*math.Ldexp(1, -rng.IntN(50)), rng.IntN(200)-100)
		case 3: // any normal double
			x = math.Float64frombits(rng.Uint64()&^(1<<63)) + 0x1p-1022
			if math.IsInf(x, 0) || math.IsNaN(x) {
				x = 3
			}
		case 4: // counts over a library size
			x = float64(rng.IntN(1<<20)+1) / (1e5 + rng.Float64()*1e9)
		default: // the boundaries of the table's intervals
			i := rng.IntN(256)
			x = math.Ldexp(1+float64(i)/256, rng.IntN(20)-10)
			x = math.Nextafter(x, x*float64(rng.IntN(3)-1))
		}
		y, ok := log2Fast(x)
		if !ok {
			deferred++
			continue
		}
		if want := log2Exact(x); y != want {
			t.Fatalf("log2Fast(%v) = %v, log2Exact %v", x, y, want)
		}
	}
	if float64(deferred) > 0.05*float64(n) {
		t.Errorf("log2Fast deferred %d of %d", deferred, n)
	}
	t.Logf("log2Fast deferred %d of %d values to log2Exact", deferred, n)
}

// TestLog2FastIsClose checks the approximation itself against 300-bit
// log2: within 2^-13 of the gap below the result, however close to a
// midpoint, on values where the table's intervals and the cancellation
// around 1 are hardest.
func TestLog2FastIsClose(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	defer func() { t.Logf("worst: %g of the gap", worst) }()
	for k := 0; k < 20000; k++ {
		var x float64
		switch k % 3 {
		case 0:
			x = 1 + (rng.Float64()-0.5)*math.Ldexp(1, -rng.IntN(40))
		case 1:
			x = math.Ldexp(1+float64(rng.IntN(256))/256+rng.Float64()/256, rng.IntN(60)-30)
		default:
			x = math.Exp((rng.Float64() - 0.5) * 100)
		}
		yHi, yLo := log2FastParts(x)
		exact := bigLog2(x)
		d := new(big.Float).SetPrec(300).Sub(exact, new(big.Float).SetFloat64(yHi))
		d.Sub(d, new(big.Float).SetFloat64(yLo))
		df, _ := d.Float64()
		a := math.Float64bits(yHi) &^ (1 << 63)
		gap := math.Float64frombits(a) - math.Float64frombits(a-1)
		if yHi == 0 {
			if df != 0 {
				t.Fatalf("log2Fast(%v) = 0, off by %g", x, df)
			}
			continue
		}
		if math.Abs(df)/gap > worst {
			worst = math.Abs(df) / gap
		}
		if math.Abs(df) > gap/8192 {
			t.Fatalf("log2Fast(%v) off by %g of the gap", x, math.Abs(df)/gap)
		}
	}
}

func BenchmarkLog2Fast(b *testing.B) {
	x := make([]float64, 1000)
	for i := range x {
		x[i] = float64(i+1) / 7
	}
	dst := make([]float64, len(x))
	for b.Loop() {
		for i, v := range x {
			dst[i], _ = log2Fast(v)
		}
	}
}

// writeTable writes a generated Go file of the table decl (name and type)
// whose entries are rows of {inv, hi, lo} in hexadecimal floats, made by
// the test generator.
func writeTable(t *testing.T, path, generator, doc, decl string, rows [][3]float64) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "// Code generated by %s; DO NOT EDIT.\n\npackage kernels\n\n// %s\nvar %s{\n", generator, doc, decl)
	hex := func(v float64) string { return strconv.FormatFloat(v, 'x', -1, 64) }
	for _, r := range rows {
		fmt.Fprintf(&buf, "\t{%s, %s, %s},\n", hex(r[0]), hex(r[1]), hex(r[2]))
	}
	buf.WriteString("}\n")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
