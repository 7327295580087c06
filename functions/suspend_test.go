package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
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
