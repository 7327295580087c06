package gdpr

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// BrandID names a tenant. Every store key, query and job is scoped by it (R-TEN-1).
type BrandID string

// Valid: lower-case letters, digits and inner hyphens, at most 63 characters, so it is safe in
// URLs, partition keys and blob paths.
func (b BrandID) Valid() bool {
	s := string(b)
	return brandIDChars.spans(s, 1, 63) && lowerOrDigit[s[0]] && lowerOrDigit[s[len(s)-1]]
}

// BrandStatus: an ended brand's data is erased after the grace period (R-ERASE-7); it stays
// readable to admins so the erasures can be proven. A suspended brand keeps its data, takes
// no new data, and is ended once its suspension has lasted Retention.SuspendedProgram
// without a relaunch (R-ERASE-8).
type BrandStatus string

const (
	BrandActive    BrandStatus = "active"
	BrandSuspended BrandStatus = "suspended"
	BrandEnded     BrandStatus = "ended"
)

// Brand is a tenant's settings.
type Brand struct {
	ID               BrandID `json:"id"`
	Name             string  `json:"name"`
	Pro              Pro     `json:"pro"`
	SSOExclusive     bool    `json:"ssoExclusive"`     // R-SIGNUP-5
	WhitelistEnabled bool    `json:"whitelistEnabled"` // R-SIGNUP-4
	WebhookSecret    string  `json:"webhookSecret,omitempty"`
	// PreviousWebhookSecret still verifies webhooks while the brand rotates its secret.
	PreviousWebhookSecret string          `json:"previousWebhookSecret,omitempty"`
	MailjetCallback       MailjetCallback `json:"mailjetCallback,omitzero"`
	// SCIMTokenDigest is the keyed digest of the brand's SCIM bearer token; the token itself
	// is never stored.
	SCIMTokenDigest string       `json:"scimTokenDigest,omitempty"`
	Mail            MailSettings `json:"mail,omitzero"`
	// SweepCursor is where an unfinished retention sweep of the brand stopped: the next sweep
	// resumes there rather than starting over (a sweep stops itself before the host's
	// functionTimeout, and a killed one resumes from its last page).
	SweepCursor *DueCursor   `json:"sweepCursor,omitempty"`
	Retention   Retention    `json:"retention"`
	Fields      FieldRules   `json:"fields,omitempty"` // R-SIGNUP-6
	Status      BrandStatus  `json:"status"`
	ContractEnd *ContractEnd `json:"contractEnd,omitempty"`
	Suspension  *Suspension  `json:"suspension,omitempty"` // R-ERASE-8
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Version     string       `json:"-"`

	Contacts ContactSettings `json:"contacts,omitzero"` // R-RET-4: manual entry

	// Identity is how pages and mails present the brand; DefaultLanguage the language of a
	// reader whose own is unknown or unsupported; TimeZone the IANA zone dates are shown in
	// (DefaultTimeZone when empty).
	Identity        BrandIdentity `json:"identity,omitzero"`
	DefaultLanguage string        `json:"defaultLanguage,omitempty"`
	TimeZone        string        `json:"timeZone,omitempty"`
}

// ContractEnd records the end of a brand's contract (R-ERASE-7).
type ContractEnd struct {
	RequestedAt time.Time `json:"requestedAt"`
	DueAt       time.Time `json:"dueAt"`
	// FannedOutAt is when the last user's erasure job was published: the brand-wide fan-out
	// is done, and the sweep stops re-publishing it. (Stored under its first name.)
	FannedOutAt time.Time `json:"scheduled,omitzero"`
}

// Suspension records a suspended program (R-ERASE-8): its data is kept until KeepUntil,
// RequestedAt + Retention.SuspendedProgram, then the brand's contract ends.
type Suspension struct {
	RequestedAt time.Time `json:"requestedAt"`
	KeepUntil   time.Time `json:"keepUntil"`
	// MailedAt is when every active member's warning was published (R-ERASE-8); zero until
	// then, so a repeated suspend or the next sweep finishes a publishing cut short.
	MailedAt time.Time `json:"mailedAt,omitzero"`
}

// BasicCredentials authenticate Mailjet's event callbacks, whose only mechanism is HTTP basic
// auth, as an admin submits them; the brand keeps them as a MailjetCallback.
type BasicCredentials struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// validate: both or neither, and a password of 16 to 256 characters. Messages never quote them.
func (c BasicCredentials) validate() error {
	switch {
	case (c.Username == "") != (c.Password == ""):
		return Errorf(CodeInvalid, "mailjetCallback needs both username and password")
	case c.Username != "" && !plainText(c.Username, 256):
		return Errorf(CodeInvalid, "mailjetCallback.username must be at most 256 characters without control characters")
	case c.Password != "" && (len(c.Password) < 16 || len(c.Password) > 256):
		return Errorf(CodeInvalid, "mailjetCallback.password must be 16 to 256 characters")
	}
	return nil
}

// MailjetCallback is how a brand keeps its Mailjet callback credentials: the username, and the
// keyed digest of the password, never the password itself (as the SCIM token). A document
// written before holds a clear "password", which decodes to nothing: that brand's callbacks
// are refused until an admin puts its settings again.
type MailjetCallback struct {
	Username       string `json:"username,omitempty"`
	PasswordDigest string `json:"passwordDigest,omitempty"`
}

// mailjetPasswordDigest is how a brand's callback password is kept: keyed, and apart from
// every other digest of the same value.
func mailjetPasswordDigest(h *Hasher, password string) string {
	return h.Digest(mailjetPasswordInput(password))
}

// mailjetPasswordInput is what a callback password's digest is made of.
func mailjetPasswordInput(password string) string {
	return "mailjet-callback-password|" + password
}

// Retention holds every per-brand duration of R-RET and R-ERASE (R-TEN-2). Zero fields take
// the defaults of DefaultRetention.
type Retention struct {
	Inactivity           Period `json:"inactivity"`           // R-RET-1 members without login
	InactivityWarning1   Period `json:"inactivityWarning1"`   // R-RET-1 first warning, before the mark
	InactivityWarning2   Period `json:"inactivityWarning2"`   // R-RET-1 second warning, before the mark
	ExternalInactivity   Period `json:"externalInactivity"`   // R-RET-2
	ContactInactivity    Period `json:"contactInactivity"`    // R-RET-3
	NewContactInvitation Period `json:"newContactInvitation"` // R-RET-4
	// InvitationPending is the guide's one "no response" parameter: an invitation's wait
	// before the automatic second one, the second one's wait before "opt-out no action", the
	// life of an invitation link (R-RET-5), and the wait for a pop-in confirmation (R-RET-6).
	InvitationPending Period `json:"invitationPending"`
	OptedOutContact   Period `json:"optedOutContact"`   // R-RET-7
	ErasureGrace      Period `json:"erasureGrace"`      // R-ERASE-5
	SuspendedProgram  Period `json:"suspendedProgram"`  // R-ERASE-8
	OptInTokenTTL     Period `json:"optInTokenTTL"`     // R-SIGNUP-2
	UnconfirmedSignup Period `json:"unconfirmedSignup"` // unconfirmed member signups
	// ExportLink is how long an export's link, and its file, live (R-ACCESS-3): 48 hours at
	// most, 1 hour at least.
	ExportLink Period `json:"exportLink"`
}

// DefaultRetention is the schedule of the Data Protection Guide.
func DefaultRetention() Retention {
	return Retention{
		Inactivity:           Period{Years: 3},
		InactivityWarning1:   Period{Days: 30},
		InactivityWarning2:   Period{Days: 15},
		ExternalInactivity:   Period{Years: 3},
		ContactInactivity:    Period{Years: 3},
		NewContactInvitation: Period{Days: 30},
		InvitationPending:    Period{Days: 15},
		OptedOutContact:      Period{Years: 1},
		ErasureGrace:         Period{Days: 7},
		SuspendedProgram:     Period{Months: 6},
		OptInTokenTTL:        Period{Exact: 24 * time.Hour},
		UnconfirmedSignup:    Period{Days: 15},
		ExportLink:           MaxExportLink,
	}
}

// fields lists the retention fields by name, so defaulting and validation are written once.
func (r *Retention) fields() []struct {
	name string
	p    *Period
} {
	return []struct {
		name string
		p    *Period
	}{
		{"inactivity", &r.Inactivity}, {"inactivityWarning1", &r.InactivityWarning1},
		{"inactivityWarning2", &r.InactivityWarning2}, {"externalInactivity", &r.ExternalInactivity},
		{"contactInactivity", &r.ContactInactivity}, {"newContactInvitation", &r.NewContactInvitation},
		{"invitationPending", &r.InvitationPending}, {"optedOutContact", &r.OptedOutContact},
		{"erasureGrace", &r.ErasureGrace}, {"suspendedProgram", &r.SuspendedProgram},
		{"optInTokenTTL", &r.OptInTokenTTL}, {"unconfirmedSignup", &r.UnconfirmedSignup},
		{"exportLink", &r.ExportLink},
	}
}

// WithDefaults fills every zero duration from DefaultRetention.
func (r Retention) WithDefaults() Retention {
	d := DefaultRetention()
	own, def := r.fields(), d.fields()
	for i := range own {
		if own[i].p.IsZero() {
			*own[i].p = *def[i].p
		}
	}
	return r
}

// Bounds of the per-brand durations (R-TEN-2). The guide: "Personal Data is never kept in the
// Popsell databases for more than 3 years after the last action performed by the user. This
// deadline may be shortened if required by the Brand." So no duration passes 3 years; a
// suspended program keeps data "for a maximum of 6 months" (R-ERASE-8). Links and the grace
// period are short by nature.
var (
	MaxRetention        = Period{Years: 3}
	MaxSuspendedProgram = Period{Months: 6}
	MaxOptInTokenTTL    = Period{Days: 30}
	MaxErasureGrace     = Period{Days: 90}
)

// maxOf is the longest value a retention field may take.
func maxOf(name string) Period {
	switch name {
	case "optInTokenTTL":
		return MaxOptInTokenTTL
	case "erasureGrace":
		return MaxErasureGrace
	case "suspendedProgram":
		return MaxSuspendedProgram
	case "exportLink":
		return MaxExportLink
	}
	return MaxRetention
}

// Validate refuses negative, empty or overlong durations and warnings that do not fall before
// the inactivity mark.
func (r Retention) Validate() error {
	for _, f := range r.fields() {
		if max := maxOf(f.name); !f.p.Positive() || f.p.Longer(max) {
			return Errorf(CodeInvalid, "retention.%s must be a positive duration of at most %s", f.name, max)
		}
	}
	if MinExportLink.Longer(r.ExportLink) {
		return Errorf(CodeInvalid, "retention.exportLink must be at least %s", MinExportLink)
	}
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	mark := r.Inactivity.AddTo(now)
	w1, w2 := r.InactivityWarning1.SubFrom(mark), r.InactivityWarning2.SubFrom(mark)
	if !w1.Before(w2) || !now.Before(w1) {
		return Errorf(CodeInvalid, "retention: inactivityWarning1 must be longer than inactivityWarning2 and both shorter than inactivity")
	}
	return nil
}

// FieldRequirement says whether a signup field is asked, and whether it must be filled
// (R-SIGNUP-6).
type FieldRequirement string

const (
	FieldRequired FieldRequirement = "required"
	FieldOptional FieldRequirement = "optional"
	FieldNotAsked FieldRequirement = "not_asked"
)

// SignupFields are the configurable signup fields.
var SignupFields = []string{"firstName", "lastName", "alias", "dateOfBirth", "position", "customerId", "language", "title"}

// fieldChoices is the guide's field table (R-SIGNUP-6): per signup field, the requirements a
// brand may choose, the default first. Alias ("Required or Not asked for"), last name
// ("Required or Optional"), title ("Optional or Not asked for"), customer id, date of birth and
// position ("Optional (unless required by brand)"). The table gives first name and preferred
// language no requirement: a brand chooses freely.
var fieldChoices = map[string][]FieldRequirement{
	"alias":       {FieldNotAsked, FieldRequired},
	"lastName":    {FieldOptional, FieldRequired},
	"title":       {FieldOptional, FieldNotAsked},
	"customerId":  {FieldOptional, FieldRequired},
	"dateOfBirth": {FieldOptional, FieldRequired},
	"position":    {FieldOptional, FieldRequired},
	"firstName":   {FieldOptional, FieldRequired, FieldNotAsked},
	"language":    {FieldOptional, FieldRequired, FieldNotAsked},
}

// FieldRules maps a signup field to its requirement; a field absent from the map takes its
// default, the first of its choices: optional, but alias, which the guide does not let be
// optional, is not asked until the brand requires it.
type FieldRules map[string]FieldRequirement

// Requirement of field.
func (f FieldRules) Requirement(field string) FieldRequirement {
	if r, ok := f[field]; ok {
		return r
	}
	if c, ok := fieldChoices[field]; ok {
		return c[0]
	}
	return FieldOptional
}

// Validate refuses an unknown field, an unknown requirement, and a requirement the guide's
// field table does not allow that field, naming the field (R-SIGNUP-6).
func (f FieldRules) Validate() error {
	for _, name := range slices.Sorted(maps.Keys(f)) {
		req := f[name]
		choices, known := fieldChoices[name]
		if !known {
			return Errorf(CodeInvalid, "fields: unknown field name; the fields are %s", strings.Join(SignupFields, ", "))
		}
		if req != FieldRequired && req != FieldOptional && req != FieldNotAsked {
			return Errorf(CodeInvalid, "fields.%s must be required, optional or not_asked", name)
		}
		if !slices.Contains(choices, req) {
			allowed := make([]string, len(choices))
			for i, c := range choices {
				allowed[i] = string(c)
			}
			slices.Sort(allowed)
			return Errorf(CodeInvalid, "fields.%s may be %s only, as the data-protection guide allows (R-SIGNUP-6)", name, strings.Join(allowed, " or "))
		}
	}
	return nil
}

// MailSettings are a brand's sender and its provider templates (issue #11). Left out, mail
// goes from the platform's default sender with the built-in texts.
type MailSettings struct {
	From Sender `json:"from,omitzero"`
	// Templates maps a mail kind to the provider's template id for it; a kind left out is
	// sent with the built-in subject, text and HTML.
	Templates map[MailKind]int64 `json:"templates,omitempty"`
	// TemplatesByLanguage maps a language, then a mail kind, to the provider's template for
	// readers of that language; it wins over Templates, which serve every other language.
	TemplatesByLanguage map[string]map[MailKind]int64 `json:"templatesByLanguage,omitempty"`
	// SoftBounces is the brand's soft-bounce policy; off (the zero value) by default, when a
	// soft bounce sets the email status only (R-MAIL-2).
	SoftBounces SoftBouncePolicy `json:"softBounces,omitzero"`
}

// TemplateFor is the provider's template for a mail of kind to a reader of lang, 0 for the
// built-in texts.
func (m MailSettings) TemplateFor(kind MailKind, lang string) int64 {
	if id := m.TemplatesByLanguage[lang][kind]; id != 0 {
		return id
	}
	return m.Templates[kind]
}

// SoftBouncePolicy suppresses mail to an address after Limit soft bounces in a row, the
// first and the last within Window, until a mail to it is delivered or the member releases
// it. Limit 0 turns it off.
type SoftBouncePolicy struct {
	Limit  int    `json:"limit"`
	Window Period `json:"window,omitzero"`
}

// The bounds of a soft-bounce policy: a single bounce is what R-MAIL-2 already handles, and
// more than 20 in a row, or a window past 90 days, no longer says anything of a mailbox now.
const (
	MinSoftBounceLimit = 2
	MaxSoftBounceLimit = 20
)

var (
	minSoftBounceWindow = Period{Exact: time.Hour}
	maxSoftBounceWindow = Period{Days: 90}
)

// On reports a policy in force.
func (p SoftBouncePolicy) On() bool { return p.Limit > 0 }

// Validate checks the policy's bounds.
func (p SoftBouncePolicy) Validate() error {
	if p == (SoftBouncePolicy{}) {
		return nil
	}
	if p.Limit < MinSoftBounceLimit || p.Limit > MaxSoftBounceLimit {
		return Errorf(CodeInvalid, "mail.softBounces.limit must be from %d to %d (leave softBounces out to turn the policy off)", MinSoftBounceLimit, MaxSoftBounceLimit)
	}
	if !p.Window.Positive() || minSoftBounceWindow.Longer(p.Window) || p.Window.Longer(maxSoftBounceWindow) {
		return Errorf(CodeInvalid, "mail.softBounces.window must be from PT1H to P90D")
	}
	return nil
}

// MailKinds are the kinds of mail the service sends.
var MailKinds = []MailKind{MailSignupConfirmation, MailAccountExists, MailInactivityWarning, MailContactInvitation}

// Validate checks the sender's address and name and that each template names a known kind.
func (m MailSettings) Validate() error {
	if err := m.SoftBounces.Validate(); err != nil {
		return err
	}
	if m.From != (Sender{}) && !ValidEmail(NormalizeEmail(m.From.Email)) {
		return Errorf(CodeInvalid, "mail.from.email must be a valid email address")
	}
	if !plainText(m.From.Name, 100) {
		return Errorf(CodeInvalid, "mail.from.name must be at most 100 characters without control characters")
	}
	return validateTemplateIDs("mail.templates", m.Templates)
}

// validateTemplateIDs checks that each template names a known kind and a positive id.
func validateTemplateIDs(field string, templates map[MailKind]int64) error {
	for kind, id := range templates {
		if !slices.Contains(MailKinds, kind) {
			return Errorf(CodeInvalid, "%s: unknown mail kind; the kinds are %s", field, joinKinds(MailKinds))
		}
		if id <= 0 {
			return Errorf(CodeInvalid, "%s.%s must be a positive template id", field, kind)
		}
	}
	return nil
}

func joinKinds(kinds []MailKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Validate checks a brand's settings as an admin submits them.
func (b Brand) Validate() error {
	switch {
	case !b.ID.Valid():
		return Errorf(CodeInvalid, "brand id must be 1-63 lower-case letters, digits or hyphens")
	case b.Name == "" || len(b.Name) > 200:
		return Errorf(CodeInvalid, "name is required (at most 200 characters)")
	case !b.Pro.Valid():
		return Errorf(CodeInvalid, "pro must be 0 (classic), 2 (direct selling), 3 or 4 (selective sale)")
	case b.WebhookSecret != "" && !validWebhookSecret(b.WebhookSecret):
		return Errorf(CodeInvalid, "webhookSecret must be whsec_ followed by base64 of 24 to 64 bytes")
	case b.PreviousWebhookSecret != "" && !validWebhookSecret(b.PreviousWebhookSecret):
		return Errorf(CodeInvalid, "previousWebhookSecret must be whsec_ followed by base64 of 24 to 64 bytes")
	case (b.MailjetCallback.Username == "") != (b.MailjetCallback.PasswordDigest == ""):
		return Errorf(CodeInvalid, "mailjetCallback needs both username and password")
	}
	if err := b.Retention.Validate(); err != nil {
		return err
	}
	if err := b.Mail.Validate(); err != nil {
		return err
	}
	if err := b.validatePresentation(); err != nil {
		return err
	}
	return b.Fields.Validate()
}

// Ended reports a brand whose contract has ended.
func (b Brand) Ended() bool { return b.Status == BrandEnded }

// Suspended reports a brand whose program is suspended (R-ERASE-8).
func (b Brand) Suspended() bool { return b.Status == BrandSuspended && b.Suspension != nil }

func (b Brand) String() string { return fmt.Sprintf("brand(%s)", b.ID) }

// validWebhookSecret: Standard Webhooks secrets are "whsec_" + base64 of the key bytes.
func validWebhookSecret(s string) bool {
	key, ok := WebhookSecretKey(s)
	return ok && len(key) >= 24 && len(key) <= 64
}

// scimTokenDigest is how a brand's SCIM bearer token is kept: keyed, and apart from every other
// digest of the same value.
func scimTokenDigest(h *Hasher, token string) string { return h.Digest(scimTokenInput(token)) }

// scimTokenInput is what a SCIM token's digest is made of.
func scimTokenInput(token string) string { return "scim-token|" + token }

// WebhookKeys are the HMAC keys that verify the brand's webhooks: the current secret's, then
// the previous one's while a rotation is under way (R-SSO-3).
func (b Brand) WebhookKeys() [][]byte {
	var keys [][]byte
	for _, s := range []string{b.WebhookSecret, b.PreviousWebhookSecret} {
		if key, ok := WebhookSecretKey(s); ok && s != "" {
			keys = append(keys, key)
		}
	}
	return keys
}

// WebhookSecretKey decodes a "whsec_" secret into its HMAC key.
func WebhookSecretKey(s string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return nil, false
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	return key, err == nil
}
