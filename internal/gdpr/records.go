package gdpr

import (
	"strconv"
	"time"
)

// Token is a single-use, expiring opt-in token. Only its digest is stored (R-SIGNUP-2): the
// plain token exists in the mail and nowhere else.
type Token struct {
	BrandID   BrandID      `json:"brandId"`
	Digest    string       `json:"digest"`
	Purpose   TokenPurpose `json:"purpose"`
	UserID    string       `json:"userId"`
	CreatedAt time.Time    `json:"createdAt"`
	ExpiresAt time.Time    `json:"expiresAt"`
	UsedAt    time.Time    `json:"usedAt,omitzero"`
	Version   string       `json:"-"`
}

// TokenPurpose scopes a token to one use.
type TokenPurpose string

const (
	TokenSignupConfirmation TokenPurpose = "signup_confirmation"
	// TokenContactInvitation answers a contact's invitation; its UserID is the contact's id.
	TokenContactInvitation TokenPurpose = "contact_invitation"
	// TokenContactUnsubscribe opens a contact's unsubscribe page from a mail it was sent; its
	// UserID is the contact's id. It is not spent by an answer: each answer is idempotent.
	TokenContactUnsubscribe TokenPurpose = "contact_unsubscribe"
	// TokenContactOneClick is a mail's List-Unsubscribe URL (RFC 8058): it opts the contact
	// out from its Member only (R-MAIL-5), never from every Member, since it travels in a
	// URL's query. UserID is the contact's id; it is not spent.
	TokenContactOneClick TokenPurpose = "contact_one_click"
	// TokenProgramOptOut is a member's opt-out from a suspended program (R-ERASE-8).
	TokenProgramOptOut TokenPurpose = "program_opt_out"
)

// Claim reserves a key inside a brand for one owner: a member's email digest, an SSO external
// id, a webhook id seen once. Claims are how uniqueness is kept without multi-document
// transactions, which Cosmos DB does not offer across documents.
type Claim struct {
	BrandID   BrandID   `json:"brandId"`
	Key       string    `json:"key"`   // "<kind>:<value or digest>", never plain personal data
	Owner     string    `json:"owner"` // usually a user id
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"` // zero: until released
	Version   string    `json:"-"`
}

// Claim key kinds.
const (
	ClaimEmail       = "email:"   // + email digest → user id
	ClaimExternalID  = "sso:"     // + digest of the SSO external id → user id
	ClaimWebhookID   = "webhook:" // + webhook-id → replay guard (R-SSO-3)
	ClaimResend      = "resend:"  // + email digest → resend rate limit
	ClaimMailSent    = "mailed:"  // + mail job id → the job's mail was handed to the provider
	ClaimMailRefused = "refused:" // + mail job id → the provider refused the job's mail for good
)

// BlacklistEntry blocks every future email to an address (R-MAIL-1, R-MAIL-4). Only the
// digest of the address is stored.
type BlacklistEntry struct {
	BrandID BrandID         `json:"brandId"`
	Digest  string          `json:"digest"`
	Reason  BlacklistReason `json:"reason"`
	// Source is what listed the address: the provider's event id ("mj:<message>:<type>:<time>")
	// or the proof of the contact's answer ("invitation:…", "unsubscribe:…"); empty for entries
	// written before it was kept, or an event without an id.
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// LastAt is the time of the latest event that listed the address again after CreatedAt:
	// writing it changes the entry's version, so that a removal decided on the version read
	// fails instead of losing that event.
	LastAt  time.Time `json:"lastAt,omitzero"`
	Version string    `json:"-"`
}

// Merge is what listing an address that is listed already makes of the stored entry e: a
// stronger reason takes the place of a weaker one, with its source and time — a consent
// reason (a spam complaint, a global opt-out) that of a delivery reason, whose entry an admin
// could remove, and either that of a soft-bounce suppression, which a delivery lifts; any
// other later event advances LastAt. A replayed or older event changes nothing (changed is false), so the
// stores write only when the entry changes and a replay costs no write.
func (e BlacklistEntry) Merge(in BlacklistEntry) (merged BlacklistEntry, changed bool) {
	if in.Reason.rank() > e.Reason.rank() {
		merged = in
		merged.Version, merged.LastAt = e.Version, time.Time{}
		return merged, true
	}
	if in.CreatedAt.After(latest(e.CreatedAt, e.LastAt)) {
		e.LastAt = in.CreatedAt
		return e, true
	}
	return e, false
}

// BlacklistReason says why an address is blacklisted.
type BlacklistReason string

const (
	BlacklistSpam         BlacklistReason = "spam"
	BlacklistHardBounce   BlacklistReason = "hard_bounce"
	BlacklistBlocked      BlacklistReason = "blocked"
	BlacklistGlobalOptOut BlacklistReason = "global_opt_out"
	// BlacklistSoftBounce suppresses mail to an address after the brand's soft-bounce policy
	// counted its limit of soft bounces in a row (MailSettings.SoftBounces); a delivery, the
	// member's release or an admin lifts it.
	BlacklistSoftBounce BlacklistReason = "soft_bounce"
)

// rank orders reasons by what it takes to lift them: a soft-bounce suppression (a delivery),
// a hard bounce or a block (an admin), a complaint or a global opt-out (the person alone).
func (r BlacklistReason) rank() int {
	switch {
	case r == BlacklistSoftBounce:
		return 0
	case r.NeedsConsent():
		return 2
	}
	return 1
}

// NeedsConsent reports a reason only the person's own new consent may lift: a spam complaint
// or a global opt-out is the person's refusal, which no admin may overrule; a hard bounce or a
// block says only that the mailbox did not take mail, which an admin may clear once it is
// fixed.
func (r BlacklistReason) NeedsConsent() bool {
	return r == BlacklistSpam || r == BlacklistGlobalOptOut
}

// WhitelistEntry authorises a signup (R-SIGNUP-4). Both emails and customer ids are stored as
// digests. An entry that carries a role (R-SIGNUP-8) is of its own kind (WhitelistRoleKind),
// so that an address may be listed plain and with a role, each entry kept once.
type WhitelistEntry struct {
	BrandID   BrandID       `json:"brandId"`
	Kind      WhitelistKind `json:"kind"`
	Digest    string        `json:"digest"`
	Role      *Role         `json:"role,omitempty"`
	CreatedAt time.Time     `json:"createdAt"`
}

// WhitelistKind is what a whitelist entry authorises.
type WhitelistKind string

const (
	WhitelistEmail      WhitelistKind = "email"
	WhitelistCustomerID WhitelistKind = "customer_id"
)

// WhitelistRoleKind is the kind of an entry that lets the address or customer id of kind sign
// up with role r, a role under contract that the brand grants (R-SIGNUP-8).
func WhitelistRoleKind(kind WhitelistKind, r Role) WhitelistKind {
	return kind + "_role_" + WhitelistKind(strconv.Itoa(int(r)))
}

// ErasureRecord is the audit trail of one erasure: enough to prove compliance, nothing
// personal (R-ERASE-9). Its ID is fixed by the erasure, so repeating an erasure writes it once.
type ErasureRecord struct {
	BrandID        BrandID     `json:"brandId"`
	ID             string      `json:"id"`
	SubjectID      string      `json:"subjectId"`
	SubjectKind    SubjectKind `json:"subjectKind"`
	Role           *Role       `json:"role,omitempty"`
	Rule           string      `json:"rule"`
	Reason         BlockReason `json:"reason"`
	RequestedAt    time.Time   `json:"requestedAt"`
	DueAt          time.Time   `json:"dueAt"`
	DoneAt         time.Time   `json:"doneAt"`
	FieldsErased   []string    `json:"fieldsErased"`
	FieldsHashed   []string    `json:"fieldsHashed"`
	BlobsDeleted   int         `json:"blobsDeleted"`
	ContactsErased int         `json:"contactsErased"`
	ContactsKept   int         `json:"contactsKept"`
}

// BlacklistRemoval is the audit record of one blacklist entry removed: what the entry said
// (reason, source, since), on what basis, why and at whose request. It names no address, not
// even as a digest: the record proves the removal without keeping a way to find the person.
type BlacklistRemoval struct {
	BrandID     BrandID         `json:"brandId"`
	ID          string          `json:"id"`
	Reason      BlacklistReason `json:"reason"` // the entry's reason
	Source      string          `json:"source,omitempty"`
	Since       time.Time       `json:"since"`
	Basis       RemovalBasis    `json:"basis"`
	Why         RemovalWhy      `json:"why"`
	RequestedBy string          `json:"requestedBy"`
	RemovedAt   time.Time       `json:"removedAt"`
}

// RemovalBasis is what entitled a removal.
type RemovalBasis string

const (
	// RemovalByAdmin: an admin removed a hard bounce or a block (the mailbox was fixed).
	RemovalByAdmin RemovalBasis = "admin"
	// RemovalByConsent: the person confirmed a new double opt-in for the address, the only
	// way a spam complaint or a global opt-out is lifted.
	RemovalByConsent RemovalBasis = "double_opt_in"
	// RemovalByDelivery: a mail to the address was delivered, which ends a soft-bounce
	// suppression.
	RemovalByDelivery RemovalBasis = "delivery"
	// RemovalByRelease: the member released the soft bounce of its own or its contact's
	// address (R-MAIL-2), which ends a soft-bounce suppression.
	RemovalByRelease RemovalBasis = "member_release"
)

// RemovalWhy is the reason given for a removal.
type RemovalWhy string

const (
	RemovalMailboxFixed  RemovalWhy = "mailbox_fixed"   // the mailbox takes mail again
	RemovalListedInError RemovalWhy = "listed_in_error" // the entry should never have been written
	RemovalNewConsent    RemovalWhy = "new_consent"     // the person's own confirmed opt-in
	RemovalDelivered     RemovalWhy = "delivered"       // a mail to the address was delivered
	RemovalReleased      RemovalWhy = "released"        // the member released the soft bounce
)

// SoftBounceStreak counts the soft bounces of one address in a row, since its last delivery,
// for the brand's soft-bounce policy: by the provider's event ids, so that a callback Mailjet
// delivers twice counts once. Only the digest of the address is stored.
type SoftBounceStreak struct {
	BrandID BrandID `json:"brandId"`
	Digest  string  `json:"digest"`
	// Bounces are the latest soft bounces in a row, oldest first, at most the policy's limit.
	Bounces []CountedBounce `json:"bounces"`
	// ClearedAt is the latest delivery or release: a bounce dated before it is not in the row
	// (a callback replayed after a release counts nothing again).
	ClearedAt time.Time `json:"clearedAt,omitzero"`
	Version   string    `json:"-"`
}

// CountedBounce is one soft bounce of a streak: the provider's event id and its time.
type CountedBounce struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}
