package gdpr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// drainErasures delivers every erasure job published from the queue's index from on, the
// jobs those publish included, until none is left; it returns the next index.
func (w *crashWorld) drainErasures(t *testing.T, from int) int {
	t.Helper()
	for from < len(w.queue.msgs) {
		m := w.queue.msgs[from]
		from++
		if !strings.HasPrefix(m.ID, "erase:") {
			continue // mail jobs are not this worker's
		}
		require.NoError(t, w.svc.erasure.HandleErasureJob(t.Context(), m.Body))
	}
	return from
}

// endContractAndErase ends the crash brand's contract, moves the clock past its grace period
// and runs every job that follows.
func (w *crashWorld) endContractAndErase(t *testing.T, from int) int {
	t.Helper()
	b, err := w.svc.retention.EndContract(t.Context(), "crash")
	require.NoError(t, err)
	w.clock.Set(b.ContractEnd.DueAt.Add(time.Second))
	return w.drainErasures(t, from)
}

// TestRErase7ContractEndErasesContactsKeptForTheirBrandOptIn: a contact kept when its member
// unsubscribed (it had a Brand opt-in, R-ERASE-6) is erased at the end of the brand's
// contract, with an audit record.
// guide: "all personal data (Users and Contacts) will be deleted (hashed) within a delay of 7 days"
func TestRErase7ContractEndErasesContactsKeptForTheirBrandOptIn(t *testing.T) {
	w := newCrashWorld(t, 1)
	ctx := t.Context()
	next := w.drainErasures(t, 0) // the member's own erasure (R-ERASE-5, R-ERASE-6)
	kept, err := w.store.GetContact(ctx, "crash", "c_0_2")
	require.NoError(t, err)
	require.False(t, kept.Erased(), "R-ERASE-6: kept for its Brand opt-in")

	w.endContractAndErase(t, next)
	got, err := w.store.GetContact(ctx, "crash", "c_0_2")
	require.NoError(t, err)
	require.True(t, got.Erased(), "R-ERASE-7: every contact of the brand")
	require.Equal(t, w.hash.EmailDigest(kept.Email), got.Email, "R-ERASE-3: email hashed")
	require.Empty(t, got.FirstName)

	recs, err := w.store.ListErasures(ctx, "crash", "", 100)
	require.NoError(t, err)
	require.Len(t, recs, 2, "the member's erasure, then the contract end's")
	require.Equal(t, gdpr.RuleBrandContractEnd, recs[1].Rule)
	require.Equal(t, 1, recs[1].ContactsErased)
	require.Equal(t, 0, recs[1].ContactsKept)

	before := w.state(t)
	w.endContractAndErase(t, 0) // every job delivered again: nothing more happens
	require.Equal(t, before, w.state(t))
}

// TestRErase7ContractEndErasesSyncedContacts: a contact synchronised from the brand's
// database, which Popsell's own contact rules leave alone (R-RET-9), is erased at the end of
// the brand's contract like every contact.
// guide: "all personal data (Users and Contacts) will be deleted (hashed) within a delay of 7 days"
func TestRErase7ContractEndErasesSyncedContacts(t *testing.T) {
	w := newCrashWorld(t, 1)
	ctx := t.Context()
	now := w.clock.Now()
	_, err := w.store.CreateContact(ctx, gdpr.Contact{BrandID: "crash", ID: "c_sync", MemberID: memberID(0), Email: "synced@example.test",
		FirstName: "Synced", Source: gdpr.SourceBrandSync, CreatedAt: now,
		MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInFromBrand, At: now},
		BrandOptIn:  gdpr.BrandOptInState{Value: gdpr.BrandOptInDatabase, At: now}})
	require.NoError(t, err)
	w.endContractAndErase(t, 0)
	got, err := w.store.GetContact(ctx, "crash", "c_sync")
	require.NoError(t, err)
	require.True(t, got.Erased())
	require.Equal(t, w.hash.EmailDigest("synced@example.test"), got.Email)
}
