package gdpr

import (
	"context"
	"strings"
)

// WhitelistInput authorises signups by email and/or customer id (R-SIGNUP-4). With a Role
// (1 to 6, a role under contract), each entry also lets its address or customer id sign up
// with that role (R-SIGNUP-8); without one, as an Ambassador only.
type WhitelistInput struct {
	Emails      []string `json:"emails"`
	CustomerIDs []string `json:"customerIds"`
	Role        *Role    `json:"role"`
}

// MaxWhitelistBatch bounds one whitelist request.
const MaxWhitelistBatch = 10000

// AddWhitelist stores the digests of the given emails and customer ids; the plain values are
// never written (R-SIGNUP-4). It returns how many entries were submitted.
func (s *BrandService) AddWhitelist(ctx context.Context, id BrandID, in WhitelistInput) (int, error) {
	if _, err := s.activeBrand(ctx, id); err != nil {
		return 0, err
	}
	n := len(in.Emails) + len(in.CustomerIDs)
	switch {
	case n == 0:
		return 0, Errorf(CodeInvalid, "give at least one of emails or customerIds")
	case n > MaxWhitelistBatch:
		return 0, Errorf(CodeInvalid, "at most %d entries per request", MaxWhitelistBatch)
	}
	if r := in.Role; r != nil && !r.UnderContractRole() {
		return 0, Errorf(CodeInvalid, "role must be a role under contract, 1 to 6; the signup form gives Ambassadors (0) without one (R-SIGNUP-8)")
	}
	now := s.clock.Now()
	entries := make([]WhitelistEntry, 0, 2*n)
	add := func(kind WhitelistKind, digest string) {
		entries = append(entries, WhitelistEntry{BrandID: id, Kind: kind, Digest: digest, CreatedAt: now})
		if in.Role != nil {
			entries = append(entries, WhitelistEntry{BrandID: id, Kind: WhitelistRoleKind(kind, *in.Role), Digest: digest, Role: in.Role, CreatedAt: now})
		}
	}
	for i, e := range in.Emails {
		if !ValidEmail(NormalizeEmail(e)) {
			return 0, Errorf(CodeInvalid, "emails[%d] is not a valid email address", i)
		}
		add(WhitelistEmail, s.hasher.EmailDigest(e))
	}
	for i, c := range in.CustomerIDs {
		c = strings.TrimSpace(c)
		if c == "" || len(c) > 128 {
			return 0, Errorf(CodeInvalid, "customerIds[%d] must be 1 to 128 characters", i)
		}
		add(WhitelistCustomerID, s.hasher.Digest(c))
	}
	return n, s.whitelist.AddWhitelist(ctx, entries...)
}
