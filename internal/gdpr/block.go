package gdpr

import (
	"context"
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
