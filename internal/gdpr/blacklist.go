package gdpr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
)

// BlacklistDeps are the ports of the BlacklistService.
type BlacklistDeps struct {
	Blacklist Blacklist
	Remover   BlacklistRemover
	// SoftBounces starts an address's streak again when an admin removes its soft-bounce
	// suppression, so that the bounces already counted do not suppress it at once again.
	SoftBounces SoftBounceStore
}

// BlacklistService is the blacklist's administration: whether an address is listed and why,
// and its audited removal. An address comes in, is digested at once and is never stored,
// logged or quoted; the audit record of a removal names no address at all.
type BlacklistService struct {
	core
	blacklist   Blacklist
	remover     BlacklistRemover
	softBounces SoftBounceStore
}

// NewBlacklistService checks its dependencies.
func NewBlacklistService(c Core, d BlacklistDeps) (*BlacklistService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("BlacklistService", map[string]bool{"Blacklist": d.Blacklist != nil, "Remover": d.Remover != nil, "SoftBounces": d.SoftBounces != nil})
	}
	if err != nil {
		return nil, err
	}
	return &BlacklistService{core: cc, blacklist: d.Blacklist, remover: d.Remover, softBounces: d.SoftBounces}, nil
}

// BlacklistStatus answers a lookup: whether the address is listed, why, what listed it and
// since when.
type BlacklistStatus struct {
	Listed bool            `json:"listed"`
	Reason BlacklistReason `json:"reason,omitempty"`
	Source string          `json:"source,omitempty"`
	Since  time.Time       `json:"since,omitzero"`
	// LastAt is the latest event that listed the address again, if any came after Since.
	LastAt time.Time `json:"lastAt,omitzero"`
	// RemovableBy says who may lift the entry: "admin" for a hard bounce, a block or a
	// soft-bounce suppression (which a delivery or the member's release also lifts),
	// "double_opt_in" (the person's own confirmed opt-in) for a complaint or a global opt-out.
	RemovableBy RemovalBasis `json:"removableBy,omitempty"`
}

var errBadAddress = Errorf(CodeInvalid, "email must be a valid address")

// Lookup tells whether an address is on the brand's blacklist (R-MAIL-1, R-MAIL-4). An
// ended brand stays readable to admins.
func (s *BlacklistService) Lookup(ctx context.Context, brandID BrandID, email string) (BlacklistStatus, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return BlacklistStatus{}, err
	}
	if !ValidEmail(NormalizeEmail(email)) {
		return BlacklistStatus{}, errBadAddress
	}
	e, err := s.blacklistEntry(ctx, s.blacklist, b.ID, email)
	if errors.Is(err, ErrNotFound) {
		return BlacklistStatus{}, nil
	}
	if err != nil {
		return BlacklistStatus{}, err
	}
	return statusOfEntry(e), nil
}

func statusOfEntry(e BlacklistEntry) BlacklistStatus {
	by := RemovalByAdmin
	if e.Reason.NeedsConsent() {
		by = RemovalByConsent
	}
	return BlacklistStatus{Listed: true, Reason: e.Reason, Source: e.Source, Since: e.CreatedAt, LastAt: e.LastAt, RemovableBy: by}
}

// BlacklistRemovalRequest is an admin's request to remove an entry.
type BlacklistRemovalRequest struct {
	Email       string
	Why         RemovalWhy
	RequestedBy string
}

// MaxRequestedBy bounds who asked for a removal: an operator id or a ticket reference.
const MaxRequestedBy = 128

// The refusals of a removal, each with its own code in the HTTP answer.
var (
	// ErrRemovalNeedsConsent: a spam complaint or a global opt-out is the person's refusal; only
	// the person's own confirmed double opt-in lifts it, never an admin (R-MAIL-4, R-CONSENT-7).
	ErrRemovalNeedsConsent = Errorf(CodeConflict,
		"a spam complaint or a global opt-out is lifted only by the person's own confirmed double opt-in, never by an admin")
	// ErrRelisted: an event listed the address again while it was being removed; nothing was
	// removed, and the entry must be looked up again.
	ErrRelisted = Errorf(CodeConflict, "the entry changed while it was being removed (a new event listed the address again); look it up again")
	// ErrNotListed: the address is not on the blacklist.
	ErrNotListed = Errorf(CodeNotFound, "the address is not on the blacklist")
)

// Remove takes a hard bounce or a block off the brand's blacklist at an admin's request and
// records the removal without the address (R-MAIL-1). A spam complaint or a global opt-out is
// refused (ErrRemovalNeedsConsent). The delete is guarded by the version read: a bounce that
// lists the address again meanwhile makes it fail (ErrRelisted) rather than be lost.
//
// Across a hash-key rotation an address may be listed under more than one form (an entry
// under an older key not yet re-keyed, and a newer event's under the newest): every form is
// removed, each with its record, and one needing consent refuses the whole removal. The
// record answered is the first form's (the newest).
func (s *BlacklistService) Remove(ctx context.Context, brandID BrandID, req BlacklistRemovalRequest) (BlacklistRemoval, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return BlacklistRemoval{}, err
	}
	if err := req.Validate(); err != nil {
		return BlacklistRemoval{}, err
	}
	entries, err := listedForms(ctx, s.blacklist, b.ID, s.hasher.EmailCandidates(req.Email))
	if err != nil {
		return BlacklistRemoval{}, err
	}
	if len(entries) == 0 {
		return BlacklistRemoval{}, ErrNotListed
	}
	for _, e := range entries {
		if e.Reason.NeedsConsent() {
			return BlacklistRemoval{}, ErrRemovalNeedsConsent
		}
	}
	if slices.ContainsFunc(entries, func(e BlacklistEntry) bool { return e.Reason == BlacklistSoftBounce }) {
		// The streak first: a crash after it leaves the address suppressed, and the retry
		// removes the entry; the other order would let a replayed bounce suppress it again.
		if err := clearSoftBounces(ctx, s.softBounces, b.ID, s.hasher.EmailCandidates(req.Email), s.clock.Now()); err != nil {
			return BlacklistRemoval{}, err
		}
	}
	var first BlacklistRemoval
	for i, e := range entries {
		r := removalRecord(e, RemovalByAdmin, req.Why, req.RequestedBy, s.clock.Now())
		switch err := s.remover.RemoveBlacklist(ctx, e, r); {
		case errors.Is(err, ErrConflict):
			return BlacklistRemoval{}, ErrRelisted
		case errors.Is(err, ErrNotFound) && i == 0:
			return BlacklistRemoval{}, ErrNotListed // removed by a concurrent request
		case errors.Is(err, ErrNotFound):
			continue // this form went meanwhile (a concurrent removal, the re-keying)
		case err != nil:
			return BlacklistRemoval{}, err
		}
		if i == 0 {
			first = r
		}
		s.log.InfoContext(ctx, "blacklist entry removed", "brand", b.ID, "removal", r.ID, "reason", string(r.Reason), "basis", string(r.Basis))
	}
	return first, nil
}

// listedForms reads an address's entry under each form its digest may be stored in
// (Hasher.Candidates, newest first) and returns those stored. With one key version that is
// one read.
func listedForms(ctx context.Context, bl Blacklist, brand BrandID, digests []string) ([]BlacklistEntry, error) {
	var out []BlacklistEntry
	for _, d := range digests {
		e, err := bl.GetBlacklist(ctx, brand, d)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ListRemovals pages through the brand's removal records.
func (s *BlacklistService) ListRemovals(ctx context.Context, brandID BrandID, after string, limit int) ([]BlacklistRemoval, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return nil, err
	}
	return s.remover.ListBlacklistRemovals(ctx, b.ID, after, limit)
}

// Validate checks a removal request before anything is read: a valid address, a known reason,
// and who asked named without an address.
func (req BlacklistRemovalRequest) Validate() error {
	if !ValidEmail(NormalizeEmail(req.Email)) {
		return errBadAddress
	}
	switch req.Why {
	case RemovalMailboxFixed, RemovalListedInError:
	default:
		return Errorf(CodeInvalid, "reason must be mailbox_fixed or listed_in_error")
	}
	if !validRequestedBy(req.RequestedBy) {
		return Errorf(CodeInvalid, "requestedBy must be 1-%d printable characters naming who asked (an operator id or a ticket), without an email address", MaxRequestedBy)
	}
	return nil
}

// validRequestedBy keeps the audit record free of addresses: who asked is named by an id or a
// ticket reference, never by a mailbox (the removed one least of all).
func validRequestedBy(s string) bool {
	if s == "" || len(s) > MaxRequestedBy || strings.TrimSpace(s) != s || strings.Contains(s, "@") {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}

// removalRecord is the audit record of removing e. Its id is fixed by the entry's identity
// and version, so a removal repeated after a crash keeps one record, and a later listing of
// the same address (a new time) gets a record of its own. The id is a one-way hash: it gives
// no digest back, and only the hash key's holder, who can read the blacklist anyway, could
// test a guessed address against it.
func removalRecord(e BlacklistEntry, basis RemovalBasis, why RemovalWhy, by string, now time.Time) BlacklistRemoval {
	h := sha256.Sum256([]byte(string(e.BrandID) + "\x00" + e.Digest + "\x00" + e.Version + "\x00" + e.CreatedAt.UTC().Format(time.RFC3339Nano)))
	return BlacklistRemoval{BrandID: e.BrandID, ID: "blr_" + hex.EncodeToString(h[:12]), Reason: e.Reason, Source: e.Source,
		Since: e.CreatedAt, Basis: basis, Why: why, RequestedBy: by, RemovedAt: now}
}

// liftByConsent takes a spam complaint or a global opt-out off the blacklist because the
// person confirmed a new double opt-in for the address (the only way such an entry goes,
// R-MAIL-4), recording it with the subject's id as who asked: under every form the address
// is listed in (digests: Hasher.Candidates, newest first), so that an entry under an older
// key version goes too. A delivery reason stays (an admin clears it), as does nothing
// listed. A conflict re-reads: whatever listed the address meanwhile is decided again.
func liftByConsent(ctx context.Context, c *core, bl Blacklist, remover BlacklistRemover, brand BrandID, digests []string, subject string) error {
	for _, digest := range digests {
		if err := liftOneByConsent(ctx, c, bl, remover, brand, digest, subject); err != nil {
			return err
		}
	}
	return nil
}

func liftOneByConsent(ctx context.Context, c *core, bl Blacklist, remover BlacklistRemover, brand BrandID, digest, subject string) error {
	return retry(ctx, func() error {
		e, err := bl.GetBlacklist(ctx, brand, digest)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || !e.Reason.NeedsConsent() {
			return err
		}
		r := removalRecord(e, RemovalByConsent, RemovalNewConsent, subject, c.clock.Now())
		if err := remover.RemoveBlacklist(ctx, e, r); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		c.log.InfoContext(ctx, "blacklist entry lifted by a confirmed opt-in", "brand", brand, "removal", r.ID, "subject", subject, "reason", string(r.Reason))
		return nil
	})
}
