package gdpr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// What the kinds that change data do to their subject. Each step is a version-guarded write
// of the user, then of the request, and is safe to repeat: advance (rights_service.go) runs
// it again from any point a crash left it at.

// errSubjectErased: the subject's personal data is gone; the request is refused.
var errSubjectErased = errors.New("the subject is erased")

// changeSubject is the read-decide-write loop for a request's subject.
func (s *RequestService) changeSubject(ctx context.Context, b Brand, id string, change func(*User) error) error {
	return retry(ctx, func() error {
		u, err := s.users.GetUser(ctx, b.ID, id)
		if errors.Is(err, ErrNotFound) {
			return errSubjectErased // the register outlives the subject: a missing one is gone
		}
		if err != nil {
			return err
		}
		if u.Status == UserErased {
			return errSubjectErased
		}
		if err := change(&u); err != nil {
			if errors.Is(err, errUnchanged) {
				return nil
			}
			return err
		}
		u.NextReviewAt = NextReview(u, b)
		_, err = s.users.UpdateUser(ctx, u)
		return err
	})
}

// settle closes r after its change to the subject: completed, or refused when the subject
// was erased first.
func (s *RequestService) settle(ctx context.Context, r Request, err error) (Request, error) {
	now := s.clock.Now()
	if errors.Is(err, errSubjectErased) {
		return s.refuse(ctx, r, RefusedSubjectErased, now)
	}
	if err != nil {
		return r, err
	}
	return s.complete(ctx, r, now)
}

// start moves a received request to in_progress before its change to the subject.
func (s *RequestService) start(ctx context.Context, r Request) (Request, error) {
	if r.Status != RequestReceived {
		return r, nil
	}
	return s.setStatus(ctx, r, func(r *Request) { r.Status = RequestInProgress })
}

// rectifySubject applies a rectification (Art. 16) through signup's validation of the same
// fields (checked in CreateRequest, Rectification.check), and completes it. The values go to
// the user only; the request keeps the names of the fields.
func (s *RequestService) rectifySubject(ctx context.Context, b Brand, r Request, c Rectification) (Request, error) {
	r, err := s.start(ctx, r)
	if err != nil || r.Status.closed() {
		return r, err
	}
	err = s.changeSubject(ctx, b, r.SubjectID, func(u *User) error {
		c.apply(u)
		return nil
	})
	if err == nil {
		s.log.InfoContext(ctx, "subject rectified", "brand", b.ID, "request", r.ID, "subject", r.SubjectID, "fields", r.FieldsChanged)
	}
	return s.settle(ctx, r, err)
}

// restrictSubject withdraws the subject's communication opt-ins and restricts it (Art. 18,
// Art. 21): the mail sender skips a restricted user, the warehouse export leaves it out,
// until the request is lifted (Lift).
func (s *RequestService) restrictSubject(ctx context.Context, b Brand, r Request) (Request, error) {
	r, err := s.start(ctx, r)
	if err != nil || r.Status.closed() {
		return r, err
	}
	now := s.clock.Now()
	err = s.changeSubject(ctx, b, r.SubjectID, func(u *User) error {
		if u.Restriction != nil && u.Restriction.RequestID == r.ID && u.OptIns == (OptIns{}) {
			return errUnchanged
		}
		u.OptIns = OptIns{}
		if u.Restriction == nil || u.Restriction.RequestID != r.ID {
			u.Restriction = &Restriction{Kind: r.Kind, RequestID: r.ID, Since: now}
		}
		return nil
	})
	if err == nil {
		s.log.InfoContext(ctx, "subject restricted", "brand", b.ID, "request", r.ID, "subject", r.SubjectID, "kind", string(r.Kind))
	}
	return s.settle(ctx, r, err)
}

// eraseSubject blocks the subject for erasure with reason subject_request: the one erasure
// procedure (erase.go) then erases it after the brand's grace period, as every erasure
// (R-ERASE-5). The request stays in_progress until the erasure is done, which the daily pass
// records (reviewErasure): the subject's answer is the erasure, not its schedule, and a
// restore within the grace period withdraws it.
func (s *RequestService) eraseSubject(ctx context.Context, b Brand, r Request) (Request, error) {
	if r.Status == RequestReceived {
		err := s.changeSubject(ctx, b, r.SubjectID, func(u *User) error {
			return blockForErasure(ctx, s.queue, b, u, ReasonSubjectRequest, s.clock.Now())
		})
		if errors.Is(err, errSubjectErased) {
			return s.complete(ctx, r, s.clock.Now()) // erased already: what was asked is done
		}
		if err != nil {
			return r, err
		}
		s.log.InfoContext(ctx, "subject blocked for erasure on request", "brand", b.ID, "request", r.ID, "subject", r.SubjectID)
		return s.setStatus(ctx, r, func(r *Request) { r.Status = RequestInProgress })
	}
	return s.reviewErasure(ctx, r)
}

// reviewErasure closes an erasure request whose subject is erased (completed at the
// erasure's time) or was restored (refused).
func (s *RequestService) reviewErasure(ctx context.Context, r Request) (Request, error) {
	u, err := s.users.GetUser(ctx, r.BrandID, r.SubjectID)
	switch {
	case errors.Is(err, ErrNotFound):
		return s.complete(ctx, r, s.clock.Now())
	case err != nil:
		return r, err
	case u.Status == UserErased:
		done := s.clock.Now()
		if u.Erasure != nil && !u.Erasure.DoneAt.IsZero() {
			done = u.Erasure.DoneAt
		}
		return s.complete(ctx, r, done)
	case u.Status != UserBlocked:
		return s.refuse(ctx, r, RefusedErasureCancelled, s.clock.Now())
	}
	return r, nil
}

// RequestReportWindow is how close to its due date an open request is reported every day.
const RequestReportWindow = 7 * 24 * time.Hour

// RequestsSweep is the requests' part of the daily sweep: for every brand it walks the open
// requests, finishes what a crash left undone (advance), closes erasure requests whose
// subject is erased, and logs, by ids only, each open request due within seven days or
// overdue. The register of a brand is small (a few requests a month), so it is read whole,
// a page at a time.
func (s *RequestService) RequestsSweep(ctx context.Context) error {
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return err
	}
	return s.sweepBrands(ctx, brands)
}

// sweepBrands is RequestsSweep over brands listed once for the whole daily sweep.
func (s *RequestService) sweepBrands(ctx context.Context, brands []Brand) error {
	var errs []error
	for _, b := range brands {
		b.Retention = b.Retention.WithDefaults()
		if err := s.sweepBrand(ctx, b); err != nil {
			errs = append(errs, fmt.Errorf("brand %s: %w", b.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *RequestService) sweepBrand(ctx context.Context, b Brand) error {
	var errs []error
	for f := (RequestFilter{Limit: MaxRequestPage}); ; {
		page, err := s.requests.ListRequests(ctx, b.ID, f)
		if err != nil {
			return err
		}
		for _, r := range page {
			if r.Status.closed() {
				continue
			}
			if r, err = s.advance(ctx, b, r, nil); err != nil {
				errs = append(errs, fmt.Errorf("request %s: %w", r.ID, err))
			}
			s.reportDue(ctx, r)
		}
		if len(page) < f.Limit {
			return errors.Join(errs...)
		}
		f.After = page[len(page)-1].ID
	}
}

// reportDue logs an open request due within RequestReportWindow, or overdue: ids, kind,
// status and times only.
func (s *RequestService) reportDue(ctx context.Context, r Request) {
	now := s.clock.Now()
	if r.Status.closed() || r.DueAt.Sub(now) > RequestReportWindow {
		return
	}
	msg := "data-subject request due soon"
	if now.After(r.DueAt) {
		msg = "data-subject request overdue"
	}
	s.log.WarnContext(ctx, msg, "brand", r.BrandID, "request", r.ID, "kind", string(r.Kind), "status", string(r.Status), "dueAt", r.DueAt)
}
