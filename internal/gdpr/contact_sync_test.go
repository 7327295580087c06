package gdpr_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestSyncPerR_CONSENT_4: an imported opt-in gives both opt-ins, none gives Member "new" and
// Brand "storage only"; only direct-selling brands or employees; a globally opted-out address
// is refused and counted; a delete erases a synchronised contact with one audit record (R-RET-9)
// and lets the address come back as new.
func TestSyncPerR_CONSENT_4(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	batch := func(id string, cs ...gdpr.SyncContact) gdpr.SyncBatch {
		return gdpr.SyncBatch{BatchID: id, Contacts: cs}
	}

	_, err := w.contacts.Sync(ctx, "acme", batch("b-0", gdpr.SyncContact{MemberID: w.members[0], Email: "x@example.test"}))
	require.Equal(t, gdpr.CodeForbidden, gdpr.ErrorCode(err), "a classic brand's ambassador: refused")

	_, _, err = w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", Pro: gdpr.ProDirectSelling,
		Contacts: gdpr.ContactSettings{ManualEntry: true}})
	require.NoError(t, err)
	require.NoError(t, w.store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: w.hasher.EmailDigest("gone@example.test"),
		Reason: gdpr.BlacklistGlobalOptOut, CreatedAt: w.clock.Now()}))
	res, err := w.contacts.Sync(ctx, "acme", batch("b-1",
		gdpr.SyncContact{MemberID: w.members[0], Email: "in@example.test", OptIn: true},
		gdpr.SyncContact{MemberID: w.members[0], Email: "none@example.test"},
		gdpr.SyncContact{MemberID: w.members[0], Email: "gone@example.test", OptIn: true}))
	require.NoError(t, err)
	require.Equal(t, gdpr.SyncResult{Created: 2, Blacklisted: 1}, res)

	views, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	got := map[string]gdpr.ContactView{}
	for _, v := range views {
		got[v.Email] = v
	}
	require.Equal(t, gdpr.MemberOptInFromBrand, got["in@example.test"].MemberOptIn)
	require.Equal(t, gdpr.BrandOptInDatabase, got["in@example.test"].BrandOptIn)
	require.Equal(t, gdpr.MemberOptInNew, got["none@example.test"].MemberOptIn)
	require.Equal(t, gdpr.BrandOptInStorageOnly, got["none@example.test"].BrandOptIn)
	require.Equal(t, "b-1", got["in@example.test"].History[0].Source.Ref, "the batch is the proof")

	for range 2 { // a repeated delete is harmless
		_, err = w.contacts.Sync(ctx, "acme", batch("b-2", gdpr.SyncContact{MemberID: w.members[0], Email: "in@example.test", Delete: true}))
		require.NoError(t, err)
	}
	recs, err := w.store.ListErasures(ctx, "acme", "", 10)
	require.NoError(t, err)
	require.Len(t, recs, 1, "R-ERASE-9: one record")
	require.Equal(t, gdpr.RuleSyncDelete, recs[0].Rule)
	c, err := w.store.GetContact(ctx, "acme", got["in@example.test"].ID)
	require.NoError(t, err)
	require.True(t, c.Erased())
	require.True(t, w.hasher.IsDigest(c.Email), "R-ERASE-3: the address hashed")

	res, err = w.contacts.Sync(ctx, "acme", batch("b-3", gdpr.SyncContact{MemberID: w.members[0], Email: "in@example.test"}))
	require.NoError(t, err)
	require.Equal(t, 1, res.Created, "the address comes back as a new contact")
}

// TestSync_R_CONSENT_4_updatesExistingContacts (issue 23, item 9): a later batch applies the
// brand's newer statuses and names to the contacts it synchronised, dated and proven by the
// batch, a Brand opt-in withdrawn back to "none" included, and counts them "updated"; the same
// batch again changes nothing; a contact's own refusal (an opt-out) is never overridden.
// guide: "A data synchronization process can be setup with the Brand, in order to import and
// regularly update contacts data, from a database owned by the Brand."
func TestSync_R_CONSENT_4_updatesExistingContacts(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	_, _, err := w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", Pro: gdpr.ProDirectSelling,
		Contacts: gdpr.ContactSettings{ManualEntry: true}})
	require.NoError(t, err)
	m := w.members[0]
	sync := func(id string, cs ...gdpr.SyncContact) gdpr.SyncResult {
		t.Helper()
		res, err := w.contacts.Sync(ctx, "acme", gdpr.SyncBatch{BatchID: id, Contacts: cs})
		require.NoError(t, err)
		return res
	}
	get := func(email string) gdpr.Contact {
		t.Helper()
		cs, err := w.store.ContactsOfMembers(ctx, "acme", []string{m})
		require.NoError(t, err)
		for _, c := range cs {
			if c.Email == email {
				return c
			}
		}
		t.Fatalf("no contact for %s", email)
		return gdpr.Contact{}
	}
	require.Equal(t, gdpr.SyncResult{Created: 3}, sync("b-1",
		gdpr.SyncContact{MemberID: m, Email: "ann@example.test", FirstName: "Ann", OptIn: true},
		gdpr.SyncContact{MemberID: m, Email: "bob@example.test", FirstName: "Bob"},
		gdpr.SyncContact{MemberID: m, Email: "cat@example.test", FirstName: "Cat", OptIn: true}))

	// Cat unsubscribes from a Member's mail: her own refusal.
	cat := get("cat@example.test")
	require.NoError(t, cat.ChangeMemberOptIn(gdpr.MemberOptOutFromEmail, gdpr.ConsentSource{Kind: gdpr.SourceKindMailjet, Ref: "mail_1"}, w.clock.Now()))
	_, err = w.store.UpdateContact(ctx, cat)
	require.NoError(t, err)

	w.clock.Advance(24 * time.Hour)
	later := w.clock.Now()
	b2 := []gdpr.SyncContact{
		{MemberID: m, Email: "ann@example.test", FirstName: "Anne", LastName: "Lee"}, // withdrew her opt-in
		{MemberID: m, Email: "bob@example.test", FirstName: "Bob", OptIn: true},      // opted in
		{MemberID: m, Email: "cat@example.test", FirstName: "Cat", OptIn: true},      // unchanged at the brand
	}
	require.Equal(t, gdpr.SyncResult{Updated: 2, Unchanged: 1}, sync("b-2", b2...))

	ann := get("ann@example.test")
	require.Equal(t, gdpr.MemberOptInNew, ann.MemberOptIn.Value)
	require.Equal(t, gdpr.BrandOptInNone, ann.BrandOptIn.Value, "the Brand opt-in withdrawn back to none")
	require.True(t, ann.BrandOptIn.At.Equal(later), "dated")
	require.Equal(t, "Anne", ann.FirstName)
	require.Equal(t, "Lee", ann.LastName)
	last := ann.History[len(ann.History)-1]
	require.Equal(t, gdpr.ConsentSource{Kind: gdpr.SourceKindSync, Ref: "b-2"}, last.Source, "the batch is the proof")
	bob := get("bob@example.test")
	require.Equal(t, gdpr.MemberOptInFromBrand, bob.MemberOptIn.Value)
	require.Equal(t, gdpr.BrandOptInDatabase, bob.BrandOptIn.Value)
	require.True(t, bob.MemberOptIn.At.Equal(later))
	require.Equal(t, gdpr.MemberOptOutFromEmail, get("cat@example.test").MemberOptIn.Value, "her own opt-out stands")

	w.clock.Advance(time.Hour)
	require.Equal(t, gdpr.SyncResult{Unchanged: 3}, sync("b-2", b2...), "a replay changes nothing")
	again := get("ann@example.test")
	require.Len(t, again.History, len(ann.History))
	require.True(t, again.BrandOptIn.At.Equal(later), "nor re-dates")

	w.clock.Advance(time.Hour)
	require.Equal(t, gdpr.SyncResult{Updated: 1}, sync("b-3", gdpr.SyncContact{MemberID: m, Email: "ann@example.test", FirstName: "Anne", LastName: "Lee", OptIn: true}))
	require.Equal(t, gdpr.BrandOptInDatabase, get("ann@example.test").BrandOptIn.Value, "opted in again")
}

// TestSync_R_CONSENT_4_membersUnderContract (issue 23, item 15): outside direct selling, the
// sync serves every member under contract with the Brand (R-ROLE: roles 1, 2, 4, 5, 6, and
// vendors unless the brand sells selectively), not employees (role 1) alone; ambassadors and
// a selective brand's vendors are refused.
// guide: "This feature is only available for direct selling scenarios (Members are sales
// representatives of the Brand) or for employees (professionals employed by the Brand or
// sub-contractors)."
func TestSync_R_CONSENT_4_membersUnderContract(t *testing.T) {
	for _, pro := range []gdpr.Pro{gdpr.ProClassic, gdpr.ProSelective} {
		w := newContactWorld(t)
		ctx := t.Context()
		_, _, err := w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", Pro: pro})
		require.NoError(t, err)
		for r := gdpr.RoleAmbassador; r <= gdpr.RoleExpert; r++ {
			p := profile(fmt.Sprintf("role-%d", r), fmt.Sprintf("role%d@brand.example", r), "Role")
			p.Role = &r
			m := w.upsert(t, p, w.clock.Now()).User
			res, err := w.contacts.Sync(ctx, "acme", gdpr.SyncBatch{BatchID: fmt.Sprintf("b-%d", r),
				Contacts: []gdpr.SyncContact{{MemberID: m.ID, Email: fmt.Sprintf("c%d@example.test", r)}}})
			if r.UnderContract(pro) {
				require.NoError(t, err, "pro %d role %d", pro, r)
				require.Equal(t, 1, res.Created, "pro %d role %d", pro, r)
			} else {
				require.Equal(t, gdpr.CodeForbidden, gdpr.ErrorCode(err), "pro %d role %d", pro, r)
			}
		}
	}
}
