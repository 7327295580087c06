package gdpr_test

import (
	"context"
	"fmt"
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

func (w *blacklistWorld) policy(t *testing.T, p gdpr.SoftBouncePolicy) {
	t.Helper()
	_, err := w.all.Brands.PatchBrand(t.Context(), "acme", func(s gdpr.BrandSettings) (gdpr.BrandSettings, error) {
		s.Mail.SoftBounces = p
		return s, nil
	})
	require.NoError(t, err)
}

func (w *blacklistWorld) events(t *testing.T, es ...gdpr.MailEvent) gdpr.MailEventStats {
	t.Helper()
	st, err := w.all.MailEvents.Apply(t.Context(), "acme", es)
	require.NoError(t, err)
	return st
}

func (w *blacklistWorld) listed(t *testing.T, addr string) gdpr.BlacklistStatus {
	t.Helper()
	st, err := w.all.Blacklist.Lookup(t.Context(), "acme", addr)
	require.NoError(t, err)
	return st
}

func soft(addr, id string, at time.Time) gdpr.MailEvent {
	return gdpr.MailEvent{Kind: gdpr.MailEventBounce, Email: addr, At: at, ID: id}
}

func sent(addr, id string, at time.Time) gdpr.MailEvent {
	return gdpr.MailEvent{Kind: gdpr.MailEventSent, Email: addr, At: at, ID: id}
}

// TestSoftBouncePolicy_R_MAIL_2: off by default, a soft bounce sets the status only; on, the
// brand's limit of soft bounces in a row within its window suppresses the address until a
// delivery or the member's release. Counted by event ids, on the test clock.
func TestSoftBouncePolicy_R_MAIL_2(t *testing.T) {
	day := 24 * time.Hour
	newWorld := func(t *testing.T, p gdpr.SoftBouncePolicy) *blacklistWorld {
		w := newBlacklistWorld(t)
		w.clock.Set(t1.Add(60 * day))
		if p.On() {
			w.policy(t, p)
		}
		return w
	}
	week := gdpr.SoftBouncePolicy{Limit: 3, Window: gdpr.Period{Days: 7}}
	const addr = "soft@example.test"

	t.Run("R-MAIL-2_off_by_default_a_soft_bounce_suppresses_nothing", func(t *testing.T) {
		w := newWorld(t, gdpr.SoftBouncePolicy{})
		for i := range 5 {
			st := w.events(t, soft(addr, fmt.Sprint("b", i), t1.Add(time.Duration(i)*time.Hour)))
			require.Zero(t, st.Suppressed)
		}
		require.False(t, w.listed(t, addr).Listed)
	})

	t.Run("the_limit_in_a_row_suppresses_the_address", func(t *testing.T) {
		w := newWorld(t, week)
		w.events(t, soft(addr, "b1", t1), soft(addr, "b2", t1.Add(day)))
		require.False(t, w.listed(t, addr).Listed, "two of three")
		st := w.events(t, soft(addr, "b3", t1.Add(2*day)))
		require.Equal(t, 1, st.Suppressed)
		got := w.listed(t, addr)
		require.Equal(t, gdpr.BlacklistSoftBounce, got.Reason)
		require.Equal(t, "b3", got.Source)
		require.True(t, got.Since.Equal(t1.Add(2*day)))
		require.Equal(t, gdpr.RemovalByAdmin, got.RemovableBy)
	})

	t.Run("a_replayed_callback_counts_once", func(t *testing.T) {
		w := newWorld(t, week)
		for range 3 {
			w.events(t, soft(addr, "b1", t1), soft(addr, "b2", t1.Add(time.Hour)), soft(addr, "b1", t1))
		}
		require.False(t, w.listed(t, addr).Listed, "two events, each delivered several times")
		w.events(t, soft(addr, "", t1.Add(2*time.Hour)), soft(addr, "", t1.Add(3*time.Hour)))
		require.False(t, w.listed(t, addr).Listed, "an event without an id cannot be told from its replay: not counted")
	})

	t.Run("the_row_must_fit_the_window", func(t *testing.T) {
		w := newWorld(t, week)
		w.events(t, soft(addr, "b1", t1), soft(addr, "b2", t1.Add(4*day)), soft(addr, "b3", t1.Add(8*day)))
		require.False(t, w.listed(t, addr).Listed, "first to last: 8 days, past the window of 7")
		w.events(t, soft(addr, "b4", t1.Add(9*day)))
		require.True(t, w.listed(t, addr).Listed, "the latest three: 5 days")
	})

	t.Run("a_delivery_breaks_the_row", func(t *testing.T) {
		w := newWorld(t, week)
		w.events(t, soft(addr, "b1", t1), sent(addr, "s1", t1.Add(time.Hour)), soft(addr, "b2", t1.Add(2*time.Hour)), soft(addr, "b3", t1.Add(3*time.Hour)))
		require.False(t, w.listed(t, addr).Listed)
		w.events(t, soft(addr, "b0", t1.Add(-time.Hour)))
		require.False(t, w.listed(t, addr).Listed, "a bounce dated before the delivery is not in the row")
	})

	t.Run("a_delivery_lifts_the_suppression_recorded", func(t *testing.T) {
		w := newWorld(t, week)
		bounces := []gdpr.MailEvent{soft(addr, "b1", t1), soft(addr, "b2", t1.Add(time.Hour)), soft(addr, "b3", t1.Add(2*time.Hour))}
		w.events(t, bounces...)
		require.True(t, w.listed(t, addr).Listed)
		w.events(t, sent(addr, "s1", t1.Add(3*time.Hour)))
		require.False(t, w.listed(t, addr).Listed)
		rs, err := w.all.Blacklist.ListRemovals(t.Context(), "acme", "", 10)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, gdpr.RemovalByDelivery, rs[0].Basis)
		require.Equal(t, "s1", rs[0].RequestedBy)
		require.Equal(t, gdpr.BlacklistSoftBounce, rs[0].Reason)
		w.events(t, bounces...)
		require.False(t, w.listed(t, addr).Listed, "the counted bounces replayed after the delivery count nothing")
	})

	t.Run("R-MAIL-2_the_members_release_lifts_the_suppression", func(t *testing.T) {
		w := newWorld(t, week)
		u, err := w.store.CreateUser(t.Context(), gdpr.User{BrandID: "acme", ID: "m_soft", Kind: gdpr.SubjectMember, Status: gdpr.UserActive,
			Email: addr, CreatedAt: t1.Add(-day)})
		require.NoError(t, err)
		_, err = w.store.Claim(t.Context(), gdpr.Claim{BrandID: "acme", Key: gdpr.ClaimEmail + w.hasher.EmailDigest(addr), Owner: u.ID, CreatedAt: u.CreatedAt})
		require.NoError(t, err)
		bounces := []gdpr.MailEvent{soft(addr, "b1", t1), soft(addr, "b2", t1.Add(time.Hour)), soft(addr, "b3", t1.Add(2*time.Hour))}
		w.events(t, bounces...)
		require.True(t, w.listed(t, addr).Listed)

		_, err = w.all.MailEvents.ReleaseSoftBounce(t.Context(), "acme", u.ID)
		require.NoError(t, err)
		require.False(t, w.listed(t, addr).Listed)
		rs, err := w.all.Blacklist.ListRemovals(t.Context(), "acme", "", 10)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, gdpr.RemovalByRelease, rs[0].Basis)
		require.Equal(t, u.ID, rs[0].RequestedBy)
		w.events(t, bounces...)
		require.False(t, w.listed(t, addr).Listed, "the bounces released count nothing again")
	})

	t.Run("R-MAIL-1_a_hard_bounce_over_a_suppression_is_not_lifted_by_a_delivery", func(t *testing.T) {
		w := newWorld(t, week)
		w.events(t, soft(addr, "b1", t1), soft(addr, "b2", t1.Add(time.Hour)), soft(addr, "b3", t1.Add(2*time.Hour)))
		w.events(t, gdpr.MailEvent{Kind: gdpr.MailEventBounce, Permanent: true, Email: addr, At: t1.Add(3 * time.Hour), ID: "h1"})
		require.Equal(t, gdpr.BlacklistHardBounce, w.listed(t, addr).Reason, "the stronger reason takes the entry")
		w.events(t, sent(addr, "s1", t1.Add(4*time.Hour)))
		require.Equal(t, gdpr.BlacklistHardBounce, w.listed(t, addr).Reason)
	})

	t.Run("an_admins_removal_starts_the_count_again", func(t *testing.T) {
		w := newWorld(t, week)
		bounces := []gdpr.MailEvent{soft(addr, "b1", t1), soft(addr, "b2", t1.Add(time.Hour)), soft(addr, "b3", t1.Add(2*time.Hour))}
		w.events(t, bounces...)
		_, err := w.all.Blacklist.Remove(t.Context(), "acme", gdpr.BlacklistRemovalRequest{Email: addr, Why: gdpr.RemovalMailboxFixed, RequestedBy: "ops-7"})
		require.NoError(t, err)
		w.events(t, bounces...)
		require.False(t, w.listed(t, addr).Listed, "a replay does not suppress at once again")
	})
}

// TestSoftBouncePolicyBounds: the policy is off, or a limit of 2 to 20 with a window of an
// hour to 90 days; anything else is refused, naming the setting, and changes nothing.
func TestSoftBouncePolicyBounds(t *testing.T) {
	w := newBlacklistWorld(t)
	for _, p := range []gdpr.SoftBouncePolicy{
		{Limit: 1, Window: gdpr.Period{Days: 1}}, {Limit: 21, Window: gdpr.Period{Days: 1}}, {Limit: 3},
		{Limit: 3, Window: gdpr.Period{Exact: 30 * time.Minute}}, {Limit: 3, Window: gdpr.Period{Days: 91}},
		{Limit: 3, Window: gdpr.Period{Months: 4}}, {Limit: -1, Window: gdpr.Period{Days: 1}}, {Window: gdpr.Period{Days: 1}},
	} {
		_, err := w.all.Brands.PatchBrand(t.Context(), "acme", func(s gdpr.BrandSettings) (gdpr.BrandSettings, error) {
			s.Mail.SoftBounces = p
			return s, nil
		})
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%+v", p)
		require.Contains(t, err.Error(), "mail.softBounces")
	}
	b, err := w.all.Brands.GetBrand(t.Context(), "acme")
	require.NoError(t, err)
	require.False(t, b.Mail.SoftBounces.On(), "off by default, and every refusal changed nothing")
	for _, p := range []gdpr.SoftBouncePolicy{{Limit: 2, Window: gdpr.Period{Exact: time.Hour}}, {Limit: 20, Window: gdpr.Period{Days: 90}}} {
		w.policy(t, p)
	}
}
