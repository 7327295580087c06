package httpapi

import (
	"errors"
	"mime"
	"net/http"
	"time"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/stdwebhooks"
)

// signedWebhook authenticates a brand-signed webhook (SSO events, orders, contact sync) with
// Standard Webhooks: missing or malformed headers are refused before the body is read, the
// signature is checked before it is parsed; a webhook-id seen before is answered as a replay
// (200, no effect), and the body is decoded strictly into v. It reports false once it has
// answered.
func (a *api) signedWebhook(w http.ResponseWriter, r *http.Request, v any) (webhookID string, ok bool) {
	brand := brandParam(r)
	h := stdwebhooks.FromRequest(r)
	// The wall clock, not the service's: the test clock does not move webhooks.
	now := time.Now()
	if err := h.Check(now); err != nil {
		a.refuseSignature(w, r, gdpr.Errorf(gdpr.CodeUnauthenticated, "%s", signatureProblem(err)))
		return "", false
	}
	keys, err := a.webhooks.Keys(r.Context(), brand)
	if err != nil {
		a.refuseSignature(w, r, err)
		return "", false
	}
	body, err := readBody(r)
	if err != nil {
		a.writeError(w, r, err)
		return "", false
	}
	if err := stdwebhooks.Verify(keys, h, body, now); err != nil {
		a.refuseSignature(w, r, gdpr.Errorf(gdpr.CodeUnauthenticated, "%s", signatureProblem(err)))
		return "", false
	}
	seen, err := a.webhooks.Seen(r.Context(), brand, h.ID)
	if err != nil {
		a.writeError(w, r, err)
		return "", false
	}
	if seen {
		writeJSON(w, http.StatusOK, webhookReplayedAnswer{Outcome: string(outcomeReplayed)})
		return "", false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Header.Get("Content-Type") != "" && (err != nil || mt != "application/json") {
		a.writeError(w, r, &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json"})
		return "", false
	}
	if err := unmarshalStrict(body, v); err != nil {
		a.writeError(w, r, err)
		return "", false
	}
	return h.ID, true
}

// rememberWebhook records an applied webhook's id. Applied, not remembered, a replay would
// apply again, which every signed webhook tolerates; answering an error would make the brand
// resend it for nothing.
func (a *api) rememberWebhook(r *http.Request, id string) {
	if err := a.webhooks.Remember(r.Context(), brandParam(r), id); err != nil {
		a.log.WarnContext(r.Context(), "webhook id not remembered", "brand", brandParam(r), "err", err)
	}
}

func (a *api) refuseSignature(w http.ResponseWriter, r *http.Request, err error) {
	if gdpr.ErrorCode(err) == gdpr.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Signature realm="popsell-gdpr webhooks", scheme="standard-webhooks"`)
	}
	a.writeError(w, r, err)
}

// signatureProblem names the rule a signature broke, never the headers' content.
func signatureProblem(err error) string {
	switch {
	case errors.Is(err, stdwebhooks.ErrMissing):
		return "webhook-id, webhook-timestamp and webhook-signature are required"
	case errors.Is(err, stdwebhooks.ErrMalformed):
		return "webhook-id (printable ASCII, once), webhook-timestamp (Unix seconds, once) and webhook-signature (v1,<base64>) must be well formed"
	case errors.Is(err, stdwebhooks.ErrTimestamp):
		return "webhook-timestamp must be within 5 minutes of now"
	}
	return "no webhook-signature matches this brand's secret"
}
