package main

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	mergePatch     = header{"Authorization": "Bearer " + testAdminToken, "Content-Type": "application/merge-patch+json"}
	secondSecret   = "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("d", 32)))
	brandScimToken = strings.Repeat("s", 40)
	callbackCred   = map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}
)

// secretsIn lists the secret values that appear in an answer: none ever should.
func secretsIn(body []byte) []string {
	var found []string
	for _, s := range []string{ssoSecret, secondSecret, brandScimToken, callbackCred["password"]} {
		if strings.Contains(string(body), s) {
			found = append(found, s[:8]+"…")
		}
	}
	return found
}

// TestBrandSecretsAreWriteOnly: a PUT that leaves a secret out keeps it, null removes it,
// and no answer shows one (issue #17 item 8). The bug it stops: adding webhookSecret by a PUT
// of the whole document silently deleted the Mailjet callback credentials, and the next
// callback got 401.
func TestBrandSecretsAreWriteOnly(t *testing.T) {
	app := startApp(t, nil)
	put := func(body map[string]any) map[string]any {
		t.Helper()
		body["name"] = "Acme"
		res := app.admin("PUT", "/api/admin/brands/acme", body)
		require.Contains(t, []int{200, 201}, res.Status, "%s", res.Body)
		require.Empty(t, secretsIn(res.Body), "PUT answers never echo a secret")
		return res.JSON(t)
	}
	get := func() map[string]any {
		t.Helper()
		res := app.admin("GET", "/api/admin/brands/acme", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		require.Empty(t, secretsIn(res.Body), "GET never shows a secret")
		return res.JSON(t)
	}
	callback := func() int {
		return app.do("POST", "/api/brands/acme/mailjet/events", `{"event":"open","time":1717236000,"MessageID":1,"email":"x@example.test"}`, callbackAuth).Status
	}

	put(map[string]any{"mailjetCallback": callbackCred})
	require.Equal(t, 200, callback())
	view := put(map[string]any{"webhookSecret": ssoSecret, "scimToken": brandScimToken})
	require.Equal(t, true, view["hasMailjetCallback"], "left out: kept")
	require.Equal(t, 200, callback(), "the callback still authenticates after the webhook secret was added")
	res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(), map[string]any{"externalId": "e-1", "email": "seller@brand.example"})})
	require.Equal(t, 200, res.Status, "%s", res.Body)

	view = put(map[string]any{"whitelistEnabled": true})
	for _, set := range []string{"hasWebhookSecret", "hasScimToken", "hasMailjetCallback"} {
		require.Equal(t, true, view[set], set)
		require.Equal(t, true, get()[set], set)
	}
	require.Equal(t, false, view["hasPreviousWebhookSecret"])
	require.Equal(t, true, view["whitelistEnabled"], "the other settings are replaced as before")

	view = put(map[string]any{"mailjetCallback": nil, "scimToken": nil})
	require.Equal(t, false, view["hasMailjetCallback"], "null removes")
	require.Equal(t, false, view["hasScimToken"])
	require.Equal(t, true, view["hasWebhookSecret"])
	require.Equal(t, false, view["whitelistEnabled"], "a PUT still replaces every setting it leaves out but secrets")
	require.Equal(t, 401, callback(), "removed credentials authenticate nothing")

	t.Run("a_bad_secret_changes_nothing", func(t *testing.T) {
		res := app.admin("PUT", "/api/admin/brands/acme", map[string]any{"name": "Other", "webhookSecret": "whsec_short"})
		require.Equal(t, 400, res.Status)
		require.NotContains(t, string(res.Body), "whsec_short")
		require.Equal(t, "Acme", get()["name"])
		require.Equal(t, true, get()["hasWebhookSecret"])
	})
}

// TestBrandMergePatch: PATCH takes a JSON Merge Patch (RFC 7396) of the settings and checks
// the merged result exactly as a PUT body; a refused patch changes nothing.
func TestBrandMergePatch(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "mailjetCallback": callbackCred,
		"mail": map[string]any{"templates": map[string]int64{"signup_confirmation": 1234567}}})
	patch := func(body string) response {
		t.Helper()
		res := app.do("PATCH", "/api/admin/brands/acme", body, mergePatch)
		require.Empty(t, secretsIn(res.Body), "PATCH answers never echo a secret")
		return res
	}
	get := func() map[string]any { return app.admin("GET", "/api/admin/brands/acme", nil).JSON(t) }
	retention := func(name string) any { return get()["retention"].(map[string]any)[name] }

	res := patch(`{"retention":{"erasureGrace":"P10D"},"fields":{"title":"not_asked"}}`)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, "P10D", retention("erasureGrace"))
	require.Equal(t, "P1Y", retention("optedOutContact"), "a setting the patch leaves out keeps its value")
	b := get()
	require.Equal(t, "Brand acme", b["name"])
	require.Equal(t, map[string]any{"title": "not_asked"}, b["fields"])
	require.EqualValues(t, 1234567, b["mail"].(map[string]any)["templates"].(map[string]any)["signup_confirmation"])
	require.Equal(t, true, b["hasWebhookSecret"])
	require.Equal(t, true, b["hasMailjetCallback"])
	require.Equal(t, 200, app.do("POST", "/api/brands/acme/mailjet/events", `{"event":"open","time":1717236000,"MessageID":1,"email":"x@example.test"}`, callbackAuth).Status)

	require.Equal(t, 200, patch(`{"retention":{"erasureGrace":null},"fields":{"title":null}}`).Status)
	require.Equal(t, "P7D", retention("erasureGrace"), "null removes: the default again")
	require.Nil(t, get()["fields"])

	require.Equal(t, 200, patch(`{"previousWebhookSecret":"`+ssoSecret+`","webhookSecret":"`+secondSecret+`"}`).Status)
	require.Equal(t, true, get()["hasPreviousWebhookSecret"])
	res = app.sendWebhook("acme", signedWebhook{secret: secondSecret, body: ssoBody("user.upserted", nowUTC(), map[string]any{"externalId": "e-1", "email": "seller@brand.example"})})
	require.Equal(t, 200, res.Status, "the patched secret verifies: %s", res.Body)
	require.Equal(t, 200, patch(`{"previousWebhookSecret":null}`).Status)
	require.Equal(t, false, get()["hasPreviousWebhookSecret"])
	require.Equal(t, true, get()["hasWebhookSecret"])

	before := get()
	for name, c := range map[string]struct {
		body   string
		h      header
		status int
	}{
		"json_media_type":        {`{"pro":2}`, admin, 415},
		"no_media_type":          {`{"pro":2}`, header{"Authorization": "Bearer " + testAdminToken, "Content-Type": ""}, 415},
		"json_patch_media_type":  {`[{"op":"replace","path":"/pro","value":2}]`, header{"Authorization": "Bearer " + testAdminToken, "Content-Type": "application/json-patch+json"}, 415},
		"not_an_object":          {`[{"op":"replace"}]`, mergePatch, 400},
		"null":                   {`null`, mergePatch, 400},
		"empty":                  {``, mergePatch, 400},
		"unknown_setting":        {`{"pro":2,"colour":"red"}`, mergePatch, 400},
		"wrong_case":             {`{"Pro":2}`, mergePatch, 400},
		"twice":                  {`{"pro":2,"pro":3}`, mergePatch, 400},
		"merged_result_invalid":  {`{"pro":2,"name":null}`, mergePatch, 400},
		"bound_broken":           {`{"pro":2,"retention":{"erasureGrace":"P1Y"}}`, mergePatch, 400},
		"wrong_type":             {`{"pro":2,"retention":"P1Y"}`, mergePatch, 400},
		"field_table":            {`{"pro":2,"fields":{"alias":"optional"}}`, mergePatch, 400},
		"half_callback":          {`{"pro":2,"mailjetCallback":{"username":"x"}}`, mergePatch, 400},
		"malformed":              {`{"pro":2`, mergePatch, 400},
		"no_admin_token":         {`{"pro":2}`, header{"Content-Type": "application/merge-patch+json"}, 401},
		"unknown_brand_is_no_op": {`{"pro":2}`, mergePatch, 404},
	} {
		path := "/api/admin/brands/acme"
		if name == "unknown_brand_is_no_op" {
			path = "/api/admin/brands/nobody"
		}
		res := app.do("PATCH", path, c.body, c.h)
		require.Equal(t, c.status, res.Status, "%s: %s", name, res.Body)
		require.Equal(t, before, get(), "%s: a refused patch changes nothing", name)
	}
	require.Equal(t, 404, app.admin("GET", "/api/admin/brands/nobody", nil).Status, "PATCH creates no brand")
}

// TestConcurrentBrandPatchesAllLand: patches of different settings sent at once all land.
// Each is a read-decide-write guarded by the brand's version, so a write that loses the race
// reads the winner's document and patches it again; none overwrites another. The outcome is
// asserted whatever the interleaving.
func TestConcurrentBrandPatchesAllLand(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"mailjetCallback": callbackCred})
	patches := []string{
		`{"pro":2}`,
		`{"ssoExclusive":true}`,
		`{"whitelistEnabled":true}`,
		`{"retention":{"erasureGrace":"P10D"}}`,
		`{"retention":{"optedOutContact":"P6M"}}`,
		`{"fields":{"title":"not_asked"}}`,
		`{"fields":{"position":"required"}}`,
		`{"contacts":{"manualEntry":true}}`,
		`{"webhookSecret":"` + ssoSecret + `"}`,
	}
	for round := range 5 {
		start := make(chan struct{})
		var wg sync.WaitGroup
		statuses := make([]int, len(patches))
		for i, p := range patches {
			wg.Go(func() {
				<-start
				statuses[i] = app.do("PATCH", "/api/admin/brands/acme", p, mergePatch).Status
			})
		}
		close(start)
		wg.Wait()
		for i, st := range statuses {
			require.Equal(t, 200, st, "round %d: %s", round, patches[i])
		}
		b := app.admin("GET", "/api/admin/brands/acme", nil).JSON(t)
		require.EqualValues(t, 2, b["pro"])
		require.Equal(t, true, b["ssoExclusive"])
		require.Equal(t, true, b["whitelistEnabled"])
		require.Equal(t, "P10D", b["retention"].(map[string]any)["erasureGrace"])
		require.Equal(t, "P6M", b["retention"].(map[string]any)["optedOutContact"])
		require.Equal(t, map[string]any{"title": "not_asked", "position": "required"}, b["fields"])
		require.Equal(t, map[string]any{"manualEntry": true}, b["contacts"])
		require.Equal(t, true, b["hasWebhookSecret"])
		require.Equal(t, true, b["hasMailjetCallback"])
		// Undo them all for the next round, in one PATCH.
		res := app.do("PATCH", "/api/admin/brands/acme", `{"pro":0,"ssoExclusive":false,"whitelistEnabled":false,"retention":null,"fields":null,"contacts":null,"webhookSecret":null}`, mergePatch)
		require.Equal(t, 200, res.Status, "%s", res.Body)
	}
}
