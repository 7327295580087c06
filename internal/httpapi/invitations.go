package httpapi

import (
	"net/http"
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
		writeJSON(w, http.StatusOK, invitationAnswer{ContactID: c.ID, MemberOptIn: c.MemberOptIn.Value, Outcome: "unchanged"})
		return
	}
	writeJSON(w, http.StatusAccepted, invitationAnswer{ContactID: c.ID, MemberOptIn: c.MemberOptIn.Value, Outcome: "invited"})
}

// contactActivity records a contact's click or like, for the platform backend naming the
// Member and the contact (R-RET-3).
func (a *api) contactActivity(w http.ResponseWriter, r *http.Request) {
	var in contactActivityRequest
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	c, err := a.contacts.RecordContactActivity(r.Context(), brandParam(r), r.PathValue("id"), r.PathValue("contact"), in.Kind)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, contactActivityAnswer{ContactID: c.ID, LastActivityAt: c.LastActivityAt})
}

// releaseContactSoftBounce clears a contact's soft bounce at its Member's request (R-MAIL-2).
func (a *api) releaseContactSoftBounce(w http.ResponseWriter, r *http.Request) {
	c, err := a.contacts.ReleaseContactSoftBounce(r.Context(), brandParam(r), r.PathValue("id"), r.PathValue("contact"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, contactEmailStatusAnswer{ContactID: c.ID, EmailStatus: "ok"})
}
