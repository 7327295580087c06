package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"popsell-gdpr/internal/gdpr"
)

// FuzzBlacklistLookupQuery drives the query string of GET …/blacklist?email= through its
// decoder: it never panics, an error never quotes what the client sent, and what it accepts is
// exactly one email parameter and nothing else, returned as url.ParseQuery reads it.
func FuzzBlacklistLookupQuery(f *testing.F) {
	for _, s := range []string{"email=a%40b.cd", "email=a@b.cd&email=c@d.ef", "email=x&y=1", "", "email", "email=%zz",
		"email=someone%40example.test;x", "=someone@example.test", "email=" + strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		email, err := blacklistLookupQuery(raw)
		if err != nil {
			q, _ := url.ParseQuery(raw)
			for k, vs := range q {
				for _, s := range append(vs, k, raw) {
					if len(s) >= 6 && strings.Contains(err.Error(), s) {
						t.Fatalf("the error quotes the client: %q", err)
					}
				}
			}
			return
		}
		q, perr := url.ParseQuery(raw)
		if perr != nil || len(q) != 1 || len(q["email"]) != 1 || q["email"][0] != email {
			t.Fatalf("accepted %q as %q", raw, email)
		}
	})
}

// FuzzBlacklistBodies drives the bodies of POST …/blacklist/lookup and DELETE …/blacklist
// through the strict decoder and the removal's validation: whatever the body, nothing panics
// and no error quotes it; a removal accepted names a valid address, a known reason and who
// asked without an address.
func FuzzBlacklistBodies(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.cd"}`, `{"email":"a@b.cd","reason":"mailbox_fixed","requestedBy":"ops-7"}`,
		`{"email":"a@b.cd","reason":"listed_in_error","requestedBy":"someone@example.test"}`,
		`{"email":"a@b.cd","reason":"new_consent","requestedBy":"ops"}`,
		`{"email":"a@b.cd","reason":"mailbox_fixed","requestedBy":" ops"}`,
		`{"email":"a@b.cd","Reason":"mailbox_fixed","reason":"mailbox_fixed","requestedBy":"x"}`,
		`{"email":"a@b.cd","reason":"mailbox_fixed","requestedBy":"\u0000"}`,
		`{"email":"someone@example.test","email":"other@example.test"}`, `{"mail":1}`, `null`, `[]`, `{}`, `{"email":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var lookup blacklistLookupBody
		if err := decodeJSON(jsonRequest(body), &lookup); err != nil {
			requireNoClientString(t, body, err.Error())
		}
		var in blacklistRemovalBody
		if err := decodeJSON(jsonRequest(body), &in); err != nil {
			requireNoClientString(t, body, err.Error())
			return
		}
		req := gdpr.BlacklistRemovalRequest{Email: in.Email, Why: in.Reason, RequestedBy: in.RequestedBy}
		if err := req.Validate(); err != nil {
			requireNoClientString(t, body, err.Error())
			return
		}
		if !gdpr.ValidEmail(gdpr.NormalizeEmail(in.Email)) {
			t.Fatalf("accepted an invalid address: %q", body)
		}
		if in.Reason != gdpr.RemovalMailboxFixed && in.Reason != gdpr.RemovalListedInError {
			t.Fatalf("accepted reason %q", in.Reason)
		}
		if in.RequestedBy == "" || len(in.RequestedBy) > gdpr.MaxRequestedBy || strings.Contains(in.RequestedBy, "@") {
			t.Fatalf("accepted requestedBy %q", in.RequestedBy)
		}
	})
}

func jsonRequest(body []byte) *http.Request {
	r := httptest.NewRequest("DELETE", "/api/admin/brands/acme/blacklist", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}
