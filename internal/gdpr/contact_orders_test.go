package gdpr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

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

// TestOrderWritesTheClaimsItCarries: the claims an order carries (the webhook id that
// brought it) are written with the order's own once it has applied, and by a replay of it
// too (another delivery, another webhook id): each delivery is remembered.
func TestOrderWritesTheClaimsItCarries(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	carried := func(id string) gdpr.Claim {
		return gdpr.Claim{BrandID: "acme", Key: gdpr.ClaimWebhookID + id, Owner: "webhook", CreatedAt: time.Now()}
	}
	first, err := w.contacts.RecordOrder(ctx, "acme", order("o-1", w.members[0], "cleo@example.test", true), carried("msg_1"))
	require.NoError(t, err)
	for _, key := range []string{"order:o-1", gdpr.ClaimWebhookID + "msg_1"} {
		_, err := w.store.GetClaim(ctx, "acme", key)
		require.NoError(t, err, key)
	}
	again, err := w.contacts.RecordOrder(ctx, "acme", order("o-1", w.members[0], "cleo@example.test", true), carried("msg_2"))
	require.NoError(t, err)
	require.Equal(t, gdpr.OrderResult{Outcome: gdpr.OrderReplayed, ContactID: first.ContactID}, again)
	_, err = w.store.GetClaim(ctx, "acme", gdpr.ClaimWebhookID+"msg_2")
	require.NoError(t, err, "the replay's delivery is remembered too")
}
