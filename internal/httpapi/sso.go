package httpapi

import (
	"net/http"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// ssoEvent is the brand's SSO webhook body, as the README's SSO section documents it.
type ssoEvent struct {
	Type      string               `json:"type"`
	Timestamp time.Time            `json:"timestamp"` // the brand's event time
	Data      gdpr.ProvisionedUser `json:"data"`
}

// ssoAnswer says what the event did; a replayed id or an out-of-order event says so.
type ssoAnswer struct {
	Outcome  gdpr.ProvisionOutcome `json:"outcome"`
	MemberID string                `json:"memberId,omitempty"`
}

const outcomeReplayed gdpr.ProvisionOutcome = "replayed"

// ssoEvents takes the brand's provisioning and deletion webhooks (R-SSO-1…3), signed with
// Standard Webhooks: the signature is checked before the body is parsed, a webhook-id seen
// before is a replay whatever its body (200, no effect), and the event applies through the
// same provisioning service as SCIM.
func (a *api) ssoEvents(w http.ResponseWriter, r *http.Request) {
	brand := brandParam(r)
	var ev ssoEvent
	webhookID, ok := a.signedWebhook(w, r, &ev)
	if !ok {
		return
	}
	if ev.Timestamp.IsZero() {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeInvalid, "timestamp is required: the brand's event time, RFC 3339"))
		return
	}
	opts := gdpr.ProvisionOptions{At: ev.Timestamp}
	var (
		res gdpr.ProvisionResult
		err error
	)
	switch ev.Type {
	case "user.upserted":
		res, err = a.provisioning.Upsert(r.Context(), brand, ev.Data, opts)
	case "user.deleted":
		res, err = a.provisioning.Deprovision(r.Context(), brand, ev.Data.ExternalID, gdpr.ReasonSSODeleted, opts)
	default:
		err = gdpr.Errorf(gdpr.CodeInvalid, "type must be user.upserted or user.deleted")
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.rememberWebhook(r, webhookID)
	writeJSON(w, http.StatusOK, ssoAnswer{Outcome: res.Outcome, MemberID: res.User.ID})
}
