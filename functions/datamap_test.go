package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDataMapRoute: GET /api/admin/datamap serves the data map to admins only, each field with
// at least its category, erasure per role, export, warehouse action and retention rule.
func TestDataMapRoute(t *testing.T) {
	app := startApp(t, nil)

	require.Equal(t, http.StatusUnauthorized, app.do("GET", "/api/admin/datamap", nil, nil).Status)
	require.Equal(t, http.StatusUnauthorized, app.do("GET", "/api/admin/datamap", nil, header{"Authorization": "Bearer not-the-admin-token"}).Status)

	res := app.do("GET", "/api/admin/datamap", nil, admin)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var body struct {
		Tables []struct {
			Kind    string `json:"kind"`
			Subject bool   `json:"subject"`
			Fields  []struct {
				Path     string `json:"path"`
				Category string `json:"category"`
				Erasure  struct {
					OnDeletion    string `json:"onDeletion"`
					UnderContract string `json:"underContract"`
					AtContractEnd string `json:"atContractEnd"`
				} `json:"erasure"`
				Export    *bool  `json:"export"`
				Warehouse string `json:"warehouse"`
				Retention string `json:"retention"`
				Purpose   string `json:"purpose"`
			} `json:"fields"`
		} `json:"tables"`
		Purposes []struct {
			Purpose     string `json:"purpose"`
			Description string `json:"description"`
		} `json:"purposes"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &body))
	require.NotEmpty(t, body.Purposes)

	fields := map[string]map[string]bool{}
	for _, table := range body.Tables {
		fields[table.Kind] = map[string]bool{}
		for _, f := range table.Fields {
			fields[table.Kind][f.Path] = true
			require.NotEmpty(t, f.Category, "%s.%s", table.Kind, f.Path)
			require.NotEmpty(t, f.Erasure.OnDeletion, "%s.%s", table.Kind, f.Path)
			require.NotEmpty(t, f.Erasure.AtContractEnd, "%s.%s", table.Kind, f.Path)
			require.NotNil(t, f.Export, "%s.%s", table.Kind, f.Path)
			require.NotEmpty(t, f.Warehouse, "%s.%s", table.Kind, f.Path)
			require.NotEmpty(t, f.Retention, "%s.%s", table.Kind, f.Path)
			require.NotEmpty(t, f.Purpose, "%s.%s", table.Kind, f.Path)
		}
		// R-ERASE-1: a member's names stay for roles 1 to 6 and go for role 0.
		if table.Kind == "member" {
			for _, f := range table.Fields {
				if f.Path == "firstName" {
					require.Equal(t, "erase", f.Erasure.OnDeletion)
					require.Equal(t, "keep", f.Erasure.UnderContract)
					require.Equal(t, "erase", f.Erasure.AtContractEnd)
					require.Equal(t, "user.name.first", f.Category)
				}
			}
		}
	}
	for kind, path := range map[string]string{"member": "email", "external": "emailTmp", "contact": "sales[].products[].sku"} {
		require.True(t, fields[kind][path], "%s.%s", kind, path)
	}
}
