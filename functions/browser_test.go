package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/testenv"
)

// pageLanguages are the languages the pages are walked in: each walk is by a member (and its
// contact) stored with that language, whose browser asks for it too, since pages speak the
// member's language (issue #21).
var pageLanguages = []string{"en", "fr", "de", "es", "it", "nl"}

// axeViolationsToday is what axe-core may find on a page, by the page's name: nothing on any
// page since the pages have their landmarks (issue #21, "Accessibility"). The test asserts
// exactly these rule ids, so a page listed here fails when it gets better as well as worse.
var axeViolationsToday = map[string][]string{}

// EnvScreenshots names the folder `make screenshots` has the walk write each page into, as
// <language>/<page>-<width>.png.
const EnvScreenshots = "POPSELL_SCREENSHOTS"

// narrowWidth is the narrowest screen a page must work on without scrolling sideways
// (WCAG 2.2, 1.4.10 Reflow: 320 CSS pixels); wideWidth is a desktop's, for the screenshots.
const (
	narrowWidth = 320
	wideWidth   = 1280
)

// TestPagesInABrowser opens every page a mailed link leads to, in headless Chromium at 320
// pixels wide, as the people who get those mails do: the signup confirmation and its results
// (confirmed, an expired link's 410, an unknown brand's 404), the invitation and its answer,
// a mistyped code's 400, the unsubscribe page and its answer, and the suspended program's
// opt-out and its answer. Each page is checked with axe-core, must not scroll sideways, and
// must let the keyboard reach every control in order with a visible focus; the walk itself
// presses every button with the keyboard.
func TestPagesInABrowser(t *testing.T) {
	tools := testenv.Browser(t)
	axe, err := os.ReadFile(tools.Axe)
	require.NoError(t, err)
	shots := os.Getenv(EnvScreenshots)

	app := startApp(t, nil)
	// "acme" has its identity, its logo served over https as a CDN would (the pages allow
	// images from https only); "paused" has none, and its pages name it only.
	logo := brandLogo(t)
	app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"],
		"identity": map[string]any{"logoUrl": logo, "primaryColor": "#1d4ed8", "siteUrl": "https://acme.test/",
			"privacyUrl": "https://acme.test/privacy", "postalAddress": "Acme SAS\n1 rue de la Paix\n75002 Paris"}})
	app.putBrand("paused", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"]})
	optOuts := suspendWithMembers(t, app, "paused", pageLanguages)

	browser := startBrowser(t, tools.Chromium)
	checked := map[string]bool{}
	for _, lang := range pageLanguages {
		t.Run(lang, func(t *testing.T) {
			tab := browser.open(t, lang)
			check := func(name string, status int64, got int64) {
				t.Helper()
				checked[name] = true
				t.Run(name, func(t *testing.T) {
					require.Equal(t, status, got, "HTTP status of the page")
					if shots != "" { // before the checks move the focus
						tab.screenshots(t, filepath.Join(shots, lang), name)
					}
					tab.checkPage(t, axe, axeViolationsToday[name])
				})
			}

			// The signup's confirmation link, its button, then an expired link (410).
			link, email := signupLink(t, app, lang)
			check("signup-confirm", 200, tab.visit(t, app.onApp(t, link)))
			check("signup-confirmed", 200, tab.press(t, `button[type=submit]`))
			require.Equal(t, gdpr.UserActive, userByEmail(t, app, "acme", email).Status, "the button confirmed")
			expired, _ := signupLink(t, app, lang)
			app.setClock(t, time.Now().Add(25*time.Hour))
			require.EqualValues(t, 200, tab.visit(t, app.onApp(t, expired)))
			check("signup-expired", 410, tab.press(t, `button[type=submit]`))
			app.setClock(t, time.Now())
			check("signup-unknown-brand", 404, tab.visit(t, app.URL+"/api/brands/nope/signup/confirm"))

			// A member's invitation to its contact, the contact's answer, and the same mail's
			// unsubscribe link.
			contact, invitation, unsubscribe := invitationLinks(t, app, "acme", lang)
			optIn := func() gdpr.MemberOptIn {
				c, err := app.contacts().GetContact(t.Context(), "acme", contact)
				require.NoError(t, err)
				return c.MemberOptIn.Value
			}
			check("invitation", 200, tab.visit(t, app.onApp(t, invitation)))
			tab.requireBrandIdentity(t, "https://acme.test/")
			check("invitation-answered", 200, tab.press(t, `button[value=accept]`))
			require.Equal(t, gdpr.MemberOptInInvitationAccepted, optIn(), "the Accept button answered")
			check("unsubscribe", 200, tab.visit(t, app.onApp(t, unsubscribe)))
			check("unsubscribe-answered", 200, tab.press(t, `button[value=this_member]`))
			require.Equal(t, gdpr.MemberOptOutFromEmail, optIn(), "the button unsubscribed")

			// Without the link's fragment (a mail client that drops it) the page asks for the
			// code: a mistyped one is a 400.
			require.EqualValues(t, 200, tab.visit(t, app.URL+"/api/brands/acme/invitation"))
			tab.typeInto(t, `#token`, "not-the-code")
			check("invitation-bad-code", 400, tab.press(t, `button[value=decline]`))

			// The suspended program's opt-out.
			check("program-opt-out", 200, tab.visit(t, app.onApp(t, optOuts[lang].link)))
			check("program-opted-out", 200, tab.press(t, `button[value=opt_out]`))
			require.Equal(t, gdpr.UserBlocked, userByEmail(t, app, "paused", optOuts[lang].email).Status, "the button opted out")
		})
	}
	for name := range axeViolationsToday {
		require.True(t, checked[name], "axeViolationsToday lists %q, a page the walk never checks", name)
	}
}

// brandLogo serves a logo over https and returns its URL.
func brandLogo(t *testing.T) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = io.WriteString(w, `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">`+
			`<rect width="32" height="32" rx="6" fill="#1d4ed8"/><path d="M8 24 16 8l8 16" stroke="#fff" stroke-width="3" fill="none"/></svg>`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/logo.svg"
}

// requireBrandIdentity checks that the page shows the brand's logo, loaded, and that its
// header links back to the brand's site (issue #21, "Brand identity").
func (tab *tab) requireBrandIdentity(t testing.TB, siteURL string) {
	t.Helper()
	type header struct {
		LogoLoaded bool   `json:"logoLoaded"`
		Home       string `json:"home"`
	}
	got, err := chromedp.Run(tab.ctx, chromedp.Evaluate[header](`(() => {
		const img = document.querySelector("header img"), a = document.querySelector("header a");
		return {logoLoaded: !!img && img.complete && img.naturalWidth > 0, home: a ? a.href : ""};
	})()`))
	require.NoError(t, err)
	require.True(t, got.LogoLoaded, "the brand's logo is shown")
	require.Equal(t, siteURL, got.Home, "the header links back to the brand's site")
}

// onApp points a mailed link at the running app: mails carry the configured public address,
// while the test's handler listens on a port chosen at start.
func (a *testApp) onApp(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	app, err := url.Parse(a.URL)
	require.NoError(t, err)
	u.Scheme, u.Host = app.Scheme, app.Host
	return u.String()
}

// signupLink signs up a new person who speaks lang and returns the confirmation link mailed
// and the person's address.
func signupLink(t *testing.T, app *testApp, lang string) (link, email string) {
	t.Helper()
	p := newFakePerson()
	body := p.signup()
	body["language"] = lang
	res := app.do("POST", "/api/brands/acme/signup", body, nil)
	require.Equal(t, 202, res.Status, "%s", res.Body)
	m := app.lastMailTo(p.Email)
	require.Equal(t, gdpr.MailSignupConfirmation, m.Kind)
	require.Len(t, m.Links, 1)
	return m.Links[0], p.Email
}

// userByEmail finds the member of brand with addr, confirmed or not.
func userByEmail(t *testing.T, app *testApp, brand gdpr.BrandID, addr string) gdpr.User {
	t.Helper()
	users, err := app.App.Store.ListUsers(t.Context(), brand, "", 1000)
	require.NoError(t, err)
	for _, u := range users {
		if u.Email == addr || u.EmailTmp == addr {
			return u
		}
	}
	t.Fatalf("no member of %s has the test address", brand)
	return gdpr.User{}
}

// invitationLinks provisions a member who speaks lang, has it enter a contact and invite it,
// and returns the contact's id and the invitation mail's links to pages: the invitation and
// the unsubscribe page.
func invitationLinks(t *testing.T, app *testApp, brand, lang string) (contact, invitation, unsubscribe string) {
	t.Helper()
	res := app.sendWebhook(brand, signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
		map[string]any{"externalId": "seller-" + lang, "email": "seller-" + lang + "@brand.example", "firstName": "Sam", "language": lang})})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	member := res.JSON(t)["memberId"].(string)
	contactEmail := "contact-" + lang + "@example.test"
	res = app.admin("POST", "/api/brands/"+brand+"/members/"+member+"/contacts", map[string]string{"email": contactEmail, "firstName": "Fran"})
	require.Equal(t, 201, res.Status, "%s", res.Body)
	contact = res.JSON(t)["contactId"].(string)
	res = app.admin("POST", "/api/brands/"+brand+"/members/"+member+"/contacts/"+contact+"/invite", nil)
	require.Equal(t, 202, res.Status, "%s", res.Body)
	m := app.lastMailTo(contactEmail)
	require.Equal(t, gdpr.MailContactInvitation, m.Kind)
	require.Len(t, m.Links, 3, "the invitation, the unsubscribe page and the one-click unsubscribe (RFC 8058)")
	require.Contains(t, m.Links[2], "/unsubscribe?token=", "the one-click link carries its token in the query")
	return contact, m.Links[0], m.Links[1]
}

// optOut is a member's opt-out link and address.
type optOut struct{ link, email string }

// suspendWithMembers signs up and confirms one member per language, suspends the brand's
// program, and returns each member's opt-out link and address by language.
func suspendWithMembers(t *testing.T, app *testApp, brand string, langs []string) map[string]optOut {
	t.Helper()
	addresses := map[string]string{}
	for _, lang := range langs {
		p := newFakePerson()
		body := p.signup()
		body["language"] = lang
		require.Equal(t, 202, app.do("POST", "/api/brands/"+brand+"/signup", body, nil).Status)
		token := tokenOf(t, app.lastMailTo(p.Email).Links[0])
		res := app.do("POST", "/api/brands/"+brand+"/signup/confirm", map[string]string{"token": token}, nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		addresses[lang] = p.Email
	}
	res := app.admin("POST", "/api/admin/brands/"+brand+"/suspend", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	links := map[string]optOut{}
	for lang, addr := range addresses {
		m := app.lastMailTo(addr)
		require.Equal(t, gdpr.MailProgramSuspended, m.Kind)
		require.Len(t, m.Links, 1)
		links[lang] = optOut{link: m.Links[0], email: addr}
	}
	return links
}

// browser is one headless Chromium for the whole test.
type browser struct{ ctx context.Context }

// startBrowser starts Debian's Chromium headless with nothing of its own on the network
// (this machine reaches no outside host), stopped when the test ends.
func startBrowser(t testing.TB, chromium string) *browser {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		// The brand's logo comes from the test's https server, whose certificate is its own.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(narrowWidth, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancel()
		cancelAlloc() // removes its profile folder
	})
	return &browser{ctx: ctx}
}

// tab is one browser tab, closed when its test ends.
type tab struct{ ctx context.Context }

// open opens a tab at 320 pixels wide whose requests ask for lang.
func (b *browser) open(t testing.TB, lang string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(narrowWidth, 800)))
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
	require.NoError(t, err)
	return &tab{ctx: ctx}
}

// visit opens url as a link followed from a mail does, from a blank page (a link to the
// page already shown, but for its fragment, would not load it again), and returns the page's
// HTTP status.
func (tab *tab) visit(t testing.TB, url string) int64 {
	t.Helper()
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.Navigate("about:blank")))
	res, err := chromedp.RunResponse(tab.ctx, chromedp.Navigate(url))
	require.NoError(t, err)
	require.NotNil(t, res, "no page loaded")
	return res.Status
}

// press moves the focus with the Tab key to the control matching selector, presses Enter,
// and returns the HTTP status of the page the form's answer is: the way a keyboard user
// answers.
func (tab *tab) press(t testing.TB, selector string) int64 {
	t.Helper()
	tab.tabTo(t, selector)
	res, err := chromedp.RunResponse(tab.ctx, chromedp.KeyEvent(kb.Enter))
	require.NoError(t, err)
	require.NotNil(t, res, "pressing Enter on the control sent no form")
	return res.Status
}

// typeInto moves the focus with the Tab key to the field matching selector and types text.
func (tab *tab) typeInto(t testing.TB, selector, text string) {
	t.Helper()
	tab.tabTo(t, selector)
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.KeyEvent(text)))
}

// tabTo presses Tab until the control matching selector has the focus; a page has fewer
// controls than the bound, so a control the keyboard cannot reach fails the test.
func (tab *tab) tabTo(t testing.TB, selector string) {
	t.Helper()
	const bound = 50
	for range bound {
		require.NoError(t, chromedp.Do(tab.ctx, chromedp.KeyEvent(kb.Tab)))
		there, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.activeElement.matches(%q)`, selector)))
		require.NoError(t, err)
		if there {
			return
		}
	}
	t.Fatalf("the Tab key never reached %s", selector)
}

// axeViolation is one rule axe-core finds broken, with the elements that break it.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Targets []string `json:"targets"`
}

// checkPage checks the page now shown: axe-core finds exactly the rules in want broken, the
// page is no wider than the screen, and the Tab key reaches every control in document order,
// each showing that it has the focus.
func (tab *tab) checkPage(t testing.TB, axe []byte, want []string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.Evaluate[chromedp.Void](string(axe))))
	violations, err := chromedp.Run(tab.ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(" "))})))`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	var got []string
	for _, v := range violations {
		got = append(got, v.ID)
	}
	slices.Sort(got)
	report, _ := json.MarshalIndent(violations, "", "  ")
	require.Equal(t, want, got, "axe-core's violations:\n%s", report)

	width, err := chromedp.Run(tab.ctx, chromedp.Evaluate[int](`document.scrollingElement.scrollWidth`))
	require.NoError(t, err)
	require.LessOrEqual(t, width, narrowWidth, "the page scrolls sideways at %d pixels wide", narrowWidth)

	tab.checkTabOrder(t)
}

// controlsScript numbers the page's visible controls in document order and returns how many
// there are; focusedScript tells which of them has the focus and whether it shows it (the
// browser's focus ring or the page's own outline or shadow).
const (
	controlsScript = `(() => {
		const controls = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]')]
			.filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden");
		controls.forEach((e, i) => e.dataset.control = i);
		return controls.length;
	})()`
	focusedScript = `(() => {
		const e = document.activeElement;
		if (!e || e.dataset.control === undefined) return {index: -1, shown: false};
		const s = getComputedStyle(e);
		const ring = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
		return {index: Number(e.dataset.control), shown: e.matches(":focus-visible") && (ring || s.boxShadow !== "none")};
	})()`
)

// focused is what focusedScript answers.
type focused struct {
	Index int  `json:"index"`
	Shown bool `json:"shown"`
}

// checkTabOrder presses Tab once per control from the top of the page: the n-th press must
// focus the n-th control, visibly (WCAG 2.4.3 Focus Order, 2.4.7 Focus Visible).
func (tab *tab) checkTabOrder(t testing.TB) {
	t.Helper()
	controls, err := chromedp.Run(tab.ctx, chromedp.Evaluate[int](controlsScript))
	require.NoError(t, err)
	for i := range controls {
		require.NoError(t, chromedp.Do(tab.ctx, chromedp.KeyEvent(kb.Tab)))
		f, err := chromedp.Run(tab.ctx, chromedp.Evaluate[focused](focusedScript))
		require.NoError(t, err)
		require.Equal(t, i, f.Index, "Tab press %d of %d focuses the wrong control", i+1, controls)
		require.True(t, f.Shown, "control %d of %d shows no focus", i+1, controls)
	}
}

// screenshots writes the page as PNGs at the narrow and the wide width, whole pages.
func (tab *tab) screenshots(t testing.TB, dir, name string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, width := range []int64{narrowWidth, wideWidth} {
		require.NoError(t, chromedp.Do(tab.ctx, chromedp.EmulateViewport(width, 800)))
		png, err := chromedp.Run(tab.ctx, chromedp.FullScreenshot(100)) // 100: PNG, lossless
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "a PNG")
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644))
	}
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.EmulateViewport(narrowWidth, 800)))
}
