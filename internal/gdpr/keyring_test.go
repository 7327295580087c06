package gdpr_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Fake keys of three versions (R-OPS-4).
var (
	ringKey1 = []byte("fake-ring-key-1-0123456789abcdef")
	ringKey2 = []byte("fake-ring-key-2-0123456789abcdef")
	ringKey3 = []byte("fake-ring-key-3-0123456789abcdef")
)

func keyring(t testing.TB, retired ...string) *gdpr.Hasher {
	t.Helper()
	h, err := gdpr.NewKeyring([]gdpr.HashKey{{Version: "h1", Key: ringKey1}, {Version: "h2", Key: ringKey2}, {Version: "h3", Key: ringKey3}}, retired)
	require.NoError(t, err)
	return h
}

func hmacHex(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// TestKeyring_R_ERASE_4: new digests under the newest key, every active version looked up,
// wrapped forms computed from the value under the innermost key then wrapped outward.
func TestKeyring_R_ERASE_4(t *testing.T) {
	const v = "ada.fake@example.test"
	h1 := "h1:" + hmacHex(ringKey1, v)
	h2 := "h2:" + hmacHex(ringKey2, v)
	h3 := "h3:" + hmacHex(ringKey3, v)
	h2h1 := "h2.h1:" + hmacHex(ringKey2, h1)
	h3h2h1 := "h3.h2.h1:" + hmacHex(ringKey3, h2h1)
	h3h2 := "h3.h2:" + hmacHex(ringKey3, h2)

	ring := keyring(t)
	require.Equal(t, "h3", ring.Newest())
	require.Equal(t, h3, ring.Digest(v), "new digests under the newest key")
	require.Equal(t, []string{h3, h2, h1}, ring.Digests(v), "claims under every active version, newest first")
	require.ElementsMatch(t, []string{h3, h2, h1, h2h1, h3h2h1, h3h2}, ring.Candidates(v))

	retired := keyring(t, "h1")
	require.Equal(t, []string{h3, h2}, retired.Digests(v), "a retired version is neither claimed nor looked up plain")
	require.ElementsMatch(t, []string{h3, h2, h2h1, h3h2h1, h3h2}, retired.Candidates(v),
		"but still inside a wrapped form")
	require.NotContains(t, keyring(t, "h1", "h2").Candidates(v), h2h1, "a retired version wraps nothing any more")
	require.Equal(t, []string{h3, h2, h1}, retired.AllDigests(v), "an owner lets go of it under every version")

	t.Run("rewrap_goes_through_every_newer_version", func(t *testing.T) {
		for in, want := range map[string]string{h1: h3h2h1, h2h1: h3h2h1, h2: h3h2} {
			got, ok := ring.Rewrap(in)
			require.True(t, ok)
			require.Equal(t, want, got)
		}
		for _, in := range []string{h3, h3h2h1, "h9:" + hmacHex(ringKey1, v), "plain text", ""} {
			got, ok := ring.Rewrap(in)
			require.False(t, ok, "%q", in)
			require.Equal(t, in, got)
		}
	})
	t.Run("matches_a_stored_secret_under_any_form", func(t *testing.T) {
		for _, stored := range []string{h1, h2, h3, h2h1, h3h2h1, h3h2} {
			require.True(t, ring.Matches(v, stored), stored)
			require.False(t, ring.Matches(v+"x", stored), stored)
		}
		require.False(t, retired.Matches(v, h1), "nothing plain under a retired version matches")
		require.True(t, retired.Matches(v, h3h2h1))
	})
	t.Run("digest_chains", func(t *testing.T) {
		chain, ok := ring.DigestChain(h3h2h1)
		require.True(t, ok)
		require.Equal(t, []string{"h3", "h2", "h1"}, chain)
		for _, bad := range []string{"h3.h1:" + hmacHex(ringKey1, v), "h1.h2:" + hmacHex(ringKey1, v), "h4:" + hmacHex(ringKey1, v),
			"h1:" + strings.ToUpper(hmacHex(ringKey1, v)), "h1:abc", "h1", ":" + hmacHex(ringKey1, v)} {
			_, ok := ring.DigestChain(bad)
			require.False(t, ok, "%q", bad)
			require.False(t, ring.IsDigest(bad), "%q", bad)
		}
	})
	t.Run("the_oldest_key_alone_confirms_no_wrapped_digest", func(t *testing.T) {
		alone, err := gdpr.NewHasher("h1", ringKey1)
		require.NoError(t, err)
		for _, stored := range []string{h2h1, h3h2h1} {
			_, sum, _ := strings.Cut(stored, ":")
			for _, c := range alone.Candidates(v) {
				_, got, _ := strings.Cut(c, ":")
				require.NotEqual(t, sum, got)
			}
		}
	})
}

func TestNewKeyringRefuses(t *testing.T) {
	k := gdpr.HashKey{Version: "h1", Key: ringKey1}
	for name, c := range map[string]struct {
		keys    []gdpr.HashKey
		retired []string
	}{
		"none":            {nil, nil},
		"short_key":       {[]gdpr.HashKey{{Version: "h1", Key: []byte("short")}}, nil},
		"version_twice":   {[]gdpr.HashKey{k, k}, nil},
		"version_dot":     {[]gdpr.HashKey{{Version: "h.1", Key: ringKey1}}, nil},
		"version_colon":   {[]gdpr.HashKey{{Version: "h:1", Key: ringKey1}}, nil},
		"version_digit":   {[]gdpr.HashKey{{Version: "1h", Key: ringKey1}}, nil},
		"retired_newest":  {[]gdpr.HashKey{k}, []string{"h1"}},
		"retired_unknown": {[]gdpr.HashKey{k}, []string{"h0"}},
	} {
		_, err := gdpr.NewKeyring(c.keys, c.retired)
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), string(ringKey1), name)
	}
}

// FuzzDigestChain: a stored digest read back is parsed by its chain of versions; whatever the
// bytes, a chain accepted names known versions, consecutive from the innermost, and Rewrap
// of it lands under the newest key, again a digest of the keyring's form.
func FuzzDigestChain(f *testing.F) {
	ring := keyring(f)
	for _, s := range []string{ring.Digest("a"), "h2.h1:" + strings.Repeat("0", 64), "h3.h1:" + strings.Repeat("a", 64), "h1:", "", ":::", "h1.h1:" + strings.Repeat("f", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		chain, ok := ring.DigestChain(s)
		if !ok {
			require.False(t, ring.IsDigest(s))
			return
		}
		require.NotEmpty(t, chain)
		out, moved := ring.Rewrap(s)
		require.Equal(t, chain[0] != "h3", moved)
		got, ok := ring.DigestChain(out)
		require.True(t, ok, "%q", out)
		require.Equal(t, "h3", got[0])
		require.Equal(t, chain[len(chain)-1], got[len(got)-1], "the innermost version stays")
	})
}
