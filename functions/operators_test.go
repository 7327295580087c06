package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStartupLogNamesTheAdapters: an operator reads from the first line which adapter serves
// each port and whether the process has a test switch on, and no secret.
func TestStartupLogNamesTheAdapters(t *testing.T) {
	want := map[string]map[string]string{
		"embedded":       {"store": "sqlite", "blobs": "folder", "queue": "sqlite", "mail": "outbox"},
		"cosmos+azurite": {"store": "cosmos-emulator", "blobs": "azurite", "queue": "sqlite", "mail": "outbox"},
	}
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		var line struct {
			Msg                 string
			Mode                string
			Adapters            map[string]string
			TestClock, SeedDemo bool
		}
		found := false
		sc := bufio.NewScanner(strings.NewReader(app.logs.String()))
		for sc.Scan() {
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "popsell-gdpr handler listening" {
				found = true
				require.NotContains(t, sc.Text(), testAdminToken)
				require.NotContains(t, sc.Text(), "00112233445566778899aabbccddeeff")
				break
			}
		}
		require.True(t, found, "the handler logs that it listens")
		require.Equal(t, "local", line.Mode)
		require.Equal(t, want[be.name], line.Adapters)
		require.True(t, line.TestClock, "the tests run the test clock, and the log says so")
		require.False(t, line.SeedDemo)

		// The deep health check reaches each of them.
		require.Equal(t, 401, app.do("GET", "/api/health?deep=1", nil, nil).Status)
		res := app.admin("GET", "/api/health?deep=1", nil)
		require.Equal(t, 200, res.Status, "%s", res.Body)
		var health struct{ Checks map[string]string }
		require.NoError(t, json.Unmarshal(res.Body, &health))
		require.Equal(t, map[string]string{"store": "ok", "blobs": "ok", "ledger": "ok", "queue": "ok"}, health.Checks)
	})
}
