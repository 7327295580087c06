package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"popsell-gdpr/internal/gdpr"
)

// The codes a refused removal answers with, so a client tells them apart without reading
// the message.
const (
	codeNeedsOwnConsent = "needs_own_consent" // 409: a complaint or a global opt-out; only the person lifts it
	codeRelisted        = "relisted"          // 409: an event listed the address again meanwhile
	codeNotListed       = "not_listed"        // 404: nothing to remove
)

// blacklistLookupQuery reads GET …/blacklist?email=: exactly one email and nothing else. The
// address in a URL ends up in access logs (the host's, a proxy's): the POST form keeps it in
// the body.
func blacklistLookupQuery(raw string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", gdpr.Errorf(gdpr.CodeInvalid, "the query string is malformed")
	}
	emails := q["email"]
	if len(emails) != 1 || len(q) != 1 {
		return "", gdpr.Errorf(gdpr.CodeInvalid, "the query takes one email parameter and nothing else")
	}
	return emails[0], nil
}

// blacklistLookupBody is the POST form of a lookup.
type blacklistLookupBody struct {
	Email string `json:"email"`
}

// blacklistRemovalBody is the body of a DELETE.
type blacklistRemovalBody struct {
	Email       string          `json:"email"`
	Reason      gdpr.RemovalWhy `json:"reason"`
	RequestedBy string          `json:"requestedBy"`
}

func (a *api) lookupBlacklistByQuery(w http.ResponseWriter, r *http.Request) {
	email, err := blacklistLookupQuery(r.URL.RawQuery)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.answerLookup(w, r, email)
}

func (a *api) lookupBlacklistByBody(w http.ResponseWriter, r *http.Request) {
	var in blacklistLookupBody
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.answerLookup(w, r, in.Email)
}

func (a *api) answerLookup(w http.ResponseWriter, r *http.Request, email string) {
	st, err := a.blacklist.Lookup(r.Context(), brandParam(r), email)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *api) removeBlacklist(w http.ResponseWriter, r *http.Request) {
	var in blacklistRemovalBody
	if err := decodeJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	rec, err := a.blacklist.Remove(r.Context(), brandParam(r), gdpr.BlacklistRemovalRequest{Email: in.Email, Why: in.Reason, RequestedBy: in.RequestedBy})
	switch {
	case errors.Is(err, gdpr.ErrRemovalNeedsConsent):
		err = &httpError{http.StatusConflict, codeNeedsOwnConsent, gdpr.ErrRemovalNeedsConsent.Message}
	case errors.Is(err, gdpr.ErrRelisted):
		err = &httpError{http.StatusConflict, codeRelisted, gdpr.ErrRelisted.Message}
	case errors.Is(err, gdpr.ErrNotListed):
		err = &httpError{http.StatusNotFound, codeNotListed, gdpr.ErrNotListed.Message}
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, blacklistRemovedAnswer{Removed: true, Removal: rec})
}

func (a *api) listBlacklistRemovals(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 1000
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			a.writeError(w, r, gdpr.Errorf(gdpr.CodeInvalid, "limit must be a number from 1 to 1000"))
			return
		}
		limit = n
	}
	recs, err := a.blacklist.ListRemovals(r.Context(), brandParam(r), q.Get("after"), limit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if recs == nil {
		recs = []gdpr.BlacklistRemoval{}
	}
	body := blacklistRemovalsAnswer{Removals: recs}
	if len(recs) == limit {
		body.Next = recs[len(recs)-1].ID
	}
	writeJSON(w, http.StatusOK, body)
}
