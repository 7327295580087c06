package gdpr_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestPatchBrandInterleaved: another write lands between a patch's read and its write (an
// explicit interleaving, run inside the patch). The patch's write then conflicts on the
// version, reads again and patches the new document: both changes land, and the secrets
// neither patch named are kept.
func TestPatchBrandInterleaved(t *testing.T) {
	w := newMailWorld(t)
	ctx := t.Context()
	_, _, err := w.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", WebhookSecret: whsec(32),
		MailjetCallback: gdpr.BasicCredentials{Username: "mailjet", Password: strings.Repeat("p", 20)}})
	require.NoError(t, err)
	keepAll := gdpr.KeptSecrets{WebhookSecret: true, PreviousWebhookSecret: true, SCIMToken: true, MailjetCallback: true}

	var seen []gdpr.BrandSettings
	b, err := w.brands.PatchBrand(ctx, "acme", func(cur gdpr.BrandSettings) (gdpr.BrandSettings, error) {
		seen = append(seen, cur)
		if len(seen) == 1 { // between this read and its write, another admin's patch lands
			_, err := w.brands.PatchBrand(ctx, "acme", func(cur gdpr.BrandSettings) (gdpr.BrandSettings, error) {
				cur.SSOExclusive, cur.Keep = true, keepAll
				return cur, nil
			})
			require.NoError(t, err)
		}
		cur.Pro, cur.Keep = gdpr.ProDirectSelling, keepAll
		return cur, nil
	})
	require.NoError(t, err)
	require.Len(t, seen, 2, "the first write conflicted and the patch ran again")
	require.False(t, seen[0].SSOExclusive)
	require.True(t, seen[1].SSOExclusive, "the second attempt patches the other write's document")
	require.Equal(t, gdpr.ProDirectSelling, b.Pro)
	require.True(t, b.SSOExclusive, "the other patch is not overwritten")
	require.NotEmpty(t, b.WebhookSecret)
	require.NotEmpty(t, b.MailjetCallback.PasswordDigest)
	require.Empty(t, seen[0].WebhookSecret, "a patch never sees a secret")

	_, err = w.brands.PatchBrand(ctx, "nobody", func(cur gdpr.BrandSettings) (gdpr.BrandSettings, error) { return cur, nil })
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a patch creates no brand")
}

// TestPutBrandKeepsLeftOutSecrets: the secrets Keep names survive a PUT; the others are
// replaced, emptied ones removed.
func TestPutBrandKeepsLeftOutSecrets(t *testing.T) {
	w := newMailWorld(t)
	ctx := t.Context()
	_, _, err := w.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", WebhookSecret: whsec(32), SCIMToken: strings.Repeat("t", 40),
		MailjetCallback: gdpr.BasicCredentials{Username: "mailjet", Password: strings.Repeat("p", 20)}})
	require.NoError(t, err)
	b, _, err := w.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", PreviousWebhookSecret: whsec(40),
		Keep: gdpr.KeptSecrets{WebhookSecret: true, MailjetCallback: true}})
	require.NoError(t, err)
	require.Equal(t, whsec(32), b.WebhookSecret)
	require.Equal(t, whsec(40), b.PreviousWebhookSecret)
	require.NotEmpty(t, b.MailjetCallback.PasswordDigest)
	require.Empty(t, b.SCIMTokenDigest, "not kept and given empty: removed")
}
