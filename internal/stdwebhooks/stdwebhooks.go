// Package stdwebhooks verifies Standard Webhooks signatures (standardwebhooks.com), the
// scheme brands sign their SSO, order and contact webhooks with (DESIGN §4):
//
//	webhook-id:        an idempotency key, unique per event
//	webhook-timestamp: Unix seconds when the brand sent it
//	webhook-signature: space-separated "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>"
//
// Several signatures may be sent at once, so a brand rotating its secret can sign with the new
// and the old key; the verifier likewise accepts any of the brand's keys. Errors say which
// rule failed, never echo a header.
package stdwebhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far the timestamp may be from the wall clock, either way: a captured
// request cannot be replayed after it, and within it the id is remembered.
const Tolerance = 5 * time.Minute

// Limits on the headers, so a hostile request costs bounded work.
const (
	MaxIDLen         = 256
	maxSignatureLen  = 4096
	maxSignatureList = 8
)

// Errors, each one rule; callers answer 401 to all of them.
var (
	ErrMissing   = errors.New("stdwebhooks: webhook-id, webhook-timestamp and webhook-signature are required")
	ErrTimestamp = errors.New("stdwebhooks: webhook-timestamp is not within 5 minutes of now")
	ErrSignature = errors.New("stdwebhooks: no webhook-signature matches")
	ErrNoKey     = errors.New("stdwebhooks: no signing key configured")
)

// Headers are the three signed headers of a request.
type Headers struct {
	ID, Timestamp, Signature string
}

// FromRequest reads the headers.
func FromRequest(r *http.Request) Headers {
	return Headers{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"), Signature: r.Header.Get("webhook-signature")}
}

// Verify checks that one of the request's signatures was made with one of keys over id,
// timestamp and body, and that the timestamp is within Tolerance of now. Comparisons are
// constant-time.
func Verify(keys [][]byte, h Headers, body []byte, now time.Time) error {
	if h.ID == "" || h.Timestamp == "" || h.Signature == "" {
		return ErrMissing
	}
	if len(h.ID) > MaxIDLen || len(h.Signature) > maxSignatureLen || strings.ContainsAny(h.ID, ".\x00") {
		return ErrSignature
	}
	ts, err := strconv.ParseInt(h.Timestamp, 10, 64)
	if err != nil || len(h.Timestamp) > 12 {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	if len(keys) == 0 {
		return ErrNoKey
	}
	var sent [][]byte
	for i, part := range strings.Fields(h.Signature) {
		if i == maxSignatureList {
			break
		}
		version, sig, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue // other schemes (v1a: asymmetric) are not ours
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && len(raw) == sha256.Size {
			sent = append(sent, raw)
		}
	}
	ok := 0
	for _, key := range keys {
		want := Sign(key, h.ID, h.Timestamp, body)
		for _, s := range sent {
			ok |= subtle.ConstantTimeCompare(want, s) // every pair compared: no early exit to time
		}
	}
	if ok != 1 {
		return ErrSignature
	}
	return nil
}

// Sign is the v1 signature of a request: brands sign with it (and tests do).
func Sign(key []byte, id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignatureHeader is the webhook-signature header value for one key.
func SignatureHeader(key []byte, id, timestamp string, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(Sign(key, id, timestamp, body))
}
