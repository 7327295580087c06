package gdpr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SuspendProgram suspends the brand's program (R-ERASE-8): its data is kept, it takes no new
// data, and once the brand's suspendedProgram duration (at most 6 months) has passed without
// a relaunch the daily sweep ends its contract (R-ERASE-7). Suspending a suspended brand
// keeps the first suspension; an ended brand is refused.
func (s *RetentionService) SuspendProgram(ctx context.Context, brandID BrandID) (Brand, error) {
	var out Brand
	err := retry(ctx, func() error {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return err
		}
		switch {
		case b.Ended():
			return Errorf(CodeConflict, "the brand's contract has ended")
		case b.Suspended():
			out = b
			return nil
		}
		now := s.clock.Now()
		b.Status, b.UpdatedAt = BrandSuspended, now
		b.Suspension = &Suspension{RequestedAt: now, KeepUntil: b.Retention.SuspendedProgram.AddTo(now)}
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	if err != nil {
		return out, err
	}
	s.log.InfoContext(ctx, "brand program suspended", "brand", brandID, "keepUntil", out.Suspension.KeepUntil)
	return s.warnSuspension(ctx, out)
}

// suspensionMailPage is how many members one page of a suspension's warnings covers: a large
// brand is published in batches, never in one call.
const suspensionMailPage = sweepPage

// warnSuspension publishes the suspension's warning to every active member of the brand
// (R-ERASE-8: "Members will be warned of the program suspension by a newsletter and can
// opt-out"), page by page, then records it as done. Each job's id is fixed by the suspension
// and the member, so publishing again after a crash half-way (a repeated suspend, or the next
// sweep, finish it) adds nothing the queue or the mail sender has not seen.
func (s *RetentionService) warnSuspension(ctx context.Context, b Brand) (Brand, error) {
	if !b.Suspended() || !b.Suspension.MailedAt.IsZero() {
		return b, nil
	}
	at := b.Suspension.RequestedAt
	for after := ""; ; {
		users, err := s.users.ListUsers(ctx, b.ID, after, suspensionMailPage)
		if err != nil {
			return b, err
		}
		var mails []Message
		for _, u := range users {
			if u.Kind != SubjectMember || u.Status != UserActive {
				continue
			}
			m, err := mailMessage(MailJob{BrandID: b.ID, Kind: MailProgramSuspended, UserID: u.ID, Mark: at},
				fmt.Sprintf("%s:%s:%s:%d", MailProgramSuspended, b.ID, u.ID, at.Unix()))
			if err != nil {
				return b, err
			}
			mails = append(mails, m)
		}
		if err := publishAll(ctx, s.queue, QueueMail, mails); err != nil {
			return b, err
		}
		if len(users) < suspensionMailPage {
			break
		}
		after = users[len(users)-1].ID
	}
	// Only this suspension is marked, as read again: a relaunch that came first wins.
	out := b
	err := retry(ctx, func() error {
		cur, err := s.brands.GetBrand(ctx, b.ID)
		if err != nil {
			return err
		}
		out = cur
		if !cur.Suspended() || !cur.Suspension.RequestedAt.Equal(at) || !cur.Suspension.MailedAt.IsZero() {
			return nil
		}
		cur.Suspension.MailedAt = s.clock.Now()
		out, err = s.brands.PutBrand(ctx, cur)
		return err
	})
	return out, err
}

// ProgramOptOutAnswer is the one answer of a suspended program's opt-out page.
const ProgramOptOutAnswer = "opt_out"

var errOptOutGone = Errorf(CodeGone, "this opt-out link has expired or was already used")

// optOutToken finds an unexpired, unused opt-out token.
func (s *RetentionService) optOutToken(ctx context.Context, brand BrandID, token string) (Token, error) {
	return s.linkToken(ctx, s.tokens, brand, token, linkTokenRule{purpose: TokenProgramOptOut, gone: errOptOutGone})
}

// CheckProgramOptOut tells whether an opt-out link can be used, changing nothing: mail
// scanners fetch links, so only the POST opts out.
func (s *RetentionService) CheckProgramOptOut(ctx context.Context, brandID BrandID, token string) error {
	if _, err := s.brand(ctx, brandID); err != nil {
		return err
	}
	_, err := s.optOutToken(ctx, brandID, token)
	return err
}

// ProgramOptOut applies a member's opt-out from a suspended program: an opt-out is an
// unsubscription (R-ERASE-8), so the member is blocked with reason unsubscribed and erased
// after the grace period (R-ERASE-6, R-ERASE-5). The member is blocked first and the token
// spent second: a crash in between leaves a token that blocks a blocked member again, which
// changes nothing.
func (s *RetentionService) ProgramOptOut(ctx context.Context, brandID BrandID, token, answer string) error {
	if answer != ProgramOptOutAnswer {
		return Errorf(CodeInvalid, "answer must be opt_out")
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return err
	}
	t, err := s.optOutToken(ctx, b.ID, token)
	if err != nil {
		return err
	}
	u, err := s.changeUser(ctx, b, t.UserID, func(u *User) error {
		return blockForErasure(ctx, s.queue, b, u, ReasonUnsubscribed, s.clock.Now())
	})
	switch {
	case errors.Is(err, ErrNotFound), ErrorCode(err) == CodeConflict:
		return errOptOutGone // erased meanwhile: nothing left to opt out
	case err != nil:
		return err
	}
	if err := s.spendLinkToken(ctx, s.tokens, t); errors.Is(err, ErrConflict) {
		return errOptOutGone // a concurrent opt-out spent it first
	} else if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "member opted out of a suspended program", "brand", b.ID, "member", u.ID)
	return nil
}

// RelaunchProgram makes a suspended program active again and forgets its suspension
// (R-ERASE-8). Relaunching an active brand changes nothing; an ended brand, or one whose
// suspension has outlived its keeping time, is refused: its data is no longer to be kept.
func (s *RetentionService) RelaunchProgram(ctx context.Context, brandID BrandID) (Brand, error) {
	var out Brand
	err := retry(ctx, func() error {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return err
		}
		switch {
		case b.Ended():
			return Errorf(CodeConflict, "the brand's contract has ended")
		case !b.Suspended():
			out = b
			return nil
		case suspensionOver(b, s.clock.Now()):
			return Errorf(CodeConflict, "the suspension has passed the brand's suspendedProgram duration; the contract ends")
		}
		b.Status, b.Suspension, b.UpdatedAt = BrandActive, nil, s.clock.Now()
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	if err == nil {
		s.log.InfoContext(ctx, "brand program relaunched", "brand", brandID)
	}
	return out, err
}

// suspensionOver: the brand is suspended and its data may be kept no longer (R-ERASE-8).
func suspensionOver(b Brand, now time.Time) bool {
	return b.Suspended() && !now.Before(b.Suspension.KeepUntil)
}
