package httpapi

import (
	"io"
	"net/http"

	"popsell-gdpr/internal/gdpr"
)

// exportDownload serves an export's file by its link's token (R-ACCESS-3): a malformed token
// 400, an unknown one 404, an expired, exhausted or deleted one 410. Nothing of it may be
// cached on the way: the file is personal data and the link counts its downloads.
func (a *api) exportDownload(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	d, err := a.exports.Download(r.Context(), brandParam(r), r.PathValue("token"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer d.Body.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.Filename+`"`)
	if _, err := io.Copy(w, d.Body); err != nil {
		// Headers are sent: the client sees a cut body, and the download stays counted.
		a.log.ErrorContext(r.Context(), "export download cut short", "route", r.Pattern, "code", string(gdpr.ErrorCode(err)))
		panic(http.ErrAbortHandler)
	}
}
