package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

var mailjetMessageSeq atomic.Int64

// mailjetEvent is one Mailjet callback event for addr: a bounce (hard or soft), a permanent
// block, a spam complaint or a sent, with a message id of its own.
func mailjetEvent(kind, addr string, at time.Time) map[string]any {
	e := map[string]any{"event": kind, "time": at.Unix(), "MessageID": 576460752303400000 + mailjetMessageSeq.Add(1), "email": addr}
	switch kind {
	case "hard_bounce":
		e["event"], e["hard_bounce"], e["error_related_to"], e["error"] = "bounce", true, "recipient", "user unknown"
	case "soft_bounce":
		e["event"], e["hard_bounce"], e["error_related_to"], e["error"] = "bounce", false, "recipient", "quota exceeded"
	case "blocked":
		e["error_related_to"], e["error"] = "mailjet", "preblocked"
	}
	return e
}

func (a *testApp) postMailjet(t *testing.T, events ...map[string]any) {
	t.Helper()
	res := a.do("POST", "/api/brands/acme/mailjet/events", events, callbackAuth)
	require.Equal(t, 200, res.Status, "%s", res.Body)
}

// lookup asks the blacklist about addr by the GET form and by the POST form, which must
// agree, and returns the answer.
func (a *testApp) lookup(t *testing.T, addr string) map[string]any {
	t.Helper()
	get := a.admin("GET", "/api/admin/brands/acme/blacklist?email="+url.QueryEscape(addr), nil)
	require.Equal(t, 200, get.Status, "%s", get.Body)
	post := a.admin("POST", "/api/admin/brands/acme/blacklist/lookup", map[string]string{"email": addr})
	require.Equal(t, 200, post.Status, "%s", post.Body)
	require.JSONEq(t, string(get.Body), string(post.Body), "both forms answer the same")
	return get.JSON(t)
}

func (a *testApp) removals(t *testing.T) []gdpr.BlacklistRemoval {
	t.Helper()
	res := a.admin("GET", "/api/admin/brands/acme/blacklist/removals", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	var body struct{ Removals []gdpr.BlacklistRemoval }
	require.NoError(t, json.Unmarshal(res.Body, &body))
	return body.Removals
}

// TestBlacklistAdministration: an admin looks an address up and removes a hard bounce or a
// block, with an audit record that names no address; a complaint or a global opt-out is
// refused, and lifted only by the person's own confirmed double opt-in (R-MAIL-1, R-MAIL-4,
// R-CONSENT-7). On both stores.
func TestBlacklistAdministration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}})
		at := time.Now().Add(-time.Hour).Truncate(time.Second)
		bounced, blocked, complained := "bounced.admin@example.test", "blocked.admin@example.test", "complained.admin@example.test"
		hb := mailjetEvent("hard_bounce", bounced, at)
		app.postMailjet(t, hb, mailjetEvent("blocked", blocked, at), mailjetEvent("spam", complained, at))
		optedOut := "opted.out.admin@example.test"
		require.NoError(t, app.App.Store.PutBlacklist(t.Context(), gdpr.BlacklistEntry{BrandID: "acme",
			Digest: gdprHasher(t, app).EmailDigest(optedOut), Reason: gdpr.BlacklistGlobalOptOut, Source: "unsubscribe:0123456789abcdef", CreatedAt: at}))

		t.Run("R-MAIL-1_lookup_says_why_since_when_and_from_which_event", func(t *testing.T) {
			got := app.lookup(t, "  Bounced.Admin@EXAMPLE.test ")
			require.Equal(t, true, got["listed"])
			require.Equal(t, "hard_bounce", got["reason"])
			require.Equal(t, fmt.Sprintf("mj:%d:bounce:%d", hb["MessageID"], at.Unix()), got["source"])
			require.Equal(t, at.UTC().Format(time.RFC3339), got["since"])
			require.Equal(t, "admin", got["removableBy"])
			require.Equal(t, "double_opt_in", app.lookup(t, complained)["removableBy"])
			require.Equal(t, "global_opt_out", app.lookup(t, optedOut)["reason"])
			require.Equal(t, map[string]any{"listed": false}, app.lookup(t, "never.listed@example.test"))
		})

		t.Run("bad_lookups_are_400_and_quote_nothing", func(t *testing.T) {
			for _, q := range []string{"", "?email=not-an-address", "?email=" + bounced + "&email=" + blocked, "?email=" + bounced + "&x=1", "?email=%zz"} {
				res := app.admin("GET", "/api/admin/brands/acme/blacklist"+q, nil)
				require.Equal(t, 400, res.Status, "%q: %s", q, res.Body)
				require.NotContains(t, string(res.Body), "example.test")
				require.NotContains(t, string(res.Body), "not-an-address")
			}
			res := app.admin("POST", "/api/admin/brands/acme/blacklist/lookup", map[string]any{"email": bounced, "mail": 1})
			require.Equal(t, 400, res.Status)
			require.Equal(t, 404, app.admin("GET", "/api/admin/brands/nobrand/blacklist?email="+bounced, nil).Status)
			require.Equal(t, 401, app.do("GET", "/api/admin/brands/acme/blacklist?email="+bounced, nil, nil).Status)
		})

		remove := func(addr, reason, by string) response {
			return app.admin("DELETE", "/api/admin/brands/acme/blacklist", map[string]string{"email": addr, "reason": reason, "requestedBy": by})
		}

		t.Run("bad_removals_are_400_and_change_nothing", func(t *testing.T) {
			for _, body := range []map[string]string{
				{"email": bounced, "reason": "because", "requestedBy": "ops-7"},
				{"email": bounced, "reason": "mailbox_fixed", "requestedBy": bounced},
				{"email": bounced, "reason": "mailbox_fixed", "requestedBy": ""},
				{"email": bounced, "reason": "mailbox_fixed", "requestedBy": strings.Repeat("x", 129)},
				{"email": "nobody", "reason": "mailbox_fixed", "requestedBy": "ops-7"},
			} {
				res := app.admin("DELETE", "/api/admin/brands/acme/blacklist", body)
				require.Equal(t, 400, res.Status, "%v: %s", body, res.Body)
				require.NotContains(t, string(res.Body), "example.test")
			}
			require.Equal(t, 400, app.admin("DELETE", "/api/admin/brands/acme/blacklist", nil).Status)
			require.Equal(t, true, app.lookup(t, bounced)["listed"])
			require.Empty(t, app.removals(t))
		})

		t.Run("R-MAIL-4_a_complaint_or_a_global_opt-out_is_never_an_admins_to_remove", func(t *testing.T) {
			for _, addr := range []string{complained, optedOut} {
				res := remove(addr, "listed_in_error", "ops-7")
				require.Equal(t, 409, res.Status, "%s", res.Body)
				require.Equal(t, "needs_own_consent", res.errorCode(t))
				require.Equal(t, true, app.lookup(t, addr)["listed"])
			}
			require.Empty(t, app.removals(t))
		})

		t.Run("R-MAIL-1_a_hard_bounce_and_a_block_are_removed_with_a_record_without_the_address", func(t *testing.T) {
			res := remove(bounced, "mailbox_fixed", "ops-7")
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, map[string]any{"listed": false}, app.lookup(t, bounced))
			require.Equal(t, 200, remove(" "+strings.ToUpper(blocked), "listed_in_error", "TICKET-42").Status)
			require.Equal(t, false, app.lookup(t, blocked)["listed"])

			again := remove(bounced, "mailbox_fixed", "ops-7")
			require.Equal(t, 404, again.Status)
			require.Equal(t, "not_listed", again.errorCode(t))

			rs := app.removals(t)
			require.Len(t, rs, 2)
			byReason := map[gdpr.BlacklistReason]gdpr.BlacklistRemoval{rs[0].Reason: rs[0], rs[1].Reason: rs[1]}
			r := byReason[gdpr.BlacklistHardBounce]
			require.Equal(t, gdpr.RemovalByAdmin, r.Basis)
			require.Equal(t, gdpr.RemovalMailboxFixed, r.Why)
			require.Equal(t, "ops-7", r.RequestedBy)
			require.Equal(t, fmt.Sprintf("mj:%d:bounce:%d", hb["MessageID"], at.Unix()), r.Source)
			require.Equal(t, "TICKET-42", byReason[gdpr.BlacklistBlocked].RequestedBy)
			raw := app.admin("GET", "/api/admin/brands/acme/blacklist/removals", nil).Body
			h := gdprHasher(t, app)
			for _, addr := range []string{bounced, blocked} {
				require.NotContains(t, string(raw), addr)
				require.NotContains(t, string(raw), strings.TrimPrefix(h.EmailDigest(addr), "h1:"), "not even the digest")
			}

			// A later event lists the address again: the removal does not stop it.
			app.postMailjet(t, mailjetEvent("hard_bounce", bounced, at.Add(time.Minute)))
			require.Equal(t, true, app.lookup(t, bounced)["listed"])
		})

		t.Run("R-MAIL-4_the_persons_confirmed_double_opt-in_lifts_a_complaint", func(t *testing.T) {
			p := newFakePerson()
			p.Email = complained
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			// The confirmation the person asked for goes out: the one mail a complaint lets through.
			res := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": app.confirmationToken(p)}, nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			member := res.JSON(t)["memberId"].(string)
			require.Equal(t, map[string]any{"listed": false}, app.lookup(t, complained))
			var lifted []gdpr.BlacklistRemoval
			for _, r := range app.removals(t) {
				if r.Basis == gdpr.RemovalByConsent {
					lifted = append(lifted, r)
				}
			}
			require.Len(t, lifted, 1)
			require.Equal(t, gdpr.BlacklistSpam, lifted[0].Reason)
			require.Equal(t, gdpr.RemovalNewConsent, lifted[0].Why)
			require.Equal(t, member, lifted[0].RequestedBy)
		})

		t.Run("a_bounced_address_gets_no_confirmation_mail", func(t *testing.T) {
			p := newFakePerson()
			p.Email = bounced
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			for _, m := range app.mails() {
				require.NotEqual(t, bounced, m.To, "a hard bounce stops the confirmation like any mail")
			}
			require.Equal(t, true, app.lookup(t, bounced)["listed"])
		})

		t.Run("R-OPS-1_no_address_in_the_logs", func(t *testing.T) {
			logs := app.logs.String()
			for _, addr := range []string{bounced, blocked, complained, optedOut} {
				require.NotContains(t, logs, addr)
				require.NotContains(t, logs, url.QueryEscape(addr))
			}
			require.Contains(t, logs, "blacklist entry removed")
		})
	})
}

// TestSoftBouncePolicyThroughTheHost: a brand turns its soft-bounce policy on by merge patch,
// within bounds; three soft bounces in a row within its window suppress the address, and the
// member's release or a delivery lifts it, each recorded (R-MAIL-2). On the test clock, on
// both stores.
func TestSoftBouncePolicyThroughTheHost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
		require.Equal(t, 200, app.admin("PUT", "/api/admin/test-clock", map[string]string{"now": now.Format(time.RFC3339)}).Status)
		app.putBrand("acme", map[string]any{"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}})
		addr := "soft.policy@example.test"
		member := app.signedUpMember(t, addr)
		bounces := func(from time.Time) []map[string]any {
			return []map[string]any{mailjetEvent("soft_bounce", addr, from), mailjetEvent("soft_bounce", addr, from.Add(2*24*time.Hour)),
				mailjetEvent("soft_bounce", addr, from.Add(4*24*time.Hour))}
		}

		t.Run("R-MAIL-2_off_by_default", func(t *testing.T) {
			app.postMailjet(t, bounces(now.Add(-30*24*time.Hour))...)
			require.Equal(t, false, app.lookup(t, addr)["listed"])
			require.Equal(t, 200, app.admin("POST", "/api/brands/acme/members/"+member+"/release-soft-bounce", nil).Status)
		})

		t.Run("bounds_are_checked_and_a_refused_patch_changes_nothing", func(t *testing.T) {
			for _, p := range []string{`{"mail":{"softBounces":{"limit":1,"window":"P7D"}}}`, `{"mail":{"softBounces":{"limit":3,"window":"P1Y"}}}`,
				`{"mail":{"softBounces":{"limit":3}}}`, `{"mail":{"softBounces":{"limit":"3","window":"P7D"}}}`} {
				res := app.do("PATCH", "/api/admin/brands/acme", p, mergePatch)
				require.Equal(t, 400, res.Status, "%s: %s", p, res.Body)
			}
			res := app.admin("GET", "/api/admin/brands/acme", nil)
			require.NotContains(t, string(res.Body), "softBounces")
			res = app.do("PATCH", "/api/admin/brands/acme", `{"mail":{"softBounces":{"limit":3,"window":"P7D"}}}`, mergePatch)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, map[string]any{"limit": float64(3), "window": "P7D"}, res.JSON(t)["mail"].(map[string]any)["softBounces"])
		})

		t.Run("three_in_a_row_within_the_window_suppress_until_the_member_releases", func(t *testing.T) {
			app.postMailjet(t, bounces(now.Add(-10 * 24 * time.Hour))[:2]...)
			require.Equal(t, false, app.lookup(t, addr)["listed"])
			res := app.do("POST", "/api/brands/acme/mailjet/events", bounces(now.Add(-6*24*time.Hour)), callbackAuth)
			require.Equal(t, 200, res.Status)
			require.Equal(t, float64(1), res.JSON(t)["suppressed"])
			require.Equal(t, "soft_bounce", app.lookup(t, addr)["reason"])

			require.Equal(t, 200, app.admin("POST", "/api/brands/acme/members/"+member+"/release-soft-bounce", nil).Status)
			require.Equal(t, false, app.lookup(t, addr)["listed"])
			rs := app.removals(t)
			require.Len(t, rs, 1)
			require.Equal(t, gdpr.RemovalByRelease, rs[0].Basis)
			require.Equal(t, member, rs[0].RequestedBy)
		})

		t.Run("a_delivery_lifts_it", func(t *testing.T) {
			app.postMailjet(t, bounces(now.Add(-5*24*time.Hour))...)
			require.Equal(t, false, app.lookup(t, addr)["listed"], "bounces dated before the release count nothing")
			later := now.Add(10 * 24 * time.Hour)
			require.Equal(t, 200, app.admin("PUT", "/api/admin/test-clock", map[string]string{"now": later.Format(time.RFC3339)}).Status)
			app.postMailjet(t, bounces(now.Add(24*time.Hour))...)
			require.Equal(t, "soft_bounce", app.lookup(t, addr)["reason"])
			delivered := mailjetEvent("sent", addr, later.Add(-time.Hour))
			app.postMailjet(t, delivered)
			require.Equal(t, false, app.lookup(t, addr)["listed"])
			var basis []gdpr.RemovalBasis
			for _, r := range app.removals(t) {
				basis = append(basis, r.Basis)
			}
			require.ElementsMatch(t, []gdpr.RemovalBasis{gdpr.RemovalByRelease, gdpr.RemovalByDelivery}, basis)
			require.NotContains(t, app.logs.String(), addr)
			require.Contains(t, app.logs.String(), "soft-bounce policy suppressed an address")
		})
	})
}
