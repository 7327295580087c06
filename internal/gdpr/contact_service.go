package gdpr

import (
	"context"
	"errors"
)

// ContactDeps are the ports of the ContactService.
type ContactDeps struct {
	Contacts  ContactDocuments
	Owners    ContactStore    // a member's contacts
	Users     UserStore       // the member a contact belongs to
	Claims    ClaimStore      // one contact per member and address; each order once
	Blacklist Blacklist       // global opt-outs, hard bounces, complaints (R-MAIL-4)
	Audit     ErasureAudit    // the record of a contact the brand's system deleted (R-ERASE-9)
	Ledger    *LedgerService  // where that record goes too; nil only in tests that leave it out
	Queue     Queue           // invitation mails
	Tokens    TokenStore      // invitation answers
	OptOuts   BlacklistWriter // a global opt-out from an invitation (R-MAIL-4)
	// Remover and SoftBounces: a member's release of its contact's soft bounce lifts the
	// soft-bounce policy's suppression of the address too.
	Remover     BlacklistRemover
	SoftBounces SoftBounceStore
	// SentMail is where copies of sent mail are kept, if anywhere: a contact the brand deletes
	// takes its invitations with it.
	SentMail SentMail
}

// ContactService creates contacts from the brand's systems and reads them under the access
// rules (R-CONSENT-3, R-CONSENT-5, R-MAIL-4, R-ACCESS-1, R-ACCESS-2). Consent changes go
// through the state machines of consent.go, so every one is dated and proven.
//
// Each use case has a file: orders (contact_orders.go), the brand's synchronisation
// (contact_sync.go), manual entry (contact_manual.go), invitations (contact_invitations.go),
// the unsubscribe page (contact_unsubscribe.go), reported activity (contact_activity.go), mail
// events and bounces (contact_mailevents.go), and the reads of Members and the Brand
// (contact_reads.go). This file holds the writes they share: one contact per member and
// address, the blacklist's word on an address, and the due index on every write.
type ContactService struct {
	core
	contacts  ContactDocuments
	owners    ContactStore
	users     UserStore
	claims    ClaimStore
	blacklist Blacklist
	queue     Queue
	tokens    TokenStore
	optOuts   BlacklistWriter
	remover   BlacklistRemover
	streaks   SoftBounceStore
	eraser    contactEraser // a contact the brand's system deletes (R-RET-9)
}

// NewContactService checks its dependencies.
func NewContactService(c Core, d ContactDeps) (*ContactService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("ContactService", map[string]bool{"Contacts": d.Contacts != nil, "Owners": d.Owners != nil,
			"Users": d.Users != nil, "Claims": d.Claims != nil, "Blacklist": d.Blacklist != nil, "Audit": d.Audit != nil,
			"Queue": d.Queue != nil, "Tokens": d.Tokens != nil, "OptOuts": d.OptOuts != nil, "Remover": d.Remover != nil,
			"SoftBounces": d.SoftBounces != nil})
	}
	if err != nil {
		return nil, err
	}
	return &ContactService{core: cc, contacts: d.Contacts, owners: d.Owners, users: d.Users, claims: d.Claims,
		blacklist: d.Blacklist, queue: d.Queue, tokens: d.Tokens, optOuts: d.OptOuts, remover: d.Remover, streaks: d.SoftBounces,
		eraser: newContactEraser(cc, d.Contacts, d.Claims, d.SentMail, erasureRecords{audit: d.Audit, ledger: d.Ledger, log: cc.log})}, nil
}

// Claim key kinds of contacts.
const (
	claimOrder   = "order:"   // + order id → the contact it created or updated
	claimContact = "contact:" // + member id + ":" + email digest → the member's contact
)

// createClaimedContact creates c once it holds the member's claim on the address, by the
// unique-key protocol (uniquekeys.go): a create in progress is waited for, one whose process
// died is recovered after ClaimLease. ErrConflict means another contact holds the key now, or
// c's create was fenced: the caller reads again.
func (s *ContactService) createClaimedContact(ctx context.Context, b Brand, c Contact, key []string) error {
	holder, err := s.createOrFindContact(ctx, b, c, key)
	if err == nil && holder != c.ID {
		return ErrConflict
	}
	return err
}

// createOrFindContact claims key for c by a conditional create under each of its digests
// (one per active hash-key version, newest first), without reading the claims first, and
// creates c when the key is c's: it returns c's id then, or the id of the live contact that
// holds the key under any version (a claim's create answered 409 and named it). ErrConflict
// means c's create was fenced: the caller goes round again. With one active version this is
// one claim request, as before any rotation.
func (s *ContactService) createOrFindContact(ctx context.Context, b Brand, c Contact, key []string) (string, error) {
	keys := s.contactKeys(s.contacts, s.claims)
	holder, err := keys.reserve(ctx, b.ID, key, c.ID)
	if err != nil || holder != c.ID {
		return holder, err
	}
	if _, err := s.createContact(ctx, b, c); err != nil {
		if !errors.Is(err, ErrConflict) {
			keys.release(ctx, b.ID, c.ID, key...)
		}
		return "", err
	}
	return c.ID, nil
}

// contactKey is the claim keys of a member's copy of an address, one per active hash-key
// version, newest first (R-CONSENT-5).
func (s *ContactService) contactKey(member, email string) []string {
	return keyed(claimContact+member+":", s.hasher.EmailDigests(email))
}

// blacklisted tells what the brand's blacklist says of an address a contact is created for
// (R-MAIL-4): a global opt-out refuses the creation (optedOut); a complaint, a hard bounce, a
// block or a soft-bounce suppression lets the contact be created with that email status, after which nothing is mailed
// to it (R-MAIL-1, R-MAIL-3). A reason this code does not know refuses: fail closed.
func (s *ContactService) blacklisted(ctx context.Context, brand BrandID, email string) (status EmailStatus, optedOut bool, err error) {
	e, err := s.blacklistEntry(ctx, s.blacklist, brand, email)
	if errors.Is(err, ErrNotFound) {
		return EmailOK, false, nil
	}
	if err != nil {
		return EmailOK, false, err
	}
	switch e.Reason {
	case BlacklistSpam:
		return EmailSpam, false, nil
	case BlacklistHardBounce:
		return EmailHardBounce, false, nil
	case BlacklistBlocked:
		return EmailBlocked, false, nil
	case BlacklistSoftBounce:
		return EmailSoftBounce, false, nil // the brand's soft-bounce policy suppresses the address
	}
	return EmailOK, true, nil
}

// memberContact loads a contact of the member, as a not-found for any other.
func (s *ContactService) memberContact(ctx context.Context, brand BrandID, memberID, contactID string) (Contact, error) {
	c, err := s.contacts.GetContact(ctx, brand, contactID)
	if errors.Is(err, ErrNotFound) || (err == nil && (c.MemberID != memberID || c.Erased())) {
		return Contact{}, Errorf(CodeNotFound, "unknown contact")
	}
	return c, err
}

// createContact and updateContact write a contact with its due index recomputed, so that the
// retention sweep finds it when its next rule falls due (R-RET-3…8).
func (s *ContactService) createContact(ctx context.Context, b Brand, c Contact) (Contact, error) {
	c.NextReviewAt = NextContactReview(c, b)
	return s.contacts.CreateContact(ctx, c)
}

func (s *ContactService) updateContact(ctx context.Context, b Brand, c Contact) (Contact, error) {
	c.NextReviewAt = NextContactReview(c, b)
	return s.contacts.UpdateContact(ctx, c)
}

// changeMemberContact is the read-decide-write loop for one contact of a Member of an active
// brand: change decides on a fresh copy (errUnchanged: nothing to write), the write is
// guarded by the version read and recomputes the due index.
func (s *ContactService) changeMemberContact(ctx context.Context, brandID BrandID, memberID, contactID string, change func(*Contact) error) (Contact, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return Contact{}, err
	}
	var out Contact
	err = retry(ctx, func() error {
		c, err := s.memberContact(ctx, b.ID, memberID, contactID)
		if err != nil {
			return err
		}
		if err := change(&c); err != nil {
			if errors.Is(err, errUnchanged) {
				out, err = c, nil
			}
			return err
		}
		out, err = s.updateContact(ctx, b, c)
		return err
	})
	return out, err
}
