package httpapi

import (
	"net/http"

	"popsell-gdpr/internal/gdpr"
)

// dataMap answers GET /api/admin/datamap: every stored field classified, per subject kind
// and derived table, with the purposes the fields name. It is the same map erasure is
// checked against and the documents in docs/ are generated from, so it cannot drift from
// them.
func (a *api) dataMap(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, dataMapAnswer{Tables: gdpr.DataMap(), Purposes: gdpr.Purposes})
}
