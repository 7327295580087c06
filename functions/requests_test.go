package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/gdpr"
)

// The data-subject requests end to end, on both stores (R-RIGHTS-1, R-ACCESS-3).

func requestsPath(brand gdpr.BrandID, rest string) string {
	return "/api/admin/brands/" + string(brand) + "/requests" + rest
}

// postRequest posts a request and answers its JSON, failing unless the status is want.
func (a *testApp) postRequest(t *testing.T, brand gdpr.BrandID, body any, want int) map[string]any {
	t.Helper()
	res := a.admin("POST", requestsPath(brand, ""), body)
	require.Equal(t, want, res.Status, "%s", res.Body)
	return res.JSON(t)
}

func (a *testApp) register(t *testing.T, brand gdpr.BrandID, query string) []map[string]any {
	t.Helper()
	res := a.admin("GET", requestsPath(brand, query), nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	var body struct{ Requests []map[string]any }
	require.NoError(t, json.Unmarshal(res.Body, &body))
	return body.Requests
}

func TestDataSubjectRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("rights", map[string]any{"fields": map[string]string{"lastName": "required"}})
		const brand = gdpr.BrandID("rights")

		t.Run("R-RIGHTS-1_bad_input_is_400_unknown_is_404_and_nothing_is_recorded", func(t *testing.T) {
			s := app.seedSubject(t, brand, gdpr.RoleAmbassador)
			before := app.user(t, s)
			for _, body := range []any{
				map[string]any{"kind": "forget_me", "memberId": s.user.ID},
				map[string]any{"kind": "access"},
				map[string]any{"kind": "access", "memberId": s.user.ID, "unknown": 1},
				map[string]any{"kind": "rectification", "memberId": s.user.ID, "changes": map[string]any{"lastName": ""}},
				map[string]any{"kind": "rectification", "memberId": s.user.ID, "changes": map[string]any{"phone": "+33 1"}},
				map[string]any{"kind": "brand_export", "reference": "x"},
				`{"kind":"access","memberId":"` + s.user.ID + `","kind":"erasure"}`,
				strings.Repeat("[", 40),
			} {
				res := app.admin("POST", requestsPath(brand, ""), body)
				require.Equal(t, 400, res.Status, "%s", res.Body)
				require.NotContains(t, string(res.Body), s.user.ID, "an error never echoes the request")
			}
			res := app.admin("POST", requestsPath(brand, ""), map[string]any{"kind": "rectification", "memberId": s.user.ID,
				"changes": map[string]any{"email": "new@example.test"}})
			require.Equal(t, 400, res.Status)
			require.Equal(t, "email_not_rectifiable", res.errorCode(t))
			for _, body := range []map[string]any{
				{"kind": "access", "memberId": "m_unknown"},
				{"kind": "erasure", "email": "nobody@example.test"},
			} {
				require.Equal(t, 404, app.admin("POST", requestsPath(brand, ""), body).Status)
			}
			require.Equal(t, 404, app.admin("POST", requestsPath("no-such-brand", ""), map[string]any{"kind": "access", "memberId": s.user.ID}).Status)
			require.Equal(t, 404, app.admin("GET", requestsPath(brand, "/r_00000000000000000000000000"), nil).Status)
			require.Equal(t, 404, app.admin("GET", requestsPath(brand, "/not-an-id"), nil).Status)
			res = app.admin("DELETE", requestsPath(brand, "/r_00000000000000000000000000"), nil)
			require.Equal(t, 405, res.Status)
			require.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
			require.Equal(t, 400, app.admin("GET", requestsPath(brand, "?from=yesterday"), nil).Status)
			require.Empty(t, app.register(t, brand, ""), "nothing recorded")
			after := app.user(t, s)
			require.Equal(t, before.Version, after.Version, "and nothing changed")
		})

		t.Run("R-RIGHTS-1_rectification_applies_signup_checked_changes_and_keeps_only_field_names", func(t *testing.T) {
			s := app.seedSubject(t, brand, gdpr.RoleAmbassador)
			got := app.postRequest(t, brand, map[string]any{"kind": "rectification", "memberId": s.user.ID, "requestedBy": "dpo@popsell",
				"reference": "RECT-1", "changes": map[string]any{"firstName": "Rectified", "dateOfBirth": "1991-05-06"}}, 201)
			require.Equal(t, "completed", got["status"])
			received, err := time.Parse(time.RFC3339, got["receivedAt"].(string))
			require.NoError(t, err)
			due, err := time.Parse(time.RFC3339, got["dueAt"].(string))
			require.NoError(t, err)
			require.Equal(t, gdpr.RequestDue(received), due, "Art. 12(3): one month after receipt")
			require.WithinDuration(t, t0.AddDate(0, 1, 0), due, time.Minute)
			u := app.user(t, s)
			require.Equal(t, "Rectified", u.FirstName)
			require.Equal(t, gdpr.Date{Year: 1991, Month: 5, Day: 6}, u.DateOfBirth)
			res := app.admin("GET", requestsPath(brand, "/"+got["id"].(string)), nil)
			require.Equal(t, 200, res.Status)
			require.NotContains(t, string(res.Body), "Rectified", "the register keeps no rectified value")
			require.Contains(t, string(res.Body), `"fieldsChanged":["firstName","dateOfBirth"]`)
		})

		t.Run("R-RIGHTS-1_restriction_withdraws_opt_ins_and_stops_mail_until_lifted", func(t *testing.T) {
			s := app.seedSubject(t, brand, gdpr.RoleAmbassador)
			got := app.postRequest(t, brand, map[string]any{"kind": "restriction", "memberId": s.user.ID}, 201)
			require.Equal(t, "completed", got["status"])
			u := app.user(t, s)
			require.Equal(t, gdpr.OptIns{}, u.OptIns)
			require.NotNil(t, u.Restriction)
			app.mailSubject(t, s)
			for _, m := range app.mails() {
				require.NotEqual(t, u.Email, m.To, "no mail to a restricted subject")
			}
			res := app.admin("POST", requestsPath(brand, "/"+got["id"].(string)+"/lift"), nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Nil(t, app.user(t, s).Restriction)
			app.mailSubject(t, s)
			require.Equal(t, u.Email, app.lastMailTo(u.Email).To, "mailed again once lifted")
		})

		t.Run("R-RIGHTS-1_objection_withdraws_opt_ins", func(t *testing.T) {
			s := app.seedSubject(t, brand, gdpr.RoleAmbassador)
			key, err := hex.DecodeString(testEnv("")[config.EnvHashKey])
			require.NoError(t, err)
			h, err := gdpr.NewHasher("h1", key)
			require.NoError(t, err)
			_, err = app.App.Store.Claim(t.Context(), gdpr.Claim{BrandID: brand, Key: gdpr.ClaimEmail + h.EmailDigest(s.user.Email),
				Owner: s.user.ID, CreatedAt: t0}) // as signup leaves it
			require.NoError(t, err)
			got := app.postRequest(t, brand, map[string]any{"kind": "objection", "email": s.user.Email}, 201)
			require.Equal(t, s.user.ID, got["subjectId"], "found by its address's digest")
			u := app.user(t, s)
			require.Equal(t, gdpr.OptIns{}, u.OptIns)
			require.Equal(t, gdpr.RequestObjection, u.Restriction.Kind)
		})

		t.Run("R-RIGHTS-1_erasure_request_is_erased_after_grace_with_reason_subject_request", func(t *testing.T) {
			s := app.seedSubject(t, brand, gdpr.RoleAmbassador)
			got := app.postRequest(t, brand, map[string]any{"kind": "erasure", "memberId": s.user.ID}, 201)
			require.Equal(t, "in_progress", got["status"])
			u := app.user(t, s)
			require.Equal(t, gdpr.UserBlocked, u.Status)
			require.Equal(t, gdpr.ReasonSubjectRequest, u.Block.Reason)
			app.setClock(t, t0.AddDate(0, 0, 8))
			app.sweep(t) // erases the subject
			app.sweep(t) // the requests' pass finds it erased
			require.Equal(t, gdpr.UserErased, app.user(t, s).Status)
			var found bool
			for _, e := range app.erasures(t, string(brand)) {
				if e.SubjectID == s.user.ID {
					found = true
					require.Equal(t, gdpr.ReasonSubjectRequest, e.Reason)
				}
			}
			require.True(t, found, "the audit record of the erasure")
			res := app.admin("GET", requestsPath(brand, "/"+got["id"].(string)), nil)
			require.Equal(t, 200, res.Status)
			require.Equal(t, "completed", res.JSON(t)["status"])
			app.setClock(t, t0)
		})

		t.Run("R-RIGHTS-1_the_register_lists_every_request_with_filters_and_no_personal_data", func(t *testing.T) {
			all := app.register(t, brand, "")
			require.Len(t, all, 4)
			kinds := []string{}
			for _, r := range all {
				kinds = append(kinds, r["kind"].(string))
				for _, k := range []string{"id", "kind", "status", "receivedAt", "dueAt", "approvals"} {
					require.Contains(t, r, k)
				}
			}
			require.Equal(t, []string{"rectification", "restriction", "objection", "erasure"}, kinds)
			require.Len(t, app.register(t, brand, "?kind=erasure"), 1)
			require.Len(t, app.register(t, brand, "?from="+t0.Add(time.Hour).Format(time.RFC3339)), 0)
			// The bounds come from the requests' own receipt times, never from how fast the
			// test ran: "to" is exclusive, so the second's receipt keeps the first alone.
			last, err := time.Parse(time.RFC3339Nano, all[3]["receivedAt"].(string))
			require.NoError(t, err)
			require.Len(t, app.register(t, brand, "?to="+last.Add(time.Second).Format(time.RFC3339)), 4)
			second, err := time.Parse(time.RFC3339Nano, all[1]["receivedAt"].(string))
			require.NoError(t, err)
			require.Len(t, app.register(t, brand, "?to="+second.Format(time.RFC3339Nano)), 1)
			body := app.admin("GET", requestsPath(brand, ""), nil).Body
			require.NotContains(t, string(body), "@example.test", "no address in the register")
		})
	})
}

// TestBrandExportApprovals drives a brand export through the HTTP routes: refused until two
// distinct approvers in the two roles approve, concurrent approvals both landing.
func TestBrandExportApprovals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("exports", nil)
		const brand = gdpr.BrandID("exports")
		got := app.postRequest(t, brand, map[string]any{"kind": "brand_export", "reference": "EXP-1",
			"justification": "yearly audit", "requestedBy": "brand support"}, 201)
		id := got["id"].(string)
		require.Equal(t, "awaiting_approval", got["status"])
		approve := func(who, role string) map[string]any {
			res := app.admin("POST", requestsPath(brand, "/"+id+"/approvals"), map[string]string{"approver": who, "role": role})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			return res.JSON(t)
		}
		require.Equal(t, "awaiting_approval", approve("claire", "brand_controller")["status"])
		require.Equal(t, "awaiting_approval", approve("claire", "data_protection_officer")["status"], "R-ACCESS-3: two distinct approvers")
		require.Equal(t, 400, app.admin("POST", requestsPath(brand, "/"+id+"/approvals"), map[string]string{"approver": "x", "role": "ceo"}).Status)

		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				res := app.admin("POST", requestsPath(brand, "/"+id+"/approvals"), map[string]string{"approver": fmt.Sprint("dpo-", i%2), "role": "data_protection_officer"})
				require.Equal(t, 200, res.Status, "%s", res.Body)
			})
		}
		wg.Wait()
		res := app.admin("GET", requestsPath(brand, "/"+id), nil)
		require.Equal(t, 200, res.Status)
		body := res.JSON(t)
		require.Equal(t, "in_progress", body["status"], "both approvals in: the export is asked for")
		require.Len(t, body["approvals"], 2, "one approval per role")
	})
}

// TestIdempotentRequestPosts: concurrent identical POSTs with one Idempotency-Key make one
// request; one answer is 201, the others 200 with the same request.
func TestIdempotentRequestPosts(t *testing.T) {
	app := startApp(t, nil)
	app.setClock(t, t0)
	app.putBrand("retries", nil)
	s := app.seedSubject(t, "retries", gdpr.RoleAmbassador)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		ids      = map[string]bool{}
	)
	for range 8 {
		wg.Go(func() {
			res := app.do("POST", requestsPath("retries", ""), map[string]any{"kind": "restriction", "memberId": s.user.ID},
				header{"Authorization": admin["Authorization"], "Idempotency-Key": "dpo-case-42"})
			mu.Lock()
			defer mu.Unlock()
			statuses[res.Status]++
			ids[res.JSON(t)["id"].(string)] = true
		})
	}
	wg.Wait()
	require.Equal(t, map[int]int{201: 1, 200: 7}, statuses)
	require.Len(t, ids, 1)
	require.Len(t, app.register(t, "retries", ""), 1)
}
