package gdpr

import "strings"

// The shapes identifiers and tags must have, checked by table lookup. They were regular
// expressions compiled at package initialisation, which cost every cold start about a
// millisecond (a counted repetition such as {0,61} compiles to that many copies); these
// checks also run on every request.

// charset is the bytes an identifier may hold.
type charset [256]bool

func charsetOf(members string) *charset {
	var c charset
	for i := range len(members) {
		c[members[i]] = true
	}
	return &c
}

const (
	lowerLetters = "abcdefghijklmnopqrstuvwxyz"
	upperLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits       = "0123456789"
)

var (
	lowerOrDigit   = charsetOf(lowerLetters + digits)
	brandIDChars   = charsetOf(lowerLetters + digits + "-")
	alphanumeric   = charsetOf(lowerLetters + upperLetters + digits)
	safeIDChars    = charsetOf(lowerLetters + upperLetters + digits + "_-")
	externalIDChar = charsetOf(lowerLetters + upperLetters + digits + "_.:-")
	hexDigits      = charsetOf(digits + "abcdefABCDEF")
	lowerLetter    = charsetOf(lowerLetters)
)

// spans reports whether s has from min to max bytes, each in c.
func (c *charset) spans(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := range len(s) {
		if !c[s[i]] {
			return false
		}
	}
	return true
}

// safeID: letters, digits, '_' and '-', 1 to max bytes: safe as a blob name and in a URL.
func safeID(s string, max int) bool { return safeIDChars.spans(s, 1, max) }

// externalID: an id another system gives (an order, a SKU, a batch): letters, digits and
// "_.:-", 1 to 128 bytes.
func externalID(s string) bool { return externalIDChar.spans(s, 1, 128) }

// languageTag: a BCP 47 shape, a primary language of 2 or 3 lower-case letters and subtags of
// 2 to 8 letters or digits, e.g. "fr" or "en-GB".
func languageTag(s string) bool {
	primary, rest, more := strings.Cut(s, "-")
	if !lowerLetter.spans(primary, 2, 3) {
		return false
	}
	if !more {
		return true
	}
	for sub := range strings.SplitSeq(rest, "-") {
		if !alphanumeric.spans(sub, 2, 8) {
			return false
		}
	}
	return true
}

// hexColor: "#" and six hexadecimal digits.
func hexColor(s string) bool { return len(s) == 7 && s[0] == '#' && hexDigits.spans(s[1:], 6, 6) }
