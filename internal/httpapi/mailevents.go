package httpapi

import (
	"errors"
	"net/http"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/jsondepth"
	"popsell-gdpr/internal/mailjet"
)

// MaxMailEventBytes bounds one Mailjet callback: Mailjet groups every event of the last second
// into one POST and documents no maximum, and a body refused as too large would be retried for
// 24 hours. A thousand events take about 400 KB.
const MaxMailEventBytes = 16 << 20

// mailjetEvents takes Mailjet's Event API callbacks for a brand: basic auth first, before the
// body is read; then one event or a grouped array; 200 once the batch is durably applied, so
// Mailjet retries anything else (issue #11).
func (a *api) mailjetEvents(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	if err := a.mailEvents.Authenticate(r.Context(), brandParam(r), user, pass); err != nil {
		if gdpr.ErrorCode(err) == gdpr.CodeUnauthenticated {
			w.Header().Set("WWW-Authenticate", `Basic realm="popsell-gdpr mail events"`)
		}
		a.writeError(w, r, err)
		return
	}
	body, err := readBodyUpTo(r, MaxMailEventBytes)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	decoded, err := mailjet.DecodeEvents(body)
	if err != nil {
		msg := "body must be a Mailjet event object or an array of them"
		var deep *jsondepth.Error
		switch {
		case errors.Is(err, mailjet.ErrTooManyEvents):
			msg = "too many events in one body"
		case errors.As(err, &deep):
			msg = "body is " + deep.Error()
		}
		a.writeError(w, r, &httpError{http.StatusBadRequest, "invalid", msg})
		return
	}
	events := make([]gdpr.MailEvent, len(decoded))
	var contactEvents []gdpr.ContactMailEvent
	for i, e := range decoded {
		events[i] = gdpr.MailEvent{Kind: gdpr.MailEventKind(e.Type), At: e.Time, Email: e.Email, Permanent: e.Permanent()}
		// A mail to a contact names it in its payload; one naming another brand is not this
		// callback's to apply.
		if brand, contact, ok := mailjet.ContactOfPayload(e.Payload); ok && gdpr.BrandID(brand) == brandParam(r) {
			contactEvents = append(contactEvents, gdpr.ContactMailEvent{ContactID: contact, JobID: e.CustomID,
				Kind: events[i].Kind, At: e.Time, Permanent: events[i].Permanent})
		}
	}
	// The address first (the blacklist stops every later mail), then the contacts.
	st, err := a.mailEvents.Apply(r.Context(), brandParam(r), events)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var contacts int
	if len(contactEvents) > 0 {
		if contacts, err = a.contacts.ApplyMailEvents(r.Context(), brandParam(r), contactEvents); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		gdpr.MailEventStats
		Contacts int `json:"contacts"` // contacts whose consent, email status or activity changed
	}{st, contacts})
}

// releaseSoftBounce clears a member's soft bounce at its request, relayed by the platform with
// the admin token (R-MAIL-2).
func (a *api) releaseSoftBounce(w http.ResponseWriter, r *http.Request) {
	u, err := a.mailEvents.ReleaseSoftBounce(r.Context(), brandParam(r), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": u.ID, "emailStatus": "ok"})
}
