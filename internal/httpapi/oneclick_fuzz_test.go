package httpapi

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzDecodeOneClick: any Content-Type, query and body decode without a panic; a POST taken
// as one-click either names exactly one non-empty token from the query or is refused; a body
// that does not name List-Unsubscribe=One-Click is never taken as one.
func FuzzDecodeOneClick(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "token=abc", []byte("List-Unsubscribe=One-Click"))
	f.Add("application/x-www-form-urlencoded; charset=utf-8", "token=a&token=b", []byte("List-Unsubscribe=One-Click&x=1"))
	f.Add("multipart/form-data; boundary=x", "token=abc", []byte("--x\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--x--"))
	f.Add("application/json", "token=abc", []byte(`{"token":"abc","answer":"this_member"}`))
	f.Add("application/x-www-form-urlencoded", "", []byte("token=abc&answer=this_member"))
	f.Add("application/x-www-form-urlencoded", "token=%zz", []byte("List-Unsubscribe=One-Click%"))
	f.Fuzz(func(t *testing.T, contentType, rawQuery string, body []byte) {
		query, _ := url.ParseQuery(rawQuery)
		token, ok, err := decodeOneClick(contentType, query, body)
		if !ok {
			if err != nil || token != "" {
				t.Fatalf("not one-click, yet token %q err %v", token, err)
			}
			return
		}
		if err != nil {
			if token != "" {
				t.Fatalf("refused with a token")
			}
			return
		}
		if len(query["token"]) != 1 || token != query["token"][0] || token == "" {
			t.Fatalf("token %q is not the query's one token %q", token, query["token"])
		}
		if form, perr := url.ParseQuery(string(body)); perr == nil && form.Get("List-Unsubscribe") != "One-Click" &&
			!contains(body, "One-Click") {
			t.Fatalf("taken as one-click without naming it: %q", body)
		}
	})
}

func contains(b []byte, s string) bool {
	return strings.Contains(string(b), s)
}
