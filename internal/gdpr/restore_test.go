package gdpr_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/localstore"
)

// restoreWorld is a crash world whose erasures reach a ledger, and a backup of its store
// taken before they ran.
type restoreWorld struct {
	*crashWorld
	ledger gdpr.LedgerStore
	backup crashWorldBackup
}

// crashWorldBackup is the store's documents as a backup holds them.
type crashWorldBackup struct {
	brand    gdpr.Brand
	users    []gdpr.User
	contacts []gdpr.Contact
	claims   []gdpr.Claim
}

// newRestoreWorld seeds members blocked past their grace period, backs the store up, then
// erases them all, each record reaching the ledger.
func newRestoreWorld(t *testing.T, members int) *restoreWorld {
	t.Helper()
	ctx := t.Context()
	w := &restoreWorld{crashWorld: newCrashWorld(t, members)}
	w.ledger = ledgerstore.New(blobstore.NewFolder(filepath.Join(t.TempDir(), "ledger")))
	var err error
	w.backup.brand, err = w.store.GetBrand(ctx, "crash")
	require.NoError(t, err)
	var ids []string
	for i, u := range w.users {
		u, err := w.store.GetUser(ctx, "crash", u.ID)
		require.NoError(t, err)
		w.backup.users, ids = append(w.backup.users, u), append(ids, u.ID)
		c, err := w.store.GetClaim(ctx, "crash", gdpr.ClaimEmail+w.hash.EmailDigest(memberEmail(i)))
		require.NoError(t, err)
		w.backup.claims = append(w.backup.claims, c)
	}
	w.backup.contacts, err = w.store.ContactsOfMembers(ctx, "crash", ids)
	require.NoError(t, err)

	erasure, _ := w.services(t, w.crashWorld)
	for i, err := range erasure.HandleErasureJobs(ctx, w.jobs) {
		require.NoError(t, err, "job %d", i)
	}
	return w
}

// services are the erasure and restore services over cw's store and blobs and the world's
// ledger.
func (w *restoreWorld) services(t *testing.T, cw *crashWorld) (*gdpr.ErasureService, *gdpr.RestoreService) {
	t.Helper()
	store := cw.store
	core := gdpr.Core{Brands: store, Hasher: w.hash, Clock: w.clock}
	ledger, err := gdpr.NewLedgerService(core, w.ledger)
	require.NoError(t, err)
	erasure, err := gdpr.NewErasureService(core, gdpr.ErasureDeps{Users: store, Contacts: store, ContactDocuments: store,
		Claims: store, Audit: store, Ledger: ledger, Blobs: cw.blobs, Queue: w.queue})
	require.NoError(t, err)
	restore, err := gdpr.NewRestoreService(core, gdpr.RestoreDeps{Audit: store, Claims: store, Ledger: w.ledger, Erasure: erasure})
	require.NoError(t, err)
	return erasure, restore
}

// restored is a new store holding the backup, as a restore leaves it, with its own crash
// point, and the world seen over it.
func (w *restoreWorld) restored(t *testing.T) *crashWorld {
	t.Helper()
	ctx := t.Context()
	base, err := localstore.Open(filepath.Join(t.TempDir(), "restored.db"))
	require.NoError(t, err)
	t.Cleanup(func() { base.Close() })
	b := w.backup.brand
	b.Version = ""
	_, err = base.PutBrand(ctx, b)
	require.NoError(t, err)
	for _, u := range w.backup.users {
		_, err := base.CreateUser(ctx, u)
		require.NoError(t, err)
	}
	for _, c := range w.backup.contacts {
		_, err := base.CreateContact(ctx, c)
		require.NoError(t, err)
	}
	for _, c := range w.backup.claims {
		_, err := base.Claim(ctx, c)
		require.NoError(t, err)
	}
	r := *w.crashWorld
	r.crash = &crashPoint{}
	r.store = crashingStore{Store: base, crash: r.crash}
	r.blobs = crashingBlobs{Store: w.blobs.Store, crash: r.crash}
	return &r
}

// TestReplayBringsBackNoErasedPerson_R_ERASE_9: a store restored from before the erasures is
// found behind the ledger and marked; the replay leaves it as the erasures did, with the
// ledger's records; a second replay changes nothing.
func TestReplayBringsBackNoErasedPerson_R_ERASE_9(t *testing.T) {
	ctx := t.Context()
	w := newRestoreWorld(t, 3)
	want := erasedState(t, w.crashWorld)

	r := w.restored(t)
	_, restore := w.services(t, r)
	require.False(t, restore.Pending(ctx), "nothing is known before the check")
	pending, err := restore.Check(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, gdpr.BrandID("crash"), pending[0].BrandID)
	require.True(t, restore.Pending(ctx))
	marker, err := r.store.GetClaim(ctx, "crash", gdpr.RestoreMarkerKey)
	require.NoError(t, err, "the marker is in the store, for every instance")
	require.Equal(t, pending[0].From, marker.Owner)

	reports, err := restore.Replay(ctx)
	require.NoError(t, err)
	require.Equal(t, []gdpr.ReplayReport{{BrandID: "crash", From: pending[0].From, Records: 3, Restored: 3}}, reports)
	require.False(t, restore.Pending(ctx))
	_, err = r.store.GetClaim(ctx, "crash", gdpr.RestoreMarkerKey)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "the marker is removed once replayed")
	require.Equal(t, want, r.state(t), "as the erasures left it, with their records")

	reports, err = restore.Replay(ctx)
	require.NoError(t, err)
	require.Empty(t, reports)
	require.Equal(t, want, r.state(t))
	again, err := restore.Check(ctx)
	require.NoError(t, err)
	require.Empty(t, again, "a replayed store is not behind the ledger")
}

// TestReplaySurvivesACrashAtEveryStep_R_ERASE_9 stops the replay at each of its writes in
// turn: the marker stays, a new process finds it, and its replay ends in the state of an
// uninterrupted one, a record per erasure.
func TestReplaySurvivesACrashAtEveryStep_R_ERASE_9(t *testing.T) {
	ctx := t.Context()
	w := newRestoreWorld(t, 3)
	want := erasedState(t, w.crashWorld)

	ref := w.restored(t)
	_, restore := w.services(t, ref)
	ref.crash.active = true
	_, err := restore.Replay(ctx)
	require.NoError(t, err)
	writes := ref.crash.n
	require.GreaterOrEqual(t, writes, 6, "records, users, contacts, blobs, claims, done")

	for at := 1; at <= writes; at++ {
		t.Run(fmt.Sprintf("crash_at_write_%d_of_%d", at, writes), func(t *testing.T) {
			r := w.restored(t)
			_, restore := w.services(t, r)
			_, err := restore.Check(ctx)
			require.NoError(t, err)
			r.crash.active, r.crash.at = true, at
			_, err = restore.Replay(ctx)
			require.ErrorIs(t, err, errCrash)
			r.crash.at = 0

			_, restarted := w.services(t, r) // the process starts again
			pending, err := restarted.Check(ctx)
			require.NoError(t, err)
			require.Len(t, pending, 1, "the marker outlives the crash")
			require.True(t, restarted.Pending(ctx))
			_, err = restarted.Replay(ctx)
			require.NoError(t, err)
			require.False(t, restarted.Pending(ctx))
			require.Equal(t, want, r.state(t))
		})
	}
}
