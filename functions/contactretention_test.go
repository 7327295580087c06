package main

import (
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/mailjet"
)

// TestContactRetentionThroughTheHost (#14, R-RET-4, R-RET-5, R-RET-7, R-ERASE-9): contacts go
// through the same timer and the same erasure worker as users, on the test clock. A contact
// never invited is erased after 30 days; an invited one gets its second invitation by mail
// 15 days later, turns "opt-out no action" 15 days after that, and is erased a year on, with
// its address gone from every file, the outbox's copies of both invitations included.
func TestContactRetentionThroughTheHost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("acme", manualEntry)
		member := app.seedSubject(t, "acme", gdpr.RoleAmbassador).user.ID
		add := func(email string) string {
			t.Helper()
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": email, "firstName": "Fran"})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			return res.JSON(t)["contactId"].(string)
		}
		contact := func(id string) gdpr.Contact {
			t.Helper()
			c, err := app.contacts().GetContact(t.Context(), "acme", id)
			require.NoError(t, err)
			return c
		}
		const quietAddr, lapseAddr = "quiet.contact@example.test", "lapse.contact@example.test"
		quiet, lapse := add(quietAddr), add(lapseAddr)
		res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+lapse+"/invite", nil)
		require.Equal(t, 202, res.Status, "%s", res.Body)
		app.waitIdle()
		require.Equal(t, []gdpr.MailKind{gdpr.MailContactInvitation}, app.mailKindsTo(lapseAddr))

		app.setClock(t, t0.AddDate(0, 0, 15).Add(time.Minute)) // the test clock runs on from where it is set
		app.sweep(t)
		require.Equal(t, []gdpr.MailKind{gdpr.MailContactInvitation, gdpr.MailContactInvitation}, app.mailKindsTo(lapseAddr),
			"R-RET-5: the second invitation, through the mail queue")
		require.False(t, contact(quiet).Erased())

		app.setClock(t, t0.AddDate(0, 0, 30).Add(2*time.Minute))
		app.sweep(t)
		require.True(t, contact(quiet).Erased(), "R-RET-4: not invited within 30 days")
		require.Equal(t, gdpr.MemberOptOutNoAction, contact(lapse).MemberOptIn.Value, "R-RET-5: no answer to two invitations")

		optedOut := contact(lapse).MemberOptIn.At
		app.setClock(t, optedOut.AddDate(1, 0, 0).Add(-time.Minute))
		app.sweep(t)
		require.False(t, contact(lapse).Erased(), "R-RET-7: kept a year")
		app.setClock(t, optedOut.AddDate(1, 0, 0).Add(time.Minute))
		app.sweep(t)
		require.True(t, contact(lapse).Erased(), "R-RET-7: erased a year after the opt-out")

		rules := map[string]string{}
		for _, r := range app.erasures(t, "acme") {
			if r.SubjectKind == gdpr.SubjectContact {
				rules[r.SubjectID] = r.Rule
			}
		}
		require.Equal(t, map[string]string{quiet: gdpr.RuleNewContact, lapse: gdpr.RuleOptedOutContact}, rules, "R-ERASE-9: one record each")
		if be.embedded {
			for _, addr := range []string{quietAddr, lapseAddr} {
				requireNoFileContains(t, app.App.Config.DataDir, addr, "")
			}
		}
	})
}

// TestContactActivityThroughTheHost (R-RET-3): a click restarts a contact's three years; an
// open is refused, being no activity; three years after the last click the contact is erased.
func TestContactActivityThroughTheHost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("acme", manualEntry)
		s := app.seedSubject(t, "acme", gdpr.RoleAmbassador)
		c := s.contacts[1] // invitation accepted, no Brand opt-in
		path := "/api/brands/acme/members/" + s.user.ID + "/contacts/" + c.ID + "/activity"
		res := app.admin("POST", path, map[string]string{"kind": "open"})
		require.Equal(t, 400, res.Status, "an open is not activity")
		require.Contains(t, string(res.Body), "R-RET-3")
		require.Equal(t, 404, app.admin("POST", "/api/brands/acme/members/"+s.user.ID+"/contacts/c_unknown/activity",
			map[string]string{"kind": "click"}).Status)

		clicked := t0.AddDate(2, 0, 0)
		app.setClock(t, clicked)
		res = app.admin("POST", path, map[string]string{"kind": "click"})
		require.Equal(t, 200, res.Status, "%s", res.Body)

		app.setClock(t, t0.AddDate(3, 0, 1))
		app.sweep(t)
		got, err := app.contacts().GetContact(t.Context(), "acme", c.ID)
		require.NoError(t, err)
		require.False(t, got.Erased(), "the click restarted the three years")
		app.setClock(t, clicked.AddDate(3, 0, 0).Add(time.Minute))
		app.sweep(t)
		got, err = app.contacts().GetContact(t.Context(), "acme", c.ID)
		require.NoError(t, err)
		require.True(t, got.Erased(), "three years without activity")
	})
}

// TestMemberErasureTakesItsContactsInvitations (R-ERASE-6, "erased means gone"): the contacts
// that go with an erased member take with them the outbox's copies of their invitations. The
// outbox is local mode's: Azure mode keeps no copy of mail.
func TestMemberErasureTakesItsContactsInvitations(t *testing.T) {
	app := startApp(t, nil)
	app.setClock(t, t0)
	app.putBrand("acme", manualEntry)
	member := app.seedSubject(t, "acme", gdpr.RoleAmbassador).user.ID
	const addr = "invited.contact@example.test"
	res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": addr})
	require.Equal(t, 201, res.Status, "%s", res.Body)
	contact := res.JSON(t)["contactId"].(string)
	res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+contact+"/invite", nil)
	require.Equal(t, 202, res.Status, "%s", res.Body)
	app.waitIdle()
	require.Len(t, app.mailKindsTo(addr), 1, "the invitation is in the outbox")

	res = app.admin("POST", "/api/admin/brands/acme/members/"+member+"/block", map[string]string{"reason": "unsubscribed"})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	app.setClock(t, dueAt(t, res, "block", "dueAt").Add(time.Second))
	app.waitIdle()
	c, err := app.contacts().GetContact(t.Context(), "acme", contact)
	require.NoError(t, err)
	require.True(t, c.Erased(), "R-ERASE-6: no Brand opt-in, erased with its member")
	requireNoFileContains(t, app.App.Config.DataDir, addr, "")
}

// TestMailjetEventsReachContacts (#14, R-CONSENT-1, R-CONSENT-6, R-RET-3): Mailjet's events of
// an invitation come back naming the contact in their payload; a click is the contact's
// activity, an unsubscribe its "opt-out from an email" proven by the mail's job id, and a
// hard bounce its email status. A payload naming another brand is not applied.
func TestMailjetEventsReachContacts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		creds := map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}
		app.putBrand("acme", map[string]any{"mailjetCallback": creds, "contacts": manualEntry["contacts"]})
		member := app.seedSubject(t, "acme", gdpr.RoleAmbassador).user.ID
		add := func(email string) string {
			t.Helper()
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": email})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			id := res.JSON(t)["contactId"].(string)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+id+"/invite", nil)
			require.Equal(t, 202, res.Status, "%s", res.Body)
			return id
		}
		contact := func(id string) gdpr.Contact {
			t.Helper()
			c, err := app.contacts().GetContact(t.Context(), "acme", id)
			require.NoError(t, err)
			return c
		}
		const leaverAddr, bouncerAddr, softAddr = "leaver.contact@example.test", "bouncer.contact@example.test", "soft.contact@example.test"
		leaver, bouncer, soft := add(leaverAddr), add(bouncerAddr), add(softAddr)
		event := func(kind, email, brand, contact string, extra map[string]any) map[string]any {
			e := map[string]any{"event": kind, "time": t0.Add(time.Hour).Unix(), "MessageID": 1, "email": email,
				"CustomID": "inv_job_" + contact, "Payload": mailjet.EncodeContactPayload(brand, "contact_invitation", "inv_job_"+contact, contact)}
			maps.Copy(e, extra)
			return e
		}
		body := []map[string]any{
			event("click", leaverAddr, "acme", leaver, map[string]any{"url": "https://example.test/"}),
			event("unsub", leaverAddr, "acme", leaver, nil),
			event("bounce", bouncerAddr, "acme", bouncer, map[string]any{"hard_bounce": true, "blocked": false, "error_related_to": "recipient", "error": "user unknown"}),
			event("unsub", bouncerAddr, "other", bouncer, nil),
			event("bounce", softAddr, "acme", soft, map[string]any{"hard_bounce": false, "blocked": false, "error_related_to": "recipient", "error": "mailbox full"}),
		}
		auth := header{"Authorization": "Basic " + basic(creds["username"], creds["password"])}
		for range 2 { // Mailjet retries and duplicates: the second time changes nothing
			res := app.do("POST", "/api/brands/acme/mailjet/events", body, auth)
			require.Equal(t, 200, res.Status, "%s", res.Body)
		}
		c := contact(leaver)
		require.Equal(t, gdpr.MemberOptOutFromEmail, c.MemberOptIn.Value)
		require.Equal(t, gdpr.ConsentSource{Kind: gdpr.SourceKindMailjet, Ref: "inv_job_" + leaver}, c.History[len(c.History)-1].Source)
		require.True(t, c.LastActivityAt.Equal(t0.Add(time.Hour)), "a click is activity")
		b := contact(bouncer)
		require.Equal(t, gdpr.EmailHardBounce, b.EmailStatus)
		require.Equal(t, gdpr.MemberOptInInvitationSent, b.MemberOptIn.Value, "another brand's payload is not applied")

		t.Run("R-MAIL-2_a_member_releases_a_soft_bounce_only", func(t *testing.T) {
			require.Equal(t, gdpr.EmailSoftBounce, contact(soft).EmailStatus)
			release := func(id string) int {
				return app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+id+"/release-soft-bounce", nil).Status
			}
			require.Equal(t, 200, release(soft))
			require.Equal(t, gdpr.EmailOK, contact(soft).EmailStatus)
			require.Equal(t, 200, release(soft), "released already: nothing changes")
			require.Equal(t, 409, release(bouncer), "a hard bounce is never released")
			require.Equal(t, gdpr.EmailHardBounce, contact(bouncer).EmailStatus)
		})
	})
}
