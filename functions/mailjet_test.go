package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// The Mailjet event fixtures of the wire contract, as the repo keeps them.
const mailjetFixtures = "../internal/mailjet/testdata"

func mailjetFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mailjetFixtures, name))
	require.NoError(t, err)
	return string(b)
}

var callbackAuth = header{"Authorization": "Basic " + basic("mailjet", "acme-callback-password-0123")}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// signedUpMember signs an address up and confirms it, as a member would.
func (a *testApp) signedUpMember(t *testing.T, email string) string {
	t.Helper()
	p := newFakePerson()
	p.Email = email
	require.Equal(t, 202, a.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
	res := a.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": a.confirmationToken(p)}, nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	return res.JSON(t)["memberId"].(string)
}

// TestMailjetEventCallbacks drives every event fixture of the wire contract through the real
// handler: both shapes, replayed, on both stores (issue #11, R-MAIL-1…5, R-DATA-4).
func TestMailjetEventCallbacks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}})
		app.putBrand("other", map[string]any{"mailjetCallback": map[string]string{"username": "mailjet", "password": "other-callback-password-0123"}})
		ids := map[string]string{}
		for _, email := range []string{"alice@example.com", "bob@example.net", "carol@example.org", "dave@example.com", "erin@example.org"} {
			ids[email] = app.signedUpMember(t, email)
		}
		user := func(email string) gdpr.User {
			u, err := app.App.Store.GetUser(t.Context(), "acme", ids[email])
			require.NoError(t, err)
			return u
		}
		h := gdprHasher(t, app)
		listed := func(email string) (gdpr.BlacklistEntry, bool) {
			e, err := app.App.Store.GetBlacklist(t.Context(), "acme", h.EmailDigest(email))
			if err != nil {
				require.ErrorIs(t, err, gdpr.ErrNotFound)
				return e, false
			}
			return e, true
		}

		t.Run("authentication_comes_first", func(t *testing.T) {
			body := mailjetFixture(t, "events-single-spam.json")
			for name, h := range map[string]header{
				"none":         nil,
				"wrong":        {"Authorization": "Basic " + basic("mailjet", "not-the-password-at-all")},
				"other_brands": {"Authorization": "Basic " + basic("mailjet", "other-callback-password-0123")},
			} {
				res := app.do("POST", "/api/brands/acme/mailjet/events", body, h)
				require.Equal(t, 401, res.Status, name)
				require.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic")
			}
			res := app.do("POST", "/api/brands/acme/mailjet/events", `{"event":`, nil)
			require.Equal(t, 401, res.Status, "a malformed body without credentials is not even read")
			_, ok := listed("carol@example.org")
			require.False(t, ok, "nothing applied")
		})

		t.Run("malformed_is_400", func(t *testing.T) {
			for _, body := range []string{`{"event":`, `"spam"`, `[1,2]`, ``} {
				res := app.do("POST", "/api/brands/acme/mailjet/events", body, callbackAuth)
				require.Equal(t, 400, res.Status, "%q: %s", body, res.Body)
			}
		})

		t.Run("every_single_fixture_then_the_grouped_one_three_times", func(t *testing.T) {
			for _, name := range []string{"sent", "open", "click", "bounce", "blocked", "spam", "unsub"} {
				res := app.do("POST", "/api/brands/acme/mailjet/events", mailjetFixture(t, "events-single-"+name+".json"), callbackAuth)
				require.Equal(t, 200, res.Status, "%s: %s", name, res.Body)
			}
			for range 3 {
				res := app.do("POST", "/api/brands/acme/mailjet/events", mailjetFixture(t, "events-grouped.json"), callbackAuth)
				require.Equal(t, 200, res.Status, "%s", res.Body)
			}
		})

		t.Run("R-MAIL-1_spam_and_hard_bounce_blacklist_and_set_the_status", func(t *testing.T) {
			e, ok := listed("carol@example.org")
			require.True(t, ok)
			require.Equal(t, gdpr.BlacklistSpam, e.Reason)
			require.Equal(t, gdpr.EmailSpam, user("carol@example.org").EmailStatus)
			e, ok = listed("bob@example.net")
			require.True(t, ok)
			require.Equal(t, gdpr.BlacklistHardBounce, e.Reason, "the first entry is kept")
			require.Equal(t, gdpr.EmailBlocked, user("bob@example.net").EmailStatus, "the latest permanent event: preblocked after the hard bounce")
		})
		t.Run("R-MAIL-2_a_greylisted_bounce_is_soft_and_releasable", func(t *testing.T) {
			_, ok := listed("erin@example.org")
			require.False(t, ok)
			require.Equal(t, gdpr.EmailSoftBounce, user("erin@example.org").EmailStatus)
			res := app.admin("POST", "/api/brands/acme/members/"+ids["erin@example.org"]+"/release-soft-bounce", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, gdpr.EmailOK, user("erin@example.org").EmailStatus)
			releasedAt := user("erin@example.org").EmailStatusAt
			// Releasing an address that is ok already (released before, or never bounced) is
			// the idempotent answer: 200 with the unchanged status, nothing written.
			for _, who := range []string{"erin@example.org", "alice@example.com"} {
				before := user(who)
				res = app.admin("POST", "/api/brands/acme/members/"+ids[who]+"/release-soft-bounce", nil)
				require.Equal(t, 200, res.Status, "%s: %s", who, res.Body)
				require.Equal(t, "ok", res.JSON(t)["emailStatus"])
				require.Equal(t, before, user(who), "%s: nothing changes", who)
			}
			require.True(t, releasedAt.Equal(user("erin@example.org").EmailStatusAt))
			res = app.admin("POST", "/api/brands/acme/members/"+ids["bob@example.net"]+"/release-soft-bounce", nil)
			require.Equal(t, 409, res.Status, "no other status can be released")
			res = app.do("POST", "/api/brands/acme/members/"+ids["erin@example.org"]+"/release-soft-bounce", nil, nil)
			require.Equal(t, 401, res.Status, "admin only")
		})
		t.Run("R-MAIL-5_unsub_withdraws_the_opt_ins_and_opens_are_no_activity", func(t *testing.T) {
			require.Equal(t, gdpr.OptIns{}, user("dave@example.com").OptIns)
			_, ok := listed("dave@example.com")
			require.False(t, ok)
			alice := user("alice@example.com")
			require.Equal(t, gdpr.EmailOK, alice.EmailStatus)
			require.True(t, alice.LastLoginAt.IsZero() && alice.LastActivityAt.IsZero(), "R-RET-3: an open is no activity")
		})
		t.Run("R-MAIL-1_a_blacklisted_address_signs_up_to_202_and_is_sent_nothing", func(t *testing.T) {
			app.setClock(t, time.Now().Add(2*time.Minute)) // past the per-address mail interval
			t.Cleanup(func() { app.setClock(t, time.Now()) })
			before := len(app.mails())
			p := newFakePerson()
			p.Email = "carol@example.org"
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			require.Len(t, app.mails(), before, "suppressed")
			require.Contains(t, app.logs.String(), `"msg":"mail suppressed"`)
		})
		t.Run("R-DATA-4_no_ip_or_agent_anywhere", func(t *testing.T) {
			for _, v := range []string{"198.51.100.23", "Mozilla/5.0", "List-Unsubscribe"} {
				require.NotContains(t, app.logs.String(), v)
				if be.embedded {
					requireNoFileContains(t, app.App.Config.DataDir, v, "")
				}
			}
			require.NotContains(t, app.logs.String(), "carol@example.org")
		})
	})
}

// TestMailjetCallbackPasswordStoredAsDigest: the Mailjet callback password was stored in
// clear (item 8). It is kept as a keyed digest, as the SCIM token is, on both stores; the
// callback still authenticates with it, and the admin GET never shows it.
func TestMailjetCallbackPasswordStoredAsDigest(t *testing.T) {
	const password = "acme-callback-password-0123"
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"mailjetCallback": map[string]string{"username": "mailjet", "password": password}})
		b, err := app.App.Store.GetBrand(t.Context(), "acme")
		require.NoError(t, err)
		doc, err := json.Marshal(b)
		require.NoError(t, err)
		require.NotContains(t, string(doc), password, "the stored brand holds no clear password")
		require.Contains(t, string(doc), `"username":"mailjet"`)
		if be.embedded {
			requireNoFileContains(t, app.App.Config.DataDir, password, "")
		}

		sent := mailjetFixture(t, "events-single-sent.json")
		require.Equal(t, 200, app.do("POST", "/api/brands/acme/mailjet/events", sent, callbackAuth).Status)
		wrong := header{"Authorization": "Basic " + basic("mailjet", password+"x")}
		require.Equal(t, 401, app.do("POST", "/api/brands/acme/mailjet/events", sent, wrong).Status)

		res := app.admin("GET", "/api/admin/brands/acme", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		require.Equal(t, true, res.JSON(t)["hasMailjetCallback"])
		require.NotContains(t, string(res.Body), password)
	})
}

// TestMailjetEventTimesNoCalendarHold (issue 24; R-MAIL-1, R-MAIL-5): a batch holding times of
// year 10000, of a negative year or none is answered 200 with those events counted, and the
// rest of it applies; a complaint and an unsubscribe without a usable time apply at now.
func TestMailjetEventTimesNoCalendarHold(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}})
		ids := map[string]string{}
		for _, email := range []string{"frank@example.com", "grace@example.net", "heidi@example.org", "ivan@example.com"} {
			ids[email] = app.signedUpMember(t, email)
		}
		h := gdprHasher(t, app)
		now := time.Now().Unix()
		body := fmt.Sprintf(`[
			{"event":"bounce","time":253402300800,"MessageID":1,"email":"frank@example.com","hard_bounce":true,"error_related_to":"recipient","error":"user unknown"},
			{"event":"click","time":253402214400,"MessageID":1,"email":"frank@example.com","url":"https://example.org/"},
			{"event":"spam","time":-62198755200,"MessageID":2,"email":"grace@example.net","source":"JMRPP"},
			{"event":"unsub","time":null,"MessageID":3,"email":"heidi@example.org","mj_list_id":0},
			{"event":"bounce","time":%d,"MessageID":4,"email":"ivan@example.com","hard_bounce":true,"error_related_to":"recipient","error":"user unknown"}
		]`, now)
		for range 2 {
			res := app.do("POST", "/api/brands/acme/mailjet/events", body, callbackAuth)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			got := res.JSON(t)
			require.EqualValues(t, 5, got["events"])
			require.EqualValues(t, 2, got["skipped"], "%s", res.Body)
			require.EqualValues(t, 2, got["undated"], "%s", res.Body)
			require.EqualValues(t, 2, got["blacklisted"], "%s", res.Body)
		}
		user := func(email string) gdpr.User {
			u, err := app.App.Store.GetUser(t.Context(), "acme", ids[email])
			require.NoError(t, err)
			return u
		}
		_, err := app.App.Store.GetBlacklist(t.Context(), "acme", h.EmailDigest("frank@example.com"))
		require.ErrorIs(t, err, gdpr.ErrNotFound, "a bounce dated year 10000 is skipped")
		require.Equal(t, gdpr.EmailOK, user("frank@example.com").EmailStatus)
		require.True(t, user("frank@example.com").LastActivityAt.IsZero())
		for _, email := range []string{"grace@example.net", "ivan@example.com"} {
			_, err := app.App.Store.GetBlacklist(t.Context(), "acme", h.EmailDigest(email))
			require.NoError(t, err, "R-MAIL-1: applied")
		}
		require.Equal(t, gdpr.EmailSpam, user("grace@example.net").EmailStatus)
		require.Equal(t, gdpr.OptIns{}, user("heidi@example.org").OptIns, "R-MAIL-5: an unsubscribe without a time is applied")
		require.Contains(t, app.logs.String(), `"skipped":2`)
		for _, email := range []string{"frank@example.com", "grace@example.net", "heidi@example.org"} {
			require.NotContains(t, app.logs.String(), email)
		}
	})
}
