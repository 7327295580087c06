package gdpr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestFindProvisioned: each indexed key finds the live provisioned users holding it, under
// its case rules, and nobody else: not a stale claim, not an erased user (issue #24,
// finding 5).
func TestFindProvisioned(t *testing.T) {
	w := newProvisionWorld(t)
	ctx, t0 := t.Context(), w.clock.Now()
	ada, bob := profile("ada", "ada@example.test", "Ada"), profile("bob", "bob@example.test", "Bob")
	ada.IdPExternalID, bob.IdPExternalID = "Obj-1", "Obj-1"
	adaID, bobID := w.upsert(t, ada, t0).User.ID, w.upsert(t, bob, t0).User.ID
	find := func(key gdpr.ProvisionedKey, value string) []string {
		t.Helper()
		users, err := w.prov.FindProvisioned(ctx, "acme", key, value, 10)
		require.NoError(t, err)
		ids := []string{}
		for _, u := range users {
			ids = append(ids, u.ID)
		}
		return ids
	}
	both := []string{adaID, bobID}
	if bobID < adaID {
		both = []string{bobID, adaID}
	}
	require.Equal(t, []string{adaID}, find(gdpr.KeyExternalID, "ada"))
	require.Equal(t, []string{adaID}, find(gdpr.KeyMemberID, adaID))
	require.Equal(t, []string{adaID}, find(gdpr.KeyEmail, " ADA@Example.test"), "an address compares normalised")
	require.Equal(t, both, find(gdpr.KeyIdPExternalID, "Obj-1"), "in id order")
	require.Empty(t, find(gdpr.KeyIdPExternalID, "obj-1"), "an IdP id is caseExact")
	require.Empty(t, find(gdpr.KeyEmail, ""))
	require.Empty(t, find(gdpr.KeyMemberID, "m_unknown"))

	_, err := w.store.Claim(ctx, gdpr.Claim{BrandID: "acme", Key: gdpr.ClaimEmail + provisionQueryHasher(t).EmailDigest("old@example.test"),
		Owner: adaID, CreatedAt: t0})
	require.NoError(t, err)
	require.Empty(t, find(gdpr.KeyEmail, "old@example.test"), "a claim on an address its member no longer has")

	_, err = w.prov.Deprovision(ctx, "acme", "bob", gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{At: t0.Add(time.Minute)})
	require.NoError(t, err)
	require.Equal(t, both, find(gdpr.KeyIdPExternalID, "Obj-1"), "blocked, not yet erased: still found")
	w.clock.Advance(8 * 24 * time.Hour)
	w.eraseDue(t)
	require.Equal(t, []string{adaID}, find(gdpr.KeyIdPExternalID, "Obj-1"), "an erased user is never found")
	require.Empty(t, find(gdpr.KeyMemberID, bobID))
	require.Empty(t, find(gdpr.KeyEmail, "bob@example.test"))
}

func provisionQueryHasher(t *testing.T) *gdpr.Hasher {
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return h
}
