package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStartGate(t *testing.T) {
	t.Run("readiness_answers_before_wiring_other_requests_wait", func(t *testing.T) {
		g := newStartGate()
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		require.Equal(t, 200, rec.Code)

		done := make(chan int)
		go func() {
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, httptest.NewRequest("GET", "/api/health", nil))
			done <- rec.Code
		}()
		select {
		case <-done:
			t.Fatal("a routed request went through before the app was wired")
		case <-time.After(20 * time.Millisecond):
		}
		g.open(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
		require.Equal(t, http.StatusTeapot, <-done)
	})
	t.Run("failed_start_answers_503", func(t *testing.T) {
		g := newStartGate()
		g.fail()
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("POST", "/ErasureWorker", nil))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	})
}
