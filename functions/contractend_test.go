package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// waitUntil waits for the queues to settle until cond holds. A job that failed (a store
// timeout under load) waits out its backoff as a scheduled message, which waitIdle does not
// count: waiting on the condition itself sees it through. No deadline of its own: go test's
// timeout reports a real hang.
func (a *testApp) waitUntil(cond func() bool) {
	a.t.Helper()
	for {
		a.waitIdle()
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (a *testApp) contact(t *testing.T, c gdpr.Contact) gdpr.Contact {
	t.Helper()
	got, err := a.contacts().GetContact(t.Context(), c.BrandID, c.ID)
	require.NoError(t, err)
	return got
}

// endContract ends the brand's contract and moves the test clock past its grace period.
func (a *testApp) endContract(t *testing.T, brand string, at time.Time) {
	t.Helper()
	res := a.admin("POST", "/api/admin/brands/"+brand+"/contract/end", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	a.setClock(t, at.AddDate(0, 0, 7).Add(time.Second))
}

// TestContractEndErasesKeptContacts: a contact kept when its member unsubscribed, for its
// Brand opt-in (R-ERASE-6), is erased at the end of the brand's contract, through the host,
// and no byte of it is left in the data directory.
// guide: "all personal data (Users and Contacts) will be deleted (hashed) within a delay of 7 days"
func TestContractEndErasesKeptContacts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("letter", nil)
		s := app.seedSubject(t, "letter", gdpr.RoleAmbassador)
		app.mailSubject(t, s)
		res := app.admin("POST", fmt.Sprintf("/api/admin/brands/letter/members/%s/block", s.user.ID), map[string]string{"reason": "unsubscribed"})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		app.setClock(t, t0.AddDate(0, 0, 8))
		app.waitUntil(func() bool { return app.user(t, s).Status == gdpr.UserErased })
		kept := s.contacts[0]
		require.Equal(t, kept.Email, app.contact(t, kept).Email, "R-ERASE-6: kept for its Brand opt-in")

		app.endContract(t, "letter", t0.AddDate(0, 0, 9))
		app.waitUntil(func() bool { return app.contact(t, kept).Erased() })
		got := app.contact(t, kept)
		require.True(t, strings.HasPrefix(got.Email, "h1:"), "R-ERASE-3: email hashed")
		require.Empty(t, got.FirstName+got.LastName+got.Notes+got.Phone+got.Address.Street)
		recs := app.erasures(t, "letter")
		require.Len(t, recs, 2, "the member's erasure, then the contract end's")
		require.Equal(t, gdpr.RuleBrandContractEnd, recs[1].Rule)
		require.Equal(t, 1, recs[1].ContactsErased)
		if be.embedded {
			for _, v := range []string{kept.Email, kept.FirstName, kept.LastName, kept.Notes, kept.Phone, kept.Address.Street} {
				requireNoFileContains(t, app.App.Config.DataDir, v, "")
			}
		}
	})
}

// TestContractEndErasesStaffNames: the names of roles 1–6 are kept while the brand is
// active, and go at the end of its contract, for staff erased earlier with their names kept
// too; through the host, and no byte of them is left in the data directory.
// guide: "As long as the Brand has an active platform with Popsell, Firstname and Lastname are kept in the databases for roles 1 to 6."
func TestContractEndErasesStaffNames(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("staff", nil)
		left := app.seedSubject(t, "staff", gdpr.RoleEmployee)
		live := app.seedSubject(t, "staff", gdpr.RoleManager)
		res := app.admin("POST", fmt.Sprintf("/api/admin/brands/staff/members/%s/block", left.user.ID), map[string]string{"reason": "end_of_contract"})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		app.setClock(t, t0.AddDate(0, 0, 8))
		app.waitUntil(func() bool { return app.user(t, left).Status == gdpr.UserErased })
		require.Equal(t, left.user.FirstName, app.user(t, left).FirstName, "R-ERASE-1: kept while the brand is active")

		app.endContract(t, "staff", t0.AddDate(0, 0, 9))
		for _, s := range []subject{left, live} {
			app.waitUntil(func() bool { u := app.user(t, s); return u.Status == gdpr.UserErased && u.FirstName == "" })
			u := app.user(t, s)
			require.Empty(t, u.FirstName+u.LastName+u.Title+u.Position+u.Alias, "R-ERASE-7: names go for every role")
			if be.embedded {
				for _, v := range []string{s.user.FirstName, s.user.LastName, s.user.Title, s.user.Position, s.user.Alias} {
					requireNoFileContains(t, app.App.Config.DataDir, v, "")
				}
			}
		}
		for _, r := range app.erasures(t, "staff")[1:] {
			require.Equal(t, gdpr.RuleBrandContractEnd, r.Rule)
			require.Contains(t, r.FieldsErased, "firstName")
		}
	})
}
