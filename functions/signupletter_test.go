package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// userByAddress finds the brand's user whose address (verified or not) is addr.
func (a *testApp) userByAddress(brand gdpr.BrandID, addr string) (gdpr.User, bool) {
	a.t.Helper()
	users, err := a.App.Store.ListUsers(a.t.Context(), brand, "", 1000)
	require.NoError(a.t, err)
	for _, u := range users {
		if u.Email == addr || u.EmailTmp == addr {
			return u, true
		}
	}
	return gdpr.User{}, false
}

// TestSignupFormRoles is issue 23, item 5 (R-SIGNUP-8): the public form creates Ambassadors;
// a role under contract comes from the Brand, here a whitelist entry that carries it.
// guide: "Ambassadors are never under contract with the Brand, and GDPR always applies." and
// "First name and Last name are not erased for roles 1 to 6 (employees, vendors, etc., i.e.
// people under contract with the Brand.)": a role the form could declare would keep a
// stranger's names after erasure.
func TestSignupFormRoles(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("open", nil)
	app.putBrand("listed", map[string]any{"whitelistEnabled": true})

	t.Run("R-SIGNUP-8_a_self_declared_role_is_refused_and_nothing_is_created", func(t *testing.T) {
		for _, role := range []int{1, 2, 3, 4, 5, 6} {
			p := newFakePerson()
			in := p.signup()
			in["role"] = role
			res := app.do("POST", "/api/brands/open/signup", in, nil)
			require.Equal(t, 400, res.Status, "role %d: %s", role, res.Body)
			require.Equal(t, "invalid", res.errorCode(t))
			require.NotContains(t, string(res.Body), p.Email)
			_, found := app.userByAddress("open", p.Email)
			require.False(t, found, "role %d: no account", role)
		}
	})
	t.Run("R-SIGNUP-8_the_form_creates_ambassadors", func(t *testing.T) {
		p, q := newFakePerson(), newFakePerson()
		require.Equal(t, 202, app.do("POST", "/api/brands/open/signup", p.signup(), nil).Status)
		in := q.signup()
		in["role"] = 0
		require.Equal(t, 202, app.do("POST", "/api/brands/open/signup", in, nil).Status)
		for _, addr := range []string{p.Email, q.Email} {
			u, found := app.userByAddress("open", addr)
			require.True(t, found)
			require.Equal(t, gdpr.RoleAmbassador, u.Role)
		}
	})
	t.Run("R-SIGNUP-8_a_whitelist_entry_with_a_role_grants_that_role_only", func(t *testing.T) {
		vendor, employee, plain := newFakePerson(), newFakePerson(), newFakePerson()
		res := app.admin("POST", "/api/admin/brands/listed/whitelist", map[string]any{"emails": []string{vendor.Email}, "role": 3})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		res = app.admin("POST", "/api/admin/brands/listed/whitelist", map[string]any{"customerIds": []string{"EMP-5501", "EMP-NEVER-USED-88"}, "role": 1})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		res = app.admin("POST", "/api/admin/brands/listed/whitelist", map[string]any{"emails": []string{plain.Email}})
		require.Equal(t, 200, res.Status, "%s", res.Body)

		// The entry authorises the address (R-SIGNUP-4) but not another role than its own.
		in := vendor.signup()
		in["role"] = 5
		require.Equal(t, 400, app.do("POST", "/api/brands/listed/signup", in, nil).Status)
		in["role"] = 3
		require.Equal(t, 202, app.do("POST", "/api/brands/listed/signup", in, nil).Status)
		u, found := app.userByAddress("listed", vendor.Email)
		require.True(t, found)
		require.Equal(t, gdpr.RoleVendor, u.Role)

		in = employee.signup()
		in["customerId"], in["role"] = "EMP-5501", 1
		require.Equal(t, 202, app.do("POST", "/api/brands/listed/signup", in, nil).Status)
		u, found = app.userByAddress("listed", employee.Email)
		require.True(t, found)
		require.Equal(t, gdpr.RoleEmployee, u.Role)

		// An entry without a role authorises an Ambassador only.
		in = plain.signup()
		in["role"] = 1
		require.Equal(t, 400, app.do("POST", "/api/brands/listed/signup", in, nil).Status)
		_, found = app.userByAddress("listed", plain.Email)
		require.False(t, found)
		require.Equal(t, 202, app.do("POST", "/api/brands/listed/signup", plain.signup(), nil).Status)

		// The entry's role keeps only digests, as every whitelist entry.
		requireNoFileContains(t, app.App.Config.DataDir, "EMP-NEVER-USED-88", "outbox")
	})
	t.Run("R-SIGNUP-8_a_whitelist_role_must_be_one_under_contract", func(t *testing.T) {
		for _, role := range []any{0, 7, 8, 9, -1, "1"} {
			res := app.admin("POST", "/api/admin/brands/listed/whitelist", map[string]any{"emails": []string{newFakePerson().Email}, "role": role})
			require.Equal(t, 400, res.Status, "role %v: %s", role, res.Body)
		}
	})
}
