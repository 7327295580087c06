package azfunctest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
)

// fixtureBody returns the envelope of a case in ../testdata/<file>.
func fixtureBody(t *testing.T, file, name string) (data, metadata map[string]json.RawMessage) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/" + file)
	require.NoError(t, err)
	var doc struct {
		Cases []struct {
			Name string
			Body struct{ Data, Metadata map[string]json.RawMessage }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	for _, c := range doc.Cases {
		if c.Name == name {
			return c.Body.Data, c.Body.Metadata
		}
	}
	t.Fatalf("%s has no case %q", file, name)
	return nil, nil
}

// onWire is env as the handler receives it.
func onWire(t *testing.T, env azfunctest.Envelope) (data, metadata map[string]json.RawMessage) {
	t.Helper()
	raw, err := json.Marshal(env)
	require.NoError(t, err)
	var got struct{ Data, Metadata map[string]json.RawMessage }
	require.NoError(t, json.Unmarshal(raw, &got))
	return got.Data, got.Metadata
}

func TestServiceBusEnvelope(t *testing.T) {
	t.Run("matches the recorded wire format", func(t *testing.T) {
		wantData, wantMeta := fixtureBody(t, "servicebus-request.json", "json-message-default-dataType")
		data, meta := onWire(t, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{
			Body:           []byte(`{"orderId":"A-1001","quantity":2,"customer":{"id":"c-9"},"tags":["rush"]}`),
			MessageID:      "c2f0e6a4b3d24f1e9a8b7c6d5e4f3a2b",
			DeliveryCount:  1,
			SequenceNumber: 42,
			EnqueuedTime:   time.Date(2025, 1, 15, 10, 4, 58, 0, time.UTC),
			ContentType:    "application/json",
		}))

		assert.JSONEq(t, string(wantData["msg"]), string(data["msg"]))
		// Keys that vary per message (LockToken, Client) or that the
		// builder leaves to the test (CorrelationId, properties) aside,
		// every key the host sends must match.
		for _, key := range []string{
			"MessageReceiver", "MessageSession", "MessageActions", "SessionActions", "ReceiveActions",
			"DeliveryCount", "ExpiresAtUtc", "ExpiresAt", "EnqueuedTimeUtc", "EnqueuedTime",
			"MessageId", "ContentType", "SequenceNumber", "orderId", "quantity", "customer",
		} {
			require.Contains(t, meta, key)
			assert.JSONEq(t, string(wantMeta[key]), string(meta[key]), key)
		}
		assert.NotContains(t, meta, "tags", "arrays in the body are not merged")
	})

	t.Run("body properties shadow metadata as on the host", func(t *testing.T) {
		_, meta := onWire(t, azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{
			Body:          []byte(`{"DeliveryCount":7,"urgent":true,"note":null}`),
			DeliveryCount: 1,
		}))
		assert.JSONEq(t, `"\"7\""`, string(meta["DeliveryCount"]))
		assert.JSONEq(t, `"\"True\""`, string(meta["urgent"]))
		assert.NotContains(t, meta, "note")
	})

	roundTrips := []struct {
		name string
		msg  azfunc.ServiceBusMessage
	}{
		{"json body", azfunc.ServiceBusMessage{
			Body: []byte(`{"subjectId":"u-1","email":"bob@example.com"}`), MessageID: "m-1", DeliveryCount: 1,
			SequenceNumber: 9, EnqueuedTime: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC), ContentType: "application/json",
		}},
		{"plain text redelivered", azfunc.ServiceBusMessage{
			Body: []byte("hello \"world\"\n\u00e9"), MessageID: "m-2", DeliveryCount: 3,
			SequenceNumber: 10, EnqueuedTime: time.Date(2025, 3, 1, 8, 0, 1, 0, time.UTC),
		}},
		{"empty body", azfunc.ServiceBusMessage{
			Body: []byte{}, MessageID: "m-3", DeliveryCount: 10,
			SequenceNumber: 11, EnqueuedTime: time.Date(2025, 3, 1, 8, 0, 2, 0, time.UTC),
		}},
	}
	for _, tt := range roundTrips {
		t.Run("round trip "+tt.name, func(t *testing.T) {
			var got azfunc.ServiceBusMessage
			host := azfunctest.NewHost(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inv, err := azfunc.DecodeInvocation(r)
				if err == nil {
					got, err = inv.ServiceBusMessage("msg")
				}
				if err != nil {
					azfunc.WriteFailure(w, http.StatusBadRequest)
					return
				}
				_ = azfunc.WriteResult(w, azfunc.Result{})
			}))
			require.NoError(t, host.Invoke("ErasureWorker", azfunctest.ServiceBus("msg", tt.msg)).Err())
			assert.Equal(t, tt.msg, got)
		})
	}

	t.Run("defaults describe a fresh message", func(t *testing.T) {
		env := azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: []byte("x")})
		data, meta := onWire(t, env)
		inv := azfunc.Invocation{Data: data, Metadata: meta}
		got, err := inv.ServiceBusMessage("msg")
		require.NoError(t, err)
		assert.Equal(t, 1, got.DeliveryCount)
		assert.Equal(t, int64(1), got.SequenceNumber)
		assert.NotEmpty(t, got.MessageID)
		assert.WithinDuration(t, time.Now(), got.EnqueuedTime, time.Minute)
	})
}

func TestTimerEnvelope(t *testing.T) {
	last := time.Date(2025, 1, 15, 10, 0, 0, 3185400, time.UTC)
	next := time.Date(2025, 1, 15, 10, 5, 0, 0, time.UTC)
	tests := []struct {
		name, fixture string
		env           azfunctest.Envelope
	}{
		{"scheduled", "scheduled", azfunctest.Timer("myTimer", azfunc.TimerInfo{Last: last, Next: next})},
		{"first run", "first-run-no-stored-status", azfunctest.Timer("myTimer", azfunc.TimerInfo{Next: next})},
		{"without a monitor", "useMonitor-false", azfunctest.Timer("myTimer", azfunc.TimerInfo{})},
		{"with a retry policy", "with-retry-policy", azfunctest.Timer("myTimer", azfunc.TimerInfo{Last: last, Next: next}).WithRetry(0, 2)},
	}
	for _, tt := range tests {
		t.Run("matches the recorded "+tt.name, func(t *testing.T) {
			wantData, wantMeta := fixtureBody(t, "timer-request.json", tt.fixture)
			data, meta := onWire(t, tt.env)
			assert.JSONEq(t, string(wantData["myTimer"]), string(data["myTimer"]))
			if rc, ok := wantMeta["RetryContext"]; ok {
				require.Contains(t, meta, "RetryContext")
				assert.JSONEq(t, string(rc), string(meta["RetryContext"]))
			} else {
				assert.NotContains(t, meta, "RetryContext")
			}
		})
	}

	t.Run("round trip", func(t *testing.T) {
		want := azfunc.TimerInfo{IsPastDue: true, Last: last, Next: next}
		var got azfunc.TimerInfo
		var retry *azfunc.RetryContext
		host := azfunctest.NewHost(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inv, err := azfunc.DecodeInvocation(r)
			if err == nil {
				got, err = inv.Timer("myTimer")
			}
			if err == nil {
				retry, err = inv.Retry()
			}
			if err != nil {
				azfunc.WriteFailure(w, http.StatusBadRequest)
				return
			}
			_ = azfunc.WriteResult(w, azfunc.Result{Logs: []string{"swept"}})
		}))
		res := host.Invoke("RetentionSweep", azfunctest.Timer("myTimer", want).WithRetry(1, 3))
		require.NoError(t, res.Err())
		assert.Equal(t, []string{"swept"}, res.Logs)
		assert.Equal(t, want, got)
		assert.Equal(t, &azfunc.RetryContext{RetryCount: 1, MaxRetryCount: 3}, retry)
	})
}
