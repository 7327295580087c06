package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// The Entra ID and Okta payloads of the SCIM package's testdata.
const scimFixtures = "../internal/scim/testdata"

func scimFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scimFixtures, name))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

const (
	scimToken      = "acme-scim-token-0123456789abcdef0123456789"
	otherScimToken = "other-scim-token-0123456789abcdef012345678"
)

var scimAuth = header{"Authorization": "Bearer " + scimToken, "Content-Type": "application/scim+json"}

func (a *testApp) scim(method, path, body string, h ...header) response {
	a.t.Helper()
	hh := header{}
	for k, v := range scimAuth {
		hh[k] = v
	}
	for _, x := range h {
		for k, v := range x {
			hh[k] = v
		}
	}
	var b any
	if body != "" {
		b = body
	}
	return a.do(method, "/api/brands/acme/scim/v2"+path, b, hh)
}

func scimList(t *testing.T, res response) []any {
	t.Helper()
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, "application/scim+json", res.Header.Get("Content-Type"))
	body := res.JSON(t)
	list, _ := body["Resources"].([]any)
	require.EqualValues(t, len(list), body["totalResults"], "one page holds every match here")
	return list
}

// TestSCIMEntraCycle drives Entra ID's provisioning cycle with its payload shapes, on both
// stores (issue #12): connection test, lookup before create, create, a duplicate refused,
// PATCH with capitalised ops and "False" as a string, reactivation, a stale If-Match, delete.
func TestSCIMEntraCycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"scimToken": scimToken})
		app.putBrand("other", map[string]any{"scimToken": otherScimToken})

		t.Run("discovery_advertises_what_is_built", func(t *testing.T) {
			res := app.scim("GET", "/ServiceProviderConfig", "")
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, "application/scim+json", res.Header.Get("Content-Type"))
			cfg := res.JSON(t)
			require.Equal(t, true, cfg["patch"].(map[string]any)["supported"])
			require.Equal(t, true, cfg["filter"].(map[string]any)["supported"])
			require.Equal(t, true, cfg["etag"].(map[string]any)["supported"])
			require.Equal(t, false, cfg["bulk"].(map[string]any)["supported"])
			require.Equal(t, false, cfg["sort"].(map[string]any)["supported"])
			require.Equal(t, 200, app.scim("GET", "/ResourceTypes", "").Status)
			require.Equal(t, 200, app.scim("GET", "/Schemas", "").Status)
		})
		t.Run("R-SSO-3_a_token_acts_on_its_brand_only", func(t *testing.T) {
			for name, h := range map[string]header{
				"none": {"Authorization": ""}, "wrong": {"Authorization": "Bearer not-the-token-0123456789abcdef01234"},
				"other_brands": {"Authorization": "Bearer " + otherScimToken},
			} {
				res := app.scim("GET", "/Users", "", h)
				require.Equal(t, 401, res.Status, name)
				require.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer", name)
				require.Equal(t, "401", res.JSON(t)["status"], "SCIM's status is a string")
			}
		})
		t.Run("connection_test_finds_nobody", func(t *testing.T) {
			require.Empty(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "entra-test-connection.query"), "")))
			require.Empty(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "entra-get-by-username.query"), "")))
		})

		var id, etag string
		t.Run("create", func(t *testing.T) {
			res := app.scim("POST", "/Users", scimFixture(t, "entra-create-user.json"))
			require.Equal(t, 201, res.Status, "%s", res.Body)
			body := res.JSON(t)
			id = body["id"].(string)
			meta := body["meta"].(map[string]any)
			require.Equal(t, meta["location"], res.Header.Get("Location"), "Location is meta.location")
			require.Equal(t, meta["version"], res.Header.Get("ETag"))
			etag = res.Header.Get("ETag")
			require.Equal(t, true, body["active"])
			require.Equal(t, "alex.martin", body["externalId"])
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserActive, u.Status)
			require.Equal(t, "Alex", u.FirstName)
			require.Equal(t, "alex.martin@fabrikam.example.test", u.Email)
			require.Equal(t, "Lyon", u.Address.City)
		})
		t.Run("duplicate_userName_is_409_uniqueness", func(t *testing.T) {
			res := app.scim("POST", "/Users", scimFixture(t, "entra-create-user.json"))
			require.Equal(t, 409, res.Status)
			require.Equal(t, "uniqueness", res.JSON(t)["scimType"])
		})
		t.Run("found_by_userName_whatever_its_case", func(t *testing.T) {
			require.Len(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "entra-get-by-username.query"), "")), 1)
			q := url.Values{"filter": {`userName eq "ALEX.MARTIN@fabrikam.example.test"`}}
			require.Len(t, scimList(t, app.scim("GET", "/Users?"+q.Encode(), "")), 1)
			q = url.Values{"filter": {`externalId eq "alex.martin"`}}
			require.Len(t, scimList(t, app.scim("GET", "/Users?"+q.Encode(), "")), 1)
		})
		t.Run("patch_replace_with_capitalised_ops", func(t *testing.T) {
			res := app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-replace-legacy.json"))
			require.Contains(t, []int{200, 204}, res.Status, "%s", res.Body)
		})
		t.Run("stale_If-Match_is_412", func(t *testing.T) {
			res := app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-add-nickname.json"), header{"If-Match": etag})
			require.Equal(t, 412, res.Status, "%s", res.Body)
		})
		t.Run("deactivate_with_False_as_a_string_then_reactivate", func(t *testing.T) {
			res := app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-disable-legacy.json"))
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, false, res.JSON(t)["active"])
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserBlocked, u.Status, "access stops at once")
			require.Equal(t, gdpr.ReasonSSODeactivated, u.Block.Reason)
			res = app.scim("GET", "/Users/"+id, "")
			require.Equal(t, 200, res.Status, "still readable until erased")
			require.Equal(t, false, res.JSON(t)["active"])

			res = app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-enable-legacy.json"))
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, true, res.JSON(t)["active"])
			u, err = app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserActive, u.Status, "restored inside the grace period")
		})
		t.Run("media_types", func(t *testing.T) {
			res := app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-add-nickname.json"), header{"Content-Type": "application/json"})
			require.Equal(t, 200, res.Status, "application/json is accepted: %s", res.Body)
			res = app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-add-nickname.json"), header{"Content-Type": "text/plain"})
			require.Equal(t, 415, res.Status)
		})
		t.Run("delete_then_404", func(t *testing.T) {
			res := app.scim("DELETE", "/Users/"+id, "")
			require.Equal(t, 204, res.Status, "%s", res.Body)
			require.Equal(t, 404, app.scim("GET", "/Users/"+id, "").Status)
			require.Empty(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "entra-get-by-username.query"), "")))
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.ReasonSSODeleted, u.Block.Reason, "erased after the grace period")
		})
	})
}

// TestSCIMOktaCycle drives Okta's cycle: create (its password dropped), find by userName, PUT
// of the whole user, active toggles by PATCH and by PUT, import listing.
func TestSCIMOktaCycle(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	require.Equal(t, 200, app.scim("GET", "/Users?"+scimFixture(t, "okta-test-connection.query"), "").Status)

	res := app.scim("POST", "/Users", scimFixture(t, "okta-create-user.json"))
	require.Equal(t, 201, res.Status, "%s", res.Body)
	require.NotContains(t, string(res.Body), "pW4-not-a-real-password")
	id := res.JSON(t)["id"].(string)
	found := scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "okta-get-by-username.query"), ""))
	require.Len(t, found, 1)
	require.Equal(t, id, found[0].(map[string]any)["id"])

	res = app.scim("PUT", "/Users/"+id, scimFixture(t, "okta-put-user.json"))
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, id, res.JSON(t)["id"], "the id in Okta's body is not ours to change")
	u, err := app.App.Store.GetUser(t.Context(), "acme", id)
	require.NoError(t, err)
	require.Equal(t, "Lee-Park", u.LastName)

	res = app.scim("PATCH", "/Users/"+id, scimFixture(t, "okta-patch-deactivate.json"))
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, false, res.JSON(t)["active"])
	res = app.scim("PATCH", "/Users/"+id, scimFixture(t, "okta-patch-reactivate.json"))
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, true, res.JSON(t)["active"])
	res = app.scim("PUT", "/Users/"+id, scimFixture(t, "okta-put-user-deactivate.json"))
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, false, res.JSON(t)["active"])
	require.Len(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "okta-import.query"), "")), 1, "deactivated users are listed, inactive")
	require.NotContains(t, app.logs.String(), "jordan.lee")
}

// TestWebhooksAndSCIMBehaveAlike: one table of provisioning steps applied through the signed
// webhooks on one brand and through SCIM on another leaves the same member state (issue #12).
func TestWebhooksAndSCIMBehaveAlike(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("hook", map[string]any{"webhookSecret": ssoSecret})
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	type state struct {
		status gdpr.UserStatus
		first  string
		email  string
	}
	steps := []struct {
		name    string
		webhook func(at time.Time) string
		scim    func(id string) response
		want    state
	}{
		{"create",
			func(at time.Time) string {
				return ssoBody("user.upserted", at, map[string]any{"externalId": "same@example.test", "email": "same@example.test", "firstName": "Ada"})
			},
			func(string) response {
				return app.scim("POST", "/Users", `{"userName":"same@example.test","name":{"givenName":"Ada"},"emails":[{"value":"same@example.test","primary":true}]}`)
			},
			state{gdpr.UserActive, "Ada", "same@example.test"}},
		{"rename",
			func(at time.Time) string {
				return ssoBody("user.upserted", at, map[string]any{"externalId": "same@example.test", "email": "same@example.test", "firstName": "Augusta"})
			},
			func(id string) response {
				return app.scim("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"name.givenName","value":"Augusta"}]}`)
			},
			state{gdpr.UserActive, "Augusta", "same@example.test"}},
		{"delete",
			func(at time.Time) string {
				return ssoBody("user.deleted", at, map[string]any{"externalId": "same@example.test"})
			},
			func(id string) response { return app.scim("DELETE", "/Users/"+id, "") },
			state{gdpr.UserBlocked, "Augusta", "same@example.test"}},
	}
	var hookID, scimID string
	at := time.Now().UTC()
	for i, s := range steps {
		res := app.sendWebhook("hook", signedWebhook{secret: ssoSecret, body: s.webhook(at.Add(time.Duration(i) * time.Second))})
		require.Equal(t, 200, res.Status, "%s: %s", s.name, res.Body)
		if hookID == "" {
			hookID = res.JSON(t)["memberId"].(string)
		}
		res = s.scim(scimID)
		require.Contains(t, []int{200, 201, 204}, res.Status, "%s: %s", s.name, res.Body)
		if scimID == "" {
			scimID = res.JSON(t)["id"].(string)
		}
		for brand, id := range map[gdpr.BrandID]string{"hook": hookID, "acme": scimID} {
			u, err := app.App.Store.GetUser(t.Context(), brand, id)
			require.NoError(t, err)
			require.Equal(t, s.want, state{u.Status, u.FirstName, u.Email}, "%s via %s", s.name, brand)
		}
	}
}

// TestSCIMRequiresTheBearerScheme: "Authorization: <token>" without a scheme was accepted, and
// "bearer <token>" refused (item 7). The scheme is required and, as every HTTP auth scheme,
// compared without case (RFC 7235 §2.1). The admin routes share the parsing.
func TestSCIMRequiresTheBearerScheme(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	for name, auth := range map[string]string{
		"bare_token":     scimToken,
		"other_scheme":   "Basic " + scimToken,
		"no_space":       "Bearer" + scimToken,
		"scheme_only":    "Bearer",
		"scheme_space":   "Bearer ",
		"wrong_token":    "Bearer " + otherScimToken,
		"token_as_param": "Bearer token=" + scimToken,
	} {
		res := app.scim("GET", "/ServiceProviderConfig", "", header{"Authorization": auth})
		require.Equal(t, 401, res.Status, "%s: %s", name, res.Body)
		require.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer", name)
		require.NotContains(t, string(res.Body), scimToken, name)
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		res := app.scim("GET", "/ServiceProviderConfig", "", header{"Authorization": scheme + " " + scimToken})
		require.Equal(t, 200, res.Status, "%s: %s", scheme, res.Body)
	}
	t.Run("admin_routes_parse_it_alike", func(t *testing.T) {
		for auth, want := range map[string]int{
			"bearer " + testAdminToken: 200,
			"BEARER " + testAdminToken: 200,
			testAdminToken:             401,
			"Basic " + testAdminToken:  401,
		} {
			res := app.do("GET", "/api/admin/brands/acme", nil, header{"Authorization": auth})
			require.Equal(t, want, res.Status, "%s", res.Body)
		}
	})
}
