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

// TestRErase1DisplayNamesGoWithTheNames: SCIM's displayName and name.formatted are names: they
// are erased with the first and last names (roles 0, 7, 8 on deletion, every role at the end
// of the contract) and kept with them for staff while the brand is active. SCIM's spelling of
// userName goes with every erasure; the hashed external id is what comparisons use.
func TestRErase1DisplayNamesGoWithTheNames(t *testing.T) {
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	for _, role := range []gdpr.Role{gdpr.RoleAmbassador, gdpr.RoleEmployee, gdpr.RoleVendor, gdpr.RoleClient, gdpr.RoleTemporary} {
		u := gdpr.User{BrandID: "b", ID: "m_1", Role: role, Status: gdpr.UserActive, FirstName: "Ada", LastName: "Lovelace",
			DisplayName: "Countess Ada", FormattedName: "Augusta Ada King", ExternalID: "alovelace", UserName: "ALovelace"}
		erased, res := gdpr.EraseUser(u, h)
		require.Empty(t, erased.UserName, "role %d: userName's spelling goes", role)
		require.Contains(t, res.FieldsErased, "userName")
		require.Equal(t, h.Digest("alovelace"), erased.ExternalID)
		if role.NamesErasedOnDeletion() {
			require.Empty(t, erased.DisplayName+erased.FormattedName, "role %d", role)
			require.Subset(t, res.FieldsErased, []string{"displayName", "name.formatted"})
		} else {
			require.Equal(t, "Countess Ada", erased.DisplayName, "role %d: kept with the names", role)
			require.Equal(t, "Augusta Ada King", erased.FormattedName)
		}
		erased, res = gdpr.EraseUserAtContractEnd(erased, h)
		require.Empty(t, erased.FirstName+erased.DisplayName+erased.FormattedName+erased.UserName, "R-ERASE-7, role %d", role)
		if !role.NamesErasedOnDeletion() {
			require.Subset(t, res.FieldsErased, []string{"displayName", "name.formatted"})
		}
	}
}
