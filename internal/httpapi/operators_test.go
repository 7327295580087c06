package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeepHealth: the plain probe reads nothing and needs no token; the deep one is the
// admin's, asks every check, names the one that failed or hung, and says no more about why.
func TestDeepHealth(t *testing.T) {
	secret := "endpoint https://acct.example.test refused key k3y"
	hung := make(chan struct{})
	t.Cleanup(func() { close(hung) })
	calls := 0
	h := New(Options{AdminToken: "tok", Version: "v1", HealthChecks: []HealthCheck{
		{Name: "store", Check: func(context.Context) error { calls++; return nil }},
		{Name: "blobs", Check: func(context.Context) error { return errors.New(secret) }},
		{Name: "ledger", Check: func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-hung:
				return nil
			}
		}},
	}})
	get := func(path, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	w := get("/api/health", "")
	require.Equal(t, http.StatusOK, w.Code)
	require.Zero(t, calls, "liveness asks no dependency")

	require.Equal(t, http.StatusUnauthorized, get("/api/health?deep=1", "").Code)
	require.Equal(t, http.StatusUnauthorized, get("/api/health?deep=1", "wrong").Code)
	require.Zero(t, calls)

	w = get("/api/health?deep=1", "tok")
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	var body struct {
		Status string
		Checks map[string]string
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.Equal(t, "degraded", body.Status)
	require.Equal(t, map[string]string{"store": "ok", "blobs": "failed", "ledger": "timeout"}, body.Checks)
	require.False(t, strings.Contains(w.Body.String(), "acct.example"), "an adapter's error stays out of the answer")
}

// TestDeadLettersInAzureMode: without local mode's queue the routes point to Service Bus.
func TestDeadLettersInAzureMode(t *testing.T) {
	h := New(Options{AdminToken: "tok"})
	r := httptest.NewRequest("GET", "/api/admin/queues/gdpr-mail/deadletters", nil)
	r.Header.Set("Authorization", "Bearer tok")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusNotImplemented, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), "Service Bus")
}
