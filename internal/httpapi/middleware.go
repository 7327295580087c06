package httpapi

import (
	"net/http"
	"strings"
	"time"

	"popsell-gdpr/internal/azfunc"
)

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// logRequests logs the route pattern, never the path or query: paths carry brand and member
// ids and queries carry opt-in tokens (R-OPS-1).
func (a *api) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.Pattern == "GET /{$}" {
			return // the host polls readiness every 25 ms at start
		}
		a.log.InfoContext(r.Context(), "request", "route", r.Pattern, "status", rec.status,
			"ms", float64(time.Since(start).Microseconds())/1000)
	})
}

// recoverPanics answers 500 and logs that a panic happened, without its value: a panic value
// may hold whatever data was being processed.
func (a *api) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.ErrorContext(r.Context(), "panic recovered", "route", r.Pattern)
				writeJSON(w, http.StatusInternalServerError, map[string]any{
					"error": map[string]string{"code": "internal", "message": "internal error"},
				})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// noSniff tells browsers to take every answer as the type it declares: an error quoting
// nothing can still be rendered as HTML by a guessing browser otherwise.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// limitBodies bounds every body: /api/* ones by MaxBodyBytes, the host's function envelopes
// by azfunc.MaxInvocationBytes, which a whole Service Bus message fits in once the host has
// escaped it. A real message larger than the API's limit used to fail, be retried and end
// dead-lettered.
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(MaxBodyBytes)
		switch {
		case !strings.HasPrefix(r.URL.Path, "/api/"):
			limit = azfunc.MaxInvocationBytes
		case strings.HasSuffix(r.URL.Path, "/mailjet/events"):
			limit = MaxMailEventBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit+1)
		next.ServeHTTP(w, r)
	})
}
