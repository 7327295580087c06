package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAcceptableContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/scim+json":                  true, // Entra ID
		"application/scim+json; charset=utf-8":   true, // Okta
		"application/json":                       true,
		"Application/JSON; charset=UTF-8":        true,
		"application/scim+json;charset=\"utf8\"": true,
		"":                                       false,
		"text/plain":                             false,
		"application/x-www-form-urlencoded":      false,
		"application/json; charset=iso-8859-1":   false,
		"application/scim+json; charset":         false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/Users", nil)
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		require.Equal(t, want, AcceptableContentType(r), ct)
	}
}

func TestWriteJSON_setsTheSCIMMediaTypeExactly(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusCreated, []byte(`{}`))
	require.Equal(t, http.StatusCreated, w.Code)
	require.Equal(t, []string{"application/scim+json"}, w.Header().Values("Content-Type"))
	require.Equal(t, `{}`, w.Body.String())
}

func TestWriteError_RFC7644Shape(t *testing.T) {
	w := httptest.NewRecorder()
	_, err := DecodeUser([]byte(`{"userName":"secret.person@example.test","active":"secret.person"}`))
	WriteError(w, fmt.Errorf("creating a user: %w", err))
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Equal(t, "application/scim+json", w.Header().Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, body["schemas"])
	require.Equal(t, "400", body["status"], "status is a string (RFC 7644 §3.12)")
	require.Equal(t, "invalidValue", body["scimType"])
	require.NotContains(t, w.Body.String(), "secret.person")
}

func TestWriteError_hidesOtherErrors(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, errors.New("cosmos: conflict on key secret.person@example.test"))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.JSONEq(t, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"The request could not be processed."}`, w.Body.String())
}

func TestWriteError_challengesOn401(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, Unauthorized())
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Equal(t, `Bearer realm="SCIM"`, w.Header().Get("WWW-Authenticate"))

	w = httptest.NewRecorder()
	w.Header().Set("WWW-Authenticate", `Bearer realm="acme", error="invalid_token"`)
	WriteError(w, Unauthorized())
	require.Equal(t, `Bearer realm="acme", error="invalid_token"`, w.Header().Get("WWW-Authenticate"))
}

func TestErrorConstructors(t *testing.T) {
	for _, tc := range []struct {
		err      *Error
		status   int
		scimType string
	}{
		{NotFound(), 404, ""},
		{Uniqueness(), 409, "uniqueness"},
		{EmailUniqueness(), 409, "uniqueness"},
		{PreconditionFailed(), 412, ""},
		{Unauthorized(), 401, ""},
		{UnsupportedMediaType(), 415, ""},
		{PayloadTooLarge(), 413, ""},
		{Internal(), 500, ""},
	} {
		require.Equal(t, tc.status, tc.err.Status)
		require.Equal(t, tc.scimType, tc.err.ScimType)
		require.Contains(t, detailCatalogue, tc.err.Detail)
		b, err := json.Marshal(tc.err)
		require.NoError(t, err)
		require.Contains(t, string(b), fmt.Sprintf(`"status":"%d"`, tc.status))
	}
	require.Equal(t, "scim: 409 uniqueness: Another user of this brand already has this userName.", Uniqueness().Error())
	require.Equal(t, "scim: 404: No user with this id.", NotFound().Error())
}

func TestDetailCatalogue_sentencesAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range detailCatalogue {
		require.False(t, seen[m], m)
		seen[m] = true
		require.True(t, strings.HasSuffix(m, "."), m)
	}
}

func TestWriteUser_headers(t *testing.T) {
	u := sampleUser()
	u.Meta.Version = "42"
	u.Meta.Location = Location("https://popsell.example.test/api/brands/acme/scim/v2", u.ID)
	w := httptest.NewRecorder()
	WriteUser(w, http.StatusCreated, u, []string{"userName"}, nil)
	require.Equal(t, http.StatusCreated, w.Code)
	require.Equal(t, `W/"42"`, w.Header().Get("ETag"))
	require.Equal(t, "https://popsell.example.test/api/brands/acme/scim/v2/Users/m_5f3c1a9e2b7d4c8f", w.Header().Get("Location"))
	require.Equal(t, "application/scim+json", w.Header().Get("Content-Type"))
	require.JSONEq(t, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"m_5f3c1a9e2b7d4c8f",
		"userName":"alex.martin@fabrikam.example.test","meta":{"resourceType":"User",
		"location":"https://popsell.example.test/api/brands/acme/scim/v2/Users/m_5f3c1a9e2b7d4c8f","version":"W/\"42\""}}`, w.Body.String())
}

func TestLocation_escapesTheID(t *testing.T) {
	require.Equal(t, "https://h.example.test/scim/v2/Users/a%2Fb%20c", Location("https://h.example.test/scim/v2/", "a/b c"))
}

func TestETag(t *testing.T) {
	require.Equal(t, `W/"17"`, ETag("17"))
	require.Equal(t, `W/"00000c00-0000-0d00-0000-65f1a2b30000"`, ETag(`"00000c00-0000-0d00-0000-65f1a2b30000"`), "Cosmos DB's quoted _etag")
	for _, v := range []string{`a"b`, `a\b`, "a b", "a,b", "é", "\x00"} {
		tag := ETag(v)
		require.True(t, strings.HasPrefix(tag, `W/"`) && strings.HasSuffix(tag, `"`), tag)
		inner := tag[3 : len(tag)-1]
		require.NotContains(t, inner, `"`)
		require.NotContains(t, inner, `,`)
		require.True(t, MatchETag(tag, v))
	}
	require.NotEqual(t, ETag("a b"), ETag("a,b"))
}

func TestMatchETag(t *testing.T) {
	for _, tc := range []struct {
		header, version string
		want            bool
	}{
		{`W/"17"`, "17", true},
		{`"17"`, "17", true}, // weak comparison: the W/ prefix does not matter
		{`W/"16"`, "17", false},
		{`W/"16", W/"17"`, "17", true},
		{`*`, "17", true},
		{` * `, "anything", true},
		{``, "17", false},
		{`W/"17`, "17", false},
		{`17`, "17", false},
	} {
		require.Equal(t, tc.want, MatchETag(tc.header, tc.version), "%q vs %q", tc.header, tc.version)
	}
}

// TestEmailUniqueness_namesEmails: one member per address per brand is a uniqueness of
// emails.value (RFC 7643 §2.2 "server"); its 409 names that attribute, not userName, in the
// body fixed by the fixture, and /Schemas advertises it.
func TestEmailUniqueness_namesEmails(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, EmailUniqueness())
	require.Equal(t, 409, w.Code)
	require.JSONEq(t, string(fixture(t, "error-uniqueness-emails.json")), w.Body.String())
	require.NotContains(t, EmailUniqueness().Detail, "userName")
	require.Equal(t, "server", topLevel("emails").child("value").uniqueness)
}
