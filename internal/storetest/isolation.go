package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

var isolationTests = []test{
	{"R-TEN-1_brand_cannot_read_other_brand", testIsolationRead},
	{"R-TEN-1_brand_cannot_change_other_brand", testIsolationWrite},
}

// twin is one brand's copy of documents whose ids and keys the other brand reuses, so only
// the brand tells them apart.
type twin struct {
	brand   gdpr.BrandID
	user    gdpr.User
	contact gdpr.Contact
	claim   gdpr.Claim
	black   gdpr.BlacklistEntry
	token   gdpr.Token
	erasure gdpr.ErasureRecord
}

// newTwins stores the same ids in brands a and b, with contents that differ; b also has a
// whitelist entry that a lacks.
func newTwins(t *testing.T, s Store) (a, b twin) {
	ctx := t.Context()
	u, c, tok, r := NewUser(""), NewContact("", "usr-member"), NewToken("", "usr-x"), NewErasure("")
	u.NextReviewAt, c.NextReviewAt = now.Add(-time.Hour), now.Add(-time.Hour)
	key, digest := newKey(), NewDigest()
	var twins [2]twin
	for i, brand := range []gdpr.BrandID{NewBrandID(), NewBrandID()} {
		tw := &twins[i]
		tw.brand = brand
		text := string(brand)

		u.BrandID, u.Alias = brand, text
		var err error
		tw.user, err = s.CreateUser(ctx, u)
		require.NoError(t, err)

		c.BrandID, c.Notes = brand, text
		tw.contact, err = s.CreateContact(ctx, c)
		require.NoError(t, err)

		tw.claim, err = s.Claim(ctx, NewClaim(brand, key, text, now, time.Time{}))
		require.NoError(t, err, "a key held in another brand is free in this one")

		tw.black = newBlacklistEntry(brand, digest, []gdpr.BlacklistReason{gdpr.BlacklistSpam, gdpr.BlacklistBlocked}[i], now)
		require.NoError(t, s.PutBlacklist(ctx, tw.black))
		tw.black = getListed(t, s, brand, digest)

		tok.BrandID, tok.UserID = brand, text
		tw.token, err = s.CreateToken(ctx, tok)
		require.NoError(t, err)

		r.BrandID, r.SubjectID = brand, text
		tw.erasure, err = putErasure(ctx, s, r)
		require.NoError(t, err)
	}
	require.NoError(t, s.AddWhitelist(ctx, gdpr.WhitelistEntry{BrandID: twins[1].brand, Kind: gdpr.WhitelistEmail, Digest: digest, CreatedAt: now}))
	return twins[0], twins[1]
}

// requireOwn proves every read of brand a returns a's documents and nothing of b's.
func requireOwn(t *testing.T, s Store, a twin) {
	t.Helper()
	ctx, b := t.Context(), a.brand

	u, err := s.GetUser(ctx, b, a.user.ID)
	require.NoError(t, err)
	RequireSame(t, a.user, u)
	us, err := s.ListUsers(ctx, b, "", 100)
	require.NoError(t, err)
	require.Len(t, us, 1)
	RequireSame(t, a.user, us[0])
	for _, after := range []gdpr.DueCursor{{}, {At: a.user.NextReviewAt}} {
		us, err = s.DueUsers(ctx, b, now, after, 100)
		require.NoError(t, err)
		require.Len(t, us, 1, "after %v", after)
		RequireSame(t, a.user, us[0])
	}
	us, err = s.DueUsers(ctx, b, now, gdpr.DueCursor{At: a.user.NextReviewAt, ID: a.user.ID}, 100)
	require.NoError(t, err)
	require.Empty(t, us, "b's twin, with the same id and time, is not after a's cursor in a")

	c, err := s.GetContact(ctx, b, a.contact.ID)
	require.NoError(t, err)
	RequireSame(t, a.contact, c)
	for _, list := range []func() ([]gdpr.Contact, error){
		func() ([]gdpr.Contact, error) { return s.ListContacts(ctx, b, "", 100) },
		func() ([]gdpr.Contact, error) { return s.DueContacts(ctx, b, now, gdpr.DueCursor{}, 100) },
		func() ([]gdpr.Contact, error) {
			return s.DueContacts(ctx, b, now, gdpr.DueCursor{At: a.contact.NextReviewAt}, 100)
		},
		func() ([]gdpr.Contact, error) {
			return s.ContactsOfMembers(ctx, b, []string{a.contact.MemberID, "usr-nobody"})
		},
	} {
		cs, err := list()
		require.NoError(t, err)
		require.Len(t, cs, 1)
		RequireSame(t, a.contact, cs[0])
	}

	cl, err := s.GetClaim(ctx, b, a.claim.Key)
	require.NoError(t, err)
	RequireSame(t, a.claim, cl)

	bl, err := s.GetBlacklist(ctx, b, a.black.Digest)
	require.NoError(t, err)
	requireEntry(t, a.black, bl)

	tok, err := s.GetToken(ctx, b, a.token.Digest)
	require.NoError(t, err)
	RequireSame(t, a.token, tok)

	rs, err := s.ListErasures(ctx, b, "", 100)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	RequireSame(t, a.erasure, rs[0])

	removals, err := s.ListBlacklistRemovals(ctx, b, "", 100)
	require.NoError(t, err)
	require.Empty(t, removals, "the other brand's blacklist removals are not listed")
}

func testIsolationRead(t *testing.T, s Store) {
	a, b := newTwins(t, s)
	requireOwn(t, s, a)
	requireOwn(t, s, b)

	listed, err := s.IsWhitelisted(t.Context(), a.brand, gdpr.WhitelistEmail, b.black.Digest)
	require.NoError(t, err)
	require.False(t, listed, "b's whitelist does not authorise a signup in a")

	empty := NewBrandID()
	_, err = s.GetUser(t.Context(), empty, a.user.ID)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	_, err = s.GetContact(t.Context(), empty, a.contact.ID)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

func testIsolationWrite(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newTwins(t, s)

	// Versions are per document: a's version never unlocks b's twin, and writes through a leave b.
	u := a.user
	u.Alias = "changed"
	_, err := s.UpdateUser(ctx, u)
	require.NoError(t, err)
	c := a.contact
	c.Notes, c.NextReviewAt = "changed", time.Time{}
	_, err = s.UpdateContact(ctx, c)
	require.NoError(t, err)
	tok := a.token
	tok.UsedAt = now
	_, err = s.UpdateToken(ctx, tok)
	require.NoError(t, err)
	require.NoError(t, s.ReleaseClaims(ctx, a.brand, gdpr.Claim{Key: a.claim.Key, Owner: b.claim.Owner}), "b's owner cannot release a's claim")
	require.NoError(t, s.ReleaseClaims(ctx, a.brand, a.claim))
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(a.brand, NewDigest(), gdpr.BlacklistSpam, now)))
	// a's entry of the digest both brands list goes; b's stays (requireOwn below).
	require.NoError(t, s.RemoveBlacklist(ctx, a.black, newRemoval(a.brand, "blr_x", a.black)))
	_, err = putErasure(ctx, s, NewErasure(a.brand))
	require.NoError(t, err)

	requireOwn(t, s, b)

	_, err = s.GetClaim(ctx, a.brand, a.claim.Key)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a's own owner released it")
}
