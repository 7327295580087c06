package gdpr

import "context"

// ContactActivityKind is an interaction of a contact that the platform reports.
type ContactActivityKind string

const (
	ContactClick ContactActivityKind = "click"
	ContactLike  ContactActivityKind = "like"
	// ContactOpen is named only to be refused: opening an email is not activity (R-RET-3).
	ContactOpen ContactActivityKind = "open"
)

// RecordContactActivity records an intentional interaction of a Member's contact, a click or
// a like, which restarts its three years of R-RET-3. An open is refused: it is not activity.
// Repeating a report moves the date to the latest, so a retried request is harmless.
func (s *ContactService) RecordContactActivity(ctx context.Context, brandID BrandID, memberID, contactID string, kind ContactActivityKind) (Contact, error) {
	switch kind {
	case ContactClick, ContactLike:
	case ContactOpen:
		return Contact{}, Errorf(CodeInvalid, "opening an email is not activity (R-RET-3): report clicks and likes only")
	default:
		return Contact{}, Errorf(CodeInvalid, "kind must be click or like")
	}
	return s.changeMemberContact(ctx, brandID, memberID, contactID, func(c *Contact) error {
		if now := s.clock.Now(); now.After(c.LastActivityAt) {
			c.LastActivityAt = now
		}
		return nil
	})
}
