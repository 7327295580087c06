package gdpr

import "time"

// Rule ids recorded in audit records and blocks.
const (
	RuleUnconfirmedSignup = "R-SIGNUP-2" // unconfirmed signups erased after 15 days
	RuleMemberInactivity  = "R-RET-1"
	RuleExternalInactive  = "R-RET-2"
	RuleGracePeriod       = "R-ERASE-5" // member unsubscription, end of contract, SSO deletion
	RuleBrandContractEnd  = "R-ERASE-7"
	RuleContestUGC        = "R-ERASE-2" // contest UGC deleted after the contest's keep-until date
)

// ActionKind is what a retention review decides for a user.
type ActionKind string

const (
	ActionNone     ActionKind = ""
	ActionWarn1    ActionKind = "warn1" // first inactivity warning (R-RET-1)
	ActionWarn2    ActionKind = "warn2" // second inactivity warning (R-RET-1)
	ActionErase    ActionKind = "erase"
	ActionContinue ActionKind = "continue" // an erasure interrupted by a crash
)

// Action is the decision of a review: what to do and when it is due.
type Action struct {
	Kind   ActionKind
	At     time.Time // when the action is due
	Rule   string
	Reason BlockReason
	Mark   time.Time // the inactivity mark, for warnings
	// RequestedAt is when the erasure was asked for (the block, or the due time of a
	// retention rule).
	RequestedAt time.Time
}

// Review decides the next retention action for a user, whether or not it is due yet. It is
// the one place where the schedule of R-RET-1, R-RET-2, R-ERASE-5 and unconfirmed signups is
// written; NextReview and the sweep both read it.
func Review(u User, b Brand) Action {
	r := b.Retention.WithDefaults()
	switch u.Status {
	case UserErased:
		if u.Erasure != nil && u.Erasure.DoneAt.IsZero() {
			return Action{Kind: ActionContinue, At: u.Erasure.DueAt, Rule: u.Erasure.Rule, Reason: u.Erasure.Reason, RequestedAt: u.Erasure.RequestedAt}
		}
		if ce := b.ContractEnd; b.Ended() && ce != nil && needsContractEndPass(u) {
			// What an earlier erasure kept goes at the contract end (R-ERASE-7); the
			// brand-wide fan-out publishes it, and the sweep again should that job be lost.
			return Action{Kind: ActionErase, At: ce.DueAt, Rule: RuleBrandContractEnd, Reason: ReasonBrandEnded, RequestedAt: ce.RequestedAt}
		}
		return Action{}
	case UserBlocked:
		if u.Block == nil {
			return Action{}
		}
		return Action{Kind: ActionErase, At: u.Block.DueAt, Rule: u.Block.Rule, Reason: u.Block.Reason, RequestedAt: u.Block.RequestedAt}
	case UserPending:
		due := r.UnconfirmedSignup.AddTo(u.CreatedAt)
		return Action{Kind: ActionErase, At: due, Rule: RuleUnconfirmedSignup, Reason: ReasonUnconfirmed, RequestedAt: due}
	}
	if b.Ended() {
		return Action{} // the brand-wide erasure is scheduled by the contract end
	}
	if u.Restriction != nil && u.Restriction.Kind == RequestRestriction {
		// Art. 18(2): while processing is restricted the data may only be stored, and a
		// restriction is what a person asks for to keep data the controller would erase
		// (Art. 18(1)(b), (c)). The retention's own erasure, and the warnings before it, wait
		// until the restriction is lifted; the schedule then resumes from the last activity,
		// never erasing without its two warnings. An objection (Art. 21) holds nothing. A
		// block (the person's unsubscription, the brand's deletion, an erasure request) and
		// the contract end are not the retention's choice and are not held.
		return Action{}
	}
	if u.Role.External() {
		mark := r.ExternalInactivity.AddTo(u.LastActive())
		return Action{Kind: ActionErase, At: mark, Rule: RuleExternalInactive, Reason: ReasonInactivity, RequestedAt: mark}
	}
	if u.Role == RoleVendor && b.Pro.Selective() {
		return Action{} // selective-sale vendors are not erased automatically (R-RET-1)
	}
	mark := r.Inactivity.AddTo(u.LastActive())
	w := u.Warnings
	if !w.Mark.Equal(mark) {
		w = InactivityWarnings{} // a login moved the mark: earlier warnings no longer count
	}
	// The steps run in order, each at its time or at the first review after it: a member is
	// never erased for inactivity without having been warned twice, 15 days apart, 15 days
	// before (R-RET-1), also when a shortened duration put the mark in the past.
	due := inactivityErasure(mark, w, r)
	switch {
	case w.FirstAt.IsZero():
		return Action{Kind: ActionWarn1, At: r.InactivityWarning1.SubFrom(mark), Rule: RuleMemberInactivity, Reason: ReasonInactivity, Mark: mark}
	case w.SecondAt.IsZero():
		return Action{Kind: ActionWarn2, At: r.InactivityWarning2.SubFrom(due), Rule: RuleMemberInactivity, Reason: ReasonInactivity, Mark: mark}
	default:
		return Action{Kind: ActionErase, At: due, Rule: RuleMemberInactivity, Reason: ReasonInactivity, Mark: mark, RequestedAt: due}
	}
}

// inactivityErasure is when a member inactive since its mark is erased (R-RET-1): at the mark,
// but never sooner than the first warning's lead (30 days) after that warning was sent, nor
// the second's (15 days) after the second, so that the guide's "Two emails are sent prior to
// account deletion, every 15 days" holds when the mark is already past.
func inactivityErasure(mark time.Time, w InactivityWarnings, r Retention) time.Time {
	due := mark
	if !w.FirstAt.IsZero() {
		due = latest(due, r.InactivityWarning1.AddTo(w.FirstAt))
	}
	if !w.SecondAt.IsZero() {
		due = latest(due, r.InactivityWarning2.AddTo(w.SecondAt))
	}
	return due
}

// InactivityErasureDate is the date an inactivity warning mailed at now announces: the
// erasure as the warnings recorded so far set it, the one being mailed counted as sent now.
func InactivityErasureDate(u User, b Brand, now time.Time) time.Time {
	r := b.Retention.WithDefaults()
	mark := r.Inactivity.AddTo(u.LastActive())
	w := u.Warnings
	if !w.Mark.Equal(mark) {
		w = InactivityWarnings{}
	}
	switch {
	case w.FirstAt.IsZero():
		w.FirstAt = now
	case w.SecondAt.IsZero():
		w.SecondAt = now
	}
	return inactivityErasure(mark, w, r)
}

// NextReview is the due-index value of a user: when its next retention action falls due, or
// zero when none ever will. Every write of a user recomputes it.
func NextReview(u User, b Brand) time.Time {
	next := ContestUGCDue(u)
	if a := Review(u, b); a.Kind != ActionNone && (next.IsZero() || a.At.Before(next)) {
		next = a.At
	}
	return next
}

// ContestUGCDue is the earliest keep-until date of the user's contest UGC, when the sweep
// deletes it whether the user is erased or not (R-ERASE-2); zero if none has one.
func ContestUGCDue(u User) time.Time {
	var due time.Time
	for _, g := range u.UGC {
		if g.ContestID != "" && !g.KeepUntil.IsZero() && (due.IsZero() || g.KeepUntil.Before(due)) {
			due = g.KeepUntil
		}
	}
	return due
}
