package gdpr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

type contactWorld struct {
	*provisionWorld
	contacts *gdpr.ContactService
	hasher   *gdpr.Hasher
	members  []string
}

func newContactWorld(t *testing.T) *contactWorld {
	t.Helper()
	w := &contactWorld{provisionWorld: newProvisionWorld(t)}
	var err error
	w.hasher, err = gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	w.contacts = w.svc.all.Contacts
	for _, ext := range []string{"seller-1", "seller-2"} {
		w.members = append(w.members, w.upsert(t, profile(ext, ext+"@brand.example", "Seller"), w.clock.Now()).User.ID)
	}
	// Manual entry is off by default (R-RET-4); these tests enter contacts by hand.
	_, _, err = w.svc.brands.PutBrand(t.Context(), "acme", gdpr.BrandSettings{Name: "Acme", SSOExclusive: true,
		Contacts: gdpr.ContactSettings{ManualEntry: true}})
	require.NoError(t, err)
	return w
}

// TestContacts_R_MAIL_4_oneMailboxSeveralSpellings (issue 24): a blacklist entry made under
// one spelling of a mailbox refuses the others in orders, manual contacts and syncs; a contact
// is stored under its canonical spelling, once; an invalid IDN domain is an invalid address.
func TestContacts_R_MAIL_4_oneMailboxSeveralSpellings(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	_, _, err := w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", Pro: gdpr.ProDirectSelling,
		Contacts: gdpr.ContactSettings{ManualEntry: true}})
	require.NoError(t, err)
	require.NoError(t, w.store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: w.hasher.EmailDigest("x@exa\u0308mple.test"),
		Reason: gdpr.BlacklistGlobalOptOut, CreatedAt: w.clock.Now()}))

	res, err := w.contacts.RecordOrder(ctx, "acme", order("o-idn", w.members[0], "x@xn--exmple-cua.test", true))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderBlacklisted, res.Outcome, "order")
	manual, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "X@EX\u00c4MPLE.TEST"})
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualBlacklisted, manual.Outcome, "manual contact")
	sync, err := w.contacts.Sync(ctx, "acme", gdpr.SyncBatch{BatchID: "b-idn", Contacts: []gdpr.SyncContact{{MemberID: w.members[0], Email: "x@ex\u00e4mple.test"}}})
	require.NoError(t, err)
	require.Equal(t, 1, sync.Blacklisted, "sync")
	views, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Empty(t, views)

	created, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "y@ex\u00e4mple.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualContactCreated, created.Outcome)
	c, err := w.store.GetContact(ctx, "acme", created.ContactID)
	require.NoError(t, err)
	require.Equal(t, "y@xn--exmple-cua.test", c.Email, "stored canonical")
	again, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "y@exa\u0308mple.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualResult{Outcome: gdpr.ManualContactExists, ContactID: created.ContactID}, again, "R-CONSENT-5: one contact per mailbox")

	_, err = w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "z@xn--zz.test"})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
	require.NotContains(t, err.Error(), "xn--zz")
}

// TestContacts_R_MAIL_4_bouncesBlockMailNotCreation (issue 23, item 18): only a global
// opt-out refuses creating a contact; an address blacklisted for a complaint, a hard bounce or
// a block is created by an order (its sale recorded), a sync or a Member, with the matching
// email status, so that nothing is mailed to it (R-MAIL-1, R-MAIL-3), an invitation included.
// guide: "Global opt-out: ... This enables to block future Members that would import again a
// contact who opted-out." and "Email callbacks: if a definitive error (spam, hard bounce,
// block) has been returned by the messaging platform, this information is stored to ensure to
// block any future communications"
func TestContacts_R_MAIL_4_bouncesBlockMailNotCreation(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	_, _, err := w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", Pro: gdpr.ProDirectSelling,
		Contacts: gdpr.ContactSettings{ManualEntry: true}})
	require.NoError(t, err)
	for _, bl := range []struct {
		email  string
		reason gdpr.BlacklistReason
	}{{"spam@example.test", gdpr.BlacklistSpam}, {"hard@example.test", gdpr.BlacklistHardBounce},
		{"blocked@example.test", gdpr.BlacklistBlocked}, {"out@example.test", gdpr.BlacklistGlobalOptOut}} {
		require.NoError(t, w.store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: w.hasher.EmailDigest(bl.email),
			Reason: bl.reason, CreatedAt: w.clock.Now()}))
	}
	status := func(id string) gdpr.EmailStatus {
		t.Helper()
		c, err := w.store.GetContact(ctx, "acme", id)
		require.NoError(t, err)
		return c.EmailStatus
	}

	res, err := w.contacts.RecordOrder(ctx, "acme", order("o-spam", w.members[0], "spam@example.test", true))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderContactCreated, res.Outcome, "a complaint blocks mail, not the sale")
	require.Equal(t, gdpr.EmailSpam, status(res.ContactID))
	c, err := w.store.GetContact(ctx, "acme", res.ContactID)
	require.NoError(t, err)
	require.Len(t, c.Sales, 1, "the sale is recorded")
	res, err = w.contacts.RecordOrder(ctx, "acme", order("o-out", w.members[0], "out@example.test", true))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderBlacklisted, res.Outcome, "a global opt-out blocks creation")

	sync, err := w.contacts.Sync(ctx, "acme", gdpr.SyncBatch{BatchID: "b-1", Contacts: []gdpr.SyncContact{
		{MemberID: w.members[0], Email: "hard@example.test", OptIn: true}, {MemberID: w.members[0], Email: "out@example.test"}}})
	require.NoError(t, err)
	require.Equal(t, gdpr.SyncResult{Created: 1, Blacklisted: 1}, sync)

	man, err := w.contacts.CreateManual(ctx, "acme", w.members[1], gdpr.ManualContact{Email: "blocked@example.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualContactCreated, man.Outcome)
	require.Equal(t, gdpr.EmailBlocked, status(man.ContactID))
	_, err = w.contacts.Invite(ctx, "acme", w.members[1], man.ContactID)
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "nothing is mailed to it")
	man, err = w.contacts.CreateManual(ctx, "acme", w.members[1], gdpr.ManualContact{Email: "out@example.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualBlacklisted, man.Outcome)

	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	byEmail := map[string]gdpr.EmailStatus{}
	for _, v := range mine {
		byEmail[v.Email] = v.EmailStatus
	}
	require.Equal(t, map[string]gdpr.EmailStatus{"spam@example.test": gdpr.EmailSpam, "hard@example.test": gdpr.EmailHardBounce}, byEmail)
}

// TestContactCreateThatDiedIsRecovered (issue 24's claim protocol, on contacts): a process
// killed between a member's claim on an address and the contact's create left the claim
// naming a contact that never came to exist. Orders for that member and address then failed
// for ever (the claim's contact was not found) and manual entry answered "exists" with a
// contact id nobody could read. Past ClaimLease, a writer fences the dead create with a void
// contact and takes the claim over: the order creates the contact and records its sale.
func TestContactCreateThatDiedIsRecovered(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	dead := func(email, owner string) {
		key := "contact:" + w.members[0] + ":" + w.hasher.EmailDigest(email)
		_, err := w.store.Claim(ctx, gdpr.Claim{BrandID: "acme", Key: key, Owner: owner, CreatedAt: w.clock.Now().Add(-2 * gdpr.ClaimLease)})
		require.NoError(t, err)
	}

	dead("died@example.test", "c_died_in_an_order")
	res, err := w.contacts.RecordOrder(ctx, "acme", order("o-after-crash", w.members[0], "died@example.test", true))
	require.NoError(t, err, "R-CONSENT-5: the order is not refused for ever")
	require.Equal(t, gdpr.OrderContactCreated, res.Outcome)
	c, err := w.store.GetContact(ctx, "acme", res.ContactID)
	require.NoError(t, err)
	require.Len(t, c.Sales, 1)
	void, err := w.store.GetContact(ctx, "acme", "c_died_in_an_order")
	require.NoError(t, err, "the dead create is fenced")
	require.True(t, void.Erased(), "by a void contact that nothing lists")
	again, err := w.contacts.RecordOrder(ctx, "acme", order("o-next", w.members[0], "died@example.test", true))
	require.NoError(t, err)
	require.Equal(t, res.ContactID, again.ContactID, "one contact per member and address")

	dead("died.too@example.test", "c_died_in_a_manual_entry")
	manual, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "died.too@example.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualContactCreated, manual.Outcome, "not 'exists' with a contact nobody can read")
	_, err = w.store.GetContact(ctx, "acme", manual.ContactID)
	require.NoError(t, err)

	_, _, err = w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", Pro: gdpr.ProDirectSelling})
	require.NoError(t, err)
	dead("died.in.sync@example.test", "c_died_in_a_sync")
	res2, err := w.contacts.Sync(ctx, "acme", gdpr.SyncBatch{BatchID: "b-dead", Contacts: []gdpr.SyncContact{
		{MemberID: w.members[0], Email: "died.in.sync@example.test", Delete: true}}})
	require.NoError(t, err, "R-RET-9: a delete of a contact whose create died erases nothing, and fails nothing")
	require.Equal(t, gdpr.SyncResult{Unchanged: 1}, res2)
	res2, err = w.contacts.Sync(ctx, "acme", gdpr.SyncBatch{BatchID: "b-after", Contacts: []gdpr.SyncContact{
		{MemberID: w.members[0], Email: "died.in.sync@example.test", OptIn: true}}})
	require.NoError(t, err)
	require.Equal(t, gdpr.SyncResult{Created: 1}, res2, "the sync creates the contact the dead create never stored")
}
