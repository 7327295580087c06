package gdpr

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// UserStatus is where a user stands in its lifecycle.
type UserStatus string

const (
	UserPending UserStatus = "pending" // signed up, email not yet confirmed (R-SIGNUP-2)
	UserActive  UserStatus = "active"
	UserBlocked UserStatus = "blocked" // access stopped, erasure scheduled (R-ERASE-5)
	UserErased  UserStatus = "erased"  // personal data erased or hashed (R-DATA-5)
)

// User is a Member (roles 0–6) or an external user (roles 7, 8) with every field of R-DATA-1
// and R-DATA-2. Users are never removed: erasure rewrites their fields (R-DATA-5).
type User struct {
	BrandID BrandID     `json:"brandId"`
	ID      string      `json:"id"`
	Role    Role        `json:"role"`
	Status  UserStatus  `json:"status"`
	Kind    SubjectKind `json:"kind"`

	CreatedAt   time.Time `json:"createdAt"`
	ConfirmedAt time.Time `json:"confirmedAt,omitzero"`

	Alias     string `json:"alias,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	// DisplayName and FormattedName are SCIM's displayName and name.formatted as the identity
	// provider sent them: names, erased with FirstName and LastName (R-ERASE-1).
	DisplayName   string `json:"displayName,omitempty"`
	FormattedName string `json:"formattedName,omitempty"`
	Title         string `json:"title,omitempty"`
	PasswordHash  string `json:"passwordHash,omitempty"` // bcrypt (R-SIGNUP-3); empty for SSO and social logins
	CustomerID    string `json:"customerId,omitempty"`
	SocialID      string `json:"socialId,omitempty"` // "<provider>:<subject>" (Facebook/Google/Apple)
	ExternalID    string `json:"externalId,omitempty"`
	// UserName is SCIM's userName as sent, when its spelling differs from ExternalID, which
	// holds it folded to lower case: RFC 7643 §2.2 asks to match it without case, not to lose
	// its case. Erased with the account; the hashed ExternalID stays for comparisons.
	UserName string `json:"userName,omitempty"`
	// IdPExternalID is SCIM's externalId: the identity provider's own id for the user, beside
	// ExternalID (SCIM's userName), which keys it here.
	IdPExternalID string     `json:"idpExternalId,omitempty"`
	Email         string     `json:"email,omitempty"`    // verified Member email only
	EmailTmp      string     `json:"emailTmp,omitempty"` // external users' email, never verified (R-DATA-2)
	Address       Address    `json:"address,omitzero"`
	Language      string     `json:"language,omitempty"`
	DateOfBirth   Date       `json:"dateOfBirth,omitzero"`
	Terms         *Terms     `json:"terms,omitempty"` // platform T&C (members) or service T&C (external users)
	PhotoKey      string     `json:"photoKey,omitempty"`
	UGC           []UGC      `json:"ugc,omitempty"`
	Description   string     `json:"description,omitempty"`
	Phone         string     `json:"phone,omitempty"`
	Position      string     `json:"position,omitempty"`
	Visibility    Visibility `json:"visibility"`
	OptIns        OptIns     `json:"optIns"`
	// EmailStatus is the deliverability of Email as the mail provider reported it (R-MAIL-1…3),
	// as of EmailStatusAt, the time of the provider's event; nothing is sent unless it is OK.
	EmailStatus   EmailStatus `json:"emailStatus,omitempty"`
	EmailStatusAt time.Time   `json:"emailStatusAt,omitzero"`

	LastLoginAt    time.Time `json:"lastLoginAt,omitzero"`
	LastActivityAt time.Time `json:"lastActivityAt,omitzero"`
	SSOEventAt     time.Time `json:"ssoEventAt,omitzero"` // the brand's time of the last applied SSO event

	Block    *Block             `json:"block,omitempty"`
	Warnings InactivityWarnings `json:"warnings,omitzero"`
	Erasure  *ErasureState      `json:"erasure,omitempty"`
	// Restriction keeps the user out of mailings (and the warehouse export) after a
	// restriction or objection request, until the request is lifted (Art. 18, 21; R-RIGHTS-1).
	Restriction *Restriction `json:"restriction,omitempty"`

	// NextReviewAt is the earliest moment a retention rule could act on this user; the sweep
	// reads only users whose NextReviewAt has passed (the due index). Zero means never.
	NextReviewAt time.Time `json:"nextReviewAt,omitzero"`
	Version      string    `json:"-"`
}

// Address is a postal address. Erasure keeps City and PostalCode (R-ERASE-1, R-ERASE-3).
type Address struct {
	Street     string `json:"street,omitempty"`
	City       string `json:"city,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Terms records the acceptance of terms and conditions (R-SIGNUP-1).
type Terms struct {
	Version    string    `json:"version"`
	AcceptedAt time.Time `json:"acceptedAt"`
}

// Visibility holds the community-visibility opt-outs, off by default (R-SIGNUP-7).
type Visibility struct {
	HideEvents        bool `json:"hideEvents"`
	HideFromCommunity bool `json:"hideFromCommunity"`
}

// OptIns holds a Member's communication opt-ins, off by default (R-SIGNUP-7), each given with
// the time the member chose it (zero for one not given): the proof of that consent.
type OptIns struct {
	Newsletter bool `json:"newsletter"`
	Events     bool `json:"events"`
	Challenges bool `json:"challenges"`
	Comments   bool `json:"comments"`

	NewsletterAt time.Time `json:"newsletterAt,omitzero"`
	EventsAt     time.Time `json:"eventsAt,omitzero"`
	ChallengesAt time.Time `json:"challengesAt,omitzero"`
	CommentsAt   time.Time `json:"commentsAt,omitzero"`
}

// UGC is a piece of user-generated content stored as a blob. Content collected under a
// contest follows the contest's own retention (R-ERASE-2).
type UGC struct {
	Key       string `json:"key"`
	ContestID string `json:"contestId,omitempty"`
	// KeepUntil is the contest's keep-until date: the sweep deletes the content after it,
	// whether its member is erased or not. Zero: the contest set none yet.
	KeepUntil time.Time `json:"keepUntil,omitzero"`
}

// Block is a pending deletion: access stopped at RequestedAt, erasure due at DueAt unless
// restored before (R-ERASE-5).
type Block struct {
	Reason      BlockReason `json:"reason"`
	Rule        string      `json:"rule"`
	RequestedAt time.Time   `json:"requestedAt"`
	DueAt       time.Time   `json:"dueAt"`
	// PreviousStatus is what a restore puts back (R-ERASE-5).
	PreviousStatus UserStatus `json:"previousStatus"`
	// JobRef cancels the scheduled erasure job on restore; the worker re-checks anyway.
	JobRef string `json:"jobRef,omitempty"`
}

// BlockReason says why an account is blocked for deletion.
type BlockReason string

const (
	ReasonUnsubscribed  BlockReason = "unsubscribed"    // the Member left (R-ERASE-5, R-ERASE-6)
	ReasonEndOfContract BlockReason = "end_of_contract" // Manager, SSO or API (R-ERASE-5)
	ReasonSSODeleted    BlockReason = "sso_deleted"     // the brand's identity system deleted it (R-SSO-2)
	// ReasonSSODeactivated is SCIM's active=false: soft deprovisioning, erased after the grace
	// period like a deletion, but still readable (inactive) until then, as Okta expects.
	ReasonSSODeactivated BlockReason = "sso_deactivated"
	ReasonBrandEnded     BlockReason = "brand_contract_ended"
	ReasonInactivity     BlockReason = "inactivity"  // R-RET-1, R-RET-2
	ReasonUnconfirmed    BlockReason = "unconfirmed" // signup never confirmed
	// ReasonSubjectRequest is the subject's own erasure request (Art. 17; R-RIGHTS-1).
	ReasonSubjectRequest BlockReason = "subject_request"
	// ReasonAbandoned marks a void user: the fence a writer puts under the id of a create
	// whose creator died holding a unique key, so that it can never be created later.
	ReasonAbandoned BlockReason = "abandoned_create"
)

// InactivityWarnings records the warning mails of R-RET-1 for the current inactivity mark.
type InactivityWarnings struct {
	Mark     time.Time `json:"mark,omitzero"` // the erasure mark the warnings were sent for
	FirstAt  time.Time `json:"firstAt,omitzero"`
	SecondAt time.Time `json:"secondAt,omitzero"`
}

// ErasureState tracks an erasure in progress so that a crash at any step resumes it.
type ErasureState struct {
	ID          string      `json:"id"`
	Rule        string      `json:"rule"`
	Reason      BlockReason `json:"reason"`
	RequestedAt time.Time   `json:"requestedAt"`
	DueAt       time.Time   `json:"dueAt"`
	Step        string      `json:"step"`
	DoneAt      time.Time   `json:"doneAt,omitzero"`
	// What the first step decided, kept until the audit record is written so a resumed
	// erasure records exactly the same. None of it is personal: field names, blob keys made
	// of ids, claim keys made of digests.
	FieldsErased  []string `json:"fieldsErased,omitempty"`
	FieldsHashed  []string `json:"fieldsHashed,omitempty"`
	PendingBlobs  []string `json:"pendingBlobs,omitempty"`
	PendingClaims []string `json:"pendingClaims,omitempty"`
	BlobsDeleted  int      `json:"blobsDeleted,omitempty"`
}

// Date is a calendar date of which only the year may be kept: erasure keeps the year of
// birth (R-ERASE-1). Month and Day are 0 when unknown.
type Date struct {
	Year, Month, Day int
}

func (d Date) IsZero() bool { return d == Date{} }

// YearOnly keeps the year.
func (d Date) YearOnly() Date { return Date{Year: d.Year} }

func (d Date) String() string {
	switch {
	case d.IsZero():
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	default:
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
}

// ParseDate accepts "YYYY-MM-DD" or "YYYY".
func ParseDate(s string) (Date, error) {
	if len(s) == 4 {
		y, err := strconv.Atoi(s)
		if err != nil || y < 1900 {
			return Date{}, fmt.Errorf("not a year")
		}
		return Date{Year: y}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1900 {
		return Date{}, fmt.Errorf("not a YYYY-MM-DD date")
	}
	return Date{Year: t.Year(), Month: int(t.Month()), Day: t.Day()}, nil
}

func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Errorf(CodeInvalid, "dates must be strings")
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(strings.TrimSpace(s))
	if err != nil {
		return Errorf(CodeInvalid, "%s", err) // the rule broken, never the value
	}
	*d = v
	return nil
}

// CanSignIn reports whether the account gives access: only confirmed, unblocked users
// (R-SIGNUP-2, R-ERASE-5) who have accepted the T&C (R-SIGNUP-1): a member provisioned by
// the brand's identity system has none until it accepts them at first access (AcceptTerms).
func (u User) CanSignIn() bool { return u.Status == UserActive && u.Terms != nil }

// LastActive is where inactivity counts from: the last login (members) or widget interaction
// (external users), else confirmation, else creation (R-RET-1, R-RET-2).
func (u User) LastActive() time.Time {
	if t := latest(u.LastLoginAt, u.LastActivityAt, u.ConfirmedAt); !t.IsZero() {
		return t
	}
	return u.CreatedAt
}
