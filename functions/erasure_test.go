package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/triggers"
)

// t0 is the start of every erasure scenario on the test clock.
var t0 = time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)

// subject is a user seeded with every field filled by generated data, with blobs and
// contacts, so an erasure can be checked field by field.
type subject struct {
	user     gdpr.User
	contacts []gdpr.Contact // [0] has a Brand opt-in; [1], [2] do not
	secrets  []string       // values that must not survive anywhere once erased
}

func (a *testApp) seedSubject(t *testing.T, brand gdpr.BrandID, role gdpr.Role) subject {
	t.Helper()
	ctx := t.Context()
	n := fakeSeq.Add(1)
	now := a.App.Clock.Now()
	id := gdpr.NewID("m_", now)
	tag := fmt.Sprintf("%d%s", n, strings.ToLower(id[len(id)-6:]))
	u := gdpr.User{
		BrandID: brand, ID: id, Role: role, Kind: role.Kind(), Status: gdpr.UserActive,
		CreatedAt: now.Add(-time.Hour), ConfirmedAt: now.Add(-time.Hour),
		Alias: "Alias" + tag, FirstName: "Firstname" + tag, LastName: "Lastname" + tag, Title: "Title" + tag,
		PasswordHash: "$2a$04$hashhashhashhashhashhu" + tag, CustomerID: "CUST" + tag, SocialID: "google:sub" + tag,
		ExternalID: "ext" + tag, UserName: "Ext" + tag, DisplayName: "Display" + tag, FormattedName: "Formatted" + tag, Address: gdpr.Address{Street: "12 Street" + tag, City: "Lyon", PostalCode: "69003", Country: "FR"},
		Language: "fr", DateOfBirth: gdpr.Date{Year: 1990, Month: 4, Day: 23},
		Terms:       &gdpr.Terms{Version: "2026-01", AcceptedAt: now.Add(-time.Hour)},
		PhotoKey:    string(brand) + "/users/" + id + "/photo",
		UGC:         []gdpr.UGC{{Key: string(brand) + "/users/" + id + "/ugc/1"}, {Key: string(brand) + "/users/" + id + "/ugc/2", ContestID: "contest-1"}},
		Description: "Description" + tag, Phone: "+3361234" + tag, Position: "Position" + tag,
		Visibility: gdpr.Visibility{HideEvents: true}, OptIns: gdpr.OptIns{Newsletter: true, Comments: true},
	}
	email := "subject" + tag + "@example.test"
	if role.External() {
		u.EmailTmp = email
	} else {
		u.Email = email
	}
	b, err := a.App.Store.GetBrand(ctx, brand)
	require.NoError(t, err)
	u.NextReviewAt = gdpr.NextReview(u, b)
	u, err = a.App.Store.CreateUser(ctx, u)
	require.NoError(t, err)
	for _, key := range []string{u.PhotoKey, u.UGC[0].Key, u.UGC[1].Key} {
		require.NoError(t, a.App.Blobs.Put(ctx, key, []byte("image of "+tag), "image/jpeg"))
	}
	s := subject{user: u, secrets: []string{email, u.Address.Street, u.Description, u.Phone, u.CustomerID, u.SocialID, u.ExternalID, u.UserName, u.PasswordHash}}
	if role.NamesErasedOnDeletion() {
		s.secrets = append(s.secrets, u.FirstName, u.LastName, u.DisplayName, u.FormattedName) // the alias stays (R-ERASE-1)
	}
	for i := range 3 {
		c := gdpr.Contact{
			BrandID: brand, ID: gdpr.NewID("c_", now), MemberID: u.ID,
			Email: fmt.Sprintf("contact%d.%s@example.test", i, tag), FirstName: fmt.Sprintf("Cfirst%d%s", i, tag),
			LastName: fmt.Sprintf("Clast%d%s", i, tag), Phone: fmt.Sprintf("+33700%d%s", i, tag),
			Notes: fmt.Sprintf("Note%d%s", i, tag), Tags: []string{"vip"},
			Address:     gdpr.Address{Street: fmt.Sprintf("%d Contact street %s", i, tag), City: "Nantes", PostalCode: "44000", Country: "FR"},
			MemberOptIn: gdpr.MemberOptInState{Value: gdpr.MemberOptInInvitationAccepted, At: now},
			BrandOptIn:  gdpr.BrandOptInState{Value: gdpr.BrandOptInNone, At: now},
			CreatedAt:   now, Source: gdpr.SourceManual,
		}
		if i == 0 {
			c.BrandOptIn.Value = gdpr.BrandOptInDatabase
		} else if !strings.Contains(string(brand), "ended") {
			s.secrets = append(s.secrets, c.Email, c.FirstName, c.LastName, c.Notes, c.Phone, c.Address.Street)
		}
		c, err := a.contacts().CreateContact(ctx, c)
		require.NoError(t, err)
		s.contacts = append(s.contacts, c)
	}
	return s
}

// mailSubject sends a member a mail through the MailSender function, so that the outbox holds
// its address until the erasure.
func (a *testApp) mailSubject(t *testing.T, s subject) {
	t.Helper()
	body := []byte(`{"brandId":"` + string(s.user.BrandID) + `","kind":"account_exists","userId":"` + s.user.ID + `"}`)
	res := azfunctest.NewHost(t, a.App.Handler).Invoke(triggers.MailSender, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: body, MessageID: "m-" + s.user.ID, DeliveryCount: 1}))
	require.NoError(t, res.Err())
}

func (a *testApp) sweep(t *testing.T) {
	t.Helper()
	res := azfunctest.NewHost(t, a.App.Handler).Invoke(triggers.RetentionSweep, azfunctest.Timer("timer", azfunc.TimerInfo{}))
	require.NoError(t, res.Err())
	a.waitIdle()
}

func (a *testApp) erasures(t *testing.T, brand string) []gdpr.ErasureRecord {
	t.Helper()
	res := a.admin("GET", "/api/admin/brands/"+brand+"/erasures", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	var body struct{ Erasures []gdpr.ErasureRecord }
	require.NoError(t, json.Unmarshal(res.Body, &body))
	return body.Erasures
}

// requireErasedPerR_ERASE_1 checks the erased user against the original, field by field.
func requireErasedPerR_ERASE_1(t *testing.T, a *testApp, before gdpr.User, after gdpr.User) {
	t.Helper()
	requireErased(t, a, before, after, false)
}

// requireErasedAtContractEnd is requireErasedPerR_ERASE_1 at the end of the brand's contract,
// when names and the alias go for every role (R-ERASE-7).
func requireErasedAtContractEnd(t *testing.T, a *testApp, before gdpr.User, after gdpr.User) {
	t.Helper()
	requireErased(t, a, before, after, true)
}

func requireErased(t *testing.T, a *testApp, before gdpr.User, after gdpr.User, contractEnd bool) {
	t.Helper()
	h, err := gdpr.NewHasher(a.App.Config.HashKeyID, a.App.Config.HashKey)
	require.NoError(t, err)
	require.Equal(t, gdpr.UserErased, after.Status)
	require.False(t, after.CanSignIn())
	if contractEnd {
		require.Empty(t, after.Alias, "R-ERASE-7: the alias goes at the contract end")
	} else {
		require.Equal(t, before.Alias, after.Alias, "R-ERASE-1: the alias is not erased when a member is deleted")
	}
	if contractEnd || before.Role.NamesErasedOnDeletion() {
		require.Empty(t, after.FirstName+after.LastName+after.DisplayName+after.FormattedName, "R-ERASE-1: names erased for roles 0, 7, 8")
	} else {
		require.Equal(t, before.FirstName, after.FirstName, "R-ERASE-1: names kept for roles 1-6")
		require.Equal(t, before.LastName, after.LastName)
		require.Equal(t, before.DisplayName, after.DisplayName)
		require.Equal(t, before.FormattedName, after.FormattedName)
	}
	require.Empty(t, after.UserName, "SCIM's spelling of the external id goes; its digest stays")
	if before.Role.External() {
		require.Equal(t, h.EmailDigest(before.EmailTmp), after.EmailTmp, "R-ERASE-1: email hashed")
		require.Empty(t, after.Email)
	} else {
		require.Equal(t, h.EmailDigest(before.Email), after.Email, "R-ERASE-1: email hashed")
	}
	require.Equal(t, h.Digest(before.CustomerID), after.CustomerID, "R-ERASE-1: customer id hashed")
	require.Equal(t, h.Digest(before.SocialID), after.SocialID, "R-ERASE-1: social id hashed")
	require.Empty(t, after.PasswordHash, "R-ERASE-1: password erased")
	require.Equal(t, gdpr.Address{City: before.Address.City, PostalCode: before.Address.PostalCode}, after.Address, "R-ERASE-1: city and postal code kept")
	require.Equal(t, gdpr.Date{Year: before.DateOfBirth.Year}, after.DateOfBirth, "R-ERASE-1: year of birth kept")
	require.Empty(t, after.PhotoKey)
	require.Empty(t, after.Description, "R-ERASE-1: description erased")
	require.Empty(t, after.Phone)
	require.True(t, before.CreatedAt.Equal(after.CreatedAt), "R-ERASE-1: creation date kept")
	require.Equal(t, []gdpr.UGC{before.UGC[1]}, after.UGC, "R-ERASE-2: contest UGC kept")
	require.True(t, after.NextReviewAt.IsZero())

	ctx := t.Context()
	for key, want := range map[string]bool{before.PhotoKey: false, before.UGC[0].Key: false, before.UGC[1].Key: true} {
		ok, err := a.App.Blobs.Exists(ctx, key)
		require.NoError(t, err)
		require.Equal(t, want, ok, "blob %s", key)
	}
}

func TestEraseAfterGracePeriod(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("classic", map[string]any{"pro": 0})
		app.putBrand("selective", map[string]any{"pro": 3})
		cases := []struct {
			name  string
			brand gdpr.BrandID
			role  gdpr.Role
		}{
			{"R-ERASE-1_role0_ambassador_names_erased", "classic", gdpr.RoleAmbassador},
			{"R-ERASE-1_role1_employee_names_kept", "classic", gdpr.RoleEmployee},
			{"R-ERASE-1_role3_vendor_pro0_names_kept", "classic", gdpr.RoleVendor},
			{"R-ERASE-1_role3_vendor_pro3_names_kept", "selective", gdpr.RoleVendor},
			{"R-ERASE-1_role7_client_names_erased", "classic", gdpr.RoleClient},
			{"R-ERASE-1_role8_temporary_names_erased", "classic", gdpr.RoleTemporary},
		}
		subjects := map[string]subject{}
		for _, c := range cases {
			subjects[c.name] = app.seedSubject(t, c.brand, c.role)
			if !c.role.External() {
				app.mailSubject(t, subjects[c.name])
			}
		}
		path := func(s subject, action string) string {
			return fmt.Sprintf("/api/admin/brands/%s/members/%s/%s", s.user.BrandID, s.user.ID, action)
		}

		t.Run("R-ERASE-5_block_then_restore_within_grace_loses_nothing", func(t *testing.T) {
			s := subjects[cases[0].name]
			res := app.admin("POST", path(s, "block"), map[string]string{"reason": "unsubscribed"})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, "blocked", res.JSON(t)["status"])
			u, err := app.App.Store.GetUser(t.Context(), s.user.BrandID, s.user.ID)
			require.NoError(t, err)
			require.False(t, u.CanSignIn(), "R-ERASE-5: access stops at once")
			require.True(t, u.Block.DueAt.Equal(u.Block.RequestedAt.AddDate(0, 0, 7)), "default grace is 7 days")

			app.setClock(t, t0.AddDate(0, 0, 6))
			app.waitIdle()
			res = app.admin("POST", path(s, "restore"), nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			app.setClock(t, t0.AddDate(0, 0, 8))
			app.sweep(t)
			u, err = app.App.Store.GetUser(t.Context(), s.user.BrandID, s.user.ID)
			require.NoError(t, err)
			require.Equal(t, gdpr.UserActive, u.Status)
			want := s.user
			want.Version, u.Version = "", ""
			want.NextReviewAt, u.NextReviewAt = time.Time{}, time.Time{}
			requireSameUser(t, want, u)
			for _, c := range s.contacts {
				got, err := app.contacts().GetContact(t.Context(), c.BrandID, c.ID)
				require.NoError(t, err)
				require.False(t, got.Erased())
				require.Equal(t, c.Email, got.Email)
			}
			require.Empty(t, app.erasures(t, "classic"))
			app.setClock(t, t0)
		})

		var due time.Time
		for _, c := range cases {
			s := subjects[c.name]
			res := app.admin("POST", path(s, "block"), map[string]string{"reason": "end_of_contract"})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			due = latestOf(due, dueAt(t, res, "block", "dueAt"))
		}
		app.setClock(t, due.Add(time.Second))
		app.waitIdle()

		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := subjects[c.name]
				after, err := app.App.Store.GetUser(t.Context(), s.user.BrandID, s.user.ID)
				require.NoError(t, err)
				requireErasedPerR_ERASE_1(t, app, s.user, after)
				kept, err := app.contacts().GetContact(t.Context(), s.contacts[0].BrandID, s.contacts[0].ID)
				require.NoError(t, err)
				require.False(t, kept.Erased(), "R-ERASE-6: a contact with a Brand opt-in stays")
				require.Equal(t, s.contacts[0].Email, kept.Email)
				for _, c := range s.contacts[1:] {
					got, err := app.contacts().GetContact(t.Context(), c.BrandID, c.ID)
					require.NoError(t, err)
					require.True(t, got.Erased(), "R-ERASE-6")
					require.Empty(t, got.FirstName+got.LastName+got.Notes+got.Phone+got.Address.Street, "R-ERASE-3")
					require.Empty(t, got.Tags)
					require.Equal(t, "44000", got.Address.PostalCode, "R-ERASE-3: postal code kept")
					require.Equal(t, "Nantes", got.Address.City)
					require.True(t, strings.HasPrefix(got.Email, "h1:"), "R-ERASE-3: email hashed")
				}
				res := app.admin("POST", path(s, "restore"), nil)
				require.Equal(t, 409, res.Status, "R-ERASE-5: nothing to restore after the erasure")
				require.Contains(t, string(res.Body), "already ran")
			})
		}

		t.Run("R-ERASE-9_one_audit_record_per_subject_without_personal_data", func(t *testing.T) {
			recs := append(app.erasures(t, "classic"), app.erasures(t, "selective")...)
			require.Len(t, recs, len(cases))
			byID := map[string]gdpr.ErasureRecord{}
			for _, r := range recs {
				byID[r.SubjectID] = r
			}
			for _, c := range cases {
				s := subjects[c.name]
				r, ok := byID[s.user.ID]
				require.True(t, ok, c.name)
				require.Equal(t, "R-ERASE-5", r.Rule)
				require.Equal(t, gdpr.ReasonEndOfContract, r.Reason)
				require.Equal(t, c.role, *r.Role)
				require.Equal(t, s.user.Kind, r.SubjectKind)
				require.Equal(t, 2, r.ContactsErased)
				require.Equal(t, 1, r.ContactsKept)
				require.Equal(t, 2, r.BlobsDeleted, "photo and non-contest UGC")
				require.Contains(t, r.FieldsHashed, "customerId")
				require.Contains(t, r.FieldsErased, "passwordHash")
				require.False(t, r.DoneAt.Before(r.DueAt))
				raw := app.admin("GET", "/api/admin/brands/"+string(s.user.BrandID)+"/erasures", nil).Body
				for _, secret := range s.secrets {
					require.NotContains(t, string(raw), secret)
				}
			}
		})

		if be.embedded {
			t.Run("erased_means_gone_from_every_file_of_the_data_dir_outbox_included", func(t *testing.T) {
				for _, c := range cases {
					for _, secret := range subjects[c.name].secrets {
						requireNoFileContains(t, app.App.Config.DataDir, secret, "")
					}
				}
			})
		}
	})
}

// requireSameUser compares users field by field, times with Equal.
func requireSameUser(t *testing.T, want, got gdpr.User) {
	t.Helper()
	require.True(t, want.CreatedAt.Equal(got.CreatedAt))
	require.True(t, want.ConfirmedAt.Equal(got.ConfirmedAt))
	require.True(t, want.Terms.AcceptedAt.Equal(got.Terms.AcceptedAt))
	want.CreatedAt, got.CreatedAt = time.Time{}, time.Time{}
	want.ConfirmedAt, got.ConfirmedAt = time.Time{}, time.Time{}
	wt, gt := *want.Terms, *got.Terms
	wt.AcceptedAt, gt.AcceptedAt = time.Time{}, time.Time{}
	want.Terms, got.Terms = &wt, &gt
	require.Equal(t, want, got)
}

// latestOf is the later of two instants.
func latestOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
