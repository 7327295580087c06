package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"popsell-gdpr/internal/gdpr"
)

// currentSettings is a stored brand's settings as a patch finds them.
func currentSettings() gdpr.BrandSettings {
	return gdpr.Brand{Name: "Acme", Pro: gdpr.ProDirectSelling, WhitelistEnabled: true,
		Fields:    gdpr.FieldRules{"title": gdpr.FieldNotAsked},
		Mail:      gdpr.MailSettings{Templates: map[gdpr.MailKind]int64{gdpr.MailSignupConfirmation: 9007199254740993}},
		Retention: gdpr.Retention{ErasureGrace: gdpr.Period{Days: 10}}}.Settings()
}

func TestMergePatchFollowsRFC7396(t *testing.T) {
	// The examples of RFC 7396 Appendix A.
	for _, c := range []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	} {
		var target, patch, want any
		for i, s := range []string{c.target, c.patch, c.want} {
			if err := decodeNumbers([]byte(s), []*any{&target, &patch, &want}[i]); err != nil {
				t.Fatal(err)
			}
		}
		patchCopy, _ := json.Marshal(patch)
		got := mergePatch(target, patch)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("MergePatch(%s, %s) = %v, want %s", c.target, c.patch, got, c.want)
		}
		if after, _ := json.Marshal(patch); string(after) != string(patchCopy) {
			t.Errorf("MergePatch changed its patch %s", c.patch)
		}
	}
}

// FuzzBrandMergePatch drives any body through the merge-patch decoder and its application to
// a brand's settings: no panic; a refusal is a 400 quoting no value; an accepted patch yields
// settings a PUT body would give (they survive encoding and the strict decoder), keeps what it
// leaves out, keeps the secrets it does not name, and applied twice gives what it gave once.
func FuzzBrandMergePatch(f *testing.F) {
	for _, s := range []string{
		`{"pro":2}`, `{"retention":{"erasureGrace":"P10D"}}`, `{"retention":null}`, `{"fields":{"title":null,"alias":"required"}}`,
		`{"name":null}`, `{"webhookSecret":null}`, `{"mailjetCallback":{"username":"u","password":"0123456789abcdef"}}`,
		`{"mail":{"templates":{"signup_confirmation":12345678901234567890}}}`, `[]`, `null`, `{"Pro":1}`, `{"pro":1,"pro":2}`,
		`{"contacts":{"manualEntry":true}}`, `{"retention":"P1Y"}`, `{"x":1}`, `{"fields":{"a":{"b":[1]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		patch, err := decodeBrandPatch(body)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.status != 400 {
				t.Fatalf("refusal %v is not a 400", err)
			}
			return
		}
		cur := currentSettings()
		once, err := patch.apply(cur)
		if err != nil {
			var he *httpError
			var de *gdpr.Error
			if !errors.As(err, &he) && !errors.As(err, &de) {
				t.Fatalf("apply failed with %T %v, neither a 400 nor a domain refusal", err, err)
			}
			return
		}
		again, err := patch.apply(once)
		if err != nil {
			t.Fatalf("the patch applied to its own result failed: %v", err)
		}
		once.Keep, again.Keep = gdpr.KeptSecrets{}, gdpr.KeptSecrets{}
		if !reflect.DeepEqual(normal(t, once), normal(t, again)) {
			t.Fatalf("not idempotent:\n%+v\n%+v", once, again)
		}
		for _, name := range secretSettings {
			_, named := patch[name]
			kept := keptSecrets(func(n string) bool { _, ok := patch[n]; return ok })
			if got := reflect.ValueOf(kept).FieldByNameFunc(func(f string) bool { return jsonName(f) == name }).Bool(); got == named {
				t.Fatalf("secret %s: named %v, kept %v", name, named, got)
			}
		}
		if _, named := patch["name"]; !named && once.Name != cur.Name {
			t.Fatalf("name left out but changed")
		}
		if _, named := patch["mail"]; !named && !reflect.DeepEqual(once.Mail, cur.Mail) {
			t.Fatalf("mail left out but changed: %+v", once.Mail)
		}
	})
}

// normal is settings as JSON, where an empty and a missing map are one.
func normal(t *testing.T, s gdpr.BrandSettings) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	_ = decodeNumbers(b, &tree)
	out, _ := json.Marshal(tree)
	return string(out)
}

// jsonName is the JSON name of a KeptSecrets field.
func jsonName(field string) string {
	switch field {
	case "WebhookSecret":
		return "webhookSecret"
	case "PreviousWebhookSecret":
		return "previousWebhookSecret"
	case "SCIMToken":
		return "scimToken"
	case "MailjetCallback":
		return "mailjetCallback"
	}
	return ""
}
