package gdpr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sweepPage is how many due users the sweep reads at a time.
const sweepPage = 1000

// recheckAfter is when a user whose erasure job was published is looked at again, should the
// job have been lost (dead-lettered): the next daily sweep.
const recheckAfter = 24 * time.Hour

// SweepStats counts what one sweep of one brand did.
type SweepStats struct {
	Due, Warnings, Erasures int
}

// RetentionSweep is the daily timer: for every brand it reads only the users whose next
// review has come, through the due index, and acts (DESIGN §5): it sends inactivity warnings
// and publishes erasure jobs. Its cost grows with what is due, not with the population.
func (s *Service) RetentionSweep(ctx context.Context) error {
	brands, err := s.store.ListBrands(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range brands {
		b.Retention = b.Retention.WithDefaults()
		st, err := s.SweepBrand(ctx, b)
		if err != nil {
			errs = append(errs, fmt.Errorf("brand %s: %w", b.ID, err))
			continue
		}
		if st.Due > 0 {
			s.log.InfoContext(ctx, "retention sweep", "brand", b.ID, "due", st.Due, "warnings", st.Warnings, "erasures", st.Erasures)
		}
	}
	return errors.Join(errs...)
}

// SweepBrand reviews one brand's due users.
func (s *Service) SweepBrand(ctx context.Context, b Brand) (SweepStats, error) {
	var st SweepStats
	now := s.clock.Now()
	if ce := b.ContractEnd; b.Ended() && ce != nil && ce.Scheduled.IsZero() && !now.Before(ce.DueAt) {
		// The fan-out job should have run at the due time; publishing it again is a no-op
		// while it is queued, and finishes the work if it was lost.
		if _, err := s.publishErasure(ctx, brandJob(b), ce.RequestedAt); err != nil {
			return st, err
		}
	}
	for {
		users, err := s.store.DueUsers(ctx, b.ID, now, sweepPage)
		if err != nil {
			return st, err
		}
		for _, u := range users {
			st.Due++
			switch a := Review(u, b); a.Kind {
			case ActionWarn1, ActionWarn2:
				if err := s.warn(ctx, b, u, a, now); err != nil {
					return st, err
				}
				st.Warnings++
			case ActionErase, ActionContinue:
				if err := s.scheduleErasure(ctx, b, u, a, now); err != nil {
					return st, err
				}
				st.Erasures++
			default:
				// Stale index value: fix it so the user leaves the due set.
				if err := s.reindex(ctx, b, u, time.Time{}); err != nil {
					return st, err
				}
			}
		}
		if len(users) < sweepPage {
			return st, nil
		}
	}
}

// warn sends an inactivity warning and records it (R-RET-1). The mail job is published
// first with an id fixed by the mark, so a crash before the record re-sends nothing twice;
// the sender re-checks the mark, so a login in between cancels it.
func (s *Service) warn(ctx context.Context, b Brand, u User, a Action, now time.Time) error {
	job := MailJob{BrandID: b.ID, Kind: MailInactivityWarning, UserID: u.ID, Mark: a.Mark}
	if err := s.publishMail(ctx, job, fmt.Sprintf("%s:%s:%s:%d", a.Kind, b.ID, u.ID, a.Mark.Unix())); err != nil {
		return err
	}
	if !u.Warnings.Mark.Equal(a.Mark) {
		u.Warnings = InactivityWarnings{Mark: a.Mark}
	}
	if a.Kind == ActionWarn1 {
		u.Warnings.FirstAt = now
	} else {
		u.Warnings.SecondAt = now
	}
	u.NextReviewAt = NextReview(u, b)
	_, err := s.store.UpdateUser(ctx, u)
	if errors.Is(err, ErrConflict) {
		return nil // changed meanwhile (a login?): the next sweep decides again
	}
	return err
}

// scheduleErasure publishes the user's erasure job for its due time and moves the user's
// review a day on, so the sweep does not read it again unless the job is lost.
func (s *Service) scheduleErasure(ctx context.Context, b Brand, u User, a Action, now time.Time) error {
	job := ErasureJob{BrandID: b.ID, SubjectKind: u.Kind, SubjectID: u.ID, Rule: a.Rule, DueAt: a.At}
	if _, err := s.publishErasure(ctx, job, a.RequestedAt); err != nil {
		return err
	}
	return s.reindex(ctx, b, u, now.Add(recheckAfter))
}

func (s *Service) reindex(ctx context.Context, b Brand, u User, next time.Time) error {
	u.NextReviewAt = next
	_, err := s.store.UpdateUser(ctx, u)
	if errors.Is(err, ErrConflict) {
		return nil
	}
	return err
}
