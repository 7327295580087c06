package gdpr_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestSweepNeverActsEarly_R_RET_1: a user indexed under shorter settings is due in the index
// but not by the brand's current rules; the sweep moves it on instead of warning early.
func TestSweepNeverActsEarly_R_RET_1(t *testing.T) {
	w := newCrashWorld(t, 1)
	ctx := t.Context()
	now := w.clock.Now()
	u := gdpr.User{BrandID: "crash", ID: "m_stale", Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: now.AddDate(-2, 0, 0), ConfirmedAt: now.AddDate(-2, 0, 0),
		Email: "stale@example.test", NextReviewAt: now.Add(-time.Hour)}
	_, err := w.store.CreateUser(ctx, u)
	require.NoError(t, err)
	b, err := w.svc.brands.GetBrand(ctx, "crash")
	require.NoError(t, err)

	st, err := w.svc.retention.SweepBrand(ctx, b)
	require.NoError(t, err)
	require.Equal(t, 0, st.Warnings)
	for _, m := range w.queue.msgs {
		require.NotContains(t, m.ID, "m_stale", "no mail, no erasure job for it")
		require.NotContains(t, string(m.Body), "m_stale")
	}
	got, err := w.store.GetUser(ctx, "crash", "m_stale")
	require.NoError(t, err)
	want := u.ConfirmedAt.AddDate(3, 0, 0).AddDate(0, 0, -30)
	require.True(t, got.NextReviewAt.Equal(want), "re-indexed to the first warning: %v", got.NextReviewAt)
}

// TestSweepResumesWhereItStopped (review fix 7 of #13): a sweep that runs out of its budget
// stops at a page boundary and records its cursor on the brand; the next sweep resumes there,
// publishing each due user's job once over both runs, and clears the cursor at the end.
func TestSweepResumesWhereItStopped(t *testing.T) {
	w := newProvisionWorld(t)
	ctx := t.Context()
	now := w.clock.Now()
	var users []gdpr.User
	for i := range 2500 {
		users = append(users, gdpr.User{BrandID: "acme", ID: fmt.Sprintf("m_due_%04d", i), Role: gdpr.RoleAmbassador,
			Kind: gdpr.SubjectMember, Status: gdpr.UserPending, CreatedAt: now.AddDate(0, 0, -20), EmailTmp: "due@example.test",
			NextReviewAt: now.AddDate(0, 0, -5)})
	}
	require.NoError(t, w.store.BulkCreateUsers(ctx, users))
	b, err := w.svc.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)

	st, err := w.svc.retention.SweepBrandUntil(ctx, b, time.Now().Add(-time.Second)) // out of budget at once
	require.NoError(t, err)
	require.True(t, st.Paused)
	require.Equal(t, 1000, st.Due, "one page, then it stops")
	b, err = w.svc.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.NotNil(t, b.SweepCursor, "the cursor is durable")
	require.Equal(t, "m_due_0999", b.SweepCursor.ID)

	st, err = w.svc.retention.SweepBrand(ctx, b)
	require.NoError(t, err)
	require.False(t, st.Paused)
	require.Equal(t, 1500, st.Due, "resumed after the cursor, not from the start")
	b, err = w.svc.brands.GetBrand(ctx, "acme")
	require.NoError(t, err)
	require.Nil(t, b.SweepCursor, "a finished sweep clears it")

	jobs := map[string]int{}
	for _, m := range w.queue.msgs {
		jobs[m.ID]++
	}
	require.Len(t, jobs, 2500, "every due user's erasure job, once")
}
