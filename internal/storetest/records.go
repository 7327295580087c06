package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

var claimTests = []test{
	{"free_key_is_claimed", testClaimFree},
	{"held_key_conflicts_and_returns_holder", testClaimHeld},
	{"unexpired_key_conflicts", testClaimUnexpired},
	{"expired_key_can_be_reclaimed", testClaimExpired},
	{"release_only_by_owner", testClaimRelease},
	{"release_missing_is_noop", testClaimReleaseMissing},
	{"release_many_at_once", testClaimReleaseMany},
	{"concurrent_claims_one_wins", testClaimRace},
	{"replace_at_the_version_read", testClaimReplace},
	{"replace_stale_or_released_refused", testClaimReplaceStale},
	{"concurrent_replaces_one_wins", testClaimReplaceRace},
}

func newKey() string { return gdpr.ClaimEmail + NewDigest() }

func testClaimFree(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	_, err := s.GetClaim(ctx, b, key)
	require.ErrorIs(t, err, gdpr.ErrNotFound)

	c := NewClaim(b, key, "usr-a", now, now.Add(time.Hour))
	requireFilled(t, c, "Version")
	got, err := s.Claim(ctx, c)
	require.NoError(t, err)
	require.NotEmpty(t, got.Version)
	c.Version = got.Version
	RequireSame(t, c, got)

	held, err := s.GetClaim(ctx, b, key)
	require.NoError(t, err)
	RequireSame(t, c, held)
}

func testClaimHeld(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	holder, err := s.Claim(ctx, NewClaim(b, key, "usr-a", now, time.Time{}))
	require.NoError(t, err)

	got, err := s.Claim(ctx, NewClaim(b, key, "usr-b", now.AddDate(50, 0, 0), time.Time{}))
	require.ErrorIs(t, err, gdpr.ErrConflict, "a claim without expiry holds until released")
	RequireSame(t, holder, got, "a refused claim returns the holder")

	_, err = s.Claim(ctx, NewClaim(b, key, "usr-a", now.Add(time.Minute), time.Time{}))
	require.ErrorIs(t, err, gdpr.ErrConflict, "the holder too is told the key is held: it reads the owner")
}

func testClaimUnexpired(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	holder, err := s.Claim(ctx, NewClaim(b, key, "usr-a", now, now.Add(time.Hour)))
	require.NoError(t, err)
	got, err := s.Claim(ctx, NewClaim(b, key, "usr-b", now.Add(time.Hour-time.Microsecond), time.Time{}))
	require.ErrorIs(t, err, gdpr.ErrConflict)
	RequireSame(t, holder, got)
}

func testClaimExpired(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	old, err := s.Claim(ctx, NewClaim(b, key, "usr-a", now, now.Add(time.Hour)))
	require.NoError(t, err)

	c := NewClaim(b, key, "usr-b", now.Add(time.Hour), now.Add(2*time.Hour))
	got, err := s.Claim(ctx, c)
	require.NoError(t, err, "a claim is expired at its ExpiresAt")
	require.NotEqual(t, old.Version, got.Version)
	c.Version = got.Version
	RequireSame(t, c, got)

	require.NoError(t, s.ReleaseClaims(ctx, b, gdpr.Claim{Key: key, Owner: "usr-a"}))
	held, err := s.GetClaim(ctx, b, key)
	require.NoError(t, err)
	RequireSame(t, c, held, "the expired owner can no longer release the key")
}

func testClaimRelease(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	holder, err := s.Claim(ctx, NewClaim(b, key, "usr-a", now, time.Time{}))
	require.NoError(t, err)

	require.NoError(t, s.ReleaseClaims(ctx, b, gdpr.Claim{Key: key, Owner: "usr-b"}))
	got, err := s.GetClaim(ctx, b, key)
	require.NoError(t, err)
	RequireSame(t, holder, got, "only the owner releases")

	require.NoError(t, s.ReleaseClaims(ctx, b, gdpr.Claim{Key: key, Owner: "usr-a"}))
	_, err = s.GetClaim(ctx, b, key)
	require.ErrorIs(t, err, gdpr.ErrNotFound)

	_, err = s.Claim(ctx, NewClaim(b, key, "usr-b", now, time.Time{}))
	require.NoError(t, err, "a released key is free")
}

func testClaimReleaseMissing(t *testing.T, s Store) {
	require.NoError(t, s.ReleaseClaims(t.Context(), NewBrandID(), gdpr.Claim{Key: newKey(), Owner: "usr-a"}))
	require.NoError(t, s.ReleaseClaims(t.Context(), NewBrandID()), "releasing nothing is no error")
}

func testClaimReleaseMany(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	mine, theirs, kept := newKey(), newKey(), newKey()
	for key, owner := range map[string]string{mine: "usr-a", theirs: "usr-b", kept: "usr-c"} {
		_, err := s.Claim(ctx, NewClaim(b, key, owner, now, time.Time{}))
		require.NoError(t, err)
	}
	require.NoError(t, s.ReleaseClaims(ctx, b,
		gdpr.Claim{Key: mine, Owner: "usr-a"}, gdpr.Claim{Key: theirs, Owner: "usr-b"},
		gdpr.Claim{Key: kept, Owner: "usr-a"}, gdpr.Claim{Key: newKey(), Owner: "usr-a"}))
	for _, key := range []string{mine, theirs} {
		_, err := s.GetClaim(ctx, b, key)
		require.ErrorIs(t, err, gdpr.ErrNotFound, "released by its owner")
	}
	held, err := s.GetClaim(ctx, b, kept)
	require.NoError(t, err, "a claim named with another owner stays")
	require.Equal(t, "usr-c", held.Owner)
}

func testClaimRace(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	const claimants = 8
	got := make([]gdpr.Claim, claimants)
	errs := make([]error, claimants)
	var wg sync.WaitGroup
	for i := range claimants {
		wg.Go(func() {
			got[i], errs[i] = s.Claim(ctx, NewClaim(b, key, fmt.Sprintf("usr-%d", i), now, time.Time{}))
		})
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		if err == nil {
			require.Empty(t, winner, "two claims won the same key")
			winner = got[i].Owner
		}
	}
	require.NotEmpty(t, winner)
	for i, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, gdpr.ErrConflict)
			require.Equal(t, winner, got[i].Owner, "losers are told who holds the key")
		}
	}
}

func testClaimReplace(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	held, err := s.Claim(ctx, NewClaim(b, key, "usr-a", now, time.Time{}))
	require.NoError(t, err)

	c := NewClaim(b, key, "usr-b", now.Add(time.Minute), time.Time{})
	c.Version = held.Version
	got, err := s.ReplaceClaim(ctx, c)
	require.NoError(t, err)
	require.NotEqual(t, held.Version, got.Version, "a replace moves the version")
	c.Version = got.Version
	RequireSame(t, c, got)
	read, err := s.GetClaim(ctx, b, key)
	require.NoError(t, err)
	RequireSame(t, c, read)

	require.NoError(t, s.ReleaseClaims(ctx, b, gdpr.Claim{Key: key, Owner: "usr-a"}))
	read, err = s.GetClaim(ctx, b, key)
	require.NoError(t, err)
	require.Equal(t, "usr-b", read.Owner, "the replaced owner can no longer release the key")
}

func testClaimReplaceStale(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	held, err := s.Claim(ctx, NewClaim(b, key, "usr-a", now, time.Time{}))
	require.NoError(t, err)
	first := NewClaim(b, key, "usr-b", now, time.Time{})
	first.Version = held.Version
	_, err = s.ReplaceClaim(ctx, first)
	require.NoError(t, err)

	second := NewClaim(b, key, "usr-c", now, time.Time{})
	second.Version = held.Version
	_, err = s.ReplaceClaim(ctx, second)
	require.ErrorIs(t, err, gdpr.ErrConflict, "a replace at a version read before another write is refused")
	second.Version = "made-up"
	_, err = s.ReplaceClaim(ctx, second)
	require.ErrorIs(t, err, gdpr.ErrConflict, "a version the store never gave is refused")
	read, err := s.GetClaim(ctx, b, key)
	require.NoError(t, err)
	require.Equal(t, "usr-b", read.Owner)

	require.NoError(t, s.ReleaseClaims(ctx, b, gdpr.Claim{Key: key, Owner: "usr-b"}))
	second.Version = read.Version
	_, err = s.ReplaceClaim(ctx, second)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a released key is not replaced: it is claimed")
}

func testClaimReplaceRace(t *testing.T, s Store) {
	ctx, b, key := t.Context(), NewBrandID(), newKey()
	held, err := s.Claim(ctx, NewClaim(b, key, "usr-dead", now, time.Time{}))
	require.NoError(t, err)
	const replacers = 8
	errs := make([]error, replacers)
	var wg sync.WaitGroup
	for i := range replacers {
		wg.Go(func() {
			c := NewClaim(b, key, fmt.Sprintf("usr-%d", i), now, time.Time{})
			c.Version = held.Version
			_, errs[i] = s.ReplaceClaim(ctx, c)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, gdpr.ErrConflict)
	}
	require.Equal(t, 1, won, "one replace wins the version read")
}

var blacklistTests = []test{
	{"consent_reason_kept_later_event_advances_lastAt_R-MAIL-1", testBlacklistKeepsConsent},
	{"delivery_reason_replaced_by_consent_R-MAIL-4", testBlacklistConsentReplacesDelivery},
	{"replay_writes_nothing", testBlacklistReplay},
	{"put_many", testBlacklistMany},
	{"get_missing_not_found", testBlacklistMissing},
	{"remove_deletes_and_records", testBlacklistRemove},
	{"remove_at_a_stale_version_changes_nothing", testBlacklistRemoveStale},
	{"remove_missing_not_found", testBlacklistRemoveMissing},
	{"concurrent_removals_one_wins", testBlacklistRemoveRace},
	{"removals_page_in_id_order", testBlacklistRemovalsPage},
}

func newBlacklistEntry(b gdpr.BrandID, digest string, reason gdpr.BlacklistReason, at time.Time) gdpr.BlacklistEntry {
	return gdpr.BlacklistEntry{BrandID: b, Digest: digest, Reason: reason, Source: "mj:1:" + string(reason) + ":1", CreatedAt: at}
}

func newRemoval(b gdpr.BrandID, id string, e gdpr.BlacklistEntry) gdpr.BlacklistRemoval {
	return gdpr.BlacklistRemoval{BrandID: b, ID: id, Reason: e.Reason, Source: e.Source, Since: e.CreatedAt,
		Basis: gdpr.RemovalByAdmin, Why: gdpr.RemovalMailboxFixed, RequestedBy: "ops-7", RemovedAt: now.Add(time.Hour)}
}

// getListed reads an entry that must be there.
func getListed(t *testing.T, s Store, b gdpr.BrandID, digest string) gdpr.BlacklistEntry {
	t.Helper()
	got, err := s.GetBlacklist(t.Context(), b, digest)
	require.NoError(t, err)
	require.NotEmpty(t, got.Version, "a read entry carries its version")
	return got
}

// requireEntry compares an entry as stored, its version aside.
func requireEntry(t *testing.T, want, got gdpr.BlacklistEntry, msgAndArgs ...any) {
	t.Helper()
	want.Version = got.Version
	RequireSame(t, want, got, msgAndArgs...)
}

func testBlacklistKeepsConsent(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	first := newBlacklistEntry(b, d, gdpr.BlacklistSpam, now)
	first.LastAt = now.Add(time.Minute)
	requireFilled(t, first, "Version")
	first.LastAt = time.Time{}
	require.NoError(t, s.PutBlacklist(ctx, first))
	before := getListed(t, s, b, d)
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistHardBounce, now.Add(time.Hour))))

	got := getListed(t, s, b, d)
	want := first
	want.LastAt = now.Add(time.Hour)
	requireEntry(t, want, got, "a complaint keeps its reason; the later bounce is its latest event")
	require.NotEqual(t, before.Version, got.Version, "a later event changes the version a removal is guarded by")
}

func testBlacklistConsentReplacesDelivery(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistHardBounce, now)))
	spam := newBlacklistEntry(b, d, gdpr.BlacklistSpam, now.Add(-time.Hour)) // reported late: still the stronger
	require.NoError(t, s.PutBlacklist(ctx, spam))
	requireEntry(t, spam, getListed(t, s, b, d), "an admin must not be able to remove a complaint under a bounce")
}

func testBlacklistReplay(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	e := newBlacklistEntry(b, d, gdpr.BlacklistBlocked, now)
	require.NoError(t, s.PutBlacklist(ctx, e))
	before := getListed(t, s, b, d)
	require.NoError(t, s.PutBlacklist(ctx, e))
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistHardBounce, now.Add(-time.Hour))))
	after := getListed(t, s, b, d)
	requireEntry(t, e, after)
	require.Equal(t, before.Version, after.Version, "a replayed or older event writes nothing")
}

func testBlacklistMany(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	require.NoError(t, s.PutBlacklist(ctx))
	entries := []gdpr.BlacklistEntry{
		newBlacklistEntry(b, NewDigest(), gdpr.BlacklistSpam, now),
		newBlacklistEntry(b, NewDigest(), gdpr.BlacklistBlocked, now),
		newBlacklistEntry(b, NewDigest(), gdpr.BlacklistGlobalOptOut, now),
	}
	require.NoError(t, s.PutBlacklist(ctx, entries[0]))
	require.NoError(t, s.PutBlacklist(ctx, entries...), "an entry already there does not fail the others")
	for _, e := range entries {
		requireEntry(t, e, getListed(t, s, b, e.Digest))
	}
}

func testBlacklistMissing(t *testing.T, s Store) {
	_, err := s.GetBlacklist(t.Context(), NewBrandID(), NewDigest())
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

func listRemovals(t *testing.T, s Store, b gdpr.BrandID) []gdpr.BlacklistRemoval {
	t.Helper()
	rs, err := s.ListBlacklistRemovals(t.Context(), b, "", 100)
	require.NoError(t, err)
	return rs
}

func testBlacklistRemove(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistHardBounce, now)))
	e := getListed(t, s, b, d)
	r := newRemoval(b, "blr_1", e)
	requireFilled(t, r)
	require.NoError(t, s.RemoveBlacklist(ctx, e, r))

	_, err := s.GetBlacklist(ctx, b, d)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "removed")
	rs := listRemovals(t, s, b)
	require.Len(t, rs, 1)
	RequireSame(t, r, rs[0])

	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistBlocked, now.Add(2*time.Hour))))
	requireEntry(t, newBlacklistEntry(b, d, gdpr.BlacklistBlocked, now.Add(2*time.Hour)), getListed(t, s, b, d),
		"an event after the removal lists the address again")
}

func testBlacklistRemoveStale(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistHardBounce, now)))
	read := getListed(t, s, b, d)
	// The bounce that arrives between the admin's read and the delete.
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistHardBounce, now.Add(time.Minute))))

	err := s.RemoveBlacklist(ctx, read, newRemoval(b, "blr_stale", read))
	require.ErrorIs(t, err, gdpr.ErrConflict)
	got := getListed(t, s, b, d)
	require.Equal(t, now.Add(time.Minute).UTC(), got.LastAt.UTC(), "the re-listing is kept")
	require.Empty(t, listRemovals(t, s, b), "a refused removal leaves no record")
}

func testBlacklistRemoveMissing(t *testing.T, s Store) {
	b := NewBrandID()
	e := newBlacklistEntry(b, NewDigest(), gdpr.BlacklistBlocked, now)
	e.Version = "1"
	err := s.RemoveBlacklist(t.Context(), e, newRemoval(b, "blr_missing", e))
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	require.Empty(t, listRemovals(t, s, b))
}

func testBlacklistRemoveRace(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistHardBounce, now)))
	read := getListed(t, s, b, d)
	const removers = 8
	errs := make([]error, removers)
	var wg sync.WaitGroup
	for i := range removers {
		wg.Go(func() { errs[i] = s.RemoveBlacklist(ctx, read, newRemoval(b, fmt.Sprintf("blr_%d", i), read)) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.True(t, errors.Is(err, gdpr.ErrNotFound) || errors.Is(err, gdpr.ErrConflict), "%v", err)
	}
	require.Equal(t, 1, won, "one removal wins the version read")
	require.Len(t, listRemovals(t, s, b), 1, "and only the winner is recorded")
}

func testBlacklistRemovalsPage(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for i := range 3 {
		d := NewDigest()
		require.NoError(t, s.PutBlacklist(ctx, newBlacklistEntry(b, d, gdpr.BlacklistBlocked, now)))
		e := getListed(t, s, b, d)
		id := fmt.Sprintf("blr_%02d", 3-i)
		require.NoError(t, s.RemoveBlacklist(ctx, e, newRemoval(b, id, e)))
		want = append([]string{id}, want...)
	}
	page, err := s.ListBlacklistRemovals(ctx, b, "", 2)
	require.NoError(t, err)
	require.Len(t, page, 2)
	rest, err := s.ListBlacklistRemovals(ctx, b, page[1].ID, 2)
	require.NoError(t, err)
	require.Len(t, rest, 1)
	require.Equal(t, want, []string{page[0].ID, page[1].ID, rest[0].ID})
	none, err := s.ListBlacklistRemovals(ctx, NewBrandID(), "", 10)
	require.NoError(t, err)
	require.Empty(t, none, "another brand's removals are not listed (R-TEN-1)")
}

var softBounceTests = []test{
	{"create_read_replace_at_version", testSoftBounces},
	{"concurrent_writers_one_wins_the_version", testSoftBouncesRace},
}

func newStreak(b gdpr.BrandID, digest string) gdpr.SoftBounceStreak {
	return gdpr.SoftBounceStreak{BrandID: b, Digest: digest, ClearedAt: now,
		Bounces: []gdpr.CountedBounce{{ID: "mj:1:bounce:1", At: now.Add(time.Minute)}, {ID: "mj:2:bounce:2", At: now.Add(time.Hour)}}}
}

func testSoftBounces(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	_, err := s.GetSoftBounces(ctx, b, d)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	st := newStreak(b, d)
	requireFilled(t, st, "Version")
	created, err := s.PutSoftBounces(ctx, st)
	require.NoError(t, err)
	require.NotEmpty(t, created.Version)
	_, err = s.PutSoftBounces(ctx, st)
	require.ErrorIs(t, err, gdpr.ErrConflict, "a second create of one address conflicts")

	got, err := s.GetSoftBounces(ctx, b, d)
	require.NoError(t, err)
	require.Equal(t, created.Version, got.Version)
	st.Version = got.Version
	RequireSame(t, st, got)

	got.Bounces, got.ClearedAt = nil, now.Add(2*time.Hour)
	replaced, err := s.PutSoftBounces(ctx, got)
	require.NoError(t, err)
	require.NotEqual(t, got.Version, replaced.Version)
	_, err = s.PutSoftBounces(ctx, got)
	require.ErrorIs(t, err, gdpr.ErrConflict, "a replace at a stale version conflicts")
	read, err := s.GetSoftBounces(ctx, b, d)
	require.NoError(t, err)
	require.Empty(t, read.Bounces)
	require.True(t, read.ClearedAt.Equal(now.Add(2*time.Hour)))

	other := newStreak(b, NewDigest())
	other.Version = "1"
	_, err = s.PutSoftBounces(ctx, other)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a replace of a missing streak")
	_, err = s.GetSoftBounces(ctx, NewBrandID(), d)
	require.ErrorIs(t, err, gdpr.ErrNotFound, "another brand's streak is not read (R-TEN-1)")
}

func testSoftBouncesRace(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	read, err := s.PutSoftBounces(ctx, newStreak(b, d))
	require.NoError(t, err)
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			st := read
			st.Bounces = append(slices.Clone(st.Bounces), gdpr.CountedBounce{ID: fmt.Sprintf("mj:%d:bounce:9", 10+i), At: now.Add(2 * time.Hour)})
			_, errs[i] = s.PutSoftBounces(ctx, st)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, gdpr.ErrConflict)
	}
	require.Equal(t, 1, won, "one writer wins the version read; the others decide again")
	got, err := s.GetSoftBounces(ctx, b, d)
	require.NoError(t, err)
	require.Len(t, got.Bounces, 3)
}

var whitelistTests = []test{
	{"idempotent_add_and_lookup_by_kind_R-SIGNUP-4", testWhitelist},
}

func testWhitelist(t *testing.T, s Store) {
	ctx, b, d := t.Context(), NewBrandID(), NewDigest()
	listed := func(kind gdpr.WhitelistKind, digest string) bool {
		ok, err := s.IsWhitelisted(ctx, b, kind, digest)
		require.NoError(t, err)
		return ok
	}
	require.False(t, listed(gdpr.WhitelistEmail, d))

	e := gdpr.WhitelistEntry{BrandID: b, Kind: gdpr.WhitelistEmail, Digest: d, CreatedAt: now}
	require.NoError(t, s.AddWhitelist(ctx))
	require.NoError(t, s.AddWhitelist(ctx, e))
	require.NoError(t, s.AddWhitelist(ctx, e, gdpr.WhitelistEntry{BrandID: b, Kind: gdpr.WhitelistCustomerID, Digest: "h1:cust", CreatedAt: now}))

	require.True(t, listed(gdpr.WhitelistEmail, d))
	require.False(t, listed(gdpr.WhitelistCustomerID, d), "an email digest does not authorise a customer id")
	require.True(t, listed(gdpr.WhitelistCustomerID, "h1:cust"))
	require.False(t, listed(gdpr.WhitelistEmail, NewDigest()))
}

var tokenTests = []test{
	{"create_round_trip_every_field", testTokenRoundTrip},
	{"create_existing_digest_conflicts", testTokenCreateExisting},
	{"update_marks_used", testTokenUpdate},
	{"stale_version_conflicts", testTokenStale},
	{"not_found", testTokenNotFound},
	{"expired_may_be_dropped", testTokenExpired},
}

func testTokenRoundTrip(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	tok := NewToken(b, "usr-a")
	requireFilled(t, tok, "Version")
	created, err := s.CreateToken(ctx, tok)
	require.NoError(t, err)
	require.NotEmpty(t, created.Version)
	tok.Version = created.Version
	RequireSame(t, tok, created)

	got, err := s.GetToken(ctx, b, tok.Digest)
	require.NoError(t, err)
	RequireSame(t, tok, got)
}

func testTokenCreateExisting(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	tok := NewToken(b, "usr-a")
	created, err := s.CreateToken(ctx, tok)
	require.NoError(t, err)
	tok.UserID = "usr-b"
	_, err = s.CreateToken(ctx, tok)
	require.ErrorIs(t, err, gdpr.ErrConflict)
	got, err := s.GetToken(ctx, b, tok.Digest)
	require.NoError(t, err)
	RequireSame(t, created, got)
}

func testTokenUpdate(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	tok := NewToken(b, "usr-a")
	tok.UsedAt = time.Time{}
	created, err := s.CreateToken(ctx, tok)
	require.NoError(t, err)

	created.UsedAt = now
	used, err := s.UpdateToken(ctx, created)
	require.NoError(t, err)
	require.NotEqual(t, created.Version, used.Version)
	got, err := s.GetToken(ctx, b, tok.Digest)
	require.NoError(t, err)
	RequireSame(t, used, got)
}

func testTokenStale(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	read, err := s.CreateToken(ctx, NewToken(b, "usr-a"))
	require.NoError(t, err)
	mine, theirs := read, read
	mine.UsedAt = now
	won, err := s.UpdateToken(ctx, mine)
	require.NoError(t, err)
	theirs.UsedAt = now.Add(time.Second)
	_, err = s.UpdateToken(ctx, theirs)
	require.ErrorIs(t, err, gdpr.ErrConflict, "a token is used once: the second use must fail")
	theirs.Version = ""
	_, err = s.UpdateToken(ctx, theirs)
	require.ErrorIs(t, err, gdpr.ErrConflict)

	got, err := s.GetToken(ctx, b, read.Digest)
	require.NoError(t, err)
	RequireSame(t, won, got)
}

func testTokenNotFound(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	issued, err := s.CreateToken(ctx, NewToken(b, "usr-a"))
	require.NoError(t, err)
	missing := NewToken(b, "usr-a")
	_, err = s.GetToken(ctx, b, missing.Digest)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	missing.Version = issued.Version
	_, err = s.UpdateToken(ctx, missing)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

// testTokenExpired allows both behaviours the port does: keeping an expired token or dropping
// it. Either way it must not come back changed.
func testTokenExpired(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	expired := NewToken(b, "usr-a")
	expired.CreatedAt, expired.ExpiresAt = now, now.Add(time.Hour)
	expired, err := s.CreateToken(ctx, expired)
	require.NoError(t, err)

	later := NewToken(b, "usr-b")
	later.CreatedAt, later.ExpiresAt = now.AddDate(1, 0, 0), now.AddDate(1, 0, 1)
	later, err = s.CreateToken(ctx, later)
	require.NoError(t, err)

	got, err := s.GetToken(ctx, b, expired.Digest)
	if err != nil {
		require.ErrorIs(t, err, gdpr.ErrNotFound)
	} else {
		RequireSame(t, expired, got)
	}
	got, err = s.GetToken(ctx, b, later.Digest)
	require.NoError(t, err, "a live token is kept")
	RequireSame(t, later, got)
}

var erasureTests = []test{
	{"put_twice_keeps_one_record_R-ERASE-9", testErasureTwice},
	{"round_trip_every_field", testErasureRoundTrip},
	{"list_pages_in_id_order", testErasurePaging},
	{"put_many_new_and_repeated", testErasuresMany},
	{"put_of_another_brand_is_refused_R-TEN-1", testErasureOtherBrand},
	{"find_answers_the_ids_held_R-ERASE-9", testErasureFind},
}

// putErasure writes one audit record.
func putErasure(ctx context.Context, s Store, r gdpr.ErasureRecord) (gdpr.ErasureRecord, error) {
	got, err := s.PutErasures(ctx, r.BrandID, []gdpr.ErasureRecord{r})
	if err != nil {
		return gdpr.ErasureRecord{}, err
	}
	return got[0], nil
}

func testErasuresMany(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	first := NewErasure(b)
	_, err := putErasure(ctx, s, first)
	require.NoError(t, err)
	repeat := first
	repeat.DoneAt = first.DoneAt.Add(time.Hour)
	fresh := []gdpr.ErasureRecord{NewErasure(b), NewErasure(b)}
	got, err := s.PutErasures(ctx, b, []gdpr.ErasureRecord{fresh[0], repeat, fresh[1]})
	require.NoError(t, err)
	require.Len(t, got, 3)
	RequireSame(t, fresh[0], got[0])
	RequireSame(t, first, got[1], "a repeated id returns the first record")
	RequireSame(t, fresh[1], got[2])
	all, err := s.ListErasures(ctx, b, "", 100)
	require.NoError(t, err)
	require.Len(t, all, 3)
}

func testErasureOtherBrand(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	_, err := s.PutErasures(ctx, b, []gdpr.ErasureRecord{NewErasure(b), NewErasure(NewBrandID())})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
	all, err := s.ListErasures(ctx, b, "", 100)
	require.NoError(t, err)
	require.Empty(t, all, "nothing written")
}

func testErasureTwice(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	first := NewErasure(b)
	got, err := putErasure(ctx, s, first)
	require.NoError(t, err)
	RequireSame(t, first, got)

	repeat := first
	repeat.DoneAt = first.DoneAt.Add(time.Hour)
	repeat.ContactsErased = 0
	got, err = putErasure(ctx, s, repeat)
	require.NoError(t, err, "repeating an erasure after a crash is not an error")
	RequireSame(t, first, got, "the first record stays")

	all, err := s.ListErasures(ctx, b, "", 100)
	require.NoError(t, err)
	require.Len(t, all, 1)
	RequireSame(t, first, all[0])
}

func testErasureRoundTrip(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	r := NewErasure(b)
	requireFilled(t, r)
	_, err := putErasure(ctx, s, r)
	require.NoError(t, err)
	all, err := s.ListErasures(ctx, b, "", 100)
	require.NoError(t, err)
	require.Len(t, all, 1)
	RequireSame(t, r, all[0])
}

func testErasurePaging(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var want []string
	for range 5 {
		r, err := putErasure(ctx, s, NewErasure(b))
		require.NoError(t, err)
		want = append(want, r.ID)
	}
	var got []string
	for after := ""; ; {
		page, err := s.ListErasures(ctx, b, after, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		after = got[len(got)-1]
		require.LessOrEqual(t, len(got), len(want), "paging must end")
	}
	require.Equal(t, want, got)
}

// testErasureFind: a restored store is told by the ledger's records it lacks, so FindErasures
// must name exactly the ids held, of this brand only, past any chunking of the ids.
func testErasureFind(t *testing.T, s Store) {
	ctx, b, other := t.Context(), NewBrandID(), NewBrandID()
	none, err := s.FindErasures(ctx, b, nil)
	require.NoError(t, err)
	require.Empty(t, none)

	var held, asked []string
	for i := range 300 {
		r := NewErasure(b)
		r.ID = fmt.Sprintf("er_find_%04d", i)
		asked = append(asked, r.ID)
		if i%3 == 0 {
			_, err := putErasure(ctx, s, r)
			require.NoError(t, err)
			held = append(held, r.ID)
		}
	}
	elsewhere := NewErasure(other)
	elsewhere.ID = "er_find_0001" // asked of b, held by another brand only (R-TEN-1)
	_, err = putErasure(ctx, s, elsewhere)
	require.NoError(t, err)

	got, err := s.FindErasures(ctx, b, asked)
	require.NoError(t, err)
	require.Equal(t, held, got)
	got, err = s.FindErasures(ctx, other, asked[:10])
	require.NoError(t, err)
	require.Equal(t, []string{"er_find_0001"}, got)
}
