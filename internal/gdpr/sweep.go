package gdpr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sweepPage is how many due users the sweep reads at a time.
const sweepPage = 1000

// SweepBudget is how long one RetentionSweep may run before it stops at a page boundary,
// recording where it stopped: well inside the host's functionTimeout (10 minutes on Flex
// Consumption, host.json), past which the host would abandon it mid-page.
const SweepBudget = 8 * time.Minute

// SweepStats counts what one sweep of one brand did.
type SweepStats struct {
	Due, Warnings, Erasures int
	// Paused: the sweep stopped before the end of the due index; the brand's SweepCursor says
	// where the next one resumes.
	Paused bool
}

// DailySweep is the daily retention timer: the users' schedule, then the contacts', then the
// open data-subject requests, then the exports whose links expired or whose subjects are
// erased. Each runs even if another fails: a brand whose users cannot be read still has its
// contacts reviewed. The brands are listed once for all (a cross-partition query); the
// contacts' part takes each brand as the users' part left it, from the brand cache that saw
// its writes.
func DailySweep(users *RetentionService, contacts *ContactRetentionService, requests *RequestService, exports *ExportService) func(context.Context) error {
	return func(ctx context.Context) error {
		brands, err := users.brands.ListBrands(ctx)
		if err != nil {
			return err
		}
		usersErr := users.sweepBrands(ctx, brands)
		ids := make([]BrandID, len(brands))
		for i, b := range brands {
			ids[i] = b.ID
		}
		return errors.Join(usersErr, contacts.sweepBrands(ctx, ids), requests.sweepBrands(ctx, brands), exports.sweepBrands(ctx, brands))
	}
}

// RetentionSweep is the users' part of the daily sweep: for every brand it reads only the users whose next
// review has come, through the due index, and acts: it sends inactivity warnings
// and publishes erasure jobs. Its cost grows with what is due, not with the population.
func (s *RetentionService) RetentionSweep(ctx context.Context) error {
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return err
	}
	return s.sweepBrands(ctx, brands)
}

// sweepBrands is RetentionSweep over brands.
func (s *RetentionService) sweepBrands(ctx context.Context, brands []Brand) error {
	// The budget is on the wall clock, as the host's functionTimeout is.
	stopAt := time.Now().Add(SweepBudget)
	var errs []error
	for _, b := range brands {
		b.Retention = b.Retention.WithDefaults()
		st, err := s.SweepBrandUntil(ctx, b, stopAt)
		if err != nil {
			errs = append(errs, fmt.Errorf("brand %s: %w", b.ID, err))
			continue
		}
		if st.Due > 0 || st.Paused {
			s.log.InfoContext(ctx, "retention sweep", "brand", b.ID, "due", st.Due, "warnings", st.Warnings, "erasures", st.Erasures, "paused", st.Paused)
		}
	}
	return errors.Join(errs...)
}

// SweepBrand reviews one brand's due users, all of them.
func (s *RetentionService) SweepBrand(ctx context.Context, b Brand) (SweepStats, error) {
	return s.SweepBrandUntil(ctx, b, time.Time{})
}

// SweepBrandUntil reviews one brand's due users from where its last sweep stopped, and stops
// at the first page boundary after stopAt (zero: never). The cursor is recorded on the brand
// after every page but the last, so a sweep killed mid-way, or stopped, resumes there.
func (s *RetentionService) SweepBrandUntil(ctx context.Context, b Brand, stopAt time.Time) (SweepStats, error) {
	var st SweepStats
	now := s.clock.Now()
	if suspensionOver(b, now) {
		// The program was not relaunched within its keeping time: the brand is at the end
		// of its contract (R-ERASE-8, R-ERASE-7). Only while it is still so suspended, as
		// read again, so a relaunch that came first wins.
		ended, err := s.endContract(ctx, b.ID, func(b Brand) bool { return suspensionOver(b, s.clock.Now()) })
		if err != nil {
			return st, err
		}
		b = ended
	}
	// A suspension whose warnings were cut short is finished here (R-ERASE-8).
	b, err := s.warnSuspension(ctx, b)
	if err != nil {
		return st, err
	}
	if ce := b.ContractEnd; b.Ended() && ce != nil && ce.FannedOutAt.IsZero() && !now.Before(ce.DueAt) {
		// The fan-out job should have run at the due time; publishing it again is a no-op
		// while it is queued, and finishes the work if it was lost.
		if _, err := publishErasure(ctx, s.queue, brandJob(b), ce.RequestedAt); err != nil {
			return st, err
		}
	}
	var cursor DueCursor
	if b.SweepCursor != nil {
		cursor = *b.SweepCursor
	}
	for {
		users, err := s.users.DueUsers(ctx, b.ID, now, cursor, sweepPage)
		if err != nil {
			return st, err
		}
		if err := s.reviewPage(ctx, b, users, now, &st); err != nil {
			return st, err
		}
		if len(users) < sweepPage {
			if b.SweepCursor != nil {
				return st, s.recordSweepCursor(ctx, b.ID, nil)
			}
			return st, nil
		}
		last := users[len(users)-1]
		cursor = DueCursor{At: last.NextReviewAt, ID: last.ID}
		if err := s.recordSweepCursor(ctx, b.ID, &cursor); err != nil {
			return st, err
		}
		b.SweepCursor = &cursor
		if !stopAt.IsZero() && time.Now().After(stopAt) {
			st.Paused = true
			return st, nil
		}
	}
}

// recordSweepCursor writes where the brand's sweep stands (nil: done), guarded by the brand's
// version like every brand write.
func (s *RetentionService) recordSweepCursor(ctx context.Context, brand BrandID, c *DueCursor) error {
	return retry(ctx, func() error {
		b, err := s.brands.GetBrand(ctx, brand)
		if err != nil {
			return err
		}
		b.SweepCursor = c
		_, err = s.brands.PutBrand(ctx, b)
		return err
	})
}

// reviewPage decides for a page of due users and publishes their jobs in two batches (mail
// and erasure); only warnings are recorded on the users, also in batches. A user whose
// erasure job is published stays in the due index until the job erases it: should the job be
// lost, the next sweep publishes it again under the same id. Jobs go out before the records,
// with ids fixed by the decision, so a crash in between publishes nothing twice.
func (s *RetentionService) reviewPage(ctx context.Context, b Brand, users []User, now time.Time, st *SweepStats) error {
	var (
		mails, erasures []Message
		updated         []User
	)
	for _, u := range users {
		st.Due++
		if at := ContestUGCDue(u); !at.IsZero() && !at.After(now) {
			// The contest's date has passed: the worker deletes its UGC (R-ERASE-2). The
			// user stays due until it has, so a lost job is published again.
			m, err := erasureMessage(ErasureJob{BrandID: b.ID, SubjectKind: u.Kind, SubjectID: u.ID, Rule: RuleContestUGC, DueAt: at}, at)
			if err != nil {
				return err
			}
			erasures = append(erasures, m)
		}
		a := Review(u, b)
		if a.Kind != ActionNone && a.At.After(now) {
			// Indexed under other settings (the brand lengthened a duration): not due yet.
			if next := NextReview(u, b); !next.Equal(u.NextReviewAt) {
				u.NextReviewAt = next
				updated = append(updated, u)
			}
			continue
		}
		switch a.Kind {
		case ActionWarn1, ActionWarn2:
			m, err := mailMessage(MailJob{BrandID: b.ID, Kind: MailInactivityWarning, UserID: u.ID, Mark: a.Mark},
				fmt.Sprintf("%s:%s:%s:%d", a.Kind, b.ID, u.ID, a.Mark.Unix()))
			if err != nil {
				return err
			}
			mails = append(mails, m)
			if !u.Warnings.Mark.Equal(a.Mark) {
				u.Warnings = InactivityWarnings{Mark: a.Mark}
			}
			if a.Kind == ActionWarn1 {
				u.Warnings.FirstAt = now
			} else {
				u.Warnings.SecondAt = now
			}
			u.NextReviewAt = NextReview(u, b)
			st.Warnings++
		case ActionErase, ActionContinue:
			m, err := erasureMessage(ErasureJob{BrandID: b.ID, SubjectKind: u.Kind, SubjectID: u.ID, Rule: a.Rule, DueAt: a.At}, a.RequestedAt)
			if err != nil {
				return err
			}
			erasures = append(erasures, m)
			st.Erasures++
			continue
		default:
			// A stale index value leaves the due set; contest UGC past its date keeps the
			// user in it until the worker has deleted it.
			next := NextReview(u, b)
			if next.Equal(u.NextReviewAt) {
				continue
			}
			u.NextReviewAt = next
		}
		updated = append(updated, u)
	}
	if err := publishAll(ctx, s.queue, QueueMail, mails); err != nil {
		return err
	}
	if err := publishAll(ctx, s.queue, QueueErasure, erasures); err != nil {
		return err
	}
	return s.updateUsers(ctx, b.ID, updated)
}

// updateUsers writes the sweep's records of users (writeInBatches).
func (s *RetentionService) updateUsers(ctx context.Context, brand BrandID, users []User) error {
	return writeInBatches(users,
		func(chunk []User) error { _, err := s.users.UpdateUsers(ctx, brand, chunk); return err },
		func(u User) error { _, err := s.users.UpdateUser(ctx, u); return err })
}
