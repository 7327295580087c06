package scim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// ContentType is the media type of every SCIM response (RFC 7644 §3.1, §8.1), written
// exactly so: compliance checkers compare the header as a string.
const ContentType = "application/scim+json"

// AcceptableContentType reports whether the body of a POST, PUT or PATCH may be read as
// SCIM: the media type is application/scim+json (RFC 7644 §8.1) or application/json, which
// clients also send, in any case, with any parameters, and a charset, if named, of UTF-8
// (RFC 7644 §3.8). Okta sends "application/scim+json; charset=utf-8", Entra ID
// "application/scim+json". Answer false with UnsupportedMediaType.
func AcceptableContentType(r *http.Request) bool {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != ContentType && mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || equalFold(cs, "utf-8") || equalFold(cs, "utf8")
}

// WriteJSON writes a SCIM response body with Content-Type: application/scim+json.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteUser writes a User resource (GET, POST → 201, PUT, PATCH → 200) with the headers of
// RFC 7644: ETag from Meta.Version (§3.14) and Location from Meta.Location (§3.3: the
// created resource's URI SHALL be in the Location header; the other answers carry it too). attributes and excludedAttributes are as in User.JSON.
func WriteUser(w http.ResponseWriter, status int, u User, attributes, excludedAttributes []string) {
	body, _ := u.JSON(attributes, excludedAttributes)
	if u.Meta.Version != "" {
		w.Header().Set("ETag", ETag(u.Meta.Version))
	}
	if u.Meta.Location != "" {
		w.Header().Set("Location", u.Meta.Location)
	}
	WriteJSON(w, status, body)
}

// WriteError writes err as a SCIM error (RFC 7644 §3.12). An error that is not an *Error is
// written as a 500 with a fixed detail: its text could carry anything (a store error that
// quotes a key), so it is never sent. A 401 gets the RFC 6750 §3 challenge
// WWW-Authenticate: Bearer unless the handler set one.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) || e == nil {
		e = Internal()
	}
	if e.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM"`)
	}
	body, _ := json.Marshal(e)
	WriteJSON(w, e.Status, body)
}

// Location is a user's URL, meta.location and the Location header (RFC 7643 §3.1): baseURL is
// the SCIM base, e.g. https://host/api/brands/acme/scim/v2.
func Location(baseURL, id string) string {
	return strings.TrimRight(baseURL, "/") + "/Users/" + url.PathEscape(id)
}

// ETag renders a version as the weak entity tag of RFC 7644 §3.14 (W/"..."), for the ETag
// header and meta.version. A version made of characters an entity tag may hold (RFC 9110
// §8.8.3, less the backslash and the comma that separates tags in If-Match) is kept as it is, once any surrounding quotes are taken off
// (Cosmos DB's _etag comes quoted); any other is base64url-encoded, so the result is always a
// valid header value.
func ETag(version string) string {
	v := version
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',' {
			v = base64.RawURLEncoding.EncodeToString([]byte(version))
			break
		}
	}
	return `W/"` + v + `"`
}

// MatchETag reports whether an If-Match or If-None-Match header value matches the current
// version: "*" matches any existing resource; otherwise one of the listed entity tags must
// match ETag(version) with the weak comparison of RFC 9110 §8.8.3.2 (W/ ignored). SCIM's
// entity tags are weak and RFC 7644 §3.14 shows them in If-Match, so the strong comparison
// HTTP prescribes for If-Match could never succeed. An empty header matches nothing: check
// for the header's presence first.
//
//	if h := r.Header.Get("If-Match"); h != "" && !scim.MatchETag(h, stored.Version) {
//		scim.WriteError(w, scim.PreconditionFailed())
//	}
func MatchETag(header, version string) bool {
	if strings.TrimSpace(header) == "*" {
		return true
	}
	want := strings.TrimPrefix(ETag(version), "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == want {
			return true
		}
	}
	return false
}
