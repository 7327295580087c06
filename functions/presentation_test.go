package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/gdpr"
)

// brandIdentity is a brand's full identity as an admin sets it.
var brandIdentity = map[string]any{"logoUrl": "https://cdn.acme.test/logo.png", "primaryColor": "#7a1f5c",
	"siteUrl": "https://acme.test/", "privacyUrl": "https://acme.test/privacy", "signInUrl": "https://app.acme.test/login",
	"postalAddress": "Acme SAS\n1 rue de la Paix\n75002 Paris"}

// presentationApp is an app whose mails name an https origin, as a deployment's do, with a
// brand that has an identity and invites contacts, and one member of it who reads lang.
func presentationApp(t *testing.T, lang string) (app *testApp, member string) {
	app = startApp(t, map[string]string{config.EnvPublicBaseURL: "https://gdpr.example.test"})
	app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"],
		"identity": brandIdentity, "defaultLanguage": "it", "timeZone": "Europe/Berlin"})
	res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
		map[string]any{"externalId": "seller-1", "email": "seller@brand.example", "firstName": "Sam", "lastName": "Hidden", "language": lang})})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	return app, res.JSON(t)["memberId"].(string)
}

// TestOneClickUnsubscribe_RFC8058_R_MAIL_5: an invitation carries List-Unsubscribe (an https
// URL) and List-Unsubscribe-Post: List-Unsubscribe=One-Click, in the outbox's JSON as in
// Mailjet's Headers; a POST of "List-Unsubscribe=One-Click" to that URL opts the contact
// out from its member (Member opt-in opt_out_from_email) with no page, idempotently, logged
// by ids; a GET of the same URL shows the unsubscribe page and changes nothing; the URL's
// token cannot opt out from every member.
func TestOneClickUnsubscribe_RFC8058_R_MAIL_5(t *testing.T) {
	app, member := presentationApp(t, "de")
	res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "reader@example.test"})
	require.Equal(t, 201, res.Status, "%s", res.Body)
	contact := res.JSON(t)["contactId"].(string)
	require.Equal(t, 202, app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+contact+"/invite", nil).Status)

	m := app.lastMailTo("reader@example.test")
	require.Equal(t, "de", m.Language, "a contact reads the language of the member who invites")
	require.Contains(t, m.Subject, "Sam lädt Sie ein")
	require.NotContains(t, m.Subject+m.Text+m.HTML, "Hidden", "contacts see the alias or first name, not the last name")
	require.Equal(t, "List-Unsubscribe=One-Click", m.Headers["List-Unsubscribe-Post"])
	oneClick := strings.TrimSuffix(strings.TrimPrefix(m.Headers["List-Unsubscribe"], "<"), ">")
	require.True(t, strings.HasPrefix(oneClick, "https://gdpr.example.test/api/brands/acme/unsubscribe?token="), oneClick)
	require.Equal(t, oneClick, m.Links[2])
	require.Contains(t, m.Text, m.Links[1], "the footer's unsubscribe page")
	u, err := url.Parse(oneClick)
	require.NoError(t, err)
	optIn := func() gdpr.MemberOptIn {
		c, err := app.contacts().GetContact(t.Context(), "acme", contact)
		require.NoError(t, err)
		return c.MemberOptIn.Value
	}

	page := app.do("GET", u.RequestURI(), nil, header{"Accept": "text/html", "Accept-Language": "de-DE,de;q=0.9"})
	require.Equal(t, 200, page.Status)
	require.Contains(t, string(page.Body), "Von diesem Mitglied abmelden")
	require.NotContains(t, string(page.Body), `value="all_members"`, "the one-click token opts out from this member only")
	require.Equal(t, gdpr.MemberOptInInvitationSent, optIn(), "opening the page changes nothing")

	form := header{"Content-Type": "application/x-www-form-urlencoded"}
	for range 2 {
		res := app.do("POST", u.RequestURI(), "List-Unsubscribe=One-Click", form)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		require.NotContains(t, res.Header.Get("Content-Type"), "html", "no page")
		require.Equal(t, gdpr.MemberOptOutFromEmail, optIn(), "repeated, it changes nothing more")
	}
	require.Contains(t, app.logs.String(), `"answer":"one_click"`)
	require.Contains(t, app.logs.String(), contact)
	require.NotContains(t, app.logs.String(), u.Query().Get("token"), "logged by ids, never the token")

	res = app.do("POST", "/api/brands/acme/unsubscribe", map[string]string{"token": u.Query().Get("token"), "answer": "all_members"}, nil)
	require.Equal(t, 410, res.Status, "the one-click token cannot opt out from every member: %s", res.Body)
	res = app.do("POST", "/api/brands/acme/unsubscribe?token="+strings.Repeat("A", 43), "List-Unsubscribe=One-Click", form)
	require.Equal(t, 410, res.Status, "an unknown token: %s", res.Body)
	res = app.do("POST", "/api/brands/acme/unsubscribe?token=", "List-Unsubscribe=One-Click", form)
	require.Equal(t, 400, res.Status, "%s", res.Body)
}

// Transactional mail (a signup's confirmation) carries the footer but no unsubscribe, in the
// member's language, else the brand's default.
func TestTransactionalMailHasAFooterAndNoUnsubscribe(t *testing.T) {
	app, _ := presentationApp(t, "fr")
	p := newFakePerson()
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
	m := app.lastMailTo(p.Email)
	require.Empty(t, m.Headers)
	require.Equal(t, "it", m.Language, "no language given: the brand's default")
	require.Contains(t, m.Subject, "Confermi il Suo account")
	require.NotContains(t, strings.ToLower(m.Text), "iscrizione:", "no unsubscribe link")
	for _, part := range []string{m.Text, m.HTML} {
		require.Contains(t, part, "https://acme.test/privacy")
		require.Contains(t, part, "75002 Paris")
		require.Contains(t, part, "questo indirizzo è stato usato per registrarsi")
	}
	require.Contains(t, m.HTML, `<html lang="it">`)
	require.Contains(t, m.Text, "(CET)", "the expiry in the brand's zone, Europe/Berlin")
}

// Pages speak the reader's language (?lang=, then Accept-Language, then the brand's default)
// and show the brand: its name, logo, a link back to its site; the invitation page names the
// member who invites; the confirmed page links to sign in; a gone confirmation link offers a
// new one through the resend flow.
func TestPagesSpeakTheReadersLanguageAndShowTheBrand(t *testing.T) {
	app, member := presentationApp(t, "de")
	html := header{"Accept": "text/html"}
	page := func(path string, h header) string {
		res := app.do("GET", path, nil, h)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		body := string(res.Body)
		require.Contains(t, body, `<a href="https://acme.test/"`)
		require.Contains(t, body, `<img src="https://cdn.acme.test/logo.png" alt="">`)
		require.Contains(t, body, "<main")
		require.Contains(t, res.Header.Get("Content-Security-Policy"), "img-src https:")
		return body
	}
	require.Contains(t, page("/api/brands/acme/signup/confirm", html), `<html lang="it">`, "the brand's default")
	require.Contains(t, page("/api/brands/acme/signup/confirm", header{"Accept": "text/html", "Accept-Language": "nl-BE,nl;q=0.9"}), "Bevestig uw e-mailadres")
	require.Contains(t, page("/api/brands/acme/signup/confirm?lang=es", header{"Accept-Language": "nl"}), "Confirme su dirección")
	inv := page("/api/brands/acme/invitation?member="+url.QueryEscape(member), header{"Accept-Language": "fr"})
	require.Contains(t, inv, "Sam souhaite vous tenir informé par l’intermédiaire de Brand acme")
	require.NotContains(t, inv, "Hidden")
	require.Contains(t, page("/api/brands/acme/invitation?member=nobody", header{"Accept-Language": "en"}), "A member of Brand acme would like")

	form := header{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html", "Accept-Language": "en"}
	gone := app.do("POST", "/api/brands/acme/signup/confirm", "token="+strings.Repeat("A", 43), form)
	require.Equal(t, 410, gone.Status, "%s", gone.Body)
	require.Contains(t, string(gone.Body), `<form method="post" action="/api/brands/acme/signup/resend">`, "no dead end")

	p := newFakePerson()
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
	first := app.lastMailTo(p.Email)
	// Past the resend interval (a minute), by the test clock.
	require.Equal(t, 200, app.admin("PUT", "/api/admin/test-clock", map[string]any{"now": time.Now().Add(2 * time.Minute).UTC()}).Status)
	resent := app.do("POST", "/api/brands/acme/signup/resend", "email="+url.QueryEscape(p.Email), form)
	require.Equal(t, 202, resent.Status, "%s", resent.Body)
	require.Contains(t, string(resent.Body), "Check your mailbox")
	app.waitIdle()
	require.NotEqual(t, first.Links[0], app.lastMailTo(p.Email).Links[0], "a new link was mailed")

	done := app.do("POST", "/api/brands/acme/signup/confirm", "token="+tokenOf(t, app.lastMailTo(p.Email).Links[0]), form)
	require.Equal(t, 200, done.Status, "%s", done.Body)
	require.Contains(t, string(done.Body), `<a href="https://app.acme.test/login">Sign in to Brand acme</a>`)

	unknown := app.do("GET", "/api/brands/nobody/signup/confirm", nil, html)
	require.Equal(t, 404, unknown.Status)
	require.Contains(t, string(unknown.Body), "<main")
}
