// Package money reads the amounts of orders exactly: a decimal text checked against its
// currency's ISO 4217 minor unit and kept in that unit as an integer, never a float.
//
// A shop writes 42.5 or "42.50"; a float64 would read 0.1 + 0.2 as 0.30000000000000004 and
// cannot hold every 16-digit amount, so the text is parsed digit by digit.
package money

import (
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// MaxIntegerDigits bounds the digits before the decimal point, leading zeros included: a
// trillion of any currency is past every order, and 12 digits plus 4 decimals still fit an
// int64 exactly.
const MaxIntegerDigits = 12

// Reasons Parse refuses a text. Their messages name no value.
var (
	ErrUnknownCurrency = errors.New("not an active ISO 4217 currency code")
	ErrNotDecimal      = errors.New("not a plain decimal")
	ErrTooManyDigits   = errors.New("too many digits before the decimal point")
	ErrTooManyDecimals = errors.New("more decimals than the currency's minor unit")
)

// Amount is an exact, non-negative amount of a currency, in the currency's minor unit (cents
// for EUR, yen for JPY, fils for BHD).
type Amount struct {
	minor    int64
	currency string
	exponent int
}

// Parse reads text, a plain decimal (digits, optionally a point and more digits: no sign, no
// exponent, no spaces), as an amount of currency. A text with more decimals than the currency
// has is refused even when they are zeros: "1.000" EUR is as likely a thousand written with a
// thousands separator as one euro.
func Parse(text, currency string) (Amount, error) {
	exp, ok := MinorUnits(currency)
	if !ok {
		return Amount{}, ErrUnknownCurrency
	}
	whole, frac, hasPoint := strings.Cut(text, ".")
	if !digitsOnly(whole) || (hasPoint && !digitsOnly(frac)) {
		return Amount{}, ErrNotDecimal
	}
	if len(whole) > MaxIntegerDigits {
		return Amount{}, ErrTooManyDigits
	}
	if len(frac) > exp {
		return Amount{}, ErrTooManyDecimals
	}
	var minor int64
	for _, d := range whole + frac + strings.Repeat("0", exp-len(frac)) {
		minor = minor*10 + int64(d-'0') // at most 12+4 digits: no overflow
	}
	return Amount{minor: minor, currency: currency, exponent: exp}, nil
}

// digitsOnly: one or more ASCII digits.
func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String is the amount's one canonical spelling: no leading zeros and exactly the currency's
// minor-unit decimals ("42.50" EUR, "5000" JPY, "1.250" BHD), so equal amounts are stored alike.
func (a Amount) String() string {
	digits := strconv.FormatInt(a.minor, 10)
	if a.exponent == 0 {
		return digits
	}
	if pad := a.exponent + 1 - len(digits); pad > 0 {
		digits = strings.Repeat("0", pad) + digits
	}
	cut := len(digits) - a.exponent
	return digits[:cut] + "." + digits[cut:]
}

// Currency is the amount's ISO 4217 code.
func (a Amount) Currency() string { return a.currency }

// Rat is the amount's exact value.
func (a Amount) Rat() *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(a.minor), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(a.exponent)), nil))
}

// Text is an amount as a JSON body carries it, a string ("42.50") or a number (42.5), kept as
// the text it was written in so that no float64 ever rounds it; Parse checks it. JSON null
// leaves it empty; any other JSON value keeps its raw text, which Parse refuses.
type Text string

// UnmarshalJSON keeps b's text: a string's content, or any other value's raw bytes.
func (t *Text) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	default:
		*t = Text(b)
	}
	return nil
}
