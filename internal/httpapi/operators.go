package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// HealthCheck is one dependency that GET /api/health?deep=1 reaches: the store, the blobs,
// the ledger. Check answers nil when the dependency answered at all, a not-found included.
type HealthCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// deepHealthTimeout bounds a deep health check: an operator's probe must answer even when a
// dependency hangs, and say which one.
const deepHealthTimeout = 3 * time.Second

// health answers liveness at once and reads nothing: the host and load balancers poll it.
// With deep=1 (admin only: it costs requests and says which dependency fails) it asks every
// health check at once within deepHealthTimeout, and answers 503 if one failed.
func (a *api) health(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("deep") == "" {
		writeJSON(w, http.StatusOK, healthAnswer{Status: "ok", Version: a.version})
		return
	}
	if !a.isAdmin(r) {
		a.refuseAdmin(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), deepHealthTimeout)
	defer cancel()
	checks := make(map[string]string, len(a.healthChecks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	status, code := "ok", http.StatusOK
	for _, c := range a.healthChecks {
		wg.Go(func() {
			err := c.Check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				checks[c.Name] = "ok"
				return
			}
			// The class only: an adapter's error may carry an endpoint or a key name.
			checks[c.Name] = "failed"
			if ctx.Err() != nil {
				checks[c.Name] = "timeout"
			}
			status, code = "degraded", http.StatusServiceUnavailable
			a.log.Warn("deep health check failed", "check", c.Name, "timeout", ctx.Err() != nil)
		})
	}
	wg.Wait()
	writeJSON(w, code, healthAnswer{Status: status, Version: a.version, Checks: checks})
}

// DeadLetters administers local mode's dead letters. What a listing shows is the adapter's:
// ids, reasons and times, never a body (a body names subjects, and a dead letter outlives
// nothing by being shown).
type DeadLetters interface {
	ListDeadLetters(ctx context.Context, queue string) (any, error)
	// ReplayDeadLetter gives the dead letter ref of queue fresh deliveries; an unknown ref is
	// gdpr.ErrNotFound.
	ReplayDeadLetter(ctx context.Context, queue, ref string) error
}

// deadLetterRef: a dead letter's sequence number, 1 to 19 digits.
func deadLetterRef(s string) bool {
	if len(s) == 0 || len(s) > 19 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// queueParam is the {queue} of a path if a queue function consumes it.
func (a *api) queueParam(r *http.Request) (string, bool) {
	name := r.PathValue("queue")
	for _, q := range a.triggers.Queues {
		if q.Queue == name {
			return name, true
		}
	}
	return "", false
}

func (a *api) deadLetterAdmin(w http.ResponseWriter, r *http.Request) (string, bool) {
	if a.deadLetters == nil {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeNotImplemented,
			"dead letters are Service Bus's in Azure mode: list and resubmit them with Service Bus Explorer (README, Operations)"))
		return "", false
	}
	queue, ok := a.queueParam(r)
	if !ok {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeNotFound, "no such queue"))
		return "", false
	}
	return queue, true
}

func (a *api) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	queue, ok := a.deadLetterAdmin(w, r)
	if !ok {
		return
	}
	list, err := a.deadLetters.ListDeadLetters(r.Context(), queue)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deadLettersAnswer{Queue: queue, DeadLetters: list})
}

// replayDeadLetter puts one dead letter back on its queue. Replaying twice is harmless: the
// second finds no dead letter (404), and consumers are idempotent anyway.
func (a *api) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	queue, ok := a.deadLetterAdmin(w, r)
	if !ok {
		return
	}
	ref := r.PathValue("ref")
	if !deadLetterRef(ref) {
		a.writeError(w, r, gdpr.Errorf(gdpr.CodeNotFound, "dead letter not found"))
		return
	}
	if err := a.deadLetters.ReplayDeadLetter(r.Context(), queue, ref); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.log.Info("dead letter replayed", "queue", queue, "ref", ref)
	writeJSON(w, http.StatusOK, requeuedAnswer{Queue: queue, Ref: ref, Status: "requeued"})
}
