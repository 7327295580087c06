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
			mailed, suppressed := len(app.mails()), strings.Count(app.logs.String(), `"msg":"mail suppressed"`)
			p := newFakePerson()
			p.Email = "x@exa\u0308mple.test"
			require.Equal(t, 202, app.do("POST", "/api/brands/acme/signup", p.signup(), nil).Status)
			require.Len(t, app.mails(), mailed, "R-MAIL-1: a blacklisted mailbox is sent nothing, however spelt")
			require.Equal(t, suppressed+1, strings.Count(app.logs.String(), `"msg":"mail suppressed"`), "suppressed by the blacklist")
			require.Equal(t, gdpr.MailContactInvitation, app.lastMailTo("x@xn--exmple-cua.test").Kind, "mailed to the canonical spelling")
		})
		t.Run("an_invalid_IDN_domain_is_an_invalid_address", func(t *testing.T) {
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "x@xn--zz.test"})
			require.Equal(t, 400, res.Status, "%s", res.Body)
			require.NotContains(t, string(res.Body), "xn--zz", "errors never echo input")
		})
		t.Run("only_new_or_invited_contacts", func(t *testing.T) {
			c, tok := invite("twice@example.test")
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+c+"/invite", nil)
			require.Equal(t, 202, res.Status, "R-RET-5: a second invitation")
			require.Equal(t, 200, answer(tok, "accept").Status)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+c+"/invite", nil)
			require.Equal(t, 409, res.Status, "an answered contact is not invited again")
			require.Equal(t, 400, answer("short", "accept").Status)
			require.Equal(t, 400, answer(tok, "maybe").Status)
		})
	})
}
