package gdpr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// TestRErase1AliasNotErasedOnDeletion: the alias stays when a user is deleted, whatever its
// role, and goes only with the rest of the brand's data at the end of its contract.
// guide (Members data, the alias row): "Data not erased when member is deleted"
func TestRErase1AliasNotErasedOnDeletion(t *testing.T) {
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	for _, role := range []gdpr.Role{gdpr.RoleAmbassador, gdpr.RoleEmployee, gdpr.RoleClient, gdpr.RoleTemporary} {
		u := gdpr.User{BrandID: "b", ID: "m_1", Role: role, Status: gdpr.UserActive, Alias: "Nick", FirstName: "Ada", Email: "ada@example.test"}
		erased, res := gdpr.EraseUser(u, h)
		require.Equal(t, "Nick", erased.Alias, "role %d", role)
		require.NotContains(t, res.FieldsErased, "alias")

		erased, res = gdpr.EraseUserAtContractEnd(u, h)
		require.Empty(t, erased.Alias, "R-ERASE-7: all personal data at the contract end")
		require.Contains(t, res.FieldsErased, "alias")
	}
}
