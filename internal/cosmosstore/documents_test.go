package cosmosstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Unit tests: no emulator needed.

func TestContainersSpec(t *testing.T) {
	var names []string
	for _, c := range Containers {
		names = append(names, c.Name)
		require.Equal(t, "/brandId", c.PartitionKey, c.Name)
		require.Contains(t, c.IndexedPaths, "/brandId/?", c.Name)

		p := c.Properties()
		require.Equal(t, c.Name, p.ID)
		require.Equal(t, []string{"/brandId"}, p.PartitionKeyDefinition.Paths, c.Name)
		require.NotNil(t, p.IndexingPolicy)
		require.Equal(t, "/*", p.IndexingPolicy.ExcludedPaths[0].Path, "%s: only the listed paths are indexed", c.Name)

		raw, err := json.Marshal(p)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		if c.Name == ContainerClaims || c.Name == ContainerTokens {
			require.InDelta(t, -1, m["defaultTtl"], 0, "%s: item ttl needs defaultTtl -1", c.Name)
		} else {
			require.NotContains(t, m, "defaultTtl", c.Name)
		}
	}
	want := []string{"blacklist", "blacklistRemovals", "brands", "claims", "contacts", "erasures", "exports", "requests", "softBounces", "tokens", "users", "whitelist"}
	slices.Sort(names)
	require.Equal(t, want, names)

	for _, name := range []string{ContainerUsers, ContainerContacts} {
		c, ok := Spec(name)
		require.True(t, ok)
		require.Contains(t, c.IndexedPaths, "/nextReviewAt/?", "%s: the due query needs a range index", name)
		require.Equal(t, [][]azcosmos.CompositeIndex{{
			{Path: "/nextReviewAt", Order: azcosmos.CompositeIndexAscending},
			{Path: "/id", Order: azcosmos.CompositeIndexAscending},
		}}, c.Properties().IndexingPolicy.CompositeIndexes, "%s: ORDER BY nextReviewAt, id needs a composite index", name)
	}
	c, _ := Spec(ContainerContacts)
	require.Contains(t, c.IndexedPaths, "/memberId/?")
	for _, c := range Containers {
		for _, p := range c.IndexedPaths {
			require.False(t, strings.HasPrefix(p, "/doc"), "%s: personal data must not be indexed", c.Name)
		}
	}
}

var t0 = time.Date(2031, 5, 17, 9, 30, 0, 123456789, time.UTC)

func envJSON(t *testing.T) func(envelope, error) map[string]any {
	return func(env envelope, err error) map[string]any {
		t.Helper()
		return envMap(t, env, err)
	}
}

func envMap(t *testing.T, env envelope, err error) map[string]any {
	t.Helper()
	require.NoError(t, err)
	raw, err := json.Marshal(env)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestEnvelopes(t *testing.T) {
	u := gdpr.User{BrandID: "b1", ID: "usr-1", Email: "a@example.test", CreatedAt: t0, NextReviewAt: t0, Version: "v1"}
	m := envJSON(t)(userEnvelope(u))
	require.Equal(t, "usr-1", m["id"])
	require.Equal(t, "b1", m["brandId"])
	require.InDelta(t, float64(t0.UnixMicro()), m["nextReviewAt"], 0, "unix microseconds, a number")
	require.Equal(t, "a@example.test", m["doc"].(map[string]any)["email"])
	require.NotContains(t, m["doc"], "Version", "the version is the _etag, never stored")
	require.NotContains(t, m, "ttl")
	require.NotContains(t, m, "memberId")

	require.NotContains(t, m, "idpKey", "no IdP id: nothing to index")

	u.NextReviewAt = time.Time{}
	require.NotContains(t, envJSON(t)(userEnvelope(u)), "nextReviewAt", "zero: never due")

	u.IdPExternalID = "Idp-Object-1"
	m = envJSON(t)(userEnvelope(u))
	require.Equal(t, idpKey("b1", "Idp-Object-1"), m["idpKey"])
	require.NotContains(t, m["idpKey"], "Idp-Object-1", "the index holds a digest, never the id")
	require.NotEqual(t, idpKey("b2", "Idp-Object-1"), m["idpKey"], "brands apart")
	require.NotEqual(t, idpKey("b1", "idp-object-1"), m["idpKey"], "caseExact")

	c := gdpr.Contact{BrandID: "b1", ID: "con-1", MemberID: "usr-1", NextReviewAt: t0}
	m = envJSON(t)(contactEnvelope(c))
	require.Equal(t, "usr-1", m["memberId"])
	require.Contains(t, m, "nextReviewAt")

	b := gdpr.Brand{ID: "b1", Name: "Fake"}
	m = envJSON(t)(brandEnvelope(b))
	require.Equal(t, "b1", m["id"])
	require.Equal(t, "b1", m["brandId"])

	tok := gdpr.Token{BrandID: "b1", Digest: "h1:ab", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	m = envJSON(t)(tokenEnvelope(tok))
	require.Equal(t, "h1:ab", m["id"])
	require.InDelta(t, (48 * time.Hour).Seconds(), m["ttl"], 0, "validity + a day of grace")
	tok.UsedAt = t0.Add(23 * time.Hour)
	m = envJSON(t)(tokenEnvelope(tok))
	require.InDelta(t, (25 * time.Hour).Seconds(), m["ttl"], 0, "counted from the latest write")

	cl := gdpr.Claim{BrandID: "b1", Key: "webhook:a/b", Owner: "o", CreatedAt: t0}
	m = envJSON(t)(claimEnvelope(cl))
	require.NotContains(t, m, "ttl", "held until released")
	require.True(t, strings.HasPrefix(m["id"].(string), "~"))
	cl.ExpiresAt = t0.Add(time.Minute)
	m = envJSON(t)(claimEnvelope(cl))
	require.InDelta(t, (time.Minute + time.Hour).Seconds(), m["ttl"], 0)

	w := gdpr.WhitelistEntry{BrandID: "b1", Kind: gdpr.WhitelistEmail, Digest: "h1:ab"}
	require.Equal(t, "email:h1:ab", envJSON(t)(whitelistEnvelope(w))["id"])
	bl := gdpr.BlacklistEntry{BrandID: "b1", Digest: "h1:ab"}
	require.Equal(t, "h1:ab", envJSON(t)(blacklistEnvelope(bl))["id"])
	r := gdpr.ErasureRecord{BrandID: "b1", ID: "era-1"}
	require.Equal(t, "era-1", envJSON(t)(erasureEnvelope(r))["id"])

	_, err := userEnvelope(gdpr.User{ID: "usr-1"})
	require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "no brand")
	for _, id := range []string{"", "a/b", `a\b`, "a?b", "a#b", "a\nb", strings.Repeat("x", 256)} {
		_, err := userEnvelope(gdpr.User{BrandID: "b1", ID: id})
		require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err), "%q", id)
	}
}

func TestRoundTrip(t *testing.T) {
	u := gdpr.User{
		BrandID: "b1", ID: "usr-1", Role: gdpr.RoleVendor, Status: gdpr.UserBlocked, CreatedAt: t0,
		FirstName: "Fake", DateOfBirth: gdpr.Date{Year: 1990, Month: 2, Day: 3},
		Terms: &gdpr.Terms{Version: "v1", AcceptedAt: t0}, UGC: []gdpr.UGC{{Key: "b1/ugc/1"}},
		Block:        &gdpr.Block{Reason: gdpr.ReasonInactivity, DueAt: t0},
		NextReviewAt: t0.Add(time.Hour), Version: "old",
	}
	env, err := userEnvelope(u)
	require.NoError(t, err)
	got, err := decode(stored{Doc: env.Doc, ETag: "new"}, userVersion)
	require.NoError(t, err)
	want := u
	want.Version = "new"
	require.Equal(t, want, got)
}

func TestKeyID(t *testing.T) {
	for _, k := range []string{"h1:" + strings.Repeat("ab", 32), "email:h1:00ff", "usr-0123_x.y=z"} {
		require.Equal(t, k, keyID(k))
	}
	seen := map[string]bool{}
	for _, k := range []string{"", "a/b", `a\b`, "a?b", "a#b", "a b", "~", "~abc", "é", strings.Repeat("x", 201), "webhook:msg_2Lq/+=="} {
		id := keyID(k)
		require.True(t, strings.HasPrefix(id, "~"), "%q", k)
		require.True(t, validID(id), "%q -> %q", k, id)
		require.False(t, seen[id])
		seen[id] = true
	}
	require.Equal(t, keyID("a/b"), keyID("a/b"), "deterministic")
}

func TestTTLSeconds(t *testing.T) {
	require.Nil(t, ttlSeconds(time.Time{}, t0, time.Hour))
	require.Equal(t, int32(3601), *ttlSeconds(t0.Add(time.Second), t0, time.Hour))
	require.Equal(t, int32(3601), *ttlSeconds(t0.Add(500*time.Millisecond), t0, time.Hour+500*time.Millisecond))
	require.Equal(t, int32(3600), *ttlSeconds(t0.Add(-time.Hour), t0, time.Hour), "already expired: grace only")
	require.Equal(t, int32(1), *ttlSeconds(t0, t0, 0), "never 0 (invalid) or negative")
	require.Equal(t, int32(1<<31-1), *ttlSeconds(t0.AddDate(200, 0, 0), t0, 0), "clamped")
	// Independent of the wall clock: a fake clock decades away does not expire the item.
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, int32(60), *ttlSeconds(past.Add(time.Minute), past, 0))
}

func TestMapErr(t *testing.T) {
	cases := []struct {
		err  error
		code gdpr.Code
	}{
		{&azcore.ResponseError{StatusCode: http.StatusNotFound}, gdpr.CodeNotFound},
		{&azcore.ResponseError{StatusCode: http.StatusConflict}, gdpr.CodeConflict},
		{&azcore.ResponseError{StatusCode: http.StatusPreconditionFailed}, gdpr.CodeConflict},
		{&azcore.ResponseError{StatusCode: http.StatusTooManyRequests}, gdpr.CodeUnavailable},
		{&azcore.ResponseError{StatusCode: http.StatusServiceUnavailable}, gdpr.CodeUnavailable},
		{&azcore.ResponseError{StatusCode: http.StatusBadRequest}, gdpr.CodeInternal},
		{&azcore.ResponseError{StatusCode: http.StatusForbidden}, gdpr.CodeInternal},
		{errors.New("dial tcp: connection refused"), gdpr.CodeUnavailable},
		{context.DeadlineExceeded, gdpr.CodeUnavailable},
	}
	for _, c := range cases {
		err := mapErr("read users", fmt.Errorf("wrapped: %w", c.err))
		require.Equal(t, c.code, gdpr.ErrorCode(err), "%T", c.err)
		require.ErrorIs(t, err, c.err, "the cause stays reachable")
	}
	require.ErrorIs(t, mapErr("x", &azcore.ResponseError{StatusCode: 404}), gdpr.ErrNotFound)
	require.ErrorIs(t, mapErr("x", &azcore.ResponseError{StatusCode: 412}), gdpr.ErrConflict)
	require.NoError(t, mapErr("x", nil))
	inv := gdpr.Errorf(gdpr.CodeInvalid, "bad")
	require.Same(t, inv, mapErr("x", inv).(*gdpr.Error))
}

// TestEmptyBrandRefused: without a partition key the SDK would query every brand (R-TEN-1).
// No call reaches Cosmos: the Store has no containers.
func TestEmptyBrandRefused(t *testing.T) {
	s, ctx := &Store{}, context.Background()
	invalid := func(_ any, err error) { t.Helper(); require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err)) }
	invalid(s.ListUsers(ctx, "", "", 10))
	invalid(s.DueUsers(ctx, "", t0, gdpr.DueCursor{}, 10))
	invalid(s.DueUsers(ctx, "", t0, gdpr.DueCursor{At: t0, ID: "usr-1"}, 10))
	invalid(s.ListContacts(ctx, "", "", 10))
	invalid(s.DueContacts(ctx, "", t0, gdpr.DueCursor{}, 10))
	invalid(s.DueContacts(ctx, "", t0, gdpr.DueCursor{At: t0, ID: "con-1"}, 10))
	invalid(s.ContactsOfMembers(ctx, "", []string{"usr-1"}))
	invalid(s.ListErasures(ctx, "", "", 10))
	invalid(s.CreateUser(ctx, gdpr.User{ID: "usr-1"}))
	_, err := s.GetUser(ctx, "", "usr-1")
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	ok, err := s.IsWhitelisted(ctx, "", gdpr.WhitelistEmail, "h1:00")
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, s.ReleaseClaims(ctx, "", gdpr.Claim{Key: "email:h1:00", Owner: "usr-1"}))
}
