package gdpr_test

import (
	"fmt"
	"strings"
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

// TestRRet1WarningsFifteenDaysApartWhenTheMarkIsPast: a brand shortens the inactivity so that
// a member's mark is already past; the sweep warns, warns again 15 days later and erases 15
// days after that, never on three consecutive days (R-RET-1).
// guide: "Two emails are sent prior to account deletion, every 15 days, to let the Member
// reactivate his account."
func TestRRet1WarningsFifteenDaysApartWhenTheMarkIsPast(t *testing.T) {
	w := newCrashWorld(t, 1)
	ctx := t.Context()
	now := w.clock.Now()
	_, _, err := w.svc.brands.PutBrand(ctx, "crash", gdpr.BrandSettings{Name: "Crash",
		Retention: gdpr.Retention{Inactivity: gdpr.Period{Years: 1}}})
	require.NoError(t, err)
	u := gdpr.User{BrandID: "crash", ID: "m_idle", Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: now.AddDate(-2, 0, 0), ConfirmedAt: now.AddDate(-2, 0, 0),
		Email: "idle@example.test", NextReviewAt: now.Add(-time.Hour)}
	_, err = w.store.CreateUser(ctx, u)
	require.NoError(t, err)

	// sweepOn sweeps on day d after the first warning and returns what it did for the member.
	sweepOn := func(d int) (warnings, erasures int) {
		t.Helper()
		w.queue.mu.Lock()
		w.queue.msgs = nil
		w.queue.mu.Unlock()
		w.clock.Set(now.AddDate(0, 0, d))
		b, err := w.svc.brands.GetBrand(ctx, "crash")
		require.NoError(t, err)
		_, err = w.svc.retention.SweepBrand(ctx, b)
		require.NoError(t, err)
		w.queue.mu.Lock()
		defer w.queue.mu.Unlock()
		for _, m := range w.queue.msgs {
			switch {
			case !strings.Contains(m.ID, "m_idle") && !strings.Contains(string(m.Body), "m_idle"):
			case strings.HasPrefix(m.ID, "warn"):
				warnings++
			default:
				erasures++
			}
		}
		return warnings, erasures
	}
	expect := map[int][2]int{0: {1, 0}, 1: {0, 0}, 2: {0, 0}, 14: {0, 0}, 15: {1, 0}, 16: {0, 0}, 29: {0, 0}, 30: {0, 1}}
	for _, d := range []int{0, 1, 2, 14, 15, 16, 29, 30} {
		warnings, erasures := sweepOn(d)
		require.Equal(t, expect[d], [2]int{warnings, erasures}, "day %d: warnings, erasures", d)
	}
	got, err := w.store.GetUser(ctx, "crash", "m_idle")
	require.NoError(t, err)
	require.True(t, got.Warnings.SecondAt.Sub(got.Warnings.FirstAt) >= 15*24*time.Hour, "15 days apart")
	b, err := w.svc.brands.GetBrand(ctx, "crash")
	require.NoError(t, err)
	require.True(t, gdpr.InactivityErasureDate(got, b, w.clock.Now()).Equal(now.AddDate(0, 0, 30)),
		"the warnings announce the erasure's date, not the past mark")
}
