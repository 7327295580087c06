package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestInvitations (#14): a Member invites a contact it entered; the invitation goes through the
// mail queue with a link whose token is in the fragment; the contact accepts, declines, or
// refuses every Member of the brand, which blacklists the address (R-RET-4, R-RET-5,
// R-CONSENT-1, R-MAIL-4).
func TestInvitations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"]})
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
			map[string]any{"externalId": "seller-1", "email": "seller@brand.example", "firstName": "Sam"})})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		member := res.JSON(t)["memberId"].(string)

		invite := func(email string) (contact, token string) {
			t.Helper()
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": email, "firstName": "Fran"})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			contact = res.JSON(t)["contactId"].(string)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+contact+"/invite", nil)
			require.Equal(t, 202, res.Status, "%s", res.Body)
			require.Equal(t, "invitation_sent", res.JSON(t)["memberOptIn"])
			m := app.lastMailTo(gdpr.NormalizeEmail(email)) // the address as stored and mailed
			require.Equal(t, gdpr.MailContactInvitation, m.Kind)
			require.Contains(t, m.Subject, "Sam")
			return contact, tokenOf(t, m.Links[0])
		}
		optIn := func(contact string) string {
			got, err := app.contacts().GetContact(t.Context(), "acme", contact)
			require.NoError(t, err)
			return string(got.MemberOptIn.Value)
		}
		answer := func(token, a string) response {
			return app.do("POST", "/api/brands/acme/invitation", map[string]string{"token": token, "answer": a}, nil)
		}

		t.Run("accept", func(t *testing.T) {
			c, tok := invite("yes@example.test")
			page := app.do("GET", "/api/brands/acme/invitation", nil, header{"Accept": "text/html"})
			require.Equal(t, 200, page.Status)
			require.Equal(t, "invitation_sent", optIn(c), "opening the page changes nothing")
			require.Equal(t, 200, answer(tok, "accept").Status)
			require.Equal(t, "invitation_accepted", optIn(c))
			require.Equal(t, 410, answer(tok, "decline").Status, "single use")
		})
		t.Run("decline_hides_the_address_from_the_member", func(t *testing.T) {
			c, tok := invite("no@example.test")
			require.Equal(t, 200, answer(tok, "decline").Status)
			require.Equal(t, "invitation_declined", optIn(c))
			res := app.admin("GET", "/api/brands/acme/members/"+member+"/contacts", nil)
			require.NotContains(t, string(res.Body), "no@example.test", "R-RET-7")
		})
		t.Run("R-MAIL-4_global_opt_out_blacklists_the_address_for_the_brand", func(t *testing.T) {
			_, tok := invite("never@example.test")
			require.Equal(t, 200, answer(tok, "global_opt_out").Status)
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "never@example.test"})
			require.Equal(t, 409, res.Status, "no member can add it again: %s", res.Body)
			require.Equal(t, "blacklisted", res.errorCode(t), "the error envelope: %s", res.Body)
			require.NotContains(t, string(res.Body), "never@", "the refusal never quotes the address")
		})
		t.Run("R-MAIL-4_a_global_opt_out_stops_every_spelling_of_the_mailbox", func(t *testing.T) {
			// Issue 24: the opt-out is given under one spelling; the mailbox is one.
			_, tok := invite("x@ex\u00e4mple.test")
			require.Equal(t, 200, answer(tok, "global_opt_out").Status)
			for _, spelling := range []string{"x@exa\u0308mple.test", "x@xn--exmple-cua.test", "X@EX\u00c4MPLE.TEST", "x@ex\u00e4mple\u3002test"} {
				res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": spelling})
				require.Equal(t, 409, res.Status, "%+q: %s", spelling, res.Body)
			}
			app.setClock(t, time.Now().Add(2*time.Minute)) // past the per-address mail interval
			t.Cleanup(func() { app.setClock(t, time.Now()) })
			mailed := len(app.mails())
			require.Equal(t, gdpr.MailContactInvitation, app.lastMailTo("x@xn--exmple-cua.test").Kind, "mailed to the canonical spelling")
			// The one mail a global opt-out lets through is the signup confirmation the person
			// asks for (R-MAIL-4, issue 22): confirming it, under another spelling, lifts the
			// opt-out of the one mailbox.
			p := newFakePerson()
			p.Email = "x@exa\u0308mple.test"
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			require.Len(t, app.mails(), mailed+1)
			confirmation := app.lastMailTo("x@xn--exmple-cua.test")
			require.Equal(t, gdpr.MailSignupConfirmation, confirmation.Kind, "mailed to the canonical spelling")
			res := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": tokenOf(t, confirmation.Links[0])}, nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			lookup := app.admin("POST", "/api/admin/brands/acme/blacklist/lookup", map[string]string{"email": "X@EX\u00c4MPLE.TEST"})
			require.JSONEq(t, `{"listed":false}`, string(lookup.Body), "one mailbox, however spelt")
		})
		t.Run("an_invalid_IDN_domain_is_an_invalid_address", func(t *testing.T) {
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "x@xn--zz.test"})
			require.Equal(t, 400, res.Status, "%s", res.Body)
			require.NotContains(t, string(res.Body), "xn--zz", "errors never echo input")
		})
		t.Run("only_new_or_invited_contacts", func(t *testing.T) {
			c, tok := invite("twice@example.test")
			mailed := len(app.mails())
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+c+"/invite", nil)
			// R-RET-5: the schedule is the system's; a pending contact is answered unchanged.
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, "unchanged", res.JSON(t)["outcome"])
			require.Len(t, app.mails(), mailed, "no second mail from the member")
			require.Equal(t, 200, answer(tok, "accept").Status)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+c+"/invite", nil)
			require.Equal(t, 409, res.Status, "an answered contact is not invited again")
			require.Equal(t, 400, answer("short", "accept").Status)
			require.Equal(t, 400, answer(tok, "maybe").Status)
		})
	})
}

// TestRRet5OneNoResponseParameter: one per-brand duration is the invitation's wait, and so the
// life of its link: a brand that lengthens it to 20 days mails links that still answer on
// day 19 (R-RET-5, R-RET-6).
// guide: "The duration is set to 15 days by default, but can be changed in the platform
// configuration for the Brand." … "Same parameter is used as in previous case for no response
// received."
func TestRRet5OneNoResponseParameter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "retention": map[string]string{"invitationPending": "P20D"}, "contacts": manualEntry["contacts"]})
		got := app.admin("GET", "/api/admin/brands/acme", nil)
		require.Equal(t, 200, got.Status)
		retention := got.JSON(t)["retention"].(map[string]any)
		require.Equal(t, "P20D", retention["invitationPending"])
		for _, old := range []string{"invitationReminder", "invitationExpiry", "pendingConfirmation"} {
			require.NotContains(t, retention, old, "one parameter, not three")
		}
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
			map[string]any{"externalId": "seller-1", "email": "seller@brand.example", "firstName": "Sam"})})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		member := res.JSON(t)["memberId"].(string)
		res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "later@example.test"})
		require.Equal(t, 201, res.Status, "%s", res.Body)
		contact := res.JSON(t)["contactId"].(string)
		res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+contact+"/invite", nil)
		require.Equal(t, 202, res.Status, "%s", res.Body)
		token := tokenOf(t, app.lastMailTo("later@example.test").Links[0])

		app.setClock(t, time.Now().Add(19*24*time.Hour))
		t.Cleanup(func() { app.setClock(t, time.Now()) })
		res = app.do("POST", "/api/brands/acme/invitation", map[string]string{"token": token, "answer": "accept"}, nil)
		require.Equal(t, 200, res.Status, "the link lives as long as the wait: %s", res.Body)
	})
}

// TestRConsent7GlobalOptOutFromTheUnsubscribePage: a contact's mail links to an unsubscribe
// page, which changes nothing when opened; "this member" sets "opt-out from an email" for
// that contact only; "all members" moves every Member's copy of the address to "global
// opt-out" and blacklists its digest; each answer repeated changes nothing (R-CONSENT-7,
// R-MAIL-4, R-MAIL-5).
// guide: "Global opt-out (if the contact has opted-out from a Member's publication and has
// also chosen to opt-out from all the Members of this brand)."
func TestRConsent7GlobalOptOutFromTheUnsubscribePage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"]})
		var members []string
		for _, ext := range []string{"seller-1", "seller-2"} {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
				map[string]any{"externalId": ext, "email": ext + "@brand.example", "firstName": "Sam"})})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			members = append(members, res.JSON(t)["memberId"].(string))
		}
		add := func(member, email string) string {
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": email})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			return res.JSON(t)["contactId"].(string)
		}
		mine, theirs, other := add(members[0], "reader@example.test"), add(members[1], "reader@example.test"), add(members[1], "other@example.test")
		res := app.admin("POST", "/api/brands/acme/members/"+members[0]+"/contacts/"+mine+"/invite", nil)
		require.Equal(t, 202, res.Status, "%s", res.Body)
		m := app.lastMailTo("reader@example.test")
		require.Len(t, m.Links, 3, "the invitation, the unsubscribe page and the one-click URL")
		require.Contains(t, m.Links[1], "/api/brands/acme/unsubscribe#token=")
		token := tokenOf(t, m.Links[1])
		optIn := func(id string) gdpr.MemberOptIn {
			c, err := app.contacts().GetContact(t.Context(), "acme", id)
			require.NoError(t, err)
			return c.MemberOptIn.Value
		}

		page := app.do("GET", "/api/brands/acme/unsubscribe", nil, header{"Accept": "text/html"})
		require.Equal(t, 200, page.Status)
		require.Contains(t, string(page.Body), `value="all_members"`)
		require.NotEmpty(t, page.Header.Get("Content-Security-Policy"))
		require.Equal(t, gdpr.MemberOptInInvitationSent, optIn(mine), "opening the page changes nothing")

		answer := func(a string) response {
			return app.do("POST", "/api/brands/acme/unsubscribe", map[string]string{"token": token, "answer": a}, nil)
		}
		for range 2 {
			require.Equal(t, 200, answer("this_member").Status)
			require.Equal(t, gdpr.MemberOptOutFromEmail, optIn(mine))
			require.Equal(t, gdpr.MemberOptInNew, optIn(theirs), "another member's copy is untouched")
		}
		for range 2 {
			res := answer("all_members")
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, gdpr.MemberGlobalOptOut, optIn(mine))
			require.Equal(t, gdpr.MemberGlobalOptOut, optIn(theirs), "every member's copy")
			require.Equal(t, gdpr.MemberOptInNew, optIn(other))
		}
		h, err := gdpr.NewHasher(app.App.Config.HashKeyID, app.App.Config.HashKey)
		require.NoError(t, err)
		entry, err := app.App.Store.GetBlacklist(t.Context(), "acme", h.EmailDigest("reader@example.test"))
		require.NoError(t, err)
		require.Equal(t, gdpr.BlacklistGlobalOptOut, entry.Reason)
		res = app.admin("POST", "/api/brands/acme/members/"+members[0]+"/contacts", map[string]string{"email": "reader@example.test"})
		require.Equal(t, 409, res.Status, "no member enters the address again")

		require.Equal(t, 400, answer("everyone").Status)
		bad := app.do("POST", "/api/brands/acme/unsubscribe", map[string]string{"token": strings.Repeat("A", 43), "answer": "all_members"}, nil)
		require.Equal(t, 410, bad.Status)
		require.NotContains(t, string(bad.Body), "AAAA", "errors never echo input")
	})
}

// TestRConsent7InvitationGlobalOptOutReachesEveryMember: declining an invitation for every
// member of the brand moves every Member's copy of the address to "global opt-out", not only
// the inviting Member's (R-CONSENT-7).
// guide: "Global opt-out (if the contact has opted-out from a Member's publication and has
// also chosen to opt-out from all the Members of this brand)."
func TestRConsent7InvitationGlobalOptOutReachesEveryMember(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"]})
		var members []string
		for _, ext := range []string{"seller-1", "seller-2"} {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
				map[string]any{"externalId": ext, "email": ext + "@brand.example", "firstName": "Sam"})})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			members = append(members, res.JSON(t)["memberId"].(string))
		}
		var copies []string
		for _, m := range members {
			res := app.admin("POST", "/api/brands/acme/members/"+m+"/contacts", map[string]string{"email": "nobody@example.test"})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			copies = append(copies, res.JSON(t)["contactId"].(string))
		}
		res := app.admin("POST", "/api/brands/acme/members/"+members[0]+"/contacts/"+copies[0]+"/invite", nil)
		require.Equal(t, 202, res.Status, "%s", res.Body)
		token := tokenOf(t, app.lastMailTo("nobody@example.test").Links[0])
		res = app.do("POST", "/api/brands/acme/invitation", map[string]string{"token": token, "answer": "global_opt_out"}, nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		for _, id := range copies {
			c, err := app.contacts().GetContact(t.Context(), "acme", id)
			require.NoError(t, err)
			require.Equal(t, gdpr.MemberGlobalOptOut, c.MemberOptIn.Value, "every member's copy")
		}
	})
}
