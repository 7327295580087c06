package gdpr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Rule ids of the contact retention schedule, recorded in audit records and consent history.
const (
	RuleContactInactivity   = "R-RET-3"
	RuleNewContact          = "R-RET-4"
	RuleInvitationPending   = "R-RET-5"
	RulePendingConfirmation = "R-RET-6"
	RuleOptedOutContact     = "R-RET-7"
	RuleLegacyContact       = "R-RET-8"
)

// Contact retention actions, beside ActionErase.
const (
	ActionRemind ActionKind = "remind" // the automatic second invitation (R-RET-5)
	ActionExpire ActionKind = "expire" // no answer to two invitations: "opt-out no action" (R-RET-5)
	ActionAssume ActionKind = "assume" // a pre-GDPR contact: opt-in assumed, or marked new (R-RET-8)
)

// GDPRDate is the day the GDPR applied: contacts recorded before it are judged by R-RET-8.
var GDPRDate = time.Date(2018, 5, 25, 0, 0, 0, 0, time.UTC)

// ReviewContact decides the next retention action for a contact, whether or not it is due
// yet. It is the one place where the contact schedule of R-RET-3…8 is written;
// NextContactReview and the sweep both read it, and the worker reads it again before it
// erases, so a contact that changed since (accepted, clicked) is kept.
func ReviewContact(c Contact, b Brand) Action {
	a := reviewContact(c, b)
	if c.Source == SourceBrandSync && a.Kind == ActionErase && (a.Rule == RuleNewContact || a.Rule == RuleContactInactivity) {
		// A synchronised contact follows the brand's privacy rules: the brand's delete
		// erases it, not Popsell's 30-day and 3-year rules (R-RET-9); the contract end
		// erases it with its member (R-ERASE-7).
		return Action{}
	}
	return a
}

func reviewContact(c Contact, b Brand) Action {
	if c.Erased() || b.Ended() {
		return Action{} // an ended brand's contacts go with their members (R-ERASE-7)
	}
	r := b.Retention.WithDefaults()
	st := c.MemberOptIn
	erase := func(rule string, at time.Time) Action {
		return Action{Kind: ActionErase, At: at, Rule: rule, Reason: ReasonInactivity, RequestedAt: at}
	}
	switch v := st.Value; {
	case c.AwaitsPreGDPRMark():
		return Action{Kind: ActionAssume, At: GDPRDate, Rule: RuleLegacyContact} // due at once
	case v == MemberOptInNew:
		// Counted from the day it became new: a pre-GDPR contact without activity from the
		// day R-RET-8 marked it, not erased on arrival.
		return erase(RuleNewContact, r.NewContactInvitation.AddTo(st.At))
	case v == MemberOptInInvitationFailed:
		// The provider refused the address: no invitation was sent, and none can be to an
		// undeliverable address, so R-RET-4's 30 days run from the refusal.
		return erase(RuleNewContact, r.NewContactInvitation.AddTo(st.At))
	case v == MemberOptInInvitationSent && !c.InvitationSentAt.After(st.At):
		return Action{Kind: ActionRemind, At: r.InvitationPending.AddTo(st.At), Rule: RuleInvitationPending}
	case v == MemberOptInInvitationSent:
		return Action{Kind: ActionExpire, At: r.InvitationPending.AddTo(c.InvitationSentAt), Rule: RuleInvitationPending}
	case v == MemberOptInBlogPending:
		return erase(RulePendingConfirmation, r.InvitationPending.AddTo(st.At))
	case v.OptedOut():
		return erase(RuleOptedOutContact, r.OptedOutContact.AddTo(st.At))
	case v.Valid():
		// Opens are not activity (R-RET-3): LastActivityAt holds intentional interactions only.
		return erase(RuleContactInactivity, r.ContactInactivity.AddTo(latest(c.LastActivityAt, c.CreatedAt)))
	}
	return Action{}
}

// NextContactReview is the due-index value of a contact: when its next retention action falls
// due, or zero when none ever will. Every write of a contact recomputes it.
func NextContactReview(c Contact, b Brand) time.Time {
	if a := ReviewContact(c, b); a.Kind != ActionNone {
		return a.At
	}
	return time.Time{}
}

// ContactRetentionDeps are the ports of the ContactRetentionService.
type ContactRetentionDeps struct {
	Due      ContactDueIndex
	Contacts ContactDocuments // a record written alone when its batch fails
	Batch    ContactStore     // the sweep's records, written in batches
	Queue    Queue            // second invitations and erasure jobs
}

// ContactRetentionService runs the contact schedule (R-RET-3…8), the contact part of the
// daily sweep: it reminds, expires and marks contacts, and publishes the erasure jobs that
// the ErasureService runs (erase_contact.go).
type ContactRetentionService struct {
	core
	due      ContactDueIndex
	contacts ContactDocuments
	batch    ContactStore
	queue    Queue
}

// NewContactRetentionService checks its dependencies.
func NewContactRetentionService(c Core, d ContactRetentionDeps) (*ContactRetentionService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("ContactRetentionService", map[string]bool{"Due": d.Due != nil, "Contacts": d.Contacts != nil,
			"Batch": d.Batch != nil, "Queue": d.Queue != nil})
	}
	if err != nil {
		return nil, err
	}
	return &ContactRetentionService{core: cc, due: d.Due, contacts: d.Contacts, batch: d.Batch, queue: d.Queue}, nil
}

// Sweep is the contact part of the daily retention sweep: for every brand it reads only the
// contacts whose next review has come, through the due index, and acts.
func (s *ContactRetentionService) Sweep(ctx context.Context) error {
	brands, err := s.brands.ListBrands(ctx)
	if err != nil {
		return err
	}
	ids := make([]BrandID, len(brands))
	for i, b := range brands {
		ids[i] = b.ID
	}
	return s.sweepBrands(ctx, ids)
}

// sweepBrands is Sweep over the brands named, each read as it is now (after the users' part
// of the sweep, which may have ended its contract); a brand gone since is skipped.
func (s *ContactRetentionService) sweepBrands(ctx context.Context, ids []BrandID) error {
	stopAt := time.Now().Add(SweepBudget)
	var errs []error
	for _, id := range ids {
		b, err := s.brands.GetBrand(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("brand %s: %w", id, err))
			continue
		}
		st, err := s.SweepBrandUntil(ctx, b, stopAt)
		if err != nil {
			errs = append(errs, fmt.Errorf("brand %s: %w", b.ID, err))
			continue
		}
		if st.Due > 0 {
			s.log.InfoContext(ctx, "contact retention sweep", "brand", b.ID, "due", st.Due, "reminders", st.Warnings,
				"erasures", st.Erasures, "paused", st.Paused)
		}
	}
	return errors.Join(errs...)
}

// SweepBrand reviews all of one brand's due contacts.
func (s *ContactRetentionService) SweepBrand(ctx context.Context, b Brand) (SweepStats, error) {
	return s.SweepBrandUntil(ctx, b, time.Time{})
}

// SweepBrandUntil reviews one brand's due contacts and stops at the first page boundary after
// stopAt (zero: never). Every contact it reviews leaves the due set (its review moves on) or
// has its erasure job queued under a fixed id, so the next sweep starting again from the
// beginning repeats no work but re-publishing jobs still queued: no cursor needs keeping.
// Warnings counts second invitations.
func (s *ContactRetentionService) SweepBrandUntil(ctx context.Context, b Brand, stopAt time.Time) (SweepStats, error) {
	var st SweepStats
	b.Retention = b.Retention.WithDefaults()
	now := s.clock.Now()
	var cursor DueCursor
	for {
		page, err := s.due.DueContacts(ctx, b.ID, now, cursor, sweepPage)
		if err != nil {
			return st, err
		}
		if err := s.reviewPage(ctx, b, page, now, &st); err != nil {
			return st, err
		}
		if len(page) < sweepPage {
			return st, nil
		}
		last := page[len(page)-1]
		cursor = DueCursor{At: last.NextReviewAt, ID: last.ID}
		if !stopAt.IsZero() && time.Now().After(stopAt) {
			st.Paused = true
			return st, nil
		}
	}
}

// reviewPage acts on a page of due contacts: erasure jobs are published in one batch and
// erased by the worker, which decides again; reminders and expiries are consent changes
// written here. Jobs go out before the records with ids fixed by the decision, so a crash in
// between publishes nothing twice and sends no mail twice (the sender claims each job id).
func (s *ContactRetentionService) reviewPage(ctx context.Context, b Brand, page []Contact, now time.Time, st *SweepStats) error {
	var (
		mails, erasures []Message
		updated         []Contact
	)
	for _, c := range page {
		st.Due++
		a := ReviewContact(c, b)
		if a.Kind != ActionNone && a.At.After(now) {
			c.NextReviewAt = a.At // indexed under other settings: not due yet
			updated = append(updated, c)
			continue
		}
		src := ConsentSource{Kind: SourceKindSystem, Ref: a.Rule}
		switch a.Kind {
		case ActionErase:
			m, err := erasureMessage(ErasureJob{BrandID: b.ID, SubjectKind: SubjectContact, SubjectID: c.ID, Rule: a.Rule, DueAt: a.At}, a.RequestedAt)
			if err != nil {
				return err
			}
			erasures = append(erasures, m)
			st.Erasures++
			continue
		case ActionRemind:
			id := fmt.Sprintf("remind:%s:%s:%d", b.ID, c.ID, c.MemberOptIn.At.UnixNano())
			m, err := mailMessage(MailJob{BrandID: b.ID, Kind: MailContactInvitation, UserID: c.MemberID, ContactID: c.ID}, id)
			if err != nil {
				return err
			}
			mails = append(mails, m)
			c.InvitationSentAt = now
			st.Warnings++
		case ActionExpire:
			if err := c.ChangeMemberOptIn(MemberOptOutNoAction, src, now); err != nil {
				return err
			}
		case ActionAssume:
			if _, err := c.MarkPreGDPR(now); err != nil {
				return err
			}
		}
		c.NextReviewAt = NextContactReview(c, b)
		updated = append(updated, c)
	}
	if err := publishAll(ctx, s.queue, QueueMail, mails); err != nil {
		return err
	}
	if err := publishAll(ctx, s.queue, QueueErasure, erasures); err != nil {
		return err
	}
	return s.update(ctx, b.ID, updated)
}

// update writes the sweep's records of contacts (writeInBatches).
func (s *ContactRetentionService) update(ctx context.Context, brand BrandID, contacts []Contact) error {
	return writeInBatches(contacts,
		func(chunk []Contact) error { _, err := s.batch.UpdateContacts(ctx, brand, chunk); return err },
		func(c Contact) error { _, err := s.contacts.UpdateContact(ctx, c); return err })
}
