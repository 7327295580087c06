package gdpr_test

import (
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
