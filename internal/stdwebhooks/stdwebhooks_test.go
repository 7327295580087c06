package stdwebhooks_test

import (
	"encoding/base64"
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

// FuzzVerify: whatever the headers and body, Verify does not panic, and it accepts only a
// request signed with the key (the fuzzer cannot forge an HMAC).
func FuzzVerify(f *testing.F) {
	h := signed(current, now)
	f.Add(h.ID, h.Timestamp, h.Signature, body)
	f.Add("a", "0", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)), []byte("{}"))
	f.Add("", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, id, ts, sig string, b []byte) {
		err := stdwebhooks.Verify([][]byte{current}, stdwebhooks.Headers{ID: id, Timestamp: ts, Signature: sig}, b, now)
		if err == nil {
			want := stdwebhooks.SignatureHeader(current, id, ts, b)
			if !strings.Contains(sig, strings.TrimPrefix(want, "v1,")) {
				t.Fatalf("accepted a signature that is not the key's")
			}
		}
	})
}
