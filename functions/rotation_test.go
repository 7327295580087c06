package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/storetest"
)

// The three keys of the rotation test: the harness's own (h1), then two more.
const (
	rotationKey1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	rotationKey2 = "2222222222222222222222222222222222222222222222222222222222222222"
	rotationKey3 = "3333333333333333333333333333333333333333333333333333333333333333"
)

// TestHashKeyRotationKeepsTheBlacklist_R_ERASE_4 is the test, on both stores: 1,000
// addresses blacklisted (hard bounces) whose members are then erased, beside 20 live members
// (10 of them bounced too); the key rotated twice (h1 → h2 → h3), re-keyed after each, and
// the oldest key retired. Then every address is still refused, every member still signs in
// and is found by its address, and the oldest key alone matches no stored digest.
func TestHashKeyRotationKeepsTheBlacklist_R_ERASE_4(t *testing.T) {
	const gone, live = 1000, 20
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			env := maps.Clone(be.env(t))
			if env == nil {
				env = map[string]string{}
			}
			env[config.EnvDataDir] = t.TempDir()
			env[config.EnvHashKey] = rotationKey1
			app, stop := launchApp(t, env)
			app.setClock(t, t0)
			app.putBrand("acme", map[string]any{"pro": 2, "webhookSecret": ssoSecret,
				"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"}})

			goneAddr := func(i int) string { return fmt.Sprintf("gone-%d@example.test", i) }
			liveAddr := func(i int) string { return fmt.Sprintf("live-%d@example.test", i) }
			upsert := func(app *testApp, ext, email string) response {
				return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", t0,
					map[string]any{"externalId": ext, "email": email, "firstName": "Rotation", "lastName": "Test"})})
			}
			members := make([]string, live)
			for i := range live {
				res := upsert(app, fmt.Sprintf("live-%d", i), liveAddr(i))
				require.Equal(t, 200, res.Status, "%s", res.Body)
				members[i] = res.JSON(t)["memberId"].(string)
			}
			var bounced []string
			for i := range gone {
				res := upsert(app, fmt.Sprintf("gone-%d", i), goneAddr(i))
				require.Equal(t, 200, res.Status, "%s", res.Body)
				bounced = append(bounced, goneAddr(i))
			}
			for i := range live / 2 {
				bounced = append(bounced, liveAddr(i))
			}
			for chunk := range slices.Chunk(bounced, 250) {
				events := make([]map[string]any, len(chunk))
				for i, addr := range chunk {
					events[i] = map[string]any{"event": "bounce", "time": t0.Unix(), "email": addr, "hard_bounce": true,
						"error_related_to": "recipient", "error": "user unknown"}
				}
				body, err := json.Marshal(events)
				require.NoError(t, err)
				res := app.do("POST", "/api/brands/acme/mailjet/events", string(body), callbackAuth)
				require.Equal(t, 200, res.Status, "%s", res.Body)
			}
			for i := range gone {
				res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.deleted", t0.Add(time.Second),
					map[string]any{"externalId": fmt.Sprintf("gone-%d", i)})})
				require.Equal(t, 200, res.Status, "%s", res.Body)
			}
			app.setClock(t, t0.AddDate(0, 0, 8))
			app.sweep(t)
			app.waitUntil(func() bool { return app.erasuresStored(t, "acme") == gone })
			report := app.hashKeyReport(t)
			require.Equal(t, gone+live/2, report.Forms["h1"].Blacklist, "every address listed under h1")

			// First rotation: h2 is the newest; h1 still looked up and claimed.
			stop()
			env[config.EnvHashKeys], env[config.EnvHashKey], env[config.EnvHashKeyID] = "h1:"+rotationKey1, rotationKey2, "h2"
			app, stop = launchApp(t, env)
			app.setClock(t, t0.AddDate(0, 0, 9))
			res := upsert(app, "intruder-0", liveAddr(0))
			require.Equal(t, 409, res.Status, "before any re-keying, an h1 claim still keeps the address unique: %s", res.Body)
			res = app.admin("POST", "/api/admin/hash-keys/h1/retire", nil)
			require.Equal(t, 409, res.Status, "h1 is still in use: %s", res.Body)
			app.rekey(t)
			report = app.hashKeyReport(t)
			require.Zero(t, report.Forms["h1"].Blacklist, "no blacklist entry left under h1")
			require.Equal(t, live/2, report.Forms["h2"].Blacklist, "live members' addresses re-keyed from the value held")
			require.Equal(t, gone, report.Forms["h2.h1"].Blacklist, "erased members' addresses wrapped")
			require.Zero(t, report.MissingTwins)
			res = app.admin("POST", "/api/admin/hash-keys/h1/retire", nil)
			require.Equal(t, 200, res.Status, "h1 is only doubled claims now: %s", res.Body)

			// Second rotation: h3 is the newest, h1 retired (only inside wrapped digests).
			stop()
			env[config.EnvHashKeys], env[config.EnvHashKey], env[config.EnvHashKeyID] = "h1:"+rotationKey1+",h2:"+rotationKey2, rotationKey3, "h3"
			env[config.EnvHashKeysRetired] = "h1"
			app, _ = launchApp(t, env)
			app.setClock(t, t0.AddDate(0, 0, 10))
			app.rekey(t)
			app.rekey(t) // at least once: a second run changes nothing
			report = app.hashKeyReport(t)
			for _, v := range report.Versions {
				switch v.Version {
				case "h1":
					require.Equal(t, gdpr.KeyRetired, v.State)
					require.Zero(t, v.Plain, "no digest is made under h1 alone any more: %+v", report.Forms)
					require.Zero(t, v.Outermost)
					require.True(t, v.KeyNeeded, "its key still computes the inside of wrapped digests")
				case "h2":
					require.True(t, v.Retirable, "h2 is only doubled claims after the re-keying: %+v", report.Forms)
				}
			}
			require.Equal(t, gone, report.Forms["h3.h2.h1"].Blacklist, "wrapped once more")
			require.Equal(t, live/2, report.Forms["h3"].Blacklist)

			// The old key alone matches no stored digest.
			old, err := gdpr.NewHasher("h1", mustHex(t, rotationKey1))
			require.NoError(t, err)
			stored := app.storedDigestHexes(t, "acme")
			require.NotEmpty(t, stored)
			for i := range gone {
				for _, v := range []string{old.EmailDigest(goneAddr(i)), old.Digest(fmt.Sprintf("gone-%d", i))} {
					_, hex, _ := strings.Cut(v, ":")
					require.False(t, stored[hex], "a digest under h1 alone is still stored")
				}
			}
			for i := range live {
				_, hex, _ := strings.Cut(old.EmailDigest(liveAddr(i)), ":")
				require.False(t, stored[hex], "a live member's h1 claim is still stored")
			}

			// Every member still signs in and is found by its address.
			for i, id := range members {
				res := app.admin("POST", "/api/admin/brands/acme/members/"+id+"/activity", map[string]string{"kind": "login"})
				require.Equal(t, 200, res.Status, "%s", res.Body)
				res = upsert(app, fmt.Sprintf("intruder-%d", i), liveAddr(i))
				require.Equal(t, 409, res.Status, "the address is found held by its member: %s", res.Body)
				res = upsert(app, fmt.Sprintf("live-%d", i), liveAddr(i))
				require.Equal(t, 200, res.Status, "%s", res.Body)
				require.Equal(t, id, res.JSON(t)["memberId"], "its external id finds the same member")
			}

			// Every address is still refused: a contact created for it gets the bounce's status.
			member := members[live-1]
			var entries []string
			for _, addr := range bounced {
				entries = append(entries, `{"memberId":"`+member+`","email":"`+addr+`","optIn":true}`)
			}
			// Small batches: each request stays far inside the harness's HTTP timeout however
			// slow the machine (a batch of 1,000 reads up to five blacklist forms per address).
			for n, chunk := range slices.Collect(slices.Chunk(entries, 50)) {
				res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync",
					body: fmt.Sprintf(`{"batchId":"rot-%d","contacts":[%s]}`, n, strings.Join(chunk, ","))})
				require.Equal(t, 200, res.Status, "%s", res.Body)
			}
			refused := 0
			for after := ""; ; {
				page, err := app.contacts().ListContacts(t.Context(), "acme", after, 500)
				require.NoError(t, err)
				for _, c := range page {
					require.Equal(t, gdpr.EmailHardBounce, c.EmailStatus, "every listed address keeps its bounce")
					refused++
				}
				if len(page) < 500 {
					break
				}
				after = page[len(page)-1].ID
			}
			require.Equal(t, len(bounced), refused)
		})
	}
}

// TestRotationClaimsMeetOnASharedVersion_R_ERASE_4 is the explicit interleaving behind the
// claims' rotation: a member created under h1 alone (a process still on the old keys), and a
// create of the same address under {h2, h1} after the rotation, before any re-keying; then
// the same after the re-keying with h1 retired. Each time the second create finds the first.
func TestRotationClaimsMeetOnASharedVersion_R_ERASE_4(t *testing.T) {
	env := map[string]string{config.EnvHashKey: rotationKey1}
	env[config.EnvDataDir] = t.TempDir()
	app, stop := launchApp(t, env)
	app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret})
	upsert := func(app *testApp, ext, email string) response {
		return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
			map[string]any{"externalId": ext, "email": email, "firstName": "Ada"})})
	}
	// 1. The old process claims under h1 and creates the member.
	res := upsert(app, "first", "shared@example.test")
	require.Equal(t, 200, res.Status, "%s", res.Body)
	first := res.JSON(t)["memberId"]
	stop()

	// 2. After the rotation, a create of the same address claims h2 (free), then h1 (held).
	env[config.EnvHashKeys], env[config.EnvHashKey], env[config.EnvHashKeyID] = "h1:"+rotationKey1, rotationKey2, "h2"
	app, stop = launchApp(t, env)
	res = upsert(app, "second", "shared@example.test")
	require.Equal(t, 409, res.Status, "h1, claimed by both, keeps the address unique: %s", res.Body)
	claims, err := app.App.Store.ListClaims(t.Context(), "acme", "", 100)
	require.NoError(t, err)
	held := 0
	for _, c := range claims {
		if strings.HasPrefix(c.Key, gdpr.ClaimEmail) || strings.HasPrefix(c.Key, gdpr.ClaimExternalID) {
			require.Equal(t, first, c.Owner, "the refused create let go of the claims it had taken: %s", c.Key[:10])
			held++
		}
	}
	require.Equal(t, 2, held, "the member's address and external id under h1")

	// 3. Re-keyed, then h1 retired: the member's h2 claim is what a create meets.
	app.rekey(t)
	stop()
	env[config.EnvHashKeysRetired] = "h1"
	app, _ = launchApp(t, env)
	app.rekey(t)
	res = upsert(app, "third", "shared@example.test")
	require.Equal(t, 409, res.Status, "%s", res.Body)
	res = upsert(app, "first", "shared@example.test")
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, first, res.JSON(t)["memberId"])
}

func (a *testApp) hashKeyReport(t *testing.T) gdpr.KeyReport {
	t.Helper()
	res := a.admin("GET", "/api/admin/hash-keys", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	var r gdpr.KeyReport
	require.NoError(t, json.Unmarshal(res.Body, &r))
	return r
}

func (a *testApp) rekey(t *testing.T) {
	t.Helper()
	res := a.admin("POST", "/api/admin/hash-keys/rekey", nil)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.Equal(t, true, res.JSON(t)["done"], "%s", res.Body)
}

// storedDigestHexes is the hex part of every digest the brand stores: claim keys, blacklist
// entries, soft-bounce streaks, and every field of its users and contacts that holds one.
func (a *testApp) storedDigestHexes(t *testing.T, brand gdpr.BrandID) map[string]bool {
	t.Helper()
	ctx, st := t.Context(), a.App.Store
	out := map[string]bool{}
	add := func(v string) {
		if i := strings.LastIndexByte(v, ':'); i >= 0 && len(v)-i-1 == 64 {
			out[v[i+1:]] = true
		}
	}
	for after := ""; ; {
		page, err := st.ListClaims(ctx, brand, after, 500)
		require.NoError(t, err)
		for _, c := range page {
			add(c.Key)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Key
	}
	for after := ""; ; {
		page, err := st.ListBlacklist(ctx, brand, after, 500)
		require.NoError(t, err)
		for _, e := range page {
			add(e.Digest)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Digest
	}
	for after := ""; ; {
		page, err := st.ListSoftBounces(ctx, brand, after, 500)
		require.NoError(t, err)
		for _, sb := range page {
			add(sb.Digest)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Digest
	}
	for after := ""; ; {
		page, err := st.ListUsers(ctx, brand, after, 500)
		require.NoError(t, err)
		for _, u := range page {
			for _, v := range []string{u.Email, u.EmailTmp, u.ExternalID, u.CustomerID, u.SocialID, u.IdPExternalID} {
				add(v)
			}
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	for after := ""; ; {
		page, err := st.ListContacts(ctx, brand, after, 500)
		require.NoError(t, err)
		for _, c := range page {
			add(c.Email)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	return out
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestRotationErasesMailOfEveryKeyVersion_R_ERASE_1: erased means gone, across a hash-key
// rotation too. Mail sent before the rotation sits in the outbox under the recipient's h1
// digest; after it (h2 newest, h1 active), a contact the brand's sync deletes, a member the
// brand deletes, and the member's contact erased with it take every copy of their mail with
// them — not only those an h2 digest names.
func TestRotationErasesMailOfEveryKeyVersion_R_ERASE_1(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			env := maps.Clone(be.env(t))
			if env == nil {
				env = map[string]string{}
			}
			env[config.EnvDataDir] = t.TempDir()
			env[config.EnvHashKey] = rotationKey1
			app, stop := launchApp(t, env)
			app.setClock(t, t0)
			app.putBrand("acme", map[string]any{"pro": 2, "webhookSecret": ssoSecret, "contacts": manualEntry["contacts"]})
			const seller, synced, manual = "seller@brand.example", "synced@example.test", "manual@example.test"
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", t0,
				map[string]any{"externalId": "seller-1", "email": seller, "firstName": "Sam"})})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			member := res.JSON(t)["memberId"].(string)
			app.mailSubject(t, subject{user: gdpr.User{BrandID: "acme", ID: member}})

			res = app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync",
				body: `{"batchId":"b-1","contacts":[{"memberId":"` + member + `","email":"` + synced + `"}]}`})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts", map[string]string{"email": manual})
			require.Equal(t, 201, res.Status, "%s", res.Body)
			res = app.admin("GET", "/api/brands/acme/members/"+member+"/contacts", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			var list struct{ Contacts []struct{ ID string } }
			require.NoError(t, json.Unmarshal(res.Body, &list))
			require.Len(t, list.Contacts, 2)
			for _, c := range list.Contacts {
				res = app.admin("POST", "/api/brands/acme/members/"+member+"/contacts/"+c.ID+"/invite", nil)
				require.Equal(t, 202, res.Status, "%s", res.Body)
			}
			app.waitIdle()
			mailedTo := func(app *testApp) map[string]int {
				got := map[string]int{}
				for _, m := range app.mails() {
					got[m.To]++
				}
				return got
			}
			before := mailedTo(app)
			for _, addr := range []string{seller, synced, manual} {
				require.Positive(t, before[addr], "a mail to each address before the rotation")
			}

			stop()
			env[config.EnvHashKeys], env[config.EnvHashKey], env[config.EnvHashKeyID] = "h1:"+rotationKey1, rotationKey2, "h2"
			app, _ = launchApp(t, env)
			app.setClock(t, t0.AddDate(0, 0, 1))

			res = app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync",
				body: `{"batchId":"b-2","contacts":[{"memberId":"` + member + `","email":"` + synced + `","delete":true}]}`})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.EqualValues(t, 1, res.JSON(t)["deleted"], "%s", res.Body)
			app.waitIdle()
			require.Zero(t, mailedTo(app)[synced], "the synced contact's mail, sent under h1, went with its erasure")
			require.Positive(t, mailedTo(app)[seller], "nothing else went with it")

			res = app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.deleted", t0.AddDate(0, 0, 1),
				map[string]any{"externalId": "seller-1"})})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			app.setClock(t, t0.AddDate(0, 0, 10))
			app.sweep(t)
			app.waitUntil(func() bool { return app.erasuresStored(t, "acme") >= 2 })
			app.waitIdle()
			after := mailedTo(app)
			require.Zero(t, after[seller], "the member's own mail, sent under h1, went with its erasure")
			require.Zero(t, after[manual], "its contact's invitation, sent under h1, went with the cascade")
			require.Empty(t, after, "no mail is left in the outbox")
		})
	}
}

// TestRotationKeepsBlacklistAdministration_R_MAIL_1: after a rotation (h2 newest, h1 active,
// no re-keying yet), what main's blacklist administration and requests look up by digest
// still finds what was stored under h1: a lookup says why an address is listed; a removal
// takes the entry off under every form it is listed in (the h1 entry and a later bounce's
// h2 one), each recorded; a complaint is still refused to an admin; a soft-bounce streak
// begun under h1 goes on to its suppression; a data-subject request finds its member by the
// address claimed under h1.
func TestRotationKeepsBlacklistAdministration_R_MAIL_1(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			env := maps.Clone(be.env(t))
			if env == nil {
				env = map[string]string{}
			}
			env[config.EnvDataDir] = t.TempDir()
			env[config.EnvHashKey] = rotationKey1
			app, stop := launchApp(t, env)
			app.setClock(t, t0)
			app.putBrand("acme", map[string]any{"webhookSecret": ssoSecret,
				"mailjetCallback": map[string]string{"username": "mailjet", "password": "acme-callback-password-0123"},
				"mail":            map[string]any{"softBounces": map[string]any{"limit": 2, "window": "P7D"}}})
			const bounced, complained, soft, member = "bounced.rot@example.test", "complained.rot@example.test", "soft.rot@example.test", "member.rot@example.test"
			res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", t0,
				map[string]any{"externalId": "m-rot", "email": member, "firstName": "Ada"})})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			memberID := res.JSON(t)["memberId"].(string)
			at := t0.Add(-time.Hour)
			app.postMailjet(t, mailjetEvent("hard_bounce", bounced, at), mailjetEvent("spam", complained, at),
				mailjetEvent("soft_bounce", soft, at))
			require.Equal(t, false, app.lookup(t, soft)["listed"], "one soft bounce of two")

			stop()
			env[config.EnvHashKeys], env[config.EnvHashKey], env[config.EnvHashKeyID] = "h1:"+rotationKey1, rotationKey2, "h2"
			app, _ = launchApp(t, env)
			app.setClock(t, t0.Add(time.Hour))

			got := app.lookup(t, bounced)
			require.Equal(t, true, got["listed"], "the h1 entry is found")
			require.Equal(t, "hard_bounce", got["reason"])
			require.Equal(t, "spam", app.lookup(t, complained)["reason"])

			app.postMailjet(t, mailjetEvent("hard_bounce", bounced, t0))
			forms := 0
			page, err := app.App.Store.ListBlacklist(t.Context(), "acme", "", 100)
			require.NoError(t, err)
			for _, e := range page {
				if e.Reason == gdpr.BlacklistHardBounce {
					forms++
				}
			}
			require.Equal(t, 2, forms, "the later bounce is listed under h2 beside the h1 entry")
			res = app.admin("DELETE", "/api/admin/brands/acme/blacklist", map[string]string{"email": bounced, "reason": "mailbox_fixed", "requestedBy": "ops-7"})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, map[string]any{"listed": false}, app.lookup(t, bounced), "every form is removed")
			require.Len(t, app.removals(t), 2, "each form's removal recorded")
			res = app.admin("DELETE", "/api/admin/brands/acme/blacklist", map[string]string{"email": complained, "reason": "mailbox_fixed", "requestedBy": "ops-7"})
			require.Equal(t, 409, res.Status, "a complaint under h1 is still the person's to lift: %s", res.Body)

			res = app.do("POST", "/api/brands/acme/mailjet/events", []map[string]any{mailjetEvent("soft_bounce", soft, t0)}, callbackAuth)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, float64(1), res.JSON(t)["suppressed"], "the streak begun under h1 went on: %s", res.Body)
			require.Equal(t, "soft_bounce", app.lookup(t, soft)["reason"])

			got = app.postRequest(t, "acme", map[string]any{"kind": "objection", "email": member}, 201)
			require.Equal(t, memberID, got["subjectId"], "the member is found by its address claimed under h1")

			app.rekey(t)
			report := app.hashKeyReport(t)
			require.Zero(t, report.Forms["h1"].SoftBounces, "no streak left under h1: %+v", report.Forms)
			require.Equal(t, 1, report.Forms["h2.h1"].SoftBounces, "the streak of an address no subject holds is wrapped")
			res = app.do("POST", "/api/brands/acme/mailjet/events", []map[string]any{mailjetEvent("sent", soft, t0.Add(time.Minute))}, callbackAuth)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, false, app.lookup(t, soft)["listed"], "a delivery finds the wrapped streak and lifts the suppression")
		})
	}
}

// TestRotationKeepsALiveExportLink_R_ACCESS_3: an export link made under h1 keeps working
// after the rotation to h2 while h1 is active — the request's GET makes the same link again —
// and ends once h1 is retired (404 for the link, 410 for making it again).
func TestRotationKeepsALiveExportLink_R_ACCESS_3(t *testing.T) {
	env := map[string]string{config.EnvHashKey: rotationKey1, config.EnvDataDir: t.TempDir()}
	app, stop := launchApp(t, env)
	app.setClock(t, t0)
	app.putBrand("shop", nil)
	u := storetest.NewUser("shop")
	u.Status, u.Block, u.Erasure, u.UGC, u.PhotoKey = gdpr.UserActive, nil, nil, nil, ""
	m, err := app.App.Store.CreateUser(t.Context(), u)
	require.NoError(t, err)
	job := gdpr.ExportJob{Brand: "shop", RequestID: "dsar-rot", Scope: gdpr.ExportSubject, SubjectID: m.ID}
	first, err := app.App.ExportService.Produce(t.Context(), job)
	require.NoError(t, err)
	link, err := url.Parse(first.URL)
	require.NoError(t, err)
	require.Equal(t, 200, app.do("GET", link.Path, nil, nil).Status)

	stop()
	env[config.EnvHashKeys], env[config.EnvHashKey], env[config.EnvHashKeyID] = "h1:"+rotationKey1, rotationKey2, "h2"
	app, stop = launchApp(t, env)
	app.setClock(t, t0.Add(time.Hour))
	again, err := app.App.ExportService.Produce(t.Context(), job)
	require.NoError(t, err)
	require.Equal(t, first.URL, again.URL, "the same link, made again under h1")
	res := app.do("GET", link.Path, nil, nil)
	require.Equal(t, 200, res.Status, "the h1 link works while h1 is active: %s", res.Body)

	stop()
	env[config.EnvHashKeysRetired] = "h1"
	app, _ = launchApp(t, env)
	app.setClock(t, t0.Add(2*time.Hour))
	res = app.do("GET", link.Path, nil, nil)
	require.Equal(t, 404, res.Status, "retiring h1 ends its links: %s", res.Body)
	_, err = app.App.ExportService.Produce(t.Context(), job)
	require.Equal(t, gdpr.CodeGone, gdpr.ErrorCode(err), "and the link is not made again")
}
