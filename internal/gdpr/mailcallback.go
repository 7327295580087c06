package gdpr

import "context"

// MailCallback applies the mail provider's event callbacks: what an event says of the address
// (MailEventService: statuses and the blacklist), then what it says of the contact the mail
// was for (ContactService: consent and email status). The address goes first because its
// blacklisting stops every later mail at once, whoever sends it.
type MailCallback struct {
	addresses *MailEventService
	contacts  *ContactService
}

// NewMailCallback applies callbacks through these two services.
func NewMailCallback(addresses *MailEventService, contacts *ContactService) *MailCallback {
	return &MailCallback{addresses: addresses, contacts: contacts}
}

// MailCallbackStats count what one callback did.
type MailCallbackStats struct {
	MailEventStats
	Contacts int `json:"contacts"` // contacts whose consent, email status or activity changed
}

// Authenticate checks the callback's credentials against the brand's, before its body is read.
func (m *MailCallback) Authenticate(ctx context.Context, brand BrandID, username, password string) error {
	return m.addresses.Authenticate(ctx, brand, username, password)
}

// Apply applies one callback's events for a brand. An event about a contact of another brand
// is not this callback's to apply: its address part applies (the address bounced, whoever
// sent it), its contact part does not.
func (m *MailCallback) Apply(ctx context.Context, brand BrandID, events []MailEvent) (MailCallbackStats, error) {
	st, err := m.addresses.Apply(ctx, brand, events)
	if err != nil {
		return MailCallbackStats{}, err
	}
	var contactEvents []ContactMailEvent
	for _, e := range events {
		if e.Contact.ContactID != "" && e.Contact.Brand == brand {
			contactEvents = append(contactEvents, ContactMailEvent{ContactID: e.Contact.ContactID, JobID: e.Contact.JobID,
				Kind: e.Kind, At: e.At, Permanent: e.Permanent})
		}
	}
	out := MailCallbackStats{MailEventStats: st}
	if len(contactEvents) > 0 {
		out.Contacts, err = m.contacts.ApplyMailEvents(ctx, brand, contactEvents)
	}
	return out, err
}
