package gdpr_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// TestWebhookKeys_R_SSO_3: a brand's webhooks verify with its current secret, then the one it
// rotates away from; a brand without a secret and an unknown brand are refused alike.
func TestWebhookKeys_R_SSO_3(t *testing.T) {
	ctx := t.Context()
	s := wire(t, gdpr.Core{}, gdpr.Platform{Store: storetest.NewMemory()})
	_, _, err := s.Brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", WebhookSecret: whsec(32), PreviousWebhookSecret: whsec(40)})
	require.NoError(t, err)
	_, _, err = s.Brands.PutBrand(ctx, "plain", gdpr.BrandSettings{Name: "Plain"})
	require.NoError(t, err)

	keys, err := s.Webhooks.Keys(ctx, "acme")
	require.NoError(t, err)
	current, _ := gdpr.WebhookSecretKey(whsec(32))
	previous, _ := gdpr.WebhookSecretKey(whsec(40))
	require.Equal(t, [][]byte{current, previous}, keys)

	_, noSecret := s.Webhooks.Keys(ctx, "plain")
	_, unknown := s.Webhooks.Keys(ctx, "nobody")
	require.Equal(t, gdpr.CodeUnauthenticated, gdpr.ErrorCode(noSecret))
	require.Equal(t, noSecret.Error(), unknown.Error(), "no answer tells which brands exist")
}

// TestWebhookReplayMemory_R_SSO_3: an id is seen only once its event is remembered, for its
// brand only; deliveries of one id remembering it at once all succeed, and it is seen after.
func TestWebhookReplayMemory_R_SSO_3(t *testing.T) {
	ctx := t.Context()
	s := wire(t, gdpr.Core{}, gdpr.Platform{Store: storetest.NewMemory()})

	seen, err := s.Webhooks.Seen(ctx, "acme", "msg_1")
	require.NoError(t, err)
	require.False(t, seen, "an id never applied")

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Webhooks.Remember(ctx, "acme", "msg_1") })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "a concurrent delivery of the same id is not an error")
	}

	seen, err = s.Webhooks.Seen(ctx, "acme", "msg_1")
	require.NoError(t, err)
	require.True(t, seen, "a remembered id is a replay")
	seen, err = s.Webhooks.Seen(ctx, "other", "msg_1")
	require.NoError(t, err)
	require.False(t, seen, "R-TEN-1: another brand's id is not this brand's replay")
}
