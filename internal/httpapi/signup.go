package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"popsell-gdpr/internal/gdpr"
)

// Links builds the links that mails carry from this router's routes (gdpr.Links).
type Links struct {
	// BaseURL is the public origin, e.g. "https://gdpr.example.com".
	BaseURL string
}

// SignupConfirmation is the confirmation page of a signup, GET /api/brands/{brand}/signup/confirm,
// with the token in the fragment (#token=…): browsers never send a fragment, so the token stays
// out of the host's request telemetry and any proxy's access log (R-OPS-1). The page's script
// moves it into the form.
func (l Links) SignupConfirmation(brand gdpr.BrandID, token string) string {
	return strings.TrimRight(l.BaseURL, "/") + confirmPath(brand) + "#token=" + url.QueryEscape(token)
}

// ContactInvitation is a contact's invitation page, the token in the fragment as for signups.
func (l Links) ContactInvitation(brand gdpr.BrandID, token string) string {
	return strings.TrimRight(l.BaseURL, "/") + invitationPath(brand) + "#token=" + url.QueryEscape(token)
}

// ContactUnsubscribe is a contact's unsubscribe page, the token in the fragment.
func (l Links) ContactUnsubscribe(brand gdpr.BrandID, token string) string {
	return strings.TrimRight(l.BaseURL, "/") + unsubscribePath(brand) + "#token=" + url.QueryEscape(token)
}

// ProgramOptOut is a member's opt-out page of a suspended program, the token in the fragment.
func (l Links) ProgramOptOut(brand gdpr.BrandID, token string) string {
	return strings.TrimRight(l.BaseURL, "/") + programOptOutPath(brand) + "#token=" + url.QueryEscape(token)
}

// ExportDownload is an export's download, GET /api/brands/{brand}/exports/{token}: the token
// is in the path, since a file is downloaded by a plain GET that carries no fragment; the
// route is logged by its pattern only, and the token serves three downloads within 48 hours.
func (l Links) ExportDownload(brand gdpr.BrandID, token string) string {
	return strings.TrimRight(l.BaseURL, "/") + "/api/brands/" + url.PathEscape(string(brand)) + "/exports/" + url.PathEscape(token)
}

func programOptOutPath(brand gdpr.BrandID) string {
	return "/api/brands/" + url.PathEscape(string(brand)) + "/program/opt-out"
}

func unsubscribePath(brand gdpr.BrandID) string {
	return "/api/brands/" + url.PathEscape(string(brand)) + "/unsubscribe"
}

func invitationPath(brand gdpr.BrandID) string {
	return "/api/brands/" + url.PathEscape(string(brand)) + "/invitation"
}

func confirmPath(brand gdpr.BrandID) string {
	return "/api/brands/" + url.PathEscape(string(brand)) + "/signup/confirm"
}

// accepted is the answer to signup and resend, the same whatever the address (no account
// enumeration).
var accepted = map[string]string{
	"status":  "accepted",
	"message": "If this address can be used, a mail with the next step is on its way.",
}

func (a *api) signup(w http.ResponseWriter, r *http.Request) {
	var in gdpr.SignupInput
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.signups.Signup(r.Context(), brandParam(r), in); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, accepted)
}

func (a *api) resend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.signups.Resend(r.Context(), brandParam(r), in.Email); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, accepted)
}

// acceptTerms records a member's acceptance of the platform T&C, which the platform reports
// when a member the brand provisioned accepts them at first access (R-SIGNUP-1).
func (a *api) acceptTerms(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Version string `json:"version"`
	}
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	u, err := a.signups.AcceptTerms(r.Context(), brandParam(r), r.PathValue("id"), in.Version)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"memberId": u.ID, "terms": u.Terms, "canSignIn": u.CanSignIn()})
}

// confirmPage renders a page with a confirm button and changes nothing: mail scanners and
// link previews fetch GET links, and must not confirm an account on the member's behalf.
// Links carry the token in the fragment, which the server never sees: the page's script
// fills the form from it. Links mailed before that carry ?token=, which is checked here as
// it always was.
func (a *api) confirmPage(w http.ResponseWriter, r *http.Request) {
	brand, query := brandParam(r), r.URL.Query()
	page := confirmPageData{Action: confirmPath(brand)}
	var err error
	if query.Has("token") {
		page.Token = query.Get("token")
		err = a.signups.CheckConfirmation(r.Context(), brand, page.Token)
	} else {
		page.FromFragment = true
		_, err = a.brands.GetBrand(r.Context(), brand)
	}
	status := http.StatusOK
	if err != nil {
		page.Token = ""
		status, page.Problem = statusOf[gdpr.ErrorCode(err)], messageOf(err)
		if status == 0 || status == http.StatusInternalServerError {
			a.writeError(w, r, err)
			return
		}
	}
	writeHTML(w, status, confirmTemplate, page)
}

// confirm spends the token. Browsers posting the page's form get a page back; API clients
// posting JSON get JSON.
func (a *api) confirm(w http.ResponseWriter, r *http.Request) {
	token, fromForm, err := confirmToken(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	memberID, err := a.signups.Confirm(r.Context(), brandParam(r), token)
	if fromForm && wantsHTML(r) {
		page := confirmPageData{Done: err == nil}
		status := http.StatusOK
		if err != nil {
			status, page.Problem = statusOf[gdpr.ErrorCode(err)], messageOf(err)
			if status == 0 || status == http.StatusInternalServerError {
				a.writeError(w, r, err)
				return
			}
		}
		writeHTML(w, status, confirmTemplate, page)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "confirmed", "memberId": memberID})
}

// confirmToken reads the token from a form post or a JSON body.
func confirmToken(r *http.Request) (token string, fromForm bool, err error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		body, err := readBody(r)
		if err != nil {
			return "", true, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", true, &httpError{http.StatusBadRequest, "invalid", "malformed form body"}
		}
		token = form.Get("token")
	} else {
		var in struct {
			Token string `json:"token"`
		}
		if err := decodeJSON(r, &in); err != nil {
			return "", false, err
		}
		token = in.Token
	}
	if token == "" {
		return "", mt == "application/x-www-form-urlencoded", gdpr.Errorf(gdpr.CodeInvalid, "token is required")
	}
	return token, mt == "application/x-www-form-urlencoded", nil
}

func wantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return accept == "" || strings.Contains(accept, "text/html")
}

func messageOf(err error) string {
	if e, ok := err.(*gdpr.Error); ok {
		return e.Message
	}
	return "something went wrong"
}

type confirmPageData struct {
	Action, Token, Problem string
	Done                   bool
	// FromFragment renders the form for a link whose token is in the fragment.
	FromFragment bool
}

// confirmScript moves the token from the link's fragment into the form, then drops the
// fragment from the address bar and the history. It is the page's only script; the CSP
// allows it by its hash.
const confirmScript = `(function(){var t=new URLSearchParams(location.hash.slice(1)).get("token");` +
	`if(!t)return;document.getElementById("token").value=t;document.getElementById("code").hidden=true;` +
	`history.replaceState(null,"",location.pathname+location.search)})()`

// confirmCSP allows no script but confirmScript.
var confirmCSP = "default-src 'none'; script-src '" + scriptHash(confirmScript) +
	"'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

// scriptHash is the CSP source of an inline script: 'sha256-' and the base64 of its digest.
func scriptHash(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var confirmTemplate = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Confirm your email address</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#1a56db;color:#fff;cursor:pointer}</style>
</head><body>
{{if .Done}}<h1>Email address confirmed</h1><p>Your account is ready. You can close this page and sign in.</p>
{{else if .Problem}}<h1>This link cannot be used</h1><p>{{.Problem}}</p>
{{else if .FromFragment}}<h1>Confirm your email address</h1><p>Press the button to confirm your address and activate your account.</p>
<noscript><p>Scripts are off in this browser. Copy the code at the end of the link in your mail,
after <code>#token=</code>, into the field below, then press the button.</p></noscript>
<form method="post" action="{{.Action}}"><p id="code"><label for="token">Confirmation code</label><br>
<input id="token" name="token" required autocomplete="off" autocapitalize="off" spellcheck="false" size="45"></p>
<button type="submit">Confirm my email address</button></form>
<script>` + confirmScript + `</script>
{{else}}<h1>Confirm your email address</h1><p>Press the button to confirm your address and activate your account.</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="token" value="{{.Token}}"><button type="submit">Confirm my email address</button></form>
{{end}}</body></html>
`))

// writeHTML serves a page that must not leak its token: no referrer, no caching, no framing,
// no script but the page's own.
func writeHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", confirmCSP)
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}
