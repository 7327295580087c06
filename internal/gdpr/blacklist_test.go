package gdpr_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// beforeRemove runs a step of the schedule between the service's read of an entry and its
// delete: the interleaving a concurrent event makes.
type beforeRemove struct {
	storetest.Store
	step func()
}

func (s *beforeRemove) RemoveBlacklist(ctx context.Context, e gdpr.BlacklistEntry, r gdpr.BlacklistRemoval) error {
	if s.step != nil {
		s.step()
		s.step = nil
	}
	return s.Store.RemoveBlacklist(ctx, e, r)
}

type blacklistWorld struct {
	store  *beforeRemove
	hasher *gdpr.Hasher
	all    *gdpr.Services
	clock  *clocktest.Manual
}

func newBlacklistWorld(t *testing.T) *blacklistWorld {
	t.Helper()
	w := &blacklistWorld{store: &beforeRemove{Store: storetest.NewMemory()}, clock: clocktest.New(t1.Add(24 * time.Hour))}
	var err error
	w.hasher, err = gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	w.all = wire(t, gdpr.Core{Hasher: w.hasher, Clock: w.clock}, gdpr.Platform{Store: w.store})
	_, _, err = w.all.Brands.PutBrand(t.Context(), "acme", gdpr.BrandSettings{Name: "Acme"})
	require.NoError(t, err)
	return w
}

func (w *blacklistWorld) bounce(t *testing.T, addr string, at time.Time) {
	t.Helper()
	_, err := w.all.MailEvents.Apply(t.Context(), "acme", []gdpr.MailEvent{{Kind: gdpr.MailEventBounce, Permanent: true, Email: addr, At: at, ID: "mj:1:bounce:" + at.Format(time.RFC3339)}})
	require.NoError(t, err)
}

var removal = gdpr.BlacklistRemovalRequest{Email: "fixed@example.test", Why: gdpr.RemovalMailboxFixed, RequestedBy: "ops-7"}

// TestBlacklistRemoval_R_MAIL_1_aBounceDuringTheRemovalIsKept: the bounce that arrives while an
// admin removes the entry (after the service read it, before it deletes) is not lost: the
// removal fails as relisted, the entry stays with the new bounce as its latest event, and no
// removal is recorded. Asked again, the removal is decided on what is stored now.
func TestBlacklistRemoval_R_MAIL_1_aBounceDuringTheRemovalIsKept(t *testing.T) {
	w := newBlacklistWorld(t)
	w.bounce(t, removal.Email, t1)
	w.store.step = func() { w.bounce(t, removal.Email, t1.Add(time.Hour)) }

	_, err := w.all.Blacklist.Remove(t.Context(), "acme", removal)
	require.ErrorIs(t, err, gdpr.ErrRelisted)
	st, err := w.all.Blacklist.Lookup(t.Context(), "acme", removal.Email)
	require.NoError(t, err)
	require.True(t, st.Listed)
	require.True(t, st.LastAt.Equal(t1.Add(time.Hour)), "the bounce of the interleaving is the entry's latest event")
	rs, err := w.all.Blacklist.ListRemovals(t.Context(), "acme", "", 10)
	require.NoError(t, err)
	require.Empty(t, rs, "nothing was removed, so nothing is recorded")

	r, err := w.all.Blacklist.Remove(t.Context(), "acme", removal)
	require.NoError(t, err, "asked again, after looking: removed")
	require.Equal(t, gdpr.BlacklistHardBounce, r.Reason)
}

// TestBlacklistRemoval_R_MAIL_4_aComplaintDuringTheRemovalIsNeverRemoved: a complaint that
// arrives while an admin removes a bounce takes the entry over; the removal fails, and the
// admin's next attempt is refused as needing the person's consent.
func TestBlacklistRemoval_R_MAIL_4_aComplaintDuringTheRemovalIsNeverRemoved(t *testing.T) {
	w := newBlacklistWorld(t)
	w.bounce(t, removal.Email, t1)
	w.store.step = func() {
		_, err := w.all.MailEvents.Apply(t.Context(), "acme", []gdpr.MailEvent{{Kind: gdpr.MailEventSpam, Email: removal.Email, At: t1.Add(-time.Hour)}})
		require.NoError(t, err)
	}
	_, err := w.all.Blacklist.Remove(t.Context(), "acme", removal)
	require.ErrorIs(t, err, gdpr.ErrRelisted)
	_, err = w.all.Blacklist.Remove(t.Context(), "acme", removal)
	require.ErrorIs(t, err, gdpr.ErrRemovalNeedsConsent)
	st, err := w.all.Blacklist.Lookup(t.Context(), "acme", removal.Email)
	require.NoError(t, err)
	require.Equal(t, gdpr.BlacklistSpam, st.Reason)
	require.Equal(t, gdpr.RemovalByConsent, st.RemovableBy)
}

// TestBlacklistRemovalRecordIsFixedByTheEntry: a removal repeated on the same entry version
// (a retry after a crash between a record and its delete) makes the same record id, and a
// later listing of the same address gets a record of its own.
func TestBlacklistRemovalRecordIsFixedByTheEntry(t *testing.T) {
	w := newBlacklistWorld(t)
	w.bounce(t, removal.Email, t1)
	first, err := w.all.Blacklist.Remove(t.Context(), "acme", removal)
	require.NoError(t, err)
	w.bounce(t, removal.Email, t1.Add(time.Hour))
	second, err := w.all.Blacklist.Remove(t.Context(), "acme", removal)
	require.NoError(t, err)
	require.NotEqual(t, first.ID, second.ID)
	require.NotContains(t, first.ID, w.hasher.EmailDigest(removal.Email)[3:11])
	rs, err := w.all.Blacklist.ListRemovals(t.Context(), "acme", "", 10)
	require.NoError(t, err)
	require.Len(t, rs, 2)
}
