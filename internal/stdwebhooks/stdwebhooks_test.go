package stdwebhooks_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/stdwebhooks"
)

var (
	now     = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	current = []byte("current-brand-key-0123456789ab")
	old     = []byte("previous-brand-key-0123456789")
	other   = []byte("another-brands-key-0123456789")
	body    = []byte(`{"type":"user.upserted","timestamp":"2031-03-04T05:06:00Z","data":{"externalId":"e1"}}`)
)

func signed(key []byte, at time.Time) stdwebhooks.Headers {
	ts := strconv.FormatInt(at.Unix(), 10)
	return stdwebhooks.Headers{ID: "msg_2Kx", Timestamp: ts, Signature: stdwebhooks.SignatureHeader(key, "msg_2Kx", ts, body)}
}

// TestVerify is R-SSO-3: the brand's key signs, nobody else's; the timestamp bounds replays.
func TestVerify(t *testing.T) {
	keys := [][]byte{current, old}
	require.NoError(t, stdwebhooks.Verify(keys, signed(current, now), body, now))

	t.Run("R-SSO-3_rotated_secret_old_key_still_accepted", func(t *testing.T) {
		require.NoError(t, stdwebhooks.Verify(keys, signed(old, now), body, now))
	})
	t.Run("R-SSO-3_several_signatures_one_matching", func(t *testing.T) {
		h := signed(current, now)
		h.Signature = "v1,AAAA " + stdwebhooks.SignatureHeader(other, h.ID, h.Timestamp, body) + " " + h.Signature
		require.NoError(t, stdwebhooks.Verify(keys, h, body, now))
	})
	t.Run("R-SSO-3_another_brands_key_refused", func(t *testing.T) {
		require.ErrorIs(t, stdwebhooks.Verify(keys, signed(other, now), body, now), stdwebhooks.ErrSignature)
	})
	t.Run("R-SSO-3_body_changed", func(t *testing.T) {
		require.ErrorIs(t, stdwebhooks.Verify(keys, signed(current, now), append([]byte(" "), body...), now), stdwebhooks.ErrSignature)
	})
	t.Run("R-SSO-3_id_changed", func(t *testing.T) {
		h := signed(current, now)
		h.ID = "msg_other"
		require.ErrorIs(t, stdwebhooks.Verify(keys, h, body, now), stdwebhooks.ErrSignature)
	})
	t.Run("R-SSO-3_old_and_future_timestamps", func(t *testing.T) {
		for _, at := range []time.Time{now.Add(-6 * time.Minute), now.Add(6 * time.Minute)} {
			require.ErrorIs(t, stdwebhooks.Verify(keys, signed(current, at), body, now), stdwebhooks.ErrTimestamp)
		}
		require.NoError(t, stdwebhooks.Verify(keys, signed(current, now.Add(-4*time.Minute)), body, now))
	})
	t.Run("missing_or_malformed_headers", func(t *testing.T) {
		for name, h := range map[string]stdwebhooks.Headers{
			"no_id":         {Timestamp: "1", Signature: "v1,x"},
			"no_signature":  {ID: "a", Timestamp: "1"},
			"bad_timestamp": {ID: "a", Timestamp: "yesterday", Signature: "v1,x"},
			"other_version": {ID: "msg_2Kx", Timestamp: signed(current, now).Timestamp, Signature: strings.Replace(signed(current, now).Signature, "v1,", "v2,", 1)},
			"not_base64":    {ID: "msg_2Kx", Timestamp: signed(current, now).Timestamp, Signature: "v1,%%%"},
		} {
			require.Error(t, stdwebhooks.Verify(keys, h, body, now), name)
		}
	})
	t.Run("no_key", func(t *testing.T) {
		require.ErrorIs(t, stdwebhooks.Verify(nil, signed(current, now), body, now), stdwebhooks.ErrNoKey)
	})
}

// TestCheckRefusesBadHeadersWithoutTheBody: the headers alone are checked first, so a route
// refuses an unsigned or malformed request before reading its body (issue 24, item 7).
func TestCheckRefusesBadHeadersWithoutTheBody(t *testing.T) {
	good := signed(current, now)
	require.NoError(t, good.Check(now))
	for name, h := range map[string]stdwebhooks.Headers{
		"no_headers":         {},
		"no_signature":       {ID: good.ID, Timestamp: good.Timestamp},
		"no_v1_entry":        {ID: good.ID, Timestamp: good.Timestamp, Signature: "v1a,AAAA"},
		"v1_not_base64":      {ID: good.ID, Timestamp: good.Timestamp, Signature: "v1,%%%"},
		"v1_wrong_size":      {ID: good.ID, Timestamp: good.Timestamp, Signature: "v1,AAAA"},
		"signed_timestamp":   {ID: good.ID, Timestamp: "+" + good.Timestamp, Signature: good.Signature},
		"old_timestamp":      signed(current, now.Add(-6*time.Minute)),
		"id_with_a_space":    {ID: "msg 2Kx", Timestamp: good.Timestamp, Signature: good.Signature},
		"overlong_signature": {ID: good.ID, Timestamp: good.Timestamp, Signature: strings.Repeat("v1,x ", 1000)},
	} {
		require.Error(t, h.Check(now), name)
	}
}

// TestWebhookIDIsPrintableASCII: a webhook-id is printable ASCII without spaces, as the ids
// Standard Webhooks senders make (msg_…); anything else is refused whatever it signs (issue
// 24, item 8).
func TestWebhookIDIsPrintableASCII(t *testing.T) {
	ts := signed(current, now).Timestamp
	for _, id := range []string{"msg 2Kx", "msg_\u00e9t\u00e9", "msg_\u2028", "msg_\t1", "msg_\x7f", "msg.2Kx", strings.Repeat("a", stdwebhooks.MaxIDLen+1)} {
		h := stdwebhooks.Headers{ID: id, Timestamp: ts, Signature: stdwebhooks.SignatureHeader(current, id, ts, body)}
		require.ErrorIs(t, stdwebhooks.Verify([][]byte{current}, h, body, now), stdwebhooks.ErrMalformed, "%q", id)
	}
	for _, id := range []string{"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "!~:_-/+=", strings.Repeat("a", stdwebhooks.MaxIDLen)} {
		h := stdwebhooks.Headers{ID: id, Timestamp: ts, Signature: stdwebhooks.SignatureHeader(current, id, ts, body)}
		require.NoError(t, stdwebhooks.Verify([][]byte{current}, h, body, now), "%q", id)
	}
}

// TestSignatureBase64IsStrict: a signature's base64 is decoded strictly, so only the one
// canonical encoding of the HMAC verifies; one with non-zero padding bits, which a lenient
// decoder reads as the same bytes, is refused (issue 24, item 8).
func TestSignatureBase64IsStrict(t *testing.T) {
	h := signed(current, now)
	sig := strings.TrimPrefix(h.Signature, "v1,") // 32 bytes: 43 characters and one "="
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, sig[42])
	require.Zero(t, last&3, "the canonical encoding's two padding bits are zero")
	lenient := sig[:42] + string(alphabet[last|1]) + "="
	raw, err := base64.StdEncoding.DecodeString(lenient)
	require.NoError(t, err)
	canonical, _ := base64.StdEncoding.DecodeString(sig)
	require.Equal(t, canonical, raw, "a lenient decoder reads both as the same HMAC")

	h.Signature = "v1," + lenient
	require.Error(t, stdwebhooks.Verify([][]byte{current}, h, body, now))
}

// TestEverySignatureHeaderIsRead: a request may carry webhook-signature more than once (one
// header per key while a sender rotates); every one is read, and any v1 entry may match. A
// repeated webhook-id or webhook-timestamp is ambiguous and refused (issue 24, item 8).
func TestEverySignatureHeaderIsRead(t *testing.T) {
	good := signed(current, now)
	req := func(h http.Header) *http.Request {
		r, err := http.NewRequest("POST", "/", nil)
		require.NoError(t, err)
		r.Header = h
		return r
	}
	h := http.Header{}
	h.Set("webhook-id", good.ID)
	h.Set("webhook-timestamp", good.Timestamp)
	h.Add("webhook-signature", stdwebhooks.SignatureHeader(other, good.ID, good.Timestamp, body))
	h.Add("webhook-signature", good.Signature)
	require.NoError(t, stdwebhooks.Verify([][]byte{current}, stdwebhooks.FromRequest(req(h)), body, now))

	for _, name := range []string{"webhook-id", "webhook-timestamp"} {
		twice := h.Clone()
		twice.Add(name, twice.Get(name))
		require.ErrorIs(t, stdwebhooks.Verify([][]byte{current}, stdwebhooks.FromRequest(req(twice)), body, now), stdwebhooks.ErrMalformed, name)
	}
}

// FuzzVerify: whatever the headers and body, Verify does not panic, and it accepts only a
// request signed with the key (the fuzzer cannot forge an HMAC), with a printable ASCII id,
// whose headers Check accepts too.
func FuzzVerify(f *testing.F) {
	h := signed(current, now)
	f.Add(h.ID, h.Timestamp, h.Signature, body)
	f.Add("a", "0", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)), []byte("{}"))
	f.Add("", "", "", []byte(nil))
	f.Add(h.ID, h.Timestamp, h.Signature[:len(h.Signature)-2]+"B=", body) // non-zero padding bits
	f.Add("msg 2Kx", h.Timestamp, h.Signature, body)
	f.Add("msg_\u00e9", h.Timestamp, "v1a,AAAA "+h.Signature+" v1,%%%", body)
	f.Add(h.ID, "+"+h.Timestamp, h.Signature+" "+h.Signature, body)
	f.Fuzz(func(t *testing.T, id, ts, sig string, b []byte) {
		h := stdwebhooks.Headers{ID: id, Timestamp: ts, Signature: sig}
		err := stdwebhooks.Verify([][]byte{current}, h, b, now)
		if err == nil {
			want := stdwebhooks.SignatureHeader(current, id, ts, b)
			if !strings.Contains(sig, strings.TrimPrefix(want, "v1,")) {
				t.Fatalf("accepted a signature that is not the key's")
			}
			if strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
				t.Fatalf("accepted an id that is not printable ASCII")
			}
		}
		if err == nil && h.Check(now) != nil {
			t.Fatalf("Verify accepted headers Check refuses")
		}
	})
}
