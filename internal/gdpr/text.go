package gdpr

import (
	"unicode"
	"unicode/utf8"
)

// plainText is the one check of free text from outside (names, labels, credentials, T&C
// versions): valid UTF-8, at most max characters, no control characters.
func plainText(s string, max int) bool {
	if utf8.RuneCountInString(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
