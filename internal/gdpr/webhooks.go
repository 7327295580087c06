package gdpr

import (
	"context"
	"errors"
	"time"
)

// WebhookService authenticates the brands' signed webhooks — SSO events, orders and contact
// sync alike — and remembers the ids it has applied, so that a replay applies nothing
// (R-SSO-3; Standard Webhooks: the id is an idempotency key, whatever the body).
type WebhookService struct {
	core
	claims ClaimStore // the webhook ids applied
}

// NewWebhookService checks its dependencies.
func NewWebhookService(c Core, claims ClaimStore) (*WebhookService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("WebhookService", map[string]bool{"ClaimStore": claims != nil})
	}
	if err != nil {
		return nil, err
	}
	return &WebhookService{core: cc, claims: claims}, nil
}

// Keys are the keys that verify the brand's signed webhooks (R-SSO-3). A brand without a
// webhook secret, or no brand, is refused the same way.
func (s *WebhookService) Keys(ctx context.Context, brandID BrandID) ([][]byte, error) {
	b, err := s.brand(ctx, brandID)
	if errors.Is(err, ErrNotFound) {
		return nil, errBrandAuth
	}
	if err != nil {
		return nil, err
	}
	keys := b.WebhookKeys()
	if len(keys) == 0 {
		return nil, errBrandAuth
	}
	return keys, nil
}

// webhookMemory is how long a webhook id is remembered: twice the signature's tolerance, so a
// replay is either remembered or refused for its timestamp.
const webhookMemory = 10 * time.Minute

// Seen reports a webhook id already applied. The wall clock decides, as for the signature's
// timestamp: the service's test clock does not move webhooks.
func (s *WebhookService) Seen(ctx context.Context, brand BrandID, id string) (bool, error) {
	_, err := s.claims.GetClaim(ctx, brand, ClaimWebhookID+id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// Remember records a webhook id once its event is applied; recording it first would turn a
// failed attempt's retry into a replay, and lose the event.
func (s *WebhookService) Remember(ctx context.Context, brand BrandID, id string) error {
	return claimEach(ctx, s.claims, brand, []Claim{s.Memory(brand, id)})
}

// Memory is the claim that remembers a webhook id, for a service that writes it together with
// its own (RecordOrder): one request for both.
func (s *WebhookService) Memory(brand BrandID, id string) Claim {
	now := time.Now().UTC()
	return Claim{BrandID: brand, Key: ClaimWebhookID + id, Owner: "webhook", CreatedAt: now, ExpiresAt: now.Add(webhookMemory)}
}

// claimEach creates claims, all of brand, each unless its key is held already (a replay, a
// concurrent delivery of the same thing recorded it): in one request when the store batches
// and there are two or more.
func claimEach(ctx context.Context, store ClaimStore, brand BrandID, claims []Claim) error {
	if b, ok := store.(ClaimBatch); ok && len(claims) >= 2 {
		err := b.ClaimAll(ctx, brand, claims)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	for _, c := range claims {
		if _, err := store.Claim(ctx, c); err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return nil
}
