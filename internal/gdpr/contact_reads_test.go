package gdpr_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

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
