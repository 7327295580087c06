package gdpr

import "fmt"

// Role of a user (R-ROLE). 0–6 are Members (app access); 7 and 8 are external users of the
// widgets.
type Role int

const (
	RoleAmbassador    Role = 0
	RoleEmployee      Role = 1
	RoleAdministrator Role = 2
	RoleVendor        Role = 3
	RoleShopManager   Role = 4
	RoleManager       Role = 5
	RoleExpert        Role = 6
	RoleClient        Role = 7 // external
	RoleTemporary     Role = 8 // external, temporary account
)

var roleNames = [...]string{"ambassador", "employee", "administrator", "vendor", "shop_manager", "manager", "expert", "client", "temporary"}

func (r Role) Valid() bool { return r >= RoleAmbassador && r <= RoleTemporary }

func (r Role) String() string {
	if !r.Valid() {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// External reports the widget roles (7, 8): their email lives in email_tmp (R-DATA-2).
func (r Role) External() bool { return r == RoleClient || r == RoleTemporary }

// UnderContractRole reports the member roles 1 to 6, which a Brand grants (SSO, SCIM, the admin
// API, a whitelist entry with a role) and the public signup form never does (R-SIGNUP-8).
func (r Role) UnderContractRole() bool { return r >= RoleEmployee && r <= RoleExpert }

// Kind is the subject kind of a user with this role.
func (r Role) Kind() SubjectKind {
	if r.External() {
		return SubjectExternal
	}
	return SubjectMember
}

// NamesErasedOnDeletion: first and last names are erased for roles 0, 7 and 8 only; the other
// roles work under contract with the Brand, which keeps their names (R-ERASE-1, R-ROLE).
func (r Role) NamesErasedOnDeletion() bool {
	return r == RoleAmbassador || r == RoleClient || r == RoleTemporary
}

// UnderContract reports whether a user of this role works under contract with the Brand, which
// for vendors depends on the Brand's scenario (R-ROLE).
func (r Role) UnderContract(pro Pro) bool {
	switch r {
	case RoleEmployee, RoleAdministrator, RoleShopManager, RoleManager, RoleExpert:
		return true
	case RoleVendor:
		return !pro.Selective()
	default:
		return false
	}
}

// Pro is the Brand's scenario, the guide's "pro" field: 0 classic, 2 direct selling, 3 and 4
// selective sale. 1 is not defined by the guide and is refused.
type Pro int

const (
	ProClassic       Pro = 0
	ProDirectSelling Pro = 2
	ProSelective     Pro = 3
	ProSelective2    Pro = 4
)

func (p Pro) Valid() bool {
	return p == ProClassic || p == ProDirectSelling || p == ProSelective || p == ProSelective2
}

// Selective reports the selective-sale scenarios, whose vendors are not anonymised
// automatically (R-ROLE, R-RET-1).
func (p Pro) Selective() bool { return p == ProSelective || p == ProSelective2 }

// SubjectKind classifies data subjects in audit records and jobs.
type SubjectKind string

const (
	SubjectMember   SubjectKind = "member"
	SubjectExternal SubjectKind = "external"
	SubjectContact  SubjectKind = "contact"
)

func (k SubjectKind) Valid() bool {
	return k == SubjectMember || k == SubjectExternal || k == SubjectContact
}
