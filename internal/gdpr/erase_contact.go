package gdpr

import (
	"context"
	"errors"
	"time"
)

// contactEraser erases one contact on its own — by its retention rule (R-RET-3…8) or the
// brand's sync delete (R-RET-9) — by the procedure of erase.go. Its erasure state is written
// on the contact with its erased fields (Contact.Erasure), and the steps after it — the kept
// copies of mail to its address, the member's claim on it, the audit record — are cheap and
// idempotent, so every repeat runs them again instead of marking them done: a job or a batch
// redelivered after a crash at any point ends with the contact erased, nothing left, and one
// record. A contact erased with its member (the cascade) carries its member's erasure id and
// no state of its own: the member's record counts it.
type contactEraser struct {
	contacts ContactDocuments
	claims   ClaimStore
	sent     SentMail // nil when mail leaves no copy in our files
	records  erasureRecords
	hasher   *Hasher
	clock    Clock
	erased   func() // Core.Erased
}

// contactDecision says whether a contact read now is to be erased, and under which erasure.
type contactDecision func(c Contact, now time.Time) (ErasureState, bool)

// contactErasure is what erase found: whether it erased the contact now, and whether the
// contact was erased on its own before (a repeat, which only finished what was left).
type contactErasure struct{ erasedNow, erasedBefore bool }

// erase erases the contact if decide says so on the contact read now, and finishes an
// erasure begun before. A missing contact is not an error: it is gone already.
func (e contactEraser) erase(ctx context.Context, brand BrandID, id string, decide contactDecision) (contactErasure, error) {
	var (
		out    contactErasure
		erased Contact
	)
	err := retry(ctx, func() error {
		c, err := e.contacts.GetContact(ctx, brand, id)
		if err != nil {
			return err
		}
		if c.Erased() {
			erased, out = c, contactErasure{erasedBefore: c.Erasure != nil}
			return nil
		}
		now := e.clock.Now()
		st, ok := decide(c, now)
		if !ok {
			return nil
		}
		if err := forgetOlderMail(ctx, e.sent, e.hasher, brand, c.Email); err != nil {
			return err
		}
		c, res := EraseContact(c, e.hasher)
		st.FieldsErased, st.FieldsHashed = res.FieldsErased, res.FieldsHashed
		c.ErasedAt, c.ErasedBy, c.Erasure = now, st.ID, &st
		defer e.erased() // also if the write failed: it may have landed
		if erased, err = e.contacts.UpdateContact(ctx, c); err != nil {
			return err // a conflict re-reads and decides again
		}
		out = contactErasure{erasedNow: true}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return contactErasure{}, nil
	}
	if err != nil || !erased.Erased() {
		return out, err
	}
	return out, e.finish(ctx, erased)
}

// finish ends an erased contact's traces — the kept copies of mail to its address, then the
// member's claim on the address, then the audit record of an erasure of its own — each safe
// to repeat.
func (e contactEraser) finish(ctx context.Context, c Contact) error {
	if c.Email != "" { // erased, the address is its digest (R-ERASE-3): what claim and outbox are keyed by
		if e.sent != nil {
			if err := e.sent.ForgetRecipients(ctx, c.BrandID, []string{c.Email}); err != nil {
				return err
			}
		}
		claim := Claim{BrandID: c.BrandID, Key: claimContact + c.MemberID + ":" + c.Email, Owner: c.ID}
		if err := e.claims.ReleaseClaims(ctx, c.BrandID, claim); err != nil {
			return err
		}
	}
	if c.Erasure == nil {
		return nil // erased with its member, whose record counts it, or a void contact
	}
	_, err := e.records.write(ctx, c.BrandID, []ErasureRecord{c.Erasure.record(c.BrandID, c.ID, SubjectContact, nil, c.ErasedAt)})
	return err
}

// eraseContactJob erases a contact its retention rule made due (R-RET-3…8), if the rule still
// says so on the contact read now: one that accepted an invitation or clicked since is kept,
// and the sweep decides again when it is due.
func (s *ErasureService) eraseContactJob(ctx context.Context, job ErasureJob) error {
	b, err := s.brand(ctx, job.BrandID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.contactEraser.erase(ctx, b.ID, job.SubjectID, func(c Contact, now time.Time) (ErasureState, bool) {
		a := ReviewContact(c, b)
		if a.Kind != ActionErase || a.Rule != job.Rule || a.At.After(now) {
			return ErasureState{}, false
		}
		return newErasure(b.ID, c.ID, a.Rule, a.Reason, a.RequestedAt, a.At), true
	})
	return err
}

// forgetOlderMail deletes the kept copies of mail to addresses still held, under their
// digests of every key version but the newest, before the addresses are erased. Erased, an
// address is one digest, under the newest key, and that is all a repeat after a crash can
// give ForgetRecipients; a copy written before a hash-key rotation is named under an older
// version, which only the address itself computes. Copies written from now on are named
// under the newest, which the erased digest finds. With one key version it does nothing.
func forgetOlderMail(ctx context.Context, sent SentMail, h *Hasher, brand BrandID, emails ...string) error {
	if sent == nil || len(h.Versions()) < 2 {
		return nil
	}
	var older []string
	for _, e := range emails {
		if e != "" && !h.IsDigest(e) {
			older = append(older, h.AllDigests(NormalizeEmail(e))[1:]...)
		}
	}
	if len(older) == 0 {
		return nil
	}
	return sent.ForgetRecipients(ctx, brand, older)
}
