package gdpr

import (
	"context"
	"errors"
	"time"
)

// Invite sends a contact its Member's invitation (R-RET-4: until it answers, nothing else may
// be sent to a new contact), moving it to "invitation sent". Only a new contact can be invited,
// and never one whose address is on the blacklist or cannot be mailed. The schedule that
// follows belongs to the system (R-RET-5): inviting a pending contact again changes nothing
// and answers it unchanged, so a Member cannot push its reminder and opt-out back.
func (s *ContactService) Invite(ctx context.Context, brandID BrandID, memberID, contactID string) (Contact, error) {
	c, _, err := s.InviteOnce(ctx, brandID, memberID, contactID)
	return c, err
}

// InviteOnce is Invite, also telling whether this request invited the contact (false: it was
// already pending, and nothing changed).
func (s *ContactService) InviteOnce(ctx context.Context, brandID BrandID, memberID, contactID string) (_ Contact, invited bool, _ error) {
	var m Message
	var publish bool
	out, err := s.changeMemberContact(ctx, brandID, memberID, contactID, func(c *Contact) error {
		publish, invited = false, false
		switch v := c.MemberOptIn.Value; {
		case v == MemberOptInInvitationSent:
			// A request retried after its publish failed must still get its mail out: within a
			// day of the invitation its own job is published again under its own id, which the
			// queue's duplicate detection (a day) and the sender's record of sent jobs drop if
			// it went out. Later, nothing: the sweep sends the second invitation.
			if job := c.invitationJob(); job != "" && s.clock.Now().Before(c.MemberOptIn.At.Add(invitationRepublished)) {
				var err error
				m, err = mailMessage(MailJob{BrandID: c.BrandID, Kind: MailContactInvitation, UserID: memberID, ContactID: c.ID}, job)
				if err != nil {
					return err
				}
				publish = true
			}
			return errUnchanged
		case v != MemberOptInNew:
			return Errorf(CodeConflict, "only a new or invited contact can be invited")
		case !c.EmailStatus.Deliverable():
			return Errorf(CodeConflict, "this contact's address cannot be mailed")
		}
		if _, err := s.blacklistEntry(ctx, s.blacklist, c.BrandID, c.Email); err == nil {
			return Errorf(CodeConflict, "this address is on the brand's blacklist (R-MAIL-4)")
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		now := s.clock.Now()
		jobID := NewID("inv_", now)
		if err := c.ChangeMemberOptIn(MemberOptInInvitationSent, ConsentSource{Kind: SourceKindInvitation, Ref: jobID}, now); err != nil {
			return err
		}
		c.InvitationSentAt = now
		var err error
		m, err = mailMessage(MailJob{BrandID: c.BrandID, Kind: MailContactInvitation, UserID: memberID, ContactID: c.ID}, jobID)
		publish, invited = err == nil, err == nil
		return err
	})
	if err != nil || !publish {
		return out, invited, err
	}
	// Recorded first, published second: the sender mails only a contact whose invitation is
	// recorded, so a crash in between sends nothing rather than an unrecorded mail; a failed
	// publish fails the request, whose retry publishes the same job again (above), and the
	// sweep sends the second invitation in any case (R-RET-5).
	_, err = s.queue.Publish(ctx, QueueMail, m)
	return out, invited, err
}

// invitationRepublished is how long after an invitation a Member's repeated request publishes
// its job again: the duplicate-detection window of the mail queue.
const invitationRepublished = 24 * time.Hour

// invitationJob is the job id of the invitation that moved the contact to "invitation sent",
// recorded as the source of that change, or "" if the history no longer holds it.
func (c Contact) invitationJob() string {
	for i := len(c.History) - 1; i >= 0; i-- {
		h := c.History[i]
		if h.Kind == ConsentMember && h.To == string(MemberOptInInvitationSent) {
			if h.Source.Kind == SourceKindInvitation && h.At.Equal(c.MemberOptIn.At) {
				return h.Source.Ref
			}
			return ""
		}
	}
	return ""
}

// InvitationAnswer is a contact's answer to an invitation.
type InvitationAnswer string

const (
	InvitationAccept  InvitationAnswer = "accept"
	InvitationDecline InvitationAnswer = "decline"
	// InvitationGlobalOptOut refuses every Member of the brand: the address goes on the
	// brand's blacklist (R-MAIL-4).
	InvitationGlobalOptOut InvitationAnswer = "global_opt_out"
)

var errInvitationGone = Errorf(CodeGone, "this invitation has expired or was already answered")

// invitationToken finds an unexpired, unused invitation token.
func (s *ContactService) invitationToken(ctx context.Context, brand BrandID, token string) (Token, error) {
	return s.linkToken(ctx, s.tokens, brand, token, linkTokenRule{purpose: TokenContactInvitation, gone: errInvitationGone})
}

// CheckInvitation tells whether an invitation link can still be answered, changing nothing:
// mail scanners fetch links, so only the POST answers.
func (s *ContactService) CheckInvitation(ctx context.Context, brandID BrandID, token string) error {
	if _, err := s.brand(ctx, brandID); err != nil {
		return err
	}
	_, err := s.invitationToken(ctx, brandID, token)
	return err
}

// AnswerInvitation applies the contact's answer (R-CONSENT-1): accepted, declined (blocked,
// its address hidden from the Member, R-RET-7) or a global opt-out, which also puts the
// address's digest on the brand's blacklist (R-MAIL-4). The token is single-use and is the
// proof's reference.
func (s *ContactService) AnswerInvitation(ctx context.Context, brandID BrandID, token string, answer InvitationAnswer) error {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return err
	}
	to := map[InvitationAnswer]MemberOptIn{InvitationAccept: MemberOptInInvitationAccepted,
		InvitationDecline: MemberOptInInvitationDeclined, InvitationGlobalOptOut: MemberGlobalOptOut}[answer]
	if to == "" {
		return Errorf(CodeInvalid, "answer must be accept, decline or global_opt_out")
	}
	t, err := s.invitationToken(ctx, b.ID, token)
	if err != nil {
		return err
	}
	var digest, email string
	err = retry(ctx, func() error {
		c, err := s.contacts.GetContact(ctx, b.ID, t.UserID)
		if errors.Is(err, ErrNotFound) || (err == nil && c.Erased()) {
			return errInvitationGone
		}
		if err != nil {
			return err
		}
		digest, email = s.hasher.EmailDigest(c.Email), c.Email
		if err := c.ChangeMemberOptIn(to, ConsentSource{Kind: SourceKindInvitation, Ref: s.linkTokenProof(t)}, s.clock.Now()); err != nil {
			if ErrorCode(err) == CodeConflict {
				return errInvitationGone // answered another way meanwhile
			}
			return err
		}
		_, err = s.updateContact(ctx, b, c)
		return err
	})
	if err != nil {
		return err
	}
	if answer == InvitationGlobalOptOut {
		if err := s.optOuts.PutBlacklist(ctx, BlacklistEntry{BrandID: b.ID, Digest: digest, Reason: BlacklistGlobalOptOut,
			Source: "invitation:" + s.linkTokenProof(t), CreatedAt: s.clock.Now()}); err != nil {
			return err
		}
		// Every other Member's copy follows (R-CONSENT-7), by the system applying the rule.
		if err := s.globalOptOutCopies(ctx, b, email, t.UserID, ConsentSource{Kind: SourceKindSystem, Ref: "R-CONSENT-7"}); err != nil {
			return err
		}
	}
	if err := s.spendLinkToken(ctx, s.tokens, t); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	s.log.InfoContext(ctx, "invitation answered", "brand", b.ID, "contact", t.UserID, "answer", string(answer))
	return nil
}
