package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
)

// mailsOf returns the kinds of the mails sent to addr, oldest first.
func (a *testApp) mailKindsTo(addr string) []gdpr.MailKind {
	a.t.Helper()
	var kinds []gdpr.MailKind
	for _, m := range a.mails() {
		if m.To == addr {
			kinds = append(kinds, m.Kind)
		}
	}
	return kinds
}

func (a *testApp) user(t *testing.T, s subject) gdpr.User {
	t.Helper()
	u, err := a.App.Store.GetUser(t.Context(), s.user.BrandID, s.user.ID)
	require.NoError(t, err)
	return u
}

func TestInactivityRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("classic", map[string]any{"pro": 0})
		app.putBrand("selective", map[string]any{"pro": 3})
		// Seeded an hour before t0: inactivity counts from confirmation (no login yet).
		idle := app.seedSubject(t, "classic", gdpr.RoleAmbassador)
		loginer := app.seedSubject(t, "classic", gdpr.RoleEmployee)
		vendor := app.seedSubject(t, "selective", gdpr.RoleVendor)
		external := app.seedSubject(t, "classic", gdpr.RoleClient)
		mark := idle.user.ConfirmedAt.AddDate(3, 0, 0)

		app.setClock(t, mark.AddDate(0, 0, -30).Add(time.Minute))
		app.sweep(t)
		t.Run("R-RET-1_first_warning_30_days_before_the_mark", func(t *testing.T) {
			require.Equal(t, []gdpr.MailKind{gdpr.MailInactivityWarning}, app.mailKindsTo(idle.user.Email))
			require.Equal(t, []gdpr.MailKind{gdpr.MailInactivityWarning}, app.mailKindsTo(loginer.user.Email))
			require.Empty(t, app.mailKindsTo(vendor.user.Email), "R-RET-1: selective-sale vendors are not erased automatically")
			last := app.lastMailTo(idle.user.Email)
			// The date in the member's language (seeded members read French), in the
			// brand's zone (Europe/Paris by default).
			paris, err := time.LoadLocation(gdpr.DefaultTimeZone)
			require.NoError(t, err)
			require.Contains(t, last.Subject, templates.FormatDate(last.Language, mark.In(paris), false))
		})
		t.Run("R-RET-1_a_login_between_warnings_cancels", func(t *testing.T) {
			res := app.admin("POST", "/api/admin/brands/classic/members/"+loginer.user.ID+"/activity", map[string]string{"kind": "login"})
			require.Equal(t, 200, res.Status, "%s", res.Body)
		})

		// The clock runs on: the second warning is due 15 days after the first was sent, and the
		// erasure 15 days after the second (R-RET-1), so each step comes a minute later.
		app.setClock(t, mark.AddDate(0, 0, -15).Add(2*time.Minute))
		app.sweep(t)
		t.Run("R-RET-1_second_warning_15_days_before_the_mark", func(t *testing.T) {
			require.Len(t, app.mailKindsTo(idle.user.Email), 2)
			require.Len(t, app.mailKindsTo(loginer.user.Email), 1, "the login cancelled the second warning")
		})

		app.setClock(t, mark.Add(3*time.Minute))
		app.sweep(t)
		t.Run("R-RET-1_erased_at_the_3-year_mark", func(t *testing.T) {
			requireErasedPerR_ERASE_1(t, app, idle.user, app.user(t, idle))
			require.Equal(t, gdpr.UserActive, app.user(t, loginer).Status)
			require.Equal(t, gdpr.UserActive, app.user(t, vendor).Status)
			recs := app.erasures(t, "classic")
			var rules []string
			for _, r := range recs {
				rules = append(rules, r.Rule+"/"+r.SubjectID)
			}
			require.Contains(t, rules, "R-RET-1/"+idle.user.ID)
		})
		t.Run("R-RET-2_external_user_erased_after_3_years_without_interaction", func(t *testing.T) {
			requireErasedPerR_ERASE_1(t, app, external.user, app.user(t, external))
			require.Empty(t, app.mailKindsTo(external.user.EmailTmp), "no warnings for external users")
		})

		app.setClock(t, mark.AddDate(5, 0, 0))
		app.sweep(t)
		t.Run("R-RET-1_selective_vendor_never_erased_automatically", func(t *testing.T) {
			require.Equal(t, gdpr.UserActive, app.user(t, vendor).Status)
		})
	})
}

func TestUnconfirmedSignupErasedAfter15Days(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("acme", nil)
		p := newFakePerson()
		require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
		app.waitIdle()
		users, err := app.App.Store.ListUsers(t.Context(), "acme", "", 10)
		require.NoError(t, err)
		require.Len(t, users, 1)

		app.setClock(t, t0.AddDate(0, 0, 14))
		app.sweep(t)
		require.Equal(t, gdpr.UserPending, app.user(t, subject{user: users[0]}).Status)

		app.setClock(t, t0.AddDate(0, 0, 15).Add(time.Minute))
		app.sweep(t)
		u := app.user(t, subject{user: users[0]})
		require.Equal(t, gdpr.UserErased, u.Status)
		require.Empty(t, u.FirstName)
		recs := app.erasures(t, "acme")
		require.Len(t, recs, 1)
		require.Equal(t, gdpr.RuleUnconfirmedSignup, recs[0].Rule)

		if be.embedded {
			for _, v := range []string{p.First, p.Last, p.Email} {
				requireNoFileContains(t, app.App.Config.DataDir, v, "")
			}
		}
		// The address was released: signing up again starts afresh.
		before := len(app.mails())
		require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
		require.Len(t, app.mails(), before+1)
		require.Equal(t, gdpr.MailSignupConfirmation, app.lastMailTo(p.Email).Kind)
	})
}

func TestBrandContractEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("ended", nil)
		app.putBrand("other", nil)
		var ending, staying []subject
		for _, role := range []gdpr.Role{gdpr.RoleAmbassador, gdpr.RoleEmployee, gdpr.RoleClient} {
			ending = append(ending, app.seedSubject(t, "ended", role))
			if !role.External() {
				app.mailSubject(t, ending[len(ending)-1])
			}
			staying = append(staying, app.seedSubject(t, "other", role))
		}

		res := app.admin("POST", "/api/admin/brands/ended/contract/end", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		require.Equal(t, "ended", res.JSON(t)["status"])
		due := dueAt(t, res, "contractEnd", "dueAt")
		require.Equal(t, 403, app.do("POST", "/api/brands/ended/signup", newFakePerson().signup(), nil).Status,
			"an ended brand takes no new data")

		app.setClock(t, due.AddDate(0, 0, -1))
		app.waitIdle()
		require.Equal(t, gdpr.UserActive, app.user(t, ending[0]).Status, "nothing erased during the grace period")

		app.setClock(t, due.Add(time.Second))
		// A job that failed under load waits out its backoff as a scheduled message, which
		// waitIdle does not count: wait for the erasures themselves.
		app.waitUntil(func() bool {
			for _, s := range ending {
				if u := app.user(t, s); u.Erasure == nil || u.Erasure.DoneAt.IsZero() {
					return false
				}
			}
			return true
		})
		t.Run("R-ERASE-7_every_subject_of_the_brand_erased", func(t *testing.T) {
			for _, s := range ending {
				requireErasedAtContractEnd(t, app, s.user, app.user(t, s))
				for _, c := range s.contacts {
					got, err := app.contacts().GetContact(t.Context(), c.BrandID, c.ID)
					require.NoError(t, err)
					require.True(t, got.Erased(), "R-ERASE-7: contacts too, Brand opt-in or not")
				}
			}
			recs := app.erasures(t, "ended")
			require.Len(t, recs, len(ending), "the audit trail still answers after the contract ended")
			for _, r := range recs {
				require.Equal(t, gdpr.RuleBrandContractEnd, r.Rule)
				require.Equal(t, 3, r.ContactsErased)
			}
		})
		t.Run("R-TEN-1_nothing_of_another_brand", func(t *testing.T) {
			for _, s := range staying {
				u := app.user(t, s)
				require.Equal(t, gdpr.UserActive, u.Status)
				require.Equal(t, s.user.FirstName, u.FirstName)
				for _, c := range s.contacts {
					got, err := app.contacts().GetContact(t.Context(), c.BrandID, c.ID)
					require.NoError(t, err)
					require.False(t, got.Erased())
				}
			}
			require.Empty(t, app.erasures(t, "other"))
		})
		if be.embedded {
			t.Run("erased_means_gone_from_every_file_of_the_data_dir", func(t *testing.T) {
				for _, s := range ending {
					// Names go for every role at the contract end (R-ERASE-7).
					for _, secret := range append(s.secrets, s.user.FirstName, s.user.LastName, s.user.Alias) {
						requireNoFileContains(t, app.App.Config.DataDir, secret, "")
					}
				}
			})
		}
	})
}
