package gdpr_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

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
	w.contacts, err = gdpr.NewContactService(gdpr.Core{Brands: w.store, Hasher: w.hasher, Clock: w.clock},
		gdpr.ContactDeps{Contacts: w.store, Owners: w.store, Users: w.store, Claims: w.store, Blacklist: w.store, Audit: w.store,
			Queue: w.queue, Tokens: w.store, OptOuts: w.store})
	require.NoError(t, err)
	for _, ext := range []string{"seller-1", "seller-2"} {
		w.members = append(w.members, w.upsert(t, profile(ext, ext+"@brand.example", "Seller"), w.clock.Now()).User.ID)
	}
	// Manual entry is off by default (R-RET-4); these tests enter contacts by hand.
	_, _, err = w.svc.brands.PutBrand(t.Context(), "acme", gdpr.BrandSettings{Name: "Acme", SSOExclusive: true,
		Contacts: gdpr.ContactSettings{ManualEntry: true}})
	require.NoError(t, err)
	return w
}

func order(id, member, email string, optIn bool) gdpr.Order {
	o := gdpr.Order{OrderID: id, MemberID: member, Amount: "49.90", Currency: "EUR",
		Products: []gdpr.SaleLine{{SKU: "LIPSTICK-01", Quantity: 2}}, BrandOptIn: &optIn}
	o.Contact.Email, o.Contact.FirstName, o.Contact.LastName = email, "Cleo", "Client"
	return o
}

// TestOrdersCreateContactsPerR_CONSENT_3: a new contact from an order gets Member "opt-in from
// order" and Brand "from brand database" when the customer agreed, both "storage only"
// otherwise; the change is proven by the order id; the sale is recorded.
func TestOrdersCreateContactsPerR_CONSENT_3(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	for _, c := range []struct {
		optIn  bool
		member gdpr.MemberOptIn
		brand  gdpr.BrandOptIn
	}{{true, gdpr.MemberOptInFromOrder, gdpr.BrandOptInDatabase}, {false, gdpr.MemberStorageOnly, gdpr.BrandOptInStorageOnly}} {
		email := map[bool]string{true: "yes@example.test", false: "no@example.test"}[c.optIn]
		id := map[bool]string{true: "o-yes", false: "o-no"}[c.optIn]
		res, err := w.contacts.RecordOrder(ctx, "acme", order(id, w.members[0], email, c.optIn))
		require.NoError(t, err)
		require.Equal(t, gdpr.OrderContactCreated, res.Outcome)
		got, err := w.store.GetContact(ctx, "acme", res.ContactID)
		require.NoError(t, err)
		require.Equal(t, c.member, got.MemberOptIn.Value)
		require.Equal(t, c.brand, got.BrandOptIn.Value)
		require.Len(t, got.History, 2, "both changes proven")
		require.Equal(t, gdpr.ConsentSource{Kind: gdpr.SourceKindOrder, Ref: id}, got.History[0].Source)
		require.Len(t, got.Sales, 1)
		require.Equal(t, "49.90", got.Sales[0].Amount)
	}
}

// TestOrdersAreIdempotentAndOnePerMember: an orderId applies once; another order of the same
// customer adds a sale to the same contact; another Member's customer with the same address
// is another contact (R-CONSENT-5).
func TestOrdersAreIdempotentAndOnePerMember(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	first, err := w.contacts.RecordOrder(ctx, "acme", order("o-1", w.members[0], "cleo@example.test", true))
	require.NoError(t, err)
	again, err := w.contacts.RecordOrder(ctx, "acme", order("o-1", w.members[0], "cleo@example.test", true))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderResult{Outcome: gdpr.OrderReplayed, ContactID: first.ContactID}, again)
	second, err := w.contacts.RecordOrder(ctx, "acme", order("o-2", w.members[0], "CLEO@example.test", false))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderResult{Outcome: gdpr.OrderSaleRecorded, ContactID: first.ContactID}, second)
	c, err := w.store.GetContact(ctx, "acme", first.ContactID)
	require.NoError(t, err)
	require.Len(t, c.Sales, 2)
	require.Equal(t, gdpr.MemberOptInFromOrder, c.MemberOptIn.Value, "a later order does not change the consent")

	other, err := w.contacts.RecordOrder(ctx, "acme", order("o-3", w.members[1], "cleo@example.test", true))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderContactCreated, other.Outcome)
	require.NotEqual(t, first.ContactID, other.ContactID, "R-CONSENT-5: stored once per Member")
}

// TestOrderToABlacklistedAddressCreatesNothing (R-MAIL-4): a global opt-out refuses any later
// creation of the contact, by digest (a bounce does not:
// TestContacts_R_MAIL_4_bouncesBlockMailNotCreation).
func TestOrderToABlacklistedAddressCreatesNothing(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	require.NoError(t, w.store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: w.hasher.EmailDigest("gone@example.test"),
		Reason: gdpr.BlacklistGlobalOptOut, CreatedAt: w.clock.Now()}))
	res, err := w.contacts.RecordOrder(ctx, "acme", order("o-9", w.members[0], "Gone@example.test", true))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderBlacklisted, res.Outcome)
	views, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Empty(t, views)
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
	res, err = w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "X@EX\u00c4MPLE.TEST"})
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderBlacklisted, res.Outcome, "manual contact")
	sync, err := w.contacts.Sync(ctx, "acme", gdpr.SyncBatch{BatchID: "b-idn", Contacts: []gdpr.SyncContact{{MemberID: w.members[0], Email: "x@ex\u00e4mple.test"}}})
	require.NoError(t, err)
	require.Equal(t, 1, sync.Blacklisted, "sync")
	views, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Empty(t, views)

	created, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "y@ex\u00e4mple.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderContactCreated, created.Outcome)
	c, err := w.store.GetContact(ctx, "acme", created.ContactID)
	require.NoError(t, err)
	require.Equal(t, "y@xn--exmple-cua.test", c.Email, "stored canonical")
	again, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "y@exa\u0308mple.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderResult{Outcome: gdpr.ContactExists, ContactID: created.ContactID}, again, "R-CONSENT-5: one contact per mailbox")

	_, err = w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "z@xn--zz.test"})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
	require.NotContains(t, err.Error(), "xn--zz")
}

// TestContactAccessRules: a Member reads its own contacts only, an opted-out address hidden
// (R-ACCESS-2, R-RET-7); the Brand reads only contacts with a Brand opt-in (R-ACCESS-1).
func TestContactAccessRules(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	agreed, err := w.contacts.RecordOrder(ctx, "acme", order("o-a", w.members[0], "agreed@example.test", true))
	require.NoError(t, err)
	refused, err := w.contacts.RecordOrder(ctx, "acme", order("o-b", w.members[0], "stored@example.test", false))
	require.NoError(t, err)
	_, err = w.contacts.RecordOrder(ctx, "acme", order("o-c", w.members[1], "theirs@example.test", true))
	require.NoError(t, err)
	c, err := w.store.GetContact(ctx, "acme", agreed.ContactID)
	require.NoError(t, err)
	require.NoError(t, c.ChangeMemberOptIn(gdpr.MemberOptOutFromEmail, gdpr.ConsentSource{Kind: gdpr.SourceKindMailjet, Ref: "mail_1"}, w.clock.Now().Add(time.Minute)))
	_, err = w.store.UpdateContact(ctx, c)
	require.NoError(t, err)

	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Len(t, mine, 2, "R-ACCESS-2: only the member's own")
	for _, v := range mine {
		require.Equal(t, w.members[0], v.MemberID)
		if v.ID == agreed.ContactID {
			require.True(t, v.EmailHidden)
			require.Empty(t, v.Email, "R-RET-7: an opted-out address is hidden from the member")
		}
	}
	brand, next, err := w.contacts.BrandContacts(ctx, "acme", "", 100)
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, brand, 3, "storage only is shown to the brand (R-ACCESS-1)")
	for _, v := range brand {
		require.NotEqual(t, gdpr.BrandOptInNone, v.BrandOptIn)
	}
	_ = refused
}

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

// TestManualContact (R-RET-4, R-ACCESS-1, R-MAIL-4): a contact a Member enters is "new" and
// hidden from the Brand; an address on the blacklist is refused; entering it twice finds it.
func TestManualContact(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	in := gdpr.ManualContact{Email: "friend@example.test", FirstName: "Fran"}
	res, err := w.contacts.CreateManual(ctx, "acme", w.members[0], in)
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderContactCreated, res.Outcome)
	again, err := w.contacts.CreateManual(ctx, "acme", w.members[0], in)
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderResult{Outcome: gdpr.ContactExists, ContactID: res.ContactID}, again)
	c, err := w.store.GetContact(ctx, "acme", res.ContactID)
	require.NoError(t, err)
	require.Equal(t, gdpr.MemberOptInNew, c.MemberOptIn.Value)
	require.Equal(t, gdpr.BrandOptInNone, c.BrandOptIn.Value)
	brand, _, err := w.contacts.BrandContacts(ctx, "acme", "", 100)
	require.NoError(t, err)
	require.Empty(t, brand, "R-ACCESS-1: without a Brand opt-in the Brand cannot read it")

	require.NoError(t, w.store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: w.hasher.EmailDigest("no@example.test"),
		Reason: gdpr.BlacklistGlobalOptOut, CreatedAt: w.clock.Now()}))
	res, err = w.contacts.CreateManual(ctx, "acme", w.members[1], gdpr.ManualContact{Email: "No@Example.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderBlacklisted, res.Outcome, "R-MAIL-4: refused by digest")
	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[1])
	require.NoError(t, err)
	require.Empty(t, mine)
}

// TestOrder_R_CONSENT_3_brandOptInNotSetIsStorageOnly (issue 23, item 3): an order without
// brandOptIn is recorded, both opt-ins "storage only", like false.
// guide: "If Brand opt-in parameter is False, or if Brand opt-in parameter is not set: o Both
// Ambassador and Brand opt-ins are set to “Storage only”"
func TestOrder_R_CONSENT_3_brandOptInNotSetIsStorageOnly(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	o := order("o-unset", w.members[0], "unset@example.test", false)
	o.BrandOptIn = nil
	res, err := w.contacts.RecordOrder(ctx, "acme", o)
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderContactCreated, res.Outcome)
	c, err := w.store.GetContact(ctx, "acme", res.ContactID)
	require.NoError(t, err)
	require.Equal(t, gdpr.MemberStorageOnly, c.MemberOptIn.Value)
	require.Equal(t, gdpr.BrandOptInStorageOnly, c.BrandOptIn.Value)
	require.Len(t, c.Sales, 1, "the sale is recorded")
}

// TestMemberContacts_R_RET_6_pendingConfirmationIsInvisible (issue 23, item 6): a blog pop-in
// contact pending email confirmation is not in its Member's list at all, address or not; once
// verified it is.
// guide: "Contacts who received an email to confirm their email address are stored in the
// database, but not visible to ambassadors."
func TestMemberContacts_R_RET_6_pendingConfirmationIsInvisible(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	now := w.clock.Now()
	c := gdpr.Contact{BrandID: "acme", ID: "c_pending", MemberID: w.members[0], Email: "pending@example.test",
		FirstName: "Pat", CreatedAt: now}
	popin := gdpr.ConsentSource{Kind: gdpr.SourceKindPopin, Ref: "popin-1"}
	require.NoError(t, c.ChangeMemberOptIn(gdpr.MemberOptInBlogPending, popin, now))
	require.NoError(t, c.ChangeBrandOptIn(gdpr.BrandOptInNone, popin, now))
	_, err := w.store.CreateContact(ctx, c)
	require.NoError(t, err)

	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Empty(t, mine, "R-RET-6: invisible to the member")

	c, err = w.store.GetContact(ctx, "acme", "c_pending")
	require.NoError(t, err)
	require.NoError(t, c.ChangeMemberOptIn(gdpr.MemberOptInBlogVerified, popin, now.Add(time.Hour)))
	_, err = w.store.UpdateContact(ctx, c)
	require.NoError(t, err)
	mine, err = w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Len(t, mine, 1, "verified: visible")
	require.Equal(t, "pending@example.test", mine[0].Email)
}

// TestMemberContacts_R_CONSENT_8_salesShowDateAndAmountOnly (issue 23, item 7): in the
// Member's CRM a sale is its date and amount, nothing else (no order id, currency or
// products); the Brand's listing (the Manager) shows the products.
// guide: "Date and amount of order : no other detail if displayed in the CRM" and "List of
// products purchased : displayed in the Popsell Manager only"
func TestMemberContacts_R_CONSENT_8_salesShowDateAndAmountOnly(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	_, err := w.contacts.RecordOrder(ctx, "acme", order("o-crm", w.members[0], "buyer@example.test", true))
	require.NoError(t, err)

	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Len(t, mine, 1)
	raw, err := json.Marshal(mine[0])
	require.NoError(t, err)
	var member struct{ Sales []map[string]any }
	require.NoError(t, json.Unmarshal(raw, &member))
	require.Len(t, member.Sales, 1)
	require.Equal(t, "49.90", member.Sales[0]["amount"])
	require.NotEmpty(t, member.Sales[0]["at"])
	require.Len(t, member.Sales[0], 2, "date and amount only, got %v", member.Sales[0])

	brand, _, err := w.contacts.BrandContacts(ctx, "acme", "", 100)
	require.NoError(t, err)
	require.Len(t, brand, 1)
	raw, err = json.Marshal(brand[0])
	require.NoError(t, err)
	var manager struct{ Sales []map[string]any }
	require.NoError(t, json.Unmarshal(raw, &manager))
	require.Len(t, manager.Sales, 1)
	require.Equal(t, []any{map[string]any{"sku": "LIPSTICK-01", "quantity": float64(2)}}, manager.Sales[0]["products"],
		"the Manager shows the products")
	require.Equal(t, "49.90", manager.Sales[0]["amount"])
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
	require.Equal(t, gdpr.OrderContactCreated, man.Outcome)
	require.Equal(t, gdpr.EmailBlocked, status(man.ContactID))
	_, err = w.contacts.Invite(ctx, "acme", w.members[1], man.ContactID)
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err), "nothing is mailed to it")
	man, err = w.contacts.CreateManual(ctx, "acme", w.members[1], gdpr.ManualContact{Email: "out@example.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderBlacklisted, man.Outcome)

	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	byEmail := map[string]gdpr.EmailStatus{}
	for _, v := range mine {
		byEmail[v.Email] = v.EmailStatus
	}
	require.Equal(t, map[string]gdpr.EmailStatus{"spam@example.test": gdpr.EmailSpam, "hard@example.test": gdpr.EmailHardBounce}, byEmail)
}

// TestManualContact_R_RET_4_disabledByDefault (issue 23, item 20): a brand that did not
// reactivate manual entry refuses a Member's contact (CodeForbidden) and stores nothing.
// guide: "As of version 4.0, it is not possible to manually enter new contacts."
func TestManualContact_R_RET_4_disabledByDefault(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	_, _, err := w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme"})
	require.NoError(t, err)
	_, err = w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "typed@example.test"})
	require.Equal(t, gdpr.CodeForbidden, gdpr.ErrorCode(err))
	require.NotContains(t, err.Error(), "typed@example.test")
	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[0])
	require.NoError(t, err)
	require.Empty(t, mine)

	_, _, err = w.svc.brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme", Contacts: gdpr.ContactSettings{ManualEntry: true}})
	require.NoError(t, err)
	res, err := w.contacts.CreateManual(ctx, "acme", w.members[0], gdpr.ManualContact{Email: "typed@example.test"})
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderContactCreated, res.Outcome)
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
	require.Equal(t, gdpr.OrderContactCreated, manual.Outcome, "not 'exists' with a contact nobody can read")
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
