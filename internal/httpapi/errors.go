package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"popsell-gdpr/internal/gdpr"
)

// statusOf is the one map from domain error codes to HTTP statuses.
var statusOf = map[gdpr.Code]int{
	gdpr.CodeInvalid:         http.StatusBadRequest,
	gdpr.CodeUnauthenticated: http.StatusUnauthorized,
	gdpr.CodeForbidden:       http.StatusForbidden,
	gdpr.CodeNotFound:        http.StatusNotFound,
	gdpr.CodeConflict:        http.StatusConflict,
	gdpr.CodeGone:            http.StatusGone,
	gdpr.CodePrecondition:    http.StatusPreconditionFailed,
	gdpr.CodeTooMany:         http.StatusTooManyRequests,
	gdpr.CodeNotImplemented:  http.StatusNotImplemented,
	gdpr.CodeUnavailable:     http.StatusServiceUnavailable,
	gdpr.CodeInternal:        http.StatusInternalServerError,
}

// httpError is an error of the HTTP layer itself (size, media type), beside domain errors.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.code + ": " + e.message }

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers {"error":{"code","message"}}. Domain messages carry no personal data by
// construction; anything unexpected is answered as a generic internal error and logged by
// class only.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		he   *httpError
		de   *gdpr.Error
		body errorBody
		st   int
	)
	switch {
	case errors.As(err, &he):
		st, body.Error.Code, body.Error.Message = he.status, he.code, he.message
	case errors.As(err, &de) && de.Code != gdpr.CodeInternal:
		st, body.Error.Code, body.Error.Message = statusOf[de.Code], string(de.Code), de.Message
	case errors.Is(err, r.Context().Err()) && r.Context().Err() != nil:
		st, body.Error.Code, body.Error.Message = http.StatusServiceUnavailable, string(gdpr.CodeUnavailable), "request cancelled"
	default:
		st, body.Error.Code, body.Error.Message = http.StatusInternalServerError, string(gdpr.CodeInternal), "internal error"
		// The cause may come from a driver; its text is not shown to clients. Domain and
		// store errors are built without personal data, so the log may keep it.
		a.log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "err", err)
	}
	if st == 0 {
		st = http.StatusInternalServerError
	}
	if st == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1") // what is busy or down now is usually back in a second
	}
	writeJSON(w, st, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
