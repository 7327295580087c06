package gdpr_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// FuzzParsePeriod: brand settings carry periods from admins (R-TEN-2). Whatever the input,
// parsing does not panic; a period it accepts renders to ISO 8601 that parses back to the
// same period, and can be added to a time and bounded without panicking. Errors state the
// rule, never the input.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"P3Y", "P1Y2M10DT2H30M", "P2W", "PT24H", "72h", "90m", "P9000Y", "P999999999Y",
		"PT0S", "P", "PT", "P1Y1Y", "-P1D", "P1.5D", "1h30m", "PT1.5S", " P1D ", "P1DT", "P10000000000Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := gdpr.ParsePeriod(s)
		if err != nil {
			if len(s) >= 4 && strings.Contains(err.Error(), s) {
				t.Fatalf("the error quotes the input: %v", err)
			}
			return
		}
		again, err := gdpr.ParsePeriod(p.String())
		if err != nil {
			t.Fatalf("%q renders as %q, which does not parse: %v", s, p.String(), err)
		}
		if again != p {
			t.Fatalf("%q: %#v renders as %q and parses back as %#v", s, p, p.String(), again)
		}
		_ = p.AddTo(time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC))
		_ = p.Longer(gdpr.MaxRetention)
		r := gdpr.DefaultRetention()
		r.UnconfirmedSignup = p
		_ = r.Validate()
	})
}

// FuzzRetentionJSON: a brand's retention settings decoded from JSON either fail or validate
// to periods that the store can hold: due dates computed from them stay marshalable, which
// P9000Y broke (review finding 3 of #10).
func FuzzRetentionJSON(f *testing.F) {
	f.Add([]byte(`{"unconfirmedSignup":"P15D","erasureGrace":"P7D"}`))
	f.Add([]byte(`{"unconfirmedSignup":"P9000Y"}`))
	f.Add([]byte(`{"optInTokenTTL":"P999999999Y","inactivity":"P3Y"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r gdpr.Retention
		if json.Unmarshal(body, &r) != nil {
			return
		}
		r = r.WithDefaults()
		if r.Validate() != nil {
			return
		}
		now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, p := range []gdpr.Period{r.UnconfirmedSignup, r.ErasureGrace, r.OptInTokenTTL, r.Inactivity, r.ExternalInactivity} {
			if _, err := p.AddTo(now).MarshalJSON(); err != nil {
				t.Fatalf("an accepted period gives a time JSON cannot hold: %v", err)
			}
		}
	})
}

// FuzzNormalizeEmail (R-MAIL-4, issue 24): canonicalising an address never panics, is
// idempotent (a stored canonical address hashes to the digest its first spelling did), and a
// valid canonical address has an ASCII, lower-case domain that IDNA leaves as it is.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"x@ex\u00e4mple.test", "x@exa\u0308mple.test", "x@xn--exmple-cua.test", "X@EX\u00c4MPLE\u3002TEST",
		"zo\u0308e@example.test", "\u0130@example.test", "x@xn--.test", "x@xn--zz.test", "x@stra\u00dfe.de",
		"a@b@c.test", "@", "", " x@example.test\n", "x@\uff45\uff58.test", "x@example.test.", "x@\u0661\u0662a.test",
		"\xff@example.test", "x@ex\xffample.test", "\u1e9e@example.test", "x@\u212a.test",
	} {
		f.Add(s)
	}
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, in string) {
		n := gdpr.NormalizeEmail(in)
		require.Equal(t, n, gdpr.NormalizeEmail(n), "idempotent: %q", in)
		require.Equal(t, h.EmailDigest(in), h.EmailDigest(n))
		if gdpr.ValidEmail(n) {
			_, domain, _ := strings.Cut(n, "@")
			for i := 0; i < len(domain); i++ {
				require.Less(t, domain[i], byte(0x80), "an ASCII domain: %q", n)
			}
			require.Equal(t, strings.ToLower(domain), domain)
		}
	})
}
