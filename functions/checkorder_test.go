package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/stdwebhooks"
)

// Regression tests for the signed routes' findings 7 and 8 of the outside review (issue 24),
// each failing before its fix. SCIM's, Mailjet's and the sync's are beside their routes' tests.

// TestSignedRoutesCheckHeadersBeforeTheBody: an unsigned 2 MB body got 413, not 401: the body
// was read before the signature headers were looked at (item 7). Every signed route now
// refuses missing or malformed headers first; a well-signed body of that size is still 413.
func TestSignedRoutesCheckHeadersBeforeTheBody(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"pro": 2, "webhookSecret": ssoSecret})
	big := `{"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	zeros := "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, path := range []string{"sso/events", "orders", "contacts/sync"} {
		for name, h := range map[string]header{
			"unsigned":            nil,
			"no_signature":        {"webhook-id": "msg_big", "webhook-timestamp": ts},
			"no_id":               {"webhook-timestamp": ts, "webhook-signature": zeros},
			"malformed_signature": {"webhook-id": "msg_big", "webhook-timestamp": ts, "webhook-signature": "v1,not-base64!"},
			"malformed_id":        {"webhook-id": "msg big", "webhook-timestamp": ts, "webhook-signature": zeros},
			"malformed_timestamp": {"webhook-id": "msg_big", "webhook-timestamp": "now", "webhook-signature": zeros},
			"old_timestamp":       {"webhook-id": "msg_big", "webhook-timestamp": "1000000000", "webhook-signature": zeros},
		} {
			res := app.do("POST", "/api/brands/acme/"+path, big, h)
			require.Equal(t, 401, res.Status, "%s %s: %s", path, name, res.Body)
			require.Contains(t, res.Header.Get("WWW-Authenticate"), "Signature", "%s %s", path, name)
		}
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: path, body: big})
		require.Equal(t, 413, res.Status, "%s: a signed body is read, and its size refused", path)
	}
}

// TestSignedRoutesReadEverySignatureHeader: a second webhook-signature header was ignored
// (item 8), so a sender signing with each key in its own header failed when the matching one
// came second.
func TestSignedRoutesReadEverySignatureHeader(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret})
	key, _ := gdpr.WebhookSecretKey(ssoSecret)
	otherKey, _ := gdpr.WebhookSecretKey(ssoOtherSecret)
	body := ssoBody("user.upserted", nowUTC(), upsertData("ext-2h", "two.headers@example.test", "Two"))
	id, ts := "msg_two_headers", strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest("POST", app.URL+"/api/brands/acme/sso/events", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Add("webhook-signature", stdwebhooks.SignatureHeader(otherKey, id, ts, []byte(body)))
	req.Header.Add("webhook-signature", stdwebhooks.SignatureHeader(key, id, ts, []byte(body)))
	res, err := app.httpc.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode, "%s", b)
	require.Contains(t, string(b), `"outcome":"created"`)
}
