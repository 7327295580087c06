package gdpr

import "time"

// Contact is a person in a Member's CRM, not a user. A contact entered by several Members is
// stored once per Member (R-CONSENT-5).
type Contact struct {
	BrandID  BrandID `json:"brandId"`
	ID       string  `json:"id"`
	MemberID string  `json:"memberId"`

	Email       string      `json:"email,omitempty"`
	EmailStatus EmailStatus `json:"emailStatus,omitempty"`
	FirstName   string      `json:"firstName,omitempty"`
	LastName    string      `json:"lastName,omitempty"`
	Phone       string      `json:"phone,omitempty"`
	Notes       string      `json:"notes,omitempty"`
	Tags        []string    `json:"tags,omitempty"`
	Address     Address     `json:"address,omitzero"`

	MemberOptIn MemberOptInState `json:"memberOptIn"`
	BrandOptIn  BrandOptInState  `json:"brandOptIn"`
	Source      ContactSource    `json:"source,omitempty"`
	// History is the proof of consent (Art. 7 GDPR): every change of the two opt-ins, dated,
	// with its source; values and ids only. Bounded by MaxConsentHistory (consent.go).
	History []ConsentChange `json:"consentHistory,omitempty"`
	// Sales is the contact's order history with its Member (R-CONSENT-3): amounts and
	// products, no payment data. Bounded by MaxSales.
	Sales []Sale `json:"sales,omitempty"`

	CreatedAt        time.Time `json:"createdAt"`
	LastActivityAt   time.Time `json:"lastActivityAt,omitzero"` // intentional interactions only (R-RET-3)
	InvitationSentAt time.Time `json:"invitationSentAt,omitzero"`

	ErasedAt time.Time `json:"erasedAt,omitzero"`
	ErasedBy string    `json:"erasedBy,omitempty"` // the erasure that erased it, for idempotent counting
	// Erasure is the state of the contact's erasure on its own (retention, the brand's sync
	// delete), from which its audit record is written; none when its member's erasure erased
	// it (erase.go).
	Erasure *ErasureState `json:"erasure,omitempty"`

	NextReviewAt time.Time `json:"nextReviewAt,omitzero"`
	Version      string    `json:"-"`
}

// Sale is one order of a contact, as the brand's shop reported it.
type Sale struct {
	OrderID  string     `json:"orderId"`
	Amount   string     `json:"amount"`   // a decimal, e.g. "49.90": never a float
	Currency string     `json:"currency"` // ISO 4217, e.g. "EUR"
	Products []SaleLine `json:"products"`
	At       time.Time  `json:"at"`
}

// SaleLine is a product of an order.
type SaleLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ContactSettings are a brand's contact features.
type ContactSettings struct {
	// ManualEntry lets Members enter contacts by hand (R-RET-4). Off by default: the guide
	// deprecated manual entry in version 4.0, "not excluded that this will be reactivated".
	ManualEntry bool `json:"manualEntry"`
}

// MaxSales bounds the orders kept on a contact: a contact is one document, read and written
// in batches, and must stay small; the oldest orders go first.
const MaxSales = 200

// Erased reports a contact whose personal data is gone.
func (c Contact) Erased() bool { return !c.ErasedAt.IsZero() }

// ContactSource says how a contact entered the platform.
type ContactSource string

const (
	SourceManual    ContactSource = "manual"
	SourceImport    ContactSource = "import"
	SourceOrder     ContactSource = "order"
	SourceBrandSync ContactSource = "brand_sync" // R-RET-9: erased when the brand deletes it
	SourceWidget    ContactSource = "widget"
)

// EmailStatus is the deliverability status of a contact's or a member's address (R-MAIL-3).
// The empty status is deliverable. The first five are the guide's, set by the provider's
// events; undeliverable is the product's (issue 21): the provider refused the address itself
// when a mail to it was handed over, so no event will ever come for it.
type EmailStatus string

const (
	EmailOK          EmailStatus = ""
	EmailSpam        EmailStatus = "spam"
	EmailHardBounce  EmailStatus = "hard_bounce"
	EmailSoftBounce  EmailStatus = "soft_bounce"
	EmailBlocked     EmailStatus = "blocked"
	EmailNotVerified EmailStatus = "not_verified"
	// EmailUndeliverable: the provider refused a mail for good because of its recipient's
	// address (ErrRecipientRefused). It blocks mail like a hard bounce and, like one, is
	// lifted only by a new address.
	EmailUndeliverable EmailStatus = "undeliverable"
)

// Deliverable reports whether anything may be sent to this status (R-MAIL-3). A soft bounce
// blocks sending until a Member releases it (R-MAIL-2).
func (s EmailStatus) Deliverable() bool { return s == EmailOK }

// MemberOptIn is the consent a contact gave the Member (R-CONSENT-1).
type MemberOptIn string

const (
	MemberOptInNew            MemberOptIn = "new"
	MemberOptInInvitationSent MemberOptIn = "invitation_sent"
	// MemberOptInInvitationFailed is the product's (issue 21), not the guide's: the provider
	// refused the invitation's address for good, so no invitation reached the contact and
	// "invitation sent" would be untrue. Opted: unknown, as for a new contact, and like one it
	// is erased when no invitation was sent within 30 days of it (R-RET-4).
	MemberOptInInvitationFailed   MemberOptIn = "invitation_failed"
	MemberOptInInvitationAccepted MemberOptIn = "invitation_accepted"
	MemberOptInInvitationDeclined MemberOptIn = "invitation_declined"
	MemberOptOutFromEmail         MemberOptIn = "opt_out_from_email"
	MemberOptOutNoAction          MemberOptIn = "opt_out_no_action"
	MemberGlobalOptOut            MemberOptIn = "global_opt_out"
	MemberSocialMediaOnly         MemberOptIn = "social_media_only"
	MemberOptInFromBrand          MemberOptIn = "opt_in_from_brand"
	MemberOptInBlogPending        MemberOptIn = "opt_in_blog_popin_pending"
	MemberOptInBlogVerified       MemberOptIn = "opt_in_blog_popin_verified"
	MemberOptInInternalForm       MemberOptIn = "opt_in_internal_form"
	MemberOptInExternalForm       MemberOptIn = "opt_in_external_form"
	MemberOptInFromOrder          MemberOptIn = "opt_in_from_order"
	MemberOptInFromOrderPopin     MemberOptIn = "opt_in_from_order_popin"
	MemberOptInOther              MemberOptIn = "other_opt_in"
	MemberStorageOnly             MemberOptIn = "storage_only"
)

var memberOptIns = map[MemberOptIn]bool{
	MemberOptInNew: true, MemberOptInInvitationSent: true, MemberOptInInvitationFailed: true, MemberOptInInvitationAccepted: true,
	MemberOptInInvitationDeclined: true, MemberOptOutFromEmail: true, MemberOptOutNoAction: true,
	MemberGlobalOptOut: true, MemberSocialMediaOnly: true, MemberOptInFromBrand: true,
	MemberOptInBlogPending: true, MemberOptInBlogVerified: true, MemberOptInInternalForm: true,
	MemberOptInExternalForm: true, MemberOptInFromOrder: true, MemberOptInFromOrderPopin: true,
	MemberOptInOther: true, MemberStorageOnly: true,
}

func (v MemberOptIn) Valid() bool { return memberOptIns[v] }

// OptedOut reports the values after which the contact is blocked and erased after a year
// (R-RET-7).
func (v MemberOptIn) OptedOut() bool {
	return v == MemberOptInInvitationDeclined || v == MemberOptOutFromEmail || v == MemberOptOutNoAction || v == MemberGlobalOptOut
}

// MemberOptInState is the value with the date it changed (R-CONSENT-1).
type MemberOptInState struct {
	Value MemberOptIn `json:"value"`
	At    time.Time   `json:"at"`
}

// BrandOptIn is the consent a contact gave the Brand (R-CONSENT-2).
type BrandOptIn string

const (
	BrandOptInNone         BrandOptIn = "none" // hidden from the Brand (R-ACCESS-1)
	BrandOptInBlog         BrandOptIn = "from_blog"
	BrandOptInInternalForm BrandOptIn = "from_internal_form"
	BrandOptInExternalForm BrandOptIn = "from_external_form"
	BrandOptInDatabase     BrandOptIn = "from_brand_database"
	BrandOptInStorageOnly  BrandOptIn = "storage_only"
)

func (v BrandOptIn) Valid() bool {
	switch v {
	case BrandOptInNone, BrandOptInBlog, BrandOptInInternalForm, BrandOptInExternalForm, BrandOptInDatabase, BrandOptInStorageOnly:
		return true
	}
	return false
}

// Present reports any Brand opt-in but "none": such contacts survive the Member's
// unsubscription (R-ERASE-6) and are visible to the Brand (R-ACCESS-1).
func (v BrandOptIn) Present() bool { return v != "" && v != BrandOptInNone }

// BrandOptInState is the value with the date it changed (R-CONSENT-2).
type BrandOptInState struct {
	Value BrandOptIn `json:"value"`
	At    time.Time  `json:"at"`
}
