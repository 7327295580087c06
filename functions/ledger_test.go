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
