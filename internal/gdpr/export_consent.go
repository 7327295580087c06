package gdpr

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// ConsentRecord is a consent as an export carries it, with the elements ISO/IEC TS 27560
// lists for a consent record: the record and subject ids, the controller, the purposes, the
// data categories, the legal basis, the state, its events with their times and the notice
// (terms version) it was given under. It is made from the exported fields only.
type ConsentRecord struct {
	RecordID       string         `json:"recordId"`
	SubjectID      string         `json:"subjectId"`
	SubjectKind    SubjectKind    `json:"subjectKind,omitempty"` // "contact" for a contact's; a user's role says its kind
	Controller     string         `json:"controller"`            // the brand, controller of the programme's data
	Purposes       []string       `json:"purposes"`
	DataCategories []string       `json:"dataCategories"`
	LegalBasis     string         `json:"legalBasis"` // GDPR Art. 6(1): "consent" or "contract"
	State          string         `json:"state"`
	Notice         string         `json:"notice,omitempty"`
	Events         []ConsentEvent `json:"events"`
}

// ConsentEvent is a dated change of a consent.
type ConsentEvent struct {
	Type   string    `json:"type"` // "given", or for a contact's opt-ins "changed"
	At     time.Time `json:"at"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Source string    `json:"source,omitempty"` // what caused it: "order", "sync", a form…
}

// Legal bases of GDPR Art. 6(1).
const (
	LegalBasisConsent  = "consent"
	LegalBasisContract = "contract"
)

// Consent states.
const (
	ConsentGiven    = "given"
	ConsentNotGiven = "not_given"
)

// purposeCategories lists the data categories the data map holds for a purpose in a table.
func purposeCategories(kind string, p Purpose) []string {
	var out []string
	for _, t := range DataMap() {
		if t.Kind != kind {
			continue
		}
		for _, f := range t.Fields {
			if f.Purpose == p && !slices.Contains(out, f.Category) {
				out = append(out, f.Category)
			}
		}
	}
	slices.Sort(out)
	return out
}

// userConsents are a member's or external user's consents: the T&C accepted (the contract
// under which the account is held, R-SIGNUP-1) and each communication opt-in (R-SIGNUP-7).
func userConsents(brand BrandID, u User) []ConsentRecord {
	kind := string(SubjectMember)
	if u.Role.External() {
		kind = string(SubjectExternal)
	}
	notice := ""
	terms := ConsentRecord{RecordID: u.ID + ":terms", SubjectID: u.ID, Controller: string(brand),
		Purposes: []string{string(PurposeAccount)}, DataCategories: purposeCategories(kind, PurposeAccount),
		LegalBasis: LegalBasisContract, State: ConsentNotGiven, Events: []ConsentEvent{}}
	if u.Terms != nil {
		notice = u.Terms.Version
		terms.State, terms.Notice = ConsentGiven, notice
		terms.Events = append(terms.Events, ConsentEvent{Type: ConsentGiven, At: u.Terms.AcceptedAt})
	}
	out := []ConsentRecord{terms}
	for _, o := range []struct {
		name  string
		given bool
		at    time.Time
	}{
		{"newsletter", u.OptIns.Newsletter, u.OptIns.NewsletterAt},
		{"events", u.OptIns.Events, u.OptIns.EventsAt},
		{"challenges", u.OptIns.Challenges, u.OptIns.ChallengesAt},
		{"comments", u.OptIns.Comments, u.OptIns.CommentsAt},
	} {
		r := ConsentRecord{RecordID: u.ID + ":optIns." + o.name, SubjectID: u.ID, Controller: string(brand),
			Purposes: []string{string(PurposeCommunication), o.name}, DataCategories: purposeCategories(kind, PurposeCommunication),
			LegalBasis: LegalBasisConsent, State: ConsentNotGiven, Notice: notice, Events: []ConsentEvent{}}
		if o.given {
			r.State = ConsentGiven
			if !o.at.IsZero() {
				r.Events = append(r.Events, ConsentEvent{Type: ConsentGiven, At: o.at})
			}
		}
		out = append(out, r)
	}
	return out
}

// contactConsents are a contact's two opt-ins (R-CONSENT-1, R-CONSENT-2) with their dated
// history: what a brand's export carries for each contact it may read.
func contactConsents(brand BrandID, c Contact) []ConsentRecord {
	var out []ConsentRecord
	for _, o := range []struct {
		kind    ConsentKind
		state   string
		at      time.Time
		purpose Purpose
	}{
		{ConsentMember, string(c.MemberOptIn.Value), c.MemberOptIn.At, PurposeCRM},
		{ConsentBrand, string(c.BrandOptIn.Value), c.BrandOptIn.At, PurposeCommunication},
	} {
		r := ConsentRecord{RecordID: c.ID + ":" + string(o.kind) + "OptIn", SubjectID: c.ID, SubjectKind: SubjectContact,
			Controller: string(brand), Purposes: []string{string(o.purpose)},
			DataCategories: purposeCategories(string(SubjectContact), o.purpose), LegalBasis: LegalBasisConsent,
			State: o.state, Events: []ConsentEvent{}}
		for _, h := range c.History {
			if h.Kind == o.kind {
				r.Events = append(r.Events, ConsentEvent{Type: "changed", At: h.At, From: h.From, To: h.To, Source: string(h.Source.Kind)})
			}
		}
		if len(r.Events) == 0 && !o.at.IsZero() {
			r.Events = append(r.Events, ConsentEvent{Type: "changed", At: o.at, To: o.state})
		}
		out = append(out, r)
	}
	return out
}

// eachConsent calls fn for the consent records of the export: each subject's own, and in a
// brand's export each contact's it may read (R-ACCESS-1).
func (c *exportContent) eachConsent(ctx context.Context, fn func(ConsentRecord) error) error {
	err := c.eachUser(ctx, func(u User) error {
		for _, r := range userConsents(c.brand.ID, u) {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || c.user != nil {
		return err
	}
	return c.eachContact(ctx, func(ct Contact, _ map[string]any) error {
		for _, r := range contactConsents(c.brand.ID, ct) {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
