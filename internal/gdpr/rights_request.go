package gdpr

import (
	"encoding/binary"
	"slices"
	"strings"
	"time"
)

// A data-subject request (GDPR Art. 15–22) or an authorised brand export, as the register
// keeps it (R-RIGHTS-1, R-ACCESS-3). The register outlives the subject's erasure, so a
// request names its subject by id and holds no personal data of it: a rectification keeps
// which fields it changed, never their values.

// RequestKind is the right a request exercises.
type RequestKind string

const (
	RequestAccess        RequestKind = "access"        // Art. 15
	RequestPortability   RequestKind = "portability"   // Art. 20
	RequestRectification RequestKind = "rectification" // Art. 16
	RequestRestriction   RequestKind = "restriction"   // Art. 18
	RequestObjection     RequestKind = "objection"     // Art. 21
	RequestErasure       RequestKind = "erasure"       // Art. 17
	// RequestBrandExport is an export of many subjects' data to the brand, after two
	// approvals (R-ACCESS-1, R-ACCESS-3).
	RequestBrandExport RequestKind = "brand_export"
)

// RequestKinds lists every kind, in the order the README states them.
var RequestKinds = []RequestKind{RequestAccess, RequestPortability, RequestRectification, RequestRestriction,
	RequestObjection, RequestErasure, RequestBrandExport}

// Valid reports a known kind.
func (k RequestKind) Valid() bool { return slices.Contains(RequestKinds, k) }

// exports reports the kinds an export answers.
func (k RequestKind) exports() bool {
	return k == RequestAccess || k == RequestPortability || k == RequestBrandExport
}

// RequestStatus is where a request stands: received → (awaiting_approval) → in_progress →
// completed | refused.
type RequestStatus string

const (
	RequestReceived         RequestStatus = "received"
	RequestAwaitingApproval RequestStatus = "awaiting_approval"
	RequestInProgress       RequestStatus = "in_progress"
	RequestCompleted        RequestStatus = "completed"
	RequestRefused          RequestStatus = "refused"
)

// closed reports a final status.
func (s RequestStatus) closed() bool { return s == RequestCompleted || s == RequestRefused }

// Reasons a request is refused, as codes.
const (
	// RefusedSubjectErased: the subject's personal data was erased before the request could
	// be carried out; there is nothing left to rectify or restrict.
	RefusedSubjectErased = "subject_erased"
	// RefusedErasureCancelled: the subject's account was restored within the grace period,
	// which withdrew the erasure (R-ERASE-5).
	RefusedErasureCancelled = "erasure_cancelled"
	// RefusedAbandoned: the request's creation died half-way and a retry with the same
	// Idempotency-Key took its place; the retry's request is the one carried out.
	RefusedAbandoned = "abandoned_create"
)

// ApprovalRole is the capacity in which someone approves a brand export (R-ACCESS-3).
type ApprovalRole string

const (
	ApproverBrandController ApprovalRole = "brand_controller"
	ApproverDPO             ApprovalRole = "data_protection_officer"
)

// Approval is one approval of a brand export.
type Approval struct {
	Approver string       `json:"approver"`
	Role     ApprovalRole `json:"role"`
	At       time.Time    `json:"at"`
}

// Request is one request of the register.
type Request struct {
	BrandID BrandID     `json:"brandId"`
	ID      string      `json:"id"`
	Kind    RequestKind `json:"kind"`
	// SubjectID is the user the request is about; empty for a brand export.
	SubjectID     string `json:"subjectId,omitempty"`
	Reference     string `json:"reference,omitempty"`
	Justification string `json:"justification,omitempty"`
	// RequestedBy is who asked, as the admin caller names them (the DPO's team, the brand's
	// support): never the subject's own data.
	RequestedBy   string        `json:"requestedBy,omitempty"`
	Status        RequestStatus `json:"status"`
	RefusedReason string        `json:"refusedReason,omitempty"`
	ReceivedAt    time.Time     `json:"receivedAt"`
	DueAt         time.Time     `json:"dueAt"`
	CompletedAt   time.Time     `json:"completedAt,omitzero"`
	Approvals     []Approval    `json:"approvals,omitempty"`
	// FieldsChanged names what a rectification changed; the values went to the user only.
	FieldsChanged []string `json:"fieldsChanged,omitempty"`
	// LiftedAt is when a restriction or objection stopped applying.
	LiftedAt time.Time `json:"liftedAt,omitzero"`
	Download *Download `json:"download,omitempty"`
	Version  string    `json:"-"`
}

// Restriction is a restriction of processing on a user (Art. 18) or its objection (Art.
// 21): no mailing, no warehouse export, until the request that set it is lifted.
type Restriction struct {
	Kind      RequestKind `json:"kind"`
	RequestID string      `json:"requestId"`
	Since     time.Time   `json:"since"`
}

// RequestDue is when a request must be answered: one month after receipt (Art. 12(3)),
// counted as Regulation 1182/71 Art. 3(2)(c) counts months: the same day of the next month,
// or its last day when it has no such day (31 January → 28 or 29 February), at the same
// time of day, in UTC. Go's AddDate alone would run on into March.
func RequestDue(received time.Time) time.Time {
	r := received.UTC()
	due := r.AddDate(0, 1, 0)
	if due.Day() != r.Day() {
		// The next month is shorter: AddDate overflowed into the month after; step back to
		// the last day of the month intended.
		due = due.AddDate(0, 0, -due.Day())
	}
	return due
}

// requestIDBound is the smallest request id received at t: ids are "r_" and NewID's 48 bits
// of milliseconds first, in an alphabet that sorts as its bytes do, so a range of receipt
// times is a range of ids, and the register pages by id alone.
func requestIDBound(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	return requestIDPrefix + idEncoding.EncodeToString(b[:])
}

const requestIDPrefix = "r_"

// validRequestID is the shape of a request id: a path segment from a client is checked
// before any store sees it.
func validRequestID(id string) bool {
	rest, ok := strings.CutPrefix(id, requestIDPrefix)
	if !ok || len(rest) != 26 {
		return false
	}
	for _, c := range rest {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", c) {
			return false
		}
	}
	return true
}

// Bounds of the request's free text.
const (
	maxReference     = 200
	maxJustification = 2000
	maxRequestedBy   = 200
	maxApprover      = 200
	// maxIdempotencyKey bounds the Idempotency-Key header (printable ASCII).
	maxIdempotencyKey = 255
)

// RequestInput is a new request as the admin posts it.
type RequestInput struct {
	Kind RequestKind `json:"kind"`
	// MemberID names the subject by user id; Email by its address, looked up by digest.
	MemberID      string         `json:"memberId"`
	Email         string         `json:"email"`
	Reference     string         `json:"reference"`
	Justification string         `json:"justification"`
	RequestedBy   string         `json:"requestedBy"`
	Changes       *Rectification `json:"changes"`
	// IdempotencyKey comes from the Idempotency-Key header: a retried POST with the same key
	// answers the request the first one made.
	IdempotencyKey string `json:"-"`
}

// Rectification is what a rectification changes (Art. 16): the profile fields the signup
// form collects, and the postal address. A field left out keeps its value; an empty string
// clears it where the brand's field rules allow.
type Rectification struct {
	FirstName   *string  `json:"firstName"`
	LastName    *string  `json:"lastName"`
	Alias       *string  `json:"alias"`
	Title       *string  `json:"title"`
	Position    *string  `json:"position"`
	CustomerID  *string  `json:"customerId"`
	Language    *string  `json:"language"`
	DateOfBirth *Date    `json:"dateOfBirth"`
	Address     *Address `json:"address"`
	// Email is decoded only to be refused with its own error: a new address must be
	// confirmed by its mailbox first (R-SIGNUP-2), which no rectification can do.
	Email *string `json:"email"`
}

// ErrEmailNotRectifiable refuses a rectification of the address: the signup's re-confirmation
// flow (double opt-in of a new address) does not exist yet, and an unconfirmed address must
// never become a member's verified email (R-SIGNUP-2, R-DATA-1).
var ErrEmailNotRectifiable = Errorf(CodeInvalid,
	"changes.email: an address cannot be rectified here, a new address needs the mailbox's confirmation first")

// validate checks the request's shape. Messages name fields, never values.
func (in *RequestInput) validate() error {
	if !in.Kind.Valid() {
		return Errorf(CodeInvalid, "kind must be one of access, portability, rectification, restriction, objection, erasure, brand_export")
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"reference", &in.Reference, maxReference}, {"justification", &in.Justification, maxJustification},
		{"requestedBy", &in.RequestedBy, maxRequestedBy},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if !plainText(*f.v, f.max) {
			return Errorf(CodeInvalid, "%s must be at most %d characters without control characters", f.name, f.max)
		}
	}
	if !validIdempotencyKey(in.IdempotencyKey) {
		return Errorf(CodeInvalid, "Idempotency-Key must be 1 to %d printable ASCII characters", maxIdempotencyKey)
	}
	in.MemberID, in.Email = strings.TrimSpace(in.MemberID), NormalizeEmail(in.Email)
	if in.Kind == RequestBrandExport {
		if in.Reference == "" || in.Justification == "" {
			return Errorf(CodeInvalid, "a brand_export needs reference and justification (R-ACCESS-3)")
		}
		if in.MemberID != "" || in.Email != "" {
			return Errorf(CodeInvalid, "a brand_export is about the brand's subjects, not one: leave memberId and email out")
		}
	} else {
		if (in.MemberID == "") == (in.Email == "") {
			return Errorf(CodeInvalid, "name the subject by memberId or by email, one of them")
		}
		if in.Email != "" && !ValidEmail(in.Email) {
			return Errorf(CodeInvalid, "email is not a valid email address")
		}
		if len(in.MemberID) > 64 {
			return Errorf(CodeNotFound, "unknown subject")
		}
	}
	if (in.Changes != nil) != (in.Kind == RequestRectification) {
		return Errorf(CodeInvalid, "changes are given with a rectification, and only with one")
	}
	return nil
}

// validIdempotencyKey: empty (no key), or printable ASCII within the bound.
func validIdempotencyKey(k string) bool {
	if len(k) > maxIdempotencyKey {
		return false
	}
	for i := range len(k) {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// check validates the changes as the signup form validates the same fields, against the
// brand's field rules (R-SIGNUP-6), and returns the names of the fields changed.
func (c *Rectification) check(b Brand, now time.Time) ([]string, error) {
	if c.Email != nil {
		return nil, ErrEmailNotRectifiable
	}
	var fields []string
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"firstName", c.FirstName}, {"lastName", c.LastName}, {"alias", c.Alias}, {"title", c.Title},
		{"position", c.Position}, {"customerId", c.CustomerID}, {"language", c.Language},
	} {
		if f.v == nil {
			continue
		}
		if err := checkProfileText(b.Fields, f.name, f.v); err != nil {
			return nil, err
		}
		fields = append(fields, f.name)
	}
	if c.DateOfBirth != nil {
		if err := checkDateOfBirth(b.Fields, *c.DateOfBirth, now); err != nil {
			return nil, err
		}
		fields = append(fields, "dateOfBirth")
	}
	if c.Address != nil {
		if err := checkAddress(c.Address); err != nil {
			return nil, err
		}
		fields = append(fields, "address")
	}
	if len(fields) == 0 {
		return nil, Errorf(CodeInvalid, "changes must name at least one field to rectify")
	}
	return fields, nil
}

// apply writes the changes onto u.
func (c Rectification) apply(u *User) {
	for _, f := range []struct {
		v  *string
		to *string
	}{
		{c.FirstName, &u.FirstName}, {c.LastName, &u.LastName}, {c.Alias, &u.Alias}, {c.Title, &u.Title},
		{c.Position, &u.Position}, {c.CustomerID, &u.CustomerID}, {c.Language, &u.Language},
	} {
		if f.v != nil {
			*f.to = *f.v
		}
	}
	if c.DateOfBirth != nil {
		u.DateOfBirth = *c.DateOfBirth
	}
	if c.Address != nil {
		u.Address = *c.Address
	}
}

// ApprovalInput is one approval of a brand export as the admin posts it.
type ApprovalInput struct {
	Approver string       `json:"approver"`
	Role     ApprovalRole `json:"role"`
}

func (in *ApprovalInput) validate() error {
	in.Approver = strings.TrimSpace(in.Approver)
	if in.Approver == "" || !plainText(in.Approver, maxApprover) {
		return Errorf(CodeInvalid, "approver must be 1 to %d characters without control characters", maxApprover)
	}
	if in.Role != ApproverBrandController && in.Role != ApproverDPO {
		return Errorf(CodeInvalid, "role must be brand_controller or data_protection_officer")
	}
	return nil
}

// approved reports two approvals by distinct approvers in the two distinct roles
// (R-ACCESS-3).
func approved(as []Approval) bool {
	for _, a := range as {
		for _, b := range as {
			if a.Role != b.Role && a.Approver != b.Approver {
				return true
			}
		}
	}
	return false
}
