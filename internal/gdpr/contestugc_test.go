package gdpr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestRErase2ContestUGCDeletedAfterItsKeepUntilDate: UGC collected under a contest carries
// the contest's keep-until date; it outlives its member's erasure, and the sweep deletes it
// after that date, for erased and live members alike, with an audit record without personal
// data, once.
// guide: "this content will be deleted according to specific usage and duration specified within the contest"
func TestRErase2ContestUGCDeletedAfterItsKeepUntilDate(t *testing.T) {
	w := newCrashWorld(t, 0)
	ctx := t.Context()
	start := w.clock.Now()
	keepUntil := start.AddDate(1, 0, 0)
	ugc := func(id string) []gdpr.UGC {
		return []gdpr.UGC{{Key: "crash/users/" + id + "/ugc/contest", ContestID: "contest-1", KeepUntil: keepUntil},
			{Key: "crash/users/" + id + "/ugc/open-contest", ContestID: "contest-2"}}
	}
	for _, id := range []string{"m_erased", "m_live"} {
		b, err := w.store.GetBrand(ctx, "crash")
		require.NoError(t, err)
		u := gdpr.User{BrandID: "crash", ID: id, Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember, Status: gdpr.UserActive,
			CreatedAt: start, ConfirmedAt: start, FirstName: "First", Email: id + "@example.test", UGC: ugc(id)}
		u.NextReviewAt = gdpr.NextReview(u, b)
		_, err = w.store.CreateUser(ctx, u)
		require.NoError(t, err)
		for _, g := range u.UGC {
			require.NoError(t, w.blobs.Put(ctx, g.Key, []byte("photo"), "image/jpeg"))
		}
	}
	_, err := w.svc.retention.BlockMember(ctx, "crash", "m_erased", gdpr.ReasonUnsubscribed)
	require.NoError(t, err)
	w.clock.Set(start.AddDate(0, 0, 8))
	next := w.drainErasures(t, 0)

	sweep := func(at time.Time) {
		w.clock.Set(at)
		b, err := w.store.GetBrand(ctx, "crash")
		require.NoError(t, err)
		_, err = w.svc.retention.SweepBrand(ctx, b)
		require.NoError(t, err)
		next = w.drainErasures(t, next)
	}
	exists := func(key string) bool {
		ok, err := w.blobs.Exists(ctx, key)
		require.NoError(t, err)
		return ok
	}
	sweep(keepUntil.Add(-time.Second))
	for _, id := range []string{"m_erased", "m_live"} {
		require.True(t, exists(ugc(id)[0].Key), "R-ERASE-2: kept until the contest's date")
	}
	sweep(keepUntil.Add(time.Second))
	sweep(keepUntil.Add(time.Minute)) // a second sweep, and its jobs, change nothing more
	for _, id := range []string{"m_erased", "m_live"} {
		require.False(t, exists(ugc(id)[0].Key), "R-ERASE-2: deleted after the contest's date")
		require.True(t, exists(ugc(id)[1].Key), "a contest without a date keeps its UGC")
		u, err := w.store.GetUser(ctx, "crash", id)
		require.NoError(t, err)
		require.Equal(t, ugc(id)[1:], u.UGC)
	}
	recs, err := w.store.ListErasures(ctx, "crash", "", 100)
	require.NoError(t, err)
	var contest []gdpr.ErasureRecord
	for _, r := range recs {
		if r.Rule == gdpr.RuleContestUGC {
			contest = append(contest, r)
			require.Equal(t, 1, r.BlobsDeleted)
			require.Equal(t, []string{"ugc"}, r.FieldsErased)
			require.Empty(t, r.FieldsHashed)
		}
	}
	require.Len(t, contest, 2, "R-ERASE-9: one record per member")
}
