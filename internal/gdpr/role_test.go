package gdpr_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// The R-ROLE table of REQUIREMENTS.md, row by row.
func TestRoleTable(t *testing.T) {
	tests := []struct {
		name        string
		role        gdpr.Role
		str         string
		external    bool
		namesErased bool
		kind        gdpr.SubjectKind
	}{
		{"R-ROLE_0_ambassador", gdpr.RoleAmbassador, "ambassador", false, true, gdpr.SubjectMember},
		{"R-ROLE_1_employee", gdpr.RoleEmployee, "employee", false, false, gdpr.SubjectMember},
		{"R-ROLE_2_administrator", gdpr.RoleAdministrator, "administrator", false, false, gdpr.SubjectMember},
		{"R-ROLE_3_vendor", gdpr.RoleVendor, "vendor", false, false, gdpr.SubjectMember},
		{"R-ROLE_4_shop_manager", gdpr.RoleShopManager, "shop_manager", false, false, gdpr.SubjectMember},
		{"R-ROLE_5_manager", gdpr.RoleManager, "manager", false, false, gdpr.SubjectMember},
		{"R-ROLE_6_expert", gdpr.RoleExpert, "expert", false, false, gdpr.SubjectMember},
		{"R-ROLE_7_client_external", gdpr.RoleClient, "client", true, true, gdpr.SubjectExternal},
		{"R-ROLE_8_temporary_external", gdpr.RoleTemporary, "temporary", true, true, gdpr.SubjectExternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.True(t, tt.role.Valid())
			require.Equal(t, tt.str, tt.role.String())
			require.Equal(t, tt.external, tt.role.External(), "External")
			require.Equal(t, tt.namesErased, tt.role.NamesErasedOnDeletion(), "R-ERASE-1 NamesErasedOnDeletion")
			require.Equal(t, tt.kind, tt.role.Kind(), "Kind")
		})
	}

	t.Run("R-ROLE_numbers_are_the_guide's", func(t *testing.T) {
		for want, r := range []gdpr.Role{
			gdpr.RoleAmbassador, gdpr.RoleEmployee, gdpr.RoleAdministrator, gdpr.RoleVendor,
			gdpr.RoleShopManager, gdpr.RoleManager, gdpr.RoleExpert, gdpr.RoleClient, gdpr.RoleTemporary,
		} {
			require.Equal(t, want, int(r))
		}
	})

	t.Run("R-ERASE-1_names_erased_exactly_for_0_7_8", func(t *testing.T) {
		for r := gdpr.Role(-2); r <= 12; r++ {
			want := r == 0 || r == 7 || r == 8
			require.Equal(t, want, r.NamesErasedOnDeletion(), "role %d", int(r))
		}
	})

	t.Run("R-ROLE_invalid_roles", func(t *testing.T) {
		for _, r := range []gdpr.Role{-1, 9, 100} {
			require.False(t, r.Valid(), "role %d", int(r))
			require.False(t, r.External(), "role %d", int(r))
			require.Contains(t, r.String(), "role(")
		}
	})
}

func TestRoleUnderContract(t *testing.T) {
	pros := []gdpr.Pro{gdpr.ProClassic, gdpr.ProDirectSelling, gdpr.ProSelective, gdpr.ProSelective2}
	tests := []struct {
		name string
		role gdpr.Role
		want func(gdpr.Pro) bool
	}{
		{"R-ROLE_0_ambassador_never", gdpr.RoleAmbassador, func(gdpr.Pro) bool { return false }},
		{"R-ROLE_1_employee_always", gdpr.RoleEmployee, func(gdpr.Pro) bool { return true }},
		{"R-ROLE_2_administrator_always", gdpr.RoleAdministrator, func(gdpr.Pro) bool { return true }},
		{"R-ROLE_3_vendor_unless_selective_sale", gdpr.RoleVendor, func(p gdpr.Pro) bool { return p == 0 || p == 2 }},
		{"R-ROLE_4_shop_manager_always", gdpr.RoleShopManager, func(gdpr.Pro) bool { return true }},
		{"R-ROLE_5_manager_always", gdpr.RoleManager, func(gdpr.Pro) bool { return true }},
		{"R-ROLE_6_expert_always", gdpr.RoleExpert, func(gdpr.Pro) bool { return true }},
		{"R-ROLE_7_client_never", gdpr.RoleClient, func(gdpr.Pro) bool { return false }},
		{"R-ROLE_8_temporary_never", gdpr.RoleTemporary, func(gdpr.Pro) bool { return false }},
	}
	for _, tt := range tests {
		for _, pro := range pros {
			t.Run(fmt.Sprintf("%s/pro_%d", tt.name, pro), func(t *testing.T) {
				require.Equal(t, tt.want(pro), tt.role.UnderContract(pro))
			})
		}
	}

	t.Run("R-ROLE_3_vendor_explicit_cases", func(t *testing.T) {
		require.True(t, gdpr.RoleVendor.UnderContract(0), "classic")
		require.True(t, gdpr.RoleVendor.UnderContract(2), "direct selling")
		require.False(t, gdpr.RoleVendor.UnderContract(3), "selective sale")
		require.False(t, gdpr.RoleVendor.UnderContract(4), "selective sale")
	})
}

func TestProValid(t *testing.T) {
	tests := []struct {
		name             string
		pro              gdpr.Pro
		valid, selective bool
	}{
		{"R-ROLE_pro_0_classic", 0, true, false},
		{"R-ROLE_pro_1_undefined_by_the_guide", 1, false, false},
		{"R-ROLE_pro_2_direct_selling", 2, true, false},
		{"R-ROLE_pro_3_selective_sale", 3, true, true},
		{"R-ROLE_pro_4_selective_sale", 4, true, true},
		{"R-ROLE_pro_5_unknown", 5, false, false},
		{"R-ROLE_pro_negative", -1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.valid, tt.pro.Valid())
			require.Equal(t, tt.selective, tt.pro.Selective())
		})
	}
}

func TestSubjectKindValid(t *testing.T) {
	for _, k := range []gdpr.SubjectKind{gdpr.SubjectMember, gdpr.SubjectExternal, gdpr.SubjectContact} {
		t.Run("R-ERASE-9_"+string(k), func(t *testing.T) { require.True(t, k.Valid()) })
	}
	for _, k := range []gdpr.SubjectKind{"", "Member", "user", "brand"} {
		t.Run("R-ERASE-9_invalid_"+string(k), func(t *testing.T) { require.False(t, k.Valid()) })
	}
}
