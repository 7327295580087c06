package gdpr

import (
	"context"
	"errors"
	"time"
)

// ContactMailEvent is a mail provider's event about a mail to a contact (an invitation),
// traced to the contact by the id the mail carried.
type ContactMailEvent struct {
	ContactID string
	JobID     string // the mail's job: the proof of an unsubscribe
	Kind      MailEventKind
	At        time.Time
	Permanent bool
}

// ApplyMailEvents lets the provider's events reach the contacts they are about: an
// unsubscribe is the contact's opt-out from the Member's mail (R-CONSENT-1 "opt-out from an
// email", proven by the mail's job id); a bounce, a block or a complaint sets its email status,
// after which nothing is mailed to it (R-CONSENT-6; the blacklist of the address is the
// MailEventService's); a click is activity (R-RET-3), an open is not. Events of unknown or
// erased contacts are ignored. An event's time is taken as the MailEventService takes it
// (dateMailEvent), which also counts the events it skips or dates now: a click dated in the
// far future never postpones R-RET-3, and an unsubscribe without a time is still applied.
// Applying a batch again changes nothing more.
func (s *ContactService) ApplyMailEvents(ctx context.Context, brandID BrandID, events []ContactMailEvent) (changed int, err error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now().UTC()
	byContact := map[string][]ContactMailEvent{}
	var order []string
	for _, e := range events {
		switch e.Kind {
		case MailEventUnsub, MailEventBounce, MailEventBlocked, MailEventSpam, MailEventClick:
		default:
			continue
		}
		var dating eventDating
		if e.At, dating = dateMailEvent(e.Kind, e.At, now); dating == eventSkipped {
			continue
		}
		if e.ContactID == "" || len(e.ContactID) > 64 {
			continue
		}
		if byContact[e.ContactID] == nil {
			order = append(order, e.ContactID)
		}
		byContact[e.ContactID] = append(byContact[e.ContactID], e)
	}
	for _, id := range order {
		done, err := s.applyContactEvents(ctx, b, id, byContact[id])
		if err != nil {
			return changed, err
		}
		if done {
			changed++
		}
	}
	return changed, nil
}

func (s *ContactService) applyContactEvents(ctx context.Context, b Brand, id string, events []ContactMailEvent) (changed bool, err error) {
	err = retry(ctx, func() error {
		c, err := s.contacts.GetContact(ctx, b.ID, id)
		if errors.Is(err, ErrNotFound) || (err == nil && c.Erased()) {
			changed = false
			return nil
		}
		if err != nil {
			return err
		}
		before := c.MemberOptIn.Value
		status, activity := c.EmailStatus, c.LastActivityAt
		for _, e := range events {
			switch e.Kind {
			case MailEventUnsub:
				// Refused (already opted out, or a reference that is not an id): nothing to do.
				_ = c.ChangeMemberOptIn(MemberOptOutFromEmail, ConsentSource{Kind: SourceKindMailjet, Ref: e.JobID}, e.At)
			case MailEventClick:
				if e.At.After(c.LastActivityAt) {
					c.LastActivityAt = e.At
				}
			default:
				_, st := eventEffect(MailEvent{Kind: e.Kind, At: e.At, Permanent: e.Permanent})
				if st != EmailOK && !permanent(c.EmailStatus) {
					c.EmailStatus = st
				}
			}
		}
		changed = c.MemberOptIn.Value != before || c.EmailStatus != status || !c.LastActivityAt.Equal(activity)
		if !changed {
			return nil
		}
		_, err = s.updateContact(ctx, b, c)
		return err
	})
	return changed, err
}

// ReleaseContactSoftBounce clears a contact's soft bounce at its Member's request, relayed by
// the platform (R-MAIL-2); no other status can be released. Releasing a released one changes
// nothing.
func (s *ContactService) ReleaseContactSoftBounce(ctx context.Context, brandID BrandID, memberID, contactID string) (Contact, error) {
	c, err := s.changeMemberContact(ctx, brandID, memberID, contactID, func(c *Contact) error {
		switch c.EmailStatus {
		case EmailSoftBounce:
			c.EmailStatus = EmailOK
			return nil
		case EmailOK:
			return errUnchanged
		}
		return Errorf(CodeConflict, "only a soft bounce can be released (R-MAIL-2)")
	})
	if err != nil {
		return c, err
	}
	// The address too, as for a member's own release: a retry completes one that failed here.
	return c, releaseAddress(ctx, &s.core, s.blacklist, s.remover, s.streaks, c.BrandID, c.Email, memberID)
}
