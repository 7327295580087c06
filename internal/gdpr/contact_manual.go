package gdpr

import (
	"context"
	"strings"
)

// ManualContact is a contact a Member enters in the CRM, relayed by the platform.
type ManualContact struct {
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

// ManualOutcome says what a manual entry did.
type ManualOutcome string

const (
	ManualContactCreated ManualOutcome = "contact_created"
	ManualContactExists  ManualOutcome = "exists"      // the Member already has this contact
	ManualBlacklisted    ManualOutcome = "blacklisted" // refused: the address opted out of every Member (R-MAIL-4)
)

// ManualResult is a manual entry's outcome and the contact it concerns (none when
// blacklisted).
type ManualResult struct {
	Outcome   ManualOutcome `json:"outcome"`
	ContactID string        `json:"contactId,omitempty"`
}

// CreateManual records a contact a Member entered (R-RET-4), on a brand that reactivated
// manual entry (contacts.manualEntry; off by default, deprecated since guide 4.0, else
// CodeForbidden): Member opt-in "new", blocked
// until invited, and no Brand opt-in ("none": hidden from the Brand, R-ACCESS-1). A globally
// opted-out address is refused (R-MAIL-4: a global opt-out is final), a bounced one gets its
// email status (R-MAIL-3), and a contact the Member already has is answered with its id.
func (s *ContactService) CreateManual(ctx context.Context, brandID BrandID, memberID string, in ManualContact) (ManualResult, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return ManualResult{}, err
	}
	if !b.Contacts.ManualEntry {
		return ManualResult{}, Errorf(CodeForbidden, "manual entry of contacts is disabled for this brand (deprecated since guide 4.0, R-RET-4); the brand setting contacts.manualEntry reactivates it")
	}
	in.Email, in.FirstName, in.LastName = NormalizeEmail(in.Email), strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if !ValidEmail(in.Email) || !plainText(in.FirstName, maxNameLen) || !plainText(in.LastName, maxNameLen) {
		return ManualResult{}, Errorf(CodeInvalid, "a contact needs a valid email and names of at most %d characters", maxNameLen)
	}
	member, err := getUser(ctx, s.users, b.ID, memberID)
	if err != nil {
		return ManualResult{}, err
	}
	if member.Kind != SubjectMember || member.Status != UserActive {
		return ManualResult{}, Errorf(CodeConflict, "contacts are entered by active members only")
	}
	status, optedOut, err := s.blacklisted(ctx, b.ID, in.Email)
	if err != nil {
		return ManualResult{}, err
	}
	if optedOut {
		return ManualResult{Outcome: ManualBlacklisted}, nil
	}
	key := s.contactKey(member.ID, in.Email)
	var res ManualResult
	err = retry(ctx, func() error {
		existing, found, err := s.contactKeys(s.contacts, s.claims).find(ctx, b.ID, key)
		if err != nil {
			return err
		}
		if found {
			res = ManualResult{Outcome: ManualContactExists, ContactID: existing.ID}
			return nil
		}
		now := s.clock.Now()
		c := Contact{BrandID: b.ID, ID: NewID("c_", now), MemberID: member.ID, Email: in.Email, EmailStatus: status, FirstName: in.FirstName,
			LastName: in.LastName, Source: SourceManual, CreatedAt: now}
		src := ConsentSource{Kind: SourceKindMember, Ref: member.ID}
		if err := c.ChangeMemberOptIn(MemberOptInNew, src, now); err != nil {
			return err
		}
		if err := c.ChangeBrandOptIn(BrandOptInNone, src, now); err != nil {
			return err
		}
		if err := s.createClaimedContact(ctx, b, c, key); err != nil {
			return err // ErrConflict: created meanwhile, found on the next round
		}
		res = ManualResult{Outcome: ManualContactCreated, ContactID: c.ID}
		return nil
	})
	return res, err
}
