package gdpr_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestParseWarehouseDecimal: amounts are read exactly, never rounded; anything but a plain
// decimal within decimal(16,4) is refused.
func TestParseWarehouseDecimal(t *testing.T) {
	for in, want := range map[string]int64{"49.90": 499000, "0": 0, "5000": 50000000, "1.250": 12500,
		"123456789012.3456": 1234567890123456, "0.0001": 1} {
		got, err := gdpr.ParseWarehouseDecimal(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", ".5", "5.", "-1", "1e3", "1.23456", "1234567890123", " 1", "1,5", "0x10"} {
		_, err := gdpr.ParseWarehouseDecimal(in)
		require.Error(t, err, in)
		if len(in) > 2 {
			require.NotContains(t, err.Error(), in, "the error names no value")
		}
	}
}

// FuzzParseWarehouseDecimal: whatever is stored, the export either refuses it or reads its
// exact value (checked against math/big), and never panics.
func FuzzParseWarehouseDecimal(f *testing.F) {
	for _, s := range []string{"49.90", "0", "1.2345", "123456789012.3456", "1.23456", "", ".", "9999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		units, err := gdpr.ParseWarehouseDecimal(s)
		if err != nil {
			return
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok || strings.ContainsAny(s, "+-eE/xX_ ") {
			t.Fatalf("accepted a text that is no plain decimal")
		}
		got := new(big.Rat).SetFrac64(units, 10000)
		if got.Cmp(want) != 0 {
			t.Fatalf("read %s as %s", want.FloatString(4), got.FloatString(4))
		}
	})
}
