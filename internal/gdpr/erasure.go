package gdpr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// BlockMember stops a user's access now and schedules the erasure of its personal data after
// the brand's grace period, until when it can be restored (R-ERASE-5, R-SSO-2). Blocking a
// blocked user changes nothing.
func (s *Service) BlockMember(ctx context.Context, brandID BrandID, id string, reason BlockReason) (User, error) {
	switch reason {
	case ReasonUnsubscribed, ReasonEndOfContract, ReasonSSODeleted:
	default:
		return User{}, Errorf(CodeInvalid, "reason must be unsubscribed or end_of_contract")
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	out, err := s.changeUser(ctx, b, id, func(u *User) error {
		switch u.Status {
		case UserBlocked:
			return errUnchanged
		case UserErased:
			return Errorf(CodeConflict, "this member's personal data is already erased")
		}
		now := s.clock.Now()
		block := &Block{Reason: reason, Rule: RuleGracePeriod, RequestedAt: now,
			DueAt: b.Retention.ErasureGrace.AddTo(now), PreviousStatus: u.Status}
		// Publish first, then record: a job whose block was never recorded finds nothing to
		// do, whereas a block without its job would wait for the next sweep.
		var err error
		block.JobRef, err = s.publishErasure(ctx, ErasureJob{BrandID: b.ID, SubjectKind: u.Kind, SubjectID: u.ID, Rule: block.Rule, DueAt: block.DueAt}, block.RequestedAt)
		u.Status, u.Block = UserBlocked, block
		return err
	})
	if err == nil {
		s.log.InfoContext(ctx, "member blocked for deletion", "brand", b.ID, "member", id, "reason", string(reason), "dueAt", out.Block.DueAt)
	}
	return out, err
}

// RestoreMember rolls back a pending deletion within the grace period: the user gets its
// access back with every field as it was (R-ERASE-5).
func (s *Service) RestoreMember(ctx context.Context, brandID BrandID, id string) (User, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	var ref string
	out, err := s.changeUser(ctx, b, id, func(u *User) error {
		switch {
		case u.Status == UserErased:
			return Errorf(CodeConflict, "the erasure already ran: nothing can be restored")
		case u.Status != UserBlocked || u.Block == nil:
			return Errorf(CodeConflict, "this member is not blocked for deletion")
		}
		ref = u.Block.JobRef
		u.Status, u.Block = u.Block.PreviousStatus, nil
		return nil
	})
	if err != nil {
		return User{}, err
	}
	if ref != "" {
		if err := s.queue.Cancel(ctx, QueueErasure, ref); err != nil {
			// The worker re-checks the member before erasing, so a job left behind is harmless.
			s.log.WarnContext(ctx, "could not cancel the erasure job", "brand", b.ID, "member", id, "err", err)
		}
	}
	s.log.InfoContext(ctx, "member restored", "brand", b.ID, "member", id)
	return out, nil
}

// ActivityKind is what the platform reports about a user.
type ActivityKind string

const (
	ActivityLogin       ActivityKind = "login"       // a member signed in (R-RET-1)
	ActivityInteraction ActivityKind = "interaction" // an external user used a widget (R-RET-2)
)

// RecordActivity resets a user's inactivity: the mark moves, and warnings sent for the old
// mark no longer count (R-RET-1: a login cancels).
func (s *Service) RecordActivity(ctx context.Context, brandID BrandID, id string, kind ActivityKind) (User, error) {
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
func (s *Service) changeUser(ctx context.Context, b Brand, id string, change func(*User) error) (User, error) {
	var out User
	err := retry(ctx, func() error {
		u, err := s.user(ctx, b.ID, id)
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
		out, err = s.store.UpdateUser(ctx, u)
		return err
	})
	return out, err
}

// EndContract ends the brand's contract: no new data is accepted, and every user and contact
// of the brand is erased after the grace period (R-ERASE-7). Ending an ended brand changes
// nothing.
func (s *Service) EndContract(ctx context.Context, brandID BrandID) (Brand, error) {
	var out Brand
	err := retry(ctx, func() error {
		b, err := s.brand(ctx, brandID)
		if err != nil {
			return err
		}
		if b.Ended() {
			out = b
			return nil
		}
		now := s.clock.Now()
		b.Status, b.UpdatedAt = BrandEnded, now
		b.ContractEnd = &ContractEnd{RequestedAt: now, DueAt: b.Retention.ErasureGrace.AddTo(now)}
		if _, err := s.publishErasure(ctx, brandJob(b), now); err != nil {
			return err
		}
		out, err = s.store.PutBrand(ctx, b)
		return err
	})
	if err == nil {
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
func (s *Service) publishErasure(ctx context.Context, job ErasureJob, requestedAt time.Time) (string, error) {
	m, err := erasureMessage(job, requestedAt)
	if err != nil {
		return "", err
	}
	return s.queue.Publish(ctx, QueueErasure, m)
}

func erasureMessage(job ErasureJob, requestedAt time.Time) (Message, error) {
	body, err := json.Marshal(job)
	if err != nil {
		return Message{}, err
	}
	id := fmt.Sprintf("erase:%s:%s:%s:%d:%s", job.BrandID, job.SubjectID, job.Rule, requestedAt.UnixNano(), job.After)
	return Message{ID: id, Body: body, NotBefore: job.DueAt}, nil
}

// user loads a user, mapping a missing one to a client-facing not-found.
func (s *Service) user(ctx context.Context, brand BrandID, id string) (User, error) {
	if id == "" || len(id) > 64 {
		return User{}, Errorf(CodeNotFound, "unknown member")
	}
	u, err := s.store.GetUser(ctx, brand, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, Errorf(CodeNotFound, "unknown member")
	}
	return u, err
}

// ListErasures pages through a brand's audit trail, ended brands included (R-ERASE-9).
func (s *Service) ListErasures(ctx context.Context, brandID BrandID, after string, limit int) ([]ErasureRecord, error) {
	if _, err := s.brand(ctx, brandID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return s.store.ListErasures(ctx, brandID, after, limit)
}

// HandleErasureJob runs one erasure job. It re-reads the subject and erases only what is due
// now: a restore, a login or an earlier run makes the job a no-op. Every step is safe to
// repeat, so a redelivery after a crash at any point completes the erasure with one audit
// record.
func (s *Service) HandleErasureJob(ctx context.Context, body []byte) error {
	var job ErasureJob
	if err := decodeJob(body, &job); err != nil {
		return err
	}
	if job.SubjectKind == SubjectBrand {
		return s.fanOutBrandErasure(ctx, job)
	}
	if err := job.validate(); err != nil {
		return err
	}
	if job.SubjectKind == SubjectContact {
		return Errorf(CodeInvalid, "contacts are erased through their member")
	}
	b, err := s.brand(ctx, job.BrandID)
	if ErrorCode(err) == CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return s.eraseUser(ctx, b, job)
}

// erasureSteps name the points an erasure can stop at; they are recorded on the user.
const (
	stepCascade = "cascade"
	stepDone    = "done"
)

func (s *Service) eraseUser(ctx context.Context, b Brand, job ErasureJob) error {
	var u User
	err := retry(ctx, func() error {
		var err error
		u, err = s.store.GetUser(ctx, b.ID, job.SubjectID)
		if err != nil {
			return err
		}
		if u.Status == UserErased {
			return nil // erased already, perhaps only in part: resume below
		}
		now := s.clock.Now()
		state, ok := s.erasureDue(u, b, job, now)
		if !ok {
			return nil
		}
		claims := s.claimsOf(u)
		erased, res := EraseUser(u, s.hasher)
		state.FieldsErased, state.FieldsHashed = res.FieldsErased, res.FieldsHashed
		state.PendingBlobs, state.PendingClaims, state.Step = res.Blobs, claims, stepCascade
		erased.Erasure = &state
		erased.NextReviewAt = NextReview(erased, b)
		u, err = s.store.UpdateUser(ctx, erased)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil || u.Status != UserErased || u.Erasure == nil || u.Erasure.Step == stepDone {
		return err
	}
	return s.finishErasure(ctx, b, u)
}

// erasureDue decides whether the job's erasure is due now, and with which rule.
func (s *Service) erasureDue(u User, b Brand, job ErasureJob, now time.Time) (ErasureState, bool) {
	if job.Rule == RuleBrandContractEnd {
		ce := b.ContractEnd
		if !b.Ended() || ce == nil || now.Before(ce.DueAt) {
			return ErasureState{}, false
		}
		return s.newErasure(u, RuleBrandContractEnd, ReasonBrandEnded, ce.RequestedAt, ce.DueAt), true
	}
	a := Review(u, b)
	if a.Kind != ActionErase || now.Before(a.At) {
		return ErasureState{}, false
	}
	return s.newErasure(u, a.Rule, a.Reason, a.RequestedAt, a.At), true
}

func (s *Service) newErasure(u User, rule string, reason BlockReason, requested, due time.Time) ErasureState {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%d", u.BrandID, u.ID, rule, requested.UnixNano()))
	// Ids sort by request time, so the audit trail reads in order.
	id := fmt.Sprintf("er_%016x_%s", uint64(requested.UnixMilli()), hex.EncodeToString(sum[:8]))
	return ErasureState{ID: id, Rule: rule, Reason: reason, RequestedAt: requested, DueAt: due}
}

// claimsOf lists the uniqueness claims a user holds, to release once it is erased so the
// address can sign up again as a new member.
func (s *Service) claimsOf(u User) []string {
	var keys []string
	for _, e := range []string{u.Email, u.EmailTmp} {
		if e != "" && !s.hasher.IsDigest(e) {
			keys = append(keys, ClaimEmail+s.hasher.EmailDigest(e))
		}
	}
	if u.ExternalID != "" && !s.hasher.IsDigest(u.ExternalID) {
		keys = append(keys, ClaimExternalID+s.hasher.Digest(u.ExternalID))
	}
	return keys
}

// finishErasure runs the steps after the user's own fields are erased; each is idempotent:
// cascade to contacts, delete blobs, release claims, write the audit record, mark done.
func (s *Service) finishErasure(ctx context.Context, b Brand, u User) error {
	st := *u.Erasure
	erasedN, kept, err := s.cascadeContacts(ctx, b.ID, u.ID, st)
	if err != nil {
		return err
	}
	for _, key := range st.PendingBlobs {
		if err := s.blobs.Delete(ctx, key); err != nil {
			return err
		}
	}
	for _, key := range st.PendingClaims {
		if err := s.store.ReleaseClaim(ctx, b.ID, key, u.ID); err != nil {
			return err
		}
	}
	role := u.Role
	rec := ErasureRecord{
		BrandID: b.ID, ID: st.ID, SubjectID: u.ID, SubjectKind: u.Kind, Role: &role, Rule: st.Rule,
		Reason: st.Reason, RequestedAt: st.RequestedAt, DueAt: st.DueAt, DoneAt: s.clock.Now(),
		FieldsErased: nonNil(st.FieldsErased), FieldsHashed: nonNil(st.FieldsHashed),
		BlobsDeleted: len(st.PendingBlobs) + st.BlobsDeleted, ContactsErased: erasedN, ContactsKept: kept,
	}
	rec, err = s.store.PutErasure(ctx, rec)
	if err != nil {
		return err
	}
	cur := u // usually still current; a conflict re-reads
	err = retry(ctx, func() error {
		if cur.Version == "" {
			if cur, err = s.store.GetUser(ctx, b.ID, u.ID); err != nil {
				return err
			}
		}
		if cur.Erasure == nil || cur.Erasure.Step == stepDone {
			return nil
		}
		cur.Erasure.Step, cur.Erasure.DoneAt = stepDone, rec.DoneAt
		cur.Erasure.BlobsDeleted += len(cur.Erasure.PendingBlobs)
		cur.Erasure.PendingBlobs, cur.Erasure.PendingClaims = nil, nil
		cur.NextReviewAt = time.Time{}
		_, err = s.store.UpdateUser(ctx, cur)
		cur.Version = ""
		return err
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "subject erased", "brand", b.ID, "subject", u.ID, "kind", string(u.Kind),
		"role", int(u.Role), "rule", st.Rule, "contactsErased", erasedN, "contactsKept", kept)
	return nil
}

// cascadeContacts erases the member's contacts that go with it (R-ERASE-6, R-ERASE-7), in
// batches, and counts from the stored state those this erasure erased and those it kept:
// the same numbers however often it runs.
func (s *Service) cascadeContacts(ctx context.Context, brand BrandID, memberID string, st ErasureState) (erased, kept int, err error) {
	err = retry(ctx, func() error {
		contacts, err := s.store.ContactsOfMember(ctx, brand, memberID)
		if err != nil {
			return err
		}
		erased, kept = 0, 0
		var todo []Contact
		now := s.clock.Now()
		for _, c := range contacts {
			switch {
			case c.ErasedBy == st.ID:
				erased++
			case c.Erased():
			case !cascades(c, st.Rule):
				kept++
			default:
				c, _ = EraseContact(c, s.hasher)
				c.ErasedAt, c.ErasedBy = now, st.ID
				todo = append(todo, c)
			}
		}
		for len(todo) > 0 {
			chunk := todo[:min(len(todo), MaxBatch)]
			todo = todo[len(chunk):]
			if _, err := s.store.UpdateContacts(ctx, brand, chunk); err != nil {
				return err // a conflict re-reads them all: erased ones count, the rest retry
			}
			erased += len(chunk)
		}
		return nil
	})
	return erased, kept, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return sortedCopy(s)
}

// brandFanOutPage bounds one run of the brand-wide fan-out; the job re-publishes itself for
// the next page, so no run grows with the size of the brand.
const brandFanOutPage = 500

// fanOutBrandErasure publishes one erasure job per user of an ended brand, a page at a time
// (R-ERASE-7). Each user's job erases its contacts with it.
func (s *Service) fanOutBrandErasure(ctx context.Context, job ErasureJob) error {
	if !job.BrandID.Valid() || job.SubjectID != string(job.BrandID) {
		return Errorf(CodeInvalid, "brand erasure job needs its brandId as subjectId")
	}
	b, err := s.brand(ctx, job.BrandID)
	if ErrorCode(err) == CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	ce := b.ContractEnd
	if !b.Ended() || ce == nil || s.clock.Now().Before(ce.DueAt) {
		return nil // not due: the daily sweep publishes it again once it is
	}
	users, err := s.store.ListUsers(ctx, b.ID, job.After, brandFanOutPage)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Status == UserErased && u.Erasure != nil && u.Erasure.Step == stepDone {
			continue
		}
		if _, err := s.publishErasure(ctx, ErasureJob{BrandID: b.ID, SubjectKind: u.Kind, SubjectID: u.ID, Rule: RuleBrandContractEnd, DueAt: ce.DueAt}, ce.RequestedAt); err != nil {
			return err
		}
	}
	if len(users) == brandFanOutPage {
		next := brandJob(b)
		next.After = users[len(users)-1].ID
		_, err := s.publishErasure(ctx, next, ce.RequestedAt)
		return err
	}
	return retry(ctx, func() error {
		cur, err := s.store.GetBrand(ctx, b.ID)
		if err != nil || cur.ContractEnd == nil || !cur.ContractEnd.Scheduled.IsZero() {
			return err
		}
		cur.ContractEnd.Scheduled = s.clock.Now()
		_, err = s.store.PutBrand(ctx, cur)
		return err
	})
}
