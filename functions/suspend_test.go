package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/templates"
)

// TestProgramSuspended: an admin suspends a brand's program; its data is kept, it takes no
// new signups, and past its 6 months without a relaunch the sweep ends its contract, after
// whose grace period every member is erased. A relaunch in time cancels all that
// (R-ERASE-8, R-ERASE-7).
// guide: "data can be kept in the database, for a maximum of 6 months"
func TestProgramSuspended(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("paused", nil)
		app.putBrand("relaunched", nil)
		paused := app.seedSubject(t, "paused", gdpr.RoleAmbassador)
		kept := app.seedSubject(t, "relaunched", gdpr.RoleAmbassador)

		require.Equal(t, 404, app.admin("POST", "/api/admin/brands/nope/suspend", nil).Status)
		require.Equal(t, 400, app.admin("POST", "/api/admin/brands/paused/suspend", map[string]any{"x": 1}).Status)
		var keepUntil time.Time
		for range 2 { // idempotent: the second keeps the first suspension
			res := app.admin("POST", "/api/admin/brands/paused/suspend", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, "suspended", res.JSON(t)["status"])
			keepUntil = dueAt(t, res, "suspension", "keepUntil")
			require.True(t, keepUntil.Equal(dueAt(t, res, "suspension", "requestedAt").AddDate(0, 6, 0)), "R-ERASE-8: 6 months by default")
		}
		require.Equal(t, 403, app.do("POST", "/api/brands/paused/signup", newFakePerson().signup(), nil).Status,
			"a suspended program takes no new data")
		res := app.admin("POST", "/api/admin/brands/relaunched/suspend", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)

		app.setClock(t, keepUntil.Add(-time.Hour))
		app.sweep(t)
		require.Equal(t, "suspended", app.admin("GET", "/api/admin/brands/paused", nil).JSON(t)["status"])
		require.Equal(t, gdpr.UserActive, app.user(t, paused).Status, "kept up to the 6 months")
		for range 2 {
			res = app.admin("POST", "/api/admin/brands/relaunched/relaunch", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, "active", res.JSON(t)["status"])
			require.Nil(t, res.JSON(t)["suspension"])
		}

		app.setClock(t, keepUntil.Add(time.Minute))
		app.sweep(t)
		res = app.admin("GET", "/api/admin/brands/paused", nil)
		require.Equal(t, "ended", res.JSON(t)["status"], "past 6 months, the end of the contract")
		due := dueAt(t, res, "contractEnd", "dueAt")
		require.Equal(t, 409, app.admin("POST", "/api/admin/brands/paused/relaunch", nil).Status, "an ended brand")
		require.Equal(t, 409, app.admin("POST", "/api/admin/brands/paused/suspend", nil).Status, "an ended brand")
		app.sweep(t)
		require.True(t, due.Equal(dueAt(t, app.admin("GET", "/api/admin/brands/paused", nil), "contractEnd", "dueAt")), "ended once")

		app.setClock(t, due.Add(time.Minute))
		app.sweep(t)
		app.waitUntil(func() bool {
			u := app.user(t, paused)
			return u.Erasure != nil && !u.Erasure.DoneAt.IsZero()
		})
		requireErasedAtContractEnd(t, app, paused.user, app.user(t, paused))
		recs := app.erasures(t, "paused")
		require.Len(t, recs, 1)
		require.Equal(t, gdpr.RuleBrandContractEnd, recs[0].Rule)

		require.Equal(t, "active", app.admin("GET", "/api/admin/brands/relaunched", nil).JSON(t)["status"])
		require.Equal(t, gdpr.UserActive, app.user(t, kept).Status, "the relaunched program keeps its data")
	})
}

// TestProgramSuspendedWarnsMembersWhoCanOptOut: at a suspension every active member gets one
// program_suspended mail with its opt-out link; opening the page changes nothing, posting its
// token blocks the member as an unsubscription, a second post is 410, and after the grace
// period the member is erased (R-ERASE-8, R-ERASE-6).
// guide: "Members will be warned of the program suspension by a newsletter and can opt-out."
func TestProgramSuspendedWarnsMembersWhoCanOptOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("paused", nil)
		leaving := app.seedSubject(t, "paused", gdpr.RoleAmbassador)
		staying := app.seedSubject(t, "paused", gdpr.RoleAmbassador)
		for range 2 {
			res := app.admin("POST", "/api/admin/brands/paused/suspend", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
		}
		keepUntil := dueAt(t, app.admin("GET", "/api/admin/brands/paused", nil), "suspension", "keepUntil")
		var warned []string
		for _, m := range app.mails() {
			if m.Kind == gdpr.MailProgramSuspended {
				warned = append(warned, m.To)
			}
		}
		require.ElementsMatch(t, []string{leaving.user.Email, staying.user.Email}, warned, "one mail per member, once")
		m := app.lastMailTo(leaving.user.Email)
		// The member reads French: the date in French, in the brand's zone (Europe/Paris).
		paris, err := time.LoadLocation("Europe/Paris")
		require.NoError(t, err)
		require.Contains(t, m.Text, templates.FormatDate("fr", keepUntil.In(paris), false))
		require.Len(t, m.Links, 1)
		require.Contains(t, m.Links[0], "/api/brands/paused/program/opt-out#token=")
		token := tokenOf(t, m.Links[0])

		page := app.do("GET", "/api/brands/paused/program/opt-out", nil, header{"Accept": "text/html"})
		require.Equal(t, 200, page.Status)
		require.Contains(t, string(page.Body), `value="opt_out"`)
		require.Equal(t, gdpr.UserActive, app.user(t, leaving).Status, "opening the page changes nothing")

		optOut := func(answer string) response {
			return app.do("POST", "/api/brands/paused/program/opt-out", map[string]string{"token": token, "answer": answer}, nil)
		}
		require.Equal(t, 400, optOut("stay").Status)
		res := optOut("opt_out")
		require.Equal(t, 200, res.Status, "%s", res.Body)
		u := app.user(t, leaving)
		require.Equal(t, gdpr.UserBlocked, u.Status, "an opt-out is an unsubscription")
		require.Equal(t, gdpr.ReasonUnsubscribed, u.Block.Reason)
		require.Equal(t, 410, optOut("opt_out").Status, "the link is spent")

		app.setClock(t, u.Block.DueAt.Add(time.Minute))
		app.sweep(t)
		app.waitUntil(func() bool { return app.user(t, leaving).Status == gdpr.UserErased })
		require.Equal(t, gdpr.UserActive, app.user(t, staying).Status, "the others are kept")
	})
}
