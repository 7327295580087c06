package httpapi

import (
	"bufio"
	"net/http"

	"popsell-gdpr/internal/gdpr"
)

// sealView is a seal as the seals route lists it: its leaves are in the export.
type sealView struct {
	Day      string `json:"day"`
	Count    int    `json:"count"`
	Root     string `json:"root"`
	Previous string `json:"previous"`
}

// ledgerSeals lists a brand's sealed days (R-ERASE-9).
func (a *api) ledgerSeals(w http.ResponseWriter, r *http.Request) {
	seals, err := a.ledger.Seals(r.Context(), brandParam(r))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	views := make([]sealView, len(seals))
	for i, s := range seals {
		views[i] = sealView{Day: s.Day, Count: s.Count, Root: s.Root, Previous: s.Previous}
	}
	writeJSON(w, http.StatusOK, sealsAnswer{Seals: views})
}

// ledgerProof answers one record's inclusion proof: an auditor checks one subject's
// erasure without seeing any other record (R-ERASE-9).
func (a *api) ledgerProof(w http.ResponseWriter, r *http.Request) {
	p, err := a.ledger.Proof(r.Context(), brandParam(r), r.PathValue("record"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// ledgerExport streams the brand's whole ledger as JSON Lines, what tools/ledgerverify reads.
// Past the first byte an error can no longer change the status: the connection is cut, so
// the client sees a broken transfer rather than an export that merely looks shorter.
func (a *api) ledgerExport(w http.ResponseWriter, r *http.Request) {
	out := &startedWriter{w: w}
	buf := bufio.NewWriterSize(out, 64<<10)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	err := a.ledger.Export(r.Context(), brandParam(r), buf)
	if err == nil {
		err = buf.Flush()
	}
	switch {
	case err == nil:
	case !out.started:
		w.Header().Del("Content-Type")
		a.writeError(w, r, err)
	default:
		a.log.ErrorContext(r.Context(), "ledger export cut short", "route", r.Pattern, "code", string(gdpr.ErrorCode(err)))
		panic(http.ErrAbortHandler)
	}
}

// startedWriter notes whether anything reached the client.
type startedWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}
