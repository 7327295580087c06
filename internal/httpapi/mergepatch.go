package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/jsondepth"
)

// mergePatchType is JSON Merge Patch's media type (RFC 7396), the one PATCH of brand settings
// takes.
const mergePatchType = "application/merge-patch+json"

// secretSettings are the JSON names of a brand's write-only settings: a body that leaves one
// out keeps it, null removes it, and no answer shows it.
var secretSettings = []string{"webhookSecret", "previousWebhookSecret", "scimToken", "mailjetCallback"}

// keptSecrets names the secrets a body (a JSON object, its top-level members in has) left out.
func keptSecrets(has func(name string) bool) gdpr.KeptSecrets {
	return gdpr.KeptSecrets{WebhookSecret: !has("webhookSecret"), PreviousWebhookSecret: !has("previousWebhookSecret"),
		SCIMToken: !has("scimToken"), MailjetCallback: !has("mailjetCallback")}
}

// topLevelKeys are the member names of body, a JSON object that unmarshalStrict accepted.
func topLevelKeys(body []byte) map[string]bool {
	var members map[string]json.RawMessage
	_ = json.Unmarshal(body, &members) // checked already
	keys := make(map[string]bool, len(members))
	for k := range members {
		keys[k] = true
	}
	return keys
}

// brandPatch is a merge patch of brand settings as decoded: members are the settings' own
// names (checked as a PUT body's: known, in their case, once each), values any JSON, numbers
// kept as written.
type brandPatch map[string]any

// decodeBrandPatch reads a merge patch of brand settings. A patch that is not an object
// would replace the whole document (RFC 7396 §2), which PUT is for: refused.
func decodeBrandPatch(body []byte) (brandPatch, error) {
	if err := jsondepth.Check(body, MaxJSONDepth); err != nil {
		return nil, &httpError{http.StatusBadRequest, "invalid", describeJSONError(err, &gdpr.BrandSettings{})}
	}
	if err := checkKeys(body, &gdpr.BrandSettings{}); err != nil {
		return nil, &httpError{http.StatusBadRequest, "invalid", describeJSONError(err, &gdpr.BrandSettings{})}
	}
	var patch brandPatch
	if err := decodeNumbers(body, &patch); err != nil {
		return nil, &httpError{http.StatusBadRequest, "invalid", describeJSONError(err, &gdpr.BrandSettings{})}
	}
	if patch == nil {
		return nil, &httpError{http.StatusBadRequest, "invalid", "body must be a JSON object"}
	}
	return patch, nil
}

// apply merges the patch into current, the settings as stored, and decodes the result as
// strictly as a PUT body, so a merged document is checked exactly as one sent whole. The
// secrets the patch leaves out are kept.
func (p brandPatch) apply(current gdpr.BrandSettings) (gdpr.BrandSettings, error) {
	doc, err := json.Marshal(current)
	if err != nil {
		return gdpr.BrandSettings{}, err
	}
	var target map[string]any
	if err := decodeNumbers(doc, &target); err != nil {
		return gdpr.BrandSettings{}, err
	}
	for _, name := range secretSettings {
		delete(target, name) // write-only: nothing to merge into
	}
	merged, err := json.Marshal(mergePatch(target, map[string]any(p)))
	if err != nil {
		return gdpr.BrandSettings{}, err
	}
	var out gdpr.BrandSettings
	if err := unmarshalStrict(merged, &out); err != nil {
		return gdpr.BrandSettings{}, err
	}
	out.Keep = keptSecrets(func(name string) bool { _, ok := p[name]; return ok })
	return out, nil
}

// mergePatch is RFC 7396 §2's MergePatch(target, patch). It builds new objects and never
// changes patch, which a retried write applies again to a fresh target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	out := make(map[string]any, len(t)+len(p))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = mergePatch(out[k], v)
		}
	}
	return out
}

// decodeNumbers decodes one JSON value into v with numbers kept as their text (json.Number):
// a patch goes through a generic tree, and a float64 would re-spell what it carries.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
