package gdpr

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// SignupInput is the member signup form.
type SignupInput struct {
	Email        string `json:"email"`
	Password     string `json:"password"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Alias        string `json:"alias"`
	Title        string `json:"title"`
	Position     string `json:"position"`
	CustomerID   string `json:"customerId"`
	DateOfBirth  Date   `json:"dateOfBirth"`
	Language     string `json:"language"`
	Role         *Role  `json:"role"`
	AcceptTerms  bool   `json:"acceptTerms"`
	TermsVersion string `json:"termsVersion"`
	// OptIns are the communication opt-ins the member ticks on the form, unchecked unless
	// given (R-SIGNUP-7). The times are the service's, never the client's.
	OptIns SignupOptIns `json:"optIns"`
}

// SignupOptIns are the form's communication check boxes (R-SIGNUP-7).
type SignupOptIns struct {
	Newsletter bool `json:"newsletter"`
	Events     bool `json:"events"`
	Challenges bool `json:"challenges"`
	Comments   bool `json:"comments"`
}

// chosenAt records the ticked opt-ins, each with the time of the choice.
func (o SignupOptIns) chosenAt(now time.Time) OptIns {
	at := func(on bool) time.Time {
		if on {
			return now
		}
		return time.Time{}
	}
	return OptIns{
		Newsletter: o.Newsletter, Events: o.Events, Challenges: o.Challenges, Comments: o.Comments,
		NewsletterAt: at(o.Newsletter), EventsAt: at(o.Events), ChallengesAt: at(o.Challenges), CommentsAt: at(o.Comments),
	}
}

// Password bounds: bcrypt reads at most 72 bytes, so longer passwords would be silently cut.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 72
)

// validate checks the form against its shape and the brand's field rules (R-SIGNUP-1,
// R-SIGNUP-6). Messages name fields, never values.
func (in *SignupInput) validate(b Brand, now time.Time) error {
	if !in.AcceptTerms {
		return Errorf(CodeInvalid, "acceptTerms must be true: no account without the T&C (R-SIGNUP-1)")
	}
	version, err := validTermsVersion("termsVersion", in.TermsVersion)
	if err != nil {
		return err
	}
	in.TermsVersion = version
	in.Email = NormalizeEmail(in.Email)
	if !ValidEmail(in.Email) {
		return Errorf(CodeInvalid, "email is not a valid email address")
	}
	if n := len(in.Password); n < MinPasswordLen || n > MaxPasswordLen || !utf8.ValidString(in.Password) {
		return Errorf(CodeInvalid, "password must be %d to %d bytes of UTF-8", MinPasswordLen, MaxPasswordLen)
	}
	if in.Role == nil {
		r := RoleAmbassador
		in.Role = &r
	}
	if !in.Role.Valid() || in.Role.External() {
		return Errorf(CodeInvalid, "role must be a member role, 0 to 6")
	}
	texts := []struct {
		name string
		v    *string
	}{
		{"firstName", &in.FirstName}, {"lastName", &in.LastName}, {"alias", &in.Alias},
		{"title", &in.Title}, {"position", &in.Position}, {"customerId", &in.CustomerID}, {"language", &in.Language},
	}
	for _, f := range texts {
		if err := checkProfileText(b.Fields, f.name, f.v); err != nil {
			return err
		}
	}
	return checkDateOfBirth(b.Fields, in.DateOfBirth, now)
}

// checkProfileText checks one free-text field of the signup form, trimmed in place, against
// its shape and the brand's field rules (R-SIGNUP-6). A rectification (rights_kinds.go)
// checks the fields it changes here too, so a profile is held to one set of rules however
// it is written.
func checkProfileText(rules FieldRules, name string, v *string) error {
	*v = strings.TrimSpace(*v)
	if err := checkField(rules, name, *v != ""); err != nil {
		return err
	}
	if !plainText(*v, 100) {
		return Errorf(CodeInvalid, "%s must be at most 100 characters without control characters", name)
	}
	if name == "language" && *v != "" && !languageTag(*v) {
		return Errorf(CodeInvalid, "language must be a language tag such as fr or en-GB")
	}
	return nil
}

// checkDateOfBirth checks the form's date of birth against the brand's field rules: a past,
// whole date.
func checkDateOfBirth(rules FieldRules, d Date, now time.Time) error {
	if err := checkField(rules, "dateOfBirth", !d.IsZero()); err != nil {
		return err
	}
	if !d.IsZero() {
		t := time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
		if d.Month == 0 || int(t.Month()) != d.Month || t.Day() != d.Day || !t.Before(now) {
			return Errorf(CodeInvalid, "dateOfBirth must be a past YYYY-MM-DD date")
		}
	}
	return nil
}

func checkField(rules FieldRules, name string, given bool) error {
	switch req := rules.Requirement(name); {
	case req == FieldRequired && !given:
		return Errorf(CodeInvalid, "%s is required by this brand", name)
	case req == FieldNotAsked && given:
		return Errorf(CodeInvalid, "%s is not collected by this brand", name)
	}
	return nil
}

// Signup registers a member pending email confirmation (R-SIGNUP-1…7). It answers the same
// way whether or not the address already has an account, so the form cannot be used to find
// out who is a member: an existing member is mailed "you already have an account" instead.
func (s *SignupService) Signup(ctx context.Context, brandID BrandID, in SignupInput) error {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return err
	}
	if b.SSOExclusive {
		return Errorf(CodeForbidden, "this brand accepts sign-ups through its single sign-on only (R-SIGNUP-5)")
	}
	now := s.clock.Now()
	if err := in.validate(b, now); err != nil {
		return err
	}
	emailDigest := s.hasher.EmailDigest(in.Email)
	if b.WhitelistEnabled {
		if err := s.checkWhitelist(ctx, b.ID, in.Email, in.CustomerID); err != nil {
			return err
		}
	}
	if *in.Role != RoleAmbassador {
		if err := s.checkGrantedRole(ctx, b.ID, *in.Role, in.Email, in.CustomerID); err != nil {
			return err
		}
	}
	// Hash before looking the address up, so both answers take the same time.
	hash, err := s.passwords.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	u := User{
		BrandID: b.ID, ID: NewID("m_", now), Role: *in.Role, Kind: SubjectMember, Status: UserPending,
		CreatedAt: now, Alias: in.Alias, FirstName: in.FirstName, LastName: in.LastName,
		Title: in.Title, Position: in.Position, PasswordHash: hash, CustomerID: in.CustomerID,
		// The email field holds verified addresses only (R-DATA-1): until confirmation the
		// address waits in email_tmp.
		EmailTmp: in.Email, Language: in.Language, DateOfBirth: in.DateOfBirth,
		Terms:  &Terms{Version: in.TermsVersion, AcceptedAt: now},
		OptIns: in.OptIns.chosenAt(now),
	}
	u.NextReviewAt = NextReview(u, b)

	holder, err := s.createClaimed(ctx, b.ID, &u, keyed(ClaimEmail, s.hasher.EmailDigests(in.Email)))
	if err != nil {
		return err
	}
	if holder != u.ID {
		return s.signupExisting(ctx, b, holder, emailDigest, now)
	}
	s.log.InfoContext(ctx, "member signed up", "brand", b.ID, "member", u.ID, "role", int(u.Role))
	// The first mail counts against the per-address limit too: a resend right after the
	// signup mails nothing more.
	_ = s.allowMail(ctx, b.ID, emailDigest, u.ID, now)
	return s.enqueueMail(ctx, b.ID, MailSignupConfirmation, u.ID, now)
}

func (s *SignupService) checkWhitelist(ctx context.Context, brand BrandID, email, customerID string) error {
	ok, err := s.whitelisted(ctx, brand, WhitelistEmail, s.hasher.EmailCandidates(email))
	if err == nil && !ok && customerID != "" {
		ok, err = s.whitelisted(ctx, brand, WhitelistCustomerID, s.hasher.Candidates(customerID))
	}
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(CodeForbidden, "sign-up is restricted to authorised members of this brand (R-SIGNUP-4)")
	}
	return nil
}

// errRoleNotGranted: the form creates Ambassadors; a role under contract is the brand's to give.
var errRoleNotGranted = Errorf(CodeInvalid, "role: the signup form creates Ambassadors (role 0); another role needs the brand's whitelist entry with that role (R-SIGNUP-8)")

// checkGrantedRole lets a form sign up with a role under contract only where the brand's
// whitelist entry for the address or the customer id carries that role (R-SIGNUP-8), whether
// or not the brand restricts signups to its whitelist. The address is the one the double
// opt-in then verifies, so the role goes to whoever holds the listed mailbox.
func (s *SignupService) checkGrantedRole(ctx context.Context, brand BrandID, r Role, email, customerID string) error {
	ok, err := s.whitelisted(ctx, brand, WhitelistRoleKind(WhitelistEmail, r), s.hasher.EmailCandidates(email))
	if err == nil && !ok && customerID != "" {
		ok, err = s.whitelisted(ctx, brand, WhitelistRoleKind(WhitelistCustomerID, r), s.hasher.Candidates(customerID))
	}
	if err != nil {
		return err
	}
	if !ok {
		return errRoleNotGranted
	}
	return nil
}

// whitelisted reports whether the brand lists a value under any form of its digest: plain
// under an active key version, or wrapped once its source was gone at a rotation.
func (s *SignupService) whitelisted(ctx context.Context, brand BrandID, kind WhitelistKind, candidates []string) (bool, error) {
	for _, d := range candidates {
		if ok, err := s.whitelist.IsWhitelisted(ctx, brand, kind, d); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// createClaimed creates u once it holds the address, and returns who holds it: u.ID, or the
// member that has the address. A create fenced by a writer that took u for dead starts over
// under a new id (set in u), and then finds the address held by whoever recovered it.
func (s *SignupService) createClaimed(ctx context.Context, brand BrandID, u *User, key []string) (string, error) {
	keys := s.keys(s.users, s.claims)
	for range 3 {
		holder, err := keys.reserve(ctx, brand, key, u.ID)
		if err != nil || holder != u.ID {
			return holder, err
		}
		_, err = s.users.CreateUser(ctx, *u)
		if err == nil {
			return u.ID, nil
		}
		if !errors.Is(err, ErrConflict) {
			keys.release(ctx, brand, u.ID, key...)
			return "", err
		}
		u.ID = NewID("m_", s.clock.Now())
	}
	return "", errKeyContended
}

// signupExisting answers a signup for an address that already has an account: a pending one
// gets its confirmation again, an active one a notice; both rate-limited per address.
func (s *SignupService) signupExisting(ctx context.Context, b Brand, holderID, emailDigest string, now time.Time) error {
	u, err := s.users.GetUser(ctx, b.ID, holderID)
	if err != nil {
		return err
	}
	if !s.allowMail(ctx, b.ID, emailDigest, holderID, now) {
		return nil
	}
	switch u.Status {
	case UserPending:
		return s.enqueueMail(ctx, b.ID, MailSignupConfirmation, u.ID, now)
	case UserActive:
		return s.enqueueMail(ctx, b.ID, MailAccountExists, u.ID, now)
	}
	return nil // blocked or erased: say nothing, send nothing
}

// allowMail rate-limits mails triggered by anonymous requests for one address.
func (s *SignupService) allowMail(ctx context.Context, brand BrandID, emailDigest, owner string, now time.Time) bool {
	_, err := s.claims.Claim(ctx, Claim{BrandID: brand, Key: ClaimResend + emailDigest, Owner: owner, CreatedAt: now, ExpiresAt: now.Add(s.resend)})
	if err != nil && !errors.Is(err, ErrConflict) {
		s.log.WarnContext(ctx, "resend rate limit unavailable", "brand", brand, "err", err)
	}
	return err == nil
}

// Resend mails a new confirmation link to a pending signup. It answers the same whatever the
// address, and at most once per ResendInterval per address.
//
// It also does the same work whatever the address, so that its timing says nothing either:
// one claim read, one user read, one rate-limit claim, and, once per interval, one queued mail
// job. Where there is no pending signup to mail, the job names no user and the sender drops it.
func (s *SignupService) Resend(ctx context.Context, brandID BrandID, email string) error {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return err
	}
	email = NormalizeEmail(email)
	if !ValidEmail(email) {
		return Errorf(CodeInvalid, "email is not a valid email address")
	}
	digest := s.hasher.EmailDigest(email)
	now := s.clock.Now()
	claim, err := claimOf(ctx, s.claims, b.ID, keyed(ClaimEmail, s.hasher.EmailDigests(email)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	owner := claim.Owner
	if owner == "" {
		owner = nobody
	}
	u, err := s.users.GetUser(ctx, b.ID, owner)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if !s.allowMail(ctx, b.ID, digest, owner, now) {
		return nil
	}
	if u.Status != UserPending {
		owner = nobody // the decoy: the same publish, a job the sender drops
	}
	return s.enqueueMail(ctx, b.ID, MailSignupConfirmation, owner, now)
}

// nobody is a user id no user has (ids are "m_" and 26 characters): a job for it is dropped.
const nobody = "m_nobody"

var errTokenGone = Errorf(CodeGone, "this confirmation link has expired or was already used; ask for a new one")

// usableToken finds a confirmation token that is unexpired and unused.
func (s *SignupService) usableToken(ctx context.Context, brand BrandID, token string) (Token, error) {
	return s.linkToken(ctx, s.tokens, brand, token, linkTokenRule{purpose: TokenSignupConfirmation, gone: errTokenGone})
}

// CheckConfirmation tells whether a confirmation link is still usable, changing nothing: mail
// scanners fetch links, so only the POST confirms.
func (s *SignupService) CheckConfirmation(ctx context.Context, brandID BrandID, token string) error {
	if _, err := s.brand(ctx, brandID); err != nil {
		return err
	}
	_, err := s.usableToken(ctx, brandID, token)
	return err
}

// Confirm completes the double opt-in (R-SIGNUP-2): the member becomes active, its address
// moves to the verified email field, and the token is spent. It returns the member id.
func (s *SignupService) Confirm(ctx context.Context, brandID BrandID, token string) (string, error) {
	b, err := s.activeBrand(ctx, brandID)
	if err != nil {
		return "", err
	}
	t, err := s.usableToken(ctx, b.ID, token)
	if err != nil {
		return "", err
	}
	// Activate first, spend the token second: a crash in between leaves a token that confirms
	// an already active member again, which is harmless; the other order would strand a
	// pending member with a spent token.
	var email string
	err = retry(ctx, func() error {
		u, err := s.users.GetUser(ctx, b.ID, t.UserID)
		if err != nil {
			return err
		}
		switch u.Status {
		case UserActive:
			email = u.Email
			return nil
		case UserPending:
		default:
			return errTokenGone
		}
		now := s.clock.Now()
		u.Status, u.ConfirmedAt = UserActive, now
		u.Email, u.EmailTmp = u.EmailTmp, ""
		u.NextReviewAt = NextReview(u, b)
		_, err = s.users.UpdateUser(ctx, u)
		email = u.Email
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return "", errTokenGone
	}
	if err != nil {
		return "", err
	}
	// The confirmed link is the person's own new consent for the address: the one thing that
	// lifts a complaint or a global opt-out (R-MAIL-4). Before the token is spent, so that a
	// crash in between is completed by the link clicked again.
	if email != "" {
		if err := liftByConsent(ctx, &s.core, s.blacklist, s.remover, b.ID, s.hasher.EmailCandidates(email), t.UserID); err != nil {
			return "", err
		}
	}
	if err := s.spendLinkToken(ctx, s.tokens, t); errors.Is(err, ErrConflict) {
		return "", errTokenGone // spent by a concurrent confirmation
	} else if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "member confirmed", "brand", b.ID, "member", t.UserID)
	return t.UserID, nil
}
