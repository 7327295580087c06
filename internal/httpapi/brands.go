package httpapi

import (
	"mime"
	"net/http"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// brandView is a brand as admins read it: secrets are reported as set or not, never shown.
type brandView struct {
	ID                 gdpr.BrandID      `json:"id"`
	Name               string            `json:"name"`
	Pro                gdpr.Pro          `json:"pro"`
	SSOExclusive       bool              `json:"ssoExclusive"`
	WhitelistEnabled   bool              `json:"whitelistEnabled"`
	HasWebhookSecret   bool              `json:"hasWebhookSecret"`
	HasPreviousSecret  bool              `json:"hasPreviousWebhookSecret"`
	HasMailjetCallback bool              `json:"hasMailjetCallback"`
	HasSCIMToken       bool              `json:"hasScimToken"`
	Mail               gdpr.MailSettings `json:"mail"`
	Retention          gdpr.Retention    `json:"retention"`
	Fields             gdpr.FieldRules   `json:"fields,omitempty"`
	Status             gdpr.BrandStatus  `json:"status"`
	ContractEnd        *gdpr.ContractEnd `json:"contractEnd,omitempty"`
	Suspension         *gdpr.Suspension  `json:"suspension,omitempty"`
	CreatedAt          time.Time         `json:"createdAt"`
	UpdatedAt          time.Time         `json:"updatedAt"`

	Contacts        gdpr.ContactSettings `json:"contacts"`
	Identity        gdpr.BrandIdentity   `json:"identity"`
	DefaultLanguage string               `json:"defaultLanguage"`
	TimeZone        string               `json:"timeZone"`
}

func viewBrand(b gdpr.Brand) brandView {
	return brandView{
		ID: b.ID, Name: b.Name, Pro: b.Pro, SSOExclusive: b.SSOExclusive, WhitelistEnabled: b.WhitelistEnabled,
		HasWebhookSecret: b.WebhookSecret != "", HasPreviousSecret: b.PreviousWebhookSecret != "",
		HasMailjetCallback: b.MailjetCallback.PasswordDigest != "", HasSCIMToken: b.SCIMTokenDigest != "", Mail: b.Mail,
		Retention: b.Retention.WithDefaults(), Fields: b.Fields, Contacts: b.Contacts, Status: b.Status, ContractEnd: b.ContractEnd, Suspension: b.Suspension,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
		Identity: b.Identity, DefaultLanguage: b.Language(), TimeZone: b.Location().String(),
	}
}

// putBrand replaces a brand's settings; the secrets the body leaves out keep their value.
func (a *api) putBrand(w http.ResponseWriter, r *http.Request) {
	body, err := readJSON(r, "application/json")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in gdpr.BrandSettings
	if err := unmarshalStrict(body, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	present := topLevelKeys(body)
	in.Keep = keptSecrets(func(name string) bool { return present[name] })
	b, created, err := a.brands.PutBrand(r.Context(), brandParam(r), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, viewBrand(b))
}

// patchBrand changes some of a brand's settings by a JSON Merge Patch (RFC 7396): members
// left out keep their value, null removes one (a setting removed takes its default, a secret
// is dropped), an object merges into the setting's object. The brand must exist.
func (a *api) patchBrand(w http.ResponseWriter, r *http.Request) {
	// The media type says how to read the patch (RFC 5789 §2.2); none is no answer.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != mergePatchType {
		a.writeError(w, r, &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "send " + mergePatchType})
		return
	}
	body, err := readJSON(r, mergePatchType)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	patch, err := decodeBrandPatch(body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	b, err := a.brands.PatchBrand(r.Context(), brandParam(r), patch.apply)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewBrand(b))
}

func (a *api) getBrand(w http.ResponseWriter, r *http.Request) {
	b, err := a.brands.GetBrand(r.Context(), brandParam(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewBrand(b))
}

func (a *api) addWhitelist(w http.ResponseWriter, r *http.Request) {
	var in gdpr.WhitelistInput
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	n, err := a.brands.AddWhitelist(r.Context(), brandParam(r), in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, whitelistAnswer{Added: n})
}
