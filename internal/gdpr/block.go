package gdpr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// BlockMember stops a user's access now and schedules the erasure of its personal data after
// the brand's grace period, until when it can be restored (R-ERASE-5, R-SSO-2). Blocking a
// blocked user changes nothing.
func (s *RetentionService) BlockMember(ctx context.Context, brandID BrandID, id string, reason BlockReason) (User, error) {
	switch reason {
	case ReasonUnsubscribed, ReasonEndOfContract, ReasonSSODeleted:
	default:
		return User{}, Errorf(CodeInvalid, "reason must be unsubscribed, end_of_contract or sso_deleted")
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	out, err := s.changeUser(ctx, b, id, func(u *User) error {
		return blockForErasure(ctx, s.queue, b, u, reason, s.clock.Now())
	})
	if err == nil {
		s.log.InfoContext(ctx, "member blocked for deletion", "brand", b.ID, "member", id, "reason", string(reason), "dueAt", out.Block.DueAt)
	}
	return out, err
}

// RestoreMember rolls back a pending deletion within the grace period: the user gets its
// access back with every field as it was (R-ERASE-5).
func (s *RetentionService) RestoreMember(ctx context.Context, brandID BrandID, id string) (User, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	var ref string
	out, err := s.changeUser(ctx, b, id, func(u *User) (err error) {
		ref, err = restoreFromBlock(u)
		return err
	})
	if err != nil {
		return User{}, err
	}
	cancelErasure(ctx, s.queue, s.log, b.ID, id, ref)
	s.log.InfoContext(ctx, "member restored", "brand", b.ID, "member", id)
	return out, nil
}

// blockForErasure stops u's access now and schedules the erasure of its personal data after
// the brand's grace period (R-ERASE-5). Blocking a blocked user changes nothing; an erased one
// is a conflict. The job is published before the block is recorded: a job whose block was
// never recorded finds nothing to do, whereas a block without its job would wait for the next
// sweep.
func blockForErasure(ctx context.Context, q Queue, b Brand, u *User, reason BlockReason, now time.Time) error {
	switch u.Status {
	case UserBlocked:
		return errUnchanged
	case UserErased:
		return Errorf(CodeConflict, "this member's personal data is already erased")
	}
	block := &Block{Reason: reason, Rule: RuleGracePeriod, RequestedAt: now,
		DueAt: b.Retention.ErasureGrace.AddTo(now), PreviousStatus: u.Status}
	var err error
	block.JobRef, err = publishErasure(ctx, q, ErasureJob{BrandID: b.ID, SubjectKind: u.Kind, SubjectID: u.ID, Rule: block.Rule, DueAt: block.DueAt}, block.RequestedAt)
	u.Status, u.Block = UserBlocked, block
	return err
}

// restoreFromBlock gives u back what it had before a pending deletion, every field as it
// was, and returns the erasure job to cancel (R-ERASE-5).
func restoreFromBlock(u *User) (jobRef string, err error) {
	switch {
	case u.Status == UserErased:
		return "", Errorf(CodeConflict, "the erasure already ran: nothing can be restored")
	case u.Status != UserBlocked || u.Block == nil:
		return "", Errorf(CodeConflict, "this member is not blocked for deletion")
	}
	jobRef = u.Block.JobRef
	u.Status, u.Block = u.Block.PreviousStatus, nil
	return jobRef, nil
}

// cancelErasure withdraws a restored user's erasure job. The worker re-checks the user before
// erasing, so a job left behind is harmless: a failure is only logged.
func cancelErasure(ctx context.Context, q Queue, log *slog.Logger, brand BrandID, id, ref string) {
	if ref == "" {
		return
	}
	if err := q.Cancel(ctx, QueueErasure, ref); err != nil {
		log.WarnContext(ctx, "could not cancel the erasure job", "brand", brand, "member", id, "err", err)
	}
}

// ActivityKind is what the platform reports about a user.
type ActivityKind string

const (
	ActivityLogin       ActivityKind = "login"       // a member signed in (R-RET-1)
	ActivityInteraction ActivityKind = "interaction" // an external user used a widget (R-RET-2)
)

// RecordActivity resets a user's inactivity: the mark moves, and warnings sent for the old
// mark no longer count (R-RET-1: a login cancels).
func (s *RetentionService) RecordActivity(ctx context.Context, brandID BrandID, id string, kind ActivityKind) (User, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, b, id, func(u *User) error {
		switch {
		case kind == ActivityLogin && u.Role.External(), kind == ActivityInteraction && !u.Role.External():
			return Errorf(CodeInvalid, "kind must be login for members and interaction for external users")
		case kind != ActivityLogin && kind != ActivityInteraction:
			return Errorf(CodeInvalid, "kind must be login or interaction")
		case u.Status != UserActive:
			return Errorf(CodeConflict, "only an active account has activity")
		}
		if kind == ActivityLogin {
			u.LastLoginAt = s.clock.Now()
		} else {
			u.LastActivityAt = s.clock.Now()
		}
		u.Warnings = InactivityWarnings{}
		return nil
	})
}

// errUnchanged tells changeUser that the user is already as asked: nothing to write.
var errUnchanged = errors.New("unchanged")

// changeUser is the read-decide-write loop of optimistic concurrency for one user: it reads
// the user, lets change decide on the fresh copy, recomputes the due index and writes it back
// guarded by the version read, starting over on a conflict.
func (s *RetentionService) changeUser(ctx context.Context, b Brand, id string, change func(*User) error) (User, error) {
	var out User
	err := retry(ctx, func() error {
		u, err := getUser(ctx, s.users, b.ID, id)
		if err != nil {
			return err
		}
		if err := change(&u); err != nil {
			if errors.Is(err, errUnchanged) {
				out, err = u, nil
			}
			return err
		}
		u.NextReviewAt = NextReview(u, b)
		out, err = s.users.UpdateUser(ctx, u)
		return err
	})
	return out, err
}

// EndContract ends the brand's contract: no new data is accepted, and every user and contact
// of the brand is erased after the grace period (R-ERASE-7). Ending an ended brand changes
// nothing.
func (s *RetentionService) EndContract(ctx context.Context, brandID BrandID) (Brand, error) {
	return s.endContract(ctx, brandID, func(Brand) bool { return true })
}

// endContract ends the contract if the brand, as read, still meets cond: the decision is
// taken again on every read, and the write is guarded by the version read.
func (s *RetentionService) endContract(ctx context.Context, brandID BrandID, cond func(Brand) bool) (Brand, error) {
	var out Brand
	err := retry(ctx, func() error {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return err
		}
		if b.Ended() || !cond(b) {
			out = b
			return nil
		}
		now := s.clock.Now()
		b.Status, b.UpdatedAt = BrandEnded, now
		b.ContractEnd = &ContractEnd{RequestedAt: now, DueAt: b.Retention.ErasureGrace.AddTo(now)}
		if _, err := publishErasure(ctx, s.queue, brandJob(b), now); err != nil {
			return err
		}
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	if err == nil && out.ContractEnd != nil {
		s.log.InfoContext(ctx, "brand contract ended", "brand", brandID, "dueAt", out.ContractEnd.DueAt)
	}
	return out, err
}

// SubjectBrand is the subject kind of the brand-wide fan-out job of R-ERASE-7.
const SubjectBrand SubjectKind = "brand"

func brandJob(b Brand) ErasureJob {
	return ErasureJob{BrandID: b.ID, SubjectKind: SubjectBrand, SubjectID: string(b.ID), Rule: RuleBrandContractEnd, DueAt: b.ContractEnd.DueAt}
}

// publishErasure schedules an erasure job at its due time. The message id is fixed by the
// subject, the rule and the request time, so publishing it twice (a sweep after a block, a
// retried request) queues it once.
func publishErasure(ctx context.Context, q Queue, job ErasureJob, requestedAt time.Time) (string, error) {
	m, err := erasureMessage(job, requestedAt)
	if err != nil {
		return "", err
	}
	return q.Publish(ctx, QueueErasure, m)
}

func erasureMessage(job ErasureJob, requestedAt time.Time) (Message, error) {
	body, err := json.Marshal(job)
	if err != nil {
		return Message{}, err
	}
	id := fmt.Sprintf("erase:%s:%s:%s:%d:%s", job.BrandID, job.SubjectID, job.Rule, requestedAt.UnixNano(), job.After)
	return Message{ID: id, Body: body, NotBefore: job.DueAt}, nil
}

// ListErasures pages through a brand's audit trail, ended brands included (R-ERASE-9).
func (s *ErasureService) ListErasures(ctx context.Context, brandID BrandID, after string, limit int) ([]ErasureRecord, error) {
	if _, err := s.brand(ctx, brandID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return s.audit.ListErasures(ctx, brandID, after, limit)
}
