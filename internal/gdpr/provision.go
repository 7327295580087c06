package gdpr

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"time"
)

// ProvisionedUser is a member as the brand's identity system describes it, from a signed
// webhook or from SCIM (R-SSO-1). The brand has verified the address, so there is no double
// opt-in. It is the user's whole profile: a field left empty is cleared.
type ProvisionedUser struct {
	ExternalID string `json:"externalId"` // the identity system's key for the user (SCIM: userName)
	// IdPExternalID is SCIM's externalId, kept and given back as the provider sent it.
	IdPExternalID string `json:"-"`
	// UserName is SCIM's userName as sent; ExternalID is its lower-case form, which keys the
	// user. Empty for webhooks, whose externalId is kept as sent.
	UserName string `json:"-"`
	// DisplayName and FormattedName are SCIM's displayName and name.formatted, free text kept
	// as sent.
	DisplayName   string  `json:"-"`
	FormattedName string  `json:"-"`
	Email         string  `json:"email"`
	FirstName     string  `json:"firstName"`
	LastName      string  `json:"lastName"`
	Alias         string  `json:"alias"`
	Title         string  `json:"title"`
	Position      string  `json:"position"`
	CustomerID    string  `json:"customerId"`
	Language      string  `json:"language"`
	Role          *Role   `json:"role"` // Ambassador when absent
	DateOfBirth   Date    `json:"dateOfBirth"`
	Address       Address `json:"address"`
}

// Bounds of what an identity system may send: free text is bounded at input so that no
// document outgrows what a store batch can carry (Cosmos DB: 2 MB per batch).
const (
	maxExternalID = 256
	maxNameLen    = 100
	maxStreetLen  = 200
	// maxDisplayLen bounds a display name, which may carry middle names and honorifics.
	maxDisplayLen = 200
)

// validate checks the profile's shape; messages name fields, never values.
func (p *ProvisionedUser) validate(now time.Time) error {
	p.ExternalID = strings.TrimSpace(p.ExternalID)
	if p.ExternalID == "" || !plainText(p.ExternalID, maxExternalID) {
		return Errorf(CodeInvalid, "externalId is required: 1 to %d characters without control characters", maxExternalID)
	}
	p.UserName = strings.TrimSpace(p.UserName)
	if p.UserName != "" && strings.ToLower(p.UserName) != p.ExternalID {
		return Errorf(CodeInvalid, "userName must be the external id as sent: its lower-case form is the external id")
	}
	if p.UserName == p.ExternalID {
		p.UserName = "" // nothing to keep beyond the external id itself
	}
	if !plainText(p.IdPExternalID, maxExternalID) {
		return Errorf(CodeInvalid, "the identity provider's externalId must be at most %d characters without control characters", maxExternalID)
	}
	p.Email = NormalizeEmail(p.Email)
	if p.Email != "" && !ValidEmail(p.Email) {
		return Errorf(CodeInvalid, "email is not a valid email address")
	}
	if p.Role == nil {
		r := RoleAmbassador
		p.Role = &r
	}
	if !p.Role.Valid() {
		return Errorf(CodeInvalid, "role must be 0 to 8")
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"firstName", &p.FirstName, maxNameLen}, {"lastName", &p.LastName, maxNameLen}, {"alias", &p.Alias, maxNameLen},
		{"displayName", &p.DisplayName, maxDisplayLen}, {"name.formatted", &p.FormattedName, maxDisplayLen},
		{"title", &p.Title, maxNameLen}, {"position", &p.Position, maxNameLen}, {"customerId", &p.CustomerID, 128},
		{"language", &p.Language, 35},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if !plainText(*f.v, f.max) {
			return Errorf(CodeInvalid, "%s must be at most %d characters without control characters", f.name, f.max)
		}
	}
	if err := checkAddress(&p.Address); err != nil {
		return err
	}
	if p.Language != "" && !languageTag(p.Language) {
		return Errorf(CodeInvalid, "language must be a language tag such as fr or en-GB")
	}
	if d := p.DateOfBirth; !d.IsZero() {
		t := time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
		if d.Month == 0 || int(t.Month()) != d.Month || t.Day() != d.Day || !t.Before(now) {
			return Errorf(CodeInvalid, "dateOfBirth must be a past YYYY-MM-DD date")
		}
	}
	return nil
}

// checkAddress checks a postal address, trimmed in place: the bounds of what an identity
// system may send, which a rectification (rights_kinds.go) is held to as well.
func checkAddress(a *Address) error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"address.street", &a.Street, maxStreetLen}, {"address.city", &a.City, maxNameLen},
		{"address.postalCode", &a.PostalCode, 20}, {"address.country", &a.Country, 64},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if !plainText(*f.v, f.max) {
			return Errorf(CodeInvalid, "%s must be at most %d characters without control characters", f.name, f.max)
		}
	}
	return nil
}

// apply writes the profile onto u, R-DATA-1's fields for members and R-DATA-2's for
// external users (whose address lives in email_tmp, never verified).
func (p ProvisionedUser) apply(u *User) {
	u.Role, u.Kind = *p.Role, p.Role.Kind()
	u.ExternalID, u.UserName, u.IdPExternalID = p.ExternalID, p.UserName, p.IdPExternalID
	u.FirstName, u.LastName, u.Alias, u.Title, u.Position = p.FirstName, p.LastName, p.Alias, p.Title, p.Position
	u.DisplayName, u.FormattedName = p.DisplayName, p.FormattedName
	u.CustomerID, u.Language, u.DateOfBirth, u.Address = p.CustomerID, p.Language, p.DateOfBirth, p.Address
	if u.Role.External() {
		u.Email, u.EmailTmp = "", p.Email
	} else {
		u.Email, u.EmailTmp = p.Email, ""
	}
}

// address is the address a user is reached at, whichever field holds it.
func (u User) address() string { return u.Email + u.EmailTmp }

// ProvisionOutcome says what a provisioning call did; webhooks answer with it.
type ProvisionOutcome string

const (
	ProvisionCreated   ProvisionOutcome = "created"
	ProvisionUpdated   ProvisionOutcome = "updated"
	ProvisionUnchanged ProvisionOutcome = "unchanged"
	ProvisionRestored  ProvisionOutcome = "restored" // a pending SSO deletion rolled back (R-ERASE-5)
	ProvisionBlocked   ProvisionOutcome = "blocked"  // access stopped, erasure after the grace period (R-SSO-2)
	ProvisionStale     ProvisionOutcome = "ignored_stale"
	ProvisionUnknown   ProvisionOutcome = "unknown" // a deletion of a user never provisioned, or already erased
)

// ProvisionResult is the outcome and the user as it now stands.
type ProvisionResult struct {
	Outcome ProvisionOutcome
	User    User
}

// ProvisionOptions qualify a provisioning call.
type ProvisionOptions struct {
	// At is the brand's time of the event; an event older than the user's last applied one is
	// ignored (events arrive out of order), an equal one applies. Zero means now.
	At time.Time
	// IfVersion applies the call only to this version of the user (SCIM If-Match).
	IfVersion string
	// Active is SCIM's active attribute: false blocks the account for erasure after the grace
	// period (soft deprovisioning), true within the grace period restores it. Nil means true.
	Active *bool
	// CreateOnly refuses a user the external id already names, also when a concurrent create
	// got there first (SCIM POST, RFC 7644 §3.3): exactly one creator is told "created". A
	// user the identity system deleted is not one it names (RFC 7644 §3.6): inside the grace
	// period the call restores it, as a webhook upsert would, and after the erasure creates a
	// new account.
	CreateOnly bool
	// KeepUncarried says the profile carries only what SCIM carries: updating a user keeps its
	// role, customer id, date of birth and position instead of clearing them.
	KeepUncarried bool
	// MemberID names the user to update (SCIM PUT and PATCH address a user by its id), whose
	// external id may then change; empty means the user holding the profile's external id.
	MemberID string

	// untimed is a call without the brand's event time (SCIM): one that changes nothing
	// writes nothing, not even the time (RFC 7644 §3.5.2: no new version for a no-op).
	untimed bool
}

// ProvisioningDeps are the ports of the ProvisioningService.
type ProvisioningDeps struct {
	Users  UserStore
	Claims ClaimStore // external ids, addresses
	Queue  Queue      // erasure jobs of deprovisioned users
}

// ProvisioningService creates, updates and deprovisions members on behalf of the brand's
// identity system, by signed webhooks or SCIM alike (R-SSO-1…3, R-SIGNUP-5). A user is keyed
// by the brand's external id, held as a claim on its digest.
type ProvisioningService struct {
	core
	users  UserStore
	claims ClaimStore
	queue  Queue
}

// NewProvisioningService checks its dependencies.
func NewProvisioningService(c Core, d ProvisioningDeps) (*ProvisioningService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("ProvisioningService", map[string]bool{"Users": d.Users != nil, "Claims": d.Claims != nil, "Queue": d.Queue != nil})
	}
	if err != nil {
		return nil, err
	}
	return &ProvisioningService{core: cc, users: d.Users, claims: d.Claims, queue: d.Queue}, nil
}

// errBrandAuth is the one answer to a failed brand authentication, whether the brand is
// unknown, has no credential, or it differs: none tells a caller which brands exist.
var errBrandAuth = Errorf(CodeUnauthenticated, "brand credentials missing or wrong")

// AuthenticateSCIM checks the brand's SCIM bearer token against its stored digest, in
// constant time (R-SSO-3: a brand's credentials act on that brand only).
func (s *ProvisioningService) AuthenticateSCIM(ctx context.Context, brandID BrandID, token string) error {
	b, err := s.brand(ctx, brandID)
	if errors.Is(err, ErrNotFound) {
		return errBrandAuth
	}
	if err != nil {
		return err
	}
	if b.SCIMTokenDigest == "" || token == "" || !s.hasher.Matches(scimTokenInput(token), b.SCIMTokenDigest) {
		return errBrandAuth
	}
	return nil
}

// errPrecondition is a stale If-Match.
var errPrecondition = Errorf(CodePrecondition, "the user changed since the version given")

// ssoBlocked reports a pending deletion the identity system asked for, which it may undo.
func ssoBlocked(u User) bool {
	return u.Status == UserBlocked && u.Block != nil &&
		(u.Block.Reason == ReasonSSODeleted || u.Block.Reason == ReasonSSODeactivated)
}

// deletedByIdP reports a user its identity system deleted, pending erasure: SCIM no longer
// shows it, and a create of the same user restores it.
func deletedByIdP(u User) bool {
	return u.Status == UserBlocked && u.Block != nil && u.Block.Reason == ReasonSSODeleted
}

// Upsert provisions the user on first sight, or brings it up to date. Inside the grace period
// of an SSO deletion it restores the account; after the erasure it provisions a new account
// and never brings erased data back.
func (s *ProvisioningService) Upsert(ctx context.Context, brandID BrandID, p ProvisionedUser, o ProvisionOptions) (ProvisionResult, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return ProvisionResult{}, err
	}
	now := s.clock.Now()
	if err := p.validate(now); err != nil {
		return ProvisionResult{}, err
	}
	if o.At.IsZero() {
		o.At, o.untimed = now, true
	}
	var res ProvisionResult
	err = retry(ctx, func() error {
		u, found, err := s.lookup(ctx, b.ID, p.ExternalID)
		if o.MemberID != "" {
			u, err = getUser(ctx, s.users, b.ID, o.MemberID)
			if err == nil && (u.ExternalID == "" || u.Status == UserErased) {
				err = Errorf(CodeNotFound, "unknown user")
			}
			found = err == nil
		}
		switch {
		case err != nil:
			return err
		case found && o.CreateOnly && !deletedByIdP(u):
			return errExternalIDTaken
		case !found && o.IfVersion != "":
			return errPrecondition
		case !found:
			res, err = s.create(ctx, b, p, o)
		default:
			res, err = s.update(ctx, b, u, p, o)
		}
		return err
	})
	if err == nil && res.Outcome != ProvisionUnchanged {
		s.log.InfoContext(ctx, "member provisioned", "brand", b.ID, "member", res.User.ID, "outcome", string(res.Outcome))
	}
	return res, err
}

// lookup finds the live user holding the external id, waiting for a create in progress. A
// claim whose user died before being created, or was erased, finds nothing; the next create
// recovers it (uniquekeys.go): a reader never releases a claim.
func (s *ProvisioningService) lookup(ctx context.Context, brand BrandID, externalID string) (User, bool, error) {
	return s.keys(s.users, s.claims).find(ctx, brand, keyed(ClaimExternalID, s.hasher.Digests(externalID)))
}

// create makes a new active member: its external id and then its address are claimed for its
// id before it exists (uniquekeys.go), so a second call for either finds it or waits for it;
// an external id provisioned meanwhile sends the caller round again, to update it.
func (s *ProvisioningService) create(ctx context.Context, b Brand, p ProvisionedUser, o ProvisionOptions) (ProvisionResult, error) {
	now := s.clock.Now()
	u := User{BrandID: b.ID, ID: NewID("m_", now), Status: UserActive, CreatedAt: now, ConfirmedAt: now, SSOEventAt: o.At}
	p.apply(&u)
	keys := s.keys(s.users, s.claims)
	extKey := keyed(ClaimExternalID, s.hasher.Digests(p.ExternalID))
	holder, err := keys.reserve(ctx, b.ID, extKey, u.ID)
	if err != nil {
		return ProvisionResult{}, err
	}
	if holder != u.ID {
		return ProvisionResult{}, ErrConflict // provisioned meanwhile: update it instead
	}
	held := extKey
	if addr := u.address(); addr != "" {
		emailKey := keyed(ClaimEmail, s.hasher.EmailDigests(addr))
		holder, err := keys.reserve(ctx, b.ID, emailKey, u.ID)
		if err == nil && holder != u.ID {
			err = errAddressTaken
		}
		if err != nil {
			keys.release(ctx, b.ID, u.ID, held...)
			return ProvisionResult{}, err
		}
		held = append(held, emailKey...)
	}
	u.NextReviewAt = NextReview(u, b)
	out, err := s.users.CreateUser(ctx, u)
	if errors.Is(err, ErrConflict) {
		return ProvisionResult{}, err // fenced: another writer took this create for dead; start over
	}
	if err != nil {
		keys.release(ctx, b.ID, u.ID, held...)
		return ProvisionResult{}, err
	}
	res := ProvisionResult{Outcome: ProvisionCreated, User: out}
	if o.Active != nil && !*o.Active {
		return s.deprovision(ctx, b, out, ReasonSSODeactivated, o)
	}
	return res, nil
}

// errExternalIDTaken: another member holds the external id (SCIM: the userName) a rename asks
// for.
var errExternalIDTaken = &Error{Code: CodeConflict, Message: "another member of this brand has this external id", Err: errSettled}

// errAddressTaken: another member of the brand holds the address (a form signup, or another
// external id).
var errAddressTaken = &Error{Code: CodeConflict, Message: "another member of this brand has this email address", Err: errSettled}

// AddressTaken reports a refusal because another member of the brand holds the address: one
// member per address per brand. SCIM names the attribute in its 409 (emails, not userName).
func AddressTaken(err error) bool { return errors.Is(err, errAddressTaken) }

// update applies the profile to an existing user, guarded by the version read.
func (s *ProvisioningService) update(ctx context.Context, b Brand, u User, p ProvisionedUser, o ProvisionOptions) (ProvisionResult, error) {
	if o.IfVersion != "" && o.IfVersion != u.Version {
		return ProvisionResult{}, errPrecondition
	}
	if o.At.Before(u.SSOEventAt) {
		return ProvisionResult{Outcome: ProvisionStale, User: u}, nil
	}
	before := u
	outcome := ProvisionUpdated
	if o.KeepUncarried {
		role := u.Role
		p.Role, p.CustomerID, p.DateOfBirth, p.Position = &role, u.CustomerID, u.DateOfBirth, u.Position
	}
	p.apply(&u)
	active := o.Active == nil || *o.Active
	var cancelRef string
	switch {
	case !active && o.CreateOnly && deletedByIdP(u):
		// Created again, but inactive: the account is back in SCIM's view as deactivated,
		// its erasure date unchanged.
		block := *u.Block // before shares the pointer
		block.Reason = ReasonSSODeactivated
		u.Block = &block
	case active && ssoBlocked(u):
		ref, err := restoreFromBlock(&u)
		if err != nil {
			return ProvisionResult{}, err
		}
		cancelRef, outcome = ref, ProvisionRestored
	case !active && u.Status != UserBlocked:
		if err := blockForErasure(ctx, s.queue, b, &u, ReasonSSODeactivated, s.clock.Now()); err != nil {
			return ProvisionResult{}, err
		}
		outcome = ProvisionBlocked
	}
	oldAddr, newAddr := before.address(), u.address()
	if NormalizeEmail(newAddr) != NormalizeEmail(oldAddr) && u.EmailStatus != EmailOK {
		// An email status is its address's (R-MAIL-3): a new address starts deliverable, the
		// only way out of "undeliverable" or a hard bounce. The blacklist still stops a new
		// address that is listed (R-MAIL-1).
		u.EmailStatus, u.EmailStatusAt = EmailOK, time.Time{}
	}
	changed := !reflect.DeepEqual(before, u)
	if !changed && (o.untimed || !o.At.After(before.SSOEventAt)) {
		return ProvisionResult{Outcome: ProvisionUnchanged, User: before}, nil
	}
	if !changed {
		outcome = ProvisionUnchanged // only the event time moves on
	}
	keys := s.keys(s.users, s.claims)
	renamed := u.ExternalID != before.ExternalID
	if renamed {
		holder, err := keys.reserve(ctx, b.ID, keyed(ClaimExternalID, s.hasher.Digests(u.ExternalID)), u.ID)
		if err == nil && holder != u.ID {
			err = errExternalIDTaken
		}
		if err != nil {
			return ProvisionResult{}, err
		}
	}
	if newAddr != oldAddr && newAddr != "" {
		holder, err := keys.reserve(ctx, b.ID, keyed(ClaimEmail, s.hasher.EmailDigests(newAddr)), u.ID)
		if err == nil && holder != u.ID {
			err = errAddressTaken
		}
		if err != nil {
			return ProvisionResult{}, err
		}
	}
	u.SSOEventAt = o.At
	u.NextReviewAt = NextReview(u, b)
	out, err := s.users.UpdateUser(ctx, u)
	if err != nil {
		return ProvisionResult{}, err // a conflict re-reads: an erasure meanwhile means a new account
	}
	if newAddr != oldAddr && oldAddr != "" {
		_ = s.claims.ReleaseClaims(ctx, b.ID, owned(keyed(ClaimEmail, s.hasher.AllDigests(NormalizeEmail(oldAddr))), u.ID)...)
	}
	if renamed {
		_ = s.claims.ReleaseClaims(ctx, b.ID, owned(keyed(ClaimExternalID, s.hasher.AllDigests(before.ExternalID)), u.ID)...)
	}
	cancelErasure(ctx, s.queue, s.log, b.ID, u.ID, cancelRef)
	return ProvisionResult{Outcome: outcome, User: out}, nil
}

// Deprovision stops a user's access at once and schedules its erasure after the grace period
// (R-SSO-2, reason sso_deleted for a deletion, sso_deactivated for SCIM's active=false). A
// user never provisioned, or already erased, is ProvisionUnknown.
func (s *ProvisioningService) Deprovision(ctx context.Context, brandID BrandID, externalID string, reason BlockReason, o ProvisionOptions) (ProvisionResult, error) {
	if reason != ReasonSSODeleted && reason != ReasonSSODeactivated {
		return ProvisionResult{}, Errorf(CodeInvalid, "deprovisioning is a deletion or a deactivation")
	}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return ProvisionResult{}, err
	}
	if o.At.IsZero() {
		o.At = s.clock.Now()
	}
	var res ProvisionResult
	err = retry(ctx, func() error {
		u, found, err := s.lookup(ctx, b.ID, strings.TrimSpace(externalID))
		switch {
		case err != nil:
			return err
		case !found:
			res = ProvisionResult{Outcome: ProvisionUnknown}
			return nil
		case o.IfVersion != "" && o.IfVersion != u.Version:
			return errPrecondition
		case o.At.Before(u.SSOEventAt):
			res = ProvisionResult{Outcome: ProvisionStale, User: u}
			return nil
		}
		res, err = s.deprovision(ctx, b, u, reason, o)
		return err
	})
	if err == nil && res.Outcome == ProvisionBlocked {
		s.log.InfoContext(ctx, "member deprovisioned", "brand", b.ID, "member", res.User.ID, "reason", string(reason))
	}
	return res, err
}

// deprovision blocks u (a deletion of an account already deactivated becomes a deletion, its
// erasure date unchanged).
func (s *ProvisioningService) deprovision(ctx context.Context, b Brand, u User, reason BlockReason, o ProvisionOptions) (ProvisionResult, error) {
	err := blockForErasure(ctx, s.queue, b, &u, reason, s.clock.Now())
	switch {
	case errors.Is(err, errUnchanged) && reason == ReasonSSODeleted && u.Block != nil && u.Block.Reason == ReasonSSODeactivated:
		u.Block.Reason = ReasonSSODeleted
	case errors.Is(err, errUnchanged):
		if !o.At.After(u.SSOEventAt) {
			return ProvisionResult{Outcome: ProvisionUnchanged, User: u}, nil
		}
	case err != nil:
		return ProvisionResult{}, err
	}
	u.SSOEventAt = latest(u.SSOEventAt, o.At)
	u.NextReviewAt = NextReview(u, b)
	out, err := s.users.UpdateUser(ctx, u)
	if err != nil {
		return ProvisionResult{}, err
	}
	return ProvisionResult{Outcome: ProvisionBlocked, User: out}, nil
}

// Lookup finds the live user provisioned under an external id, as stored now: a read does not
// wait for a create in progress.
func (s *ProvisioningService) Lookup(ctx context.Context, brandID BrandID, externalID string) (User, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	u, state, err := s.keys(s.users, s.claims).peek(ctx, b.ID, keyed(ClaimExternalID, s.hasher.Digests(strings.TrimSpace(externalID))))
	if err == nil && state != holderLive {
		return User{}, Errorf(CodeNotFound, "unknown user")
	}
	return u, err
}

// Get reads a provisioned user by its member id.
func (s *ProvisioningService) Get(ctx context.Context, brandID BrandID, id string) (User, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	u, err := getUser(ctx, s.users, b.ID, id)
	if err == nil && (u.ExternalID == "" || u.Status == UserErased) {
		return User{}, Errorf(CodeNotFound, "unknown user")
	}
	return u, err
}

// List pages through the brand's provisioned users in id order, after the id given; erased
// users and members who signed up by the form are left out.
func (s *ProvisioningService) List(ctx context.Context, brandID BrandID, after string, limit int) ([]User, string, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return nil, "", err
	}
	users, err := s.users.ListUsers(ctx, b.ID, after, limit)
	if err != nil || len(users) == 0 {
		return nil, "", err
	}
	next := users[len(users)-1].ID
	if len(users) < limit {
		next = ""
	}
	kept := users[:0]
	for _, u := range users {
		if u.ExternalID != "" && u.Status != UserErased {
			kept = append(kept, u)
		}
	}
	return kept, next, nil
}
