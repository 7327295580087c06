package mailjet

import (
	"encoding/json"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/jsondepth"
)

// payload is what Send puts in a message's EventPayload, and what Mailjet hands back as the
// Payload of every event of that message: enough to trace an event to the brand, the kind
// of mail and the queue job that sent it. Ids only, never personal data — no address, no
// name, no link or token — because Mailjet stores it and echoes it in every callback.
type payload struct {
	Brand string `json:"brand"`
	Kind  string `json:"kind"`
	Job   string `json:"job,omitempty"`
	// Contact is the contact a contact's mail (an invitation) went to.
	Contact string `json:"contact,omitempty"`
}

// EncodePayload returns the EventPayload Send attaches to a mail of brand and kind sent for
// the queue job job (which may be empty). Tests of callback handlers use it to build the
// events Mailjet would post.
func EncodePayload(brand, kind, job string) string {
	return EncodeContactPayload(brand, kind, job, "")
}

// EncodeContactPayload is EncodePayload for a mail to a contact, naming it by id.
func EncodeContactPayload(brand, kind, job, contact string) string {
	b, err := json.Marshal(payload{Brand: brand, Kind: kind, Job: job, Contact: contact})
	if err != nil { // strings always marshal; keep the payload empty rather than panic
		return ""
	}
	return string(b)
}

// ParsePayload reads back an event's Payload. ok is false for anything Send did not write —
// an empty payload, another application's, or a forged one without a brand and a kind — so a
// caller falls back to what it knows without the payload (the callback URL names the brand).
// The values come from the callback body: a caller checks brand against the brand the
// callback authenticated as before trusting it.
func ParsePayload(s string) (brand, kind, job string, ok bool) {
	if s == "" {
		return "", "", "", false
	}
	var p payload
	if jsondepth.Check([]byte(s), MaxDepth) != nil {
		return "", "", "", false
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil || p.Brand == "" || p.Kind == "" {
		return "", "", "", false
	}
	return p.Brand, p.Kind, p.Job, true
}

// MailEvent is the event as the domain reads it: what it says of the address, and the
// contact the mail was for when its payload names one. The IP, geo and user agent Mailjet
// sends are not even decoded (R-DATA-4).
func (e Event) MailEvent() gdpr.MailEvent {
	out := gdpr.MailEvent{Kind: gdpr.MailEventKind(e.Type), At: e.Time, Email: e.Email, ID: e.Key(), Permanent: e.Permanent()}
	if brand, contact, ok := ContactOfPayload(e.Payload); ok {
		out.Contact = gdpr.MailRecipient{Brand: gdpr.BrandID(brand), ContactID: contact, JobID: e.CustomID}
	}
	return out
}

// ContactOfPayload returns the brand and the contact an event's Payload names, for the events
// of a mail to a contact; ok is false for any other payload.
func ContactOfPayload(s string) (brand, contact string, ok bool) {
	if _, _, _, ok := ParsePayload(s); !ok {
		return "", "", false
	}
	var p payload
	_ = json.Unmarshal([]byte(s), &p) // ParsePayload decoded it
	return p.Brand, p.Contact, p.Contact != ""
}
