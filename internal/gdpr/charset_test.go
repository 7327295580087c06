package gdpr

import (
	"regexp"
	"testing"
)

// The shapes as regular expressions: the specification the table lookups are held to.
var shapes = []struct {
	name  string
	re    *regexp.Regexp
	check func(string) bool
}{
	{"brand id", regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`), func(s string) bool { return BrandID(s).Valid() }},
	{"external id", regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`), externalID},
	{"export request id", regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`), exportRequestID},
	{"ledger record id", regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`), ledgerRecordID},
	{"language tag", regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`), languageTag},
	{"colour", regexp.MustCompile(`^#[0-9a-fA-F]{6}$`), hexColor},
}

var shapeSeeds = []string{"", "a", "acme", "acme-eu", "-acme", "acme-", "a-b", "Acme", "fr", "en-GB", "zh-Hant-TW",
	"en-", "e", "engl", "fr-x", "fr-abcdefghi", "#1a2B3c", "#1a2B3", "1a2B3c4", "#gggggg", "ord_1:2.3-4", "ord 1",
	"é", "a\x00", "r_0123456789abcdefghjkmnpqrs", string(make([]byte, 64)),
	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk",  // 63
	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"} // 64

func TestShapesAgreeWithTheirRegexps(t *testing.T) {
	for _, s := range shapeSeeds {
		for _, sh := range shapes {
			if got, want := sh.check(s), sh.re.MatchString(s); got != want {
				t.Errorf("%s of %q: %v, the regexp says %v", sh.name, s, got, want)
			}
		}
	}
}

// FuzzShapes holds each check of an identifier from outside to its regular expression.
func FuzzShapes(f *testing.F) {
	for _, s := range shapeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, sh := range shapes {
			if got, want := sh.check(s), sh.re.MatchString(s); got != want {
				t.Errorf("%s of %q: %v, the regexp says %v", sh.name, s, got, want)
			}
		}
	})
}
