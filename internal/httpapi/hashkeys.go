package httpapi

import (
	"net/http"

	"popsell-gdpr/internal/gdpr"
)

// The hash-key rotation's admin routes (gdpr/rotation.go): what each key version is used by,
// the re-keying job, and the check before a version is retired.

// hashKeyBrand is the ?brand= a route is narrowed to, "" for every brand.
func hashKeyBrand(r *http.Request) gdpr.BrandID { return gdpr.BrandID(r.URL.Query().Get("brand")) }

// hashKeys answers the stored digests per form and per version, of one brand or all.
func (a *api) hashKeys(w http.ResponseWriter, r *http.Request) {
	report, err := a.hashKeyService.Report(r.Context(), hashKeyBrand(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, report)
}

// rekeyHashKeys runs the re-keying: idempotent, so one cut short ("done": false) is sent again.
func (a *api) rekeyHashKeys(w http.ResponseWriter, r *http.Request) {
	if err := optionalEmptyBody(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := a.hashKeyService.Rekey(r.Context(), hashKeyBrand(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// retireHashKey is the check an operator runs before naming a version in
// GDPR_HASH_KEYS_RETIRED: 409 while stored digests still need it, 200 with its use when
// nothing does. The key set itself is configuration, read only at start.
func (a *api) retireHashKey(w http.ResponseWriter, r *http.Request) {
	if err := optionalEmptyBody(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	version := r.PathValue("version")
	if !gdpr.ValidKeyVersion(version) {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeNotFound, "no such hash key version"))
		return
	}
	vr, err := a.hashKeyService.CheckRetire(r.Context(), version)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, vr)
}
