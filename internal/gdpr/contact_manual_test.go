package gdpr_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestManualContact (R-RET-4, R-ACCESS-1, R-MAIL-4): a contact a Member enters is "new" and
// hidden from the Brand; an address on the blacklist is refused; entering it twice finds it.
func TestManualContact(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	in := gdpr.ManualContact{Email: "friend@example.test", FirstName: "Fran"}
	res, err := w.contacts.CreateManual(ctx, "acme", w.members[0], in)
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualContactCreated, res.Outcome)
	again, err := w.contacts.CreateManual(ctx, "acme", w.members[0], in)
	require.NoError(t, err)
	require.Equal(t, gdpr.ManualResult{Outcome: gdpr.ManualContactExists, ContactID: res.ContactID}, again)
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
	require.Equal(t, gdpr.ManualBlacklisted, res.Outcome, "R-MAIL-4: refused by digest")
	mine, err := w.contacts.MemberContacts(ctx, "acme", w.members[1])
	require.NoError(t, err)
	require.Empty(t, mine)
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
	require.Equal(t, gdpr.ManualContactCreated, res.Outcome)
}

// TestManualResultKeepsItsWireShape: a manual entry's answer has its own type, and the HTTP
// body it becomes is the one the platform already reads: an outcome and, unless refused, the
// contact's id.
func TestManualResultKeepsItsWireShape(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	body := func(in gdpr.ManualContact) (gdpr.ManualResult, string) {
		res, err := w.contacts.CreateManual(ctx, "acme", w.members[0], in)
		require.NoError(t, err)
		b, err := json.Marshal(res)
		require.NoError(t, err)
		return res, string(b)
	}
	created, b := body(gdpr.ManualContact{Email: "wire@example.test"})
	require.Equal(t, `{"outcome":"contact_created","contactId":"`+created.ContactID+`"}`, b)
	_, b = body(gdpr.ManualContact{Email: "wire@example.test"})
	require.Equal(t, `{"outcome":"exists","contactId":"`+created.ContactID+`"}`, b)
	require.NoError(t, w.store.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: "acme", Digest: w.hasher.EmailDigest("gone@example.test"),
		Reason: gdpr.BlacklistGlobalOptOut, CreatedAt: w.clock.Now()}))
	_, b = body(gdpr.ManualContact{Email: "gone@example.test"})
	require.Equal(t, `{"outcome":"blacklisted"}`, b)
}
