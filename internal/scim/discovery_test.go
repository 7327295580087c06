package scim

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

const base = "https://popsell.example.test/api/brands/acme/scim/v2"

func decodeDoc(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// ServiceProviderConfig advertises exactly what is built (issue #12). Each claim is held
// against the code that makes it true.
func TestServiceProviderConfig_claimsWhatIsBuilt(t *testing.T) {
	spc := decodeDoc(t, ServiceProviderConfig(base+"/"))
	require.Equal(t, map[string]any{
		"schemas":        []any{URNServiceProviderConfig},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0.0, "maxPayloadSize": 0.0},
		"filter":         map[string]any{"supported": true, "maxResults": float64(MaxCount)},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": false},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token",
			"description": "The brand's SCIM token in an Authorization: Bearer header.",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750", "primary": true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}, spc)

	// filter.maxResults: no page is larger.
	_, count, err := ParsePaging(url.Values{"count": {"1000000"}})
	require.NoError(t, err)
	require.Equal(t, MaxCount, count)
	// changePassword unsupported: a password is never kept, by POST or by PATCH.
	u, err := DecodeUser(fixture(t, "okta-create-user.json"))
	require.NoError(t, err)
	out, _ := u.JSON(nil, nil)
	require.NotContains(t, string(out), "password")
	require.True(t, oktaUser().Equal(patched(t, oktaUser(), "okta-patch-password.json")))
	// sort unsupported: sortBy changes nothing (TestParseQuery_filterAndAttributes).
	// etag supported: meta.version and the ETag header carry ETag(version), If-Match is
	// matched by MatchETag (TestMatchETag, TestWriteUser_headers).
	// patch supported: DecodePatch and ApplyPatch (patch_test.go).
}

func TestResourceTypes(t *testing.T) {
	list := decodeDoc(t, ResourceTypes(base))
	require.Equal(t, []any{URNListResponse}, list["schemas"])
	require.EqualValues(t, 1, list["totalResults"])
	user := map[string]any{
		"schemas": []any{URNResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
		"description": "A member of the brand", "schema": URNUser,
		"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
	}
	require.Equal(t, []any{user}, list["Resources"])
	_, hasExtensions := user["schemaExtensions"]
	require.False(t, hasExtensions, "no extension is kept, so none is advertised")

	one, ok := ResourceType(base, "User")
	require.True(t, ok)
	require.Equal(t, user, decodeDoc(t, one))
	_, ok = ResourceType(base, "Group")
	require.False(t, ok)
}

// The User schema lists exactly the attributes the decoder keeps, with the properties the
// rest of the package applies.
func TestSchemas_listOnlyWhatIsKept(t *testing.T) {
	list := decodeDoc(t, Schemas(base))
	require.EqualValues(t, 1, list["totalResults"])
	schema := list["Resources"].([]any)[0].(map[string]any)
	require.Equal(t, URNUser, schema["id"])
	require.Equal(t, []any{URNSchema}, schema["schemas"])
	require.Equal(t, map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + URNUser}, schema["meta"])

	var listed []string
	for _, a := range schema["attributes"].([]any) {
		a := a.(map[string]any)
		name := a["name"].(string)
		listed = append(listed, name)
		subs, _ := a["subAttributes"].([]any)
		for _, s := range subs {
			listed = append(listed, name+"."+s.(map[string]any)["name"].(string))
		}
		for _, k := range []string{"type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness"} {
			require.Contains(t, a, k, name)
		}
	}
	require.Equal(t, []string{
		"userName",
		"name", "name.formatted", "name.familyName", "name.givenName",
		"displayName", "nickName", "title", "preferredLanguage", "active",
		"emails", "emails.value", "emails.type", "emails.primary",
		"addresses", "addresses.streetAddress", "addresses.locality", "addresses.postalCode", "addresses.country", "addresses.type", "addresses.primary",
	}, listed)
	for _, name := range listed {
		ref, e := resolveAttrPath(name)
		require.Equal(t, resolveOK, e, name)
		require.False(t, ref.ignored(), "%s is listed but not kept", name)
	}

	// Every attribute of the core User schema that is kept is listed: nothing is kept
	// silently.
	for _, d := range userAttrs {
		if d.supported() {
			require.True(t, slices.Contains(listed, d.name), d.name)
		}
		for _, s := range d.sub {
			if s.supported() {
				require.True(t, slices.Contains(listed, d.name+"."+s.name), d.name+"."+s.name)
			}
		}
	}

	attrs := map[string]map[string]any{}
	for _, a := range schema["attributes"].([]any) {
		attrs[a.(map[string]any)["name"].(string)] = a.(map[string]any)
	}
	require.Equal(t, true, attrs["userName"]["required"])
	require.Equal(t, false, attrs["userName"]["caseExact"], "userName compares case-insensitively")
	require.Equal(t, "server", attrs["userName"]["uniqueness"])
	require.Equal(t, "boolean", attrs["active"]["type"])
	require.Equal(t, true, attrs["emails"]["multiValued"])
	emailAttrs := map[string]map[string]any{}
	for _, a := range attrs["emails"]["subAttributes"].([]any) {
		emailAttrs[a.(map[string]any)["name"].(string)] = a.(map[string]any)
	}
	require.Equal(t, "server", emailAttrs["value"]["uniqueness"], "one user per address per brand (issue #17 item 5)")
	for _, name := range []string{"displayName", "name"} {
		require.Equal(t, "readWrite", attrs[name]["mutability"], name)
	}

	one, ok := Schema(base, URNUser)
	require.True(t, ok)
	require.Equal(t, schema, decodeDoc(t, one))
	_, ok = Schema(base, URNEnterpriseUser)
	require.False(t, ok)
}
