package gdpr_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestRErase1ContractEndErasesStaffNames: names of roles 1–6 are kept only while the brand
// has an active platform; at the end of its contract they go for every role, for staff
// erased earlier with their names kept too.
// guide: "As long as the Brand has an active platform with Popsell, Firstname and Lastname are kept in the databases for roles 1 to 6."
func TestRErase1ContractEndErasesStaffNames(t *testing.T) {
	w := newCrashWorld(t, 0)
	ctx := t.Context()
	start := w.clock.Now()
	seed := func(id string, role gdpr.Role) {
		_, err := w.store.CreateUser(ctx, gdpr.User{BrandID: "crash", ID: id, Role: role, Kind: gdpr.SubjectMember,
			Status: gdpr.UserActive, CreatedAt: start, ConfirmedAt: start, FirstName: "First" + id, LastName: "Last" + id,
			Email: id + "@example.test", Position: "Position" + id})
		require.NoError(t, err)
	}
	seed("m_staff_erased", gdpr.RoleEmployee)
	seed("m_staff_live", gdpr.RoleManager)
	_, err := w.svc.retention.BlockMember(ctx, "crash", "m_staff_erased", gdpr.ReasonEndOfContract)
	require.NoError(t, err)
	w.clock.Set(start.AddDate(0, 0, 8))
	next := w.drainErasures(t, 0)
	u, err := w.store.GetUser(ctx, "crash", "m_staff_erased")
	require.NoError(t, err)
	require.Equal(t, gdpr.UserErased, u.Status)
	require.Equal(t, "Firstm_staff_erased", u.FirstName, "R-ERASE-1: kept for role 1 while the brand is active")

	w.endContractAndErase(t, next)
	for _, id := range []string{"m_staff_erased", "m_staff_live"} {
		u, err := w.store.GetUser(ctx, "crash", id)
		require.NoError(t, err)
		require.Equal(t, gdpr.UserErased, u.Status, id)
		require.Empty(t, u.FirstName+u.LastName+u.Position, "R-ERASE-7: names go for every role at contract end")
		require.True(t, strings.HasPrefix(u.Email, "h1:"), id)
	}
	recs, err := w.store.ListErasures(ctx, "crash", "", 100)
	require.NoError(t, err)
	require.Len(t, recs, 3, "the staff member's erasure, then one per user at contract end")
	for _, r := range recs[1:] {
		require.Equal(t, gdpr.RuleBrandContractEnd, r.Rule)
		require.Contains(t, r.FieldsErased, "firstName")
	}
}
