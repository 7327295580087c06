package gdpr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestRConsent7UnsubscribeAnswers: "this member" opts one contact out; "all members" reaches
// every Member's copy of the address and blacklists its digest; a later "this member" does
// not undo the global opt-out; an expired link or an erased contact is gone (R-CONSENT-7).
// guide: "Global opt-out: if a contact has decided not to receive any publications from any
// Member, this information is stored in this table (email address is hashed)."
func TestRConsent7UnsubscribeAnswers(t *testing.T) {
	w := newContactWorld(t)
	ctx := t.Context()
	add := func(member, email string) string {
		res, err := w.contacts.CreateManual(ctx, "acme", member, gdpr.ManualContact{Email: email})
		require.NoError(t, err)
		return res.ContactID
	}
	mine, theirs, other := add(w.members[0], "reader@example.test"), add(w.members[1], "Reader@Example.test"), add(w.members[1], "other@example.test")
	token := func(contact, letter string, ttl time.Duration) string {
		tok := strings.Repeat(letter, 43) // the shape of a minted token
		_, err := w.store.CreateToken(ctx, gdpr.Token{BrandID: "acme", Digest: w.hasher.Digest(tok), Purpose: gdpr.TokenContactUnsubscribe,
			UserID: contact, CreatedAt: w.clock.Now(), ExpiresAt: w.clock.Now().Add(ttl)})
		require.NoError(t, err)
		return tok
	}
	optIn := func(id string) gdpr.MemberOptIn {
		c, err := w.store.GetContact(ctx, "acme", id)
		require.NoError(t, err)
		return c.MemberOptIn.Value
	}
	tok := token(mine, "A", time.Hour)
	require.NoError(t, w.contacts.CheckUnsubscribe(ctx, "acme", tok))
	require.Equal(t, gdpr.MemberOptInNew, optIn(mine), "checking changes nothing")

	require.NoError(t, w.contacts.Unsubscribe(ctx, "acme", tok, gdpr.UnsubscribeAllMembers))
	require.Equal(t, gdpr.MemberGlobalOptOut, optIn(mine))
	require.Equal(t, gdpr.MemberGlobalOptOut, optIn(theirs), "the other member's copy of the mailbox")
	require.Equal(t, gdpr.MemberOptInNew, optIn(other))
	entry, err := w.store.GetBlacklist(ctx, "acme", w.hasher.EmailDigest("reader@example.test"))
	require.NoError(t, err)
	require.Equal(t, gdpr.BlacklistGlobalOptOut, entry.Reason)
	c, err := w.store.GetContact(ctx, "acme", theirs)
	require.NoError(t, err)
	last := c.History[len(c.History)-1]
	require.Equal(t, gdpr.SourceKindUnsubscribe, last.Source.Kind, "proven by the contact's own answer")

	before := c.Version
	require.NoError(t, w.contacts.Unsubscribe(ctx, "acme", tok, gdpr.UnsubscribeThisMember))
	require.NoError(t, w.contacts.Unsubscribe(ctx, "acme", tok, gdpr.UnsubscribeAllMembers))
	c, err = w.store.GetContact(ctx, "acme", theirs)
	require.NoError(t, err)
	require.Equal(t, before, c.Version, "repeated answers change nothing")
	require.Equal(t, gdpr.MemberGlobalOptOut, optIn(mine), "this member after all members undoes nothing")

	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(w.contacts.Unsubscribe(ctx, "acme", tok, "everyone")))
	expired := token(other, "B", time.Hour)
	w.clock.Set(w.clock.Now().Add(time.Hour))
	require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(w.contacts.Unsubscribe(ctx, "acme", expired, gdpr.UnsubscribeThisMember)))
	require.Equal(t, gdpr.MemberOptInNew, optIn(other))
}
