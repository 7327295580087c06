package gdpr

import (
	"context"
	"iter"
	"time"
)

// The store ports, one per capability. A service takes only those it uses; an adapter (the
// embedded SQLite store, Cosmos DB) implements them all, and internal/storetest proves it
// against the same conventions, capability by capability:
//   - Every method but ListBrands is scoped to one brand: no call can read or change another
//     brand's data (R-TEN-1).
//   - Every document is written alone — Cosmos DB has no transactions across documents — so
//     the services order their writes to be safe to repeat from any crash point, and guard
//     each update with the Version they read.
//   - Get* of a missing document returns an error matching ErrNotFound.
//   - Create* of an existing id returns an error matching ErrConflict.
//   - Update* replaces the document only if its Version still matches the stored one, else
//     ErrConflict; it returns the document with its new Version. A missing one is ErrNotFound.
//   - Versions are opaque strings, set by the store; callers never make them up.
//   - Returned slices are fresh copies; callers may modify them.

// BrandStore keeps brands and their settings.
type BrandStore interface {
	// PutBrand creates the brand when b.Version is empty (ErrConflict if it exists), otherwise
	// replaces it if the version matches.
	PutBrand(ctx context.Context, b Brand) (Brand, error)
	GetBrand(ctx context.Context, id BrandID) (Brand, error)
	// ListBrands returns every brand, ordered by id (the daily sweep walks them).
	ListBrands(ctx context.Context) ([]Brand, error)
}

// UserStore keeps members and external users, with the due index the retention sweep reads.
type UserStore interface {
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, brand BrandID, id string) (User, error)
	// GetUsers reads many users of one brand at once, in no particular order; ids not found
	// are left out.
	GetUsers(ctx context.Context, brand BrandID, ids []string) ([]User, error)
	UpdateUser(ctx context.Context, u User) (User, error)
	// UpdateUsers updates users of one brand together, each guarded by its version, in chunks
	// of at most MaxBatch: a chunk applies whole or not at all (ErrConflict if any version is
	// stale, ErrNotFound if any is missing). Chunks before a failing one may stay applied (a
	// store may also apply several chunks as one), so callers use it for writes that are safe
	// to repeat, re-read and decide again.
	UpdateUsers(ctx context.Context, brand BrandID, users []User) ([]User, error)
	// ListUsers pages through a brand's users in id order, starting after the id given ("" for
	// the first page).
	ListUsers(ctx context.Context, brand BrandID, after string, limit int) ([]User, error)
	// DueUsers returns up to limit users whose NextReviewAt is set and not after now, and
	// whose (NextReviewAt, ID) comes after the cursor, ordered by (NextReviewAt, ID). It must
	// cost O(due), not O(users): an index on (brand, NextReviewAt, ID).
	DueUsers(ctx context.Context, brand BrandID, now time.Time, after DueCursor, limit int) ([]User, error)
	// UsersByIdPExternalID returns up to limit users of the brand whose IdPExternalID is
	// exactly id (SCIM's externalId is caseExact), ordered by id; an empty id finds none. It
	// must cost O(matches), not O(users): an index on (brand, IdPExternalID) — SCIM clients
	// look users up by it.
	UsersByIdPExternalID(ctx context.Context, brand BrandID, id string, limit int) ([]User, error)
}

// ContactStore keeps members' contacts, as far as the erasure cascade reaches them.
type ContactStore interface {
	// ContactsOfMembers returns every contact of the members named, ordered by member id then
	// contact id.
	ContactsOfMembers(ctx context.Context, brand BrandID, memberIDs []string) ([]Contact, error)
	// UpdateContacts is UserStore.UpdateUsers for contacts.
	UpdateContacts(ctx context.Context, brand BrandID, contacts []Contact) ([]Contact, error)
}

// ContactDocuments reads and writes single contacts: what creating contacts from orders, and
// reading them, needs beside the erasure's ContactStore.
type ContactDocuments interface {
	CreateContact(ctx context.Context, c Contact) (Contact, error)
	GetContact(ctx context.Context, brand BrandID, id string) (Contact, error)
	UpdateContact(ctx context.Context, c Contact) (Contact, error)
	// ListContacts pages through a brand's contacts in id order, after the id given.
	ListContacts(ctx context.Context, brand BrandID, after string, limit int) ([]Contact, error)
}

// ContactDueIndex is the contacts' due index: DueUsers for contacts.
type ContactDueIndex interface {
	DueContacts(ctx context.Context, brand BrandID, now time.Time, after DueCursor, limit int) ([]Contact, error)
}

// ClaimStore keeps unique keys (an address, an external id) and short-lived locks such as
// the resend limit.
type ClaimStore interface {
	// Claim creates the claim if its key is free — absent, or expired at c.CreatedAt — and
	// returns it. If the key is held, it returns the holding claim and an error matching
	// ErrConflict.
	Claim(ctx context.Context, c Claim) (Claim, error)
	GetClaim(ctx context.Context, brand BrandID, key string) (Claim, error)
	// ReplaceClaim gives a held key to c.Owner if the stored claim still has c.Version (the
	// version read), else ErrConflict; ErrNotFound if the key is free. It is how a writer
	// recovers a claim whose holder is gone, never racing one that changed meanwhile.
	ReplaceClaim(ctx context.Context, c Claim) (Claim, error)
	// ReleaseClaims deletes each claim named by its Key if its Owner still holds it; one that
	// is missing or held by another is left as it is.
	ReleaseClaims(ctx context.Context, brand BrandID, claims ...Claim) error
}

// ClaimBatch is a ClaimStore that creates several claims of one brand in one request (Cosmos
// DB: a transactional batch). Services write the claims one outcome makes through claimEach,
// which uses it when the store has it and there are two or more.
type ClaimBatch interface {
	// ClaimAll creates every claim, or none and an error matching ErrConflict when one of
	// their keys is present (held or expired: the caller then claims them one by one).
	ClaimAll(ctx context.Context, brand BrandID, claims []Claim) error
}

// Blacklist answers whether an address digest may be mailed (R-MAIL-1).
type Blacklist interface {
	GetBlacklist(ctx context.Context, brand BrandID, digest string) (BlacklistEntry, error)
}

// BlacklistWriter records addresses that must never be mailed again (R-MAIL-1, R-MAIL-4).
type BlacklistWriter interface {
	// PutBlacklist inserts entries idempotently. An existing digest's entry becomes what
	// BlacklistEntry.Merge makes of it, replaced under its version (a store re-reads and merges
	// again on a conflict) only when the merge changes it: a replayed event writes nothing.
	PutBlacklist(ctx context.Context, entries ...BlacklistEntry) error
}

// BlacklistRemover takes entries off the blacklist, each with its audit record.
type BlacklistRemover interface {
	// RemoveBlacklist deletes the entry e names if the stored one still has e.Version, and
	// keeps r, its audit record (a record whose id is kept already stays as it is). A stored
	// entry of another version is ErrConflict (an event listed the address again since it was
	// read: the removal must be decided again), a missing one ErrNotFound; either way nothing
	// changes. A store that can (SQLite) does both in one transaction; one that cannot keeps
	// the record first and deletes it again if the entry's delete is refused.
	RemoveBlacklist(ctx context.Context, e BlacklistEntry, r BlacklistRemoval) error
	// ListBlacklistRemovals pages through a brand's removal records in id order, after the id
	// given.
	ListBlacklistRemovals(ctx context.Context, brand BrandID, after string, limit int) ([]BlacklistRemoval, error)
}

// SoftBounceStore keeps the soft-bounce streaks of addresses (MailSettings.SoftBounces).
type SoftBounceStore interface {
	GetSoftBounces(ctx context.Context, brand BrandID, digest string) (SoftBounceStreak, error)
	// PutSoftBounces creates the streak when s.Version is empty (ErrConflict if one exists),
	// else replaces it if the version matches (ErrConflict if not, ErrNotFound if gone).
	PutSoftBounces(ctx context.Context, s SoftBounceStreak) (SoftBounceStreak, error)
}

// WhitelistStore keeps the digests of who may sign up on a restricted brand (R-SIGNUP-4).
type WhitelistStore interface {
	// AddWhitelist inserts entries idempotently.
	AddWhitelist(ctx context.Context, entries ...WhitelistEntry) error
	IsWhitelisted(ctx context.Context, brand BrandID, kind WhitelistKind, digest string) (bool, error)
}

// TokenStore keeps single-use tokens by digest (R-SIGNUP-2).
type TokenStore interface {
	// CreateToken stores a token by digest (ErrConflict if the digest exists). Stores may drop
	// a token once it has expired.
	CreateToken(ctx context.Context, t Token) (Token, error)
	GetToken(ctx context.Context, brand BrandID, digest string) (Token, error)
	UpdateToken(ctx context.Context, t Token) (Token, error)
}

// ErasureAudit keeps the audit trail of erasures (R-ERASE-9).
type ErasureAudit interface {
	// PutErasures writes audit records of one brand whose ids are new and returns the stored
	// records in the order given: an erasure repeated after a crash keeps its first record,
	// and only one.
	PutErasures(ctx context.Context, brand BrandID, records []ErasureRecord) ([]ErasureRecord, error)
	// ListErasures pages through a brand's audit records in id order.
	ListErasures(ctx context.Context, brand BrandID, after string, limit int) ([]ErasureRecord, error)
	// FindErasures answers which of the record ids the brand's audit trail holds, in id order:
	// a restored store is told by the ledger's records it lacks (restore.go). Any number of
	// ids; none finds none.
	FindErasures(ctx context.Context, brand BrandID, ids []string) ([]string, error)
}

// DigestStore lists the keyed digests a brand keeps beside its subjects' documents (claims,
// blacklist, whitelist) and moves an entry to another digest: what the hash-key rotation
// counts and re-keys (rotation.go). Each list is in the store's own order, resumed after the
// last item of the page before (the zero value: from the start).
type DigestStore interface {
	ListClaims(ctx context.Context, brand BrandID, afterKey string, limit int) ([]Claim, error)
	ListBlacklist(ctx context.Context, brand BrandID, afterDigest string, limit int) ([]BlacklistEntry, error)
	// RekeyBlacklist stores e, keeping an entry already under e.Digest, then deletes the
	// brand's entry under from: repeated, or stopped between the two, it ends the same.
	RekeyBlacklist(ctx context.Context, from string, e BlacklistEntry) error
	ListWhitelist(ctx context.Context, brand BrandID, after WhitelistEntry, limit int) ([]WhitelistEntry, error)
	// RekeyWhitelist is RekeyBlacklist for a whitelist entry of e.Kind.
	RekeyWhitelist(ctx context.Context, from string, e WhitelistEntry) error
	ListSoftBounces(ctx context.Context, brand BrandID, afterDigest string, limit int) ([]SoftBounceStreak, error)
	// RekeySoftBounces stores st under st.Digest, keeping a streak already there (one the
	// newest key began since), then deletes the brand's streak under from: repeated, or
	// stopped between the two, it ends the same.
	RekeySoftBounces(ctx context.Context, from string, st SoftBounceStreak) error
}

// RequestStore keeps the register of data-subject requests (R-RIGHTS-1, R-ACCESS-3). It
// outlives the subjects' erasure: a request holds no personal data beyond the subject's id.
type RequestStore interface {
	// CreateRequest stores a new request (ErrConflict if its id exists).
	CreateRequest(ctx context.Context, r Request) (Request, error)
	GetRequest(ctx context.Context, brand BrandID, id string) (Request, error)
	// UpdateRequest replaces a request at the version read.
	UpdateRequest(ctx context.Context, r Request) (Request, error)
	// ListRequests pages through a brand's requests in id order (ids sort by receipt),
	// within f's id bounds and of f's kind when set, at most f.Limit of them.
	ListRequests(ctx context.Context, brand BrandID, f RequestFilter) ([]Request, error)
	// RequestsOfSubject returns up to limit requests about one subject, in id order. It must
	// cost O(matches): an index on (brand, subjectId).
	RequestsOfSubject(ctx context.Context, brand BrandID, subjectID string, limit int) ([]Request, error)
}

// RequestFilter selects a page of the register: ids after After and before Before (either
// empty: unbounded), of Kind when set.
type RequestFilter struct {
	After, Before string
	Kind          RequestKind
	Limit         int
}

// Store is every store port: what one adapter (the embedded SQLite store, Cosmos DB) serves,
// and what internal/storetest proves of it, capability by capability.
type Store interface {
	BrandStore
	UserStore
	ContactStore
	ContactDocuments
	ContactDueIndex
	ClaimStore
	Blacklist
	BlacklistWriter
	BlacklistRemover
	SoftBounceStore
	WhitelistStore
	TokenStore
	ErasureAudit
	DigestStore
	RequestStore
	MemberContactPages
	ExportRecords
}

// MemberContactPages pages through one member's contacts, for what must stay in bounded
// memory however many contacts a member has (a subject's export).
type MemberContactPages interface {
	// MemberContactsPage returns up to limit contacts of the member, in id order, after the
	// id given ("" for the first page). It costs O(page): an index on (brand, member, id).
	MemberContactsPage(ctx context.Context, brand BrandID, memberID, after string, limit int) ([]Contact, error)
}

// ExportRecords keeps the export records: where each export's file is, the digest of its
// link's token, until when it may be downloaded and how often it was (export_record.go).
type ExportRecords interface {
	// CreateExport stores a new record under its RequestID (ErrConflict if one exists).
	CreateExport(ctx context.Context, e ExportRecord) (ExportRecord, error)
	GetExport(ctx context.Context, brand BrandID, requestID string) (ExportRecord, error)
	// ExportByToken finds the record whose TokenDigest is digest (ErrNotFound). It costs
	// O(1): an index on (brand, tokenDigest).
	ExportByToken(ctx context.Context, brand BrandID, digest string) (ExportRecord, error)
	UpdateExport(ctx context.Context, e ExportRecord) (ExportRecord, error)
	// LiveExports pages through a brand's records whose file is not deleted, in RequestID
	// order after the id given. It costs O(live exports), which last 48 hours at most.
	LiveExports(ctx context.Context, brand BrandID, after string, limit int) ([]ExportRecord, error)
}

// LedgerStore keeps the ledger, create-only: nothing in it is ever replaced or deleted.
type LedgerStore interface {
	// ClaimLedgerEntry stores e under its record id if the id is new, and returns what is
	// stored under it: e itself, or the entry an earlier append stored (whose day and bytes
	// may differ from e's).
	ClaimLedgerEntry(ctx context.Context, e LedgerEntry) (LedgerEntry, error)
	// AddLedgerDayEntry lists a claimed entry under its day. Listing it again with the same
	// bytes is success; other bytes under the same day and id are ErrConflict.
	AddLedgerDayEntry(ctx context.Context, e LedgerEntry) error
	// LedgerEntry reads the entry of a record id (ErrNotFound).
	LedgerEntry(ctx context.Context, brand BrandID, recordID string) (LedgerEntry, error)
	// LedgerDays lists the days that have entries, ascending.
	LedgerDays(ctx context.Context, brand BrandID) ([]string, error)
	// LedgerDayEntries yields a day's entries in record-id order (byte order), one at a time.
	LedgerDayEntries(ctx context.Context, brand BrandID, day string) iter.Seq2[LedgerEntry, error]
	// LedgerDayRecordIDs lists the record ids of a day's entries in byte order, reading no
	// entry: what a check of the store against the ledger needs, at the cost of a listing.
	LedgerDayRecordIDs(ctx context.Context, brand BrandID, day string) ([]string, error)
	// PutLedgerSeal stores a seal and its leaves, create-only: the same seal again is success,
	// another one for the same day ErrConflict.
	PutLedgerSeal(ctx context.Context, s LedgerSeal) error
	// LedgerSeals lists a brand's seals by day, ascending, without their leaves.
	LedgerSeals(ctx context.Context, brand BrandID) ([]LedgerSeal, error)
	// LedgerSeal reads one seal, without its leaves (ErrNotFound).
	LedgerSeal(ctx context.Context, brand BrandID, day string) (LedgerSeal, error)
	// LedgerLeaves reads a seal's leaves (ErrNotFound).
	LedgerLeaves(ctx context.Context, brand BrandID, day string) ([]string, error)
}

// DueCursor pages through the due index: the (NextReviewAt, ID) of the last document read.
// The zero cursor starts at the beginning.
type DueCursor struct {
	At time.Time `json:"at"`
	ID string    `json:"id"`
}

// MaxBatch bounds a batch write: Cosmos DB's transactional batch takes at most 100
// operations, all in one partition.
const MaxBatch = 100

// Queue names, shared with the function.json bindings.
const (
	QueueErasure = "gdpr-erasure"
	QueueMail    = "gdpr-mail"
	// QueueRequests carries the data-subject requests' export jobs (rights_service.go).
	QueueRequests = "gdpr-requests"
)

// Message is a job on a queue. Its body names subjects by id and never carries personal data,
// so a queued or dead-lettered job cannot outlive an erasure.
type Message struct {
	// ID is the Service Bus MessageId. Service Bus drops a repeated id only if the queue was
	// created with requiresDuplicateDetection (Standard tier or above; it cannot be turned on
	// for an existing queue), and then only within duplicateDetectionHistoryTimeWindow counted
	// from the first send or schedule, not while the message is queued: a job republished
	// after the window is a new message. The local queue drops an id still queued. Consumers
	// stay idempotent either way.
	ID        string
	Body      []byte
	NotBefore time.Time // scheduled delivery; zero means now
}

// Queue publishes jobs. Delivery is at least once: consumers are idempotent.
type Queue interface {
	// Publish enqueues m and returns a reference that Cancel accepts.
	Publish(ctx context.Context, queue string, m Message) (ref string, err error)
	// PublishBatch enqueues many messages at once, with Publish's rules for each, and returns
	// their refs in order. It may apply in part before failing; ids make a retry harmless.
	PublishBatch(ctx context.Context, queue string, msgs []Message) (refs []string, err error)
	// Cancel withdraws a scheduled message if it has not been delivered; an unknown or
	// delivered ref is not an error. Consumers re-check state anyway, so Cancel is an
	// optimisation, never what correctness rests on.
	Cancel(ctx context.Context, queue, ref string) error
}

// Mail is a rendered message. To is personal data: adapters must not log it.
type Mail struct {
	BrandID   BrandID           `json:"brandId"`
	Kind      MailKind          `json:"kind"`
	To        string            `json:"to"`
	Subject   string            `json:"subject"`
	Text      string            `json:"text"`
	HTML      string            `json:"html"`
	Links     []string          `json:"links,omitempty"`
	Variables map[string]string `json:"variables,omitempty"`
	// From is the brand's sender; zero means the platform's default sender.
	From Sender `json:"from,omitzero"`
	// TemplateID is the brand's provider template for this kind, rendered by the provider
	// with Variables; 0 means the built-in Subject, Text and HTML.
	TemplateID int64 `json:"templateId,omitempty"`
	// JobID is the id of the queue message the mail was sent for: providers carry it back in
	// their events (never personal data) and may use it to send a job once.
	JobID string `json:"jobId,omitempty"`
	// Language is the language the mail is written in (one of SupportedLanguages).
	Language string `json:"language,omitempty"`
	// Headers are extra headers of the mail: List-Unsubscribe and List-Unsubscribe-Post on
	// mail to contacts (RFC 8058). Transactional mail to members carries none.
	Headers map[string]string `json:"headers,omitempty"`
	// ContactID is the contact an invitation goes to, which providers carry back in their
	// events so that an unsubscribe or a bounce reaches the contact (R-MAIL-5, R-CONSENT-6).
	ContactID string `json:"contactId,omitempty"`
}

// Sender is the From of a mail.
type Sender struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// MailKind is the template a mail was rendered from.
type MailKind string

const (
	MailSignupConfirmation MailKind = "signup_confirmation"
	MailAccountExists      MailKind = "account_exists"
	MailInactivityWarning  MailKind = "inactivity_warning"
	MailContactInvitation  MailKind = "contact_invitation" // a Member invites a contact (R-RET-4, R-RET-5)
	MailProgramSuspended   MailKind = "program_suspended"  // the program is suspended; the member may opt out (R-ERASE-8)
)

// Mailer delivers mail: Mailjet in production, an outbox folder in local mode.
type Mailer interface {
	// Send hands m to the provider. An error matching ErrUndeliverable means the provider
	// refused this mail for good (sending it again cannot succeed); any other error may pass
	// with a retry (rate limits, outages, timeouts).
	Send(ctx context.Context, m Mail) error
}

// SentMail forgets the copies of sent mail that we keep ourselves (local mode's outbox), so
// that an erased subject's address leaves them too. Mail handed to a provider leaves no copy
// in our files.
type SentMail interface {
	// ForgetRecipients deletes every kept mail of the brand to an address whose EmailDigest
	// is given; none is success, so erasure can repeat.
	ForgetRecipients(ctx context.Context, brand BrandID, emailDigests []string) error
}

// Blobs holds files such as profile photos and UGC, keyed "<brand>/...". The platform writes
// them; this service only deletes them when their subject is erased.
type Blobs interface {
	// Delete removes a blob; a missing blob is success, so erasure can repeat.
	Delete(ctx context.Context, key string) error
}

// PasswordHasher turns a password into a one-way hash (bcrypt in production, R-SIGNUP-3).
// It is a port so the domain stays on the standard library.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
}
