package gdpr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Fixed instants: no test reads time.Now.
var (
	retCreated   = time.Date(2021, 1, 10, 9, 0, 0, 0, time.UTC)
	retConfirmed = time.Date(2021, 1, 11, 10, 0, 0, 0, time.UTC)
	// The 3-year mark of a member confirmed at retConfirmed who never logged in.
	retMark  = time.Date(2024, 1, 11, 10, 0, 0, 0, time.UTC)
	retWarn1 = time.Date(2023, 12, 12, 10, 0, 0, 0, time.UTC) // mark − 30 days
	retWarn2 = time.Date(2023, 12, 27, 10, 0, 0, 0, time.UTC) // mark − 15 days
)

func retBrand(edit ...func(*gdpr.Brand)) gdpr.Brand {
	b := gdpr.Brand{ID: "acme", Name: "Acme Fake", Pro: gdpr.ProClassic, Status: gdpr.BrandActive}
	for _, e := range edit {
		e(&b)
	}
	return b
}

func retMember(edit ...func(*gdpr.User)) gdpr.User {
	u := gdpr.User{
		BrandID: "acme", ID: "m_fake1", Role: gdpr.RoleAmbassador, Kind: gdpr.SubjectMember,
		Status: gdpr.UserActive, CreatedAt: retCreated, ConfirmedAt: retConfirmed,
	}
	for _, e := range edit {
		e(&u)
	}
	return u
}

func warn1(mark time.Time) gdpr.Action {
	return gdpr.Action{Kind: gdpr.ActionWarn1, At: mark.AddDate(0, 0, -30), Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: mark}
}

func warn2(mark time.Time) gdpr.Action {
	return gdpr.Action{Kind: gdpr.ActionWarn2, At: mark.AddDate(0, 0, -15), Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: mark}
}

func eraseInactive(mark time.Time) gdpr.Action {
	return gdpr.Action{Kind: gdpr.ActionErase, At: mark, Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: mark, RequestedAt: mark}
}

func TestReview(t *testing.T) {
	login := time.Date(2022, 6, 1, 8, 15, 0, 0, time.UTC)
	loginMark := time.Date(2025, 6, 1, 8, 15, 0, 0, time.UTC)
	blockedAt := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	blockDue := time.Date(2024, 3, 8, 12, 0, 0, 0, time.UTC)
	signup := time.Date(2024, 5, 1, 17, 30, 0, 0, time.UTC)
	signupDue := time.Date(2024, 5, 16, 17, 30, 0, 0, time.UTC)
	widget := time.Date(2022, 2, 3, 4, 5, 6, 0, time.UTC)

	tests := []struct {
		name  string
		user  gdpr.User
		brand gdpr.Brand
		want  gdpr.Action
	}{
		// Unconfirmed signups (R-SIGNUP-2).
		{
			"R-SIGNUP-2_pending_signup_erased_15_days_after_creation",
			retMember(func(u *gdpr.User) {
				u.Status, u.CreatedAt, u.ConfirmedAt = gdpr.UserPending, signup, time.Time{}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionErase, At: signupDue, Rule: gdpr.RuleUnconfirmedSignup, Reason: gdpr.ReasonUnconfirmed, RequestedAt: signupDue},
		},
		{
			"R-TEN-2_pending_signup_honours_the_brand's_unconfirmedSignup",
			retMember(func(u *gdpr.User) {
				u.Status, u.CreatedAt, u.ConfirmedAt = gdpr.UserPending, signup, time.Time{}
			}),
			retBrand(func(b *gdpr.Brand) { b.Retention.UnconfirmedSignup = gdpr.Period{Days: 3} }),
			gdpr.Action{Kind: gdpr.ActionErase, At: signup.AddDate(0, 0, 3), Rule: gdpr.RuleUnconfirmedSignup, Reason: gdpr.ReasonUnconfirmed, RequestedAt: signup.AddDate(0, 0, 3)},
		},
		{
			"R-SIGNUP-2_pending_signup_of_an_ended_brand_still_erased",
			retMember(func(u *gdpr.User) {
				u.Status, u.CreatedAt, u.ConfirmedAt = gdpr.UserPending, signup, time.Time{}
			}),
			retBrand(func(b *gdpr.Brand) { b.Status = gdpr.BrandEnded }),
			gdpr.Action{Kind: gdpr.ActionErase, At: signupDue, Rule: gdpr.RuleUnconfirmedSignup, Reason: gdpr.ReasonUnconfirmed, RequestedAt: signupDue},
		},

		// Blocked accounts (R-ERASE-5).
		{
			"R-ERASE-5_blocked_member_erased_when_the_block_is_due",
			retMember(func(u *gdpr.User) {
				u.Status = gdpr.UserBlocked
				u.Block = &gdpr.Block{Reason: gdpr.ReasonUnsubscribed, Rule: gdpr.RuleGracePeriod, RequestedAt: blockedAt, DueAt: blockDue, PreviousStatus: gdpr.UserActive}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionErase, At: blockDue, Rule: gdpr.RuleGracePeriod, Reason: gdpr.ReasonUnsubscribed, RequestedAt: blockedAt},
		},
		{
			"R-ERASE-7_blocked_by_brand_end_keeps_its_rule_and_reason",
			retMember(func(u *gdpr.User) {
				u.Status = gdpr.UserBlocked
				u.Block = &gdpr.Block{Reason: gdpr.ReasonBrandEnded, Rule: gdpr.RuleBrandContractEnd, RequestedAt: blockedAt, DueAt: blockDue}
			}),
			retBrand(func(b *gdpr.Brand) { b.Status = gdpr.BrandEnded }),
			gdpr.Action{Kind: gdpr.ActionErase, At: blockDue, Rule: gdpr.RuleBrandContractEnd, Reason: gdpr.ReasonBrandEnded, RequestedAt: blockedAt},
		},
		{
			"R-ERASE-5_blocked_vendor_of_a_selective_brand_is_erased_too",
			retMember(func(u *gdpr.User) {
				u.Role, u.Status = gdpr.RoleVendor, gdpr.UserBlocked
				u.Block = &gdpr.Block{Reason: gdpr.ReasonEndOfContract, Rule: gdpr.RuleGracePeriod, RequestedAt: blockedAt, DueAt: blockDue}
			}),
			retBrand(func(b *gdpr.Brand) { b.Pro = gdpr.ProSelective }),
			gdpr.Action{Kind: gdpr.ActionErase, At: blockDue, Rule: gdpr.RuleGracePeriod, Reason: gdpr.ReasonEndOfContract, RequestedAt: blockedAt},
		},
		{
			"R-ERASE-5_blocked_without_a_block_record_does_nothing",
			retMember(func(u *gdpr.User) { u.Status = gdpr.UserBlocked }),
			retBrand(),
			gdpr.Action{},
		},

		// Member inactivity (R-RET-1).
		{
			"R-RET-1_first_warning_30_days_before_the_3-year_mark",
			retMember(),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionWarn1, At: retWarn1, Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: retMark},
		},
		{
			// A first warning sent an hour late moves the rest an hour: 15 days apart (R-RET-1).
			"R-RET-1_second_warning_15_days_before_the_mark_once_the_first_was_sent",
			retMember(func(u *gdpr.User) {
				u.Warnings = gdpr.InactivityWarnings{Mark: retMark, FirstAt: retWarn1.Add(time.Hour)}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionWarn2, At: retWarn2.Add(time.Hour), Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: retMark},
		},
		{
			"R-RET-1_erased_at_the_mark_once_both_warnings_were_sent",
			retMember(func(u *gdpr.User) {
				u.Warnings = gdpr.InactivityWarnings{Mark: retMark, FirstAt: retWarn1.Add(time.Hour), SecondAt: retWarn2.Add(time.Hour)}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionErase, At: retMark.Add(time.Hour), Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: retMark, RequestedAt: retMark.Add(time.Hour)},
		},
		{
			// Warnings recorded at the instant of the mark in another zone still match.
			"R-RET-1_warnings_matched_by_instant_not_by_zone",
			retMember(func(u *gdpr.User) {
				u.Warnings = gdpr.InactivityWarnings{Mark: retMark.In(time.FixedZone("CET", 3600)), FirstAt: retWarn1}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionWarn2, At: retWarn2, Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: retMark},
		},
		{
			"R-RET-1_a_login_after_the_warnings_moves_the_mark_and_resets_them",
			retMember(func(u *gdpr.User) {
				u.LastLoginAt = retWarn2.Add(24 * time.Hour)
				u.Warnings = gdpr.InactivityWarnings{Mark: retMark, FirstAt: retWarn1, SecondAt: retWarn2}
			}),
			retBrand(),
			warn1(retWarn2.Add(24*time.Hour).AddDate(3, 0, 0)),
		},
		{
			"R-RET-1_a_login_after_the_first_warning_resets_it",
			retMember(func(u *gdpr.User) {
				u.LastLoginAt = retWarn1.Add(24 * time.Hour)
				u.Warnings = gdpr.InactivityWarnings{Mark: retMark, FirstAt: retWarn1}
			}),
			retBrand(),
			warn1(retWarn1.Add(24*time.Hour).AddDate(3, 0, 0)),
		},
		{
			"R-RET-1_inactivity_counts_from_the_last_login",
			retMember(func(u *gdpr.User) { u.LastLoginAt = login }),
			retBrand(),
			warn1(loginMark),
		},
		{
			"R-RET-1_inactivity_counts_from_confirmation_without_login",
			retMember(),
			retBrand(),
			warn1(retConfirmed.AddDate(3, 0, 0)),
		},
		{
			"R-RET-1_inactivity_counts_from_creation_without_confirmation_or_login",
			retMember(func(u *gdpr.User) { u.ConfirmedAt = time.Time{} }), // e.g. an SSO-provisioned member
			retBrand(),
			warn1(retCreated.AddDate(3, 0, 0)),
		},
		{
			"R-RET-1_the_3-year_mark_is_a_calendar_date_across_a_leap_year",
			retMember(func(u *gdpr.User) { u.LastLoginAt = time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC) }),
			retBrand(),
			// 2023-03-01 + 3y = 2026-03-01; 30 days before it is 2026-01-30 (February 2026
			// has 28 days).
			gdpr.Action{Kind: gdpr.ActionWarn1, At: time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC), Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		},
		{
			"R-TEN-2_brand_inactivity_override_P1Y_is_honoured",
			retMember(),
			retBrand(func(b *gdpr.Brand) { b.Retention.Inactivity = gdpr.Period{Years: 1} }),
			warn1(retConfirmed.AddDate(1, 0, 0)),
		},
		{
			"R-TEN-2_brand_warning_overrides_are_honoured",
			retMember(func(u *gdpr.User) {
				u.Warnings = gdpr.InactivityWarnings{Mark: retConfirmed.AddDate(1, 0, 0), FirstAt: retConfirmed.AddDate(0, 10, 0)}
			}),
			retBrand(func(b *gdpr.Brand) {
				b.Retention.Inactivity = gdpr.Period{Years: 1}
				b.Retention.InactivityWarning1 = gdpr.Period{Days: 60}
				b.Retention.InactivityWarning2 = gdpr.Period{Days: 7}
			}),
			gdpr.Action{Kind: gdpr.ActionWarn2, At: retConfirmed.AddDate(1, 0, -7), Rule: gdpr.RuleMemberInactivity, Reason: gdpr.ReasonInactivity, Mark: retConfirmed.AddDate(1, 0, 0)},
		},
		{
			"R-RET-1_second_warning_not_skipped",
			retMember(func(u *gdpr.User) {
				u.Warnings = gdpr.InactivityWarnings{Mark: retMark, SecondAt: retWarn2}
			}),
			retBrand(),
			warn1(retMark),
		},

		// Roles and scenarios (R-ROLE, R-RET-1).
		{
			"R-RET-1_vendor_of_a_selective_brand_pro_3_is_never_erased_automatically",
			retMember(func(u *gdpr.User) { u.Role = gdpr.RoleVendor }),
			retBrand(func(b *gdpr.Brand) { b.Pro = gdpr.ProSelective }),
			gdpr.Action{},
		},
		{
			"R-RET-1_vendor_of_a_selective_brand_pro_4_is_never_erased_automatically",
			retMember(func(u *gdpr.User) {
				u.Role = gdpr.RoleVendor
				u.Warnings = gdpr.InactivityWarnings{Mark: retMark, FirstAt: retWarn1, SecondAt: retWarn2}
			}),
			retBrand(func(b *gdpr.Brand) { b.Pro = gdpr.ProSelective2 }),
			gdpr.Action{},
		},
		{
			"R-RET-1_vendor_of_a_classic_brand_pro_0_is_warned",
			retMember(func(u *gdpr.User) { u.Role = gdpr.RoleVendor }),
			retBrand(),
			warn1(retMark),
		},
		{
			"R-RET-1_vendor_of_a_direct_selling_brand_pro_2_is_warned",
			retMember(func(u *gdpr.User) { u.Role = gdpr.RoleVendor }),
			retBrand(func(b *gdpr.Brand) { b.Pro = gdpr.ProDirectSelling }),
			warn1(retMark),
		},
		{
			"R-RET-1_other_members_of_a_selective_brand_are_warned",
			retMember(func(u *gdpr.User) { u.Role = gdpr.RoleShopManager }),
			retBrand(func(b *gdpr.Brand) { b.Pro = gdpr.ProSelective }),
			warn1(retMark),
		},
		{
			"R-RET-1_employee_under_contract_is_warned",
			retMember(func(u *gdpr.User) { u.Role = gdpr.RoleEmployee }),
			retBrand(),
			warn1(retMark),
		},

		// External users (R-RET-2).
		{
			"R-RET-2_client_erased_3_years_after_the_last_widget_interaction_without_warning",
			retMember(func(u *gdpr.User) {
				u.Role, u.Kind, u.ConfirmedAt, u.LastActivityAt = gdpr.RoleClient, gdpr.SubjectExternal, time.Time{}, widget
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionErase, At: widget.AddDate(3, 0, 0), Rule: gdpr.RuleExternalInactive, Reason: gdpr.ReasonInactivity, RequestedAt: widget.AddDate(3, 0, 0)},
		},
		{
			"R-RET-2_temporary_account_without_interaction_counts_from_creation",
			retMember(func(u *gdpr.User) {
				u.Role, u.Kind, u.ConfirmedAt = gdpr.RoleTemporary, gdpr.SubjectExternal, time.Time{}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionErase, At: retCreated.AddDate(3, 0, 0), Rule: gdpr.RuleExternalInactive, Reason: gdpr.ReasonInactivity, RequestedAt: retCreated.AddDate(3, 0, 0)},
		},
		{
			"R-RET-2_external_user_ignores_member_warnings",
			retMember(func(u *gdpr.User) {
				u.Role, u.Kind, u.ConfirmedAt, u.LastActivityAt = gdpr.RoleClient, gdpr.SubjectExternal, time.Time{}, widget
				u.Warnings = gdpr.InactivityWarnings{Mark: widget.AddDate(3, 0, 0)}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionErase, At: widget.AddDate(3, 0, 0), Rule: gdpr.RuleExternalInactive, Reason: gdpr.ReasonInactivity, RequestedAt: widget.AddDate(3, 0, 0)},
		},
		{
			"R-TEN-2_external_inactivity_override_is_honoured",
			retMember(func(u *gdpr.User) {
				u.Role, u.Kind, u.ConfirmedAt, u.LastActivityAt = gdpr.RoleClient, gdpr.SubjectExternal, time.Time{}, widget
			}),
			retBrand(func(b *gdpr.Brand) { b.Retention.ExternalInactivity = gdpr.Period{Months: 18} }),
			gdpr.Action{Kind: gdpr.ActionErase, At: widget.AddDate(0, 18, 0), Rule: gdpr.RuleExternalInactive, Reason: gdpr.ReasonInactivity, RequestedAt: widget.AddDate(0, 18, 0)},
		},
		{
			"R-RET-2_external_user_of_a_selective_brand_is_still_erased",
			retMember(func(u *gdpr.User) {
				u.Role, u.Kind, u.ConfirmedAt, u.LastActivityAt = gdpr.RoleTemporary, gdpr.SubjectExternal, time.Time{}, widget
			}),
			retBrand(func(b *gdpr.Brand) { b.Pro = gdpr.ProSelective }),
			gdpr.Action{Kind: gdpr.ActionErase, At: widget.AddDate(3, 0, 0), Rule: gdpr.RuleExternalInactive, Reason: gdpr.ReasonInactivity, RequestedAt: widget.AddDate(3, 0, 0)},
		},

		// Erasures in progress (R-ERASE-9 resumability).
		{
			"R-ERASE-5_erasure_interrupted_by_a_crash_is_continued",
			retMember(func(u *gdpr.User) {
				u.Status = gdpr.UserErased
				u.Erasure = &gdpr.ErasureState{ID: "er_fake", Rule: gdpr.RuleGracePeriod, Reason: gdpr.ReasonUnsubscribed, RequestedAt: blockedAt, DueAt: blockDue, Step: "blobs"}
			}),
			retBrand(),
			gdpr.Action{Kind: gdpr.ActionContinue, At: blockDue, Rule: gdpr.RuleGracePeriod, Reason: gdpr.ReasonUnsubscribed, RequestedAt: blockedAt},
		},
		{
			"R-ERASE-5_finished_erasure_needs_nothing",
			retMember(func(u *gdpr.User) {
				u.Status = gdpr.UserErased
				u.Erasure = &gdpr.ErasureState{ID: "er_fake", Rule: gdpr.RuleGracePeriod, Reason: gdpr.ReasonUnsubscribed, RequestedAt: blockedAt, DueAt: blockDue, DoneAt: blockDue.Add(time.Minute)}
			}),
			retBrand(),
			gdpr.Action{},
		},
		{
			"R-DATA-5_erased_user_without_erasure_state_needs_nothing",
			retMember(func(u *gdpr.User) { u.Status = gdpr.UserErased }),
			retBrand(),
			gdpr.Action{},
		},
		{
			"R-ERASE-7_interrupted_erasure_of_an_ended_brand_is_continued",
			retMember(func(u *gdpr.User) {
				u.Status = gdpr.UserErased
				u.Erasure = &gdpr.ErasureState{ID: "er_fake", Rule: gdpr.RuleBrandContractEnd, Reason: gdpr.ReasonBrandEnded, RequestedAt: blockedAt, DueAt: blockDue}
			}),
			retBrand(func(b *gdpr.Brand) { b.Status = gdpr.BrandEnded }),
			gdpr.Action{Kind: gdpr.ActionContinue, At: blockDue, Rule: gdpr.RuleBrandContractEnd, Reason: gdpr.ReasonBrandEnded, RequestedAt: blockedAt},
		},

		// Ended brands (R-ERASE-7): the brand-wide erasure is scheduled by the contract end.
		{
			"R-ERASE-7_active_member_of_an_ended_brand_gets_no_own_action",
			retMember(),
			retBrand(func(b *gdpr.Brand) { b.Status = gdpr.BrandEnded }),
			gdpr.Action{},
		},
		{
			"R-ERASE-7_external_user_of_an_ended_brand_gets_no_own_action",
			retMember(func(u *gdpr.User) { u.Role, u.Kind = gdpr.RoleClient, gdpr.SubjectExternal }),
			retBrand(func(b *gdpr.Brand) { b.Status = gdpr.BrandEnded }),
			gdpr.Action{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gdpr.Review(tt.user, tt.brand)
			requireSameAction(t, tt.want, got)

			next := gdpr.NextReview(tt.user, tt.brand)
			if tt.want.Kind == gdpr.ActionNone {
				require.True(t, next.IsZero(), "NextReview = %v, want zero (never)", next)
			} else {
				require.True(t, next.Equal(tt.want.At), "NextReview = %v, want %v", next, tt.want.At)
			}
		})
	}
}

// requireSameAction compares actions by instant, so a time's zone or monotonic reading does not
// matter.
func requireSameAction(t *testing.T, want, got gdpr.Action) {
	t.Helper()
	require.Equal(t, want.Kind, got.Kind, "Kind")
	require.Equal(t, want.Rule, got.Rule, "Rule")
	require.Equal(t, want.Reason, got.Reason, "Reason")
	require.True(t, want.At.Equal(got.At), "At = %v, want %v", got.At, want.At)
	require.True(t, want.Mark.Equal(got.Mark), "Mark = %v, want %v", got.Mark, want.Mark)
	require.True(t, want.RequestedAt.Equal(got.RequestedAt), "RequestedAt = %v, want %v", got.RequestedAt, want.RequestedAt)
}

// The whole R-RET-1 cycle, review after review, as the sweep would drive it.
func TestReviewInactivityCycle(t *testing.T) {
	b := retBrand()
	u := retMember()

	a := gdpr.Review(u, b)
	requireSameAction(t, warn1(retMark), a)

	t.Run("R-RET-1_warn1_then_warn2", func(t *testing.T) {
		u.Warnings = gdpr.InactivityWarnings{Mark: a.Mark, FirstAt: a.At}
		a = gdpr.Review(u, b)
		requireSameAction(t, warn2(retMark), a)
	})
	t.Run("R-RET-1_warn2_then_erase_at_the_mark", func(t *testing.T) {
		u.Warnings.SecondAt = a.At
		a = gdpr.Review(u, b)
		requireSameAction(t, eraseInactive(retMark), a)
	})
	t.Run("R-RET-1_a_login_cancels:_warn1_for_the_new_mark", func(t *testing.T) {
		u.LastLoginAt = retMark.Add(-time.Hour)
		newMark := u.LastLoginAt.AddDate(3, 0, 0)
		a = gdpr.Review(u, b)
		requireSameAction(t, warn1(newMark), a)
		require.True(t, gdpr.NextReview(u, b).Equal(newMark.AddDate(0, 0, -30)))
	})
	t.Run("R-RET-1_the_due_index_wakes_the_sweep_30_then_15_days_before_the_mark", func(t *testing.T) {
		fresh := retMember()
		require.True(t, gdpr.NextReview(fresh, b).Equal(retMark.AddDate(0, 0, -30)), "first review: %v", gdpr.NextReview(fresh, b))
		fresh.Warnings = gdpr.InactivityWarnings{Mark: retMark, FirstAt: retWarn1}
		require.True(t, gdpr.NextReview(fresh, b).Equal(retMark.AddDate(0, 0, -15)), "after warn1: %v", gdpr.NextReview(fresh, b))
		fresh.Warnings.SecondAt = retWarn2
		require.True(t, gdpr.NextReview(fresh, b).Equal(retMark), "after warn2: %v", gdpr.NextReview(fresh, b))
	})
}

func TestUserLastActive(t *testing.T) {
	created := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	confirmed := created.Add(time.Hour)
	login := created.AddDate(1, 0, 0)
	activity := created.AddDate(1, 6, 0)
	tests := []struct {
		name string
		u    gdpr.User
		want time.Time
	}{
		{"R-RET-1_creation_when_nothing_else", gdpr.User{CreatedAt: created}, created},
		{"R-RET-1_confirmation_over_creation", gdpr.User{CreatedAt: created, ConfirmedAt: confirmed}, confirmed},
		{"R-RET-1_last_login_over_confirmation", gdpr.User{CreatedAt: created, ConfirmedAt: confirmed, LastLoginAt: login}, login},
		{"R-RET-2_widget_interaction", gdpr.User{Role: gdpr.RoleClient, CreatedAt: created, LastActivityAt: activity}, activity},
		{"R-RET-2_latest_of_login_and_interaction", gdpr.User{Role: gdpr.RoleClient, CreatedAt: created, LastLoginAt: login, LastActivityAt: activity}, activity},
		{"R-RET-1_zero_user", gdpr.User{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.True(t, tt.want.Equal(tt.u.LastActive()), "LastActive = %v, want %v", tt.u.LastActive(), tt.want)
		})
	}
}
