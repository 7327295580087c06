package main

import (
	"strings"
	"testing"
	"time"

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

// TestProvisionedMembersAcceptTheTerms is issue 23, item 4 (R-SIGNUP-1): members created by
// the brand's identity system (signed webhooks, SCIM) have no T&C until they accept them at
// first access, which the platform records through the admin route; until then they cannot
// sign in.
// guide: "In all cases, Popsell Terms and Conditions must be accepted to enable account
// creation." and "Unless a signup has been interrupted, all members in the database must have
// accepted Popsell T&C. If not, access is not permitted."
func TestProvisionedMembersAcceptTheTerms(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "scimToken": scimToken})
		app.putBrand("other", nil)
		at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
		app.setClock(t, at)
		get := func(id string) gdpr.User {
			t.Helper()
			u, err := app.App.Store.GetUser(t.Context(), "acme", id)
			require.NoError(t, err)
			return u
		}
		terms := func(brand, id string, body any) response {
			return app.admin("POST", "/api/admin/brands/"+brand+"/members/"+id+"/terms", body)
		}

		var ssoID, scimID string
		t.Run("R-SIGNUP-1_provisioned_members_cannot_sign_in_before_the_terms", func(t *testing.T) {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", time.Now().UTC(), upsertData("ext-terms", "terms.sso@example.test", "Ada"))})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			ssoID = res.JSON(t)["memberId"].(string)
			res = app.scim("POST", "/Users", scimFixture(t, "entra-create-user.json"))
			require.Equal(t, 201, res.Status, "%s", res.Body)
			scimID = res.JSON(t)["id"].(string)
			for _, id := range []string{ssoID, scimID} {
				u := get(id)
				require.Equal(t, gdpr.UserActive, u.Status)
				require.Nil(t, u.Terms)
				require.False(t, u.CanSignIn(), "R-SIGNUP-1: no access without the T&C")
			}
		})
		t.Run("R-SIGNUP-1_bad_calls_are_refused_and_change_nothing", func(t *testing.T) {
			for name, c := range map[string]struct {
				brand, id string
				body      any
				status    int
			}{
				"no_version":      {"acme", ssoID, map[string]any{}, 400},
				"blank_version":   {"acme", ssoID, map[string]any{"version": "  "}, 400},
				"long_version":    {"acme", ssoID, map[string]any{"version": strings.Repeat("v", 65)}, 400},
				"control_version": {"acme", ssoID, map[string]any{"version": "2026\n01"}, 400},
				"unknown_field":   {"acme", ssoID, map[string]any{"version": "2026-01", "acceptedAt": "2020-01-01T00:00:00Z"}, 400},
				"unknown_member":  {"acme", "m_00000000000000000000000000", map[string]any{"version": "2026-01"}, 404},
				"other_brand":     {"other", ssoID, map[string]any{"version": "2026-01"}, 404},
			} {
				res := terms(c.brand, c.id, c.body)
				require.Equal(t, c.status, res.Status, "%s: %s", name, res.Body)
			}
			require.Equal(t, 401, app.do("POST", "/api/admin/brands/acme/members/"+ssoID+"/terms", map[string]any{"version": "2026-01"}, nil).Status)
			require.Nil(t, get(ssoID).Terms)
		})
		t.Run("R-SIGNUP-1_acceptance_records_version_and_time_and_opens_access", func(t *testing.T) {
			for _, id := range []string{ssoID, scimID} {
				res := terms("acme", id, map[string]any{"version": " 2026-01 "})
				require.Equal(t, 200, res.Status, "%s", res.Body)
				u := get(id)
				require.NotNil(t, u.Terms)
				require.Equal(t, "2026-01", u.Terms.Version)
				// The test clock jumped to at and runs on; it jumps next an hour later.
				require.False(t, u.Terms.AcceptedAt.Before(at), "the time of acceptance, by the service clock")
				require.True(t, u.Terms.AcceptedAt.Before(at.Add(time.Hour)))
				require.True(t, u.CanSignIn())
			}
		})
		t.Run("R-SIGNUP-1_accepting_again_keeps_the_first_time_a_new_version_is_recorded", func(t *testing.T) {
			first := get(ssoID).Terms.AcceptedAt
			app.setClock(t, at.Add(time.Hour))
			require.Equal(t, 200, terms("acme", ssoID, map[string]any{"version": "2026-01"}).Status)
			require.True(t, get(ssoID).Terms.AcceptedAt.Equal(first))
			require.Equal(t, 200, terms("acme", ssoID, map[string]any{"version": "2026-02"}).Status)
			u := get(ssoID)
			require.Equal(t, "2026-02", u.Terms.Version)
			require.False(t, u.Terms.AcceptedAt.Before(at.Add(time.Hour)))
		})
		t.Run("R-SIGNUP-1_an_update_from_the_brand_keeps_the_acceptance", func(t *testing.T) {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", time.Now().UTC(), upsertData("ext-terms", "terms.sso@example.test", "Adah"))})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			u := get(ssoID)
			require.Equal(t, "Adah", u.FirstName)
			require.Equal(t, "2026-02", u.Terms.Version)
			require.True(t, u.CanSignIn())
		})
		t.Run("R-SIGNUP-1_a_blocked_member_is_refused", func(t *testing.T) {
			require.Equal(t, 200, app.admin("POST", "/api/admin/brands/acme/members/"+scimID+"/block", map[string]any{"reason": "end_of_contract"}).Status)
			res := terms("acme", scimID, map[string]any{"version": "2026-03"})
			require.Equal(t, 409, res.Status, "%s", res.Body)
			require.Equal(t, "2026-01", get(scimID).Terms.Version)
		})
	})
}

// TestBrandFieldsWithinTheGuide is issue 23, item 21 (R-SIGNUP-6), through the admin route: a
// brand's field settings outside the guide's field table are refused with 400 naming the
// field, and the brand keeps its settings.
// guide (alias): "Required or Not asked for, depending on Brand configuration"; (last name):
// "Required or Optional, depending on Brand configuration."; (title): "Optional or Not asked
// for, depending on Brand configuration."
func TestBrandFieldsWithinTheGuide(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"fields": map[string]string{"alias": "required", "lastName": "required", "title": "not_asked"}})
	for field, req := range map[string]string{"alias": "optional", "lastName": "not_asked", "title": "required", "position": "not_asked"} {
		res := app.admin("PUT", "/api/admin/brands/acme", map[string]any{"name": "Brand acme", "fields": map[string]string{field: req}})
		require.Equal(t, 400, res.Status, "%s %s: %s", field, req, res.Body)
		require.Equal(t, "invalid", res.errorCode(t))
		require.Contains(t, string(res.Body), "fields."+field)
	}
	res := app.admin("GET", "/api/admin/brands/acme", nil)
	require.Equal(t, 200, res.Status)
	require.Equal(t, map[string]any{"alias": "required", "lastName": "required", "title": "not_asked"}, res.JSON(t)["fields"])

	t.Run("R-SIGNUP-6_alias_is_not_asked_until_the_brand_requires_it", func(t *testing.T) {
		app.putBrand("plain", nil)
		in := newFakePerson().signup()
		in["alias"] = "Quillfeather7"
		res := app.do("POST", "/api/brands/plain/signup", in, nil)
		require.Equal(t, 400, res.Status, "%s", res.Body)
		require.Contains(t, string(res.Body), "alias is not collected")
		in = newFakePerson().signup()
		require.Equal(t, 400, app.do("POST", "/api/brands/acme/signup", in, nil).Status, "alias required")
		in["alias"] = "Quillfeather8"
		require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", in, nil).Status)
	})
}

// TestSignupCommunicationOptIns is issue 23, item 22 (R-SIGNUP-7): the member chooses the
// platform's communication opt-ins on the signup form, each unchecked unless ticked, and each
// one given is recorded with the time it was chosen.
// guide: "Communication opt-ins ... (opt-in during signup, in terms & conditions) • Receive
// newsletters by email • Enable events notifications • Enable challenges notifications •
// Enable notifications for each new comments" and "Check boxes are not checked by default".
func TestSignupCommunicationOptIns(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	at := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	app.setClock(t, at)

	t.Run("R-SIGNUP-7_chosen_opt-ins_are_recorded_with_their_time", func(t *testing.T) {
		p := newFakePerson()
		in := p.signup()
		in["optIns"] = map[string]bool{"newsletter": true, "comments": true, "events": false}
		require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", in, nil).Status)
		u, found := app.userByAddress("acme", p.Email)
		require.True(t, found)
		o := u.OptIns
		require.True(t, o.Newsletter)
		require.True(t, o.Comments)
		require.False(t, o.Events)
		require.False(t, o.Challenges)
		for _, chosen := range []time.Time{o.NewsletterAt, o.CommentsAt} {
			require.False(t, chosen.Before(at), "the time of the choice, by the service clock")
			require.True(t, chosen.Before(at.Add(time.Hour)))
		}
		require.True(t, o.EventsAt.IsZero(), "no opt-in, no time")
		require.True(t, o.ChallengesAt.IsZero())

		// Confirming the address keeps the choice and its time.
		require.Equal(t, 200, app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": app.confirmationToken(p)}, nil).Status)
		after, _ := app.userByAddress("acme", p.Email)
		require.Equal(t, o.Newsletter, after.OptIns.Newsletter)
		require.True(t, o.NewsletterAt.Equal(after.OptIns.NewsletterAt))
	})
	t.Run("R-SIGNUP-7_unchecked_by_default", func(t *testing.T) {
		p := newFakePerson()
		require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
		u, found := app.userByAddress("acme", p.Email)
		require.True(t, found)
		require.Equal(t, gdpr.OptIns{}, u.OptIns)
	})
	t.Run("R-SIGNUP-7_an_unknown_opt-in_or_a_time_from_the_client_is_refused", func(t *testing.T) {
		for name, v := range map[string]any{
			"unknown":     map[string]any{"sms": true},
			"not_boolean": map[string]any{"newsletter": "yes"},
			"client_time": map[string]any{"newsletter": true, "newsletterAt": "2020-01-01T00:00:00Z"},
			"not_object":  []bool{true},
		} {
			p := newFakePerson()
			in := p.signup()
			in["optIns"] = v
			res := app.do("POST", "/api/brands/acme/signup", in, nil)
			require.Equal(t, 400, res.Status, "%s: %s", name, res.Body)
			_, found := app.userByAddress("acme", p.Email)
			require.False(t, found, name)
		}
	})
}
