package gdpr_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Generated fake keys and addresses only (R-OPS-4).
var (
	digestKeyA = []byte("fake-test-key-A-0123456789abcdef!") // 33 bytes
	digestKeyB = []byte("fake-test-key-B-0123456789abcdef!")
)

func newDigestHasher(t *testing.T, key []byte) *gdpr.Hasher {
	t.Helper()
	h, err := gdpr.NewHasher("h1", key)
	require.NoError(t, err)
	return h
}

var digestShape = regexp.MustCompile(`^h1:[0-9a-f]{64}$`)

func TestHasherDigest(t *testing.T) {
	ha, hb := newDigestHasher(t, digestKeyA), newDigestHasher(t, digestKeyB)
	const email = "zoe.fake@example.test"

	t.Run("R-ERASE-4_is_the_HMAC-SHA-256_of_the_value_under_the_key", func(t *testing.T) {
		m := hmac.New(sha256.New, digestKeyA)
		m.Write([]byte(email))
		require.Equal(t, "h1:"+hex.EncodeToString(m.Sum(nil)), ha.Digest(email))
	})
	t.Run("R-ERASE-4_known_answer_RFC_4231_test_case_6", func(t *testing.T) {
		// RFC 4231 §4.7: a 131-byte key of 0xaa (the shorter keys of the other cases are
		// below MinHashKeyLen).
		key := []byte(strings.Repeat("\xaa", 131))
		h := newDigestHasher(t, key)
		require.Equal(t,
			"h1:60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
			h.Digest("Test Using Larger Than Block-Size Key - Hash Key First"))
	})
	t.Run("R-ERASE-4_shape_is_version_colon_64_lower_hex", func(t *testing.T) {
		for _, v := range []string{email, "", "customer-42", "ünïcödé"} {
			require.Regexp(t, digestShape, ha.Digest(v))
			require.Regexp(t, digestShape, ha.EmailDigest(v))
		}
	})
	t.Run("R-ERASE-4_keyed:_different_keys_give_different_digests", func(t *testing.T) {
		require.NotEqual(t, ha.Digest(email), hb.Digest(email))
		require.NotEqual(t, ha.EmailDigest(email), hb.EmailDigest(email))
	})
	t.Run("R-ERASE-4_deterministic_for_one_key", func(t *testing.T) {
		require.Equal(t, ha.Digest(email), newDigestHasher(t, digestKeyA).Digest(email))
	})
	t.Run("R-ERASE-4_different_values_give_different_digests", func(t *testing.T) {
		require.NotEqual(t, ha.Digest("a@example.test"), ha.Digest("b@example.test"))
	})
	t.Run("R-ERASE-4_not_a_plain_SHA-256_of_the_email", func(t *testing.T) {
		plain := sha256.Sum256([]byte(email))
		d := ha.EmailDigest(email)
		require.NotEqual(t, "h1:"+hex.EncodeToString(plain[:]), d)
		require.NotContains(t, d, hex.EncodeToString(plain[:]))
	})
	t.Run("R-ERASE-4_digest_never_contains_the_value", func(t *testing.T) {
		require.NotContains(t, ha.EmailDigest(email), "zoe")
	})
	t.Run("R-ERASE-4_the_hasher_copies_its_key", func(t *testing.T) {
		key := append([]byte(nil), digestKeyA...)
		h := newDigestHasher(t, key)
		before := h.Digest(email)
		key[0] ^= 0xff
		require.Equal(t, before, h.Digest(email))
	})
	t.Run("R-ERASE-4_version_prefix_follows_the_key_version", func(t *testing.T) {
		h2, err := gdpr.NewHasher("h2", digestKeyA)
		require.NoError(t, err)
		d1, d2 := ha.Digest(email), h2.Digest(email)
		require.True(t, strings.HasPrefix(d2, "h2:"))
		require.Equal(t, strings.TrimPrefix(d1, "h1:"), strings.TrimPrefix(d2, "h2:"))
	})
}

func TestHasherEmailDigestNormalises(t *testing.T) {
	h := newDigestHasher(t, digestKeyA)
	want := h.EmailDigest("zoe.fake@example.test")
	tests := []struct{ name, in string }{
		{"R-MAIL-4_upper_case", "ZOE.FAKE@EXAMPLE.TEST"},
		{"R-MAIL-4_mixed_case", "Zoe.Fake@Example.Test"},
		{"R-MAIL-4_surrounding_spaces", "  zoe.fake@example.test  "},
		{"R-MAIL-4_tabs_and_newline", "\tZoe.Fake@example.test\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, want, h.EmailDigest(tt.in))
			require.Equal(t, "zoe.fake@example.test", gdpr.NormalizeEmail(tt.in))
		})
	}
	t.Run("R-ERASE-4_Digest_itself_does_not_normalise", func(t *testing.T) {
		require.NotEqual(t, h.Digest("Zoe.Fake@example.test"), h.Digest("zoe.fake@example.test"))
		require.Equal(t, h.Digest("zoe.fake@example.test"), want)
	})
}

// TestHasherEmailDigest_R_MAIL_4_oneMailboxOneDigest (issue 24): the spellings of one mailbox
// (NFC, NFD, the domain's A-label, any case, an ideographic full stop) are one canonical
// address, and so one digest: a global opt-out of one spelling stops them all.
func TestHasherEmailDigest_R_MAIL_4_oneMailboxOneDigest(t *testing.T) {
	h := newDigestHasher(t, digestKeyA)
	const canonical = "x@xn--exmple-cua.test"
	for name, in := range map[string]string{
		"NFC":                 "x@ex\u00e4mple.test",
		"NFD":                 "x@exa\u0308mple.test",
		"A-label":             "x@xn--exmple-cua.test",
		"A-label_upper_case":  "X@XN--EXMPLE-CUA.TEST",
		"U-label_upper_case":  " X@EX\u00c4MPLE.TEST ",
		"ideographic_stop":    "x@ex\u00e4mple\u3002test",
		"NFD_and_upper_case":  "X@EXA\u0308MPLE.TEST",
		"fullwidth_is_mapped": "x@\uff45\uff58\u00e4mple.test",
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, canonical, gdpr.NormalizeEmail(in))
			require.True(t, gdpr.ValidEmail(gdpr.NormalizeEmail(in)))
			require.Equal(t, h.Digest(canonical), h.EmailDigest(in))
		})
	}
	t.Run("local_part_in_NFC", func(t *testing.T) {
		require.Equal(t, "z\u00f6e@example.test", gdpr.NormalizeEmail("zo\u0308e@example.test"))
		require.Equal(t, h.EmailDigest("z\u00f6e@example.test"), h.EmailDigest("ZO\u0308E@example.test"))
	})
	t.Run("R-ERASE-4_Digest_itself_still_does_not_normalise", func(t *testing.T) {
		require.NotEqual(t, h.Digest("x@ex\u00e4mple.test"), h.Digest(canonical))
	})
}

// TestValidEmail_invalidIDNDomains: a domain IDNA (UTS #46, lookup) refuses is no address,
// in the spelling NormalizeEmail leaves it in.
func TestValidEmail_invalidIDNDomains(t *testing.T) {
	for name, in := range map[string]string{
		"bad_punycode":       "x@xn--zz.test",
		"punycode_of_ascii":  "x@xn--a.test",
		"empty_A-label":      "x@xn--.test",
		"underscore_STD3":    "x@exa_mple.test",
		"leading_hyphen":     "x@-example.test",
		"trailing_hyphen":    "x@example-.test",
		"hyphens_at_3_and_4": "x@ab--cd.test",
		"zero_width_joiner":  "x@ex\u200dample.test",
		"bidi_rule":          "x@\u0661\u0662a.test",
	} {
		t.Run(name, func(t *testing.T) {
			require.False(t, gdpr.ValidEmail(gdpr.NormalizeEmail(in)), "%q -> %q", in, gdpr.NormalizeEmail(in))
		})
	}
}

func TestHasherIsDigest(t *testing.T) {
	h := newDigestHasher(t, digestKeyA)
	d := h.EmailDigest("zoe.fake@example.test")
	tests := []struct {
		name string
		v    string
		want bool
	}{
		{"R-ERASE-4_own_digest", d, true},
		{"R-ERASE-4_plain_email", "zoe.fake@example.test", false},
		{"R-ERASE-4_empty", "", false},
		{"R-ERASE-4_missing_prefix", strings.TrimPrefix(d, "h1:"), false},
		{"R-ERASE-4_other_version", "h2:" + strings.TrimPrefix(d, "h1:"), false},
		{"R-ERASE-4_too_short", d[:len(d)-1], false},
		{"R-ERASE-4_too_long", d + "0", false},
		{"R-ERASE-4_not_hex", "h1:" + strings.Repeat("g", 64), false},
		{"R-ERASE-4_prefix_only", "h1:", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, h.IsDigest(tt.v))
		})
	}
}

func TestNewHasher(t *testing.T) {
	tests := []struct {
		name    string
		version string
		key     []byte
		ok      bool
	}{
		{"R-ERASE-4_32_byte_key", "h1", make32(), true},
		{"R-ERASE-4_longer_key", "h1", digestKeyA, true},
		{"R-ERASE-4_nil_key", "h1", nil, false},
		{"R-ERASE-4_empty_key", "h1", []byte{}, false},
		{"R-ERASE-4_31_byte_key", "h1", make32()[:31], false},
		{"R-ERASE-4_empty_version", "", make32(), false},
		{"R-ERASE-4_version_with_colon", "h:1", make32(), false},
		{"R-ERASE-4_version_with_space", "h 1", make32(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := gdpr.NewHasher(tt.version, tt.key)
			if tt.ok {
				require.NoError(t, err)
				require.NotNil(t, h)
				return
			}
			require.Error(t, err)
			require.Nil(t, h)
		})
	}
	t.Run("R-ERASE-4_error_never_contains_the_key", func(t *testing.T) {
		_, err := gdpr.NewHasher("h1", []byte("SECRETFAKEKEY"))
		require.Error(t, err)
		require.NotContains(t, err.Error(), "SECRETFAKEKEY")
	})
}

func make32() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

func TestValidEmail(t *testing.T) {
	tests := []struct {
		name  string
		email string
		want  bool
	}{
		{"R-SIGNUP-2_plain", "zoe@example.test", true},
		{"R-SIGNUP-2_dots_plus_and_hyphen", "zoe.fake+news@mail.example-shop.test", true},
		{"R-SIGNUP-2_upper_case", "Zoe@Example.TEST", true},
		{"R-SIGNUP-2_subdomain", "a@b.c.d", true},
		{"R-SIGNUP-2_unicode_local_part", "zoé@example.test", true},
		{"R-SIGNUP-2_IDN_domain", "zoe@exämple.test", true},
		{"R-SIGNUP-2_IDN_domain_A-label", "zoe@xn--exmple-cua.test", true},
		{"R-SIGNUP-2_64_byte_local_part", strings.Repeat("a", 64) + "@example.test", true},
		{"R-SIGNUP-2_254_bytes", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 184) + ".test", true},

		{"R-SIGNUP-2_empty", "", false},
		{"R-SIGNUP-2_no_at", "zoe.example.test", false},
		{"R-SIGNUP-2_two_at", "zoe@fake@example.test", false},
		{"R-SIGNUP-2_empty_local_part", "@example.test", false},
		{"R-SIGNUP-2_empty_domain", "zoe@", false},
		{"R-SIGNUP-2_domain_without_dot", "zoe@localhost", false},
		{"R-SIGNUP-2_domain_leading_dot", "zoe@.example.test", false},
		{"R-SIGNUP-2_domain_trailing_dot", "zoe@example.test.", false},
		{"R-SIGNUP-2_domain_double_dot", "zoe@example..test", false},
		{"R-SIGNUP-2_space_inside", "zoe fake@example.test", false},
		{"R-SIGNUP-2_leading_space", " zoe@example.test", false},
		{"R-SIGNUP-2_trailing_space", "zoe@example.test ", false},
		{"R-SIGNUP-2_tab", "zoe\t@example.test", false},
		{"R-SIGNUP-2_newline_header_injection", "zoe@example.test\nBcc: x@example.test", false},
		{"R-SIGNUP-2_carriage_return", "zoe\r@example.test", false},
		{"R-SIGNUP-2_NUL", "zoe\x00@example.test", false},
		{"R-SIGNUP-2_DEL", "zoe\x7f@example.test", false},
		{"R-SIGNUP-2_C1_control_NEL", "zoe\u0085@example.test", false},
		{"R-SIGNUP-2_C1_control_CSI", "zoe\u009b@example.test", false},
		{"R-SIGNUP-2_no_break_space", "zoe\u00a0@example.test", false},
		{"R-SIGNUP-2_angle_brackets", "<zoe@example.test>", false},
		{"R-SIGNUP-2_display_name", `"Zoe" zoe@example.test`, false},
		{"R-SIGNUP-2_list_comma", "zoe@example.test,eve@example.test", false},
		{"R-SIGNUP-2_list_semicolon", "zoe@example.test;eve@example.test", false},
		{"R-SIGNUP-2_invalid_UTF-8", "zoe\xff@example.test", false},
		{"R-SIGNUP-2_65_byte_local_part", strings.Repeat("a", 65) + "@example.test", false},
		{"R-SIGNUP-2_255_bytes", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".test", false},
		{"R-SIGNUP-2_far_too_long", strings.Repeat("a", 20) + "@" + strings.Repeat("b", 1000) + ".test", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, gdpr.ValidEmail(tt.email), "%q (%d bytes)", tt.email, len(tt.email))
		})
	}
}

// Digest reuses keyed HMACs across goroutines; each call must still see only its own value.
func TestHasherDigestConcurrent(t *testing.T) {
	h := newDigestHasher(t, digestKeyA)
	want := map[string]string{}
	for _, v := range []string{"a@example.test", "b@example.test", "c@example.test", ""} {
		m := hmac.New(sha256.New, digestKeyA)
		m.Write([]byte(v))
		want[v] = "h1:" + hex.EncodeToString(m.Sum(nil))
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				for v, d := range want {
					if got := h.Digest(v); got != d {
						t.Errorf("digest of %q: got %s, want %s", v, got, d)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEmailDigest(b *testing.B) {
	h, err := gdpr.NewHasher("h1", digestKeyA)
	require.NoError(b, err)
	for b.Loop() {
		h.EmailDigest("Contact.Name@Example.test")
	}
}
