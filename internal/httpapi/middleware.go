package httpapi

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/scim"
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

// MaxBytesInFlight bounds the request bodies being handled at once, each counted at what it
// may hold: its declared length, or its route's limit when it declares none (chunked). That
// is two full Mailjet callbacks, 32 bodies of unknown size on the API, or 8 envelopes being
// read; decoding costs a few times its body, so this keeps a burst of large bodies to a
// bounded share of memory (issue 24).
const MaxBytesInFlight = 32 << 20

func (a *api) initBodyBudget() { a.bodyBudget = semaphore.NewWeighted(MaxBytesInFlight) }

// limitBodies bounds every body: /api/* ones by MaxBodyBytes (a Mailjet callback by
// MaxMailEventBytes), the host's function envelopes by azfunc.MaxInvocationBytes, which a
// whole Service Bus message fits in once the host has escaped it. A real message larger than
// the API's limit used to fail, be retried and end dead-lettered.
//
// It also reserves the body's size in the budget of bytes in flight before the handler reads
// it, and releases it when the handler returns. An /api/* body past the budget is answered
// 503 with Retry-After, unread: Mailjet and the brands retry. The host's envelopes wait for
// the budget instead, since a failed delivery counts towards dead-lettering the message, and
// the host bounds how many it sends at once.
func (a *api) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(MaxBodyBytes)
		envelope := !strings.HasPrefix(r.URL.Path, "/api/")
		switch {
		case envelope:
			limit = azfunc.MaxInvocationBytes
		case strings.HasSuffix(r.URL.Path, "/mailjet/events"):
			limit = MaxMailEventBytes
		}
		if n := reservation(r, limit); n > 0 {
			switch {
			case envelope:
				if a.bodyBudget.Acquire(r.Context(), n) != nil {
					azfunc.WriteFailure(w, http.StatusServiceUnavailable) // the host has gone
					return
				}
			case !a.bodyBudget.TryAcquire(n):
				a.refuseBusy(w, r)
				return
			}
			body := &reservedBody{ReadCloser: r.Body, budget: a.bodyBudget, held: n}
			defer body.release()
			r.Body = body
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit+1)
		next.ServeHTTP(w, r)
	})
}

// reservation is what a body may hold: its declared length, or limit when it declares none or
// more (a handler reads at most one byte past limit, and refuses the body).
func reservation(r *http.Request, limit int64) int64 {
	if r.ContentLength >= 0 && r.ContentLength <= limit {
		return r.ContentLength
	}
	return limit
}

// refuseBusy answers a body past the budget of bytes in flight, as SCIM does on its routes.
func (a *api) refuseBusy(w http.ResponseWriter, r *http.Request) {
	const msg = "too many large requests at once; try again in a moment"
	if strings.Contains(r.URL.Path, "/scim/") {
		w.Header().Set("Retry-After", "1")
		scim.WriteError(w, scim.NewError(http.StatusServiceUnavailable, "", msg))
		return
	}
	a.writeError(w, r, &httpError{http.StatusServiceUnavailable, string(gdpr.CodeUnavailable), msg})
}

// reservedBody is a body holding its reservation in the budget of bytes in flight. Once read
// to its end it keeps only what it read (a chunked body reserved its route's whole limit);
// release gives back the rest when the handler returns.
type reservedBody struct {
	io.ReadCloser
	budget *semaphore.Weighted

	mu   sync.Mutex
	held int64 // still reserved
	read int64
}

func (b *reservedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.read += int64(n)
	if err == io.EOF && b.held > b.read {
		b.budget.Release(b.held - b.read)
		b.held = b.read
	}
	return n, err
}

func (b *reservedBody) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held > 0 {
		b.budget.Release(b.held)
		b.held = 0
	}
}
