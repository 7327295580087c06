package gdpr

import (
	"context"
	"time"
)

// Platform is every port from outside the domain: one store adapter serving every store
// port, the queue, the blobs, the mail provider and the HTTP layer's links. NewServices is
// the one place that hands each service the ports it uses; a test that doubles one port
// passes its double here.
type Platform struct {
	Store  Store
	Queue  Queue
	Blobs  Blobs
	Mailer Mailer
	Links  Links
	// Renderer writes mails in their reader's language (the templates package).
	Renderer  MailRenderer
	Passwords PasswordHasher
	// SentMail is where copies of sent mail are kept, if anywhere: nil when mail leaves no
	// copy in our files.
	SentMail SentMail
	// ResendInterval is the least time between two confirmation mails to one address; a
	// minute when zero.
	ResendInterval time.Duration
	// Ledger keeps every erasure record outside the database (ledger.go).
	Ledger LedgerStore
	// Exports is where export files live, apart from every other blob (R-ACCESS-3).
	Exports ExportFiles
	// MemberFiles reads the members' files (photos, content) that a subject's export carries.
	MemberFiles MemberFiles
	// Exporter, when set, produces the requests' exports instead of the export service: the
	// double of a test about requests alone.
	Exporter requestExporter
}

// Services are the domain's services, one per capability, over one Platform.
type Services struct {
	Brands           *BrandService
	Blacklist        *BlacklistService
	Signup           *SignupService
	Mail             *MailService
	MailEvents       *MailEventService
	MailCallback     *MailCallback
	Retention        *RetentionService
	ContactRetention *ContactRetentionService
	Contacts         *ContactService
	Provisioning     *ProvisioningService
	Erasure          *ErasureService
	Webhooks         *WebhookService
	Ledger           *LedgerService
	Restore          *RestoreService
	HashKeys         *HashKeyService
	Requests         *RequestService
	Exports          *ExportService
}

// NewServices builds every service over p, each with only the ports it uses. c.Brands, when
// nil, is p.Store: the brands are one more of its capabilities.
func NewServices(c Core, p Platform) (*Services, error) {
	if err := missing("NewServices", map[string]bool{"Store": p.Store != nil, "Queue": p.Queue != nil,
		"Blobs": p.Blobs != nil, "Mailer": p.Mailer != nil, "Links": p.Links != nil, "Renderer": p.Renderer != nil, "Passwords": p.Passwords != nil, "Ledger": p.Ledger != nil,
		"Exports": p.Exports != nil, "MemberFiles": p.MemberFiles != nil}); err != nil {
		return nil, err
	}
	if c.Brands == nil {
		c.Brands = p.Store
	}
	s, st := &Services{}, p.Store
	var err error
	if s.Ledger, err = NewLedgerService(c, p.Ledger); err != nil {
		return nil, err
	}
	if s.Brands, err = NewBrandService(c, st); err != nil {
		return nil, err
	}
	if s.Signup, err = NewSignupService(c, SignupDeps{Users: st, Claims: st, Whitelist: st, Tokens: st,
		Queue: p.Queue, Passwords: p.Passwords, Blacklist: st, Remover: st, ResendInterval: p.ResendInterval}); err != nil {
		return nil, err
	}
	if s.Blacklist, err = NewBlacklistService(c, BlacklistDeps{Blacklist: st, Remover: st, SoftBounces: st}); err != nil {
		return nil, err
	}
	if s.Mail, err = NewMailService(c, MailDeps{Users: st, Contacts: st, Claims: st, Tokens: st, Blacklist: st,
		Mailer: p.Mailer, Links: p.Links, Renderer: p.Renderer}); err != nil {
		return nil, err
	}
	if s.MailEvents, err = NewMailEventService(c, MailEventDeps{Users: st, Claims: st, Blacklist: st, Listed: st, Remover: st, SoftBounces: st}); err != nil {
		return nil, err
	}
	if s.Retention, err = NewRetentionService(c, st, p.Queue, st); err != nil {
		return nil, err
	}
	if s.ContactRetention, err = NewContactRetentionService(c, ContactRetentionDeps{Due: st, Contacts: st, Batch: st,
		Queue: p.Queue}); err != nil {
		return nil, err
	}
	if s.Contacts, err = NewContactService(c, ContactDeps{Contacts: st, Owners: st, Users: st, Claims: st, Blacklist: st,
		Audit: st, Ledger: s.Ledger, Queue: p.Queue, Tokens: st, OptOuts: st, Remover: st, SoftBounces: st, SentMail: p.SentMail}); err != nil {
		return nil, err
	}
	if s.Provisioning, err = NewProvisioningService(c, ProvisioningDeps{Users: st, Claims: st, Queue: p.Queue}); err != nil {
		return nil, err
	}
	if s.Webhooks, err = NewWebhookService(c, st); err != nil {
		return nil, err
	}
	if s.HashKeys, err = NewHashKeyService(c, HashKeyDeps{Users: st, Contacts: st, Claims: st, Digests: st}); err != nil {
		return nil, err
	}
	// The export lists its subject's requests, and a request asks for its export: each
	// service is handed the other, the history through the Services it will be in.
	if s.Exports, err = NewExportService(c, ExportDeps{Users: st, Contacts: st, MemberContacts: st, Audit: st,
		Records: st, Files: p.Exports, MemberFiles: p.MemberFiles, Links: p.Links, History: requestHistory{s}}); err != nil {
		return nil, err
	}
	if s.Erasure, err = NewErasureService(c, ErasureDeps{Users: st, Contacts: st, ContactDocuments: st, Claims: st,
		Audit: st, Ledger: s.Ledger, Blobs: p.Blobs, Queue: p.Queue, SentMail: p.SentMail, Exports: s.Exports}); err != nil {
		return nil, err
	}
	if s.Restore, err = NewRestoreService(c, RestoreDeps{Audit: st, Claims: st, Ledger: p.Ledger, Erasure: s.Erasure}); err != nil {
		return nil, err
	}
	exporter := p.Exporter
	if exporter == nil {
		exporter = s.Exports
	}
	if s.Requests, err = NewRequestService(c, RequestDeps{Requests: st, Users: st, Claims: st, Queue: p.Queue,
		Exporter: exporter}); err != nil {
		return nil, err
	}
	s.MailCallback = NewMailCallback(s.MailEvents, s.Contacts)
	return s, nil
}

// requestHistory is the requests' register as the exports see it, read through the Services
// once NewServices has made the request service.
type requestHistory struct{ s *Services }

func (h requestHistory) SubjectRequests(ctx context.Context, brand BrandID, subjectID string) ([]RequestSummary, error) {
	return h.s.Requests.SubjectRequests(ctx, brand, subjectID)
}
