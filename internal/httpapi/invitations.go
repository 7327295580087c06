package httpapi

import (
	"html/template"
	"net/http"

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

// invitationTemplate is the contact's invitation page; answerpage.go serves it.
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
