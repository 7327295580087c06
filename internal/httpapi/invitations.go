package httpapi

import (
	"html/template"
	"mime"
	"net/http"
	"net/url"

	"popsell-gdpr/internal/gdpr"
)

// invite sends a contact its Member's invitation, for the platform backend naming both (R-RET-4).
func (a *api) invite(w http.ResponseWriter, r *http.Request) {
	c, invited, err := a.contacts.InviteOnce(r.Context(), brandParam(r), r.PathValue("id"), r.PathValue("contact"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if !invited {
		// Already pending: the schedule is the system's (R-RET-5), so nothing changed and
		// nothing new is mailed. 200, not 409: a request retried after a lost answer gets
		// the same outcome as the first, and the contact is where the Member wanted it.
		writeJSON(w, http.StatusOK, map[string]any{"contactId": c.ID, "memberOptIn": c.MemberOptIn.Value, "outcome": "unchanged"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"contactId": c.ID, "memberOptIn": c.MemberOptIn.Value, "outcome": "invited"})
}

// contactActivity records a contact's click or like, for the platform backend naming the
// Member and the contact (R-RET-3).
func (a *api) contactActivity(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind gdpr.ContactActivityKind `json:"kind"`
	}
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	c, err := a.contacts.RecordContactActivity(r.Context(), brandParam(r), r.PathValue("id"), r.PathValue("contact"), in.Kind)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"contactId": c.ID, "lastActivityAt": c.LastActivityAt})
}

// releaseContactSoftBounce clears a contact's soft bounce at its Member's request (R-MAIL-2).
func (a *api) releaseContactSoftBounce(w http.ResponseWriter, r *http.Request) {
	c, err := a.contacts.ReleaseContactSoftBounce(r.Context(), brandParam(r), r.PathValue("id"), r.PathValue("contact"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"contactId": c.ID, "emailStatus": "ok"})
}

// invitationPage lets the contact answer. Like the signup page it changes nothing: mail
// scanners fetch links. The token comes in the fragment, which no server or log sees; the
// page's one script moves it into the form (the signup page's script, allowed by its hash).
func (a *api) invitationPage(w http.ResponseWriter, r *http.Request) {
	if _, err := a.brands.GetBrand(r.Context(), brandParam(r)); err != nil {
		writeHTML(w, http.StatusNotFound, invitationTemplate, invitationPageData{Problem: messageOf(err)})
		return
	}
	writeHTML(w, http.StatusOK, invitationTemplate, invitationPageData{Action: invitationPath(brandParam(r))})
}

// answerInvitation applies the contact's answer, from the page's form or as JSON
// {"token","answer"}.
func (a *api) answerInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token  string                `json:"token"`
		Answer gdpr.InvitationAnswer `json:"answer"`
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
		in.Token, in.Answer = form.Get("token"), gdpr.InvitationAnswer(form.Get("answer"))
	} else if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	err := a.contacts.AnswerInvitation(r.Context(), brandParam(r), in.Token, in.Answer)
	if fromForm && wantsHTML(r) {
		page := invitationPageData{Answered: string(in.Answer)}
		status := http.StatusOK
		if err != nil {
			status, page.Problem, page.Answered = statusOf[gdpr.ErrorCode(err)], messageOf(err), ""
			if status == 0 || status == http.StatusInternalServerError {
				a.writeError(w, r, err)
				return
			}
		}
		writeHTML(w, status, invitationTemplate, page)
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "answered", "answer": string(in.Answer)})
}

type invitationPageData struct {
	Action, Problem, Answered string
}

var invitationTemplate = template.Must(template.New("invitation").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Your invitation</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;margin:.2rem 0;cursor:pointer}
.yes{background:#1a56db;color:#fff}.no{background:#e5e7eb}</style>
</head><body>
{{if .Answered}}<h1>Thank you</h1><p>Your answer is recorded.{{if eq .Answered "global_opt_out"}} No member of this brand will contact you again.{{end}}</p>
{{else if .Problem}}<h1>This link cannot be used</h1><p>{{.Problem}}</p>
{{else}}<h1>Your invitation</h1><p>Do you accept to be kept informed by the member who invited you?</p>
<noscript><p>Scripts are off in this browser. Copy the code at the end of the link in your mail,
after <code>#token=</code>, into the field below, then choose.</p></noscript>
<form method="post" action="{{.Action}}"><p id="code"><label for="token">Invitation code</label><br>
<input id="token" name="token" required autocomplete="off" autocapitalize="off" spellcheck="false" size="45"></p>
<button class="yes" type="submit" name="answer" value="accept">Accept</button>
<button class="no" type="submit" name="answer" value="decline">Decline</button>
<button class="no" type="submit" name="answer" value="global_opt_out">Decline for every member of this brand</button></form>
<script>` + confirmScript + `</script>
{{end}}</body></html>
`))
