package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/triggers"
)

// Regression tests for the findings of the outside review (issue #10), one per finding, each
// failing before its fix.

// TestOverlongPeriodsRefused: a period past what the rules need was accepted and turned every
// later signup, block or contract end into a lasting 500 (finding 3).
func TestOverlongPeriodsRefused(t *testing.T) {
	app := startApp(t, nil)
	for field, value := range map[string]string{
		"unconfirmedSignup": "P9000Y", "erasureGrace": "P999999999Y", "optInTokenTTL": "P9000Y",
	} {
		t.Run("R-TEN-2_"+field, func(t *testing.T) {
			res := app.admin("PUT", "/api/admin/brands/longer", map[string]any{"name": "Longer", "retention": map[string]string{field: value}})
			require.Equal(t, 400, res.Status, "%s", res.Body)
			require.Contains(t, string(res.Body), "at most P", "the error says the bound")
		})
	}
	res := app.admin("GET", "/api/admin/brands/longer", nil)
	require.Equal(t, 404, res.Status, "nothing was created")
}

// TestJSONThatWeakensProofRefused: keys matched case-insensitively and the last duplicate won,
// so a body could carry acceptTerms false and true at once (finding 6).
func TestJSONThatWeakensProofRefused(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	p := newFakePerson()
	rest := `"email":"` + p.Email + `","password":"` + p.Password + `","termsVersion":"2026-01"`
	for name, body := range map[string]string{
		"R-SIGNUP-1_wrong_case_key":        `{"acceptTerms":false,"ACCEPTTERMS":true,` + rest + `}`,
		"R-SIGNUP-1_duplicate_key":         `{"acceptTerms":false,` + rest + `,"acceptTerms":true}`,
		"R-SIGNUP-1_only_a_wrong_case":     `{"AcceptTerms":true,` + rest + `}`,
		"duplicate_key_in_a_nested_object": `{"name":"X","retention":{"erasureGrace":"P7D","erasureGrace":"P1D"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path, h := "/api/brands/acme/signup", header(nil)
			if strings.Contains(body, "retention") {
				path, h = "/api/admin/brands/acme", admin
			}
			res := app.do(map[bool]string{true: "PUT", false: "POST"}[h != nil], path, body, h)
			require.Equal(t, 400, res.Status, "%s", res.Body)
			require.NotContains(t, string(res.Body), p.Email)
		})
	}
	t.Run("R-SIGNUP-1_no_account_was_created", func(t *testing.T) {
		require.Empty(t, app.mails())
		users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 10)
		require.NoError(t, err)
		require.Empty(t, users)
	})
}

// TestErrorsNeverEchoInput: an unknown key or a bad time was quoted back (finding 6).
func TestErrorsNeverEchoInput(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	for name, c := range map[string]struct {
		method, path, body string
		h                  header
	}{
		"R-OPS-1_unknown_key":            {"POST", "/api/brands/acme/signup/resend", `{"someone@example.test":1}`, nil},
		"R-OPS-1_unknown_nested_key":     {"PUT", "/api/admin/brands/acme", `{"name":"X","retention":{"someone@example.test":"P1D"}}`, admin},
		"R-OPS-1_unknown_signup_field":   {"PUT", "/api/admin/brands/acme", `{"name":"X","fields":{"someone@example.test":"required"}}`, admin},
		"R-OPS-1_wrong_type_in_a_map":    {"PUT", "/api/admin/brands/acme", `{"name":"X","fields":{"someone@example.test":1}}`, admin},
		"R-OPS-1_test_clock_bad_time":    {"PUT", "/api/admin/test-clock", `{"now":"someone@example.test"}`, admin},
		"R-OPS-1_duplicate_key_in_a_map": {"PUT", "/api/admin/brands/acme", `{"name":"X","fields":{"someone@example.test":"required","someone@example.test":"optional"}}`, admin},
	} {
		t.Run(name, func(t *testing.T) {
			res := app.do(c.method, c.path, c.body, c.h)
			require.Equal(t, 400, res.Status, "%s", res.Body)
			require.NotContains(t, string(res.Body), "someone")
		})
	}
}

// TestNullBodyRefused: null was taken as an empty body, so POST …/contract/end with null ended
// the brand (finding 7).
func TestNullBodyRefused(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	for _, path := range []string{"/api/admin/brands/acme/contract/end", "/api/admin/brands/acme/members/m_x/block"} {
		res := app.admin("POST", path, "null")
		require.Equal(t, 400, res.Status, "%s: %s", path, res.Body)
	}
	res := app.admin("GET", "/api/admin/brands/acme", nil)
	require.Equal(t, 200, res.Status)
	require.Equal(t, "active", res.JSON(t)["status"], "the brand's contract did not end")
}

// TestTestClockRefusesWhatItCannotHold: the test clock silently clamped to ±292 years (finding 7).
func TestTestClockRefusesWhatItCannotHold(t *testing.T) {
	app := startApp(t, nil)
	for _, now := range []string{"9999-01-01T00:00:00Z", "0001-01-01T00:00:01Z"} {
		res := app.admin("PUT", "/api/admin/test-clock", map[string]string{"now": now})
		require.Equal(t, 400, res.Status, "%s: %s", now, res.Body)
	}
	res := app.admin("PUT", "/api/admin/test-clock", map[string]string{"now": "2031-01-01T00:00:00Z"})
	require.Equal(t, 200, res.Status, "%s", res.Body)
}

// TestResponsesAreNotSniffed: every answer tells browsers not to guess its type (finding 7).
func TestResponsesAreNotSniffed(t *testing.T) {
	app := startApp(t, nil)
	for _, path := range []string{"/api/health", "/api/nothing-here", "/api/brands/acme/signup/confirm?token=x"} {
		res := app.do("GET", path, nil, nil)
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), path)
	}
}

// TestSignupFloodAnswersTheSameForEveryone is review finding 4 of #10 end to end: under a
// flood of signups, each is accepted (202) or refused for now (503 with Retry-After), with the
// same answer for an address that has an account as for one that has not, and other routes
// keep answering. How many are refused depends on the machine; that each answer is one of
// these does not (password.TestLimitedBoundsHashing proves the bound itself).
func TestSignupFloodAnswersTheSameForEveryone(t *testing.T) {
	app := startApp(t, map[string]string{config.EnvBcryptCost: "10"})
	app.putBrand("acme", nil)
	member := newFakePerson()
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", member.signup(), nil).Status)

	const flood = 60
	type answer struct {
		status     int
		retryAfter string
		body       string
	}
	answers := make([]answer, flood)
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			p := member
			if i%2 == 1 {
				p = newFakePerson()
			}
			res := app.do("POST", "/api/brands/acme/signup", p.signup(), nil)
			answers[i] = answer{res.Status, res.Header.Get("Retry-After"), string(res.Body)}
		})
	}
	require.Equal(t, 200, app.do("GET", "/api/health", nil, nil).Status, "other routes answer during the flood")
	wg.Wait()
	bodies := map[int]string{}
	for i, a := range answers {
		require.Contains(t, []int{202, 503}, a.status, "signup %d: %s", i, a.body)
		if a.status == 503 {
			require.Equal(t, "1", a.retryAfter)
		}
		if b, ok := bodies[a.status]; ok {
			require.Equal(t, b, a.body, "one answer per status, whoever asks")
		}
		bodies[a.status] = a.body
	}
}

// TestFunctionEnvelopesHaveTheirOwnLimit is review finding 7 of #10: the API's 1 MiB body
// limit also wrapped the host's envelopes, so a 2 MiB one failed, was retried and ended
// dead-lettered. Envelopes now have azfunc.MaxInvocationBytes; past it they fail with 413.
func TestFunctionEnvelopesHaveTheirOwnLimit(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	host := azfunctest.NewHost(t, app.App.Handler)
	// A mail job for a member that does not exist: a success that sends nothing.
	job := `{"brandId":"acme","kind":"account_exists","userId":"m_nobody"}`
	big := []byte(job + strings.Repeat(" ", 2<<20))
	res := host.Invoke(triggers.MailSender, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: big, MessageID: "m-big", DeliveryCount: 1}))
	require.NoError(t, res.Err(), "a 2 MiB envelope is read whole")

	huge := []byte(job + strings.Repeat(" ", azfunc.MaxInvocationBytes))
	res = host.Invoke(triggers.MailSender, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: huge, MessageID: "m-huge", DeliveryCount: 1}))
	require.Error(t, res.Err())
	require.Equal(t, 413, res.StatusCode)
}

// TestFirstSignupMailCountsAgainstTheLimit is review finding 7 of #10: the signup's own mail
// was not counted, so a signup and ten resends within two seconds sent two mails.
func TestFirstSignupMailCountsAgainstTheLimit(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	p := newFakePerson()
	require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
	for range 10 {
		require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup/resend", map[string]string{"email": p.Email}, nil).Status)
	}
	n := 0
	for _, m := range app.mails() {
		if m.To == p.Email {
			n++
		}
	}
	require.Equal(t, 1, n, "one mail per address per interval, the signup's included")
}

// TestTimerPanicIsRecovered is review finding 7 of #10: a panic in a timer function ended the
// process in local mode. It is now logged, without its value, and the schedule goes on.
func TestTimerPanicIsRecovered(t *testing.T) {
	logs := &lockedBuffer{}
	a := NewApp(config.Config{}, slog.New(slog.NewJSONHandler(logs, nil)))
	a.fire(t.Context(), triggers.Timer{Name: "Boom", Run: func(context.Context) error { panic("someone@example.test") }})
	require.Contains(t, logs.String(), "timer function panicked")
	require.NotContains(t, logs.String(), "someone")
}
