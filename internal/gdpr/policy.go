package gdpr

import (
	"slices"
	"time"
)

// ErasureResult is what the erasure policy did to one subject: field names only, never
// values, for the audit record (R-ERASE-9).
type ErasureResult struct {
	FieldsErased []string
	FieldsHashed []string
	Blobs        []string // blob keys to delete (R-ERASE-1 profile photo, R-ERASE-2 UGC)
}

// EraseUser applies R-ERASE-1 and R-ERASE-2 to a user and returns it erased, with what was
// done. It is pure and idempotent: erasing an erased user changes nothing more.
//
// Per field: names (with the display name and formatted name an identity provider sent, and
// the title and position that go with them) are erased for roles 0, 7 and 8 only, the other
// roles working under contract with the Brand; the alias is kept for every role (the guide's
// field table: "Data not erased when member is deleted"); email, email_tmp, customer id,
// social id and SSO external id are hashed so they can still be compared (blacklists, a
// repeated SSO delete) but never read, and SCIM's spelling of the external id (userName) is
// erased; the password is erased; the address keeps city and postal code only; the date of
// birth keeps its year; the profile photo and the UGC not collected under a contest are
// deleted; description, phone, activity timestamps and opt-ins are erased; the creation date
// and the T&C record are kept.
func EraseUser(u User, h *Hasher) (User, ErasureResult) {
	return eraseUser(u, h, u.Role.NamesErasedOnDeletion(), false)
}

// EraseUserAtContractEnd is EraseUser at the end of the brand's contract: the names of roles
// 1–6 are kept only "as long as the Brand has an active platform" (R-ERASE-1, R-ERASE-7), so
// they go for every role, and the alias with them. Applied to a user erased earlier, it
// erases what that erasure kept.
func EraseUserAtContractEnd(u User, h *Hasher) (User, ErasureResult) {
	return eraseUser(u, h, true, true)
}

// eraseUser erases the names (with title and position) if names, and the alias if alias.
func eraseUser(u User, h *Hasher, names, alias bool) (User, ErasureResult) {
	var r ErasureResult
	erase := func(name string, v *string) {
		if *v != "" {
			*v = ""
			r.FieldsErased = append(r.FieldsErased, name)
		}
	}
	hash := func(name string, v *string, digest func(string) string) {
		if *v != "" && !h.IsDigest(*v) {
			*v = digest(*v)
			r.FieldsHashed = append(r.FieldsHashed, name)
		}
	}
	if names {
		erase("firstName", &u.FirstName)
		erase("lastName", &u.LastName)
		erase("displayName", &u.DisplayName)
		erase("name.formatted", &u.FormattedName)
		erase("title", &u.Title)
		erase("position", &u.Position)
	}
	if alias {
		erase("alias", &u.Alias)
	}
	hash("email", &u.Email, h.EmailDigest)
	hash("emailTmp", &u.EmailTmp, h.EmailDigest)
	hash("customerId", &u.CustomerID, h.Digest)
	hash("socialId", &u.SocialID, h.Digest)
	hash("externalId", &u.ExternalID, h.Digest)
	erase("userName", &u.UserName) // its folded form, hashed above, is what comparisons need
	hash("idpExternalId", &u.IdPExternalID, h.Digest)
	erase("passwordHash", &u.PasswordHash)
	erase("address.street", &u.Address.Street)
	erase("address.country", &u.Address.Country)
	if u.DateOfBirth.Month != 0 || u.DateOfBirth.Day != 0 {
		u.DateOfBirth = u.DateOfBirth.YearOnly()
		r.FieldsErased = append(r.FieldsErased, "dateOfBirth.monthDay")
	}
	if u.PhotoKey != "" {
		r.Blobs = append(r.Blobs, u.PhotoKey)
		u.PhotoKey = ""
		r.FieldsErased = append(r.FieldsErased, "photo")
	}
	kept := u.UGC[:0:0]
	for _, g := range u.UGC {
		if g.ContestID != "" {
			kept = append(kept, g) // R-ERASE-2: contest UGC follows the contest's retention
			continue
		}
		r.Blobs = append(r.Blobs, g.Key)
	}
	if len(kept) != len(u.UGC) {
		r.FieldsErased = append(r.FieldsErased, "ugc")
	}
	u.UGC = kept
	if len(u.UGC) == 0 {
		u.UGC = nil
	}
	erase("description", &u.Description)
	erase("phone", &u.Phone)
	if !u.LastLoginAt.IsZero() || !u.LastActivityAt.IsZero() {
		u.LastLoginAt, u.LastActivityAt = time.Time{}, time.Time{}
		r.FieldsErased = append(r.FieldsErased, "activity")
	}
	if u.OptIns != (OptIns{}) || u.Visibility != (Visibility{}) {
		u.OptIns, u.Visibility = OptIns{}, Visibility{}
		r.FieldsErased = append(r.FieldsErased, "optIns")
	}
	u.Status, u.Block, u.Warnings = UserErased, nil, InactivityWarnings{}
	return u, r
}

// EraseContact applies R-ERASE-3: email hashed; address erased but postal code and city;
// names, notes, tags and phone erased. Consent states and their dates are kept as the record
// of what the person had agreed to.
func EraseContact(c Contact, h *Hasher) (Contact, ErasureResult) {
	var r ErasureResult
	erase := func(name string, v *string) {
		if *v != "" {
			*v = ""
			r.FieldsErased = append(r.FieldsErased, name)
		}
	}
	if c.Email != "" && !h.IsDigest(c.Email) {
		c.Email = h.EmailDigest(c.Email)
		r.FieldsHashed = append(r.FieldsHashed, "email")
	}
	erase("firstName", &c.FirstName)
	erase("lastName", &c.LastName)
	erase("notes", &c.Notes)
	erase("phone", &c.Phone)
	erase("address.street", &c.Address.Street)
	erase("address.country", &c.Address.Country)
	if len(c.Tags) > 0 {
		c.Tags = nil
		r.FieldsErased = append(r.FieldsErased, "tags")
	}
	c.NextReviewAt = time.Time{}
	return c, r
}

// cascades reports whether erasing a member erases this contact: all of them at the end of
// the brand's contract (R-ERASE-7), otherwise all but those with a Brand opt-in (R-ERASE-6).
func cascades(c Contact, rule string) bool {
	return rule == RuleBrandContractEnd || !c.BrandOptIn.Value.Present()
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
