package gdpr

import (
	"time"
)

// The consent state machines of a contact (R-CONSENT-1, R-CONSENT-2) and the consent history
// that proves each change (Art. 7(1) GDPR: the controller must be able to demonstrate that
// consent was given, and when and how it changed).
//
// Each machine is one table of (from, to, source kind) rows: a change is allowed if and only
// if its row is listed. The tables below are the single source of truth; consent_test.go
// enumerates every (from, to, source kind) triple against them.
//
// How the rows were chosen: a row is listed only where a rule (cited beside it) causes that
// change. Where the rules are silent, the change is refused, with two principles:
//   - nothing may grant or widen consent without a rule saying so (no re-opt-in after an
//     opt-out, no opt-in set by a Member's hand, no flow for a deprecated feature);
//   - a withdrawal is honoured from any state in which the event can arrive (Art. 7(3): it
//     must be as easy to withdraw as to give), but an opted-out contact never moves to another
//     opt-out reason except the global one, which is broader: moving would re-date the state
//     and so restart the one-year retention of R-RET-7 for nothing.
//
// The empty value "" is the state before the contact exists: rows from "" are the creation
// mappings (R-CONSENT-3, R-CONSENT-4, R-RET-4...), so creation is proven in the history too.

// ConsentKind says which of a contact's two consents changed.
type ConsentKind string

const (
	ConsentMember ConsentKind = "member" // R-CONSENT-1
	ConsentBrand  ConsentKind = "brand"  // R-CONSENT-2
)

// ConsentSourceKind is what caused a consent change.
type ConsentSourceKind string

const (
	// SourceKindOrder: the brand's order webhook (R-CONSENT-3); Ref is the order id.
	SourceKindOrder ConsentSourceKind = "order"
	// SourceKindSync: a batch of the brand's contact synchronisation (R-CONSENT-4); Ref is
	// the batch id.
	SourceKindSync ConsentSourceKind = "sync"
	// SourceKindInvitation: an invitation mailed to the contact, or the contact's answer on
	// its accept/decline page (R-RET-4, R-RET-5); Ref is the invitation's mail job id.
	SourceKindInvitation ConsentSourceKind = "invitation"
	// SourceKindMailjet: an event Mailjet posted, an unsubscribe (R-MAIL-5), or its refusal
	// of an invitation's address (issue 21); Ref is the job id the mail carried as CustomID.
	SourceKindMailjet ConsentSourceKind = "mailjet"
	// SourceKindPopin: the contact's own answer on a blog pop-in, its email verification
	// included (R-CONSENT-1 "opt-in from blog pop-in"); Ref is the pop-in submission id.
	SourceKindPopin ConsentSourceKind = "popin"
	// SourceKindMember: a Member acted in the CRM (a contact entered by hand, R-RET-4); Ref is
	// the Member's id.
	SourceKindMember ConsentSourceKind = "member"
	// SourceKindBrand: a Brand user acted in the Manager. No rule lets one change a consent
	// yet; the kind exists so that a future rule has a name to cite.
	SourceKindBrand ConsentSourceKind = "brand"
	// SourceKindSystem: a retention rule or the blacklist (R-RET-5, R-RET-8, R-MAIL-4); Ref
	// is the job or rule id.
	SourceKindSystem ConsentSourceKind = "system"
	// SourceKindUnsubscribe: the contact's own answer on the unsubscribe page a mail linked to
	// (R-MAIL-5, R-CONSENT-7); Ref is a prefix of the link token's digest.
	SourceKindUnsubscribe ConsentSourceKind = "unsubscribe"
)

var consentSourceKinds = []ConsentSourceKind{SourceKindOrder, SourceKindSync, SourceKindInvitation,
	SourceKindMailjet, SourceKindPopin, SourceKindMember, SourceKindBrand, SourceKindSystem, SourceKindUnsubscribe}

// Valid reports one of the source kinds above.
func (k ConsentSourceKind) Valid() bool {
	for _, v := range consentSourceKinds {
		if k == v {
			return true
		}
	}
	return false
}

// ConsentSource is what caused a change and the id of that cause, which a data-protection
// officer follows to the order, batch, mail or job. It never holds personal data.
type ConsentSource struct {
	Kind ConsentSourceKind `json:"kind"`
	Ref  string            `json:"ref"`
}

// maxConsentRef bounds a reference: ids in this service are far shorter.
const maxConsentRef = 128

// validate refuses a source whose reference could carry personal data: only the characters of
// ids are accepted, so an email address (its @), a name with spaces or free text cannot be
// recorded as proof by mistake. The message names the field, never the value (R-OPS-1).
func (s ConsentSource) validate() error {
	if !s.Kind.Valid() {
		return Errorf(CodeInvalid, "consent source kind is not one of the known kinds")
	}
	if s.Ref == "" || len(s.Ref) > maxConsentRef {
		return Errorf(CodeInvalid, "consent source ref must be an id of 1 to %d characters", maxConsentRef)
	}
	for i := 0; i < len(s.Ref); i++ {
		c := s.Ref[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return Errorf(CodeInvalid, "consent source ref must be an id: letters, digits and _ - . : only")
		}
	}
	return nil
}

// ConsentChange is one dated change of a consent, kept on the contact as proof (Art. 7 GDPR).
// From is "" when the change created the consent. Values and ids only: no personal data.
type ConsentChange struct {
	Kind   ConsentKind   `json:"kind"`
	From   string        `json:"from"`
	To     string        `json:"to"`
	At     time.Time     `json:"at"`
	Source ConsentSource `json:"source"`
}

// MaxConsentHistory bounds the history kept on a contact. A contact is one document, read and
// written by the sweep and the erasure worker in batches, so it must stay small (a Cosmos DB
// item is at most 2 MB, and every byte is paid for at each write). The proof of the consent
// in force is the change that set it, which is always the newest entry; a contact has a
// handful of changes in its life (creation, invitation, answer, perhaps an opt-out), so 100
// loses nothing in practice and only a runaway loop (e.g. a sync toggling a value) could
// reach it, in which case the oldest entries go.
const MaxConsentHistory = 100

type transition[V ~string] struct {
	from, to V
	by       ConsentSourceKind
}

// memberTransitions is the Member opt-in machine (R-CONSENT-1). See the package comment above
// for how rows were chosen; memberWithdrawals adds the withdrawal rows common to many states.
var memberTransitions = append([]transition[MemberOptIn]{
	// Creation.
	{"", MemberOptInFromOrder, SourceKindOrder},   // R-CONSENT-3: order with Brand opt-in true
	{"", MemberStorageOnly, SourceKindOrder},      // R-CONSENT-3: Brand opt-in false or not set
	{"", MemberOptInFromBrand, SourceKindSync},    // R-CONSENT-4: an opt-in imported
	{"", MemberOptInNew, SourceKindSync},          // R-CONSENT-4: none imported
	{"", MemberOptInNew, SourceKindMember},        // R-RET-4: a contact entered by a Member is new
	{"", MemberOptInBlogPending, SourceKindPopin}, // R-RET-6: pending email verification

	// Invitations (R-RET-4, R-RET-5). The second invitation keeps "invitation sent" (a no-op).
	{MemberOptInNew, MemberOptInInvitationSent, SourceKindInvitation},
	{MemberOptInInvitationSent, MemberOptInInvitationAccepted, SourceKindInvitation},
	{MemberOptInInvitationSent, MemberOptInInvitationDeclined, SourceKindInvitation},
	{MemberOptInInvitationSent, MemberOptOutNoAction, SourceKindSystem}, // R-RET-5: 15 days after the second
	// Mailjet refused the invitation's address for good (issue 21): it never reached the contact.
	{MemberOptInInvitationSent, MemberOptInInvitationFailed, SourceKindMailjet},
	// The decline page offers the global opt-out, before or after declining (issue #14, R-MAIL-4).
	{MemberOptInInvitationSent, MemberGlobalOptOut, SourceKindInvitation},
	{MemberOptInInvitationDeclined, MemberGlobalOptOut, SourceKindInvitation},

	// Blog pop-in: the contact verified the address (R-CONSENT-1).
	{MemberOptInBlogPending, MemberOptInBlogVerified, SourceKindPopin},

	// A later sync batch updates the imported status of a contact it created (R-CONSENT-4:
	// "regularly update"); only between the two values a sync assigns, so a sync never
	// overrides an answer the contact gave the Member.
	{MemberOptInNew, MemberOptInFromBrand, SourceKindSync},
	{MemberOptInFromBrand, MemberOptInNew, SourceKindSync},

	// R-RET-8 (contacts recorded before 2018-05-25) is no row: it re-bases a legacy contact
	// once, whatever its earlier value, and re-dates even an unchanged one (MarkPreGDPR).
}, memberWithdrawals()...)

// memberWithdrawals lists the withdrawals every state allows.
//   - R-MAIL-5: an unsubscribe from an email sets "opt-out from an email", from any state that
//     is not already an opt-out (a mail can reach a contact in any of them: an invitation, a
//     verification, a publication).
//   - R-MAIL-4: a global opt-out puts the digest on the brand's blacklist, and the contact
//     refused every Member of the brand; each Member's copy (R-CONSENT-5) follows, whatever
//     its state.
func memberWithdrawals() []transition[MemberOptIn] {
	var out []transition[MemberOptIn]
	for _, v := range MemberOptIns() {
		if !v.OptedOut() {
			out = append(out, transition[MemberOptIn]{v, MemberOptOutFromEmail, SourceKindMailjet})
			out = append(out, transition[MemberOptIn]{v, MemberOptOutFromEmail, SourceKindUnsubscribe})
		}
		if v != MemberGlobalOptOut {
			out = append(out, transition[MemberOptIn]{v, MemberGlobalOptOut, SourceKindSystem})
			// R-CONSENT-7: the contact opts out from every Member on the unsubscribe page.
			out = append(out, transition[MemberOptIn]{v, MemberGlobalOptOut, SourceKindUnsubscribe})
		}
	}
	return out
}

// Values no row reaches, because the rules define no flow that sets them on a live contact:
// social media only, internal form, external form and order pop-in (features deprecated since
// 4.0 or not specified); they stay readable on contacts that hold them, which can still opt
// out.

// brandTransitions is the Brand opt-in machine (R-CONSENT-2).
var brandTransitions = []transition[BrandOptIn]{
	// Creation.
	{"", BrandOptInDatabase, SourceKindOrder},    // R-CONSENT-3: order with Brand opt-in true
	{"", BrandOptInStorageOnly, SourceKindOrder}, // R-CONSENT-3: false or not set
	{"", BrandOptInDatabase, SourceKindSync},     // R-CONSENT-4: an opt-in imported
	{"", BrandOptInStorageOnly, SourceKindSync},  // R-CONSENT-4: none imported
	{"", BrandOptInNone, SourceKindMember},       // a Member's entry gives the Brand nothing (R-ACCESS-1)
	{"", BrandOptInNone, SourceKindPopin},        // nothing for the Brand before verification (R-RET-6)

	// The blog pop-in's Brand box, once the address is verified (R-CONSENT-2 "from blog").
	{BrandOptInNone, BrandOptInBlog, SourceKindPopin},

	// A later sync batch updates the imported status (R-CONSENT-4): an opt-in imported since,
	// or withdrawn at the brand, which hides the contact from the Brand again ("none", dated);
	// one withdrawn may be imported again.
	{BrandOptInStorageOnly, BrandOptInDatabase, SourceKindSync},
	{BrandOptInDatabase, BrandOptInNone, SourceKindSync},
	{BrandOptInNone, BrandOptInDatabase, SourceKindSync},
}

// Only the brand's own database withdraws a Brand opt-in (R-CONSENT-4, above): a Member's
// unsubscription keeps it (R-ERASE-6) and a global opt-out refuses the Members (R-MAIL-4).
// A brand deletes a synchronised contact instead (R-RET-9, an erasure). Internal and external
// form have no flow (deprecated features).

var (
	memberAllowed = index(memberTransitions)
	brandAllowed  = index(brandTransitions)
)

func index[V ~string](rows []transition[V]) map[transition[V]]bool {
	m := make(map[transition[V]]bool, len(rows))
	for _, r := range rows {
		m[r] = true
	}
	return m
}

// AwaitsPreGDPRMark reports a contact R-RET-8 has not judged yet: recorded before the GDPR
// applied (GDPRDate), with no consent change in its history since (the mark is one; a consent
// given or withdrawn in this service since is another, and is in force), and not opted out: a
// recorded opt-out is the contact's own refusal, which the guide's assumption ("assuming that
// they have not opted-out") cannot override; it follows R-RET-7.
func (c Contact) AwaitsPreGDPRMark() bool {
	v := c.MemberOptIn.Value
	if c.Erased() || !c.CreatedAt.Before(GDPRDate) || !v.Valid() || v.OptedOut() {
		return false
	}
	for _, h := range c.History {
		if !h.At.Before(GDPRDate) {
			return false
		}
	}
	return true
}

// MarkPreGDPR applies R-RET-8 to a contact that awaits it, dated at and proven by the rule
// id: with an activity history it is assigned "other opt-in" (guide: "an opt-in is assigned
// by default"), whatever its earlier value; without, it is marked "new" and follows R-RET-4
// from at (guide: "marked as “new” and will follow the same process as new contacts"), even
// if it was new already: the mark's date is what R-RET-4 counts from. It returns false, and
// changes nothing, for a contact that does not await it.
func (c *Contact) MarkPreGDPR(at time.Time) (bool, error) {
	if !c.AwaitsPreGDPRMark() {
		return false, nil
	}
	to := MemberOptInNew
	if !c.LastActivityAt.IsZero() {
		to = MemberOptInOther
	}
	src := ConsentSource{Kind: SourceKindSystem, Ref: RuleLegacyContact}
	if err := c.checkChange(ConsentMember, true, src, at); err != nil {
		return false, err
	}
	from := c.MemberOptIn.Value
	c.MemberOptIn = MemberOptInState{Value: to, At: at}
	c.recordConsent(ConsentChange{Kind: ConsentMember, From: string(from), To: string(to), At: at, Source: src})
	return true, nil
}

// MemberOptIns returns the Member opt-in values: the 17 of R-CONSENT-1 in the guide's order,
// with the product's "invitation failed" (issue 21) after "invitation sent".
func MemberOptIns() []MemberOptIn {
	return []MemberOptIn{MemberOptInNew, MemberOptInInvitationSent, MemberOptInInvitationFailed, MemberOptInInvitationAccepted,
		MemberOptInInvitationDeclined, MemberOptOutFromEmail, MemberOptOutNoAction, MemberGlobalOptOut,
		MemberSocialMediaOnly, MemberOptInFromBrand, MemberOptInBlogPending, MemberOptInBlogVerified,
		MemberOptInInternalForm, MemberOptInExternalForm, MemberOptInFromOrder, MemberOptInFromOrderPopin,
		MemberOptInOther, MemberStorageOnly}
}

// BrandOptIns returns the 6 Brand opt-in values of R-CONSENT-2, in the guide's order.
func BrandOptIns() []BrandOptIn {
	return []BrandOptIn{BrandOptInNone, BrandOptInBlog, BrandOptInInternalForm, BrandOptInExternalForm,
		BrandOptInDatabase, BrandOptInStorageOnly}
}

// MemberTransitionAllowed reports whether the Member opt-in machine lets by change from into
// to (from "" is the creation). A same-value change is always allowed: it changes nothing.
// Callers that must skip rather than fail (a sync batch, a Mailjet event for a contact that
// already opted out) ask this first.
func MemberTransitionAllowed(from, to MemberOptIn, by ConsentSourceKind) bool {
	return from == to && to.Valid() || memberAllowed[transition[MemberOptIn]{from, to, by}]
}

// BrandTransitionAllowed is MemberTransitionAllowed for the Brand opt-in machine.
func BrandTransitionAllowed(from, to BrandOptIn, by ConsentSourceKind) bool {
	return from == to && to.Valid() || brandAllowed[transition[BrandOptIn]{from, to, by}]
}

// ChangeMemberOptIn moves the contact's Member opt-in to to, dated at, and records the change
// in its history (R-CONSENT-1). A change to the current value is a no-op: its date, which is
// the date of the consent in force, stays. A change the table does not list is refused with
// CodeConflict, naming the values and the source kind only.
func (c *Contact) ChangeMemberOptIn(to MemberOptIn, src ConsentSource, at time.Time) error {
	from := c.MemberOptIn.Value
	if err := c.checkChange(ConsentMember, to.Valid(), src, at); err != nil {
		return err
	}
	if from == to {
		return nil
	}
	if !MemberTransitionAllowed(from, to, src.Kind) {
		return refused(ConsentMember, string(from), string(to), src.Kind)
	}
	c.MemberOptIn = MemberOptInState{Value: to, At: at}
	c.recordConsent(ConsentChange{Kind: ConsentMember, From: string(from), To: string(to), At: at, Source: src})
	return nil
}

// ChangeBrandOptIn is ChangeMemberOptIn for the Brand opt-in (R-CONSENT-2).
func (c *Contact) ChangeBrandOptIn(to BrandOptIn, src ConsentSource, at time.Time) error {
	from := c.BrandOptIn.Value
	if err := c.checkChange(ConsentBrand, to.Valid(), src, at); err != nil {
		return err
	}
	if from == to {
		return nil
	}
	if !BrandTransitionAllowed(from, to, src.Kind) {
		return refused(ConsentBrand, string(from), string(to), src.Kind)
	}
	c.BrandOptIn = BrandOptInState{Value: to, At: at}
	c.recordConsent(ConsentChange{Kind: ConsentBrand, From: string(from), To: string(to), At: at, Source: src})
	return nil
}

func (c *Contact) checkChange(kind ConsentKind, validTo bool, src ConsentSource, at time.Time) error {
	if !validTo {
		return Errorf(CodeInvalid, "%s opt-in: unknown value", kind)
	}
	if err := src.validate(); err != nil {
		return err
	}
	if at.IsZero() {
		return Errorf(CodeInvalid, "%s opt-in: a change must be dated", kind)
	}
	if c.Erased() {
		// An erased contact is a digest kept for statistics and the blacklist; its consent is
		// history, not something that can still be given or withdrawn.
		return Errorf(CodeConflict, "%s opt-in: the contact is erased", kind)
	}
	return nil
}

// refused names the values and the source kind: consent values are no personal data, and
// the message is what a client or a log sees (R-OPS-1). "" reads as "(none)".
func refused(kind ConsentKind, from, to string, by ConsentSourceKind) error {
	if from == "" {
		from = "(none)"
	}
	return Errorf(CodeConflict, "%s opt-in: %s may not change %s to %s", kind, by, from, to)
}

func (c *Contact) recordConsent(ch ConsentChange) {
	c.History = append(c.History, ch)
	if n := len(c.History) - MaxConsentHistory; n > 0 {
		// A new array: the dropped entries must not stay reachable behind the slice.
		c.History = append([]ConsentChange(nil), c.History[n:]...)
	}
}

// AllowsMail reports the Member opt-in values that allow mail to the contact (R-CONSENT-6):
// the opted-in ones of R-CONSENT-1. Not the ones with no known status (new, invitation sent:
// R-RET-4 and R-RET-5 allow them the invitation only, which its own path sends), the opt-outs
// (R-RET-7), a failed invitation (nothing reached the contact), social media only (no consent
// to mail), the blog pop-in pending verification
// (the guide: "temporary opted-out") or storage only (no opt-in obtained). The email status
// must be deliverable too (EmailStatus.Deliverable, R-MAIL-3).
func (v MemberOptIn) AllowsMail() bool {
	switch v {
	case MemberOptInInvitationAccepted, MemberOptInFromBrand, MemberOptInBlogVerified,
		MemberOptInInternalForm, MemberOptInExternalForm, MemberOptInFromOrder,
		MemberOptInFromOrderPopin, MemberOptInOther:
		return true
	}
	return false
}

// VisibleToBrand reports the Brand opt-in values whose contact a Brand user may see
// (R-ACCESS-1): every value but "none", "storage only" included. An unknown value is hidden:
// fail closed.
func (v BrandOptIn) VisibleToBrand() bool { return v.Valid() && v != BrandOptInNone }

// EmailHiddenFromMember reports the Member opt-in values whose email the Member may not see
// (R-RET-7): the opted-out contacts, whose email is hidden at once. An unknown value hides it
// too: fail closed. (A contact pending email verification is hidden whole: HiddenFromMember.)
func (v MemberOptIn) EmailHiddenFromMember() bool { return v.OptedOut() || !v.Valid() }

// HiddenFromMember reports the Member opt-in values whose contact the Member may not see at
// all (R-RET-6): a blog pop-in contact pending email verification, until it verifies (guide:
// "stored in the database, but not visible to ambassadors"). MemberContacts leaves it out.
func (v MemberOptIn) HiddenFromMember() bool { return v == MemberOptInBlogPending }
