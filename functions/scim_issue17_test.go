package main

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// SCIM as Entra ID and Okta drive it (issue #17): what the conformance suites measured,
// driven through the handler with the request shapes of internal/scim/testdata.

func scimMap(t *testing.T, v any, key string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)[key].(map[string]any)
	require.True(t, ok, "%s is an object", key)
	return m
}

// TestSCIMDisplayNamesAreKept (item 1): displayName and name.formatted, advertised readWrite,
// are stored as sent, given back, and filterable; derived from the names only when never
// sent; bounded free text.
func TestSCIMDisplayNamesAreKept(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	res := app.scim("POST", "/Users", scimFixture(t, "entra-create-user.json"))
	require.Equal(t, 201, res.Status, "%s", res.Body)
	id := res.JSON(t)["id"].(string)
	require.Len(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "scim2-get-by-displayname.query"), "")), 1)

	res = app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-replace-display-names.json"))
	require.Equal(t, 200, res.Status, "%s", res.Body)
	body := res.JSON(t)
	require.Equal(t, "Alex Martin (Lyon)", body["displayName"])
	require.Equal(t, "Alexandre Martin", scimMap(t, body, "name")["formatted"])
	got := app.scim("GET", "/Users/"+id, "").JSON(t)
	require.Equal(t, "Alex Martin (Lyon)", got["displayName"], "given back as sent")
	require.Equal(t, "Alexandre Martin", scimMap(t, got, "name")["formatted"])
	u, err := app.App.Store.GetUser(t.Context(), "acme", id)
	require.NoError(t, err)
	require.Equal(t, [2]string{"Alex Martin (Lyon)", "Alexandre Martin"}, [2]string{u.DisplayName, u.FormattedName})

	q := url.Values{"filter": {`displayName eq "alex martin (lyon)"`}}
	require.Len(t, scimList(t, app.scim("GET", "/Users?"+q.Encode(), "")), 1, "displayName is caseExact false")
	require.Empty(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "scim2-get-by-displayname.query"), "")))
	q = url.Values{"filter": {`name.formatted eq "Alexandre Martin"`}}
	require.Len(t, scimList(t, app.scim("GET", "/Users?"+q.Encode(), "")), 1)

	t.Run("too_long_is_400_and_changes_nothing", func(t *testing.T) {
		before, err := app.App.Store.GetUser(t.Context(), "acme", id)
		require.NoError(t, err)
		long := strings.Repeat("n", 201)
		res := app.scim("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"displayName","value":"`+long+`"}]}`)
		require.Equal(t, 400, res.Status, "%s", res.Body)
		require.Equal(t, "invalidValue", res.JSON(t)["scimType"])
		require.NotContains(t, string(res.Body), long)
		after, err := app.App.Store.GetUser(t.Context(), "acme", id)
		require.NoError(t, err)
		require.Equal(t, before.Version, after.Version)
	})
	t.Run("derived_only_when_not_sent", func(t *testing.T) {
		res := app.scim("PATCH", "/Users/"+id, `{"Operations":[{"op":"remove","path":"displayName"},{"op":"replace","path":"name.givenName","value":"Alexandra"}]}`)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		require.Equal(t, "Alexandra Martin", res.JSON(t)["displayName"])
		u, err := app.App.Store.GetUser(t.Context(), "acme", id)
		require.NoError(t, err)
		require.Empty(t, u.DisplayName, "a derived value is never stored as if sent")
	})
}

// TestSCIMNoOpWritesKeepTheVersion (item 2): a PUT or PATCH that changes nothing stored
// answers 200 with the same ETag, meta.version and lastModified, and writes nothing (RFC 7644
// §3.5.2.1: an add of a value already there SHALL NOT change the resource).
func TestSCIMNoOpWritesKeepTheVersion(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	res := app.scim("POST", "/Users", scimFixture(t, "entra-create-user.json"))
	require.Equal(t, 201, res.Status, "%s", res.Body)
	id, etag := res.JSON(t)["id"].(string), res.Header.Get("ETag")
	meta := scimMap(t, res.JSON(t), "meta")
	stored, err := app.App.Store.GetUser(t.Context(), "acme", id)
	require.NoError(t, err)
	app.setClock(t, time.Now().Add(time.Hour)) // a write would now move lastModified
	t.Cleanup(func() { app.setClock(t, time.Now()) })

	for name, do := range map[string]func() response{
		"patch_add_the_same_displayName": func() response {
			return app.scim("PATCH", "/Users/"+id, scimFixture(t, "rfc-patch-add-same-display-name.json"))
		},
		"put_the_same_user": func() response { return app.scim("PUT", "/Users/"+id, scimFixture(t, "entra-create-user.json")) },
		"put_with_If-Match": func() response {
			return app.scim("PUT", "/Users/"+id, scimFixture(t, "entra-create-user.json"), header{"If-Match": etag})
		},
		"patch_active_true_on_an_active_user": func() response {
			return app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-enable-legacy.json"))
		},
	} {
		res := do()
		require.Equal(t, 200, res.Status, "%s: %s", name, res.Body)
		require.Equal(t, etag, res.Header.Get("ETag"), name)
		require.Equal(t, meta, scimMap(t, res.JSON(t), "meta"), name)
		after, err := app.App.Store.GetUser(t.Context(), "acme", id)
		require.NoError(t, err)
		require.Equal(t, stored.Version, after.Version, "%s: nothing written", name)
	}
	res = app.scim("PATCH", "/Users/"+id, scimFixture(t, "entra-patch-add-nickname.json"))
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.NotEqual(t, etag, res.Header.Get("ETag"), "a real change moves the version")
	require.NotEqual(t, meta["lastModified"], scimMap(t, res.JSON(t), "meta")["lastModified"])
}

// TestSCIMUserNameKeepsItsCase (item 3): userName is caseExact false (RFC 7643 §2.2): matched
// without case, kept as sent. The claim that makes it unique uses its folded form.
func TestSCIMUserNameKeepsItsCase(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	const sent = "Siobhan.OMalley@Fabrikam.example.test"
	res := app.scim("POST", "/Users", scimFixture(t, "rfc-create-user-mixed-case.json"))
	require.Equal(t, 201, res.Status, "%s", res.Body)
	require.Equal(t, sent, res.JSON(t)["userName"])
	require.Equal(t, "Siobhán O'Malley", res.JSON(t)["displayName"])
	id := res.JSON(t)["id"].(string)
	require.Equal(t, sent, app.scim("GET", "/Users/"+id, "").JSON(t)["userName"])
	for _, spelling := range []string{strings.ToLower(sent), strings.ToUpper(sent), sent} {
		q := url.Values{"filter": {`userName eq "` + spelling + `"`}}
		found := scimList(t, app.scim("GET", "/Users?"+q.Encode(), ""))
		require.Len(t, found, 1, spelling)
		require.Equal(t, sent, found[0].(map[string]any)["userName"])
	}
	u, err := app.App.Store.GetUser(t.Context(), "acme", id)
	require.NoError(t, err)
	require.Equal(t, strings.ToLower(sent), u.ExternalID, "the key is folded")

	dup := strings.Replace(scimFixture(t, "rfc-create-user-mixed-case.json"), `"siobhan.omalley@fabrikam`, `"other.address@fabrikam`, 1)
	dup = strings.Replace(dup, sent, strings.ToLower(sent), 1)
	require.Contains(t, dup, `"userName": "siobhan.omalley@fabrikam.example.test"`)
	res = app.scim("POST", "/Users", dup)
	require.Equal(t, 409, res.Status, "one userName whatever its case: %s", res.Body)
	require.Contains(t, res.JSON(t)["detail"], "userName")

	res = app.scim("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","path":"userName","value":"SIOBHAN.OMALLEY@fabrikam.example.test"}]}`)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, "SIOBHAN.OMALLEY@fabrikam.example.test", res.JSON(t)["userName"], "a change of case only is kept")
	require.Equal(t, id, res.JSON(t)["id"])
}

// TestSCIMReHireAfterDelete (item 4): a deleted user takes no part in userName conflicts (RFC
// 7644 §3.6). Inside the grace period a POST of the same userName restores the account (201,
// the POST's attributes, the erasure cancelled), as a webhook upsert does; after the erasure,
// a new account. Concurrent POSTs converge on one member.
func TestSCIMReHireAfterDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"scimToken": scimToken})
		res := app.scim("POST", "/Users", scimFixture(t, "okta-create-user.json"))
		require.Equal(t, 201, res.Status, "%s", res.Body)
		id := res.JSON(t)["id"].(string)
		staff, err := app.App.Store.GetUser(t.Context(), "acme", id)
		require.NoError(t, err)
		staff.Role = gdpr.RoleEmployee // granted by the brand outside SCIM
		_, err = app.App.Store.UpdateUser(t.Context(), staff)
		require.NoError(t, err)

		require.Equal(t, 204, app.scim("DELETE", "/Users/"+id, "").Status)
		require.Empty(t, scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "okta-get-by-username.query"), "")))

		rehire := strings.Replace(scimFixture(t, "okta-create-user.json"), `"familyName": "Lee"`, `"familyName": "Lee-Park"`, 1)
		res = app.scim("POST", "/Users", rehire)
		require.Equal(t, 201, res.Status, "no 409 for a deleted user's userName: %s", res.Body)
		require.Equal(t, id, res.JSON(t)["id"], "inside the grace period: the account is restored")
		require.Equal(t, "Lee-Park", scimMap(t, res.JSON(t), "name")["familyName"], "with the POST's attributes")
		u, err := app.App.Store.GetUser(t.Context(), "acme", id)
		require.NoError(t, err)
		require.Equal(t, gdpr.UserActive, u.Status)
		require.Equal(t, gdpr.RoleEmployee, u.Role, "what SCIM does not carry is kept")

		app.setClock(t, time.Now().AddDate(0, 0, 8))
		t.Cleanup(func() { app.setClock(t, time.Now()) })
		app.sweep(t)
		app.waitIdle()
		u, err = app.App.Store.GetUser(t.Context(), "acme", id)
		require.NoError(t, err)
		require.Equal(t, gdpr.UserActive, u.Status, "the pending erasure was cancelled")

		t.Run("concurrent_posts_make_one_member", func(t *testing.T) {
			require.Equal(t, 204, app.scim("DELETE", "/Users/"+id, "").Status)
			statuses := postConcurrently(app, 8, rehire)
			require.Equal(t, 1, statuses[201], "exactly one create: %v", statuses)
			require.Equal(t, 7, statuses[409], "the others find it created: %v", statuses)
			found := scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "okta-get-by-username.query"), ""))
			require.Len(t, found, 1)
			require.Equal(t, id, found[0].(map[string]any)["id"])
		})
		t.Run("after_the_erasure_a_new_account", func(t *testing.T) {
			require.Equal(t, 204, app.scim("DELETE", "/Users/"+id, "").Status)
			app.setClock(t, time.Now().AddDate(0, 0, 16))
			app.sweep(t)
			app.waitIdle()
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserErased, u.Status)
			statuses := postConcurrently(app, 4, rehire)
			require.Equal(t, 1, statuses[201], "%v", statuses)
			found := scimList(t, app.scim("GET", "/Users?"+scimFixture(t, "okta-get-by-username.query"), ""))
			require.Len(t, found, 1)
			require.NotEqual(t, id, found[0].(map[string]any)["id"], "never the erased account")
			require.Equal(t, "Jordan", scimMap(t, found[0], "name")["givenName"])
		})
	})
}

// postConcurrently posts body to /Users n times at once and counts the statuses.
func postConcurrently(app *testApp, n int, body string) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			res := app.scim("POST", "/Users", body)
			mu.Lock()
			statuses[res.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return statuses
}

// TestSCIMAddressConflictNamesEmails (item 5): one member per address per brand stays the
// rule; its 409 is uniqueness naming emails, never userName, and changes nothing.
func TestSCIMAddressConflictNamesEmails(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	require.Equal(t, 201, app.scim("POST", "/Users", scimFixture(t, "okta-create-user.json")).Status)
	res := app.scim("POST", "/Users", scimFixture(t, "okta-create-user-same-email.json"))
	require.Equal(t, 409, res.Status, "%s", res.Body)
	require.JSONEq(t, scimFixture(t, "error-uniqueness-emails.json"), string(res.Body))
	q := url.Values{"filter": {`userName eq "j.lee@example.test"`}}
	require.Empty(t, scimList(t, app.scim("GET", "/Users?"+q.Encode(), "")), "nothing was kept of the refused create")

	res = app.scim("POST", "/Users", `{"userName":"someone.else@example.test","emails":[{"value":"someone.else@example.test","primary":true}]}`)
	require.Equal(t, 201, res.Status, "%s", res.Body)
	other := res.JSON(t)["id"].(string)
	res = app.scim("PATCH", "/Users/"+other, `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"jordan.lee@example.test"}]}`)
	if res.Status == 200 { // no work email yet: Entra's shape creates one, which then conflicts
		t.Fatalf("a taken address was accepted: %s", res.Body)
	}
	require.Equal(t, 409, res.Status, "%s", res.Body)
	require.JSONEq(t, scimFixture(t, "error-uniqueness-emails.json"), string(res.Body))
	require.NotContains(t, string(res.Body), "jordan.lee")
}

// TestSCIMTrailingSlash (item 6): connectors append a slash to a base URL entered with one;
// every endpoint answers with and without it.
func TestSCIMTrailingSlash(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"scimToken": scimToken})
	require.Empty(t, scimList(t, app.scim("GET", "/Users/?"+scimFixture(t, "okta-get-by-username.query"), "")))
	res := app.scim("POST", "/Users/", scimFixture(t, "okta-create-user.json"))
	require.Equal(t, 201, res.Status, "%s", res.Body)
	id := res.JSON(t)["id"].(string)
	require.Len(t, scimList(t, app.scim("GET", "/Users/?"+scimFixture(t, "okta-get-by-username.query"), "")), 1)
	require.Len(t, scimList(t, app.scim("GET", "/Users/", "")), 1)
	require.Equal(t, 200, app.scim("GET", "/Users/"+id+"/", "").Status)
	require.Equal(t, 200, app.scim("PATCH", "/Users/"+id+"/", scimFixture(t, "okta-patch-reactivate.json")).Status)
	for _, p := range []string{"/ServiceProviderConfig/", "/ResourceTypes/", "/Schemas/"} {
		require.Equal(t, 200, app.scim("GET", p, "").Status, p)
	}
	require.Equal(t, 404, app.scim("GET", "/Nothing/", "").Status)
	require.Equal(t, 401, app.scim("GET", "/Users/", "", header{"Authorization": ""}).Status, "authenticated like the rest")
}
