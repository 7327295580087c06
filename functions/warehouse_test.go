package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/triggers"
	"popsell-gdpr/internal/warehouse/warehousetest"
)

// warehouseReader reads the warehouse's files where the app writes them.
type warehouseReader interface {
	Get(ctx context.Context, key string) ([]byte, error)
	List(ctx context.Context, prefix string) ([]string, error)
}

// warehouse opens what the warehouse team reads: the data directory's warehouse folder, or
// the app's warehouse container on Azurite.
func (a *testApp) warehouse(t *testing.T) warehouseReader {
	t.Helper()
	if conn := a.App.Config.Blob.ConnectionString; conn != "" {
		s, err := blobstore.NewAzureFromConnectionString(conn, a.App.Config.Blob.Container+"-"+WarehouseContainer)
		require.NoError(t, err)
		return s
	}
	return blobstore.NewFolder(filepath.Join(a.App.Config.DataDir, "warehouse"))
}

func (a *testApp) exportWarehouse(t *testing.T) {
	t.Helper()
	res := azfunctest.NewHost(t, a.App.Handler).Invoke(triggers.WarehouseExport, azfunctest.Timer("timer", azfunc.TimerInfo{}))
	require.NoError(t, res.Err())
}

func (a *testApp) warehouseRows(t *testing.T, day, brand, table string) []map[string]any {
	t.Helper()
	data, err := a.warehouse(t).Get(t.Context(), gdpr.WarehouseFileKey(day, gdpr.BrandID(brand), table))
	require.NoError(t, err)
	f, err := warehousetest.Read(data)
	require.NoError(t, err)
	require.Equal(t, gdpr.WarehouseSchemaVersion, f.Metadata["popsell.schema_version"])
	return f.Rows
}

// TestWarehouseErasurePropagates_R_DWH_3: the export, run through the host as its timer is,
// shows a member and its contacts; once they are erased, the next day's export shows their
// erased rows, and the day before is gone from the warehouse. On both stores.
func TestWarehouseErasurePropagates_R_DWH_3(t *testing.T) {
	forEachBackend(t, func(t *testing.T, app *testApp, be backend) {
		app.setClock(t, t0)
		app.putBrand("wh", map[string]any{"pro": 0})
		s := app.seedSubject(t, "wh", gdpr.RoleAmbassador)
		app.exportWarehouse(t)
		day0 := t0.Format("2006-01-02")
		member := findRow(t, app.warehouseRows(t, day0, "wh", gdpr.TableMembers), "first_name", s.user.FirstName)
		require.Equal(t, s.user.Alias, member["alias"], "R-DWH-1: members' alias")
		require.EqualValues(t, 1990, member["date_of_birth_year"])
		contacts := app.warehouseRows(t, day0, "wh", gdpr.TableContacts)
		require.Len(t, contacts, len(s.contacts))
		for _, c := range contacts {
			require.Equal(t, member["id"], c["member_id"], "a contact joins its member")
			require.Nil(t, c["erased_at"])
		}

		res := app.admin("POST", "/api/admin/brands/wh/members/"+s.user.ID+"/block", map[string]string{"reason": "unsubscribed"})
		require.Equal(t, 200, res.Status, "%s", res.Body)
		later := t0.AddDate(0, 0, 8)
		app.setClock(t, later)
		app.sweep(t)
		u, err := app.App.Store.GetUser(t.Context(), "wh", s.user.ID)
		require.NoError(t, err)
		require.Equal(t, gdpr.UserErased, u.Status)

		app.exportWarehouse(t)
		day1 := later.Format("2006-01-02")
		members := app.warehouseRows(t, day1, "wh", gdpr.TableMembers)
		erased := findRow(t, members, "id", member["id"].(string))
		require.Equal(t, string(gdpr.UserErased), erased["status"])
		require.Nil(t, erased["first_name"], "R-ERASE-1: an ambassador's names are erased, in the warehouse too")
		require.Nil(t, erased["last_name"])
		require.Equal(t, s.user.Alias, erased["alias"], "the alias stays until the contract ends (R-ERASE-1)")
		for _, r := range members {
			require.NotEqual(t, s.user.FirstName, r["first_name"])
		}
		kept := 0
		for _, c := range app.warehouseRows(t, day1, "wh", gdpr.TableContacts) {
			if c["erased_at"] == nil {
				kept++
				require.Equal(t, string(gdpr.BrandOptInDatabase), c["brand_opt_in_value"], "only the contact with a Brand opt-in stays (R-ERASE-6)")
			}
		}
		require.Equal(t, 1, kept)

		keys, err := app.warehouse(t).List(t.Context(), "")
		require.NoError(t, err)
		require.Contains(t, keys, gdpr.WarehouseDayPrefix(day1)+gdpr.WarehouseManifestName)
		for _, k := range keys {
			require.True(t, strings.HasPrefix(k, gdpr.WarehouseDayPrefix(day1)), "%s: yesterday's files are gone (R-DWH-3)", k)
		}
	})
}

func findRow(t *testing.T, rows []map[string]any, col, value string) map[string]any {
	t.Helper()
	for _, r := range rows {
		if r[col] == value {
			return r
		}
	}
	t.Fatalf("no row with the %s sought among %d", col, len(rows))
	return nil
}
