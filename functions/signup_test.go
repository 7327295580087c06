package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

var fakeSeq atomic.Int64

// fakePerson is generated test data; no production data is ever used in tests (R-OPS-4).
type fakePerson struct {
	Email, First, Last, Password string
}

func newFakePerson() fakePerson {
	n := fakeSeq.Add(1)
	stamp := time.Now().UnixNano() % 1e9
	return fakePerson{
		Email:    fmt.Sprintf("tester.%d.%d@example.test", n, stamp),
		First:    fmt.Sprintf("Zephyrine%dq", n),
		Last:     fmt.Sprintf("Oakenshieldov%dx", n),
		Password: fmt.Sprintf("correct horse %d battery", n),
	}
}

func (p fakePerson) signup() map[string]any {
	return map[string]any{
		"email": p.Email, "password": p.Password, "firstName": p.First, "lastName": p.Last,
		"acceptTerms": true, "termsVersion": "2026-01",
	}
}

// tokenOf pulls the token out of a confirmation link's fragment (#token=…), the part of a
// link browsers never send (R-OPS-1).
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.False(t, u.Query().Has("token"), "the token stays out of the query, which servers log")
	frag, err := url.ParseQuery(u.Fragment)
	require.NoError(t, err)
	tok := frag.Get("token")
	require.Len(t, tok, 43)
	return tok
}

// requestOf is what a browser sends for a link: its path and query, never its fragment.
func requestOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.RequestURI()
}

func (a *testApp) confirmationToken(p fakePerson) string {
	a.t.Helper()
	m := a.lastMailTo(p.Email)
	require.Equal(a.t, gdpr.MailSignupConfirmation, m.Kind)
	require.Len(a.t, m.Links, 1)
	return tokenOf(a.t, m.Links[0])
}

func TestSignupDoubleOptIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", nil)

		t.Run("R-SIGNUP-2_walkthrough_signup_mail_page_confirm_reuse_refused", func(t *testing.T) {
			p := newFakePerson()
			res := app.do("POST", "/api/brands/acme/signup", p.signup(), nil)
			require.Equal(t, 202, res.Status, "%s", res.Body)

			mail := app.lastMailTo(p.Email)
			require.Equal(t, gdpr.MailSignupConfirmation, mail.Kind)
			require.Equal(t, gdpr.BrandID("acme"), mail.BrandID)
			require.Contains(t, mail.Text, mail.Links[0])
			require.Contains(t, mail.HTML, "Confirm my email address")
			token := tokenOf(t, mail.Links[0])

			// Following the link GETs its path (the token stays in the browser): a page that
			// changes nothing, so asking twice still shows the button.
			for range 2 {
				page := app.do("GET", requestOf(t, mail.Links[0]), nil, nil)
				require.Equal(t, 200, page.Status)
				require.Contains(t, page.Header.Get("Content-Type"), "text/html")
				require.Equal(t, "no-referrer", page.Header.Get("Referrer-Policy"))
				require.Contains(t, string(page.Body), `<form method="post"`)
				require.Contains(t, string(page.Body), `<script>`, "the script moves the token from the fragment into the form")
				require.NotContains(t, string(page.Body), token)
			}

			ok := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": token}, nil)
			require.Equal(t, 200, ok.Status, "%s", ok.Body)
			body := ok.JSON(t)
			require.Equal(t, "confirmed", body["status"])
			memberID := fmt.Sprint(body["memberId"])
			require.True(t, strings.HasPrefix(memberID, "m_"))

			again := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": token}, nil)
			require.Equal(t, 410, again.Status)
			require.Equal(t, "gone", again.errorCode(t))

			u, err := app.App.Store.GetUser(t.Context(), "acme", memberID)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserActive, u.Status)
			require.Equal(t, p.Email, u.Email, "R-DATA-1: the verified address moves to email")
			require.Empty(t, u.EmailTmp)
			require.Equal(t, "2026-01", u.Terms.Version, "R-SIGNUP-1: T&C version recorded")
			require.True(t, strings.HasPrefix(u.PasswordHash, "$2a$"), "R-SIGNUP-3: bcrypt only")
			require.NotContains(t, u.PasswordHash, p.Password)
			require.False(t, u.NextReviewAt.IsZero(), "the inactivity schedule starts at confirmation")
		})

		t.Run("R-SIGNUP-2_browser_form_post_gets_a_page", func(t *testing.T) {
			p := newFakePerson()
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			token := app.confirmationToken(p)
			form := url.Values{"token": {token}}.Encode()
			res := app.do("POST", "/api/brands/acme/signup/confirm", form,
				header{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
			require.Equal(t, 200, res.Status)
			require.Contains(t, string(res.Body), "Email address confirmed")
		})

		t.Run("R-SIGNUP-2_pending_account_is_not_usable_before_confirmation", func(t *testing.T) {
			p := newFakePerson()
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			app.waitIdle()
			users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 1000)
			require.NoError(t, err)
			found := false
			for _, u := range users {
				if u.EmailTmp == p.Email {
					found = true
					require.Equal(t, gdpr.UserPending, u.Status)
					require.False(t, u.CanSignIn())
					require.Empty(t, u.Email, "R-DATA-1: email holds verified addresses only")
				}
			}
			require.True(t, found)
		})

		t.Run("R-SIGNUP-2_expired_token_is_gone", func(t *testing.T) {
			p := newFakePerson()
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			token := app.confirmationToken(p)
			app.setClock(t, time.Now().Add(25*time.Hour))
			t.Cleanup(func() { app.setClock(t, time.Now()) })
			page := app.do("GET", "/api/brands/acme/signup/confirm?token="+token, nil, nil)
			require.Equal(t, 410, page.Status)
			require.NotContains(t, string(page.Body), token)
			res := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": token}, nil)
			require.Equal(t, 410, res.Status)
		})

		t.Run("R-SIGNUP-2_tokens_are_stored_only_as_digests", func(t *testing.T) {
			p := newFakePerson()
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			token := app.confirmationToken(p)
			if be.embedded {
				requireNoFileContains(t, app.App.Config.DataDir, token, "outbox")
			}
			digest := gdprHasher(t, app).Digest(token)
			stored, err := app.App.Store.GetToken(t.Context(), "acme", digest)
			require.NoError(t, err, "the store finds the token by its digest")
			require.Equal(t, digest, stored.Digest)
		})

		t.Run("no_enumeration_existing_member_gets_a_notice_and_the_same_answer", func(t *testing.T) {
			p := newFakePerson()
			first := app.do("POST", "/api/brands/acme/signup", p.signup(), nil)
			token := app.confirmationToken(p)
			require.Equal(t, 200, app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": token}, nil).Status)
			app.setClock(t, time.Now().Add(2*time.Minute)) // past the per-address mail interval
			t.Cleanup(func() { app.setClock(t, time.Now()) })
			second := app.do("POST", "/api/brands/acme/signup", p.signup(), nil)
			require.Equal(t, first.Status, second.Status)
			require.Equal(t, string(first.Body), string(second.Body))
			require.Equal(t, gdpr.MailAccountExists, app.lastMailTo(p.Email).Kind)
		})

		t.Run("resend_mails_a_new_link_once_per_interval_and_answers_the_same_for_strangers", func(t *testing.T) {
			p := newFakePerson()
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			first := app.confirmationToken(p)
			app.setClock(t, time.Now().Add(2*time.Minute))
			t.Cleanup(func() { app.setClock(t, time.Now()) })
			before := len(app.mails())
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup/resend", map[string]string{"email": p.Email}, nil).Status)
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup/resend", map[string]string{"email": p.Email}, nil).Status)
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup/resend", map[string]string{"email": newFakePerson().Email}, nil).Status)
			require.Len(t, app.mails(), before+1, "one mail: the second resend is rate-limited, the stranger gets none")
			second := app.confirmationToken(p)
			require.NotEqual(t, first, second)
			require.Equal(t, 200, app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": second}, nil).Status)
		})
	})
}

// TestConfirmationLinkKeepsTheTokenOutOfRequests: the opt-in token rides in the link's
// fragment, which browsers never send, so no request log or telemetry holds it (R-OPS-1);
// the page moves it into the form with its one script, which the CSP allows by hash.
func TestConfirmationLinkKeepsTheTokenOutOfRequests(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	signup := func(t *testing.T) (fakePerson, string) {
		t.Helper()
		p := newFakePerson()
		require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
		mail := app.lastMailTo(p.Email)
		require.Equal(t, gdpr.MailSignupConfirmation, mail.Kind)
		require.Len(t, mail.Links, 1)
		return p, mail.Links[0]
	}
	pending := func(t *testing.T, p fakePerson) bool {
		t.Helper()
		users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 1000)
		require.NoError(t, err)
		for _, u := range users {
			if u.EmailTmp == p.Email || u.Email == p.Email {
				return u.Status == gdpr.UserPending
			}
		}
		t.Fatal("no such user")
		return false
	}
	confirmForm := func(token string) response {
		return app.do("POST", "/api/brands/acme/signup/confirm", url.Values{"token": {token}}.Encode(),
			header{"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
	}

	t.Run("R-OPS-1_the_mailed_link_carries_the_token_in_the_fragment_not_the_query", func(t *testing.T) {
		p, link := signup(t)
		u, err := url.Parse(link)
		require.NoError(t, err)
		require.Empty(t, u.RawQuery)
		require.Equal(t, "/api/brands/acme/signup/confirm", u.Path)
		token := tokenOf(t, link)
		require.Equal(t, "token="+token, u.Fragment)
		require.True(t, strings.HasSuffix(link, "/api/brands/acme/signup/confirm#token="+token), link)
		require.NotContains(t, requestOf(t, link), token, "what the browser sends holds no token")
		mail := app.lastMailTo(p.Email)
		require.Contains(t, mail.Text, link)
		require.Contains(t, mail.HTML, "#token="+token)
	})

	t.Run("R-SIGNUP-2_the_page_without_a_query_token_shows_the_form_and_changes_nothing", func(t *testing.T) {
		p, link := signup(t)
		before := len(app.mails())
		for range 2 {
			page := app.do("GET", requestOf(t, link), nil, nil)
			require.Equal(t, 200, page.Status, "%s", page.Body)
			require.Contains(t, page.Header.Get("Content-Type"), "text/html")
			require.Equal(t, "no-store", page.Header.Get("Cache-Control"))
			require.Equal(t, "no-referrer", page.Header.Get("Referrer-Policy"))
			require.Equal(t, "nosniff", page.Header.Get("X-Content-Type-Options"))
			body := string(page.Body)
			require.Contains(t, body, `<form method="post" action="/api/brands/acme/signup/confirm">`)
			require.Contains(t, body, `<input id="token" name="token"`)
			require.Contains(t, body, `<label for="token">`, "without scripts the code can be pasted into a labelled field")
			require.Contains(t, body, `<noscript>`)
			require.Contains(t, body, `<script>`)
		}
		require.True(t, pending(t, p), "the GET confirmed nothing")
		require.Len(t, app.mails(), before, "the GET mailed nothing")
		// What the script or the member puts into the field confirms, once.
		token := tokenOf(t, link)
		require.Contains(t, string(confirmForm(token).Body), "Email address confirmed")
		require.False(t, pending(t, p))
		require.Equal(t, 410, confirmForm(token).Status)
	})

	t.Run("R-SIGNUP-2_links_mailed_with_a_query_token_still_work", func(t *testing.T) {
		p, link := signup(t)
		token := tokenOf(t, link)
		legacy := "/api/brands/acme/signup/confirm?token=" + token
		for range 2 {
			page := app.do("GET", legacy, nil, nil)
			require.Equal(t, 200, page.Status, "%s", page.Body)
			require.Equal(t, "no-referrer", page.Header.Get("Referrer-Policy"))
			require.Equal(t, "no-store", page.Header.Get("Cache-Control"))
			require.Contains(t, string(page.Body), `<input type="hidden" name="token" value="`+token+`">`)
			require.NotContains(t, string(page.Body), `<script>`)
		}
		require.True(t, pending(t, p))
		require.Contains(t, string(confirmForm(token).Body), "Email address confirmed")
		gone := app.do("GET", legacy, nil, nil)
		require.Equal(t, 410, gone.Status)
		require.Contains(t, string(gone.Body), "This link cannot be used")
		require.NotContains(t, string(gone.Body), token)
	})

	t.Run("the_page_of_an_unknown_brand_is_not_found", func(t *testing.T) {
		page := app.do("GET", "/api/brands/nope/signup/confirm", nil, nil)
		require.Equal(t, 404, page.Status)
		require.NotContains(t, string(page.Body), "<form")
	})

	t.Run("the_CSP_allows_exactly_the_inline_script_by_its_hash", func(t *testing.T) {
		_, link := signup(t)
		page := app.do("GET", requestOf(t, link), nil, nil)
		require.Equal(t, 200, page.Status)
		scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(string(page.Body), -1)
		require.Len(t, scripts, 1, "one inline script")
		require.Equal(t, 1, strings.Count(string(page.Body), "<script"), "no other script element")
		sum := sha256.Sum256([]byte(scripts[0][1]))
		hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"

		directives := map[string]string{}
		for _, d := range strings.Split(page.Header.Get("Content-Security-Policy"), ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		require.Equal(t, hash, directives["script-src"], "the script's hash and nothing else")
		require.Equal(t, "'none'", directives["default-src"])
		require.Equal(t, "'self'", directives["form-action"])
		require.Equal(t, "'none'", directives["frame-ancestors"])
		require.NotContains(t, page.Header.Get("Content-Security-Policy"), "unsafe-eval")
		require.NotContains(t, directives["script-src"], "unsafe-inline")

		// The legacy page carries the same policy.
		legacy := app.do("GET", "/api/brands/acme/signup/confirm?token="+tokenOf(t, link), nil, nil)
		require.Equal(t, page.Header.Get("Content-Security-Policy"), legacy.Header.Get("Content-Security-Policy"))
	})
}

func (a *testApp) setClock(t *testing.T, now time.Time) {
	t.Helper()
	res := a.admin("PUT", "/api/admin/test-clock", map[string]string{"now": now.UTC().Format(time.RFC3339Nano)})
	require.Equal(t, 200, res.Status, "%s", res.Body)
}

// dueAt reads the due time an answer gives at path (e.g. "block", "dueAt"). The test clock
// runs on from where a test set it, so a deadline computed by the service depends on how long
// the test took to get there: a test moves the clock past the deadline the service answered,
// never past one it computed itself.
func dueAt(t *testing.T, res response, path ...string) time.Time {
	t.Helper()
	var v any = res.JSON(t)
	for _, p := range path {
		m, ok := v.(map[string]any)
		require.True(t, ok, "no %s in %s", p, res.Body)
		v = m[p]
	}
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(v))
	require.NoError(t, err, "%s", res.Body)
	return at
}

// requireNoFileContains scans every file under dir (but the skipped folder) for needle.
func requireNoFileContains(t *testing.T, dir, needle, skip string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == skip {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("a value that must be gone is still in %s", path) // never print the value or the file
		}
		return nil
	})
	require.NoError(t, err)
}

func TestSignupRules(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("fields", map[string]any{"fields": map[string]string{"lastName": "required", "title": "not_asked"}})
	app.putBrand("listed", map[string]any{"whitelistEnabled": true})
	app.putBrand("ssoonly", map[string]any{"ssoExclusive": true})

	t.Run("R-SIGNUP-6_required_field_missing", func(t *testing.T) {
		in := newFakePerson().signup()
		delete(in, "lastName")
		res := app.do("POST", "/api/brands/fields/signup", in, nil)
		require.Equal(t, 400, res.Status)
		require.Contains(t, string(res.Body), "lastName is required")
	})
	t.Run("R-SIGNUP-6_not_asked_field_refused", func(t *testing.T) {
		in := newFakePerson().signup()
		in["title"] = "Dr"
		require.Equal(t, 400, app.do("POST", "/api/brands/fields/signup", in, nil).Status)
	})
	t.Run("R-SIGNUP-5_sso_exclusive_brand_refuses_the_form", func(t *testing.T) {
		res := app.do("POST", "/api/brands/ssoonly/signup", newFakePerson().signup(), nil)
		require.Equal(t, 403, res.Status)
		require.Equal(t, "forbidden", res.errorCode(t))
	})
	t.Run("R-SIGNUP-4_whitelist_by_email_digest_or_customer_id", func(t *testing.T) {
		listed, byCustomer, stranger, unused := newFakePerson(), newFakePerson(), newFakePerson(), newFakePerson()
		res := app.admin("POST", "/api/admin/brands/listed/whitelist", map[string]any{
			"emails": []string{strings.ToUpper(listed.Email), unused.Email}, "customerIds": []string{"CUST-77", "CUST-NEVER-USED-41"},
		})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		require.Equal(t, 403, app.do("POST", "/api/brands/listed/signup", stranger.signup(), nil).Status)
		require.Equal(t, 202, app.do("POST", "/api/brands/listed/signup", listed.signup(), nil).Status)
		in := byCustomer.signup()
		in["customerId"] = "CUST-77"
		require.Equal(t, 202, app.do("POST", "/api/brands/listed/signup", in, nil).Status)
		// The whitelist keeps digests only: an authorised address that never signed up is in
		// no file.
		requireNoFileContains(t, app.App.Config.DataDir, unused.Email, "outbox")
		requireNoFileContains(t, app.App.Config.DataDir, "CUST-NEVER-USED-41", "outbox")
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	p := newFakePerson()
	with := func(k string, v any) map[string]any {
		in := p.signup()
		if v == nil {
			delete(in, k)
		} else {
			in[k] = v
		}
		return in
	}
	huge := `{"email":"` + strings.Repeat("a", 1<<20) + `@example.test"}`
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		h      header
		status int
		code   string
	}{
		{"malformed_json", "POST", "/api/brands/acme/signup", `{"email":`, nil, 400, "invalid"},
		{"not_an_object", "POST", "/api/brands/acme/signup", `[1,2]`, nil, 400, "invalid"},
		{"trailing_data", "POST", "/api/brands/acme/signup", `{"email":"a@b.cd"} {}`, nil, 400, "invalid"},
		{"unknown_field", "POST", "/api/brands/acme/signup", with("nickname", "x"), nil, 400, "invalid"},
		{"wrong_type", "POST", "/api/brands/acme/signup", with("acceptTerms", "yes"), nil, 400, "invalid"},
		{"R-SIGNUP-1_missing_terms", "POST", "/api/brands/acme/signup", with("acceptTerms", nil), nil, 400, "invalid"},
		{"R-SIGNUP-1_terms_refused", "POST", "/api/brands/acme/signup", with("acceptTerms", false), nil, 400, "invalid"},
		{"R-SIGNUP-1_terms_version_missing", "POST", "/api/brands/acme/signup", with("termsVersion", nil), nil, 400, "invalid"},
		{"invalid_email", "POST", "/api/brands/acme/signup", with("email", "not-an-address"), nil, 400, "invalid"},
		{"short_password", "POST", "/api/brands/acme/signup", with("password", "short"), nil, 400, "invalid"},
		{"external_role_refused", "POST", "/api/brands/acme/signup", with("role", 7), nil, 400, "invalid"},
		{"bad_date_of_birth", "POST", "/api/brands/acme/signup", with("dateOfBirth", "31/12/1990"), nil, 400, "invalid"},
		{"empty_body", "POST", "/api/brands/acme/signup", "", nil, 400, "invalid"},
		{"oversized_body", "POST", "/api/brands/acme/signup", huge, nil, 413, "too_large"},
		{"wrong_content_type", "POST", "/api/brands/acme/signup", "email=x", header{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"unknown_brand", "POST", "/api/brands/nope/signup", p.signup(), nil, 404, "not_found"},
		{"invalid_brand_id", "POST", "/api/brands/NOPE!/signup", p.signup(), nil, 404, "not_found"},
		{"malformed_token", "POST", "/api/brands/acme/signup/confirm", map[string]string{"token": "abc"}, nil, 400, "invalid"},
		{"unknown_token", "POST", "/api/brands/acme/signup/confirm", map[string]string{"token": strings.Repeat("A", 43)}, nil, 410, "gone"},
		{"missing_token", "POST", "/api/brands/acme/signup/confirm", `{}`, nil, 400, "invalid"},
		{"admin_without_token", "PUT", "/api/admin/brands/other", map[string]any{"name": "X"}, nil, 401, "unauthenticated"},
		{"admin_wrong_token", "PUT", "/api/admin/brands/other", map[string]any{"name": "X"}, header{"Authorization": "Bearer wrong-token-wrong-token"}, 401, "unauthenticated"},
		{"brand_bad_pro", "PUT", "/api/admin/brands/other", map[string]any{"name": "X", "pro": 1}, admin, 400, "invalid"},
		{"brand_bad_duration", "PUT", "/api/admin/brands/other", map[string]any{"name": "X", "retention": map[string]string{"erasureGrace": "a week"}}, admin, 400, "invalid"},
		{"brand_bad_secret", "PUT", "/api/admin/brands/other", map[string]any{"name": "X", "webhookSecret": "secret"}, admin, 400, "invalid"},
		{"brand_without_name", "PUT", "/api/admin/brands/other", map[string]any{"pro": 0}, admin, 400, "invalid"},
		{"whitelist_bad_email", "POST", "/api/admin/brands/acme/whitelist", map[string]any{"emails": []string{"nope"}}, admin, 400, "invalid"},
		{"unknown_route", "GET", "/api/nothing-here", nil, nil, 404, "not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := app.do(c.method, c.path, c.body, c.h)
			require.Equal(t, c.status, res.Status, "%s", res.Body)
			require.Equal(t, c.code, res.errorCode(t))
			require.Contains(t, res.Header.Get("Content-Type"), "application/json")
		})
	}
	t.Run("nothing_changed", func(t *testing.T) {
		require.Empty(t, app.mails())
		users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 10)
		require.NoError(t, err)
		require.Empty(t, users)
		_, err = app.App.Store.GetBrand(t.Context(), "other")
		require.ErrorIs(t, err, gdpr.ErrNotFound)
	})
}

func gdprHasher(t *testing.T, a *testApp) *gdpr.Hasher {
	t.Helper()
	h, err := gdpr.NewHasher(a.App.Config.HashKeyID, a.App.Config.HashKey)
	require.NoError(t, err)
	return h
}
