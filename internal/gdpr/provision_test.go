package gdpr_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/localstore"
)

// raceStore runs a hook once, right before the first UpdateUser: an erasure landing between
// a provisioning call's read and its write.
type raceStore struct {
	*localstore.Store
	before         atomic.Pointer[func()]
	beforeContacts atomic.Pointer[func()] // runs once before the next UpdateContacts
}

func (s *raceStore) UpdateContacts(ctx context.Context, b gdpr.BrandID, cs []gdpr.Contact) ([]gdpr.Contact, error) {
	if f := s.beforeContacts.Swap(nil); f != nil {
		(*f)()
	}
	return s.Store.UpdateContacts(ctx, b, cs)
}

func (s *raceStore) UpdateUser(ctx context.Context, u gdpr.User) (gdpr.User, error) {
	if f := s.before.Swap(nil); f != nil {
		(*f)()
	}
	return s.Store.UpdateUser(ctx, u)
}

type provisionWorld struct {
	store *raceStore
	queue *recordingQueue
	clock *clocktest.Manual
	svc   services
	prov  *gdpr.ProvisioningService
}

func newProvisionWorld(t *testing.T) *provisionWorld {
	t.Helper()
	dir := t.TempDir()
	base, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { base.Close() })
	w := &provisionWorld{store: &raceStore{Store: base}, queue: &recordingQueue{}, clock: clocktest.New(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))}
	w.svc = newServices(t, w.store, w.queue, blobstore.NewFolder(filepath.Join(dir, "blobs")), w.clock)
	w.prov = w.svc.all.Provisioning
	_, _, err = w.svc.brands.PutBrand(t.Context(), "acme", gdpr.BrandSettings{Name: "Acme", SSOExclusive: true})
	require.NoError(t, err)
	return w
}

func profile(ext, email, first string) gdpr.ProvisionedUser {
	return gdpr.ProvisionedUser{ExternalID: ext, Email: email, FirstName: first, LastName: "Lovelace"}
}

func (w *provisionWorld) upsert(t *testing.T, p gdpr.ProvisionedUser, at time.Time) gdpr.ProvisionResult {
	t.Helper()
	res, err := w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{At: at})
	require.NoError(t, err)
	return res
}

// eraseDue runs the erasure jobs published so far, as the worker would once they are due.
func (w *provisionWorld) eraseDue(t *testing.T) {
	t.Helper()
	w.queue.mu.Lock()
	var bodies [][]byte
	for _, m := range w.queue.msgs {
		bodies = append(bodies, m.Body)
	}
	w.queue.msgs = nil
	w.queue.mu.Unlock()
	requireAllNil(t, w.svc.erasure.HandleErasureJobs(t.Context(), bodies))
}

// TestProvisioningLifecycle is R-SSO-1 and R-SSO-2 through the domain: first sight creates an
// active member with no double opt-in, changes update it, a deletion blocks it, an upsert in
// the grace period restores it, and after the erasure an upsert makes a new account that
// brings nothing erased back.
func TestProvisioningLifecycle(t *testing.T) {
	w := newProvisionWorld(t)
	t0 := w.clock.Now()
	created := w.upsert(t, profile("ext-1", "ada@example.test", "Ada"), t0)
	require.Equal(t, gdpr.ProvisionCreated, created.Outcome)
	require.Equal(t, gdpr.UserActive, created.User.Status, "the brand verified the address: no double opt-in")
	require.Equal(t, "ada@example.test", created.User.Email)
	id := created.User.ID

	require.Equal(t, gdpr.ProvisionUnchanged, w.upsert(t, profile("ext-1", "ada@example.test", "Ada"), t0).Outcome)
	updated := w.upsert(t, profile("ext-1", "ada@example.test", "Augusta"), t0.Add(time.Minute))
	require.Equal(t, gdpr.ProvisionUpdated, updated.Outcome)
	require.Equal(t, "Augusta", updated.User.FirstName)

	t.Run("R-SSO-2_out_of_order_events_are_ignored", func(t *testing.T) {
		res := w.upsert(t, profile("ext-1", "ada@example.test", "Stale"), t0)
		require.Equal(t, gdpr.ProvisionStale, res.Outcome)
		require.Equal(t, "Augusta", res.User.FirstName)
	})

	del, err := w.prov.Deprovision(t.Context(), "acme", "ext-1", gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{At: t0.Add(2 * time.Minute)})
	require.NoError(t, err)
	require.Equal(t, gdpr.ProvisionBlocked, del.Outcome)
	require.False(t, del.User.CanSignIn(), "access stops at once")

	restored := w.upsert(t, profile("ext-1", "ada@example.test", "Augusta"), t0.Add(3*time.Minute))
	require.Equal(t, gdpr.ProvisionRestored, restored.Outcome)
	require.Equal(t, gdpr.UserActive, restored.User.Status)
	require.Equal(t, id, restored.User.ID)

	_, err = w.prov.Deprovision(t.Context(), "acme", "ext-1", gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{At: t0.Add(4 * time.Minute)})
	require.NoError(t, err)
	w.clock.Advance(8 * 24 * time.Hour)
	w.eraseDue(t)
	erased, err := w.store.GetUser(t.Context(), "acme", id)
	require.NoError(t, err)
	require.Equal(t, gdpr.UserErased, erased.Status)

	again := w.upsert(t, profile("ext-1", "ada@example.test", "Ada"), w.clock.Now())
	require.Equal(t, gdpr.ProvisionCreated, again.Outcome, "after the erasure: a new account")
	require.NotEqual(t, id, again.User.ID)
	require.Equal(t, "Ada", again.User.FirstName, "nothing of the erased account comes back")
	erased, err = w.store.GetUser(t.Context(), "acme", id)
	require.NoError(t, err)
	require.Equal(t, gdpr.UserErased, erased.Status, "never un-erased")

	res, err := w.prov.Deprovision(t.Context(), "acme", "never-seen", gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{})
	require.NoError(t, err)
	require.Equal(t, gdpr.ProvisionUnknown, res.Outcome)
}

// TestProvisioningRacingAnErasure: an erasure that lands between an update's read and its
// write makes the write conflict; the retry sees the erased user and provisions a new
// account, never writing the old profile back (ETag-guarded).
func TestProvisioningRacingAnErasure(t *testing.T) {
	w := newProvisionWorld(t)
	t0 := w.clock.Now()
	first := w.upsert(t, profile("ext-9", "grace@example.test", "Grace"), t0)
	_, err := w.prov.Deprovision(t.Context(), "acme", "ext-9", gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{At: t0})
	require.NoError(t, err)
	w.clock.Advance(8 * 24 * time.Hour)
	erase := func() { w.eraseDue(t) }
	w.store.before.Store(&erase)

	res := w.upsert(t, profile("ext-9", "grace@example.test", "Grace"), t0.Add(time.Hour))
	require.Equal(t, gdpr.ProvisionCreated, res.Outcome)
	require.NotEqual(t, first.User.ID, res.User.ID)
	old, err := w.store.GetUser(t.Context(), "acme", first.User.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.UserErased, old.Status)
	require.Empty(t, old.FirstName)
}

// TestProvisioningDeactivation is SCIM's soft deprovisioning: active=false blocks the account
// for erasure but leaves it readable; active=true inside the grace period restores it; a
// deletion of a deactivated account turns it into a deletion.
func TestProvisioningDeactivation(t *testing.T) {
	w := newProvisionWorld(t)
	no, yes := false, true
	p := profile("okta-7", "okta@example.test", "Okta")
	res, err := w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{})
	require.NoError(t, err)
	res, err = w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{Active: &no, IfVersion: res.User.Version})
	require.NoError(t, err)
	require.Equal(t, gdpr.ProvisionBlocked, res.Outcome)
	require.Equal(t, gdpr.ReasonSSODeactivated, res.User.Block.Reason)
	got, err := w.prov.Get(t.Context(), "acme", res.User.ID)
	require.NoError(t, err, "still readable until erased")
	require.Equal(t, gdpr.UserBlocked, got.Status)

	_, err = w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{Active: &yes, IfVersion: "stale-version"})
	require.Equal(t, gdpr.CodePrecondition, gdpr.ErrorCode(err), "If-Match on a stale version")
	res, err = w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{Active: &yes})
	require.NoError(t, err)
	require.Equal(t, gdpr.ProvisionRestored, res.Outcome)

	_, err = w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{Active: &no})
	require.NoError(t, err)
	res, err = w.prov.Deprovision(t.Context(), "acme", "okta-7", gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{})
	require.NoError(t, err)
	require.Equal(t, gdpr.ReasonSSODeleted, res.User.Block.Reason)
}

// TestProvisioningRefusesAnAddressOfAnotherMember: two external ids cannot share an address,
// and bad input changes nothing.
func TestProvisioningRefusesAnAddressOfAnotherMember(t *testing.T) {
	w := newProvisionWorld(t)
	w.upsert(t, profile("ext-a", "same@example.test", "A"), w.clock.Now())
	_, err := w.prov.Upsert(t.Context(), "acme", profile("ext-b", "same@example.test", "B"), gdpr.ProvisionOptions{})
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
	_, err = w.prov.Lookup(t.Context(), "acme", "ext-b")
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err), "nothing was kept of the refused call")

	for name, p := range map[string]gdpr.ProvisionedUser{
		"no_external_id": {Email: "x@example.test"},
		"bad_email":      {ExternalID: "e", Email: "not-an-address"},
		"long_name":      {ExternalID: "e", FirstName: string(make([]byte, 101))},
		"bad_role":       {ExternalID: "e", Role: new(gdpr.Role(9))},
	} {
		_, err := w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{})
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), name)
	}
}

// TestProvisioningCreateOnlyRestoresADeletedUser is SCIM's re-hire (RFC 7644 §3.6: a deleted
// resource takes no part in conflicts), in explicit interleavings with the erasure worker:
// a create of a user deleted and not yet erased restores it, one that loses the race to the
// erasure makes a new account, and an erasure that loses the race to the restore erases
// nothing. One member per person every way.
func TestProvisioningCreateOnlyRestoresADeletedUser(t *testing.T) {
	create := gdpr.ProvisionOptions{CreateOnly: true, KeepUncarried: true}
	deleted := func(t *testing.T, w *provisionWorld, ext string) gdpr.User {
		t.Helper()
		res, err := w.prov.Upsert(t.Context(), "acme", profile(ext, ext+"@example.test", "Ada"), create)
		require.NoError(t, err)
		_, err = w.prov.Deprovision(t.Context(), "acme", ext, gdpr.ReasonSSODeleted, gdpr.ProvisionOptions{})
		require.NoError(t, err)
		return res.User
	}
	t.Run("inside_the_grace_period_the_account_is_restored", func(t *testing.T) {
		w := newProvisionWorld(t)
		old := deleted(t, w, "rehire-1")
		_, err := w.prov.Upsert(t.Context(), "acme", profile("other", "x@example.test", "X"), create)
		require.NoError(t, err)
		res, err := w.prov.Upsert(t.Context(), "acme", profile("rehire-1", "rehire-1@example.test", "Augusta"), create)
		require.NoError(t, err)
		require.Equal(t, gdpr.ProvisionRestored, res.Outcome)
		require.Equal(t, old.ID, res.User.ID)
		require.Equal(t, "Augusta", res.User.FirstName)
		require.Equal(t, gdpr.UserActive, res.User.Status)
		_, err = w.prov.Upsert(t.Context(), "acme", profile("rehire-1", "rehire-1@example.test", "Augusta"), create)
		require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "now it exists: a second create is refused")
	})
	t.Run("a_deactivated_user_still_conflicts", func(t *testing.T) {
		w := newProvisionWorld(t)
		no := false
		res, err := w.prov.Upsert(t.Context(), "acme", profile("off-1", "off@example.test", "Off"), create)
		require.NoError(t, err)
		_, err = w.prov.Upsert(t.Context(), "acme", profile("off-1", "off@example.test", "Off"), gdpr.ProvisionOptions{Active: &no, MemberID: res.User.ID})
		require.NoError(t, err)
		_, err = w.prov.Upsert(t.Context(), "acme", profile("off-1", "off@example.test", "Off"), create)
		require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "SCIM still shows it (active false): it exists")
	})
	t.Run("the_erasure_lands_between_the_read_and_the_restore", func(t *testing.T) {
		w := newProvisionWorld(t)
		old := deleted(t, w, "rehire-2")
		w.clock.Advance(8 * 24 * time.Hour)
		erase := func() { w.eraseDue(t) }
		w.store.before.Store(&erase)
		res, err := w.prov.Upsert(t.Context(), "acme", profile("rehire-2", "rehire-2@example.test", "Grace"), create)
		require.NoError(t, err)
		require.Equal(t, gdpr.ProvisionCreated, res.Outcome, "the restore lost: a new account, never the erased one written back")
		require.NotEqual(t, old.ID, res.User.ID)
		gone, err := w.store.GetUser(t.Context(), "acme", old.ID)
		require.NoError(t, err)
		require.Equal(t, gdpr.UserErased, gone.Status)
		require.Empty(t, gone.FirstName)
		found, err := w.prov.Lookup(t.Context(), "acme", "rehire-2")
		require.NoError(t, err)
		require.Equal(t, res.User.ID, found.ID, "one member holds the key")
	})
	t.Run("the_restore_lands_before_the_erasure", func(t *testing.T) {
		w := newProvisionWorld(t)
		old := deleted(t, w, "rehire-3")
		res, err := w.prov.Upsert(t.Context(), "acme", profile("rehire-3", "rehire-3@example.test", "Ada"), create)
		require.NoError(t, err)
		require.Equal(t, gdpr.ProvisionRestored, res.Outcome)
		w.clock.Advance(8 * 24 * time.Hour)
		w.eraseDue(t) // the job published by the deletion, delivered anyway
		kept, err := w.store.GetUser(t.Context(), "acme", old.ID)
		require.NoError(t, err)
		require.Equal(t, gdpr.UserActive, kept.Status, "the worker re-reads and erases nothing")
		require.Equal(t, "Ada", kept.FirstName)
	})
}

// TestProvisioningUntimedNoOpWritesNothing: a call without an event time (SCIM) that changes
// nothing stored keeps the version (RFC 7644 §3.5.2); a webhook's newer event time is still
// recorded, as event order needs.
func TestProvisioningUntimedNoOpWritesNothing(t *testing.T) {
	w := newProvisionWorld(t)
	p := profile("same-1", "same@example.test", "Ada")
	p.DisplayName, p.UserName = "Ada L.", "Same-1"
	res, err := w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{})
	require.NoError(t, err)
	w.clock.Advance(time.Hour)
	again, err := w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{MemberID: res.User.ID, IfVersion: res.User.Version})
	require.NoError(t, err)
	require.Equal(t, gdpr.ProvisionUnchanged, again.Outcome)
	require.Equal(t, res.User.Version, again.User.Version)
	stored, err := w.store.GetUser(t.Context(), "acme", res.User.ID)
	require.NoError(t, err)
	require.Equal(t, res.User.Version, stored.Version, "nothing written")

	timed, err := w.prov.Upsert(t.Context(), "acme", p, gdpr.ProvisionOptions{At: w.clock.Now()})
	require.NoError(t, err)
	require.NotEqual(t, res.User.Version, timed.User.Version, "a webhook's later event time is recorded")

	bad := p
	bad.UserName = "Someone-Else"
	_, err = w.prov.Upsert(t.Context(), "acme", bad, gdpr.ProvisionOptions{})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "userName is the external id's spelling, nothing else")
}

// TestProvisioningANewAddressStartsDeliverable_R_MAIL_3: an email status is its address's; a
// member whose address the provider refused (issue 21) or bounced gets mail again once the
// identity provider sends a new address, and not while it sends the same one.
func TestProvisioningANewAddressStartsDeliverable_R_MAIL_3(t *testing.T) {
	w := newProvisionWorld(t)
	t0 := w.clock.Now()
	u := w.upsert(t, profile("ext-9", "bad@example.test", "Ada"), t0).User
	u.EmailStatus, u.EmailStatusAt = gdpr.EmailUndeliverable, t0
	_, err := w.store.UpdateUser(t.Context(), u)
	require.NoError(t, err)

	same := w.upsert(t, profile("ext-9", "BAD@example.test", "Augusta"), t0.Add(time.Minute))
	require.Equal(t, gdpr.EmailUndeliverable, same.User.EmailStatus, "the same mailbox, spelt otherwise, stays refused")
	moved := w.upsert(t, profile("ext-9", "good@example.test", "Augusta"), t0.Add(2*time.Minute))
	require.Equal(t, gdpr.ProvisionUpdated, moved.Outcome)
	require.Equal(t, gdpr.EmailOK, moved.User.EmailStatus)
	require.True(t, moved.User.EmailStatusAt.IsZero())
}
