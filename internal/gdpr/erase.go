package gdpr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"
)

// Erasure has one owner. Every path that erases a subject — the retention schedule, the grace
// period after a block, the end of a brand's contract, a brand's sync delete, an SSO or SCIM
// deletion, a member's cascade to its contacts, a contest's end — runs the same procedure,
// whatever the kind of subject (eraseSubject dispatches by kind):
//
//  1. erase the subject's own fields by the erasure policy (policy.go) and write on it, in the
//     same write, its ErasureState: the erasure's id, rule and times, what was erased and what
//     is left to do (blobs, claims). The id is erasureID's, fixed by the subject, the rule and
//     the time the erasure was requested;
//  2. run what is left, each step safe to repeat: the cascade, blobs, kept mail, claims;
//  3. write the audit record through erasureRecords, the one writer of them (R-ERASE-9), which
//     stores it in the audit trail and appends it, as stored, to the ledger (ledger.go).
//
// A crash at any point resumes from the subject alone, and the record's id makes a repeat
// write it once.

// eraseSubject runs erasure jobs by the kind of their subject and answers for each, in order:
// members and external users erased together a brand at a time, contacts one by one, a
// brand fanned out to its users.
func (s *ErasureService) eraseSubject(ctx context.Context, jobs []ErasureJob) []error {
	errs := make([]error, len(jobs))
	if len(jobs) > 0 {
		defer s.erased()
	}
	var users []queuedErasure
	for i, job := range jobs {
		switch {
		case job.SubjectKind == SubjectBrand:
			errs[i] = s.fanOutBrandErasure(ctx, job)
		case job.Rule == RuleContestUGC:
			errs[i] = s.deleteContestUGC(ctx, job, time.Time{})
		case job.SubjectKind == SubjectContact:
			errs[i] = s.eraseContactJob(ctx, job)
		default:
			users = append(users, queuedErasure{i, job})
		}
	}
	for _, group := range groupErasures(users) {
		err := s.eraseUsers(ctx, group)
		if err == nil {
			continue
		}
		if len(group) == 1 {
			errs[group[0].index] = err
			continue
		}
		for _, q := range group {
			errs[q.index] = s.eraseUsers(ctx, []queuedErasure{q})
		}
	}
	return errs
}

// newErasure is the state of a subject's erasure under a rule requested at a time.
func newErasure(brand BrandID, subject, rule string, reason BlockReason, requested, due time.Time) ErasureState {
	return ErasureState{ID: erasureID(brand, subject, rule, requested), Rule: rule, Reason: reason, RequestedAt: requested, DueAt: due}
}

// erasureID is the id of a subject's erasure under a rule requested at a time: fixed by them,
// so a repeated erasure finds its first audit record. Ids sort by request time, so the audit
// trail reads in order. It is the only scheme of erasure ids.
func erasureID(brand BrandID, subject, rule string, requested time.Time) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%d", brand, subject, rule, requested.UnixNano()))
	return fmt.Sprintf("er_%016x_%s", uint64(requested.UnixMilli()), hex.EncodeToString(sum[:8]))
}

// erasureRecords is the one writer of erasure records (R-ERASE-9): an erasure of any kind
// ends by handing its records here.
type erasureRecords struct {
	audit  ErasureAudit
	ledger *LedgerService // nil only where a test leaves the ledger out
	log    *slog.Logger
}

// write stores the records, each once (an erasure repeated after a crash keeps its first
// record), appends them as stored to the ledger, and logs each erasure by ids. It returns the
// stored records in the order given. A failed append fails the erasure, whose repeat appends
// the same bytes again.
func (w erasureRecords) write(ctx context.Context, brand BrandID, records []ErasureRecord) ([]ErasureRecord, error) {
	for i := range records {
		records[i].FieldsErased = sortedOrEmpty(records[i].FieldsErased)
		records[i].FieldsHashed = sortedOrEmpty(records[i].FieldsHashed)
	}
	stored, err := w.audit.PutErasures(ctx, brand, records)
	if err != nil {
		return nil, err
	}
	if w.ledger != nil {
		if err := w.ledger.Append(ctx, stored...); err != nil {
			return nil, err
		}
	}
	for _, r := range stored {
		attrs := []any{"brand", brand, "subject", r.SubjectID, "kind", string(r.SubjectKind), "rule", r.Rule}
		if r.Role != nil {
			attrs = append(attrs, "role", int(*r.Role))
		}
		if r.SubjectKind != SubjectContact {
			attrs = append(attrs, "contactsErased", r.ContactsErased, "contactsKept", r.ContactsKept, "blobs", r.BlobsDeleted)
		}
		w.log.InfoContext(ctx, "subject erased", attrs...)
	}
	return stored, nil
}

// record is the audit record of an erasure whose state is st.
func (st ErasureState) record(brand BrandID, subject string, kind SubjectKind, role *Role, doneAt time.Time) ErasureRecord {
	return ErasureRecord{BrandID: brand, ID: st.ID, SubjectID: subject, SubjectKind: kind, Role: role, Rule: st.Rule,
		Reason: st.Reason, RequestedAt: st.RequestedAt, DueAt: st.DueAt, DoneAt: doneAt,
		FieldsErased: st.FieldsErased, FieldsHashed: st.FieldsHashed, BlobsDeleted: len(st.PendingBlobs) + st.BlobsDeleted}
}

// sortedOrEmpty is a sorted copy of s, and [] rather than null in JSON when s is empty: an
// audit record lists every field name in a stable order.
func sortedOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return sortedCopy(s)
}

// reapply erases again, by this same procedure, the subjects of erasure records that a
// restored store lost (restore.go): each under the record's own erasure, not re-deciding
// whether it is due — it was, and it happened. The records must already be in the audit
// trail, so that each erasure's last step finds its record there and appends the ledger's
// very bytes again. A subject the store does not have (created after the backup) or has
// erased under that erasure already is left as it is; one stopped part way resumes.
func (s *ErasureService) reapply(ctx context.Context, brand BrandID, records []ErasureRecord) error {
	defer s.erased()
	var users []queuedErasure
	for i, r := range records {
		job := ErasureJob{BrandID: brand, SubjectKind: r.SubjectKind, SubjectID: r.SubjectID, Rule: r.Rule, DueAt: r.DueAt}
		var err error
		switch {
		case r.Rule == RuleContestUGC:
			err = s.deleteContestUGC(ctx, job, r.DoneAt)
		case r.SubjectKind == SubjectContact:
			_, err = s.contactEraser.erase(ctx, brand, r.SubjectID, func(Contact, time.Time) (ErasureState, bool) {
				return r.state(), true
			})
		default:
			users = append(users, queuedErasure{i, job})
		}
		if err != nil {
			return err
		}
	}
	for _, group := range groupErasures(users) {
		forced := make(map[string]ErasureState, len(group))
		ids := make([]string, len(group))
		for i, q := range group {
			ids[i], forced[q.job.SubjectID] = q.job.SubjectID, records[q.index].state()
		}
		if err := s.eraseUsersBy(ctx, brand, ids, forcedErasure(forced)); err != nil {
			return err
		}
	}
	return nil
}

// forcedErasure erases each user under its recorded erasure unless it holds it already or is
// erased for good: an erased user takes only a contract end's second pass (R-ERASE-7).
func forcedErasure(states map[string]ErasureState) userDecision {
	return func(u User, _ Brand, _ time.Time) (ErasureState, bool) {
		st, ok := states[u.ID]
		switch {
		case !ok, u.Erasure != nil && u.Erasure.ID == st.ID:
			return ErasureState{}, false
		case u.Status == UserErased && (st.Rule != RuleBrandContractEnd || !needsContractEndPass(u)):
			return ErasureState{}, false
		}
		return st, true
	}
}

// state is the erasure a record was written for, as an erasure begins it.
func (r ErasureRecord) state() ErasureState {
	return ErasureState{ID: r.ID, Rule: r.Rule, Reason: r.Reason, RequestedAt: r.RequestedAt, DueAt: r.DueAt}
}
