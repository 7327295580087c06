package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/merkle"
	"popsell-gdpr/internal/triggers"
)

// TestLedgerThroughTheHost: erasure records appended through the ledger service are sealed
// by the LedgerSeal timer as the host invokes it, listed, proven one by one and exported, in
// the ledger folder of the data directory (R-ERASE-9).
func TestLedgerThroughTheHost(t *testing.T) {
	app := startApp(t, nil)
	app.putBrand("acme", nil)
	ctx := t.Context()
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	require.Equal(t, 200, app.admin("PUT", "/api/admin/test-clock", map[string]any{"now": day}).Status)
	role := gdpr.Role(0)
	for _, id := range []string{"er_b", "er_a", "er_c"} {
		require.NoError(t, app.App.Ledger.Append(ctx, gdpr.ErasureRecord{BrandID: "acme", ID: id, SubjectID: "m_" + id,
			SubjectKind: gdpr.SubjectMember, Role: &role, Rule: "R-ERASE-1", Reason: gdpr.ReasonUnsubscribed,
			RequestedAt: day.Add(-200 * time.Hour), DueAt: day.Add(-time.Hour), DoneAt: day}))
	}

	res := app.admin("GET", "/api/admin/brands/acme/ledger/records/er_a/proof", nil)
	require.Equal(t, 409, res.Status, "no proof before the day is sealed")

	require.Equal(t, 200, app.admin("PUT", "/api/admin/test-clock", map[string]any{"now": day.Add(18 * time.Hour)}).Status)
	host := azfunctest.NewHost(t, app.App.Handler)
	require.NoError(t, host.Invoke(triggers.LedgerSeal, azfunctest.Timer("timer", azfunc.TimerInfo{})).Err())

	res = app.admin("GET", "/api/admin/brands/acme/ledger/seals", nil)
	require.Equal(t, 200, res.Status)
	var seals struct {
		Seals []map[string]any `json:"seals"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &seals))
	require.Len(t, seals.Seals, 1)
	require.Equal(t, map[string]any{"day": "2026-12-01", "count": 3.0, "root": seals.Seals[0]["root"],
		"previous": gdpr.GenesisPrevious}, seals.Seals[0])

	res = app.admin("GET", "/api/admin/brands/acme/ledger/records/er_b/proof", nil)
	require.Equal(t, 200, res.Status)
	var p gdpr.LedgerProof
	require.NoError(t, json.Unmarshal(res.Body, &p))
	require.Equal(t, 1, p.Index, "leaves in record-id order")
	leaf := merkle.LeafHash(p.Record)
	path := make([]merkle.Hash, len(p.Path))
	for i, h := range p.Path {
		var err error
		path[i], err = merkle.ParseHash(h)
		require.NoError(t, err)
	}
	root, err := merkle.ParseHash(seals.Seals[0]["root"].(string))
	require.NoError(t, err)
	require.NoError(t, merkle.VerifyInclusion(leaf, uint64(p.Index), uint64(p.Count), path, root))

	res = app.admin("GET", "/api/admin/brands/acme/ledger/export", nil)
	require.Equal(t, 200, res.Status)
	require.Equal(t, "application/x-ndjson", res.Header.Get("Content-Type"))
	var types []string
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	for sc.Scan() {
		var l gdpr.ExportLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		types = append(types, l.Type)
	}
	require.Equal(t, []string{"ledger", "entry", "entry", "entry", "seal"}, types)

	entries, err := os.ReadDir(filepath.Join(app.App.Config.DataDir, "ledger", "ledger", "acme", "days", "2026-12-01"))
	require.NoError(t, err)
	require.Len(t, entries, 3, "the ledger lives in the data directory, outside the database")

	t.Run("refusals", func(t *testing.T) {
		require.Equal(t, 401, app.do("GET", "/api/admin/brands/acme/ledger/seals", nil, nil).Status)
		require.Equal(t, 401, app.do("GET", "/api/admin/brands/acme/ledger/export", nil, nil).Status)
		require.Equal(t, 404, app.admin("GET", "/api/admin/brands/nobody/ledger/seals", nil).Status)
		require.Equal(t, 404, app.admin("GET", "/api/admin/brands/nobody/ledger/export", nil).Status)
		require.Equal(t, 404, app.admin("GET", "/api/admin/brands/acme/ledger/records/er_zz/proof", nil).Status)
		res := app.admin("GET", "/api/admin/brands/acme/ledger/records/er%20%3Cscript%3E/proof", nil)
		require.Equal(t, 404, res.Status)
		require.False(t, strings.Contains(string(res.Body), "script"), "errors never quote the request")
	})
}

// TestEveryErasureReachesTheLedger (R-ERASE-9): the records the erasure owner writes — a
// member's after its grace period, with its contacts, and a contact the brand's sync
// deleted — are in the ledger as the audit trail stores them, byte for byte, and once
// their day is sealed the offline verifier's inputs prove each.
func TestEveryErasureReachesTheLedger(t *testing.T) {
	app := startApp(t, nil)
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	app.setClock(t, day)
	member := syncMember(t, app) // a direct-selling brand "acme" with one member
	sync := func(body string) response {
		return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync", body: body})
	}
	res := sync(`{"batchId":"s-1","contacts":[{"memberId":"` + member + `","email":"gone@example.test","optIn":true}]}`)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	res = sync(`{"batchId":"s-2","contacts":[{"memberId":"` + member + `","email":"gone@example.test","delete":true}]}`)
	require.Equal(t, 200, res.Status, "%s", res.Body)
	require.EqualValues(t, 1, res.JSON(t)["deleted"])

	res = app.admin("POST", "/api/admin/brands/acme/members/"+member+"/block", map[string]string{"reason": "unsubscribed"})
	require.Equal(t, 200, res.Status, "%s", res.Body)
	app.setClock(t, dueAt(t, res, "block", "dueAt").Add(time.Minute))
	app.sweep(t)

	records := app.erasures(t, "acme")
	require.Len(t, records, 2, "the sync delete and the member")
	res = app.admin("GET", "/api/admin/brands/acme/ledger/export", nil)
	require.Equal(t, 200, res.Status)
	inLedger := map[string]gdpr.ErasureRecord{}
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	for sc.Scan() {
		var l gdpr.ExportLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		if l.Type == "entry" {
			var r gdpr.ErasureRecord
			require.NoError(t, json.Unmarshal(l.Record, &r))
			inLedger[r.ID] = r
		}
	}
	for _, r := range records {
		got, ok := inLedger[r.ID]
		require.True(t, ok, "record %s (%s) is in the ledger", r.ID, r.SubjectKind)
		require.Equal(t, normalizeRecord(r), normalizeRecord(got), "as the audit trail stores it")
	}

	app.setClock(t, app.App.Clock.Now().AddDate(0, 0, 2))
	host := azfunctest.NewHost(t, app.App.Handler)
	require.NoError(t, host.Invoke(triggers.LedgerSeal, azfunctest.Timer("timer", azfunc.TimerInfo{})).Err())
	for _, r := range records {
		res := app.admin("GET", "/api/admin/brands/acme/ledger/records/"+r.ID+"/proof", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
	}
}

// normalizeRecord compares records across their JSON round trips (times in UTC).
func normalizeRecord(r gdpr.ErasureRecord) gdpr.ErasureRecord {
	r.RequestedAt, r.DueAt, r.DoneAt = r.RequestedAt.UTC(), r.DueAt.UTC(), r.DoneAt.UTC()
	return r
}
