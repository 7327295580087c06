package main

import (
	"net/http"
	"sync"
	"time"

	"popsell-gdpr/internal/azfunc"
)

// startGate answers the host's readiness probe from the first instant and holds every other
// request until the app is wired, so the host's start-up wait does not include opening stores.
type startGate struct {
	once    sync.Once
	ready   chan struct{}
	handler http.Handler // set before ready closes; nil if start-up failed
}

func newStartGate() *startGate { return &startGate{ready: make(chan struct{})} }

func (g *startGate) open(h http.Handler) { g.once.Do(func() { g.handler = h; close(g.ready) }) }

func (g *startGate) fail() { g.open(nil) }

// startWait bounds how long a request waits for the wiring; the host's own start-up timeout
// is 30 s.
const startWait = 30 * time.Second

func (g *startGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-g.ready:
	default:
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			azfunc.Readiness().ServeHTTP(w, r)
			return
		}
		select {
		case <-g.ready:
		case <-r.Context().Done():
			return
		case <-time.After(startWait):
		}
	}
	if g.handler == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"starting up"}}`))
		return
	}
	g.handler.ServeHTTP(w, r)
}
