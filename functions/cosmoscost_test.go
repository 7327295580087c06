package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/cosmosstore"
)

// cosmosCost is one operation of the cost table: the Cosmos DB requests it needs at least
// (its floor), and what it sent before the brand cache and the conditional creates.
type cosmosCost struct {
	name          string
	floor, before int
}

// costRepeats is how many times each operation is measured: every run must keep to the bound,
// the first included (the brand cache was warmed by the operations before).
const costRepeats = 3

// TestCosmosRequestsPerOperation counts, under the Cosmos DB client, the requests each
// operation of the cost table sends on the emulator, and holds each to its floor + 1 (issue
// #22). It counts requests on documents, never times them: the client's own metadata lookups
// (the account, once per process) are reported apart, and are not charged to the database's
// throughput on Azure.
func TestCosmosRequestsPerOperation(t *testing.T) {
	env := backends[1].env(t) // skips outside CI without the emulators, fails in CI
	counter := &cosmosstore.RequestCounter{}
	app, _ := launchConfiguredApp(t, env, func(a *App) {
		a.cosmosPolicies = append(a.cosmosPolicies, counter)
		a.brandCacheTTL = time.Hour // the steady state, whatever the machine's speed; the cache's own tests expire it
	})
	app.putBrand("acme", map[string]any{"pro": 2, "webhookSecret": ssoSecret, "scimToken": scimToken,
		"contacts": manualEntry["contacts"]})
	member := syncMember(t, app) // also warms the client: its account lookup is counted here

	measured := map[string][]cosmosstore.RequestCounts{}
	measureOnce := func(name string, op func()) {
		t.Helper()
		app.waitIdle()
		counter.Take()
		op()
		app.waitIdle()
		measured[name] = append(measured[name], counter.Take())
	}
	measure := func(name string, op func(run int)) {
		t.Helper()
		for run := range costRepeats {
			measureOnce(name, func() { op(run) })
		}
	}

	measure("retention sweep, nothing due", func(int) { app.sweep(t) })

	people := make([]fakePerson, costRepeats)
	measure("signup + its mail job", func(run int) {
		people[run] = newFakePerson()
		res := app.do("POST", "/api/brands/acme/signup", people[run].signup(), nil)
		require.Equal(t, 202, res.Status, "%s", res.Body)
	})
	tokens := make([]string, costRepeats)
	for i, p := range people {
		tokens[i] = app.confirmationToken(p)
	}
	members := make([]string, costRepeats)
	measure("confirm", func(run int) {
		res := app.do("POST", "/api/brands/acme/signup/confirm", map[string]string{"token": tokens[run]}, nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		members[run] = res.JSON(t)["memberId"].(string)
	})
	// Each member is blocked, then its erasure job alone comes due and local mode's queue
	// hands it to the worker as a batch of one, as the host would. Before each block the clock
	// moves a season on and what came due runs first, so that nothing else is due with it.
	season := nowUTC()
	for _, id := range members {
		season = season.AddDate(0, 3, 0)
		app.setClock(t, season)
		app.waitIdle()
		var due time.Time
		measureOnce("block", func() {
			res := app.admin("POST", "/api/admin/brands/acme/members/"+id+"/block", map[string]string{"reason": "unsubscribed"})
			require.Equal(t, 200, res.Status, "%s", res.Body)
			due = dueAt(t, res, "block", "dueAt")
		})
		measureOnce("erasure, one job per invocation", func() {
			app.setClock(t, due.Add(time.Minute))
			app.waitIdle()
		})
		res := app.admin("GET", "/api/admin/brands/acme/erasures", nil)
		require.Contains(t, string(res.Body), id, "the member was erased")
	}

	measure("SSO webhook, new member", func(run int) {
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
			upsertData(fmt.Sprintf("cost-sso-%d", run), fmt.Sprintf("cost.sso.%d@example.test", run), "Ada"))})
		require.Equal(t, 200, res.Status, "%s", res.Body)
	})
	measure("SSO webhook, existing member", func(run int) {
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, body: ssoBody("user.upserted", nowUTC(),
			upsertData(fmt.Sprintf("cost-sso-%d", run), fmt.Sprintf("cost.sso.%d@example.test", run), "Grace"))})
		require.Equal(t, 200, res.Status, "%s", res.Body)
	})
	measure("SCIM POST /Users", func(run int) {
		res := app.scim("POST", "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"cost-scim-%d","userName":"cost.scim.%d@example.test","name":{"givenName":"Ada"},"emails":[{"value":"cost.scim.%d@example.test","primary":true}]}`, run, run, run))
		require.Equal(t, 201, res.Status, "%s", res.Body)
	})
	measure("SCIM filter userName eq", func(run int) {
		require.Len(t, scimList(t, app.scim("GET", fmt.Sprintf("/Users?filter=userName+eq+%%22cost.scim.%d%%40example.test%%22", run), "")), 1)
	})
	measure("signed order, new contact", func(run int) {
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "orders",
			body: orderBody(fmt.Sprintf("cost-order-%d", run), member, fmt.Sprintf("cost.order.%d@example.test", run), true)})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		require.Equal(t, "contact_created", res.JSON(t)["outcome"])
	})
	measure("contact sync, 100 new contacts", func(run int) {
		entries := make([]string, 100)
		for i := range entries {
			entries[i] = fmt.Sprintf(`{"memberId":%q,"email":"cost.sync.%d.%d@example.test","optIn":true}`, member, run, i)
		}
		res := app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync",
			body: fmt.Sprintf(`{"batchId":"cost-sync-%d","contacts":[%s]}`, run, strings.Join(entries, ","))})
		require.Equal(t, 200, res.Status, "%s", res.Body)
	})

	for _, op := range cosmosCosts {
		runs := measured[op.name]
		require.Len(t, runs, costRepeats, "%s was measured", op.name)
		for i, rc := range runs {
			b, _ := json.Marshal(rc)
			t.Logf("%-32s run %d: %3d requests (%3d reads, %3d writes), floor %d, before %d: %s",
				op.name, i, rc.Documents(), rc.Reads(), rc.Writes(), op.floor, op.before, b)
			require.LessOrEqual(t, rc.Documents(), op.bound(), "%s, run %d: %s", op.name, i, b)
		}
	}
}

// cosmosCosts are the operations of the cost table (issue #22): the requests each needs at
// least, and what each sent before the brand cache and the conditional creates, as this test
// counted them then.
var cosmosCosts = []cosmosCost{
	{name: "signup + its mail job", floor: 8, before: 11},
	{name: "confirm", floor: 4, before: 5},
	{name: "block", floor: 2, before: 3},
	// 6, and one query for the erased subjects' live exports, deleted as a step of the
	// erasure since issue 21's round (one query per batch of erasures, not per subject).
	{name: "erasure, one job per invocation", floor: 7, before: 8},
	// 3 for the brands, the due users and the due contacts, then one query each for the
	// brand's open data-subject requests and its live exports (#19).
	{name: "retention sweep, nothing due", floor: 5, before: 4},
	{name: "SSO webhook, new member", floor: 5, before: 8},
	{name: "SSO webhook, existing member", floor: 4, before: 7},
	{name: "SCIM POST /Users", floor: 3, before: 6},
	{name: "SCIM filter userName eq", floor: 2, before: 4},
	{name: "signed order, new contact", floor: 6, before: 11},
	{name: "contact sync, 100 new contacts", floor: 401, before: 405},
}

// bound is the most requests the operation may send.
func (c cosmosCost) bound() int { return c.floor + 1 }
