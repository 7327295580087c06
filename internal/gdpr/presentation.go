package gdpr

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // brands name IANA zones; the deployed binary must not depend on the host's zoneinfo

	"golang.org/x/text/language"
)

// SupportedLanguages are the languages every page and mail is written in, English first: the
// language of last resort. The templates package holds a text in each of them for every
// message, and its tests fail on a message missing in one.
var SupportedLanguages = []string{"en", "fr", "de", "es", "it", "nl"}

// languageMatcher is built on first use: a matcher costs allocations that a cold start
// serving no mail need not pay.
var languageMatcher = sync.OnceValue(func() language.Matcher {
	tags := make([]language.Tag, len(SupportedLanguages))
	for i, l := range SupportedLanguages {
		tags[i] = language.MustParse(l)
	}
	return language.NewMatcher(tags)
})

// ReaderLanguage is the supported language a reader gets: the first of preferences (BCP 47
// tags or Accept-Language values, most wanted first; empty ones skipped) that matches one
// of SupportedLanguages, by golang.org/x/text/language matching, so "fr-CA" reads French and
// "gsw" German; English when none does.
func ReaderLanguage(preferences ...string) string {
	for _, p := range preferences {
		p = strings.TrimSpace(p)
		if p == "" || len(p) > 200 {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(tags) == 0 {
			continue
		}
		_, i, conf := languageMatcher().Match(tags...)
		if conf != language.No {
			return SupportedLanguages[i]
		}
	}
	return SupportedLanguages[0]
}

// DefaultTimeZone is the zone of a brand that names none. Europe/Paris rather than UTC: the
// platform and most of its EU readers live on Central European Time, where a deadline at
// midnight UTC would read as 01:00 or 02:00 the next day.
const DefaultTimeZone = "Europe/Paris"

// Location is the brand's time zone, in which mails and pages show dates.
func (b Brand) Location() *time.Location {
	name := b.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil { // validated on write; a zone the binary no longer knows falls back
		return time.UTC
	}
	return loc
}

// Language is the brand's default language, English when it names none.
func (b Brand) Language() string {
	if b.DefaultLanguage == "" {
		return SupportedLanguages[0]
	}
	return b.DefaultLanguage
}

// BrandIdentity is how pages and mails present the brand: its logo and colour, where its
// site, privacy policy and sign-in are, and the postal address mails must carry.
type BrandIdentity struct {
	LogoURL string `json:"logoUrl,omitempty"`
	// PrimaryColor ("#rrggbb") colours buttons and links, with white text on it: refused
	// under a 4.5:1 contrast against white (WCAG 2.2 AA for text).
	PrimaryColor  string `json:"primaryColor,omitempty"`
	SiteURL       string `json:"siteUrl,omitempty"`
	PrivacyURL    string `json:"privacyUrl,omitempty"`
	SignInURL     string `json:"signInUrl,omitempty"` // where a confirmed member signs in; the site when left out
	PostalAddress string `json:"postalAddress,omitempty"`
}

// DefaultPrimaryColor colours a brand that names no colour (6.18:1 against white).
const DefaultPrimaryColor = "#1a56db"

// MinContrast is WCAG 2.2 AA's least contrast ratio for normal text (success criterion 1.4.3).
const MinContrast = 4.5

// maxIdentityURL bounds each URL of the identity: pages and every mail carry them.
const maxIdentityURL = 512

// Validate refuses URLs that are not absolute https ones of at most 512 bytes, a colour that
// is not "#rrggbb" or lacks contrast against white, and an address that is not plain text of
// at most 6 lines and 300 characters. Messages name the field, never its value.
func (id BrandIdentity) Validate() error {
	for _, f := range []struct{ name, value string }{{"logoUrl", id.LogoURL}, {"siteUrl", id.SiteURL},
		{"privacyUrl", id.PrivacyURL}, {"signInUrl", id.SignInURL}} {
		if f.value != "" && !validHTTPSURL(f.value) {
			return Errorf(CodeInvalid, "identity.%s must be an absolute https URL of at most %d bytes, without credentials", f.name, maxIdentityURL)
		}
	}
	if id.PrimaryColor != "" {
		if !hexColor(id.PrimaryColor) {
			return Errorf(CodeInvalid, `identity.primaryColor must be a colour written "#rrggbb"`)
		}
		if c := ContrastWithWhite(id.PrimaryColor); c < MinContrast {
			return Errorf(CodeInvalid, "identity.primaryColor has a contrast of %.2f:1 against white, below the %.1f:1 that WCAG 2.2 AA asks for text; choose a darker colour",
				math.Floor(c*100)/100, MinContrast)
		}
	}
	if strings.Count(id.PostalAddress, "\n") > 5 || len([]rune(id.PostalAddress)) > 300 {
		return Errorf(CodeInvalid, "identity.postalAddress must be at most 6 lines and 300 characters")
	}
	for _, line := range strings.Split(id.PostalAddress, "\n") {
		if !plainText(line, 300) {
			return Errorf(CodeInvalid, "identity.postalAddress must be plain text: lines without control characters")
		}
	}
	return nil
}

func validHTTPSURL(s string) bool {
	if len(s) > maxIdentityURL || !plainText(s, maxIdentityURL) || strings.ContainsAny(s, " \\") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Opaque == "" && u.Hostname() != ""
}

// ContrastWithWhite is the contrast ratio of a "#rrggbb" colour against white, by WCAG 2.2's
// relative luminance: (1.05) / (L + 0.05), L the luminance of the colour's linearised sRGB
// channels weighted 0.2126, 0.7152, 0.0722. It is 1 for anything not "#rrggbb".
func ContrastWithWhite(color string) float64 {
	if !hexColor(color) {
		return 1
	}
	var lum float64
	for i, weight := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(color[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += weight * c
	}
	return 1.05 / (lum + 0.05)
}

// validatePresentation checks the brand's identity, language, zone and per-language templates.
func (b Brand) validatePresentation() error {
	if err := b.Identity.Validate(); err != nil {
		return err
	}
	if b.DefaultLanguage != "" && !slices.Contains(SupportedLanguages, b.DefaultLanguage) {
		return Errorf(CodeInvalid, "defaultLanguage must be one of %s", strings.Join(SupportedLanguages, ", "))
	}
	if b.TimeZone != "" {
		if len(b.TimeZone) > 64 || b.TimeZone == "Local" {
			return Errorf(CodeInvalid, "timeZone must be an IANA time zone name such as Europe/Paris")
		}
		if _, err := time.LoadLocation(b.TimeZone); err != nil {
			return Errorf(CodeInvalid, "timeZone must be an IANA time zone name such as Europe/Paris")
		}
	}
	for lang, kinds := range b.Mail.TemplatesByLanguage {
		if !slices.Contains(SupportedLanguages, lang) {
			return Errorf(CodeInvalid, "mail.templatesByLanguage: languages are %s", strings.Join(SupportedLanguages, ", "))
		}
		if err := validateTemplateIDs(fmt.Sprintf("mail.templatesByLanguage.%s", lang), kinds); err != nil {
			return err
		}
	}
	return nil
}

// MailRenderer writes a mail: the domain decides what a mail says and to whom, the renderer
// how it reads in the reader's language (the templates package; gdpr knows no template).
type MailRenderer interface {
	RenderMail(MailContent) (RenderedMail, error)
}

// MailContent is what one mail must say.
type MailContent struct {
	Kind MailKind
	// Language is one of SupportedLanguages.
	Language string
	// Location is the brand's zone, in which dates are written.
	Location *time.Location
	Brand    string // the brand's name
	Identity BrandIdentity
	// Link is the mail's one action: confirm, answer the invitation, opt out.
	Link string
	// Unsubscribe is the unsubscribe page of a mail to a contact (R-MAIL-5, R-CONSENT-7).
	Unsubscribe string
	// Member is the inviting member as contacts may see it: alias, else first name.
	Member string
	// At is the moment the mail speaks of: the link's expiry, the erasure's date, the end of
	// a suspended program's keeping.
	At time.Time
}

// RenderedMail is a mail as written. Variables are its values as text, for a provider's
// template that the brand named instead of the built-in one.
type RenderedMail struct {
	Subject, Text, HTML string
	Variables           map[string]string
}

// contactDisplayName is how a member is named to a contact: the alias, which the member chose
// to show the community, else the first name; never the last name or the address.
func contactDisplayName(u User) string {
	if a := strings.TrimSpace(u.Alias); a != "" {
		return a
	}
	return strings.TrimSpace(u.FirstName)
}
