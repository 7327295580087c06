package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// The register of data-subject requests (R-RIGHTS-1): create-only, versioned updates, pages
// by id with kind and id bounds, and a subject's requests by index.
var requestTests = []test{
	{"round_trip_every_field_R-RIGHTS-1", testRequestRoundTrip},
	{"create_is_create_only", testRequestCreateOnly},
	{"update_at_the_version_read", testRequestUpdate},
	{"concurrent_updates_one_wins", testRequestUpdateRace},
	{"list_pages_in_id_order_with_bounds_and_kind", testRequestList},
	{"requests_of_a_subject", testRequestsOfSubject},
	{"another_brand_sees_none_R-TEN-1", testRequestOtherBrand},
}

// NewRequest is a fake request of brand, received at t, with every field set.
func NewRequest(brand gdpr.BrandID, kind gdpr.RequestKind, subject string, t time.Time) gdpr.Request {
	return gdpr.Request{
		BrandID: brand, ID: gdpr.NewID("r_", t), Kind: kind, SubjectID: subject,
		Reference: "case-" + fmt.Sprint(t.UnixNano()), Justification: "the subject asked", RequestedBy: "dpo-team",
		Status: gdpr.RequestCompleted, RefusedReason: "none", ReceivedAt: t, DueAt: gdpr.RequestDue(t),
		CompletedAt: t.Add(time.Hour), FieldsChanged: []string{"firstName"}, LiftedAt: t.Add(2 * time.Hour),
		Approvals: []gdpr.Approval{{Approver: "controller-1", Role: gdpr.ApproverBrandController, At: t}},
		Download:  &gdpr.Download{URL: "https://example.test/exports/x", ExpiresAt: t.Add(48 * time.Hour)},
	}
}

func testRequestRoundTrip(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	r := NewRequest(b, gdpr.RequestAccess, "m_subject", now)
	requireFilled(t, r, "Version")
	got, err := s.CreateRequest(ctx, r)
	require.NoError(t, err)
	require.NotEmpty(t, got.Version)
	read, err := s.GetRequest(ctx, b, r.ID)
	require.NoError(t, err)
	require.Equal(t, got.Version, read.Version)
	read.Version, r.Version = "", ""
	require.Equal(t, Normalize(r), Normalize(read))
	_, err = s.GetRequest(ctx, b, gdpr.NewID("r_", now))
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}

func testRequestCreateOnly(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	r := NewRequest(b, gdpr.RequestErasure, "m_a", now)
	_, err := s.CreateRequest(ctx, r)
	require.NoError(t, err)
	other := r
	other.Kind = gdpr.RequestAccess
	_, err = s.CreateRequest(ctx, other)
	require.ErrorIs(t, err, gdpr.ErrConflict)
	read, err := s.GetRequest(ctx, b, r.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.RequestErasure, read.Kind, "a second create changes nothing")
}

func testRequestUpdate(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	r, err := s.CreateRequest(ctx, NewRequest(b, gdpr.RequestBrandExport, "", now))
	require.NoError(t, err)
	r.Status = gdpr.RequestInProgress
	next, err := s.UpdateRequest(ctx, r)
	require.NoError(t, err)
	require.NotEqual(t, r.Version, next.Version)
	_, err = s.UpdateRequest(ctx, r) // the version read before
	require.ErrorIs(t, err, gdpr.ErrConflict)
	missing := NewRequest(b, gdpr.RequestAccess, "m_x", now)
	missing.Version = next.Version
	_, err = s.UpdateRequest(ctx, missing)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	read, err := s.GetRequest(ctx, b, r.ID)
	require.NoError(t, err)
	require.Equal(t, gdpr.RequestInProgress, read.Status)
}

func testRequestUpdateRace(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	r, err := s.CreateRequest(ctx, NewRequest(b, gdpr.RequestBrandExport, "", now))
	require.NoError(t, err)
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Go(func() {
			c := r
			c.Approvals = append(c.Approvals, gdpr.Approval{Approver: fmt.Sprint("a", i), Role: gdpr.ApproverDPO, At: now})
			if _, err := s.UpdateRequest(ctx, c); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else {
				require.ErrorIs(t, err, gdpr.ErrConflict)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, wins, "writers at one version: exactly one lands")
}

func testRequestList(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var ids []string
	for i := range 6 {
		kind := gdpr.RequestAccess
		if i%2 == 1 {
			kind = gdpr.RequestErasure
		}
		r, err := s.CreateRequest(ctx, NewRequest(b, kind, "m_a", now.Add(time.Duration(i)*time.Second)))
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	idsOf := func(rs []gdpr.Request) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	all, err := s.ListRequests(ctx, b, gdpr.RequestFilter{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, ids, idsOf(all))
	page, err := s.ListRequests(ctx, b, gdpr.RequestFilter{After: ids[1], Limit: 2})
	require.NoError(t, err)
	require.Equal(t, ids[2:4], idsOf(page))
	bounded, err := s.ListRequests(ctx, b, gdpr.RequestFilter{After: ids[0], Before: ids[4], Limit: 100})
	require.NoError(t, err)
	require.Equal(t, ids[1:4], idsOf(bounded))
	erasures, err := s.ListRequests(ctx, b, gdpr.RequestFilter{Kind: gdpr.RequestErasure, Limit: 100})
	require.NoError(t, err)
	require.Equal(t, []string{ids[1], ids[3], ids[5]}, idsOf(erasures))
	none, err := s.ListRequests(ctx, b, gdpr.RequestFilter{Limit: 0})
	require.NoError(t, err)
	require.Empty(t, none)
}

func testRequestsOfSubject(t *testing.T, s Store) {
	ctx, b := t.Context(), NewBrandID()
	var mine []string
	for i, subject := range []string{"m_a", "m_b", "m_a", "", "m_a"} {
		r, err := s.CreateRequest(ctx, NewRequest(b, gdpr.RequestAccess, subject, now.Add(time.Duration(i)*time.Second)))
		require.NoError(t, err)
		if subject == "m_a" {
			mine = append(mine, r.ID)
		}
	}
	got, err := s.RequestsOfSubject(ctx, b, "m_a", 100)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i, r := range got {
		require.Equal(t, mine[i], r.ID)
	}
	two, err := s.RequestsOfSubject(ctx, b, "m_a", 2)
	require.NoError(t, err)
	require.Len(t, two, 2)
	none, err := s.RequestsOfSubject(ctx, b, "", 100)
	require.NoError(t, err)
	require.Empty(t, none, "a brand export has no subject, and no subject finds it")
}

func testRequestOtherBrand(t *testing.T, s Store) {
	ctx, b, other := t.Context(), NewBrandID(), NewBrandID()
	r, err := s.CreateRequest(ctx, NewRequest(b, gdpr.RequestAccess, "m_a", now))
	require.NoError(t, err)
	_, err = s.GetRequest(ctx, other, r.ID)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
	list, err := s.ListRequests(ctx, other, gdpr.RequestFilter{Limit: 100})
	require.NoError(t, err)
	require.Empty(t, list)
	of, err := s.RequestsOfSubject(ctx, other, "m_a", 100)
	require.NoError(t, err)
	require.Empty(t, of)
	r.BrandID = other
	_, err = s.UpdateRequest(ctx, r)
	require.ErrorIs(t, err, gdpr.ErrNotFound)
}
