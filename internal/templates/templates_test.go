package templates_test

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template/parse"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
)

// definedNames are the templates a language file defines.
func definedNames(t *testing.T, lang string) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("files", "lang", lang+".tmpl"))
	require.NoError(t, err)
	trees, err := parse.Parse(lang, string(src), "{{", "}}", map[string]any{})
	require.NoError(t, err)
	names := map[string]bool{}
	for name, tree := range trees {
		if name != lang && tree.Root != nil {
			names[name] = true
		}
	}
	return names
}

// Every language defines exactly the messages English does: a message added to one language
// only, or left out of one, fails here, naming it.
func TestEveryMessageExistsInEveryLanguage(t *testing.T) {
	en := definedNames(t, "en")
	require.Greater(t, len(en), 50)
	for _, lang := range gdpr.SupportedLanguages[1:] {
		other := definedNames(t, lang)
		for name := range en {
			require.True(t, other[name], "%s lacks the message %q that en has", lang, name)
		}
		for name := range other {
			require.True(t, en[name], "%s has the message %q that en lacks", lang, name)
		}
	}
	files, err := filepath.Glob(filepath.Join("files", "lang", "*.tmpl"))
	require.NoError(t, err)
	require.Len(t, files, len(gdpr.SupportedLanguages), "one file per supported language, no other")
}

// A translation is not English left in place: each language's message differs from the
// English one, except words that are the same in both (names, "Code"...).
func TestTranslationsAreNotEnglish(t *testing.T) {
	set := templates.New()
	english := render(t, set, "en", templates.PageInvitation, templates.PageData{})
	for _, lang := range gdpr.SupportedLanguages[1:] {
		page := render(t, set, lang, templates.PageInvitation, templates.PageData{})
		require.NotEqual(t, english, page)
		require.NotContains(t, page, "Do you accept?", lang)
	}
}

func render(t *testing.T, set *templates.Set, lang string, p templates.Page, d templates.PageData) string {
	t.Helper()
	d.Language = lang
	if d.Brand == "" {
		d.Brand = "Acme & Co"
	}
	var b bytes.Buffer
	require.NoError(t, set.RenderPage(&b, p, d))
	return b.String()
}

var identity = gdpr.BrandIdentity{LogoURL: "https://cdn.acme.test/logo.png", PrimaryColor: "#7a1f5c",
	SiteURL: "https://acme.test/", PrivacyURL: "https://acme.test/privacy", SignInURL: "https://app.acme.test/login",
	PostalAddress: "Acme SAS\n1 rue de la Paix\n75002 Paris"}

// words a page or mail must show in each language, for one of its states.
var confirmTitle = map[string]string{"en": "Confirm your email address", "fr": "Confirmez votre adresse e-mail",
	"de": "Bestätigen Sie Ihre E-Mail-Adresse", "es": "Confirme su dirección de correo electrónico",
	"it": "Confermi il Suo indirizzo email", "nl": "Bevestig uw e-mailadres"}

// Every page, in every state and language, is a whole accessible document: the reader's
// language on <html>, a title, every content inside a landmark (banner, main, contentinfo),
// one <h1>, labelled fields, and the brand: its name, its logo, a link back to its site.
func TestEveryPageInEveryLanguageShowsTheBrand(t *testing.T) {
	set := templates.New()
	states := map[string]templates.PageData{
		"form":         {Action: "/api/brands/acme/x", FromFragment: true},
		"token":        {Action: "/api/brands/acme/x", Token: "tok"},
		"problem":      {Problem: "gone", Resend: "/api/brands/acme/signup/resend"},
		"answered":     {Answered: "this_member", Done: true},
		"resent":       {Resent: true},
		"unknownBrand": {Problem: "not_found"},
	}
	for _, lang := range gdpr.SupportedLanguages {
		for _, p := range templates.Pages {
			for name, d := range states {
				t.Run(lang+"/"+string(p)+"/"+name, func(t *testing.T) {
					d.Identity = identity
					page := render(t, set, lang, p, d)
					require.Contains(t, page, `<html lang="`+lang+`">`)
					require.Regexp(t, `<title>[^<]+ · Acme &amp; Co</title>`, page)
					require.Equal(t, 1, strings.Count(page, "<main"), "one main landmark")
					require.Equal(t, 1, strings.Count(page, "<h1"), "one heading")
					body := strings.TrimSuffix(strings.TrimPrefix(between(t, page, "<body>", "</body>"), "<body>"), "</body>")
					for _, landmark := range []string{"header", "main", "footer"} {
						body = strings.Replace(body, between(t, body, "<"+landmark, "</"+landmark+">"), "", 1)
					}
					require.Empty(t, strings.TrimSpace(body), "no content outside a landmark (axe-core rule region)")
					require.Contains(t, page, `<a href="https://acme.test/"`, "a link back to the brand's site")
					require.Contains(t, page, `<img src="https://cdn.acme.test/logo.png" alt="">`, "the logo, its name beside it")
					require.Contains(t, page, `<span>Acme &amp; Co</span>`)
					require.Contains(t, page, `href="https://acme.test/privacy"`)
					require.Contains(t, page, "75002 Paris")
					require.Contains(t, page, "#7a1f5c", "the brand's colour")
					for _, id := range []string{"token", "email"} {
						if strings.Contains(page, `id="`+id+`"`) {
							require.Contains(t, page, `<label for="`+id+`">`, "every field has its label")
						}
					}
				})
			}
		}
		page := render(t, set, lang, templates.PageConfirm, templates.PageData{FromFragment: true, Identity: identity})
		require.Contains(t, page, confirmTitle[lang])
	}
}

func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	require.GreaterOrEqual(t, i, 0, "no %s", from)
	j := strings.Index(s[i:], to)
	require.GreaterOrEqual(t, j, 0, "no %s", to)
	return s[i : i+j+len(to)]
}

// A brand with no identity still gets a whole page: its name, no broken logo or empty links,
// and the default colour.
func TestAPageWithoutIdentity(t *testing.T) {
	page := render(t, templates.New(), "en", templates.PageConfirm, templates.PageData{Done: true})
	require.NotContains(t, page, "<img")
	require.NotContains(t, page, `href=""`)
	require.Contains(t, page, gdpr.DefaultPrimaryColor)
	require.Contains(t, page, `<span class="brand"><span>Acme &amp; Co</span></span>`)
	require.NotContains(t, page, "Sign in", "no sign-in link without a site or a sign-in URL")
}

// The states of the confirmation page: confirmed links to sign in; a gone link offers a new
// one through the resend flow instead of a dead end; the other problems do not.
func TestConfirmPageStates(t *testing.T) {
	set := templates.New()
	done := render(t, set, "fr", templates.PageConfirm, templates.PageData{Done: true, Identity: identity})
	require.Contains(t, done, `<a href="https://app.acme.test/login">Se connecter à Acme &amp; Co</a>`)
	id := identity
	id.SignInURL = ""
	done = render(t, set, "de", templates.PageConfirm, templates.PageData{Done: true, Identity: id})
	require.Contains(t, done, `<a href="https://acme.test/">Bei Acme &amp; Co anmelden</a>`, "the site when no sign-in URL")

	gone := render(t, set, "en", templates.PageConfirm, templates.PageData{Problem: "gone", Resend: "/api/brands/acme/signup/resend"})
	require.Contains(t, gone, `<form method="post" action="/api/brands/acme/signup/resend">`)
	require.Contains(t, gone, `<input id="email" name="email" type="email" required autocomplete="email">`)
	require.Contains(t, gone, "Send me a new link")
	invalid := render(t, set, "en", templates.PageConfirm, templates.PageData{Problem: "invalid", Resend: "/api/brands/acme/signup/resend"})
	require.NotContains(t, invalid, "signup/resend")
	require.Contains(t, invalid, "incomplete or damaged")
}

// The invitation page names the member who invites and the brand; without a member it still
// names the brand.
func TestInvitationPageNamesTheMemberAndTheBrand(t *testing.T) {
	set := templates.New()
	for lang, want := range map[string]string{"en": "Zoé would like to keep you informed through Acme &amp; Co",
		"fr": "Zoé souhaite vous tenir informé par l’intermédiaire de Acme &amp; Co", "nl": "Zoé wil u graag op de hoogte houden via Acme &amp; Co"} {
		require.Contains(t, render(t, set, lang, templates.PageInvitation, templates.PageData{Member: "Zoé", FromFragment: true}), want)
	}
	require.Contains(t, render(t, set, "en", templates.PageInvitation, templates.PageData{FromFragment: true}), "A member of Acme &amp; Co would like")
	xss := render(t, set, "en", templates.PageInvitation, templates.PageData{Member: `<script>alert(1)</script>`, FromFragment: true})
	require.NotContains(t, xss, "<script>alert", "names are escaped")
}

// The unsubscribe page opened from a one-click URL offers this member's opt-out only, with
// its token, and says where the other answer is.
func TestUnsubscribePageFromAOneClickURL(t *testing.T) {
	page := render(t, templates.New(), "en", templates.PageUnsubscribe, templates.PageData{Action: "/api/brands/acme/unsubscribe", Token: "tok"})
	require.Contains(t, page, `<input type="hidden" name="token" value="tok">`)
	require.Contains(t, page, `value="this_member"`)
	require.NotContains(t, page, `value="all_members"`)
	require.NotContains(t, page, "<script", "the token is known: no script")
}

func mail(t *testing.T, set *templates.Set, c gdpr.MailContent) gdpr.RenderedMail {
	t.Helper()
	if c.Brand == "" {
		c.Brand = "Acme & Co"
	}
	m, err := set.RenderMail(c)
	require.NoError(t, err)
	return m
}

// Every mail, in every language, has a subject, a text and an HTML part in that language;
// its HTML has lang and a title; its footer names the brand, says why the reader gets it,
// links the privacy policy and the site, and gives the postal address. Only mail to a
// contact carries an unsubscribe link.
func TestEveryMailInEveryLanguage(t *testing.T) {
	set := templates.New()
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	at := time.Date(2031, 3, 14, 23, 30, 0, 0, time.UTC) // the 15th in Paris
	for _, lang := range gdpr.SupportedLanguages {
		for _, kind := range templates.MailKinds {
			t.Run(lang+"/"+string(kind), func(t *testing.T) {
				c := gdpr.MailContent{Kind: kind, Language: lang, Location: paris, Identity: identity,
					Link: "https://gdpr.test/api/brands/acme/x#token=T", Member: "Zoé", At: at}
				if kind == gdpr.MailContactInvitation {
					c.Unsubscribe = "https://gdpr.test/api/brands/acme/unsubscribe#token=U"
				}
				m := mail(t, set, c)
				require.NotEmpty(t, m.Subject)
				require.NotContains(t, m.Subject, "\n")
				require.Contains(t, m.Subject, "Acme & Co")
				require.Contains(t, m.HTML, `<html lang="`+lang+`">`)
				require.Contains(t, m.HTML, "<title>"+strings.ReplaceAll(m.Subject, "&", "&amp;")+"</title>")
				for _, part := range []string{m.Text, m.HTML} {
					require.Contains(t, part, "https://acme.test/privacy")
					require.Contains(t, part, "https://acme.test/")
					require.Contains(t, part, "1 rue de la Paix")
				}
				require.Contains(t, m.HTML, `<img src="https://cdn.acme.test/logo.png"`)
				require.Equal(t, c.Unsubscribe != "", strings.Contains(m.Text, c.Unsubscribe) && c.Unsubscribe != "")
				if kind != gdpr.MailAccountExists && kind != gdpr.MailInactivityWarning {
					require.Contains(t, m.Text, c.Link)
					require.Contains(t, m.HTML, `href="`+c.Link+`"`)
				}
				if kind != gdpr.MailAccountExists {
					require.Contains(t, m.Text, templates.FormatDate(lang, at.In(paris), kind == gdpr.MailSignupConfirmation), "the date in the reader's language and the brand's zone")
				}
				if lang != "en" {
					en := mail(t, set, gdpr.MailContent{Kind: kind, Language: "en", Location: paris, Identity: identity, Link: c.Link, Member: "Zoé", At: at})
					require.NotEqual(t, en.Subject, m.Subject, "translated")
				}
			})
		}
	}
}

// A mail's footer without unsubscribe on transactional mail; the contact's mail names who
// entered the address and why.
func TestMailFooters(t *testing.T) {
	set := templates.New()
	confirm := mail(t, set, gdpr.MailContent{Kind: gdpr.MailSignupConfirmation, Language: "en", Link: "https://l", At: time.Now()})
	require.NotContains(t, strings.ToLower(confirm.Text), "unsubscribe")
	require.Contains(t, confirm.Text, "this address was used to sign up to Acme & Co")
	inv := mail(t, set, gdpr.MailContent{Kind: gdpr.MailContactInvitation, Language: "it", Link: "https://l", Unsubscribe: "https://u", Member: "Zoé", At: time.Now()})
	require.Contains(t, inv.Text, "Annulla l’iscrizione: https://u")
	require.Contains(t, inv.Text, "Zoé, membro di Acme & Co, ha inserito il Suo indirizzo")
	nobody := mail(t, set, gdpr.MailContent{Kind: gdpr.MailContactInvitation, Language: "en", Link: "https://l", Unsubscribe: "https://u", At: time.Now()})
	require.Equal(t, "A member of Acme & Co invites you to keep in touch through Acme & Co", nobody.Subject)
	require.Contains(t, nobody.Text, "because a member of Acme & Co entered your address")
	require.Equal(t, "a member of Acme & Co", nobody.Variables["member"])
}

// Variables for a brand's provider template keep the names templates were written against,
// with dates written for the reader.
func TestMailVariables(t *testing.T) {
	at := time.Date(2031, 1, 1, 9, 5, 0, 0, time.UTC)
	m := mail(t, templates.New(), gdpr.MailContent{Kind: gdpr.MailSignupConfirmation, Language: "fr", Location: time.UTC, Link: "https://l", At: at})
	require.Equal(t, map[string]string{"brand": "Acme & Co", "language": "fr", "link": "https://l", "expires": "1er janvier 2031 à 09:05 (UTC)"}, m.Variables)
}

func TestFormatDate(t *testing.T) {
	at := time.Date(2031, 5, 2, 14, 5, 0, 0, time.UTC)
	for lang, want := range map[string]string{"en": "2 May 2031", "fr": "2 mai 2031", "de": "2. Mai 2031",
		"es": "2 de mayo de 2031", "it": "2 maggio 2031", "nl": "2 mei 2031", "pt": "2 May 2031"} {
		require.Equal(t, want, templates.FormatDate(lang, at, false), lang)
	}
	require.Equal(t, "2. Mai 2031 um 14:05 Uhr (UTC)", templates.FormatDate("de", at, true))
}

// Laziness: a new set has parsed nothing; a language's pages, and apart its mails, are parsed
// on their first use, once, and only that language's. The package itself declares no template at package level (checked on
// its source), so loading it parses nothing.
func TestTemplatesAreParsedOnFirstUseOnly(t *testing.T) {
	set := templates.New()
	require.Zero(t, set.Parsed())
	render(t, set, "fr", templates.PageConfirm, templates.PageData{})
	require.Equal(t, 1, set.Parsed(), "French pages")
	mail(t, set, gdpr.MailContent{Kind: gdpr.MailAccountExists, Language: "fr"})
	require.Equal(t, 2, set.Parsed(), "French mails")
	render(t, set, "fr", templates.PageInvitation, templates.PageData{})
	mail(t, set, gdpr.MailContent{Kind: gdpr.MailProgramSuspended, Language: "fr"})
	require.Equal(t, 2, set.Parsed(), "French is parsed once")
	mail(t, set, gdpr.MailContent{Kind: gdpr.MailAccountExists, Language: "xx"})
	require.Equal(t, 3, set.Parsed(), "an unknown language reads English, parsed then")

	err := fs.WalkDir(os.DirFS("."), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, line := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(line, "var ") || strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "\t\t") {
				require.NotRegexp(t, `^(var|\t)\s*\w+\s*=\s*(htmltemplate|texttemplate|template)\.`, line, "%s: a template parsed at package level", path)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// Every page and mail kind the service has is written here.
func TestEveryKindHasItsTemplates(t *testing.T) {
	kinds := slices.Clone(templates.MailKinds)
	for _, k := range gdpr.MailKinds {
		require.Contains(t, kinds, k)
	}
	for _, k := range kinds {
		for _, ext := range []string{".html", ".txt"} {
			_, err := os.Stat(filepath.Join("files", "mail", string(k)+ext))
			require.NoError(t, err)
		}
	}
	got := map[string]bool{}
	for _, p := range templates.Pages {
		got[string(p)] = true
	}
	files, _ := filepath.Glob(filepath.Join("files", "pages", "*.html"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".html")
		require.True(t, name == "layout" || got[name], "page file %s is no page", name)
	}
	require.Len(t, slices.Collect(maps.Keys(got)), len(files)-1)
}

// BenchmarkColdFirstPage is what a cold start pays for its first page: a new set, then one
// language parsed and a page written. New alone is free (BenchmarkNewSet).
func BenchmarkColdFirstPage(b *testing.B) {
	for b.Loop() {
		set := templates.New()
		if err := set.RenderPage(&bytes.Buffer{}, templates.PageConfirm, templates.PageData{Language: "en", Brand: "Acme"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewSet(b *testing.B) {
	for b.Loop() {
		_ = templates.New()
	}
}

// BenchmarkWarmMail is a mail written by a set that has parsed its language.
func BenchmarkWarmMail(b *testing.B) {
	set := templates.New()
	c := gdpr.MailContent{Kind: gdpr.MailContactInvitation, Language: "de", Brand: "Acme", Identity: identity, Link: "https://l",
		Unsubscribe: "https://u", Member: "Zoé", At: time.Now()}
	for b.Loop() {
		if _, err := set.RenderMail(c); err != nil {
			b.Fatal(err)
		}
	}
}
