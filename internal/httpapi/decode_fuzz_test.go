package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// FuzzDecodeJSON drives every request body the API decodes through the strict decoder:
// signups, resends, confirmations, brand settings, whitelists, blocks. Whatever the body, it
// does not panic; an error quotes no string the client sent; and a body it accepts decodes
// to exactly what encoding/json makes of it, without a repeated or wrong-case key.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"email":"ada@example.test","password":"correct horse battery","firstName":"Ada","acceptTerms":true,"termsVersion":"2026-01"}`,
		`{"acceptTerms":false,"ACCEPTTERMS":true,"email":"a@b.cd"}`,
		`{"acceptTerms":false,"acceptTerms":true}`,
		`{"someone@example.test":1}`,
		`{"name":"X","retention":{"erasureGrace":"P7D","erasureGrace":"P1D"},"fields":{"alias":"required"}}`,
		`{"name":"X","fields":{"someone@example.test":1}}`,
		`{"emails":["a@b.cd"],"customerIds":["C1"]}`,
		`{"emails":["a@b.cd"],"role":3}`, `{"version":"2026-01"}`,
		`{"email":"a@b.cd","acceptTerms":true,"optIns":{"newsletter":true,"comments":false}}`,
		`{"optIns":{"newsletter":true,"newsletterAt":"2020-01-01T00:00:00Z"}}`,
		`{"token":"` + strings.Repeat("A", 43) + `"}`,
		`{"token":"` + strings.Repeat("A", 43) + `","answer":"all_members"}`,
		`{"token":"` + strings.Repeat("A", 43) + `","answer":"opt_out"}`,
		`{"reason":"unsubscribed"}`, `{"now":"2031-01-01T00:00:00Z"}`, `{"now":"someone@example.test"}`,
		`{"orderId":"o-1","memberId":"m_1","amount":"49.90","currency":"EUR","products":[{"sku":"A","quantity":2}],"contact":{"email":"a@b.cd"},"brandOptIn":true}`,
		`{"type":"user.upserted","timestamp":"2031-01-01T00:00:00Z","data":{"externalId":"e1","email":"a@b.cd"}}`,
		`null`, `[]`, `{}`, `{"email":`, `{"dateOfBirth":"1990-13-40"}`, `{"role":7.5}`,
	} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return &gdpr.SignupInput{} },
		func() any { return &gdpr.BrandSettings{} },
		func() any { return &gdpr.WhitelistInput{} },
		func() any { return &gdpr.Order{} },
		func() any { return &ssoEvent{} },
		func() any {
			return &struct {
				Token string `json:"token"`
			}{}
		},
		func() any {
			return &struct {
				Token  string                 `json:"token"`
				Answer gdpr.UnsubscribeAnswer `json:"answer"`
			}{}
		},
		func() any {
			return &struct {
				Version string `json:"version"`
			}{}
		},
		func() any {
			return &struct {
				Reason gdpr.BlockReason `json:"reason"`
			}{}
		},
		func() any {
			return &struct {
				Now time.Time `json:"now"`
			}{}
		},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range targets {
			v := target()
			r := httptest.NewRequest("POST", "/api/x", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			err := decodeJSON(r, v)
			if err != nil {
				requireNoClientString(t, body, err.Error())
				continue
			}
			want := target()
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(want); derr != nil {
				t.Fatalf("accepted what encoding/json refuses (%v): %q", derr, body)
			}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("decoded differently from encoding/json: %q", body)
			}
			if hasRepeatedKey(json.NewDecoder(bytes.NewReader(body))) {
				t.Fatalf("accepted a repeated key: %q", body)
			}
		}
	})
}

// hasRepeatedKey reports whether any object of the body names a key twice, by its own walk.
func hasRepeatedKey(dec *json.Decoder) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, _ := dec.Token()
			key, _ := k.(string)
			if seen[key] || hasRepeatedKey(dec) {
				return true
			}
			seen[key] = true
		}
		_, _ = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if hasRepeatedKey(dec) {
				return true
			}
		}
		_, _ = dec.Token()
	}
	return false
}

// requireNoClientString fails if msg contains a string the client sent, once the names of our
// own fields (which messages may list) are taken out of it.
func requireNoClientString(t *testing.T, body []byte, msg string) {
	t.Helper()
	for _, name := range ownNames() {
		msg = strings.ReplaceAll(msg, name, "#")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		s, ok := tok.(string)
		// Plain words of six letters or so may be words of our own messages ("field "); an
		// address, an id or anything longer is the client's.
		ordinary := len(s) < 12 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ") == ""
		if ok && len(s) >= 6 && !ordinary && strings.Contains(msg, s) {
			t.Fatalf("the error quotes the client: %q", msg)
		}
	}
}

// ownNames are the JSON names of every field of the request types, longest first.
var ownNames = sync.OnceValue(func() []string {
	seen := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t.String()] {
			return
		}
		seen[t.String()] = true
		f := fieldsOf(t)
		for _, n := range f.names {
			seen[n] = true
			walk(f.exact[n])
		}
	}
	for _, v := range []any{gdpr.SignupInput{}, gdpr.BrandSettings{}, gdpr.WhitelistInput{}, gdpr.Order{}, ssoEvent{},
		gdpr.RequestInput{}, gdpr.ApprovalInput{}} {
		walk(reflect.TypeOf(v))
	}
	names := []string{"token", "reason", "now"}
	for n := range seen {
		if !strings.Contains(n, ".") {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	return names
})
