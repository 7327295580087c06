package gdpr

import (
	"context"
	"errors"
	"strings"
	"time"
)

// BrandSettings is what an admin submits for a brand. PUT semantics: settings left out take
// their defaults; the brand's lifecycle (status, contract end, creation time) is kept. The
// secrets (webhookSecret, previousWebhookSecret, scimToken, mailjetCallback) are write-only:
// never read back, kept when Keep names them (a request that left them out), removed when
// given empty (JSON null).
type BrandSettings struct {
	Name             string `json:"name"`
	Pro              Pro    `json:"pro"`
	SSOExclusive     bool   `json:"ssoExclusive"`
	WhitelistEnabled bool   `json:"whitelistEnabled"`
	WebhookSecret    string `json:"webhookSecret"`
	// PreviousWebhookSecret keeps verifying webhooks signed with the old secret during a
	// rotation; drop it once the brand signs with the new one only.
	PreviousWebhookSecret string `json:"previousWebhookSecret"`
	// SCIMToken is the bearer token the brand's identity provider sends to the SCIM routes
	// (32 to 256 characters); only its keyed digest is kept.
	SCIMToken string `json:"scimToken"`
	// MailjetCallback are the basic-auth credentials of the brand's Mailjet callback URL
	// (password 16 to 256 characters); only the password's keyed digest is kept.
	MailjetCallback BasicCredentials `json:"mailjetCallback"`
	Mail            MailSettings     `json:"mail"`
	Retention       Retention        `json:"retention"`
	Fields          FieldRules       `json:"fields"`
	Contacts        ContactSettings  `json:"contacts"`
	Identity        BrandIdentity    `json:"identity"`
	DefaultLanguage string           `json:"defaultLanguage"`
	TimeZone        string           `json:"timeZone"`

	// Keep names the secrets the request left out, which keep their stored value: a whole
	// document replaced without them silently dropped the Mailjet callback credentials
	// (issue #17 item 8). The zero value replaces every secret.
	Keep KeptSecrets `json:"-"`
}

// KeptSecrets names the write-only settings a request left out.
type KeptSecrets struct {
	WebhookSecret, PreviousWebhookSecret, SCIMToken, MailjetCallback bool
}

// Settings are the brand's settings as an admin would submit them again, secrets aside: the
// document a merge patch applies to.
func (b Brand) Settings() BrandSettings {
	return BrandSettings{Name: b.Name, Pro: b.Pro, SSOExclusive: b.SSOExclusive, WhitelistEnabled: b.WhitelistEnabled,
		Mail: b.Mail, Retention: b.Retention.WithDefaults(), Fields: b.Fields, Contacts: b.Contacts,
		Identity: b.Identity, DefaultLanguage: b.DefaultLanguage, TimeZone: b.TimeZone}
}

// settingsWriters bounds the attempts of a settings write: that many admins and sweeps
// writing one brand at once all land (retryUpTo); a brand has a handful.
const settingsWriters = 64

// PutBrand creates or replaces a brand's settings. It reports whether the brand was created.
func (s *BrandService) PutBrand(ctx context.Context, id BrandID, in BrandSettings) (Brand, bool, error) {
	var (
		out     Brand
		created bool
	)
	err := retryUpTo(ctx, settingsWriters, func() error {
		now := s.clock.Now()
		b, err := s.brands.GetBrand(ctx, id)
		created = errors.Is(err, ErrNotFound)
		if err != nil && !created {
			return err
		}
		if created {
			b = Brand{ID: id, Status: BrandActive, CreatedAt: now}
		}
		if err := s.apply(&b, in, now); err != nil {
			return err
		}
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	return out, created, err
}

// PatchBrand changes an existing brand's settings by patch, which maps the settings as stored
// (secrets aside, Brand.Settings) to the new ones; the result is checked as a PUT's. patch
// runs on every attempt of a read-decide-write guarded by the brand's version, each time on
// what is stored then, so concurrent patches of different settings all land: a write that
// lost the race reads again and patches the winner's document.
func (s *BrandService) PatchBrand(ctx context.Context, id BrandID, patch func(current BrandSettings) (BrandSettings, error)) (Brand, error) {
	var out Brand
	err := retryUpTo(ctx, settingsWriters, func() error {
		b, err := s.brand(ctx, id)
		if err != nil {
			return err
		}
		in, err := patch(b.Settings())
		if err != nil {
			return err
		}
		if err := s.apply(&b, in, s.clock.Now()); err != nil {
			return err
		}
		out, err = s.brands.PutBrand(ctx, b)
		return err
	})
	return out, err
}

// apply sets b's settings to in, keeping the secrets in.Keep names, and checks the result.
func (s *BrandService) apply(b *Brand, in BrandSettings, now time.Time) error {
	b.Name = strings.TrimSpace(in.Name)
	b.Pro, b.SSOExclusive, b.WhitelistEnabled = in.Pro, in.SSOExclusive, in.WhitelistEnabled
	if !in.Keep.WebhookSecret {
		b.WebhookSecret = in.WebhookSecret
	}
	if !in.Keep.PreviousWebhookSecret {
		b.PreviousWebhookSecret = in.PreviousWebhookSecret
	}
	b.Mail = in.Mail
	if !in.Keep.MailjetCallback {
		if err := in.MailjetCallback.validate(); err != nil {
			return err
		}
		b.MailjetCallback = MailjetCallback{}
		if in.MailjetCallback.Password != "" {
			b.MailjetCallback = MailjetCallback{Username: in.MailjetCallback.Username,
				PasswordDigest: mailjetPasswordDigest(s.hasher, in.MailjetCallback.Password)}
		}
	}
	if !in.Keep.SCIMToken {
		b.SCIMTokenDigest = ""
		if in.SCIMToken != "" {
			if n := len(in.SCIMToken); n < 32 || n > 256 || !plainText(in.SCIMToken, 256) {
				return Errorf(CodeInvalid, "scimToken must be 32 to 256 characters")
			}
			b.SCIMTokenDigest = scimTokenDigest(s.hasher, in.SCIMToken)
		}
	}
	b.Retention = in.Retention.WithDefaults()
	b.Fields = in.Fields
	b.Contacts = in.Contacts
	b.Identity = in.Identity
	b.Identity.PostalAddress = strings.TrimSpace(in.Identity.PostalAddress)
	b.DefaultLanguage, b.TimeZone = in.DefaultLanguage, in.TimeZone
	b.UpdatedAt = now
	return b.Validate()
}

// GetBrand returns a brand, ended or not (admins must still read an ended brand).
func (s *BrandService) GetBrand(ctx context.Context, id BrandID) (Brand, error) {
	return s.brand(ctx, id)
}
