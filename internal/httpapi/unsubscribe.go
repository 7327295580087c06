package httpapi

import (
	"html/template"
	"mime"
	"net/http"
	"net/url"

	"popsell-gdpr/internal/gdpr"
)

// unsubscribePage lets a contact opt out from the Member who mailed it or from every Member
// of the brand (R-MAIL-5, R-CONSENT-7). Like the invitation page it changes nothing: mail
// scanners fetch links. The token comes in the fragment; the page's one script (the signup
// page's, allowed by its hash) moves it into the form.
func (a *api) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if _, err := a.brands.GetBrand(r.Context(), brandParam(r)); err != nil {
		writeHTML(w, http.StatusNotFound, unsubscribeTemplate, unsubscribePageData{Problem: messageOf(err)})
		return
	}
	writeHTML(w, http.StatusOK, unsubscribeTemplate, unsubscribePageData{Action: unsubscribePath(brandParam(r))})
}

// unsubscribe applies the contact's answer, from the page's form or as JSON
// {"token","answer"}; answer is "this_member" or "all_members".
func (a *api) unsubscribe(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token  string                 `json:"token"`
		Answer gdpr.UnsubscribeAnswer `json:"answer"`
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	fromForm := mt == "application/x-www-form-urlencoded"
	if fromForm {
		body, err := readBody(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			a.writeError(w, r, &httpError{http.StatusBadRequest, "invalid", "malformed form body"})
			return
		}
		in.Token, in.Answer = form.Get("token"), gdpr.UnsubscribeAnswer(form.Get("answer"))
	} else if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	err := a.contacts.Unsubscribe(r.Context(), brandParam(r), in.Token, in.Answer)
	if fromForm && wantsHTML(r) {
		page := unsubscribePageData{Answered: string(in.Answer)}
		status := http.StatusOK
		if err != nil {
			status, page.Problem, page.Answered = statusOf[gdpr.ErrorCode(err)], messageOf(err), ""
			if status == 0 || status == http.StatusInternalServerError {
				a.writeError(w, r, err)
				return
			}
		}
		writeHTML(w, status, unsubscribeTemplate, page)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "unsubscribed", "answer": string(in.Answer)})
}

type unsubscribePageData struct {
	Action, Problem, Answered string
}

var unsubscribeTemplate = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Unsubscribe</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;margin:.2rem 0;cursor:pointer;background:#e5e7eb}</style>
</head><body>
{{if .Answered}}<h1>You are unsubscribed</h1><p>{{if eq .Answered "all_members"}}No member of this brand will write to you again.{{else}}This member will not write to you again.{{end}}</p>
{{else if .Problem}}<h1>This link cannot be used</h1><p>{{.Problem}}</p>
{{else}}<h1>Unsubscribe</h1><p>Do you want to stop receiving mail from the member who wrote to you, or from every member of this brand?</p>
<noscript><p>Scripts are off in this browser. Copy the code at the end of the link in your mail,
after <code>#token=</code>, into the field below, then choose.</p></noscript>
<form method="post" action="{{.Action}}"><p id="code"><label for="token">Code</label><br>
<input id="token" name="token" required autocomplete="off" autocapitalize="off" spellcheck="false" size="45"></p>
<button type="submit" name="answer" value="this_member">Opt out from this member</button>
<button type="submit" name="answer" value="all_members">Opt out from all members of this brand</button></form>
<script>` + confirmScript + `</script>
{{end}}</body></html>
`))
