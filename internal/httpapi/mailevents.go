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
	if err := a.mailCallback.Authenticate(r.Context(), brandParam(r), user, pass); err != nil {
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
	for i, e := range decoded {
		events[i] = e.MailEvent()
	}
	st, err := a.mailCallback.Apply(r.Context(), brandParam(r), events)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// releaseSoftBounce clears a member's soft bounce at its request, relayed by the platform with
// the admin token (R-MAIL-2).
func (a *api) releaseSoftBounce(w http.ResponseWriter, r *http.Request) {
	u, err := a.mailEvents.ReleaseSoftBounce(r.Context(), brandParam(r), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, memberEmailStatusAnswer{ID: u.ID, EmailStatus: "ok"})
}
