package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/config"
	"popsell-gdpr/internal/cosmosstore"
	"popsell-gdpr/internal/gdpr"
)

// TestRestoreNeverBringsAnErasedPersonBack_R_ERASE_9 is the test, on both stores:
// take a backup, erase 10 members with their contacts and 10 contacts on their own through
// the real paths, put the backup back, start again. The app refuses to serve (503) until the
// replay; after it no erased value is readable in the store (nor, embedded, in any file of
// the data directory), and a second replay changes nothing.
//
// The embedded store's backup is a copy of its database files (popsell.db and its -wal and
// -shm), never of ledger/, taken with the app stopped. Cosmos DB's point-in-time restore
// writes a new account; its simulation copies, through the store's API, the brand, its users,
// contacts and audit records as they were into a new database the app is then pointed at
// (claims have no listing, so they are not copied: the erasure's release of them finds
// none, which it allows).
func TestRestoreNeverBringsAnErasedPersonBack_R_ERASE_9(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			env := maps.Clone(be.env(t))
			if env == nil {
				env = map[string]string{}
			}
			dir := t.TempDir()
			env[config.EnvDataDir] = dir
			app, stop := launchApp(t, env)
			app.setClock(t, t0)
			member := syncMember(t, app) // a direct-selling brand "acme" with one member
			var subjects []subject
			var secrets []string
			for range 10 {
				s := app.seedSubject(t, "acme", gdpr.RoleAmbassador)
				subjects, secrets = append(subjects, s), append(secrets, s.secrets...)
			}
			var created, deleted []string
			for i := range 10 {
				email := fmt.Sprintf("restore-own%d.%s@example.test", i, strings.ToLower(member[len(member)-6:]))
				created = append(created, `{"memberId":"`+member+`","email":"`+email+`","optIn":true}`)
				deleted = append(deleted, `{"memberId":"`+member+`","email":"`+email+`","delete":true}`)
				secrets = append(secrets, email)
			}
			sync := func(batch string, entries []string) response {
				return app.sendWebhook("acme", signedWebhook{secret: ssoSecret, path: "contacts/sync",
					body: `{"batchId":"` + batch + `","contacts":[` + strings.Join(entries, ",") + `]}`})
			}
			res := sync("r-1", created)
			require.Equal(t, 200, res.Status, "%s", res.Body)

			// The backup.
			var snapshot func(env map[string]string) map[string]string
			if be.embedded {
				stop()
				backup := copyStoreFiles(t, dir, t.TempDir())
				snapshot = func(env map[string]string) map[string]string {
					for _, suffix := range []string{"", "-wal", "-shm"} {
						require.NoError(t, removeIfPresent(filepath.Join(dir, "popsell.db"+suffix)))
					}
					copyStoreFiles(t, backup, dir)
					return env
				}
				app, stop = launchApp(t, env)
				app.setClock(t, t0)
			} else {
				snapshot = cosmosSnapshot(t, app, "acme")
			}

			// The erasures, through the real paths.
			for _, s := range subjects {
				res := app.admin("POST", "/api/admin/brands/acme/members/"+s.user.ID+"/block", map[string]string{"reason": "unsubscribed"})
				require.Equal(t, 200, res.Status, "%s", res.Body)
			}
			res = sync("r-2", deleted)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.EqualValues(t, 10, res.JSON(t)["deleted"])
			app.setClock(t, t0.AddDate(0, 0, 8))
			app.sweep(t)
			app.waitUntil(func() bool { return len(app.erasures(t, "acme")) == 20 })
			before := app.erasures(t, "acme")

			// The restore: the backup put back, the app started on it.
			stop()
			app, _ = launchApp(t, snapshot(env))
			require.Zero(t, app.erasuresStored(t, "acme"), "the backup predates the erasures")
			for _, path := range []string{"/api/health", "/api/brands/acme/members/" + member + "/contacts"} {
				res := app.admin("GET", path, nil)
				require.Equal(t, 503, res.Status, "%s: %s", path, res.Body)
				require.Equal(t, "restore_replay_pending", res.errorCode(t))
				require.Equal(t, "60", res.Header.Get("Retry-After"))
			}
			require.Equal(t, 200, app.do("GET", "/", nil, nil).Status, "the readiness answer is served")
			res = app.admin("GET", "/api/admin/restore", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.Equal(t, true, res.JSON(t)["pending"])

			res = app.admin("POST", "/api/admin/restore/replay", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			var replay struct {
				Replayed []gdpr.ReplayReport
				Pending  bool
			}
			require.NoError(t, json.Unmarshal(res.Body, &replay))
			require.False(t, replay.Pending)
			require.Len(t, replay.Replayed, 1)
			require.Equal(t, gdpr.ReplayReport{BrandID: "acme", From: replay.Replayed[0].From, Records: 20, Restored: 20}, replay.Replayed[0])
			require.Equal(t, 200, app.admin("GET", "/api/health", nil).Status, "served again")
			app.waitIdle()

			after := app.erasures(t, "acme")
			require.Equal(t, normalizeRecords(before), normalizeRecords(after), "the audit trail holds the ledger's records")
			for _, s := range subjects {
				u := app.user(t, s)
				require.Equal(t, gdpr.UserErased, u.Status)
				requireErasedPerR_ERASE_1(t, app, s.user, u)
			}
			state := app.storedState(t, "acme")
			for _, secret := range secrets {
				require.NotContains(t, state, secret, "an erased value is back in the store")
				if be.embedded {
					requireNoFileContains(t, dir, secret, "")
				}
			}

			res = app.admin("POST", "/api/admin/restore/replay", nil)
			require.Equal(t, 200, res.Status, "%s", res.Body)
			require.NoError(t, json.Unmarshal(res.Body, &replay))
			require.Empty(t, replay.Replayed, "a second replay finds nothing to do")
			app.waitIdle()
			require.Equal(t, state, app.storedState(t, "acme"), "a second replay changes nothing")
		})
	}
}

// erasuresStored counts the brand's audit records through the store, which a pending replay
// does not refuse.
func (a *testApp) erasuresStored(t *testing.T, brand gdpr.BrandID) int {
	t.Helper()
	rs, err := a.App.Store.ListErasures(t.Context(), brand, "", 1000)
	require.NoError(t, err)
	return len(rs)
}

// storedState is the brand's users, contacts and audit records as stored, without versions.
func (a *testApp) storedState(t *testing.T, brand gdpr.BrandID) string {
	t.Helper()
	ctx := t.Context()
	users, err := a.App.Store.ListUsers(ctx, brand, "", 1000)
	require.NoError(t, err)
	contacts, err := a.App.Store.ListContacts(ctx, brand, "", 1000)
	require.NoError(t, err)
	records, err := a.App.Store.ListErasures(ctx, brand, "", 1000)
	require.NoError(t, err)
	for i := range users {
		users[i].Version = ""
	}
	for i := range contacts {
		contacts[i].Version = ""
	}
	b, err := json.Marshal(map[string]any{"users": users, "contacts": contacts, "records": normalizeRecords(records)})
	require.NoError(t, err)
	return string(b)
}

func normalizeRecords(rs []gdpr.ErasureRecord) []gdpr.ErasureRecord {
	out := make([]gdpr.ErasureRecord, len(rs))
	for i, r := range rs {
		out[i] = normalizeRecord(r)
	}
	return out
}

// copyStoreFiles copies the embedded store's database files, those present, from one
// directory to another, and answers the second.
func copyStoreFiles(t *testing.T, from, to string) string {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		src, err := os.Open(filepath.Join(from, "popsell.db"+suffix))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		dst, err := os.OpenFile(filepath.Join(to, "popsell.db"+suffix), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		require.NoError(t, err)
		_, err = io.Copy(dst, src)
		require.NoError(t, err)
		require.NoError(t, src.Close())
		require.NoError(t, dst.Close())
	}
	return to
}

func removeIfPresent(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// cosmosSnapshot reads the brand's documents now, through the store's API, and answers what
// writes them into a new database and points the app's settings at it: a point-in-time
// restore into a new account.
func cosmosSnapshot(t *testing.T, app *testApp, brand gdpr.BrandID) func(env map[string]string) map[string]string {
	t.Helper()
	ctx := t.Context()
	s := app.App.Store
	b, err := s.GetBrand(ctx, brand)
	require.NoError(t, err)
	users, err := s.ListUsers(ctx, brand, "", 1000)
	require.NoError(t, err)
	contacts, err := s.ListContacts(ctx, brand, "", 1000)
	require.NoError(t, err)
	records, err := s.ListErasures(ctx, brand, "", 1000)
	require.NoError(t, err)
	return func(env map[string]string) map[string]string {
		env = maps.Clone(env)
		env[config.EnvCosmosDatabase] = env[config.EnvCosmosDatabase] + "-restored"
		client, err := cosmosstore.NewClientWithKey(env[config.EnvCosmosEndpoint], env[config.EnvCosmosKey])
		require.NoError(t, err)
		restored, err := cosmosstore.New(client, env[config.EnvCosmosDatabase])
		require.NoError(t, err)
		require.NoError(t, restored.EnsureSchema(ctx))
		b.Version = ""
		_, err = restored.PutBrand(ctx, b)
		require.NoError(t, err)
		for _, u := range users {
			_, err := restored.CreateUser(ctx, u)
			require.NoError(t, err)
		}
		for _, c := range contacts {
			_, err := restored.CreateContact(ctx, c)
			require.NoError(t, err)
		}
		if len(records) > 0 {
			_, err = restored.PutErasures(ctx, brand, records)
			require.NoError(t, err)
		}
		return env
	}
}
