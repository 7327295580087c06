package gdpr

import (
	"context"
	"errors"
	"time"
)

// markRefused records on a mail's subject that the provider refused its address for good
// (ErrRecipientRefused, issue 21), so that nobody goes on believing it was sent: a contact's
// invitation becomes "invitation failed" and its email status "undeliverable"; a member's
// email status becomes "undeliverable". Either stops every later mail to the address
// (R-MAIL-3). The address refused is to: a subject whose address changed since holds another
// one, and is left as it is, as is one erased, or one whose status already blocks mail (the
// provider's event came first, and says more). A repeated refusal changes nothing.
func (s *MailService) markRefused(ctx context.Context, b Brand, job MailJob, to string, at time.Time) error {
	if job.ContactID != "" {
		return s.markContactRefused(ctx, b, job, to, at)
	}
	return retry(ctx, func() error {
		u, err := s.users.GetUser(ctx, b.ID, job.UserID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Status == UserErased || NormalizeEmail(u.address()) != NormalizeEmail(to) || u.EmailStatus != EmailOK {
			return nil
		}
		u.EmailStatus, u.EmailStatusAt = EmailUndeliverable, at
		if _, err := s.users.UpdateUser(ctx, u); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "mail recipient marked undeliverable", "brand", b.ID, "user", u.ID, "job", job.ID)
		return nil
	})
}

func (s *MailService) markContactRefused(ctx context.Context, b Brand, job MailJob, to string, at time.Time) error {
	return retry(ctx, func() error {
		c, err := s.contacts.GetContact(ctx, b.ID, job.ContactID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.Erased() || c.Email != NormalizeEmail(to) {
			return nil
		}
		changed := false
		if c.EmailStatus == EmailOK {
			c.EmailStatus, changed = EmailUndeliverable, true
		}
		if c.MemberOptIn.Value == MemberOptInInvitationSent {
			// Answered meanwhile (a reminder refused after the first invitation reached the
			// contact): the answer stands, and only the status says the address now fails.
			if err := c.ChangeMemberOptIn(MemberOptInInvitationFailed, ConsentSource{Kind: SourceKindMailjet, Ref: job.ID}, at); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			return nil
		}
		c.NextReviewAt = NextContactReview(c, b)
		if _, err := s.contacts.UpdateContact(ctx, c); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "mail recipient marked undeliverable", "brand", b.ID, "user", job.UserID, "contact", c.ID, "job", job.ID)
		return nil
	})
}
