package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
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

// ContactInvitation is a contact's invitation page, the token in the fragment as for signups;
// the query names the member who invites, by id, for the page to name them.
func (l Links) ContactInvitation(brand gdpr.BrandID, memberID, token string) string {
	return strings.TrimRight(l.BaseURL, "/") + invitationPath(brand) + "?member=" + url.QueryEscape(memberID) + "#token=" + url.QueryEscape(token)
}

// ContactOneClickUnsubscribe is a mail's List-Unsubscribe URL (RFC 8058): the unsubscribe
// page, its one-click token in the query, which a provider's POST carries.
func (l Links) ContactOneClickUnsubscribe(brand gdpr.BrandID, token string) string {
	return strings.TrimRight(l.BaseURL, "/") + unsubscribePath(brand) + "?token=" + url.QueryEscape(token)
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
var accepted = acceptedAnswer{
	Status:  "accepted",
	Message: "If this address can be used, a mail with the next step is on its way.",
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

// resend mails a new confirmation link, to API clients posting JSON and to the confirmation
// page whose link is gone, which posts a form and gets a page back.
func (a *api) resend(w http.ResponseWriter, r *http.Request) {
	var in emailRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	fromForm := mt == "application/x-www-form-urlencoded"
	if fromForm {
		form, err := readForm(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		in.Email = form.Get("email")
	} else if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	err := a.signups.Resend(r.Context(), brandParam(r), in.Email)
	if fromForm && wantsHTML(r) {
		a.answerWithPage(w, r, templates.PageConfirm, templates.PageData{Resent: err == nil}, err, http.StatusAccepted)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, accepted)
}

// acceptTerms records a member's acceptance of the platform T&C, which the platform reports
// when a member the brand provisioned accepts them at first access (R-SIGNUP-1).
func (a *api) acceptTerms(w http.ResponseWriter, r *http.Request) {
	var in termsRequest
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	u, err := a.signups.AcceptTerms(r.Context(), brandParam(r), r.PathValue("id"), in.Version)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, termsAnswer{MemberID: u.ID, Terms: u.Terms, CanSignIn: u.CanSignIn()})
}

// confirmPage renders a page with a confirm button and changes nothing: mail scanners and
// link previews fetch GET links, and must not confirm an account on the member's behalf.
// Links carry the token in the fragment, which the server never sees: the page's script
// fills the form from it. Links mailed before that carry ?token=, which is checked here as
// it always was.
func (a *api) confirmPage(w http.ResponseWriter, r *http.Request) {
	brand, query := brandParam(r), r.URL.Query()
	page := templates.PageData{Action: confirmPath(brand)}
	var err error
	if query.Has("token") {
		page.Token = query.Get("token")
		err = a.signups.CheckConfirmation(r.Context(), brand, page.Token)
	} else {
		page.FromFragment = true
	}
	if err != nil {
		page.Token = ""
	}
	a.answerWithPage(w, r, templates.PageConfirm, page, err, http.StatusOK)
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
		a.answerWithPage(w, r, templates.PageConfirm, templates.PageData{Done: err == nil}, err, http.StatusOK)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, confirmedAnswer{Status: "confirmed", MemberID: memberID})
}

// confirmToken reads the token from a form post or a JSON body.
func confirmToken(r *http.Request) (token string, fromForm bool, err error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		form, err := readForm(r)
		if err != nil {
			return "", true, err
		}
		token = form.Get("token")
	} else {
		var in tokenRequest
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

// confirmCSP allows no script but the pages' one, images from https (the brand's logo), and
// forms posting to this origin only.
var confirmCSP = "default-src 'none'; script-src '" + scriptHash(templates.PageScript) +
	"'; style-src 'unsafe-inline'; img-src https:; form-action 'self'; frame-ancestors 'none'"

// scriptHash is the CSP source of an inline script: 'sha256-' and the base64 of its digest.
func scriptHash(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
