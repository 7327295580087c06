package gdpr_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// WCAG 2.2's relative luminance, against the ratios its own examples and common tools give.
func TestContrastWithWhite(t *testing.T) {
	for color, want := range map[string]float64{"#000000": 21, "#FFFFFF": 1, "#767676": 4.54, "#777777": 4.48,
		"#1a56db": 6.18, "#ff0000": 4.0, "#0000ff": 8.59} {
		require.InDelta(t, want, gdpr.ContrastWithWhite(color), 0.01, color)
	}
	require.InDelta(t, 1, gdpr.ContrastWithWhite("red"), 0, "not #rrggbb")
	require.GreaterOrEqual(t, gdpr.ContrastWithWhite(gdpr.DefaultPrimaryColor), gdpr.MinContrast, "the default passes its own rule")
}

// A brand's identity, default language and zone are checked on write; each refusal is a 400
// naming the field, never quoting the value, and changes nothing.
func TestBrandIdentityValidation(t *testing.T) {
	w := newMailWorld(t)
	ctx := t.Context()
	good := gdpr.BrandSettings{Name: "Acme", DefaultLanguage: "fr", TimeZone: "Europe/Berlin", Identity: gdpr.BrandIdentity{
		LogoURL: "https://cdn.acme.test/logo.png", PrimaryColor: "#7a1f5c", SiteURL: "https://acme.test",
		PrivacyURL: "https://acme.test/privacy", SignInURL: "https://app.acme.test/login", PostalAddress: "Acme SAS\n1 rue de la Paix\n75002 Paris"},
		Mail: gdpr.MailSettings{TemplatesByLanguage: map[string]map[gdpr.MailKind]int64{"de": {gdpr.MailContactInvitation: 42}}}}
	b, _, err := w.brands.PutBrand(ctx, "acme", good)
	require.NoError(t, err)
	require.Equal(t, good.Identity, b.Identity)
	require.Equal(t, "Europe/Berlin", b.Location().String())
	require.Equal(t, int64(42), b.Mail.TemplateFor(gdpr.MailContactInvitation, "de"))
	require.Zero(t, b.Mail.TemplateFor(gdpr.MailContactInvitation, "fr"), "other languages keep the built-in texts")

	secret := "sekret-value"
	for name, tc := range map[string]struct {
		change func(*gdpr.BrandSettings)
		field  string
	}{
		"http logo":          {func(s *gdpr.BrandSettings) { s.Identity.LogoURL = "http://cdn.acme.test/" + secret }, "identity.logoUrl"},
		"relative site":      {func(s *gdpr.BrandSettings) { s.Identity.SiteURL = "/" + secret }, "identity.siteUrl"},
		"javascript privacy": {func(s *gdpr.BrandSettings) { s.Identity.PrivacyURL = "javascript:" + secret }, "identity.privacyUrl"},
		"credentials in URL": {func(s *gdpr.BrandSettings) { s.Identity.SignInURL = "https://u:" + secret + "@acme.test" }, "identity.signInUrl"},
		"overlong URL":       {func(s *gdpr.BrandSettings) { s.Identity.SiteURL = "https://acme.test/" + strings.Repeat("a", 600) }, "identity.siteUrl"},
		"colour name":        {func(s *gdpr.BrandSettings) { s.Identity.PrimaryColor = "red" }, "identity.primaryColor"},
		"short colour":       {func(s *gdpr.BrandSettings) { s.Identity.PrimaryColor = "#fff" }, "identity.primaryColor"},
		"pale colour":        {func(s *gdpr.BrandSettings) { s.Identity.PrimaryColor = "#777777" }, "4.47:1"},
		"yellow":             {func(s *gdpr.BrandSettings) { s.Identity.PrimaryColor = "#ffcc00" }, "WCAG 2.2 AA"},
		"address control":    {func(s *gdpr.BrandSettings) { s.Identity.PostalAddress = "Acme\x07" + secret }, "identity.postalAddress"},
		"address too long":   {func(s *gdpr.BrandSettings) { s.Identity.PostalAddress = strings.Repeat("a\n", 7) }, "identity.postalAddress"},
		"unsupported lang":   {func(s *gdpr.BrandSettings) { s.DefaultLanguage = "pt" }, "defaultLanguage must be one of en, fr, de, es, it, nl"},
		"lang tag not code":  {func(s *gdpr.BrandSettings) { s.DefaultLanguage = "fr-FR" }, "defaultLanguage"},
		"unknown zone":       {func(s *gdpr.BrandSettings) { s.TimeZone = "Europe/" + secret }, "timeZone"},
		"local zone":         {func(s *gdpr.BrandSettings) { s.TimeZone = "Local" }, "timeZone"},
		"template language": {func(s *gdpr.BrandSettings) {
			s.Mail.TemplatesByLanguage = map[string]map[gdpr.MailKind]int64{"pt": {gdpr.MailAccountExists: 1}}
		}, "mail.templatesByLanguage"},
		"template id": {func(s *gdpr.BrandSettings) {
			s.Mail.TemplatesByLanguage = map[string]map[gdpr.MailKind]int64{"fr": {gdpr.MailAccountExists: -1}}
		}, "mail.templatesByLanguage.fr.account_exists"},
		"template kind": {func(s *gdpr.BrandSettings) {
			s.Mail.TemplatesByLanguage = map[string]map[gdpr.MailKind]int64{"fr": {"nope": 1}}
		}, "unknown mail kind"},
	} {
		t.Run(name, func(t *testing.T) {
			in := good
			in.Mail.TemplatesByLanguage = nil
			tc.change(&in)
			_, _, err := w.brands.PutBrand(ctx, "acme", in)
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%v", err)
			require.ErrorContains(t, err, tc.field)
			require.NotContains(t, err.Error(), secret, "errors never echo the value")
			stored, err := w.brands.GetBrand(ctx, "acme")
			require.NoError(t, err)
			require.Equal(t, good.Identity, stored.Identity, "a refused write changes nothing")
			require.Equal(t, "fr", stored.DefaultLanguage)
		})
	}
}

// The brand's zone defaults to Europe/Paris; its language to English.
func TestBrandPresentationDefaults(t *testing.T) {
	var b gdpr.Brand
	require.Equal(t, "Europe/Paris", b.Location().String())
	require.Equal(t, "en", b.Language())
}

// A reader's language: the first preference that matches a supported language, by
// golang.org/x/text/language matching, else English.
func TestReaderLanguage(t *testing.T) {
	for _, tc := range []struct {
		prefs []string
		want  string
	}{
		{[]string{"fr"}, "fr"},
		{[]string{"fr-CA", "de"}, "fr"},
		{[]string{"", "de"}, "de"},
		{[]string{"pt", "it"}, "it"},
		{[]string{"nl-BE"}, "nl"},
		{[]string{"es-419"}, "es"},
		{[]string{"de-CH,de;q=0.9,en;q=0.5"}, "de"},
		{[]string{"pt-BR", ""}, "en"},
		{[]string{"not a language!!", "es"}, "es"},
		{nil, "en"},
	} {
		require.Equal(t, tc.want, gdpr.ReaderLanguage(tc.prefs...), "%q", tc.prefs)
	}
}
