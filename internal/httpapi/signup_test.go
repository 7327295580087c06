package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignupConfirmationLink: the token rides in the fragment, which browsers never send, so
// it is in no request log (R-OPS-1).
func TestSignupConfirmationLink(t *testing.T) {
	token := strings.Repeat("aZ0_-", 8) + "abc"
	for _, base := range []string{"https://gdpr.example.com", "https://gdpr.example.com/"} {
		link := Links{BaseURL: base}.SignupConfirmation("acme", token)
		require.Equal(t, "https://gdpr.example.com/api/brands/acme/signup/confirm#token="+token, link)
	}
}

// TestConfirmPageScriptIsRenderedVerbatim: the CSP allows the script by the hash of
// confirmScript, so the template must render it byte for byte.
func TestConfirmPageScriptIsRenderedVerbatim(t *testing.T) {
	w := httptest.NewRecorder()
	writeHTML(w, 200, confirmTemplate, confirmPageData{Action: confirmPath("acme"), FromFragment: true})
	require.Contains(t, w.Body.String(), "<script>"+confirmScript+"</script>")
	require.Contains(t, w.Header().Get("Content-Security-Policy"), "script-src '"+scriptHash(confirmScript)+"';")

	w = httptest.NewRecorder()
	writeHTML(w, 200, confirmTemplate, confirmPageData{Action: confirmPath("acme"), Token: "tok"})
	require.NotContains(t, w.Body.String(), "<script", "a page that knows its token needs no script")
	require.Contains(t, w.Body.String(), `<input type="hidden" name="token" value="tok">`)
}
