package gdpr

import (
	"context"
	"errors"
)

// UnsubscribeAnswer is a contact's answer on the unsubscribe page a mail linked to.
type UnsubscribeAnswer string

const (
	// UnsubscribeThisMember: no more mail from the Member who sent it (R-MAIL-5, "opt-out
	// from an email").
	UnsubscribeThisMember UnsubscribeAnswer = "this_member"
	// UnsubscribeAllMembers: no more mail from any Member of the brand (R-CONSENT-7): every
	// Member's copy of the address becomes "global opt-out" and its digest is blacklisted
	// (R-MAIL-4).
	UnsubscribeAllMembers UnsubscribeAnswer = "all_members"
)

// unsubscribeScanPage is how many users a global opt-out reads at once to find each Member's
// copy of the address.
const unsubscribeScanPage = 500

var errUnsubscribeGone = Errorf(CodeGone, "this link has expired or its contact no longer exists")

// unsubscribeToken finds an unexpired unsubscribe token. It is never spent: both answers are
// idempotent, and "this member" may be followed by "all members".
func (s *ContactService) unsubscribeToken(ctx context.Context, brand BrandID, token string) (Token, error) {
	return s.linkToken(ctx, s.tokens, brand, token, linkTokenRule{purpose: TokenContactUnsubscribe, reusable: true, gone: errUnsubscribeGone})
}

// oneClickToken finds an unexpired one-click token (RFC 8058), never spent.
func (s *ContactService) oneClickToken(ctx context.Context, brand BrandID, token string) (Token, error) {
	return s.linkToken(ctx, s.tokens, brand, token, linkTokenRule{purpose: TokenContactOneClick, reusable: true, gone: errUnsubscribeGone})
}

// CheckOneClick tells whether a one-click unsubscribe URL can act, changing nothing: its GET
// shows the unsubscribe page with this member's opt-out only.
func (s *ContactService) CheckOneClick(ctx context.Context, brandID BrandID, token string) error {
	if _, err := s.brand(ctx, brandID); err != nil {
		return err
	}
	_, err := s.oneClickToken(ctx, brandID, token)
	return err
}

// OneClickUnsubscribe applies a mail provider's one-click POST (RFC 8058) to a mail's
// List-Unsubscribe URL: the contact's Member opt-in becomes "opt-out from an email" (R-MAIL-5),
// as the page's "this member" answer does, without any page. Repeated, it changes nothing.
// It is logged by ids only.
func (s *ContactService) OneClickUnsubscribe(ctx context.Context, brandID BrandID, token string) error {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return err
	}
	t, err := s.oneClickToken(ctx, b.ID, token)
	if err != nil {
		return err
	}
	src := ConsentSource{Kind: SourceKindUnsubscribe, Ref: s.linkTokenProof(t)}
	if err := s.unsubscribeContact(ctx, b, t.UserID, MemberOptOutFromEmail, src); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "contact unsubscribed", "brand", b.ID, "contact", t.UserID, "answer", "one_click")
	return nil
}

// CheckUnsubscribe tells whether an unsubscribe link can be answered, changing nothing: mail
// scanners fetch links, so only the POST answers.
func (s *ContactService) CheckUnsubscribe(ctx context.Context, brandID BrandID, token string) error {
	if _, err := s.brand(ctx, brandID); err != nil {
		return err
	}
	_, err := s.unsubscribeToken(ctx, brandID, token)
	return err
}

// Unsubscribe applies the contact's answer on its unsubscribe page. "this_member" sets its
// Member opt-in to "opt-out from an email" (R-MAIL-5); "all_members" blacklists the address's
// digest first (reason global_opt_out: nothing is mailed to it from then on, R-MAIL-4), then
// moves every Member's copy of the address to "global opt-out" (R-CONSENT-7). Either answer
// repeated changes nothing; a failed "all_members" is completed by its retry. The proof of
// each change is a prefix of the token's digest.
func (s *ContactService) Unsubscribe(ctx context.Context, brandID BrandID, token string, answer UnsubscribeAnswer) error {
	if answer != UnsubscribeThisMember && answer != UnsubscribeAllMembers {
		return Errorf(CodeInvalid, "answer must be this_member or all_members")
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return err
	}
	t, err := s.unsubscribeToken(ctx, b.ID, token)
	if errors.Is(err, errUnsubscribeGone) && answer == UnsubscribeThisMember {
		// The one-click URL's page answers "this member" only (OneClickUnsubscribe).
		t, err = s.oneClickToken(ctx, b.ID, token)
	}
	if err != nil {
		return err
	}
	c, err := s.contacts.GetContact(ctx, b.ID, t.UserID)
	if errors.Is(err, ErrNotFound) || (err == nil && c.Erased()) {
		return errUnsubscribeGone
	}
	if err != nil {
		return err
	}
	src := ConsentSource{Kind: SourceKindUnsubscribe, Ref: s.linkTokenProof(t)}
	if answer == UnsubscribeThisMember {
		return s.unsubscribeContact(ctx, b, c.ID, MemberOptOutFromEmail, src)
	}
	digest := s.hasher.EmailDigest(c.Email)
	if err := s.optOuts.PutBlacklist(ctx, BlacklistEntry{BrandID: b.ID, Digest: digest, Reason: BlacklistGlobalOptOut,
		Source: "unsubscribe:" + src.Ref, CreatedAt: s.clock.Now()}); err != nil {
		return err
	}
	if err := s.unsubscribeContact(ctx, b, c.ID, MemberGlobalOptOut, src); err != nil {
		return err
	}
	if err := s.globalOptOutCopies(ctx, b, c.Email, c.ID, src); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "contact unsubscribed", "brand", b.ID, "contact", c.ID, "answer", string(answer))
	return nil
}

// globalOptOutCopies moves every other Member's copy of an address (R-CONSENT-5) to "global
// opt-out" (R-CONSENT-7), found by each Member's claim on the address's digest. It reads a
// claim per user of the brand: a global opt-out is rare, and the blacklist entry written
// before it already stops every mail to the address. A copy created while it runs by a path
// that read the blacklist before the entry existed keeps its value, but is never mailed.
func (s *ContactService) globalOptOutCopies(ctx context.Context, b Brand, email, done string, src ConsentSource) error {
	digests := s.hasher.EmailDigests(email)
	for after := ""; ; {
		users, err := s.users.ListUsers(ctx, b.ID, after, unsubscribeScanPage)
		if err != nil {
			return err
		}
		for _, u := range users {
			claim, err := firstFound(keyed(claimContact+u.ID+":", digests), func(k string) (Claim, error) { return s.claims.GetClaim(ctx, b.ID, k) })
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if claim.Owner == done {
				continue
			}
			if err := s.unsubscribeContact(ctx, b, claim.Owner, MemberGlobalOptOut, src); err != nil && !errors.Is(err, errUnsubscribeGone) {
				return err
			}
		}
		if len(users) < unsubscribeScanPage {
			return nil
		}
		after = users[len(users)-1].ID
	}
}

// unsubscribeContact moves one contact's Member opt-in to to, guarded by the version read. A
// contact already opted out stays as it is for "this member" (it hears from nobody already);
// one already at the value changes nothing.
func (s *ContactService) unsubscribeContact(ctx context.Context, b Brand, id string, to MemberOptIn, src ConsentSource) error {
	return retry(ctx, func() error {
		c, err := s.contacts.GetContact(ctx, b.ID, id)
		if errors.Is(err, ErrNotFound) || (err == nil && c.Erased()) {
			return errUnsubscribeGone
		}
		if err != nil {
			return err
		}
		if c.MemberOptIn.Value == to || (to == MemberOptOutFromEmail && c.MemberOptIn.Value.OptedOut()) {
			return nil
		}
		if err := c.ChangeMemberOptIn(to, src, s.clock.Now()); err != nil {
			return err
		}
		_, err = s.updateContact(ctx, b, c)
		return err
	})
}

// InvitingMember is how the invitation page names the member who invites (R-RET-5): the
// alias, else the first name, as contacts may see them; empty for an id that names no
// active member of the brand, so a guessed or stale id learns nothing.
func (s *ContactService) InvitingMember(ctx context.Context, brand BrandID, memberID string) string {
	if memberID == "" || len(memberID) > 64 || !brand.Valid() {
		return ""
	}
	u, err := s.users.GetUser(ctx, brand, memberID)
	if err != nil || u.Status != UserActive || u.Kind != SubjectMember {
		return ""
	}
	return contactDisplayName(u)
}
