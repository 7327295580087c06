package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// claimListTests and digestTests prove the lists and moves the hash-key rotation runs on
// (gdpr.DigestStore); the first apart, for Memory, which keeps claims only.
var claimListTests = []test{
	{"claims_listed_in_pages_each_once", testListClaims},
}

var digestTests = []test{
	{"blacklist_listed_in_pages_each_once", testListBlacklist},
	{"blacklist_rekey_moves_the_entry_idempotently", testRekeyBlacklist},
	{"whitelist_listed_in_pages_each_once", testListWhitelist},
	{"whitelist_rekey_moves_the_entry_idempotently", testRekeyWhitelist},
	{"soft_bounces_listed_and_rekeyed_idempotently", testRekeySoftBounces},
}

// pageAll reads every page of a list, pageSize at a time, and fails on a page larger than asked.
func pageAll[T any](t *testing.T, pageSize int, page func(after *T, limit int) ([]T, error)) []T {
	t.Helper()
	var all []T
	var after *T
	for range 1000 {
		got, err := page(after, pageSize)
		require.NoError(t, err)
		require.LessOrEqual(t, len(got), pageSize)
		all = append(all, got...)
		if len(got) < pageSize {
			return all
		}
		after = &got[len(got)-1]
	}
	t.Fatal("the list never ended")
	return nil
}

func testListClaims(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for range 7 {
		k := newKey()
		_, err := s.Claim(ctx, gdpr.Claim{BrandID: b, Key: k, Owner: "m_1", CreatedAt: now})
		require.NoError(t, err)
		want = append(want, k)
	}
	// A key with characters a document id cannot hold is listed too.
	odd := "contact:m_1:" + NewDigest()
	_, err := s.Claim(ctx, gdpr.Claim{BrandID: b, Key: odd, Owner: "c_1", CreatedAt: now})
	require.NoError(t, err)
	want = append(want, odd)
	_, err = s.Claim(ctx, gdpr.Claim{BrandID: NewBrandID(), Key: newKey(), Owner: "m_2", CreatedAt: now})
	require.NoError(t, err)

	got := pageAll(t, 3, func(after *gdpr.Claim, limit int) ([]gdpr.Claim, error) {
		key := ""
		if after != nil {
			key = after.Key
		}
		return s.ListClaims(ctx, b, key, limit)
	})
	keys := make([]string, len(got))
	for i, c := range got {
		keys[i] = c.Key
		require.NotEmpty(t, c.Version, "a listed claim carries its version, to be released or replaced")
	}
	require.ElementsMatch(t, want, keys, "every claim of the brand once, none of another")
}

func testListBlacklist(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for range 5 {
		d := NewDigest()
		require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistSpam, now)))
		want = append(want, d)
	}
	wrapped := "h2.h1:" + NewDigest()[3:]
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, wrapped, gdpr.BlacklistHardBounce, now)))
	want = append(want, wrapped)
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(NewBrandID(), NewDigest(), gdpr.BlacklistSpam, now)))

	got := pageAll(t, 2, func(after *gdpr.BlacklistEntry, limit int) ([]gdpr.BlacklistEntry, error) {
		d := ""
		if after != nil {
			d = after.Digest
		}
		return s.ListBlacklist(ctx, b, d, limit)
	})
	digests := make([]string, len(got))
	for i, e := range got {
		digests[i] = e.Digest
	}
	require.ElementsMatch(t, want, digests)
}

func testRekeyBlacklist(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	old, moved := NewDigest(), "h2.h1:"+NewDigest()[3:]
	e := newBlacklistEntry(b, old, gdpr.BlacklistGlobalOptOut, now)
	require.NoError(t, s.PutBlacklist(ctx, e))
	to := e
	to.Digest = moved
	for range 2 { // a move repeated (at-least-once job) ends the same
		require.NoError(t, s.RekeyBlacklist(ctx, old, to))
		_, err := s.GetBlacklist(ctx, b, old)
		require.ErrorIs(t, err, gdpr.ErrNotFound, "the old digest is gone")
		got, err := s.GetBlacklist(ctx, b, moved)
		require.NoError(t, err)
		to.Version = got.Version // the store's own
		RequireSame(t, to, got, "reason and time move with the entry")
	}
	// Moving onto a digest already listed merges the two as PutBlacklist does: of equal
	// strength, the entry there keeps its reason.
	other := newBlacklistEntry(b, NewDigest(), gdpr.BlacklistSpam, now)
	require.NoError(t, s.PutBlacklist(ctx, other))
	onto := other
	onto.Digest, onto.Reason = moved, gdpr.BlacklistSpam
	require.NoError(t, s.RekeyBlacklist(ctx, other.Digest, onto))
	got, err := s.GetBlacklist(ctx, b, moved)
	require.NoError(t, err)
	require.Equal(t, gdpr.BlacklistGlobalOptOut, got.Reason)

	// A stronger reason moved onto a weaker one's digest (a soft-bounce suppression listed
	// under the newest key after the rotation) takes its place; nothing is left under from.
	soft := newBlacklistEntry(b, "h2:"+NewDigest()[3:], gdpr.BlacklistSoftBounce, now)
	hard := newBlacklistEntry(b, NewDigest(), gdpr.BlacklistHardBounce, now)
	require.NoError(t, s.PutBlacklist(ctx, soft, hard))
	onto = hard
	onto.Digest = soft.Digest
	require.NoError(t, s.RekeyBlacklist(ctx, hard.Digest, onto))
	got, err = s.GetBlacklist(ctx, b, soft.Digest)
	require.NoError(t, err)
	require.Equal(t, gdpr.BlacklistHardBounce, got.Reason, "merged, the stronger reason stays")
	_, err = s.GetBlacklist(ctx, b, hard.Digest)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

func testListWhitelist(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	r := gdpr.Role(2)
	var want []gdpr.WhitelistEntry
	for i := range 6 {
		e := gdpr.WhitelistEntry{BrandID: b, Kind: gdpr.WhitelistEmail, Digest: NewDigest(), CreatedAt: now}
		switch i % 3 {
		case 1:
			e.Kind = gdpr.WhitelistCustomerID
		case 2:
			e.Kind, e.Role = gdpr.WhitelistRoleKind(gdpr.WhitelistEmail, r), &r
		}
		want = append(want, e)
	}
	require.NoError(t, s.AddWhitelist(ctx, want...))
	// The same digest under two kinds is two entries.
	same := gdpr.WhitelistEntry{BrandID: b, Kind: gdpr.WhitelistCustomerID, Digest: want[0].Digest, CreatedAt: now}
	require.NoError(t, s.AddWhitelist(ctx, same))
	want = append(want, same)

	got := pageAll(t, 4, func(after *gdpr.WhitelistEntry, limit int) ([]gdpr.WhitelistEntry, error) {
		var a gdpr.WhitelistEntry
		if after != nil {
			a = *after
		}
		return s.ListWhitelist(ctx, b, a, limit)
	})
	require.Len(t, got, len(want))
	for _, w := range want {
		require.True(t, slices.ContainsFunc(got, func(g gdpr.WhitelistEntry) bool { return g.Kind == w.Kind && g.Digest == w.Digest }),
			"entry of kind %s listed", w.Kind)
	}
}

func testRekeyWhitelist(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	old := NewDigest()
	e := gdpr.WhitelistEntry{BrandID: b, Kind: gdpr.WhitelistCustomerID, Digest: old, CreatedAt: now}
	kept := gdpr.WhitelistEntry{BrandID: b, Kind: gdpr.WhitelistEmail, Digest: old, CreatedAt: now}
	require.NoError(t, s.AddWhitelist(ctx, e, kept))
	to := e
	to.Digest = "h2:" + NewDigest()[3:]
	for range 2 {
		require.NoError(t, s.RekeyWhitelist(ctx, old, to))
		requireListed(ctx, t, s, b, e.Kind, old, false)
		requireListed(ctx, t, s, b, e.Kind, to.Digest, true)
		requireListed(ctx, t, s, b, kept.Kind, old, true) // another kind's entry stays
	}
}

func requireListed(ctx context.Context, t *testing.T, s Store, b gdpr.BrandID, kind gdpr.WhitelistKind, digest string, want bool) {
	t.Helper()
	ok, err := s.IsWhitelisted(ctx, b, kind, digest)
	require.NoError(t, err)
	require.Equal(t, want, ok)
}

func testRekeySoftBounces(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for range 5 {
		st, err := s.PutSoftBounces(ctx, gdpr.SoftBounceStreak{BrandID: b, Digest: NewDigest(), Bounces: []gdpr.CountedBounce{{ID: "ev-1", At: now}}})
		require.NoError(t, err)
		want = append(want, st.Digest)
	}
	got := pageAll(t, 2, func(after *gdpr.SoftBounceStreak, limit int) ([]gdpr.SoftBounceStreak, error) {
		a := ""
		if after != nil {
			a = after.Digest
		}
		return s.ListSoftBounces(ctx, b, a, limit)
	})
	var digests []string
	for _, st := range got {
		digests = append(digests, st.Digest)
	}
	require.ElementsMatch(t, want, digests)

	old, err := s.GetSoftBounces(ctx, b, want[0])
	require.NoError(t, err)
	to := old
	to.Digest = "h2.h1:" + NewDigest()[3:]
	for range 2 { // repeated, it ends the same
		require.NoError(t, s.RekeySoftBounces(ctx, old.Digest, to))
		_, err := s.GetSoftBounces(ctx, b, old.Digest)
		require.ErrorIs(t, err, gdpr.ErrNotFound, "the old digest is gone")
		moved, err := s.GetSoftBounces(ctx, b, to.Digest)
		require.NoError(t, err)
		require.Equal(t, old.Bounces[0].ID, moved.Bounces[0].ID, "the bounces move with the streak")
	}
	// A streak the newest key began meanwhile is kept; the old one goes.
	newer, err := s.PutSoftBounces(ctx, gdpr.SoftBounceStreak{BrandID: b, Digest: "h2:" + NewDigest()[3:], Bounces: []gdpr.CountedBounce{{ID: "ev-new", At: now}}})
	require.NoError(t, err)
	onto, err := s.GetSoftBounces(ctx, b, want[1])
	require.NoError(t, err)
	from := onto.Digest
	onto.Digest = newer.Digest
	require.NoError(t, s.RekeySoftBounces(ctx, from, onto))
	kept, err := s.GetSoftBounces(ctx, b, newer.Digest)
	require.NoError(t, err)
	require.Equal(t, "ev-new", kept.Bounces[0].ID)
	_, err = s.GetSoftBounces(ctx, b, from)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}
