package httpapi

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
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
// templates.PageScript, so every page that needs it must render it byte for byte, in every
// language.
func TestConfirmPageScriptIsRenderedVerbatim(t *testing.T) {
	set := templates.New()
	for _, lang := range gdpr.SupportedLanguages {
		var b bytes.Buffer
		require.NoError(t, set.RenderPage(&b, templates.PageConfirm, templates.PageData{Language: lang, Brand: "Acme", Action: confirmPath("acme"), FromFragment: true}))
		w := httptest.NewRecorder()
		writeHTML(w, 200, b.Bytes())
		require.Contains(t, w.Body.String(), "<script>"+templates.PageScript+"</script>")
		require.Contains(t, w.Header().Get("Content-Security-Policy"), "script-src '"+scriptHash(templates.PageScript)+"';")

		b.Reset()
		require.NoError(t, set.RenderPage(&b, templates.PageConfirm, templates.PageData{Language: lang, Brand: "Acme", Action: confirmPath("acme"), Token: "tok"}))
		require.NotContains(t, b.String(), "<script", "a page that knows its token needs no script")
		require.Contains(t, b.String(), `<input type="hidden" name="token" value="tok">`)
	}
}
