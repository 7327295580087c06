package httpapi

import (
	"net/http"

	"popsell-gdpr/internal/gdpr"
)

// servedDuringReplay are the routes served while a restored store waits for its replay: the
// restore routes themselves and the admin reads that help with it (the audit trail, the
// ledger, the queues). The readiness answer on GET / is served always. Everything else would
// read or change a store that may still hold erased people (R-ERASE-9).
var servedDuringReplay = map[string]bool{
	"GET /api/admin/restore":                                      true,
	"POST /api/admin/restore/replay":                              true,
	"GET /api/admin/brands/{brand}/erasures":                      true,
	"GET /api/admin/brands/{brand}/ledger/seals":                  true,
	"GET /api/admin/brands/{brand}/ledger/records/{record}/proof": true,
	"GET /api/admin/brands/{brand}/ledger/export":                 true,
	"GET /api/admin/queues":                                       true,
}

// replayRetryAfter is the Retry-After of a refusal while a replay is pending, in seconds: a
// replay is an operator's step, not a blip.
const replayRetryAfter = "60"

// errReplayPending is the refusal while a replay is pending.
var errReplayPending = &httpError{http.StatusServiceUnavailable, "restore_replay_pending",
	"the database was restored from a backup and the erasures recorded since are not replayed yet; an operator runs POST /api/admin/restore/replay"}

// replayPending reports a restored store still waiting for its replay.
func (a *api) replayPending(r *http.Request) bool {
	return a.restore != nil && a.restore.Pending(r.Context())
}

// refuseWhileReplayPending answers 503 while a replay is pending, so that nothing reads or
// changes a store that may still hold erased people.
func (a *api) refuseWhileReplayPending(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.replayPending(r) {
			w.Header().Set("Retry-After", replayRetryAfter)
			a.writeError(w, r, errReplayPending)
			return
		}
		next(w, r)
	}
}

// restoreStatus answers, per brand, whether a replay is pending and from which ledger day.
func (a *api) restoreStatus(w http.ResponseWriter, r *http.Request) {
	brands, err := a.restore.Status(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	pending := false
	for _, b := range brands {
		pending = pending || b.Pending
	}
	writeJSON(w, http.StatusOK, restoreStatusAnswer{Pending: pending, Brands: brands})
}

// restoreReplay replays the erasures a restored store lost. It is idempotent: run again, it
// finds nothing to do, and one that stopped part way is finished by the next.
func (a *api) restoreReplay(w http.ResponseWriter, r *http.Request) {
	if err := optionalEmptyBody(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	replayed, err := a.restore.Replay(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if replayed == nil {
		replayed = []gdpr.ReplayReport{}
	}
	writeJSON(w, http.StatusOK, replayAnswer{Replayed: replayed, Pending: a.restore.Pending(r.Context())})
}
