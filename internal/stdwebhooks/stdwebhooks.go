// Package stdwebhooks verifies Standard Webhooks signatures (standardwebhooks.com), the
// scheme brands sign their SSO, order and contact webhooks with:
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
	maxTimestampLen  = 12
	maxSignatureLen  = 4096
	maxSignatureList = 8
)

// Errors, each one rule; callers answer 401 to all of them.
var (
	ErrMissing   = errors.New("stdwebhooks: webhook-id, webhook-timestamp and webhook-signature are required")
	ErrMalformed = errors.New("stdwebhooks: webhook-id, webhook-timestamp or webhook-signature is malformed")
	ErrTimestamp = errors.New("stdwebhooks: webhook-timestamp is not within 5 minutes of now")
	ErrSignature = errors.New("stdwebhooks: no webhook-signature matches")
	ErrNoKey     = errors.New("stdwebhooks: no signing key configured")
)

// Headers are the signed headers of a request.
type Headers struct {
	// Signature holds the entries of every webhook-signature header, space-separated.
	ID, Timestamp, Signature string
	// repeated: webhook-id or webhook-timestamp came more than once, and which one was
	// signed is anybody's guess.
	repeated bool
}

// FromRequest reads the headers: every webhook-signature header (a sender may send one per
// key), and webhook-id and webhook-timestamp, which must each come once.
func FromRequest(r *http.Request) Headers {
	ids, stamps := r.Header.Values("webhook-id"), r.Header.Values("webhook-timestamp")
	h := Headers{Signature: strings.Join(r.Header.Values("webhook-signature"), " "), repeated: len(ids) > 1 || len(stamps) > 1}
	if len(ids) > 0 {
		h.ID = ids[0]
	}
	if len(stamps) > 0 {
		h.Timestamp = stamps[0]
	}
	return h
}

// Check checks the headers alone: all present and well formed, the timestamp within
// Tolerance of now, and at least one v1 signature of the right size. A route calls it before
// it reads the body, so an unsigned request costs nothing more.
func (h Headers) Check(now time.Time) error {
	_, err := h.parse(now)
	return err
}

// parse checks the headers and returns the v1 signatures they carry, decoded.
func (h Headers) parse(now time.Time) ([][]byte, error) {
	if h.ID == "" || h.Timestamp == "" || h.Signature == "" {
		return nil, ErrMissing
	}
	if h.repeated || !validID(h.ID) || len(h.Signature) > maxSignatureLen || !digits(h.Timestamp, maxTimestampLen) {
		return nil, ErrMalformed
	}
	ts, err := strconv.ParseInt(h.Timestamp, 10, 64)
	if err != nil {
		return nil, ErrMalformed
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return nil, ErrTimestamp
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
		// Strict: one encoding per HMAC, so padding bits cannot vary a signature that verifies.
		raw, err := base64.StdEncoding.Strict().DecodeString(sig)
		if err == nil && len(raw) == sha256.Size {
			sent = append(sent, raw)
		}
	}
	if len(sent) == 0 {
		return nil, ErrMalformed
	}
	return sent, nil
}

// validID: the ids Standard Webhooks senders make are printable ASCII without spaces
// (msg_…), at most MaxIDLen bytes. A dot is refused too: the id is followed by a dot in what
// is signed, so an id holding one could be split elsewhere.
func validID(id string) bool {
	if len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e || c == '.' {
			return false
		}
	}
	return true
}

// digits: 1 to limit ASCII digits, no sign.
func digits(s string, limit int) bool {
	if len(s) == 0 || len(s) > limit {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Verify checks the headers (see Check), then that one of the request's signatures was made
// with one of keys over id, timestamp and body. Comparisons are constant-time.
func Verify(keys [][]byte, h Headers, body []byte, now time.Time) error {
	sent, err := h.parse(now)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return ErrNoKey
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
