package azfunc_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
)

// FuzzDecodeInvocation feeds arbitrary bytes to the handler as the host's
// request body, then to every accessor a function would call. Whatever the
// body, nothing panics, every error is ErrMalformed and quotes nothing sent,
// a Service Bus message with a decodable body decodes whatever its metadata,
// and what decodes is well formed: sent again the way the host sends it, it
// decodes to the same thing.
func FuzzDecodeInvocation(f *testing.F) {
	for _, file := range []string{"servicebus-request.json", "timer-request.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(f, err)
		var doc struct {
			Cases []struct{ Body json.RawMessage }
		}
		require.NoError(f, json.Unmarshal(raw, &doc))
		for _, c := range doc.Cases {
			f.Add([]byte(c.Body))
		}
	}
	// Personal data where the host puts values, so that mutations keep some
	// of it for the errors to not repeat.
	f.Add([]byte(`{"Data":{"msg":"\"{\\\"email\\\":\\\"alice@example.com\\\"}\""},"Metadata":{"email":"\"alice@example.com\"","DeliveryCount":"\"alice@example.com\""}}`))
	f.Add([]byte(`{"Data":{"msg":{"email":"alice@example.com"}},"Metadata":{"EnqueuedTime":"alice@example.com","RetryContext":{"RetryCount":"alice@example.com"}}}`))
	f.Add([]byte(`{"Data":{"myTimer":{"ScheduleStatus":{"Last":"alice@example.com","Next":"0001-01-01T00:00:00"}}}}`))

	f.Fuzz(func(t *testing.T, body []byte) {
		inv, err := azfunc.DecodeInvocation(httptest.NewRequest(http.MethodPost, "/Fn", bytes.NewReader(body)))
		if err != nil {
			requireMalformed(t, err, "")
			return
		}
		requireEnvelopeRoundTrips(t, inv)

		bindings := []string{"msg", "myTimer"}
		for name := range inv.Data {
			bindings = append(bindings, name)
		}
		for _, b := range bindings {
			checkServiceBus(t, inv, b, false)
			checkServiceBus(t, inv, b, true)
			checkTimer(t, inv, b)
		}
		for key := range inv.Metadata {
			if _, err := inv.MetadataString(key); err != nil {
				requireMalformed(t, err, key)
			}
		}
		if _, err := inv.Retry(); err != nil {
			requireMalformed(t, err, "")
		}
	})
}

// requireMalformed: every error is ErrMalformed and names at most the
// binding or key asked for, which in a real handler is ours, and a reason:
// never a value, so nothing else in it can hold the '@' of an address.
func requireMalformed(t *testing.T, err error, asked string) {
	t.Helper()
	require.ErrorIs(t, err, azfunc.ErrMalformed)
	msg := err.Error()
	if asked != "" {
		msg = strings.ReplaceAll(msg, asked, "")
	}
	require.NotContains(t, msg, "@")
}

func requireEnvelopeRoundTrips(t *testing.T, inv azfunc.Invocation) {
	t.Helper()
	again, err := json.Marshal(map[string]any{"Data": inv.Data, "Metadata": inv.Metadata})
	require.NoError(t, err)
	inv2, err := azfunc.DecodeInvocation(httptest.NewRequest(http.MethodPost, "/Fn", bytes.NewReader(again)))
	require.NoError(t, err)
	for _, m := range [][2]map[string]json.RawMessage{{inv.Data, inv2.Data}, {inv.Metadata, inv2.Metadata}} {
		require.Equal(t, slices.Sorted(maps.Keys(m[0])), slices.Sorted(maps.Keys(m[1])))
		for k, v := range m[0] {
			require.JSONEq(t, string(v), string(m[1][k]))
		}
	}
}

func checkServiceBus(t *testing.T, inv azfunc.Invocation, binding string, binary bool) {
	t.Helper()
	decode := azfunc.Invocation.ServiceBusMessage
	if binary {
		decode = azfunc.Invocation.ServiceBusBinaryMessage
	}
	msg, err := decode(inv, binding)
	if err != nil {
		requireMalformed(t, err, binding)
		return
	}
	requireUTC(t, msg.EnqueuedTime)
	// Metadata is best-effort: a property that does not decode is zero and
	// named in MetadataErr, which quotes nothing either.
	if msg.MetadataErr != nil {
		requireMalformed(t, msg.MetadataErr, "")
	}
	id, err := inv.MetadataString("MessageId")
	if err != nil {
		require.ErrorIs(t, msg.MetadataErr, azfunc.ErrMalformed)
		require.Contains(t, msg.MetadataErr.Error(), "Metadata.MessageId")
		id = ""
	}
	require.Equal(t, id, msg.MessageID)
	require.GreaterOrEqual(t, msg.DeliveryCount, 0)

	// The body sent again as the host sends it decodes to itself.
	var resend []byte
	switch {
	case inv.Data[binding][0] == '{':
		require.True(t, json.Valid(msg.Body))
		resend = msg.Body
	case binary:
		resend, err = json.Marshal(base64.StdEncoding.EncodeToString(msg.Body))
		require.NoError(t, err)
	default:
		require.True(t, utf8.Valid(msg.Body), "a string body is text")
		inner, err := json.Marshal(string(msg.Body))
		require.NoError(t, err)
		resend, err = json.Marshal(string(inner))
		require.NoError(t, err)
	}
	again, err := decode(azfunc.Invocation{Data: map[string]json.RawMessage{binding: resend}}, binding)
	require.NoError(t, err)
	require.Equal(t, string(msg.Body), string(again.Body))
}

func checkTimer(t *testing.T, inv azfunc.Invocation, binding string) {
	t.Helper()
	info, err := inv.Timer(binding)
	if err != nil {
		requireMalformed(t, err, binding)
		return
	}
	requireUTC(t, info.Last)
	requireUTC(t, info.Next)

	// Sent again the way the host formats timer status (to 100 ns), it
	// decodes to the same times.
	env, err := json.Marshal(azfunctest.Timer(binding, info))
	require.NoError(t, err)
	inv2, err := azfunc.DecodeInvocation(httptest.NewRequest(http.MethodPost, "/Fn", bytes.NewReader(env)))
	require.NoError(t, err)
	again, err := inv2.Timer(binding)
	require.NoError(t, err)
	require.Equal(t, info.IsPastDue, again.IsPastDue)
	require.True(t, info.Last.Truncate(100*time.Nanosecond).Equal(again.Last), "Last %v came back as %v", info.Last, again.Last)
	require.True(t, info.Next.Truncate(100*time.Nanosecond).Equal(again.Next), "Next %v came back as %v", info.Next, again.Next)
}

// requireUTC: a decoded time is the zero time ("never") or an instant in UTC.
func requireUTC(t *testing.T, tm time.Time) {
	t.Helper()
	if !tm.IsZero() {
		require.Equal(t, time.UTC, tm.Location())
	}
}
