package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func orderBody(id, member, email string, optIn bool) string {
	b, _ := json.Marshal(map[string]any{"orderId": id, "memberId": member, "amount": "49.90", "currency": "EUR",
		"products": []map[string]any{{"sku": "LIPSTICK-01", "quantity": 2}},
		"contact":  map[string]string{"email": email, "firstName": "Cleo", "lastName": "Client"}, "brandOptIn": optIn})
	return string(b)
}

// TestOrdersEndToEnd: the brand's signed order webhook creates the Member's contact with
// R-CONSENT-3's opt-ins, once per orderId; an address that drew a complaint still records its
// sale, with its email status (R-MAIL-4, issue 23 item 18); the Member and the Brand read the
// contacts under the access rules (issue #14, groundwork).
func TestOrdersEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret, "contacts": manualEntry["contacts"],
			"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}})
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(), map[string]any{"externalId": "seller-1", "email": "seller@brand.example"})})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		member := res.JSON(t)["memberId"].(string)

		send := func(body string) map[string]any {
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "orders", body: body})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			return res.JSON(t)
		}
		require.Equal(t, "contact_created", send(orderBody("o-1", member, "agreed@example.test", true))["outcome"])
		require.Equal(t, "contact_created", send(orderBody("o-2", member, "stored@example.test", false))["outcome"])
		require.Equal(t, "already_applied", send(orderBody("o-1", member, "agreed@example.test", true))["outcome"])

		spam := `{"event":"spam","time":1717236000,"MessageID":1,"email":"gone@example.test"}`
		require.Equal(t, 200, app.do("POST", "/api/brands/acme/mailjet/events", spam, callbackAuth).Status)
		// guide: "if a definitive error (spam, hard bounce, block) has been returned by the
		// messaging platform, this information is stored to ensure to block any future
		// communications": communications, not the sale.
		require.Equal(t, "contact_created", send(orderBody("o-3", member, "gone@example.test", true))["outcome"], "R-MAIL-4")

		res = app.admin("GET", "/api/brands/acme/members/"+member+"/contacts", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		var mine struct{ Contacts []map[string]any }
		require.NoError(t, json.Unmarshal(res.Body, &mine))
		require.Len(t, mine.Contacts, 3)
		byEmail := map[string]map[string]any{}
		for _, c := range mine.Contacts {
			byEmail[c["email"].(string)] = c
		}
		require.Equal(t, "opt_in_from_order", byEmail["agreed@example.test"]["memberOptIn"])
		require.Equal(t, "from_brand_database", byEmail["agreed@example.test"]["brandOptIn"])
		require.Equal(t, "storage_only", byEmail["stored@example.test"]["memberOptIn"])
		require.Equal(t, "spam", byEmail["gone@example.test"]["emailStatus"], "R-MAIL-3: nothing is mailed to it")
		require.Nil(t, byEmail["agreed@example.test"]["emailStatus"])

		res = app.admin("GET", "/api/admin/brands/acme/contacts", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		var brand struct{ Contacts []map[string]any }
		require.NoError(t, json.Unmarshal(res.Body, &brand))
		require.Len(t, brand.Contacts, 3, "all carry a Brand opt-in (storage only included)")
		require.Equal(t, 401, app.do("GET", "/api/admin/brands/acme/contacts", nil, nil).Status)

		t.Run("R-MAIL-4_manual_creation_of_a_bounced_address_keeps_it_unmailed", func(t *testing.T) {
			bounce := `{"event":"bounce","hard_bounce":true,"time":1717236000,"MessageID":2,"email":"bounced@example.test"}`
			require.Equal(t, 200, app.do("POST", "/api/brands/acme/mailjet/events", bounce, callbackAuth).Status)
			res := app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "bounced@example.test"})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			contact := res.JSON(t)["contactId"].(string)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+contact+"/invite", nil)
			require.Equal(t, 409, res.Status, "R-MAIL-1: never invited: %s", res.Body)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "friend@example.test", "firstName": "Fran"})
			require.Equal(t, 201, res.Status, "%s", res.Body)
		})
		t.Run("R-CONSENT-4_sync_for_direct_selling_brands_only", func(t *testing.T) {
			sync := func(body string) response {
				return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync", body: body})
			}
			body := `{"batchId":"b-1","contacts":[{"memberId":"` + member + `","email":"synced@example.test","optIn":true}]}`
			require.Equal(t, 403, sync(body).Status, "a classic brand's ambassador")
			app.putBrand("acme", map[string]any{"pro": 2, "webhookSecret": ssoSecret,
				"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}})
			res := sync(body)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.EqualValues(t, 1, res.JSON(t)["created"])

			if be.embedded {
				t.Run("R-RET-9_a_deleted_contact_takes_its_invitations_from_the_outbox", func(t *testing.T) {
					const addr = "invited.synced@example.test"
					res := sync(`{"batchId":"b-2","contacts":[{"memberId":"` + member + `","email":"` + addr + `"}]}`)
					require.Equal(t, 200, res.Status, "%s", res.Body)
					mine := app.admin("GET", "/api/brands/acme/members/"+member+"/contacts", nil)
					var list struct{ Contacts []map[string]any }
					require.NoError(t, json.Unmarshal(mine.Body, &list))
					var id string
					for _, c := range list.Contacts {
						if c["email"] == addr {
							id = c["id"].(string)
						}
					}
					require.NotEmpty(t, id)
					res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+id+"/invite", nil)
					require.Equal(t, 202, res.Status, "%s", res.Body)
					app.waitIdle()
					require.Len(t, app.mailKindsTo(addr), 1)
					res = sync(`{"batchId":"b-3","contacts":[{"memberId":"` + member + `","email":"` + addr + `","delete":true}]}`)
					require.Equal(t, 200, res.Status, "%s", res.Body)
					app.waitIdle() // the scrub after the erasure
					requireNoFileContains(t, app.App.Config.DataDir, addr, "")
				})
			}
		})
	})
}

func nowUTC() time.Time { return time.Now().UTC() }

// manualEntry is the brand setting that reactivates manual entry of contacts, off by default
// (R-RET-4), for the tests that enter contacts by hand.
var manualEntry = map[string]any{"contacts": map[string]any{"manualEntry": true}}

// syncMember makes a direct-selling brand with one provisioned member, for the sync tests.
func syncMember(t *testing.T, app *testApp) string {
	t.Helper()
	app.putBrand("acme", map[string]any{"pro": 2, "webhookSecret": ssoSecret})
	res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(), map[string]any{"externalId": "seller-1", "email": "seller@brand.example"})})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	return res.JSON(t)["memberId"].(string)
}

// TestSyncBatchAppliesNothingWhenAnEntryIsBad: a sync batch with a bad second entry had
// already applied the first (item 8). Every entry is checked, its member included, before any
// applies.
func TestSyncBatchAppliesNothingWhenAnEntryIsBad(t *testing.T) {
	app := startApp(t, nil)
	member := syncMember(t, app)
	sync := func(body string) response {
		return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync", body: body})
	}
	contacts := func() int {
		res := app.admin("GET", "/api/brands/acme/members/"+member+"/contacts", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		var list struct{ Contacts []any }
		require.NoError(t, json.Unmarshal(res.Body, &list))
		return len(list.Contacts)
	}
	first := `{"memberId":"` + member + `","email":"first@example.test","optIn":true}`
	for name, second := range map[string]string{
		"unknown_member": `{"memberId":"m_nobody","email":"second@example.test"}`,
		"bad_email":      `{"memberId":"` + member + `","email":"not-an-address"}`,
	} {
		res := sync(`{"batchId":"b-bad-` + name + `","contacts":[` + first + `,` + second + `]}`)
		require.Contains(t, []int{400, 404}, res.Status, "%s: %s", name, res.Body)
		require.Zero(t, contacts(), "%s: the first entry was applied", name)
	}
	res := sync(`{"batchId":"b-good","contacts":[` + first + `]}`)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.EqualValues(t, 1, res.JSON(t)["created"])
}

// TestSyncLogsNoBatchID: the brand's free-text batchId was logged (item 8); the log line
// carries a keyed digest of it instead.
func TestSyncLogsNoBatchID(t *testing.T) {
	app := startApp(t, nil)
	member := syncMember(t, app)
	const batch = "import-Ada-Lovelace-2026"
	res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync",
		body: `{"batchId":"` + batch + `","contacts":[{"memberId":"` + member + `","email":"logged@example.test"}]}`})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	logs := app.logs.String()
	require.Contains(t, logs, `"msg":"contacts synchronised"`)
	require.NotContains(t, logs, batch)
	require.NotContains(t, logs, "Lovelace")
}

// TestManualContactEntry_R_RET_4_offByDefault (issue 23, item 20): manual entry of contacts is
// a per-brand setting, off by default: while it is off, POST …/members/{id}/contacts answers
// 403 saying so and stores nothing; a brand that reactivates it ("contacts":{"manualEntry":
// true}) gets its contacts entered, and reads the setting back.
// guide: "As of version 4.0, it is not possible to manually enter new contacts. This
// functionality is deprecated but it is not excluded that this will be reactivated if
// necessary in a later version."
func TestManualContactEntry_R_RET_4_offByDefault(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		member := syncMember(t, app)
		enter := func() response {
			return app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": "typed@example.test", "firstName": "Tia"})
		}
		res := enter()
		require.Equal(t, 403, res.Status, "%s", res.Body)
		require.Contains(t, string(res.Body), "manual entry of contacts is disabled")
		require.NotContains(t, string(res.Body), "typed@example.test", "errors never echo input")
		mine := app.admin("GET", "/api/brands/acme/members/"+member+"/contacts", nil)
		require.Equal(t, 200, mine.Status)
		require.NotContains(t, string(mine.Body), "typed@example.test", "nothing stored")

		app.putBrand("acme", map[string]any{"pro": 2, "webhookSecret": ssoSecret, "contacts": map[string]any{"manualEntry": true}})
		got := app.admin("GET", "/api/admin/brands/acme", nil)
		require.Equal(t, 200, got.Status)
		require.Equal(t, map[string]any{"manualEntry": true}, got.JSON(t)["contacts"])
		res = enter()
		require.Equal(t, 201, res.Status, "%s", res.Body)
	})
}

// TestOrderAmounts: an order's amount is a JSON number or string, read exactly from its text
// and checked against the currency's ISO 4217 minor unit, then kept in one canonical spelling
// (issue #17 item 7). A refused amount changes nothing: no contact, and the orderId stays
// free for the corrected order.
func TestOrderAmounts(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret})
	res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(), map[string]any{"externalId": "seller-1", "email": "seller@brand.example"})})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	member := res.JSON(t)["memberId"].(string)

	order := func(id string, amount any, currency string) response {
		b, _ := json.Marshal(map[string]any{"orderId": id, "memberId": member, "currency": currency,
			"contact": map[string]string{"email": id + "@example.test"}})
		// The amount is spliced in as written: json.Marshal would re-spell a number.
		raw := string(b[:len(b)-1]) + `,"amount":` + fmt.Sprint(amount) + `}`
		return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "orders", body: raw})
	}
	stored := func() map[string]string {
		res := app.admin("GET", "/api/admin/brands/acme/contacts", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		var body struct {
			Contacts []struct {
				Sales []struct{ OrderID, Amount, Currency string }
			}
		}
		require.NoError(t, json.Unmarshal(res.Body, &body))
		got := map[string]string{}
		for _, c := range body.Contacts {
			for _, s := range c.Sales {
				got[s.OrderID] = s.Amount + " " + s.Currency
			}
		}
		return got
	}

	for _, c := range []struct{ id, amount, currency, want string }{
		{"number", `42.5`, "EUR", "42.50 EUR"},
		{"string", `"42.50"`, "EUR", "42.50 EUR"},
		{"integer", `19`, "EUR", "19.00 EUR"},
		{"yen", `5000`, "JPY", "5000 JPY"},
		{"dinar", `1.25`, "BHD", "1.250 BHD"},
		{"dinar-string", `"0.005"`, "BHD", "0.005 BHD"},
		{"tenth", `0.1`, "EUR", "0.10 EUR"},
		{"largest", `999999999999.99`, "EUR", "999999999999.99 EUR"},
	} {
		res := order(c.id, c.amount, c.currency)
		require.Equal(t, 200, res.Status, "%s %s: %s", c.amount, c.currency, res.Body)
		require.Equal(t, "contact_created", res.JSON(t)["outcome"])
		require.Equal(t, c.want, stored()[c.id], "%s %s", c.amount, c.currency)
	}

	before := stored()
	for _, c := range []struct{ amount, currency, says string }{
		{`42.555`, "EUR", "more decimals"},
		{`"1.000"`, "EUR", "more decimals"}, // a thousand with a separator, or one euro: refused
		{`1.5`, "JPY", "more decimals"},
		{`1.0`, "JPY", "more decimals"},
		{`1.2345`, "BHD", "more decimals"},
		{`1`, "ABC", "ISO 4217"},
		{`1`, "eur", "ISO 4217"},
		{`1`, "XAU", "ISO 4217"},
		{`1e3`, "EUR", "plain decimal"},
		{`-1`, "EUR", "plain decimal"},
		{`"42,50"`, "EUR", "plain decimal"},
		{`true`, "EUR", "plain decimal"},
		{`{"value":1}`, "EUR", "plain decimal"},
		{`null`, "EUR", "plain decimal"},
		{`1000000000000`, "EUR", "digits"},
		{`12345678901234567890.5`, "EUR", "digits"},
	} {
		res := order("refused", c.amount, c.currency)
		require.Equal(t, 400, res.Status, "%s %s: %s", c.amount, c.currency, res.Body)
		require.Contains(t, string(res.Body), c.says, "%s %s", c.amount, c.currency)
		if quoted := strings.Trim(c.amount, `"`); len(quoted) > 2 { // "1" is in "ISO 4217"
			require.NotContains(t, string(res.Body), quoted, "the refusal never quotes the amount")
		}
	}
	require.Equal(t, before, stored(), "a refused order records nothing")
	res = order("refused", `7.5`, "EUR")
	require.Equal(t, 200, res.Status, "the orderId of a refused order is still free: %s", res.Body)
	require.Equal(t, "7.50 EUR", stored()["refused"])
}
