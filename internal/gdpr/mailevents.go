package gdpr

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"time"
)

// MailEventKind is what the mail provider reports about a mail.
type MailEventKind string

const (
	MailEventSent    MailEventKind = "sent"
	MailEventOpen    MailEventKind = "open" // not activity (R-RET-3)
	MailEventClick   MailEventKind = "click"
	MailEventBounce  MailEventKind = "bounce"
	MailEventBlocked MailEventKind = "blocked"
	MailEventSpam    MailEventKind = "spam"
	MailEventUnsub   MailEventKind = "unsub"
)

// MailEvent is one provider event. Email is personal data: the service digests it at once and
// neither stores nor logs it; the provider's IPs and user agents never reach the domain
// (R-DATA-4).
type MailEvent struct {
	Kind  MailEventKind
	At    time.Time
	Email string
	// ID identifies the event at the provider (Mailjet: message id, type and time), never
	// personal data; empty when the event carried none. It is the source a blacklist entry
	// records.
	ID string
	// Permanent marks a bounce or a block the provider blames on the address itself; one it
	// blames on the sender (a broken template, a campaign duplicate) says nothing about the
	// address, and blacklists nothing.
	Permanent bool
	// Contact is the contact the mail was for, when the mail named one; zero for mail to a
	// member.
	Contact MailRecipient
}

// MailRecipient names the contact a mail went to, as the mail itself carried it: the brand,
// the contact and the mail's job.
type MailRecipient struct {
	Brand     BrandID
	ContactID string
	JobID     string
}

// MailEventStats count what a batch did.
type MailEventStats struct {
	Events      int `json:"events"`
	Ignored     int `json:"ignored"`     // kinds this service does not act on, and events without a valid address
	Skipped     int `json:"skipped"`     // events whose time is missing or outside the window (MailEventEarliest, MailEventMaxSkew)
	Undated     int `json:"undated"`     // unsubscribes and complaints whose time was missing or outside it, applied at the time they arrived
	Blacklisted int `json:"blacklisted"` // spam, hard bounces and blocks, each digest once
	// Suppressed counts the addresses the brand's soft-bounce policy suppressed (or found
	// suppressed still); absent while the policy is off.
	Suppressed int `json:"suppressed,omitempty"`
	Members    int `json:"members"` // members whose email status or opt-ins changed
}

// The window of plausible event times. A time outside it is no time: Mailjet's `time` is an
// integer it can get wrong (year 10000, a negative year, 0), and trusting it would write a
// date no store encodes (failing the whole batch, which Mailjet retries for 24 h and then
// drops) or, for a click, set a contact's last activity in the far future so that R-RET-3
// never falls due.
//
//   - MailEventEarliest, 2011-01-01: Mailjet went public in February 2011, so no event of
//     it is older. The floor is fixed rather than relative to now: an old time does no harm
//     here (statuses are ordered by time, and activity only ever moves forward), and a
//     genuine event delivered late, after a day of Mailjet's retries or a complaint reported
//     long after the mail, must still apply.
//   - MailEventMaxSkew, one hour past now: an event cannot happen after it arrives, so this
//     only absorbs the difference between Mailjet's clock and ours; at worst it moves an
//     activity an hour ahead.
var MailEventEarliest = time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)

// MailEventMaxSkew: see MailEventEarliest.
const MailEventMaxSkew = time.Hour

// eventDating is how an event's time was taken.
type eventDating int

const (
	eventDated   eventDating = iota // its own time, inside the window
	eventUndated                    // an unsubscribe or a complaint without a usable time: now
	eventSkipped                    // any other event without a usable time: not applied
)

// dateMailEvent decides the time an event applies at. An unsubscribe and a complaint without
// a usable time apply at now: they must never be lost (R-MAIL-1, R-MAIL-5), and stopping
// mail a little late in the record is always safe. Any other event without one is skipped:
// a bounce, a block or a click with no credible date cannot be placed among the others.
func dateMailEvent(kind MailEventKind, at, now time.Time) (time.Time, eventDating) {
	if !at.IsZero() && !at.Before(MailEventEarliest) && !at.After(now.Add(MailEventMaxSkew)) {
		return at.UTC(), eventDated
	}
	if kind == MailEventUnsub || kind == MailEventSpam {
		return now, eventUndated
	}
	return time.Time{}, eventSkipped
}

// MailEventDeps are the ports of the MailEventService.
type MailEventDeps struct {
	Users     UserStore
	Claims    ClaimStore // a member by its address's digest
	Blacklist BlacklistWriter
	// Listed, Remover and SoftBounces serve the brand's soft-bounce policy: the streaks it
	// counts, and the suppressions a delivery or a release lifts.
	Listed      Blacklist
	Remover     BlacklistRemover
	SoftBounces SoftBounceStore
}

// MailEventService applies the mail provider's event callbacks (R-MAIL-1…5): complaints,
// hard bounces and blocks blacklist the address's digest and set the member's email status;
// soft bounces set the status only, until the member releases it; an unsubscribe withdraws
// the member's mail opt-ins. Every batch is safe to apply again: Mailjet retries for 24 hours
// and sends duplicates.
type MailEventService struct {
	core
	users       UserStore
	claims      ClaimStore
	blacklist   BlacklistWriter
	listed      Blacklist
	remover     BlacklistRemover
	softBounces SoftBounceStore
}

// NewMailEventService checks its dependencies.
func NewMailEventService(c Core, d MailEventDeps) (*MailEventService, error) {
	cc, err := c.check()
	if err == nil {
		err = missing("MailEventService", map[string]bool{"Users": d.Users != nil, "Claims": d.Claims != nil, "Blacklist": d.Blacklist != nil,
			"Listed": d.Listed != nil, "Remover": d.Remover != nil, "SoftBounces": d.SoftBounces != nil})
	}
	if err != nil {
		return nil, err
	}
	return &MailEventService{core: cc, users: d.Users, claims: d.Claims, blacklist: d.Blacklist, listed: d.Listed,
		remover: d.Remover, softBounces: d.SoftBounces}, nil
}

// errCallbackAuth is the one answer to every failed callback authentication, whether the
// brand is unknown, has no credentials, or they differ.
var errCallbackAuth = Errorf(CodeUnauthenticated, "mail event callback credentials missing or wrong")

// Authenticate checks the basic-auth credentials Mailjet sends for the brand, in constant time
// (Mailjet's only mechanism: credentials in the callback URL).
func (s *MailEventService) Authenticate(ctx context.Context, brandID BrandID, username, password string) error {
	b, err := s.brand(ctx, brandID)
	if errors.Is(err, ErrNotFound) {
		return errCallbackAuth
	}
	if err != nil {
		return err
	}
	want := b.MailjetCallback
	userOK := subtle.ConstantTimeCompare([]byte(username), []byte(want.Username))
	passOK := s.hasher.Matches(mailjetPasswordInput(password), want.PasswordDigest)
	if want.PasswordDigest == "" || password == "" || userOK != 1 || !passOK {
		return errCallbackAuth
	}
	return nil
}

// statusChange is what a batch decided for one address.
type statusChange struct {
	status EmailStatus
	at     time.Time
	unsub  time.Time // the latest unsubscribe; zero if none
	claims []string  // the address's claim keys, one per active hash-key version
}

// Apply applies a batch of events. Events of one address are decided together, in time order;
// each store write is shared by the whole batch. An event's time is taken by dateMailEvent:
// one without a usable time is skipped, or applied at now for an unsubscribe or a complaint,
// and counted either way; it never fails the batch.
func (s *MailEventService) Apply(ctx context.Context, brandID BrandID, events []MailEvent) (MailEventStats, error) {
	st := MailEventStats{Events: len(events)}
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return st, err
	}
	now := s.clock.Now().UTC()
	defer func() {
		if st.Skipped+st.Undated > 0 {
			// Counts only: the events carry addresses (R-OPS-1).
			s.log.WarnContext(ctx, "mail events without a usable time", "brand", b.ID, "skipped", st.Skipped, "undated", st.Undated)
		}
	}()
	changes := map[string]*statusChange{} // by email digest
	var entries []BlacklistEntry
	listed := map[string]bool{}
	policy := b.Mail.SoftBounces.On()
	streaks := map[string]*addressStreak{} // by email digest (the newest key's), under the soft-bounce policy
	for _, e := range events {
		switch e.Kind {
		case MailEventSent, MailEventOpen, MailEventClick, MailEventBounce, MailEventBlocked, MailEventSpam, MailEventUnsub:
		default:
			st.Ignored++ // a kind this service does not know: the rest of the batch still applies
			continue
		}
		var dating eventDating
		e.At, dating = dateMailEvent(e.Kind, e.At, now)
		switch dating {
		case eventSkipped:
			st.Skipped++
			continue
		case eventUndated:
			st.Undated++
		}
		switch e.Kind {
		case MailEventSent:
			// A delivery: nothing to change for a member; under the soft-bounce policy it
			// ends the address's streak and lifts its suppression.
			if policy && e.ID != "" && ValidEmail(NormalizeEmail(e.Email)) {
				s.streakOf(streaks, e.Email).add(streakEvent{id: e.ID, at: e.At, delivered: true})
			}
			continue
		case MailEventOpen, MailEventClick:
			continue // accepted; nothing to change for a member (an open is no activity, R-RET-3)
		}
		reason, status := eventEffect(e)
		if !ValidEmail(NormalizeEmail(e.Email)) {
			st.Ignored++
			continue
		}
		digest := s.hasher.EmailDigest(e.Email)
		if policy && status == EmailSoftBounce {
			s.streakOf(streaks, e.Email).add(streakEvent{id: e.ID, at: e.At})
		}
		if reason != "" && !listed[digest] {
			listed[digest] = true
			entries = append(entries, BlacklistEntry{BrandID: b.ID, Digest: digest, Reason: reason, Source: e.ID, CreatedAt: e.At})
		}
		c := changes[digest]
		if c == nil {
			c = &statusChange{claims: keyed(ClaimEmail, s.hasher.EmailDigests(e.Email))}
			changes[digest] = c
		}
		if e.Kind == MailEventUnsub {
			c.unsub = latest(c.unsub, e.At)
			continue
		}
		if replaces(status, e.At, c.status, c.at) {
			c.status, c.at = status, e.At
		}
	}
	// The blacklist first: it is what stops every later mail (R-MAIL-1), whatever happens to
	// the member's record.
	if len(entries) > 0 {
		if err := s.blacklist.PutBlacklist(ctx, entries...); err != nil {
			return st, err
		}
	}
	st.Blacklisted = len(entries)
	if len(streaks) > 0 {
		if st.Suppressed, err = s.applySoftBouncePolicy(ctx, b, streaks); err != nil {
			return st, err
		}
	}
	n, err := s.applyToMembers(ctx, b.ID, changes)
	st.Members = n
	return st, err
}

// eventEffect is the blacklist reason and the email status an event calls for (R-MAIL-1,
// R-MAIL-2); EmailOK when it changes no status.
func eventEffect(e MailEvent) (BlacklistReason, EmailStatus) {
	switch {
	case e.Kind == MailEventSpam:
		return BlacklistSpam, EmailSpam
	case e.Kind == MailEventBlocked && e.Permanent:
		return BlacklistBlocked, EmailBlocked
	case e.Kind == MailEventBlocked:
		return "", EmailOK // blamed on the sender: nothing about the address
	case e.Kind == MailEventBounce && e.Permanent:
		return BlacklistHardBounce, EmailHardBounce
	case e.Kind == MailEventBounce:
		return "", EmailSoftBounce
	}
	return "", EmailOK
}

// replaces reports whether status at time at takes the place of the current one: a later
// event wins, except that a soft bounce never replaces a permanent status (only a soft bounce
// can be released, R-MAIL-2), and nothing replaces a status with an earlier event (Mailjet
// retries arrive out of order).
func replaces(status EmailStatus, at time.Time, current EmailStatus, currentAt time.Time) bool {
	switch {
	case status == EmailOK:
		return false
	case current == EmailOK:
		// A released soft bounce is not set again by a replay of itself; a permanent status
		// applies whenever its event arrives.
		return permanent(status) || at.After(currentAt)
	case permanent(current) && !permanent(status):
		return false
	case permanent(status) && !permanent(current):
		return true
	}
	return at.After(currentAt)
}

func permanent(s EmailStatus) bool {
	return s == EmailSpam || s == EmailHardBounce || s == EmailBlocked || s == EmailUndeliverable
}

// applyToMembers sets the members' email statuses and withdraws their opt-ins, each member
// found by the claim on its address's digest. An address that no member holds is only
// blacklisted (a contact's, when contacts land, or nobody's).
func (s *MailEventService) applyToMembers(ctx context.Context, brand BrandID, changes map[string]*statusChange) (int, error) {
	byMember := map[string]*statusChange{}
	for _, c := range changes {
		claim, err := firstFound(c.claims, func(k string) (Claim, error) { return s.claims.GetClaim(ctx, brand, k) })
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		byMember[claim.Owner] = c
	}
	if len(byMember) == 0 {
		return 0, nil
	}
	ids := make([]string, 0, len(byMember))
	for id := range byMember {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	changed := 0
	err := retry(ctx, func() error {
		users, err := s.users.GetUsers(ctx, brand, ids)
		if err != nil {
			return err
		}
		var update []User
		for _, u := range users {
			if applyChange(&u, byMember[u.ID]) {
				update = append(update, u)
			}
		}
		changed = len(update)
		for len(update) > 0 {
			chunk := update[:min(len(update), MaxBatch)]
			update = update[len(chunk):]
			if _, err := s.users.UpdateUsers(ctx, brand, chunk); err != nil {
				return err // a conflict re-reads them all: applied ones now change nothing
			}
		}
		return nil
	})
	return changed, err
}

// applyChange applies one address's decided change to its member, reporting whether anything
// changed: a replayed batch changes nothing.
func applyChange(u *User, c *statusChange) bool {
	if u.Status == UserErased || c == nil {
		return false
	}
	changed := false
	if replaces(c.status, c.at, u.EmailStatus, u.EmailStatusAt) {
		u.EmailStatus, u.EmailStatusAt, changed = c.status, c.at, true
	}
	if !c.unsub.IsZero() && u.OptIns != (OptIns{}) {
		// R-MAIL-5 for a member: unsubscribing from a mail withdraws its mail opt-ins.
		u.OptIns, changed = OptIns{}, true
	}
	return changed
}

// ReleaseSoftBounce clears a member's soft-bounce status, at the member's request (R-MAIL-2).
// No other status can be released.
func (s *MailEventService) ReleaseSoftBounce(ctx context.Context, brandID BrandID, id string) (User, error) {
	b, err := s.brand(ctx, brandID)
	if err != nil {
		return User{}, err
	}
	var out User
	err = retry(ctx, func() error {
		u, err := getUser(ctx, s.users, b.ID, id)
		if err != nil {
			return err
		}
		switch u.EmailStatus {
		case EmailSoftBounce:
		case EmailOK:
			out = u
			return nil // released already: a repeated request changes nothing
		default:
			return Errorf(CodeConflict, "only a soft bounce can be released (R-MAIL-2)")
		}
		u.EmailStatus, u.EmailStatusAt = EmailOK, s.clock.Now()
		out, err = s.users.UpdateUser(ctx, u)
		return err
	})
	if err != nil {
		return out, err
	}
	// The address too: a soft-bounce policy's suppression of it goes with the release. Also
	// for a status released already, so that a retry completes a release that failed here.
	if err := releaseAddress(ctx, &s.core, s.listed, s.remover, s.softBounces, b.ID, out.Email, out.ID); err != nil {
		return out, err
	}
	s.log.InfoContext(ctx, "soft bounce released", "brand", b.ID, "member", id)
	return out, nil
}
