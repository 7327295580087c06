package azfunc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
)

// responseExample returns the body of a case in testdata/response-examples.json.
func responseExample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/response-examples.json")
	require.NoError(t, err)
	var doc struct {
		Cases []struct {
			Name string
			Body json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	for _, c := range doc.Cases {
		if c.Name == name {
			return string(c.Body)
		}
	}
	t.Fatalf("no response example %q", name)
	return ""
}

func TestWriteResult(t *testing.T) {
	write := func(t *testing.T, res azfunc.Result) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		require.NoError(t, azfunc.WriteResult(rec, res))
		assert.NoError(t, azfunctest.Judge(rec.Code, rec.Header(), rec.Body.Bytes()).Err(), "the host would reject this")
		return rec
	}

	t.Run("empty result is still a full object", func(t *testing.T) {
		rec := write(t, azfunc.Result{})
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assert.Equal(t, `{"Outputs":{},"Logs":[],"ReturnValue":null}`, rec.Body.String())
	})

	t.Run("timer success matches the example", func(t *testing.T) {
		rec := write(t, azfunc.Result{Logs: []string{"tick processed"}})
		assert.JSONEq(t, responseExample(t, "timer-success"), rec.Body.String())
	})

	t.Run("service bus output matches the example", func(t *testing.T) {
		rec := write(t, azfunc.Result{
			Outputs: map[string]any{"outMsg": map[string]string{"orderId": "A-1001", "status": "processed"}},
			Logs:    []string{"order A-1001 processed"},
		})
		assert.JSONEq(t, responseExample(t, "servicebus-success-with-servicebus-output"), rec.Body.String())
	})

	t.Run("unencodable output fails the invocation", func(t *testing.T) {
		rec := httptest.NewRecorder()
		err := azfunc.WriteResult(rec, azfunc.Result{Outputs: map[string]any{"outMsg": make(chan int)}})
		assert.Error(t, err)
		assert.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	})
}

func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		wantStatus int
	}{
		{"server error kept", http.StatusInternalServerError, http.StatusInternalServerError},
		{"unavailable kept", http.StatusServiceUnavailable, http.StatusServiceUnavailable},
		{"client error kept", http.StatusBadRequest, http.StatusBadRequest},
		{"success becomes 500", http.StatusOK, http.StatusInternalServerError},
		{"redirect becomes 500", http.StatusFound, http.StatusInternalServerError},
		{"nonsense becomes 500", 999, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			azfunc.WriteFailure(rec, tt.status)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.True(t, json.Valid(rec.Body.Bytes()))
			assert.Error(t, azfunctest.Judge(rec.Code, rec.Header(), rec.Body.Bytes()).Err(), "the host must count this as a failure")
		})
	}
}
