package money

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// plainDecimal is the grammar Parse documents, written independently as the test's oracle.
var plainDecimal = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)

// wantRefusal says whether Parse must refuse text as an amount of a currency with exp
// decimals: not a plain decimal, too many digits before the point, or more decimals than exp.
func wantRefusal(text string, exp int) bool {
	m := plainDecimal.FindStringSubmatch(text)
	return m == nil || len(m[1]) > MaxIntegerDigits || len(m[2]) > exp
}

// randomText draws decimal texts around the edges of the grammar: plain decimals of 0 to 15
// integer digits (leading zeros included) and 0 to 6 decimals, and near misses big.Rat takes
// but a plain decimal is not (signs, exponents, fractions, a bare point, spaces).
func randomText(r *rand.Rand) string {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	text := digits(r.IntN(16))
	if r.IntN(3) > 0 {
		text += "." + digits(r.IntN(7))
	}
	switch r.IntN(12) {
	case 0:
		text = "-" + text
	case 1:
		text = "+" + text
	case 2:
		text += "e" + digits(1+r.IntN(2))
	case 3:
		text += "/" + digits(1+r.IntN(3))
	case 4:
		text = " " + text
	case 5:
		text = "." + digits(1+r.IntN(3))
	case 6:
		text = "0x" + digits(1+r.IntN(3))
	case 7:
		text += "_1"
	}
	return text
}

// TestParseAgreesWithBigRat is the property of Parse: for random decimal texts and every
// currency, Parse refuses exactly the texts that are not plain decimals, are too long or carry
// more decimals than the currency; whatever it accepts has the value math/big.Rat reads from
// the same text, and a canonical spelling with exactly the currency's decimals that reads back
// to that value.
func TestParseAgreesWithBigRat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	codes := slices.Sorted(func(yield func(string) bool) {
		for c := range minorUnits {
			if !yield(c) {
				return
			}
		}
	})
	accepted, refused := 0, 0
	for range 200_000 {
		text, cur := randomText(r), codes[r.IntN(len(codes))]
		exp := minorUnits[cur]
		a, err := Parse(text, cur)
		if wantRefusal(text, exp) {
			if err == nil {
				t.Fatalf("Parse(%q, %s) = %s, want a refusal", text, cur, a)
			}
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%q, %s): %v, want it accepted", text, cur, err)
		}
		want, ok := new(big.Rat).SetString(text)
		if !ok {
			t.Fatalf("big.Rat refuses %q, which Parse accepts", text)
		}
		if a.Rat().Cmp(want) != 0 {
			t.Fatalf("Parse(%q, %s) = %s, big.Rat reads %s", text, cur, a.Rat().RatString(), want.RatString())
		}
		canon := a.String()
		if _, frac, _ := strings.Cut(canon, "."); len(frac) != exp {
			t.Fatalf("canonical %q of %q has %d decimals, %s has %d", canon, text, len(frac), cur, exp)
		}
		back, err := Parse(canon, cur)
		if err != nil || back != a {
			t.Fatalf("canonical %q of %q reads back as %v, %v", canon, text, back, err)
		}
		accepted++
	}
	// The generator must exercise both sides, or the property proves nothing.
	if accepted < 10_000 || refused < 10_000 {
		t.Fatalf("accepted %d, refused %d: the generator is lopsided", accepted, refused)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		text, cur, want string
		err             error
	}{
		{"42.5", "EUR", "42.50", nil},
		{"42.50", "EUR", "42.50", nil},
		{"0042", "EUR", "42.00", nil},
		{"0", "EUR", "0.00", nil},
		{"0.07", "EUR", "0.07", nil},
		{"5000", "JPY", "5000", nil},
		{"1.25", "BHD", "1.250", nil},
		{"0.0001", "CLF", "0.0001", nil},
		{"999999999999.99", "EUR", "999999999999.99", nil},
		{"1.000", "EUR", "", ErrTooManyDecimals},
		{"1.5", "JPY", "", ErrTooManyDecimals},
		{"1.0", "JPY", "", ErrTooManyDecimals},
		{"1.2345", "BHD", "", ErrTooManyDecimals},
		{"1000000000000", "EUR", "", ErrTooManyDigits},
		{"1e3", "EUR", "", ErrNotDecimal},
		{"-1", "EUR", "", ErrNotDecimal},
		{"1.", "EUR", "", ErrNotDecimal},
		{".5", "EUR", "", ErrNotDecimal},
		{"", "EUR", "", ErrNotDecimal},
		{"1,50", "EUR", "", ErrNotDecimal},
		{"١٢", "EUR", "", ErrNotDecimal}, // Arabic-Indic digits are not ASCII digits
		{"true", "EUR", "", ErrNotDecimal},
		{"1", "eur", "", ErrUnknownCurrency},
		{"1", "XAU", "", ErrUnknownCurrency},
		{"1", "HRK", "", ErrUnknownCurrency},
		{"1", "", "", ErrUnknownCurrency},
	} {
		a, err := Parse(c.text, c.cur)
		if err != c.err || (err == nil && a.String() != c.want) {
			t.Errorf("Parse(%q, %q) = %q, %v; want %q, %v", c.text, c.cur, a.String(), err, c.want, c.err)
		}
	}
}

// TestTextKeepsTheWrittenDigits: a JSON number reaches Parse as written, never through a
// float64 (which would turn 0.1 into 0.1000000000000000055... and 12345678901234.56 into
// something else).
func TestTextKeepsTheWrittenDigits(t *testing.T) {
	for body, want := range map[string]Text{
		`{"amount":42.5}`:                 "42.5",
		`{"amount":"42.50"}`:              "42.50",
		`{"amount":999999999999.99}`:      "999999999999.99",
		`{"amount":0.1}`:                  "0.1",
		`{"amount":"\u0034\u0032"}`:       "42",
		`{"amount":1e2}`:                  "1e2",
		`{"amount":true}`:                 "true",
		`{"amount":{"value":1}}`:          `{"value":1}`,
		`{"amount":null}`:                 "",
		`{"amount":12345678901234567890}`: "12345678901234567890",
	} {
		var in struct {
			Amount Text `json:"amount"`
		}
		if err := json.Unmarshal([]byte(body), &in); err != nil || in.Amount != want {
			t.Errorf("%s: %q, %v; want %q", body, in.Amount, err, want)
		}
	}
}

// FuzzParse: any text and currency either parse to an amount whose canonical spelling reads
// back to the same amount and whose value big.Rat agrees with, or are refused; never a panic.
// JSON bodies go through Text the same way.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"42.5", "0", "1.000", "1e3", "-1", "999999999999.9999", "", ".", "0.", `"1"`, "١"} {
		f.Add(s, "EUR")
		f.Add(s, "BHD")
	}
	f.Add("12", "JPY")
	f.Add("0.0001", "CLF")
	f.Fuzz(func(t *testing.T, text, cur string) {
		a, err := Parse(text, cur)
		if err != nil {
			if exp, ok := MinorUnits(cur); ok && !wantRefusal(text, exp) {
				t.Fatalf("Parse(%q, %q) refused a valid amount: %v", text, cur, err)
			}
			return
		}
		if exp, _ := MinorUnits(cur); wantRefusal(text, exp) {
			t.Fatalf("Parse(%q, %q) accepted an invalid amount", text, cur)
		}
		want, ok := new(big.Rat).SetString(text)
		if !ok || a.Rat().Cmp(want) != 0 {
			t.Fatalf("Parse(%q, %q) = %s, big.Rat %v", text, cur, a, want)
		}
		if back, err := Parse(a.String(), cur); err != nil || back != a {
			t.Fatalf("canonical %q reads back as %v, %v", a.String(), back, err)
		}
		// The same text as a JSON string reaches Parse unchanged.
		if utf8.ValidString(text) {
			body, _ := json.Marshal(map[string]string{"amount": text})
			var in struct {
				Amount Text `json:"amount"`
			}
			if err := json.Unmarshal(body, &in); err != nil || string(in.Amount) != text {
				t.Fatalf("Text of %q: %q, %v", text, in.Amount, err)
			}
		}
	})
}

// FuzzText: any JSON body decodes into a Text without a panic, and a number keeps the exact
// digits it was written with.
func FuzzText(f *testing.F) {
	for _, s := range []string{`42.5`, `"42.50"`, `1e2`, `null`, `true`, `{"a":1}`, `[1]`, `"\u0031"`, `-0.0`, `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var v Text
		if err := json.Unmarshal(raw, &v); err != nil {
			return
		}
		var n json.Number
		lit := strings.TrimSpace(string(raw))
		if err := json.Unmarshal(raw, &n); err == nil && !strings.HasPrefix(lit, `"`) && lit != "null" {
			if string(v) != lit {
				t.Fatalf("number %q became %q", raw, v)
			}
		}
		if a, err := Parse(string(v), "EUR"); err == nil {
			if want, ok := new(big.Rat).SetString(string(v)); !ok || a.Rat().Cmp(want) != 0 {
				t.Fatalf("%q: %s, big.Rat %v", v, a, want)
			}
		}
	})
}
