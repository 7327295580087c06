package gdpr

import "context"

// ActivityKind is what the platform reports about a user.
type ActivityKind string

const (
	ActivityLogin       ActivityKind = "login"       // a member signed in (R-RET-1)
	ActivityInteraction ActivityKind = "interaction" // an external user used a widget (R-RET-2)
)

// RecordActivity resets a user's inactivity: the mark moves, and warnings sent for the old
// mark no longer count (R-RET-1: a login cancels).
func (s *RetentionService) RecordActivity(ctx context.Context, brandID BrandID, id string, kind ActivityKind) (User, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, b, id, func(u *User) error {
		switch {
		case kind == ActivityLogin && u.Role.External(), kind == ActivityInteraction && !u.Role.External():
			return Errorf(CodeInvalid, "kind must be login for members and interaction for external users")
		case kind != ActivityLogin && kind != ActivityInteraction:
			return Errorf(CodeInvalid, "kind must be login or interaction")
		case u.Status != UserActive:
			return Errorf(CodeConflict, "only an active account has activity")
		}
		if kind == ActivityLogin {
			u.LastLoginAt = s.clock.Now()
		} else {
			u.LastActivityAt = s.clock.Now()
		}
		u.Warnings = InactivityWarnings{}
		return nil
	})
}
