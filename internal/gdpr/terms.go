package gdpr

import (
	"context"
	"strings"
)

// MaxTermsVersionLen bounds a T&C version as the form and the admin route take it.
const MaxTermsVersionLen = 64

// validTermsVersion trims a T&C version and checks it: 1 to 64 characters, no control
// characters. field names it in the error as the caller's body does.
func validTermsVersion(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || !plainText(v, MaxTermsVersionLen) {
		return "", Errorf(CodeInvalid, "%s is required: at most %d characters without control characters", field, MaxTermsVersionLen)
	}
	return v, nil
}

// errTermsState: the T&C are the platform's, accepted by a member who can reach the platform.
var errTermsState = Errorf(CodeConflict, "the T&C are recorded for pending or active members only")

// AcceptTerms records that the member accepted the platform T&C of this version, now
// (R-SIGNUP-1). A member provisioned by the brand's identity system (SSO, SCIM) is created
// without them and accepts them at first access: the platform calls this, and until then the
// member cannot sign in. The same version again changes nothing (its first time is kept); a
// new version replaces the record. A blocked, erased or external user is refused.
func (s *SignupService) AcceptTerms(ctx context.Context, brandID BrandID, memberID, version string) (User, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	version, err = validTermsVersion("version", version)
	if err != nil {
		return User{}, err
	}
	var out User
	err = retry(ctx, func() error {
		u, err := getUser(ctx, s.users, b.ID, memberID)
		if err != nil {
			return err
		}
		if u.Kind != SubjectMember || (u.Status != UserActive && u.Status != UserPending) {
			return errTermsState
		}
		if u.Terms != nil && u.Terms.Version == version {
			out = u
			return nil
		}
		u.Terms = &Terms{Version: version, AcceptedAt: s.clock.Now()}
		u.NextReviewAt = NextReview(u, b)
		out, err = s.users.UpdateUser(ctx, u)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.log.InfoContext(ctx, "member accepted the terms", "brand", b.ID, "member", out.ID)
	return out, nil
}
