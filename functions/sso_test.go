package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/stdwebhooks"
)

// Two secrets of the "acme" brand (current and previous) and one of "other".
var (
	ssoSecret      = "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("c", 32)))
	ssoPrevious    = "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 32)))
	ssoOtherSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("o", 32)))
	webhookSeq     atomic.Int64
)

// signedWebhook is a request as a brand's system sends it.
type signedWebhook struct {
	id, secret string
	path       string    // under /api/brands/{brand}/; sso/events when empty
	at         time.Time // the webhook-timestamp
	body       string
}

func (a *testApp) sendWebhook(brand string, wh signedWebhook) response {
	a.t.Helper()
	key, ok := gdpr.WebhookSecretKey(wh.secret)
	require.True(a.t, ok)
	if wh.id == "" {
		wh.id = fmt.Sprintf("msg_%d", webhookSeq.Add(1))
	}
	if wh.at.IsZero() {
		wh.at = time.Now()
	}
	ts := strconv.FormatInt(wh.at.Unix(), 10)
	if wh.path == "" {
		wh.path = "sso/events"
	}
	return a.do("POST", "/api/brands/"+brand+"/"+wh.path, wh.body, header{
		"webhook-id": wh.id, "webhook-timestamp": ts,
		"webhook-signature": stdwebhooks.SignatureHeader(key, wh.id, ts, []byte(wh.body)),
	})
}

func ssoBody(kind string, at time.Time, data map[string]any) string {
	b, _ := json.Marshal(map[string]any{"type": kind, "timestamp": at.UTC().Format(time.RFC3339Nano), "data": data})
	return string(b)
}

func upsertData(ext, email, first string) map[string]any {
	return map[string]any{"externalId": ext, "email": email, "firstName": first, "lastName": "Hopper", "role": 1,
		"customerId": "C-" + ext, "language": "fr", "address": map[string]string{"street": "1 rue " + ext, "city": "Lyon", "postalCode": "69001", "country": "FR"}}
}

// TestSSOWebhooks drives the brand's signed provisioning and deletion webhooks end to end, on
// both stores (issue #12, R-SSO-1…3, R-SIGNUP-5, R-ERASE-5).
func TestSSOWebhooks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"ssoExclusive": true, "webhookSecret": ssoSecret, "previousWebhookSecret": ssoPrevious})
		app.putBrand("other", map[string]any{"webhookSecret": ssoOtherSecret})
		t0 := time.Now().UTC()
		outcome := func(res response) string {
			require.Equal(t, 200, res.Status, "%s", res.Body)
			return res.JSON(t)["outcome"].(string)
		}

		var id string
		t.Run("R-SSO-1_signature_success_provisions_an_active_member", func(t *testing.T) {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", t0, upsertData("ext-1", "grace@example.test", "Grace"))})
			require.Equal(t, "created", outcome(res))
			id = res.JSON(t)["memberId"].(string)
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserActive, u.Status, "verified by the brand: no double opt-in")
			require.Equal(t, "grace@example.test", u.Email)
			require.Equal(t, "Lyon", u.Address.City)
		})
		t.Run("R-SSO-3_refused_before_anything_is_read", func(t *testing.T) {
			good := signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", t0, upsertData("ext-x", "x@example.test", "X"))}
			cases := map[string]signedWebhook{
				"bad_signature":  {secret: ssoOtherSecret, body: good.body},
				"old_timestamp":  {secret: ssoSecret, at: time.Now().Add(-6 * time.Minute), body: good.body},
				"future":         {secret: ssoSecret, at: time.Now().Add(6 * time.Minute), body: good.body},
				"malformed_body": {secret: ssoOtherSecret, body: `{"type":`},
			}
			for name, wh := range cases {
				res := app.sendWebhook("acme", wh)
				require.Equal(t, 401, res.Status, "%s: %s", name, res.Body)
			}
			res := app.sendWebhook("other", signedWebhook{secret: ssoSecret, body: good.body})
			require.Equal(t, 401, res.Status, "R-SSO-3: acme's secret does not act on another brand")
			res = app.sendWebhook("nobrand", good)
			require.Equal(t, 401, res.Status, "an unknown brand answers as a wrong secret")
			res = app.do("POST", "/api/brands/acme/sso/events", good.body, nil)
			require.Equal(t, 401, res.Status)
			_, err := app.App.Store.ListUsers(t.Context(), "other", "", 10)
			require.NoError(t, err)
		})
		t.Run("R-SSO-3_rotated_secret_still_verifies", func(t *testing.T) {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoPrevious, body: ssoBody("user.upserted", t0, upsertData("ext-1", "grace@example.test", "Grace"))})
			require.Equal(t, "unchanged", outcome(res))
		})
		t.Run("replayed_id_with_another_body_changes_nothing", func(t *testing.T) {
			first := signedWebhook{id: "msg_replay_1", secret: ssoSecret, body: ssoBody("user.upserted", t0.Add(time.Second), upsertData("ext-1", "grace@example.test", "Brewster"))}
			require.Equal(t, "updated", outcome(app.sendWebhook("acme", first)))
			replay := first
			replay.body = ssoBody("user.deleted", t0.Add(2*time.Second), map[string]any{"externalId": "ext-1"})
			require.Equal(t, "replayed", outcome(app.sendWebhook("acme", replay)))
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserActive, u.Status)
			require.Equal(t, "Brewster", u.FirstName)
		})
		t.Run("R-SSO-2_out_of_order_events_are_ignored_and_say_so", func(t *testing.T) {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", t0, upsertData("ext-1", "grace@example.test", "Stale"))})
			require.Equal(t, "ignored_stale", outcome(res))
			res = app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.deleted", t0, map[string]any{"externalId": "ext-1"})})
			require.Equal(t, "ignored_stale", outcome(res))
		})
		t.Run("R-ERASE-5_delete_restore_delete_erase_then_a_new_account", func(t *testing.T) {
			at := t0.Add(time.Minute)
			del := func(at time.Time) string {
				return outcome(app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.deleted", at, map[string]any{"externalId": "ext-1"})}))
			}
			up := func(at time.Time) response {
				return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", at, upsertData("ext-1", "grace@example.test", "Grace"))})
			}
			require.Equal(t, "blocked", del(at))
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.False(t, u.CanSignIn(), "access stops at once")
			require.Equal(t, gdpr.ReasonSSODeleted, u.Block.Reason)
			require.Equal(t, "restored", outcome(up(at.Add(time.Second))))
			require.Equal(t, "blocked", del(at.Add(2*time.Second)))

			app.setClock(t, time.Now().AddDate(0, 0, 8))
			t.Cleanup(func() { app.setClock(t, time.Now()) })
			app.waitIdle()
			u, err = app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserErased, u.Status)
			recs := app.erasures(t, "acme")
			require.Len(t, recs, 1)
			require.Equal(t, gdpr.ReasonSSODeleted, recs[0].Reason)

			res := up(at.Add(3 * time.Second))
			require.Equal(t, "created", outcome(res))
			require.NotEqual(t, id, res.JSON(t)["memberId"], "a new account, never the erased one")
			if be.embedded {
				requireNoFileContains(t, app.App.Config.DataDir, "Brewster", "")
			}
		})
		t.Run("R-SIGNUP-5_the_form_is_refused_on_an_sso_exclusive_brand", func(t *testing.T) {
			res := app.do("POST", "/api/brands/acme/signup", newFakePerson().signup(), nil)
			require.Equal(t, 403, res.Status)
		})
		t.Run("bad_events_are_400_and_change_nothing", func(t *testing.T) {
			for name, body := range map[string]string{
				"unknown_type":  ssoBody("user.renamed", t0, map[string]any{"externalId": "ext-2"}),
				"no_timestamp":  `{"type":"user.upserted","data":{"externalId":"ext-2"}}`,
				"unknown_field": ssoBody("user.upserted", t0, map[string]any{"externalId": "ext-2", "shoeSize": 44}),
				"bad_email":     ssoBody("user.upserted", t0, map[string]any{"externalId": "ext-2", "email": "nope"}),
			} {
				res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: body})
				require.Equal(t, 400, res.Status, "%s: %s", name, res.Body)
				require.NotContains(t, string(res.Body), "shoeSize")
			}
		})
	})
}
