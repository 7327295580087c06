package gdpr_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// seedActiveMember creates an active member of the crash brand with one contact.
func (w *crashWorld) seedActiveMember(t *testing.T, id string) {
	t.Helper()
	now := w.clock.Now()
	_, err := w.store.CreateUser(t.Context(), gdpr.User{BrandID: "crash", ID: id, Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: now, ConfirmedAt: now, FirstName: "Firstkept", LastName: "Lastkept", Email: id + "@example.test"})
	require.NoError(t, err)
	_, err = w.store.CreateContact(t.Context(), gdpr.Contact{BrandID: "crash", ID: "c_" + id, MemberID: id,
		Email: "contact." + id + "@example.test", FirstName: "Contact", CreatedAt: now})
	require.NoError(t, err)
}

// sweepAndErase runs the daily sweep and every erasure job published since from.
func (w *crashWorld) sweepAndErase(t *testing.T, from int) int {
	t.Helper()
	require.NoError(t, w.svc.retention.RetentionSweep(t.Context()))
	return w.drainErasures(t, from)
}

func (w *crashWorld) brand(t *testing.T) gdpr.Brand {
	t.Helper()
	b, err := w.store.GetBrand(t.Context(), "crash")
	require.NoError(t, err)
	return b
}

// TestRErase8SuspendedProgramEndsAfterSixMonths: a suspended program keeps its data until
// the brand's suspendedProgram duration has passed, then the brand is treated as at the end
// of its contract (R-ERASE-7): after the grace period every member and contact is erased.
// guide: "data can be kept in the database, for a maximum of 6 months"
func TestRErase8SuspendedProgramEndsAfterSixMonths(t *testing.T) {
	w := newCrashWorld(t, 0)
	ctx := t.Context()
	w.seedActiveMember(t, "m_kept")
	start := w.clock.Now()

	b, err := w.svc.retention.SuspendProgram(ctx, "crash")
	require.NoError(t, err)
	require.Equal(t, gdpr.BrandSuspended, b.Status)
	require.NotNil(t, b.Suspension)
	require.Equal(t, start, b.Suspension.RequestedAt)
	keepUntil := start.AddDate(0, 6, 0)
	require.Equal(t, keepUntil, b.Suspension.KeepUntil, "R-ERASE-8: the default suspendedProgram is 6 months")

	w.clock.Set(start.AddDate(0, 1, 0))
	again, err := w.svc.retention.SuspendProgram(ctx, "crash")
	require.NoError(t, err)
	require.Equal(t, *b.Suspension, *again.Suspension, "suspending again keeps the first suspension")

	_, err = w.svc.brands.AddWhitelist(ctx, "crash", gdpr.WhitelistInput{Emails: []string{"new@example.test"}})
	require.Equal(t, gdpr.CodeForbidden, gdpr.ErrorCode(err), "a suspended program takes no new data")

	w.clock.Set(keepUntil.Add(-time.Second))
	next := w.sweepAndErase(t, 0)
	require.Equal(t, gdpr.BrandSuspended, w.brand(t).Status, "kept up to the 6 months")
	u, err := w.store.GetUser(ctx, "crash", "m_kept")
	require.NoError(t, err)
	require.Equal(t, gdpr.UserActive, u.Status)
	require.Equal(t, "Firstkept", u.FirstName)

	w.clock.Set(keepUntil.Add(time.Second))
	next = w.sweepAndErase(t, next)
	ended := w.brand(t)
	require.Equal(t, gdpr.BrandEnded, ended.Status, "past 6 months the brand is at the end of its contract")
	require.NotNil(t, ended.ContractEnd)
	require.Equal(t, keepUntil.Add(time.Second), ended.ContractEnd.RequestedAt)

	w.clock.Set(keepUntil.Add(2 * time.Hour))
	next = w.sweepAndErase(t, next)
	require.Equal(t, ended.ContractEnd, w.brand(t).ContractEnd, "a second sweep ends the contract once")

	w.clock.Set(ended.ContractEnd.DueAt.Add(time.Second))
	w.sweepAndErase(t, next)
	u, err = w.store.GetUser(ctx, "crash", "m_kept")
	require.NoError(t, err)
	require.Equal(t, gdpr.UserErased, u.Status, "R-ERASE-7: every member")
	require.Empty(t, u.FirstName)
	c, err := w.store.GetContact(ctx, "crash", "c_m_kept")
	require.NoError(t, err)
	require.True(t, c.Erased(), "R-ERASE-7: every contact")
	recs, err := w.store.ListErasures(ctx, "crash", "", 100)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, gdpr.RuleBrandContractEnd, recs[0].Rule)
}

// TestRErase8RelaunchCancelsTheSuspension: a program relaunched before its 6 months is
// active again and nothing is erased; a relaunch past them, or any change to an ended
// brand, is refused.
// guide: "If the program is suspended for any reason, and planned to be relaunched soon"
func TestRErase8RelaunchCancelsTheSuspension(t *testing.T) {
	w := newCrashWorld(t, 0)
	ctx := t.Context()
	w.seedActiveMember(t, "m_kept")
	start := w.clock.Now()

	b, err := w.svc.retention.SuspendProgram(ctx, "crash")
	require.NoError(t, err)
	w.clock.Set(b.Suspension.KeepUntil.Add(-time.Hour))
	for range 2 { // idempotent
		b, err = w.svc.retention.RelaunchProgram(ctx, "crash")
		require.NoError(t, err)
		require.Equal(t, gdpr.BrandActive, b.Status)
		require.Nil(t, b.Suspension)
	}
	_, err = w.svc.brands.AddWhitelist(ctx, "crash", gdpr.WhitelistInput{Emails: []string{"new@example.test"}})
	require.NoError(t, err, "a relaunched program takes data again")

	w.clock.Set(start.AddDate(0, 7, 0))
	w.sweepAndErase(t, 0)
	require.Equal(t, gdpr.BrandActive, w.brand(t).Status, "the relaunch cancelled the end")
	u, err := w.store.GetUser(ctx, "crash", "m_kept")
	require.NoError(t, err)
	require.Equal(t, gdpr.UserActive, u.Status)

	t.Run("relaunch_past_the_6_months_refused", func(t *testing.T) {
		b, err := w.svc.retention.SuspendProgram(ctx, "crash")
		require.NoError(t, err)
		w.clock.Set(b.Suspension.KeepUntil)
		_, err = w.svc.retention.RelaunchProgram(ctx, "crash")
		require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
		require.Equal(t, gdpr.BrandSuspended, w.brand(t).Status, "nothing changed")
	})
	t.Run("ended_brand_refuses_both", func(t *testing.T) {
		_, err := w.svc.retention.EndContract(ctx, "crash")
		require.NoError(t, err)
		_, err = w.svc.retention.SuspendProgram(ctx, "crash")
		require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
		_, err = w.svc.retention.RelaunchProgram(ctx, "crash")
		require.Equal(t, gdpr.CodeConflict, gdpr.ErrorCode(err))
		require.Equal(t, gdpr.BrandEnded, w.brand(t).Status)
	})
	_, err = w.svc.retention.SuspendProgram(ctx, "nope")
	require.Equal(t, gdpr.CodeNotFound, gdpr.ErrorCode(err))
}

// suspensionMails are the program_suspended jobs published so far, by message id.
func (w *crashWorld) suspensionMails(t *testing.T) map[string]string {
	t.Helper()
	w.queue.mu.Lock()
	defer w.queue.mu.Unlock()
	out := map[string]string{}
	for _, m := range w.queue.msgs {
		var job gdpr.MailJob
		if json.Unmarshal(m.Body, &job) == nil && job.Kind == gdpr.MailProgramSuspended {
			out[m.ID] = job.UserID
		}
	}
	return out
}

// TestRErase8SuspensionWarnsEveryActiveMember: suspending publishes one warning job per
// active member, none for a blocked, erased or external user; suspending again, or a sweep,
// publishes nothing new, and a publishing cut short is finished under the same ids.
// guide: "Members will be warned of the program suspension by a newsletter and can opt-out."
func TestRErase8SuspensionWarnsEveryActiveMember(t *testing.T) {
	w := newCrashWorld(t, 0)
	ctx := t.Context()
	w.seedActiveMember(t, "m_a")
	w.seedActiveMember(t, "m_b")
	now := w.clock.Now()
	for _, u := range []gdpr.User{
		{BrandID: "crash", ID: "m_blocked", Kind: gdpr.SubjectMember, Role: gdpr.RoleAmbassador, Status: gdpr.UserBlocked, CreatedAt: now, Email: "b@example.test",
			Block: &gdpr.Block{Reason: gdpr.ReasonUnsubscribed, RequestedAt: now, DueAt: now.AddDate(0, 1, 0), PreviousStatus: gdpr.UserActive}},
		{BrandID: "crash", ID: "m_erased", Kind: gdpr.SubjectMember, Role: gdpr.RoleAmbassador, Status: gdpr.UserErased, CreatedAt: now},
		{BrandID: "crash", ID: "x_ext", Kind: gdpr.SubjectExternal, Role: gdpr.RoleAmbassador, Status: gdpr.UserActive, CreatedAt: now, Email: "x@example.test"},
	} {
		_, err := w.store.CreateUser(ctx, u)
		require.NoError(t, err)
	}

	b, err := w.svc.retention.SuspendProgram(ctx, "crash")
	require.NoError(t, err)
	first := w.suspensionMails(t)
	require.ElementsMatch(t, []string{"m_a", "m_b"}, slices.Collect(maps.Values(first)), "one warning per active member, no other")
	require.False(t, w.brand(t).Suspension.MailedAt.IsZero(), "the publishing is recorded as done")

	published := len(w.queue.msgs)
	_, err = w.svc.retention.SuspendProgram(ctx, "crash")
	require.NoError(t, err)
	require.NoError(t, w.svc.retention.RetentionSweep(ctx))
	require.Equal(t, published, len(w.queue.msgs), "a finished publishing is not repeated")

	// A publishing cut short (the process died before recording it) is finished by the next
	// sweep under the same ids: the queue and the mail sender drop what they have seen.
	cut := w.brand(t)
	cut.Suspension.MailedAt = time.Time{}
	_, err = w.store.PutBrand(ctx, cut)
	require.NoError(t, err)
	w.queue.msgs = nil
	require.NoError(t, w.svc.retention.RetentionSweep(ctx))
	require.Equal(t, first, w.suspensionMails(t), "the same ids again")
	require.Equal(t, b.Suspension.RequestedAt, w.brand(t).Suspension.RequestedAt)
	require.False(t, w.brand(t).Suspension.MailedAt.IsZero())
}
