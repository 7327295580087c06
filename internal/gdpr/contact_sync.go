package gdpr

import (
	"context"
	"errors"
	"strings"
	"time"
)

// SyncContact is one contact of a brand synchronisation (R-CONSENT-4): the brand's own
// database says who its members' contacts are and whether they opted in.
type SyncContact struct {
	MemberID  string `json:"memberId"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	// OptIn is the opt-in the brand's system imported: true gives both opt-ins (Member
	// "opt-in from brand", Brand "from brand database"); false or absent imports none
	// (Member "new", Brand "storage only").
	OptIn bool `json:"optIn"`
	// Delete: the brand deleted the contact; a synchronised contact is then erased
	// (R-RET-9).
	Delete bool `json:"delete"`
}

// SyncBatch is one request of a brand synchronisation.
type SyncBatch struct {
	BatchID  string        `json:"batchId"`
	Contacts []SyncContact `json:"contacts"`
}

// MaxSyncBatch bounds one synchronisation request.
const MaxSyncBatch = 1000

// SyncResult counts what a batch did.
type SyncResult struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"` // an existing contact took the batch's statuses or names
	Unchanged   int `json:"unchanged"`
	Deleted     int `json:"deleted"`
	Blacklisted int `json:"blacklisted"` // refused: globally opted out, on the brand's blacklist (R-MAIL-4)
	Refused     int `json:"refused"`     // members not under contract, on a brand not in direct selling
}

// Sync applies a batch of the brand's contact synchronisation (R-CONSENT-4): only for
// direct-selling brands, or for members under contract with the brand (R-ROLE); a contact is stored once per
// member and address (R-CONSENT-5); a globally opted-out address is refused and counted, a
// bounced one created with its email status (R-MAIL-4);
// a delete erases a synchronised contact (R-RET-9). The batch id is the consents' proof.
func (s *ContactService) Sync(ctx context.Context, brandID BrandID, batch SyncBatch) (SyncResult, error) {
	var res SyncResult
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return res, err
	}
	switch {
	case !externalID(batch.BatchID):
		return res, Errorf(CodeInvalid, "batchId must be 1 to 128 letters, digits or _.:-")
	case len(batch.Contacts) == 0 || len(batch.Contacts) > MaxSyncBatch:
		return res, Errorf(CodeInvalid, "contacts must hold 1 to %d contacts", MaxSyncBatch)
	}
	for i := range batch.Contacts {
		sc := &batch.Contacts[i]
		sc.Email, sc.FirstName, sc.LastName = NormalizeEmail(sc.Email), strings.TrimSpace(sc.FirstName), strings.TrimSpace(sc.LastName)
		if sc.MemberID == "" || len(sc.MemberID) > 64 || !ValidEmail(sc.Email) ||
			!plainText(sc.FirstName, maxNameLen) || !plainText(sc.LastName, maxNameLen) {
			return res, Errorf(CodeInvalid, "contacts[%d] needs a memberId, a valid email and names of at most %d characters", i, maxNameLen)
		}
	}
	// Every member is found before any entry applies: a batch naming an unknown one changes
	// nothing, so the brand can fix it and send it whole again.
	members := map[string]User{}
	for i, sc := range batch.Contacts {
		if _, ok := members[sc.MemberID]; ok {
			continue
		}
		m, err := getUser(ctx, s.users, b.ID, sc.MemberID)
		if ErrorCode(err) == CodeNotFound {
			return res, Errorf(CodeNotFound, "contacts[%d].memberId names no member of this brand; nothing was applied", i)
		}
		if err != nil {
			return res, err
		}
		members[sc.MemberID] = m
	}
	for _, sc := range batch.Contacts {
		m := members[sc.MemberID]
		// Outside direct selling, members under contract with the Brand only (R-ROLE): the
		// guide's "employees (professionals employed by the Brand or sub-contractors)".
		if b.Pro != ProDirectSelling && !m.Role.UnderContract(b.Pro) {
			res.Refused++
			continue
		}
		if err := s.syncOne(ctx, b, m, sc, batch.BatchID, &res); err != nil {
			return res, err
		}
	}
	if res.Refused == len(batch.Contacts) {
		return res, Errorf(CodeForbidden, "contact synchronisation is for direct-selling brands and members under contract with the brand only (R-CONSENT-4)")
	}
	// The batch id is the brand's free text: the log has its keyed digest, which ties the
	// lines of one batch together without saying what the brand wrote (R-OPS-1).
	s.log.InfoContext(ctx, "contacts synchronised", "brand", b.ID, "batch", s.hasher.Digest("sync-batch|"+batch.BatchID), "created", res.Created,
		"updated", res.Updated, "deleted", res.Deleted, "blacklisted", res.Blacklisted, "refused", res.Refused)
	return res, nil
}

func (s *ContactService) syncOne(ctx context.Context, b Brand, m User, sc SyncContact, batchID string, res *SyncResult) error {
	key := s.contactKey(m.ID, sc.Email)
	keys := s.contactKeys(s.contacts, s.claims)
	if sc.Delete {
		return s.syncDelete(ctx, b, keys, key, res)
	}
	status, optedOut, err := s.blacklisted(ctx, b.ID, sc.Email)
	if err != nil {
		return err
	}
	if optedOut {
		// Nothing is created for a globally opted-out address; a contact the member already
		// has of it is still the brand's to update.
		existing, found, err := keys.find(ctx, b.ID, key)
		switch {
		case err != nil:
			return err
		case found:
			return s.updateSynced(ctx, b, Claim{Key: key[0], Owner: existing.ID}, sc, batchID, res)
		}
		res.Blacklisted++
		return nil
	}
	now := s.clock.Now()
	c := Contact{BrandID: b.ID, ID: NewID("c_", now), MemberID: m.ID, Email: sc.Email, EmailStatus: status, FirstName: sc.FirstName,
		LastName: sc.LastName, Source: SourceBrandSync, CreatedAt: now}
	memberOptIn, brandOptIn := MemberOptInNew, BrandOptInStorageOnly
	if sc.OptIn {
		memberOptIn, brandOptIn = MemberOptInFromBrand, BrandOptInDatabase
	}
	src := ConsentSource{Kind: SourceKindSync, Ref: batchID}
	if err := c.ChangeMemberOptIn(memberOptIn, src, now); err != nil {
		return err
	}
	if err := c.ChangeBrandOptIn(brandOptIn, src, now); err != nil {
		return err
	}
	// The key is claimed for the new contact by a conditional create, never read first: a new
	// address costs one look at the claims, and a known one is named by the claim's 409.
	holder, err := s.createOrFindContact(ctx, b, c, key)
	switch {
	case errors.Is(err, ErrConflict):
		res.Unchanged++ // fenced: created meanwhile by an order or another batch
		return nil
	case err != nil:
		return err
	case holder != c.ID:
		return s.updateSynced(ctx, b, Claim{Key: key[0], Owner: holder}, sc, batchID, res)
	}
	res.Created++
	return nil
}

// syncDelete erases the member's synchronised contact of the address (R-RET-9), waiting for a
// create in progress. A claim whose contact was erased by an attempt that stopped before
// releasing it is finished; one whose create died names nothing stored: unchanged.
func (s *ContactService) syncDelete(ctx context.Context, b Brand, keys uniqueKeys[Contact], key []string, res *SyncResult) error {
	existing, found, err := keys.find(ctx, b.ID, key)
	if err != nil {
		return err
	}
	if found {
		return s.eraseSynced(ctx, b, Claim{Key: key[0], Owner: existing.ID}, res)
	}
	held, err := firstFound(key, func(k string) (Claim, error) { return s.claims.GetClaim(ctx, b.ID, k) })
	if errors.Is(err, ErrNotFound) {
		res.Unchanged++
		return nil
	}
	if err != nil {
		return err
	}
	if _, state, err := keys.holders.holder(ctx, b.ID, held.Owner); err != nil {
		return err
	} else if state == holderGone {
		return s.eraseSynced(ctx, b, held, res)
	}
	res.Unchanged++
	return nil
}

// updateSynced applies a later batch to a contact the synchronisation created (R-CONSENT-4:
// the brand's system "regularly updates" it): the newer imported status and names, each
// consent change dated now and proven by the batch. Only what the sync may change: the
// statuses the sync itself assigns (applySync) and names the batch gives; a contact created
// another way (an order, a Member, a pop-in) is the Member's and is left as it is. The write
// is guarded by the version read; the same batch again finds nothing to change.
func (s *ContactService) updateSynced(ctx context.Context, b Brand, claim Claim, sc SyncContact, batchID string, res *SyncResult) error {
	updated := false
	err := retry(ctx, func() error {
		updated = false
		c, err := s.contacts.GetContact(ctx, b.ID, claim.Owner)
		if errors.Is(err, ErrNotFound) {
			return nil // claimed by a create still in progress: that create carries its own values
		}
		if err != nil {
			return err
		}
		if c.Source != SourceBrandSync || c.Erased() {
			return nil
		}
		changed, err := c.applySync(sc, ConsentSource{Kind: SourceKindSync, Ref: batchID}, s.clock.Now())
		if err != nil || !changed {
			return err
		}
		if _, err := s.updateContact(ctx, b, c); err != nil {
			return err
		}
		updated = true
		return nil
	})
	if err != nil {
		return err
	}
	if updated {
		res.Updated++
	} else {
		res.Unchanged++
	}
	return nil
}

// applySync sets what a sync entry says on a synchronised contact (R-CONSENT-4). An imported
// opt-in gives Member "opt-in from brand" and Brand "from brand database"; none imported gives
// Member "new", and withdraws a Brand "from brand database" back to "none" (the contact is
// then hidden from the Brand, R-ACCESS-1) while a "storage only" stays. A change the consent
// machines do not allow a sync (a contact's own answer or refusal: an accepted invitation, an
// opt-out, a global opt-out) is left as it is. Names are set when the entry gives them.
func (c *Contact) applySync(sc SyncContact, src ConsentSource, at time.Time) (changed bool, err error) {
	member, brand := MemberOptInNew, c.BrandOptIn.Value
	if sc.OptIn {
		member, brand = MemberOptInFromBrand, BrandOptInDatabase
	} else if brand == BrandOptInDatabase {
		brand = BrandOptInNone
	}
	if from := c.MemberOptIn.Value; from != member && MemberTransitionAllowed(from, member, src.Kind) {
		if err := c.ChangeMemberOptIn(member, src, at); err != nil {
			return false, err
		}
		changed = true
	}
	if from := c.BrandOptIn.Value; from != brand && BrandTransitionAllowed(from, brand, src.Kind) {
		if err := c.ChangeBrandOptIn(brand, src, at); err != nil {
			return false, err
		}
		changed = true
	}
	if sc.FirstName != "" && sc.FirstName != c.FirstName {
		c.FirstName, changed = sc.FirstName, true
	}
	if sc.LastName != "" && sc.LastName != c.LastName {
		c.LastName, changed = sc.LastName, true
	}
	return changed, nil
}

// RuleSyncDelete is the rule of a contact erased because the brand's system deleted it.
const RuleSyncDelete = "R-RET-9"

// ReasonBrandDeleted is the reason recorded for it.
const ReasonBrandDeleted BlockReason = "brand_deleted"

// eraseSynced erases a contact the brand's system deleted (R-RET-9), if it came from that
// system: its fields by R-ERASE-3 (its consent record stays), one audit record (R-ERASE-9),
// and the member's claim on the address released so the address may come back as new. A
// batch retried after a crash finishes the erasure and keeps the one record (erase.go).
func (s *ContactService) eraseSynced(ctx context.Context, b Brand, claim Claim, res *SyncResult) error {
	out, err := s.eraser.erase(ctx, b.ID, claim.Owner, func(c Contact, now time.Time) (ErasureState, bool) {
		if c.Source != SourceBrandSync {
			return ErasureState{}, false
		}
		return newErasure(b.ID, c.ID, RuleSyncDelete, ReasonBrandDeleted, now, now), true
	})
	if err != nil {
		return err
	}
	if out.erasedNow {
		res.Deleted++
	} else {
		res.Unchanged++
	}
	return nil
}
