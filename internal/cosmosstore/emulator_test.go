package cosmosstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Adapter-specific checks against the emulator, beyond the conformance suite: the stored
// document shape, id encoding, TTL and the microsecond edge of the due query.

var seq atomic.Int64

func newBrand() gdpr.BrandID {
	return gdpr.BrandID(fmt.Sprintf("cs-%d-%d", time.Now().UnixNano()%1e9, seq.Add(1)))
}

var base = time.Date(2031, 5, 17, 9, 30, 0, 123456789, time.UTC)

func TestEmulatorDocumentShape(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	u := gdpr.User{BrandID: brand, ID: "usr-1", Status: gdpr.UserActive, CreatedAt: base, Email: "a@example.test", NextReviewAt: base.Add(time.Hour)}
	got, err := s.CreateUser(ctx, u)
	require.NoError(t, err)
	require.NotEmpty(t, got.Version)

	resp, err := s.users.ReadItem(ctx, pk(string(brand)), "usr-1", nil)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(resp.Value, &raw))
	require.Equal(t, "usr-1", raw["id"])
	require.Equal(t, string(brand), raw["brandId"])
	require.InDelta(t, float64(base.Add(time.Hour).UnixMicro()), raw["nextReviewAt"], 0)
	require.Equal(t, got.Version, raw["_etag"])
	require.Equal(t, "a@example.test", raw["doc"].(map[string]any)["email"])
	require.NotContains(t, raw, "ttl")

	// A user without NextReviewAt has no nextReviewAt at all.
	_, err = s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-2", CreatedAt: base})
	require.NoError(t, err)
	resp, err = s.users.ReadItem(ctx, pk(string(brand)), "usr-2", nil)
	require.NoError(t, err)
	raw = nil
	require.NoError(t, json.Unmarshal(resp.Value, &raw))
	require.NotContains(t, raw, "nextReviewAt")
}

func TestEmulatorVersions(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	u, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-1", CreatedAt: base})
	require.NoError(t, err)
	_, err = s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-1", CreatedAt: base})
	require.ErrorIs(t, err, gdpr.ErrConflict)

	u.FirstName = "Fake"
	u2, err := s.UpdateUser(ctx, u)
	require.NoError(t, err)
	require.NotEqual(t, u.Version, u2.Version)
	_, err = s.UpdateUser(ctx, u) // stale
	require.ErrorIs(t, err, gdpr.ErrConflict)
	u.Version = ""
	_, err = s.UpdateUser(ctx, u) // no version
	require.ErrorIs(t, err, gdpr.ErrConflict)

	got, err := s.GetUser(ctx, brand, "usr-1")
	require.NoError(t, err)
	require.Equal(t, u2.Version, got.Version)
	require.Equal(t, "Fake", got.FirstName)

	_, err = s.UpdateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-missing", Version: u2.Version})
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	_, err = s.GetUser(ctx, brand, "usr-missing")
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	_, err = s.GetUser(ctx, newBrand(), "usr-1") // another brand's partition
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	_, err = s.GetUser(ctx, brand, "a/b") // an id Cosmos would refuse cannot exist
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	_, err = s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "a/b"})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
}

func TestEmulatorPagingAndDue(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	now := base.Add(10 * time.Hour) // carries nanoseconds
	reviews := []time.Time{
		now.Add(-time.Hour), now, now.Add(time.Nanosecond), // same microsecond as now, not due
		{}, now.Add(-2 * time.Hour), now.Add(time.Hour),
	}
	for i, r := range reviews {
		_, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: fmt.Sprintf("usr-%02d", i), CreatedAt: base, NextReviewAt: r})
		require.NoError(t, err)
	}
	_, err := s.CreateUser(ctx, gdpr.User{BrandID: newBrand(), ID: "usr-00", NextReviewAt: now.Add(-time.Hour)})
	require.NoError(t, err)

	due, err := s.DueUsers(ctx, brand, now, gdpr.DueCursor{}, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"usr-04", "usr-00", "usr-01"}, userIDs(due))
	due, err = s.DueUsers(ctx, brand, now, gdpr.DueCursor{}, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"usr-04", "usr-00"}, userIDs(due))
	due, err = s.DueUsers(ctx, brand, now, gdpr.DueCursor{}, 0)
	require.NoError(t, err)
	require.Empty(t, due)

	var all []string
	after := ""
	for {
		page, err := s.ListUsers(ctx, brand, after, 4)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 4)
		if len(page) == 0 {
			break
		}
		all = append(all, userIDs(page)...)
		after = page[len(page)-1].ID
	}
	require.Equal(t, []string{"usr-00", "usr-01", "usr-02", "usr-03", "usr-04", "usr-05"}, all)
}

// TestEmulatorDueSameMicrosecond: documents due a nanosecond after now share now's indexed
// microsecond; DueUsers drops them and reads further pages until it has limit due users.
func TestEmulatorDueSameMicrosecond(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	now := base.Add(time.Hour)
	for i := range 5 {
		_, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: fmt.Sprintf("usr-%d", i), NextReviewAt: now.Add(time.Nanosecond)})
		require.NoError(t, err)
	}
	_, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: "usr-due", NextReviewAt: now})
	require.NoError(t, err)
	due, err := s.DueUsers(ctx, brand, now, gdpr.DueCursor{}, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"usr-due"}, userIDs(due))
	due, err = s.DueUsers(ctx, brand, now.Add(time.Nanosecond), gdpr.DueCursor{}, 10)
	require.NoError(t, err)
	require.Len(t, due, 6)
}

// TestEmulatorDueCursorWithinMicrosecond: the index keeps microseconds, so documents whose
// times differ by nanoseconds inside one microsecond are a tie, ordered by id whatever their
// nanoseconds; pages smaller than the tie, resumed from a cursor carrying nanoseconds, read
// each once. A document a nanosecond after now, in now's microsecond, is never read.
func TestEmulatorDueCursorWithinMicrosecond(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	brand := newBrand()
	at := base.Add(time.Hour).Truncate(time.Microsecond)
	now := at.Add(time.Microsecond + 500*time.Nanosecond)
	create := func(id string, review time.Time) {
		t.Helper()
		_, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: id, NextReviewAt: review})
		require.NoError(t, err)
	}
	create("usr-late", now.Add(-time.Nanosecond))
	create("usr-after-now", now.Add(time.Nanosecond))
	want := []string{"usr-early"}
	for i := range 10 {
		create(fmt.Sprintf("usr-%d", i), at.Add(time.Duration(999-i*100)*time.Nanosecond)) // later ids, earlier nanoseconds
		want = append(want, fmt.Sprintf("usr-%d", i))
	}
	create("usr-early", at.Add(-time.Nanosecond))
	want = append(want, "usr-late")

	var got []string
	var after gdpr.DueCursor
	for range len(want) {
		page, err := s.DueUsers(ctx, brand, now, after, 3)
		require.NoError(t, err)
		got = append(got, userIDs(page)...)
		if len(page) < 3 {
			break
		}
		after = gdpr.DueCursor{At: page[len(page)-1].NextReviewAt, ID: page[len(page)-1].ID}
	}
	require.Equal(t, want, got)
}

func userIDs(us []gdpr.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func TestEmulatorContactsOfMember(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	for i, m := range []string{"m1", "m2", "m1", "m1"} {
		_, err := s.CreateContact(ctx, gdpr.Contact{BrandID: brand, ID: fmt.Sprintf("con-%d", 9-i), MemberID: m, CreatedAt: base})
		require.NoError(t, err)
	}
	cs, err := s.ContactsOfMembers(ctx, brand, []string{"m1"})
	require.NoError(t, err)
	require.Len(t, cs, 3)
	require.Equal(t, "con-6", cs[0].ID)
	require.Equal(t, "con-9", cs[2].ID)
	cs, err = s.ContactsOfMembers(ctx, brand, []string{"nobody"})
	require.NoError(t, err)
	require.Empty(t, cs)
}

func TestEmulatorClaims(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	key := "webhook:msg/with?odd#chars\\" // not a valid Cosmos id: stored under its hash
	c1, err := s.Claim(ctx, gdpr.Claim{BrandID: brand, Key: key, Owner: "a", CreatedAt: base, ExpiresAt: base.Add(time.Hour)})
	require.NoError(t, err)
	require.NotEmpty(t, c1.Version)

	holder, err := s.Claim(ctx, gdpr.Claim{BrandID: brand, Key: key, Owner: "b", CreatedAt: base.Add(time.Minute)})
	require.ErrorIs(t, err, gdpr.ErrConflict)
	require.Equal(t, "a", holder.Owner)
	require.Equal(t, c1.Version, holder.Version)

	got, err := s.GetClaim(ctx, brand, key)
	require.NoError(t, err)
	require.Equal(t, key, got.Key)

	// Expired at the new claim's creation: taken over.
	c2, err := s.Claim(ctx, gdpr.Claim{BrandID: brand, Key: key, Owner: "b", CreatedAt: base.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, "b", c2.Owner)

	require.NoError(t, s.ReleaseClaims(ctx, brand, gdpr.Claim{Key: key, Owner: "a"})) // not the holder: no-op
	got, err = s.GetClaim(ctx, brand, key)
	require.NoError(t, err)
	require.Equal(t, "b", got.Owner)
	require.NoError(t, s.ReleaseClaims(ctx, brand, gdpr.Claim{Key: key, Owner: "b"}))
	_, err = s.GetClaim(ctx, brand, key)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	require.NoError(t, s.ReleaseClaims(ctx, brand, gdpr.Claim{Key: key, Owner: "b"})) // missing: no-op
}

func TestEmulatorConcurrentClaims(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Claim(ctx, gdpr.Claim{BrandID: brand, Key: "email:h1:00", Owner: fmt.Sprint(i), CreatedAt: base})
			errs <- err
		}()
	}
	won := 0
	for range n {
		if err := <-errs; err == nil {
			won++
		} else {
			require.ErrorIs(t, err, gdpr.ErrConflict)
		}
	}
	require.Equal(t, 1, won)
}

// TestEmulatorItemTTL checks the claims and tokens containers honour an item's ttl (container
// defaultTtl -1). It waits about two seconds of real time.
func TestEmulatorItemTTL(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	env, err := claimEnvelope(gdpr.Claim{BrandID: brand, Key: "resend:h1:01", Owner: "a", CreatedAt: base})
	require.NoError(t, err)
	one := int32(1)
	env.TTL = &one
	_, err = createItem(ctx, s.claims, env)
	require.NoError(t, err)
	tok, err := tokenEnvelope(gdpr.Token{BrandID: brand, Digest: "h1:02", CreatedAt: base})
	require.NoError(t, err)
	tok.TTL = &one
	_, err = createItem(ctx, s.tokens, tok)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err1 := s.GetClaim(ctx, brand, "resend:h1:01")
		_, err2 := s.GetToken(ctx, brand, "h1:02")
		return errorsIsNotFound(err1) && errorsIsNotFound(err2)
	}, 2*time.Minute, 100*time.Millisecond) // the emulator's TTL sweep, slower on a loaded machine

	// Without ttl (a claim until released) nothing expires.
	_, err = s.Claim(ctx, gdpr.Claim{BrandID: brand, Key: "sso:h1:03", Owner: "a", CreatedAt: base})
	require.NoError(t, err)
	time.Sleep(1500 * time.Millisecond)
	_, err = s.GetClaim(ctx, brand, "sso:h1:03")
	require.NoError(t, err)
}

func errorsIsNotFound(err error) bool { return gdpr.ErrorCode(err) == gdpr.CodeNotFound }

func TestEmulatorListsTokensErasures(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()

	require.NoError(t, s.PutBlacklist(ctx,
		gdpr.BlacklistEntry{BrandID: brand, Digest: "h1:aa", Reason: gdpr.BlacklistSpam, CreatedAt: base},
		gdpr.BlacklistEntry{BrandID: brand, Digest: "h1:aa", Reason: gdpr.BlacklistHardBounce, CreatedAt: base.Add(time.Hour)}))
	require.NoError(t, s.PutBlacklist(ctx, gdpr.BlacklistEntry{BrandID: brand, Digest: "h1:aa", Reason: gdpr.BlacklistBlocked}))
	bl, err := s.GetBlacklist(ctx, brand, "h1:aa")
	require.NoError(t, err)
	require.Equal(t, gdpr.BlacklistSpam, bl.Reason)
	_, err = s.GetBlacklist(ctx, brand, "h1:bb")
	require.ErrorIs(t, err, gdpr.ErrNotFound)

	require.NoError(t, s.AddWhitelist(ctx, gdpr.WhitelistEntry{BrandID: brand, Kind: gdpr.WhitelistEmail, Digest: "h1:aa"}))
	require.NoError(t, s.AddWhitelist(ctx, gdpr.WhitelistEntry{BrandID: brand, Kind: gdpr.WhitelistEmail, Digest: "h1:aa"}))
	ok, err := s.IsWhitelisted(ctx, brand, gdpr.WhitelistEmail, "h1:aa")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.IsWhitelisted(ctx, brand, gdpr.WhitelistCustomerID, "h1:aa")
	require.NoError(t, err)
	require.False(t, ok)

	tk, err := s.CreateToken(ctx, gdpr.Token{BrandID: brand, Digest: "h1:cc", UserID: "usr-1", CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)})
	require.NoError(t, err)
	_, err = s.CreateToken(ctx, gdpr.Token{BrandID: brand, Digest: "h1:cc", CreatedAt: base})
	require.ErrorIs(t, err, gdpr.ErrConflict)
	tk.UsedAt = base.Add(time.Hour)
	tk2, err := s.UpdateToken(ctx, tk)
	require.NoError(t, err)
	_, err = s.UpdateToken(ctx, tk)
	require.ErrorIs(t, err, gdpr.ErrConflict)
	got, err := s.GetToken(ctx, brand, "h1:cc")
	require.NoError(t, err)
	require.Equal(t, tk2.Version, got.Version)
	require.True(t, got.UsedAt.Equal(tk.UsedAt))

	first, err := s.PutErasures(ctx, brand, []gdpr.ErasureRecord{{BrandID: brand, ID: "era-1", Rule: "R-ERASE-5", DoneAt: base}})
	require.NoError(t, err)
	again, err := s.PutErasures(ctx, brand, []gdpr.ErasureRecord{
		{BrandID: brand, ID: "era-1", Rule: "other", DoneAt: base.Add(time.Hour)}, {BrandID: brand, ID: "era-0", Rule: "R-RET-1"}})
	require.NoError(t, err)
	require.Equal(t, first[0].Rule, again[0].Rule)
	rs, err := s.ListErasures(ctx, brand, "", 10)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	require.Equal(t, "era-0", rs[0].ID)
	rs, err = s.ListErasures(ctx, brand, "era-0", 10)
	require.NoError(t, err)
	require.Len(t, rs, 1)
}

func TestEmulatorBrands(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ids := []gdpr.BrandID{newBrand(), newBrand()}
	for _, id := range []gdpr.BrandID{ids[1], ids[0]} {
		b, err := s.PutBrand(ctx, gdpr.Brand{ID: id, Name: "Fake", CreatedAt: base})
		require.NoError(t, err)
		require.NotEmpty(t, b.Version)
	}
	_, err := s.PutBrand(ctx, gdpr.Brand{ID: ids[0], Name: "Again"})
	require.ErrorIs(t, err, gdpr.ErrConflict)
	b, err := s.GetBrand(ctx, ids[0])
	require.NoError(t, err)
	b.Name = "Renamed"
	b2, err := s.PutBrand(ctx, b)
	require.NoError(t, err)
	_, err = s.PutBrand(ctx, b)
	require.ErrorIs(t, err, gdpr.ErrConflict)

	all, err := s.ListBrands(ctx)
	require.NoError(t, err)
	var seen []gdpr.BrandID
	for i, x := range all {
		if i > 0 {
			require.Less(t, all[i-1].ID, x.ID)
		}
		if x.ID == ids[0] || x.ID == ids[1] {
			seen = append(seen, x.ID)
		}
		if x.ID == ids[0] {
			require.Equal(t, b2.Version, x.Version)
			require.Equal(t, "Renamed", x.Name)
		}
	}
	require.Len(t, seen, 2)
}

// TestEmulatorSchema: EnsureSchema is idempotent and the containers it made carry the spec.
func TestEmulatorSchema(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	require.NoError(t, s.EnsureSchema(ctx), "a second call finds everything in place")
	db, err := s.client.NewDatabase(s.database)
	require.NoError(t, err)
	for _, spec := range Containers {
		cc, err := db.NewContainer(spec.Name)
		require.NoError(t, err)
		resp, err := cc.Read(ctx, nil)
		require.NoError(t, err, spec.Name)
		p := resp.ContainerProperties
		require.Equal(t, []string{"/brandId"}, p.PartitionKeyDefinition.Paths, spec.Name)
		if ttl, ok := spec.DefaultTTL(); ok {
			require.NotNil(t, p.DefaultTimeToLive, spec.Name)
			require.Equal(t, ttl, *p.DefaultTimeToLive, spec.Name)
		}
	}
}

// ---- batch updates (UpdateUsers, UpdateContacts) ----

// createUsers stores n users of brand, usr-000 to usr-<n-1>, FirstName "orig".
func createUsers(t *testing.T, s *Store, brand gdpr.BrandID, n int) []gdpr.User {
	t.Helper()
	us := make([]gdpr.User, n)
	for i := range us {
		u, err := s.CreateUser(t.Context(), gdpr.User{BrandID: brand, ID: fmt.Sprintf("usr-%03d", i), Status: gdpr.UserActive,
			CreatedAt: base, FirstName: "orig", NextReviewAt: base.Add(time.Duration(i) * time.Hour)})
		require.NoError(t, err)
		us[i] = u
	}
	return us
}

// withName returns copies of us with FirstName set to name.
func withName(us []gdpr.User, name string) []gdpr.User {
	out := slices.Clone(us)
	for i := range out {
		out[i].FirstName = name
	}
	return out
}

// requireStored asserts the stored FirstName and Version of each of us: name(i) and, when
// version(i) is not empty, that version.
func requireStored(t *testing.T, s *Store, us []gdpr.User, name func(i int) string, version func(i int) string, msg string) {
	t.Helper()
	for i, u := range us {
		got, err := s.GetUser(t.Context(), u.BrandID, u.ID)
		require.NoError(t, err)
		require.Equal(t, name(i), got.FirstName, "%s (user %d)", msg, i)
		if v := version(i); v != "" {
			require.Equal(t, v, got.Version, "%s (user %d)", msg, i)
		}
	}
}

// TestEmulatorUpdateUsersChunks: 150 users are two batches (100 + 50); all are updated and
// come back in order with their new versions.
func TestEmulatorUpdateUsersChunks(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	brand := newBrand()
	us := createUsers(t, s, brand, 150)
	in := withName(us, "batch")
	for i := range in {
		in[i].NextReviewAt = base.Add(-time.Duration(i) * time.Minute)
	}
	got, err := s.UpdateUsers(ctx, brand, in)
	require.NoError(t, err)
	require.Equal(t, userIDs(in), userIDs(got), "input order")
	versions := map[string]bool{}
	for i := range got {
		require.NotEmpty(t, got[i].Version)
		require.NotEqual(t, us[i].Version, got[i].Version, "user %d has a new version", i)
		versions[got[i].Version] = true
		stored, err := s.GetUser(ctx, brand, got[i].ID)
		require.NoError(t, err)
		require.Equal(t, got[i].Version, stored.Version, "user %d: the version returned is the stored one", i)
		require.Equal(t, "batch", stored.FirstName)
		require.True(t, stored.NextReviewAt.Equal(in[i].NextReviewAt))
	}
	require.Len(t, versions, len(got), "versions are distinct")
	require.Equal(t, us[0].Version, in[0].Version, "the input is not modified")

	// The returned versions are current: a second batch on them succeeds.
	_, err = s.UpdateUsers(ctx, brand, withName(got, "again"))
	require.NoError(t, err)
	requireStored(t, s, us, func(int) string { return "again" }, func(int) string { return "" }, "second batch")

	// The due index saw the batch: nextReviewAt was written as UpdateUser writes it.
	due, err := s.DueUsers(ctx, brand, base, gdpr.DueCursor{}, 1000)
	require.NoError(t, err)
	require.Len(t, due, 150)
	require.Equal(t, "usr-149", due[0].ID)
}

// TestEmulatorUpdateUsersStaleInSecondChunk: a stale version in the second chunk is a
// conflict; the first chunk stays applied and the second is left whole as it was.
func TestEmulatorUpdateUsersStaleInSecondChunk(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	brand := newBrand()
	us := createUsers(t, s, brand, 150)
	raced := us[120]
	raced.FirstName = "raced"
	raced, err := s.UpdateUser(ctx, raced)
	require.NoError(t, err)

	_, err = s.UpdateUsers(ctx, brand, withName(us, "batch"))
	require.ErrorIs(t, err, gdpr.ErrConflict)
	require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
	requireStored(t, s, us, func(i int) string {
		switch {
		case i < gdpr.MaxBatch:
			return "batch"
		case i == 120:
			return "raced"
		default:
			return "orig"
		}
	}, func(i int) string {
		switch {
		case i < gdpr.MaxBatch:
			return "" // new, checked below
		case i == 120:
			return raced.Version
		default:
			return us[i].Version
		}
	}, "first chunk applied, second untouched")
	for i := range gdpr.MaxBatch {
		got, err := s.GetUser(ctx, brand, us[i].ID)
		require.NoError(t, err)
		require.NotEqual(t, us[i].Version, got.Version, "user %d of the first chunk has a new version", i)
	}

	// A stale version in the first chunk: nothing at all is written.
	brand2 := newBrand()
	us2 := createUsers(t, s, brand2, 3)
	stale := us2[2]
	stale.FirstName = "raced"
	_, err = s.UpdateUser(ctx, stale)
	require.NoError(t, err)
	_, err = s.UpdateUsers(ctx, brand2, withName(us2, "batch"))
	require.ErrorIs(t, err, gdpr.ErrConflict)
	requireStored(t, s, us2[:2], func(int) string { return "orig" }, func(i int) string { return us2[i].Version }, "a failed chunk is rolled back")
}

// TestEmulatorUpdateUsersMissing: a missing document is ErrNotFound; its chunk writes
// nothing and creates nothing.
func TestEmulatorUpdateUsersMissing(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	brand := newBrand()
	us := createUsers(t, s, brand, 3)
	missing := gdpr.User{BrandID: brand, ID: "usr-missing", FirstName: "batch", Version: us[0].Version}
	in := withName(us, "batch")
	_, err := s.UpdateUsers(ctx, brand, []gdpr.User{in[0], in[1], missing, in[2]})
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
	requireStored(t, s, us, func(int) string { return "orig" }, func(i int) string { return us[i].Version }, "nothing written")
	_, err = s.GetUser(ctx, brand, "usr-missing")
	require.ErrorIs(t, err, gdpr.ErrNotFound, "a batch update creates nothing")
}

// TestEmulatorUpdateUsersNoVersion: as UpdateUser, an empty version never matches — a
// conflict when the document exists, ErrNotFound when it does not — and its chunk writes
// nothing (a batch operation without If-Match would replace unconditionally).
func TestEmulatorUpdateUsersNoVersion(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	brand := newBrand()
	us := createUsers(t, s, brand, 3)
	in := withName(us, "batch")
	in[1].Version = ""
	_, err := s.UpdateUsers(ctx, brand, in)
	require.ErrorIs(t, err, gdpr.ErrConflict)
	_, err = s.UpdateUsers(ctx, brand, []gdpr.User{in[0], {BrandID: brand, ID: "usr-missing"}})
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	requireStored(t, s, us, func(int) string { return "orig" }, func(i int) string { return us[i].Version }, "nothing written")
}

// TestEmulatorUpdateUsersOtherBrand: a document of another brand anywhere in the input is
// CodeInvalid and nothing is written, in either brand, even in earlier chunks.
func TestEmulatorUpdateUsersOtherBrand(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	a, b := newBrand(), newBrand()
	mine, theirs := createUsers(t, s, a, 120), createUsers(t, s, b, 1)
	in := append(withName(mine, "batch"), withName(theirs, "batch")...) // theirs is in chunk 2
	_, err := s.UpdateUsers(ctx, a, in)
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
	requireStored(t, s, mine, func(int) string { return "orig" }, func(i int) string { return mine[i].Version }, "brand a untouched")
	requireStored(t, s, theirs, func(int) string { return "orig" }, func(i int) string { return theirs[i].Version }, "brand b untouched")

	// Asked as brand b, brand a's documents are the foreign ones.
	_, err = s.UpdateUsers(ctx, b, withName(mine[:1], "batch"))
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
	// No brand.
	_, err = s.UpdateUsers(ctx, "", []gdpr.User{{ID: "usr-000", Version: mine[0].Version}})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
	// An id Cosmos refuses.
	_, err = s.UpdateUsers(ctx, a, []gdpr.User{withName(mine[:1], "batch")[0], {BrandID: a, ID: "a/b", Version: mine[0].Version}})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
	requireStored(t, s, mine[:1], func(int) string { return "orig" }, func(i int) string { return mine[i].Version }, "refused: nothing written")

	// Empty input: nil, nil, even without a brand.
	got, err := s.UpdateUsers(ctx, a, nil)
	require.NoError(t, err)
	require.Nil(t, got)
	got2, err := s.UpdateContacts(ctx, "", []gdpr.Contact{})
	require.NoError(t, err)
	require.Nil(t, got2)
}

// TestEmulatorUpdateUsersQuotedIDs: azcosmos v1.5.0 writes a batch operation's id into the
// request JSON unescaped; batchID escapes the one character a valid id can hold that needs
// it. An id crafted to name another field must update itself and nothing else.
func TestEmulatorUpdateUsersQuotedIDs(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	brand := newBrand()
	var us []gdpr.User
	for _, id := range []string{`usr-"quoted"`, `usr-x","id":"usr-victim`, "usr-victim", "usr-é<&>"} {
		u, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: id, FirstName: "orig", CreatedAt: base})
		require.NoError(t, err)
		us = append(us, u)
	}
	victim := us[2]
	in := withName(slices.Delete(slices.Clone(us), 2, 3), "batch")
	got, err := s.UpdateUsers(ctx, brand, in)
	require.NoError(t, err)
	require.Equal(t, userIDs(in), userIDs(got))
	requireStored(t, s, got, func(int) string { return "batch" }, func(i int) string { return got[i].Version }, "each id updates itself")
	requireStored(t, s, []gdpr.User{victim}, func(int) string { return "orig" }, func(int) string { return victim.Version }, "and nothing else")
}

// TestEmulatorBatchDocumentShape: a batch writes the very document the single update writes
// (same envelope: nextReviewAt in µs, memberId, doc), for users and contacts.
func TestEmulatorBatchDocumentShape(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	brand := newBrand()

	raw := func(t *testing.T, c *container, id string) map[string]any {
		t.Helper()
		resp, err := c.ReadItem(ctx, pk(string(brand)), id, nil)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(resp.Value, &m))
		for k := range m {
			if strings.HasPrefix(k, "_") {
				delete(m, k) // _etag, _ts, _rid, _self...
			}
		}
		m["id"] = "-" // the one field that differs by design
		m["doc"].(map[string]any)["id"] = "-"
		return m
	}

	t.Run("users", func(t *testing.T) {
		review := base.Add(90 * time.Minute)
		var vs []gdpr.User
		for _, id := range []string{"usr-single", "usr-batch"} {
			u, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: id, CreatedAt: base, NextReviewAt: base})
			require.NoError(t, err)
			u.FirstName, u.NextReviewAt, u.Status = "Fake", review, gdpr.UserBlocked
			vs = append(vs, u)
		}
		_, err := s.UpdateUser(ctx, vs[0])
		require.NoError(t, err)
		_, err = s.UpdateUsers(ctx, brand, vs[1:])
		require.NoError(t, err)
		single, batch := raw(t, s.users, "usr-single"), raw(t, s.users, "usr-batch")
		require.Equal(t, single, batch)
		require.InDelta(t, float64(review.UnixMicro()), batch["nextReviewAt"], 0)
		require.Equal(t, string(brand), batch["brandId"])

		// Clearing NextReviewAt removes nextReviewAt, as UpdateUser does.
		u, err := s.GetUser(ctx, brand, "usr-batch")
		require.NoError(t, err)
		u.NextReviewAt = time.Time{}
		_, err = s.UpdateUsers(ctx, brand, []gdpr.User{u})
		require.NoError(t, err)
		require.NotContains(t, raw(t, s.users, "usr-batch"), "nextReviewAt")
	})

	t.Run("contacts", func(t *testing.T) {
		var vs []gdpr.Contact
		for _, id := range []string{"con-single", "con-batch"} {
			c, err := s.CreateContact(ctx, gdpr.Contact{BrandID: brand, ID: id, MemberID: "m1", CreatedAt: base})
			require.NoError(t, err)
			c.MemberID, c.NextReviewAt, c.Notes = "m2", base.Add(time.Nanosecond*1500), "moved"
			vs = append(vs, c)
		}
		_, err := s.UpdateContact(ctx, vs[0])
		require.NoError(t, err)
		got, err := s.UpdateContacts(ctx, brand, vs[1:])
		require.NoError(t, err)
		require.Equal(t, "m2", got[0].MemberID)
		single, batch := raw(t, s.contacts, "con-single"), raw(t, s.contacts, "con-batch")
		require.Equal(t, single, batch)
		require.Equal(t, "m2", batch["memberId"])
		require.InDelta(t, float64(base.UnixMicro()+2), batch["nextReviewAt"], 0) // floor(µs) of base+1.5µs, base at .123456789

		cs, err := s.ContactsOfMembers(ctx, brand, []string{"m2"})
		require.NoError(t, err)
		require.Len(t, cs, 2)
		cs, err = s.ContactsOfMembers(ctx, brand, []string{"m1"})
		require.NoError(t, err)
		require.Empty(t, cs)
		stored, err := s.GetContact(ctx, brand, "con-batch")
		require.NoError(t, err)
		require.Equal(t, got[0].Version, stored.Version)

		// Contacts share the batch path: a stale version is a conflict.
		_, err = s.UpdateContacts(ctx, brand, vs[1:])
		require.ErrorIs(t, err, gdpr.ErrConflict)
	})
}

// TestEmulatorBatchChunksBySize: 100 users with 30 KB descriptions are 3 MB, over the 2 MB
// Cosmos DB takes in one transactional batch (the emulator refuses it with 413 as Azure does).
// UpdateUsers splits them by size: every batch sent stays within maxBatchBytes, its size is
// the one replaceOpSize predicts, and every user is updated.
func TestEmulatorBatchChunksBySize(t *testing.T) {
	s, rec := recordingStore(t)
	ctx := t.Context()
	brand := newBrand()
	long := strings.Repeat("Fake description, long enough to matter. ", 30_000/41)
	var us []gdpr.User
	for i := range gdpr.MaxBatch {
		u, err := s.CreateUser(ctx, gdpr.User{BrandID: brand, ID: fmt.Sprintf("usr-%03d", i), Description: long, CreatedAt: base})
		require.NoError(t, err)
		us = append(us, u)
	}
	in := slices.Clone(us)
	for i := range in {
		in[i].Description = "Renamed " + long
	}
	got, err := s.UpdateUsers(ctx, brand, in)
	require.NoError(t, err)
	require.Equal(t, userIDs(in), userIDs(got))

	var batches []call
	for _, c := range rec.all() {
		if c.batch {
			batches = append(batches, c)
		}
	}
	require.Len(t, batches, 2, "3 MB of users is two batches")
	sizes := opSizes(t, us, in)
	for i, r := range batchChunks(sizes, gdpr.MaxBatch, maxBatchBytes) {
		require.Equal(t, http.StatusOK, batches[i].status)
		require.LessOrEqual(t, batches[i].bodyBytes, int64(maxBatchBytes))
		// The size model matches the SDK's encoding byte for byte.
		want := 2 + sum(sizes[r[0]:r[1]]) + (r[1] - r[0] - 1)
		require.Equal(t, int64(want), batches[i].bodyBytes, "chunk %d", i)
	}
	for i := range in {
		stored, err := s.GetUser(ctx, brand, in[i].ID)
		require.NoError(t, err)
		require.Equal(t, got[i].Version, stored.Version)
		require.True(t, strings.HasPrefix(stored.Description, "Renamed "), "user %d updated", i)
	}

	// One batch of it all is what the emulator, as Azure, refuses.
	batch := s.users.NewTransactionalBatch(pk(string(brand)))
	for i := range got {
		env, err := userEnvelope(got[i])
		require.NoError(t, err)
		b, err := encodeEnvelope(env)
		require.NoError(t, err)
		etag := azcore.ETag(got[i].Version)
		batch.ReplaceItem(batchID(env.ID), b, &azcosmos.TransactionalBatchItemOptions{IfMatchETag: &etag})
	}
	_, err = s.users.ExecuteTransactionalBatch(ctx, batch, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, statusOf(err), "%v", err)
}

// opSizes is replaceOpSize of each update of in, whose stored versions are those of before.
func opSizes(t *testing.T, before, in []gdpr.User) []int {
	t.Helper()
	out := make([]int, len(in))
	for i := range in {
		env, err := userEnvelope(in[i])
		require.NoError(t, err)
		body, err := encodeEnvelope(env)
		require.NoError(t, err)
		out[i] = replaceOpSize(env.ID, before[i].Version, body)
	}
	return out
}

// TestEmulatorBrandIfChanged: a revalidation with the current version answers "unchanged"
// (Cosmos DB's 304, or the same version from a server that ignores If-None-Match), and with an
// old one the brand as it is now.
func TestEmulatorBrandIfChanged(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	b, err := s.PutBrand(ctx, gdpr.Brand{ID: brand, Name: "First", Status: gdpr.BrandActive})
	require.NoError(t, err)

	_, changed, err := s.GetBrandIfChanged(ctx, brand, b.Version)
	require.NoError(t, err)
	require.False(t, changed)

	b.Name = "Second"
	b2, err := s.PutBrand(ctx, b)
	require.NoError(t, err)
	got, changed, err := s.GetBrandIfChanged(ctx, brand, b.Version)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "Second", got.Name)
	require.Equal(t, b2.Version, got.Version)

	_, _, err = s.GetBrandIfChanged(ctx, newBrand(), b.Version)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

// TestEmulatorClaimAll: claims created in one batch are all there; a batch with one key held
// creates none of them and conflicts; one of another brand is refused before anything is sent.
func TestEmulatorClaimAll(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	brand := newBrand()
	claims := []gdpr.Claim{{BrandID: brand, Key: "order:o-1", Owner: "c_1", CreatedAt: base},
		{BrandID: brand, Key: "webhook:msg_1", Owner: "webhook", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}}
	require.NoError(t, s.ClaimAll(ctx, brand, claims))
	for _, c := range claims {
		got, err := s.GetClaim(ctx, brand, c.Key)
		require.NoError(t, err)
		require.Equal(t, c.Owner, got.Owner)
	}

	again := []gdpr.Claim{{BrandID: brand, Key: "order:o-2", Owner: "c_2", CreatedAt: base}, claims[1]}
	require.ErrorIs(t, s.ClaimAll(ctx, brand, again), gdpr.ErrConflict)
	_, err := s.GetClaim(ctx, brand, "order:o-2")
	require.ErrorIs(t, err, gdpr.ErrNotFound, "the batch was rolled back whole")

	other := []gdpr.Claim{{BrandID: newBrand(), Key: "order:o-3", Owner: "c_3", CreatedAt: base}}
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(s.ClaimAll(ctx, brand, other)))
}
