package gdpr

import (
	"context"
	"errors"
	"strings"
	"time"
)

// HandleErasureJob runs one erasure job: HandleErasureJobs with a batch of one.
func (s *ErasureService) HandleErasureJob(ctx context.Context, body []byte) error {
	return s.HandleErasureJobs(ctx, [][]byte{body})[0]
}

// HandleErasureJobs runs erasure jobs and returns one outcome per job, in order: nil when
// its erasure is done or was not due. Each job re-reads its subject and erases only what is
// due now: a restore, a login or an earlier run makes it a no-op. Every step is safe to
// repeat, so a redelivery after a crash at any point completes the erasure with one audit
// record.
//
// Jobs of one brand run together, each step of the erasure once for all of them, so that a
// batch shares each store write instead of paying a commit per subject per step. A group
// that fails is run again a job at a time: one subject that cannot be erased holds back no
// other.
func (s *ErasureService) HandleErasureJobs(ctx context.Context, bodies [][]byte) []error {
	errs := make([]error, len(bodies))
	var (
		jobs  []ErasureJob
		index []int
	)
	for i, body := range bodies {
		var job ErasureJob
		err := decodeJob(body, &job)
		if err == nil && job.SubjectKind != SubjectBrand {
			err = job.validate()
		}
		if err != nil {
			errs[i] = err
			continue
		}
		jobs, index = append(jobs, job), append(index, i)
	}
	for j, err := range s.eraseSubject(ctx, jobs) {
		errs[index[j]] = err
	}
	return errs
}

// queuedErasure is a job with its place in the batch.
type queuedErasure struct {
	index int
	job   ErasureJob
}

// groupErasures splits jobs into groups of one brand, at most MaxBatch each, that name each
// subject once: a second job for a subject goes to a later group, which sees what the first
// did.
func groupErasures(jobs []queuedErasure) [][]queuedErasure {
	var groups [][]queuedErasure
	var subjects []map[string]bool
	open := map[BrandID]int{}
	for _, q := range jobs {
		g, ok := open[q.job.BrandID]
		if !ok || len(groups[g]) == MaxBatch || subjects[g][q.job.SubjectID] {
			g = len(groups)
			groups, subjects = append(groups, nil), append(subjects, map[string]bool{})
			open[q.job.BrandID] = g
		}
		groups[g] = append(groups[g], q)
		subjects[g][q.job.SubjectID] = true
	}
	return groups
}

// erasureSteps name the points an erasure can stop at; they are recorded on the user.
const (
	stepCascade = "cascade"
	stepDone    = "done"
)

// eraseUsers runs the jobs of one group. It first erases each due user's own fields and
// records on it what is left to do, so that every later step can resume from the user alone.
func (s *ErasureService) eraseUsers(ctx context.Context, group []queuedErasure) error {
	jobs := make(map[string]ErasureJob, len(group))
	ids := make([]string, len(group))
	for i, q := range group {
		jobs[q.job.SubjectID], ids[i] = q.job, q.job.SubjectID
	}
	return s.eraseUsersBy(ctx, group[0].job.BrandID, ids, func(u User, b Brand, now time.Time) (ErasureState, bool) {
		if u.Status != UserErased {
			return s.erasureDue(u, b, jobs[u.ID], now)
		}
		if needsContractEndPass(u) && contractEndDue(b, now) {
			// Erased earlier under another rule: what that rule kept (contacts with a Brand
			// opt-in, staff names) goes now (R-ERASE-7).
			ce := b.ContractEnd
			return newErasure(u.BrandID, u.ID, RuleBrandContractEnd, ReasonBrandEnded, ce.RequestedAt, ce.DueAt), true
		}
		return ErasureState{}, false
	})
}

// userDecision says whether a user read now is to be erased, and under which erasure. It is
// not asked about a user whose erasure is under way: that one resumes.
type userDecision func(u User, b Brand, now time.Time) (ErasureState, bool)

// eraseUsersBy erases the users of one brand, named once each, that decide picks, and
// resumes those whose erasure stopped part way.
func (s *ErasureService) eraseUsersBy(ctx context.Context, brand BrandID, ids []string, decide userDecision) error {
	b, err := s.brand(ctx, brand)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var started []User
	err = retry(ctx, func() error {
		users, err := s.users.GetUsers(ctx, b.ID, ids)
		if err != nil {
			return err
		}
		started = started[:0]
		erase := make([]User, 0, len(users))
		now := s.clock.Now()
		for _, u := range users {
			if u.Status == UserErased && u.Erasure != nil && u.Erasure.Step != stepDone {
				started = append(started, u) // erased in part by an earlier run: resume
				continue
			}
			if state, ok := decide(u, b, now); ok {
				erase = append(erase, s.startErasure(u, b, state))
			}
		}
		if len(erase) == 0 {
			return nil
		}
		erased, err := s.users.UpdateUsers(ctx, b.ID, erase)
		started = append(started, erased...)
		return err // a conflict re-reads them all: the erased ones resume, the rest decide again
	})
	if err != nil || len(started) == 0 {
		return err
	}
	return s.finishErasures(ctx, b, started)
}

// erasureDue decides whether the job's erasure is due now, and with which rule. Once the
// brand's contract end is due, every erasure is the contract end's, whatever job asked for
// it: it erases what the other rules keep (R-ERASE-7).
func (s *ErasureService) erasureDue(u User, b Brand, job ErasureJob, now time.Time) (ErasureState, bool) {
	if contractEndDue(b, now) {
		ce := b.ContractEnd
		return newErasure(u.BrandID, u.ID, RuleBrandContractEnd, ReasonBrandEnded, ce.RequestedAt, ce.DueAt), true
	}
	if job.Rule == RuleBrandContractEnd {
		return ErasureState{}, false
	}
	a := Review(u, b)
	if a.Kind != ActionErase || now.Before(a.At) {
		return ErasureState{}, false
	}
	return newErasure(u.BrandID, u.ID, a.Rule, a.Reason, a.RequestedAt, a.At), true
}

// contractEndDue reports a brand whose contract has ended and whose grace period is over.
func contractEndDue(b Brand, now time.Time) bool {
	return b.Ended() && b.ContractEnd != nil && !now.Before(b.ContractEnd.DueAt)
}

// needsContractEndPass reports a user erased under a rule other than the contract end's,
// whose erasure kept what the contract end erases: contacts with a Brand opt-in (R-ERASE-6)
// and the names of roles 1–6 (R-ERASE-1). A void user (a fenced create) has nothing.
func needsContractEndPass(u User) bool {
	return u.Status == UserErased && u.Erasure != nil && u.Erasure.Step == stepDone &&
		u.Erasure.Rule != RuleBrandContractEnd && u.Erasure.Reason != ReasonAbandoned
}

// startErasure applies the erasure policy to the user's own fields and records on it the
// steps still to run: the blobs to delete and the claims to release.
func (s *ErasureService) startErasure(u User, b Brand, state ErasureState) User {
	claims := s.claimsOf(u)
	erase := EraseUser
	if state.Rule == RuleBrandContractEnd {
		erase = EraseUserAtContractEnd
	}
	erased, res := erase(u, s.hasher)
	state.FieldsErased, state.FieldsHashed = res.FieldsErased, res.FieldsHashed
	state.PendingBlobs, state.PendingClaims, state.Step = res.Blobs, claims, stepCascade
	erased.Erasure = &state
	erased.NextReviewAt = NextReview(erased, b)
	return erased
}

// claimsOf lists the uniqueness claims a user holds, to release once it is erased so the
// address can sign up again as a new member: under every key version, retired ones included,
// so no claim the re-keying has not yet removed outlives the erasure.
func (s *ErasureService) claimsOf(u User) []string {
	var keys []string
	for _, e := range []string{u.Email, u.EmailTmp} {
		if e != "" && !s.hasher.IsDigest(e) {
			keys = append(keys, keyed(ClaimEmail, s.hasher.AllDigests(NormalizeEmail(e)))...)
		}
	}
	if u.ExternalID != "" && !s.hasher.IsDigest(u.ExternalID) {
		keys = append(keys, keyed(ClaimExternalID, s.hasher.AllDigests(u.ExternalID))...)
	}
	return keys
}

// finishErasures runs the steps after the users' own fields are erased, each idempotent and
// each once for all of them: cascade to contacts, delete blobs, forget kept mail, delete their
// exports, release claims, write the audit records, mark done.
func (s *ErasureService) finishErasures(ctx context.Context, b Brand, users []User) error {
	contacts, mailed, err := s.cascadeContacts(ctx, b.ID, users)
	if err != nil {
		return err
	}
	var claims []Claim
	for _, u := range users {
		for _, key := range u.Erasure.PendingBlobs {
			if err := s.blobs.Delete(ctx, key); err != nil {
				return err
			}
		}
		for _, key := range u.Erasure.PendingClaims {
			claims = append(claims, Claim{BrandID: b.ID, Key: key, Owner: u.ID})
			// The addresses a user claimed are the ones it was mailed at.
			if digest, ok := strings.CutPrefix(key, ClaimEmail); ok {
				mailed = append(mailed, digest)
			}
		}
	}
	if s.sent != nil && len(mailed) > 0 {
		if err := s.sent.ForgetRecipients(ctx, b.ID, mailed); err != nil {
			return err
		}
	}
	if s.exports != nil {
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		if _, err := s.exports.DeleteSubjectExports(ctx, b.ID, ids); err != nil {
			return err
		}
	}
	if err := s.claims.ReleaseClaims(ctx, b.ID, claims...); err != nil {
		return err
	}
	now := s.clock.Now()
	records := make([]ErasureRecord, len(users))
	for i, u := range users {
		role, n := u.Role, contacts[u.ID]
		records[i] = u.Erasure.record(b.ID, u.ID, u.Kind, &role, now)
		records[i].ContactsErased, records[i].ContactsKept = n.erased, n.kept
	}
	if records, err = s.records.write(ctx, b.ID, records); err != nil {
		return err
	}
	doneAt := make(map[string]time.Time, len(records))
	for _, r := range records {
		doneAt[r.SubjectID] = r.DoneAt // the first record's time, should this be a repeat
	}
	return s.markDone(ctx, b, users, doneAt)
}

// markDone ends the users' erasures. The users are usually still current; a conflict
// re-reads them all.
func (s *ErasureService) markDone(ctx context.Context, b Brand, users []User, doneAt map[string]time.Time) error {
	brand := b.ID
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	current := users
	return retry(ctx, func() error {
		if current == nil {
			var err error
			if current, err = s.users.GetUsers(ctx, brand, ids); err != nil {
				return err
			}
		}
		var done []User
		for _, u := range current {
			if u.Erasure == nil || u.Erasure.Step == stepDone {
				continue
			}
			st := *u.Erasure
			st.Step, st.DoneAt = stepDone, doneAt[u.ID]
			st.BlobsDeleted += len(st.PendingBlobs)
			st.PendingBlobs, st.PendingClaims = nil, nil
			u.Erasure = &st
			// Zero but for an erasure under another rule that ended while the brand's
			// contract end is pending: that one still has work to do (R-ERASE-7).
			u.NextReviewAt = NextReview(u, b)
			done = append(done, u)
		}
		current = nil
		if len(done) == 0 {
			return nil
		}
		_, err := s.users.UpdateUsers(ctx, brand, done)
		return err
	})
}

// contactCounts are a member's contacts that its erasure erased and those it kept.
type contactCounts struct{ erased, kept int }

// cascadeContacts erases the members' contacts that go with them (R-ERASE-6, R-ERASE-7), in
// batches, and counts from the stored state those each erasure erased and those it kept: the
// same numbers however often it runs.
func (s *ErasureService) cascadeContacts(ctx context.Context, brand BrandID, members []User) (map[string]contactCounts, []string, error) {
	ids := make([]string, len(members))
	erasures := make(map[string]*ErasureState, len(members))
	for i, u := range members {
		ids[i], erasures[u.ID] = u.ID, u.Erasure
	}
	var (
		counts  map[string]contactCounts
		digests []string // of the addresses erased, whose kept mail goes too
	)
	err := retry(ctx, func() error {
		contacts, err := s.contacts.ContactsOfMembers(ctx, brand, ids)
		if err != nil {
			return err
		}
		counts, digests = make(map[string]contactCounts, len(members)), digests[:0]
		var held []string // the addresses about to be erased, still readable
		erase := make([]Contact, 0, len(contacts))
		now := s.clock.Now()
		for _, c := range contacts {
			st, n := erasures[c.MemberID], counts[c.MemberID]
			switch {
			case c.ErasedBy == st.ID:
				n.erased++
				digests = appendDigest(digests, c.Email)
			case c.Erased():
			case !cascades(c, st.Rule):
				n.kept++
			default:
				held = append(held, c.Email)
				c, _ = EraseContact(c, s.hasher)
				c.ErasedAt, c.ErasedBy = now, st.ID
				erase = append(erase, c)
				n.erased++
				digests = appendDigest(digests, c.Email)
			}
			counts[c.MemberID] = n
		}
		if len(erase) == 0 {
			return nil
		}
		if err := forgetOlderMail(ctx, s.sent, s.hasher, brand, held...); err != nil {
			return err
		}
		_, err = s.contacts.UpdateContacts(ctx, brand, erase)
		return err // a conflict re-reads them all: erased ones count, the rest retry
	})
	return counts, digests, err
}

// appendDigest adds an erased contact's address digest, if it had an address.
func appendDigest(digests []string, erasedEmail string) []string {
	if erasedEmail == "" {
		return digests
	}
	return append(digests, erasedEmail)
}

// brandFanOutPage bounds one run of the brand-wide fan-out; the job re-publishes itself for
// the next page, so no run grows with the size of the brand.
const brandFanOutPage = 500

// fanOutBrandErasure publishes one erasure job per user of an ended brand, a page at a time
// (R-ERASE-7). Each user's job erases its contacts with it.
func (s *ErasureService) fanOutBrandErasure(ctx context.Context, job ErasureJob) error {
	if !job.BrandID.Valid() || job.SubjectID != string(job.BrandID) {
		return Errorf(CodeInvalid, "brand erasure job needs its brandId as subjectId")
	}
	b, err := s.brand(ctx, job.BrandID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ce := b.ContractEnd
	if !contractEndDue(b, s.clock.Now()) {
		return nil // not due: the daily sweep publishes it again once it is
	}
	users, err := s.users.ListUsers(ctx, b.ID, job.After, brandFanOutPage)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Status == UserErased && u.Erasure != nil && u.Erasure.Step == stepDone && !needsContractEndPass(u) {
			continue // erased by the contract end already, or a void user
		}
		if _, err := publishErasure(ctx, s.queue, ErasureJob{BrandID: b.ID, SubjectKind: u.Kind, SubjectID: u.ID, Rule: RuleBrandContractEnd, DueAt: ce.DueAt}, ce.RequestedAt); err != nil {
			return err
		}
	}
	if len(users) == brandFanOutPage {
		next := brandJob(b)
		next.After = users[len(users)-1].ID
		_, err := publishErasure(ctx, s.queue, next, ce.RequestedAt)
		return err
	}
	return retry(ctx, func() error {
		cur, err := s.brands.GetBrand(ctx, b.ID)
		if err != nil || cur.ContractEnd == nil || !cur.ContractEnd.FannedOutAt.IsZero() {
			return err
		}
		cur.ContractEnd.FannedOutAt = s.clock.Now()
		_, err = s.brands.PutBrand(ctx, cur)
		return err
	})
}

// ReasonContestEnded is the reason of a contest UGC deletion: the contest's keep-until date
// has passed (R-ERASE-2).
const ReasonContestEnded BlockReason = "contest_retention_ended"

// deleteContestUGC deletes the user's contest UGC whose keep-until date has passed, erased
// user or not (R-ERASE-2). The blobs go first, then the audit record under an id fixed by
// the earliest date, then the user without them: a redelivery after a crash at any point
// ends with the blobs gone, one record, and the user's list updated.
//
// asOf, when set, is the time the deletion is judged at instead of now: a replay after a
// restore (restore.go) deletes what was deleted then, whatever the clock says now.
func (s *ErasureService) deleteContestUGC(ctx context.Context, job ErasureJob, asOf time.Time) error {
	b, err := s.brand(ctx, job.BrandID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = retry(ctx, func() error {
		u, err := s.users.GetUser(ctx, b.ID, job.SubjectID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if !asOf.IsZero() {
			now = asOf
		}
		var expired []string
		var first time.Time
		kept := u.UGC[:0:0]
		for _, g := range u.UGC {
			if g.ContestID == "" || g.KeepUntil.IsZero() || now.Before(g.KeepUntil) {
				kept = append(kept, g)
				continue
			}
			expired = append(expired, g.Key)
			if first.IsZero() || g.KeepUntil.Before(first) {
				first = g.KeepUntil
			}
		}
		if len(expired) == 0 {
			return nil // done already, or not due
		}
		for _, key := range expired {
			if err := s.blobs.Delete(ctx, key); err != nil {
				return err
			}
		}
		role, st := u.Role, newErasure(b.ID, u.ID, RuleContestUGC, ReasonContestEnded, first, first)
		st.FieldsErased, st.BlobsDeleted = []string{"ugc"}, len(expired)
		if _, err := s.records.write(ctx, b.ID, []ErasureRecord{st.record(b.ID, u.ID, u.Kind, &role, now)}); err != nil {
			return err
		}
		if len(kept) == 0 {
			kept = nil
		}
		u.UGC = kept
		u.NextReviewAt = NextReview(u, b)
		if _, err := s.users.UpdateUser(ctx, u); err != nil {
			return err // a conflict re-reads: the blobs are gone already, the record is kept
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
