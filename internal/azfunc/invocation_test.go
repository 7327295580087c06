package azfunc_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
)

func utc(y int, m time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, m, d, h, mi, s, ns, time.UTC)
}

func TestDecodeTimer(t *testing.T) {
	_, use := fixtureCases(t, "timer-request.json")
	tests := []struct {
		name, fixture string
		want          azfunc.TimerInfo
		wantRetry     *azfunc.RetryContext
	}{
		{
			name: "scheduled", fixture: "scheduled",
			want: azfunc.TimerInfo{Last: utc(2025, 1, 15, 10, 0, 0, 3185400), Next: utc(2025, 1, 15, 10, 5, 0, 0)},
		},
		{
			name: "first run has no last", fixture: "first-run-no-stored-status",
			want: azfunc.TimerInfo{Next: utc(2025, 1, 15, 10, 5, 0, 0)},
		},
		{
			name: "past due", fixture: "past-due",
			want: azfunc.TimerInfo{IsPastDue: true, Last: utc(2025, 1, 15, 9, 0, 0, 2011100), Next: utc(2025, 1, 15, 9, 5, 0, 0)},
		},
		{
			name: "useMonitor false has no status", fixture: "useMonitor-false",
			want: azfunc.TimerInfo{},
		},
		{
			name: "retry policy adds a retry context", fixture: "with-retry-policy",
			want:      azfunc.TimerInfo{Last: utc(2025, 1, 15, 10, 0, 0, 3185400), Next: utc(2025, 1, 15, 10, 5, 0, 0)},
			wantRetry: &azfunc.RetryContext{RetryCount: 0, MaxRetryCount: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := azfunc.DecodeInvocation(use(tt.fixture).request())
			require.NoError(t, err)
			assert.Equal(t, "5f0c1e2a-9d3b-4c7e-8a61-2b9e4f1d7c30", inv.ID)

			got, err := inv.Timer("myTimer")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			retry, err := inv.Retry()
			require.NoError(t, err)
			assert.Equal(t, tt.wantRetry, retry)
		})
	}

	t.Run("zone-less MinValue from older extensions is zero", func(t *testing.T) {
		inv, err := azfunc.DecodeInvocation(envelopeRequest(`{"Data":{"myTimer":{"ScheduleStatus":
			{"Last":"0001-01-01T00:00:00","Next":"2025-01-15T10:05:00","LastUpdated":"0001-01-01T00:00:00"},"IsPastDue":false}}}`))
		require.NoError(t, err)
		got, err := inv.Timer("myTimer")
		require.NoError(t, err)
		assert.Equal(t, azfunc.TimerInfo{Next: utc(2025, 1, 15, 10, 5, 0, 0)}, got)
	})
}

func TestDecodeServiceBus(t *testing.T) {
	_, use := fixtureCases(t, "servicebus-request.json")
	const orderJSON = `{"orderId":"A-1001","quantity":2,"customer":{"id":"c-9"},"tags":["rush"]}`
	enqueued := utc(2025, 1, 15, 10, 4, 58, 0)

	fromFixture := []struct {
		name, fixture string
		binary        bool
		want          azfunc.ServiceBusMessage
	}{
		{
			name: "double encoded json body", fixture: "json-message-default-dataType",
			want: azfunc.ServiceBusMessage{
				Body: []byte(orderJSON), MessageID: "c2f0e6a4b3d24f1e9a8b7c6d5e4f3a2b",
				DeliveryCount: 1, SequenceNumber: 42, EnqueuedTime: enqueued, ContentType: "application/json",
			},
		},
		{
			name: "plain text redelivered", fixture: "plain-text-message-redelivered",
			want: azfunc.ServiceBusMessage{
				Body: []byte("hello world"), MessageID: "c2f0e6a4b3d24f1e9a8b7c6d5e4f3a2b",
				DeliveryCount: 3, SequenceNumber: 43, EnqueuedTime: enqueued, ContentType: "text/plain",
			},
		},
		{
			name: "binary dataType is single-encoded base64", fixture: "dataType-binary", binary: true,
			want: azfunc.ServiceBusMessage{
				Body: []byte(orderJSON), MessageID: "c2f0e6a4b3d24f1e9a8b7c6d5e4f3a2b",
				DeliveryCount: 1, SequenceNumber: 42, EnqueuedTime: enqueued, ContentType: "application/json",
			},
		},
	}
	for _, tt := range fromFixture {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := azfunc.DecodeInvocation(use(tt.fixture).request())
			require.NoError(t, err)
			decode := inv.ServiceBusMessage
			if tt.binary {
				decode = inv.ServiceBusBinaryMessage
			}
			got, err := decode("msg")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, string(tt.want.Body), string(got.Body))
		})
	}

	handWritten := []struct {
		name, body string
		want       azfunc.ServiceBusMessage
	}{
		{
			name: "plain json object body",
			body: `{"Data":{"msg":{"orderId":"A-1"}},"Metadata":{"DeliveryCount":"1"}}`,
			want: azfunc.ServiceBusMessage{Body: []byte(`{"orderId":"A-1"}`), DeliveryCount: 1},
		},
		{
			name: "single-encoded metadata is taken as is",
			body: `{"Data":{"msg":"\"x\""},"Metadata":{"MessageId":"m-1","DeliveryCount":2,"SequenceNumber":"7"}}`,
			want: azfunc.ServiceBusMessage{Body: []byte("x"), MessageID: "m-1", DeliveryCount: 2, SequenceNumber: 7},
		},
		{
			name: "enqueued time falls back to the zone-less utc twin",
			body: `{"Data":{"msg":"\"x\""},"Metadata":{"EnqueuedTimeUtc":"2025-01-15T10:04:58"}}`,
			want: azfunc.ServiceBusMessage{Body: []byte("x"), EnqueuedTime: enqueued},
		},
		{
			name: "empty body",
			body: `{"Data":{"msg":"\"\""},"Metadata":{}}`,
			want: azfunc.ServiceBusMessage{Body: []byte{}},
		},
	}
	for _, tt := range handWritten {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := azfunc.DecodeInvocation(envelopeRequest(tt.body))
			require.NoError(t, err)
			got, err := inv.ServiceBusMessage("msg")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestDecodeServiceBusMetadataBestEffort: only the body is required. Each
// property that is malformed — by the host, or by a JSON body whose top-level
// fields the host writes over the properties — is left zero and named in
// MetadataErr, never quoted, and the message is still decoded, with every
// property that was fine. Missing metadata is no error at all.
func TestDecodeServiceBusMetadataBestEffort(t *testing.T) {
	const pii = "alice@example.com"
	fixture := fixtureBody(t, "servicebus-request.json", "plain-text-message-redelivered")
	enqueued := utc(2025, 1, 15, 10, 4, 58, 0)
	// full is the fixture's message as decoded when nothing is broken.
	full := azfunc.ServiceBusMessage{Body: []byte("hello world"), MessageID: "c2f0e6a4b3d24f1e9a8b7c6d5e4f3a2b",
		DeliveryCount: 3, SequenceNumber: 43, EnqueuedTime: enqueued, ContentType: "text/plain"}

	tests := []struct {
		name   string
		breaks map[string]any // Metadata keys set (nil value: deleted)
		want   func(m *azfunc.ServiceBusMessage)
		bad    []string // keys MetadataErr must name; none: MetadataErr is nil
	}{
		{name: "intact", want: func(*azfunc.ServiceBusMessage) {}},
		{name: "delivery count not a number", breaks: map[string]any{"DeliveryCount": `"` + pii + `"`},
			want: func(m *azfunc.ServiceBusMessage) { m.DeliveryCount = 0 }, bad: []string{"DeliveryCount"}},
		{name: "delivery count negative", breaks: map[string]any{"DeliveryCount": "-1"},
			want: func(m *azfunc.ServiceBusMessage) { m.DeliveryCount = 0 }, bad: []string{"DeliveryCount"}},
		{name: "message id an object", breaks: map[string]any{"MessageId": map[string]any{"to": pii}},
			want: func(m *azfunc.ServiceBusMessage) { m.MessageID = "" }, bad: []string{"MessageId"}},
		{name: "sequence number a float", breaks: map[string]any{"SequenceNumber": 4.5},
			want: func(m *azfunc.ServiceBusMessage) { m.SequenceNumber = 0 }, bad: []string{"SequenceNumber"}},
		{name: "content type an array", breaks: map[string]any{"ContentType": []string{pii}},
			want: func(m *azfunc.ServiceBusMessage) { m.ContentType = "" }, bad: []string{"ContentType"}},
		{name: "enqueued time not a time falls back to the utc twin", breaks: map[string]any{"EnqueuedTime": pii},
			want: func(*azfunc.ServiceBusMessage) {}, bad: []string{"EnqueuedTime"}},
		{name: "both enqueued times broken", breaks: map[string]any{"EnqueuedTime": pii, "EnqueuedTimeUtc": true},
			want: func(m *azfunc.ServiceBusMessage) { m.EnqueuedTime = time.Time{} }, bad: []string{"EnqueuedTime", "EnqueuedTimeUtc"}},
		{name: "every property broken", breaks: map[string]any{"MessageId": []any{}, "DeliveryCount": "x", "SequenceNumber": "y",
			"ContentType": map[string]any{}, "EnqueuedTime": "z", "EnqueuedTimeUtc": "z"},
			want: func(m *azfunc.ServiceBusMessage) { *m = azfunc.ServiceBusMessage{Body: m.Body} },
			bad:  []string{"MessageId", "DeliveryCount", "SequenceNumber", "ContentType", "EnqueuedTime"}},
		{name: "properties missing", breaks: map[string]any{"MessageId": nil, "DeliveryCount": nil, "SequenceNumber": nil,
			"ContentType": nil, "EnqueuedTime": nil, "EnqueuedTimeUtc": nil},
			want: func(m *azfunc.ServiceBusMessage) { *m = azfunc.ServiceBusMessage{Body: m.Body} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env map[string]map[string]any
			require.NoError(t, json.Unmarshal(fixture, &env))
			for k, v := range tt.breaks {
				if v == nil {
					delete(env["Metadata"], k)
				} else {
					env["Metadata"][k] = v
				}
			}
			body, err := json.Marshal(env)
			require.NoError(t, err)
			inv, err := azfunc.DecodeInvocation(envelopeRequest(string(body)))
			require.NoError(t, err)

			got, err := inv.ServiceBusMessage("msg")
			require.NoError(t, err, "only the body is required")
			want := full
			tt.want(&want)
			metaErr := got.MetadataErr
			got.MetadataErr = nil
			assert.Equal(t, want, got)
			if len(tt.bad) == 0 {
				require.NoError(t, metaErr)
				return
			}
			require.ErrorIs(t, metaErr, azfunc.ErrMalformed)
			for _, key := range tt.bad {
				assert.Contains(t, metaErr.Error(), "Metadata."+key)
			}
			assert.NotContains(t, metaErr.Error(), "alice")
		})
	}

	t.Run("no metadata at all", func(t *testing.T) {
		for _, body := range []string{`{"Data":{"msg":"\"x\""}}`, `{"Data":{"msg":"\"x\""},"Metadata":null}`} {
			inv, err := azfunc.DecodeInvocation(envelopeRequest(body))
			require.NoError(t, err)
			got, err := inv.ServiceBusMessage("msg")
			require.NoError(t, err)
			assert.Equal(t, azfunc.ServiceBusMessage{Body: []byte("x")}, got)
		}
	})
	t.Run("binary dataType too", func(t *testing.T) {
		inv, err := azfunc.DecodeInvocation(envelopeRequest(`{"Data":{"msg":"aGk="},"Metadata":{"DeliveryCount":{},"MessageId":"\"m-1\""}}`))
		require.NoError(t, err)
		got, err := inv.ServiceBusBinaryMessage("msg")
		require.NoError(t, err)
		assert.Equal(t, "hi", string(got.Body))
		assert.Equal(t, "m-1", got.MessageID)
		assert.ErrorIs(t, got.MetadataErr, azfunc.ErrMalformed)
	})
}

// TestDecodeErrors feeds payloads containing an e-mail address and checks
// that no error repeats it. (Malformed Service Bus metadata is not an error:
// TestDecodeServiceBusMetadataBestEffort.)
func TestDecodeErrors(t *testing.T) {
	const pii = "alice@example.com"
	sb := func(inv azfunc.Invocation) error { _, err := inv.ServiceBusMessage("msg"); return err }
	sbBinary := func(inv azfunc.Invocation) error { _, err := inv.ServiceBusBinaryMessage("msg"); return err }
	timer := func(inv azfunc.Invocation) error { _, err := inv.Timer("myTimer"); return err }

	tests := []struct {
		name, body string
		use        func(azfunc.Invocation) error // nil: DecodeInvocation itself must fail
	}{
		{name: "body not json", body: pii},
		{name: "body truncated", body: `{"Data":{"msg":"` + pii},
		{name: "body a json array", body: `["` + pii + `"]`},
		{name: "body null", body: `null`},
		{name: "body empty", body: ``},
		{name: "data not an object", body: `{"Data":"` + pii + `"}`},
		{name: "service bus binding missing", body: `{"Data":{"other":"\"` + pii + `\""}}`, use: sb},
		{name: "service bus body single-encoded", body: `{"Data":{"msg":"` + pii + `"}}`, use: sb},
		{name: "service bus body a number", body: `{"Data":{"msg":42}}`, use: sb},
		{name: "service bus binary body not base64", body: `{"Data":{"msg":"` + pii + `"}}`, use: sbBinary},
		{name: "timer binding missing", body: `{"Data":{}}`, use: timer},
		{name: "timer not an object", body: `{"Data":{"myTimer":"` + pii + `"}}`, use: timer},
		{name: "timer wrong shape", body: `{"Data":{"myTimer":{"IsPastDue":"` + pii + `"}}}`, use: timer},
		{name: "timer last not a time", body: `{"Data":{"myTimer":{"ScheduleStatus":{"Last":"` + pii + `"}}}}`, use: timer},
		{name: "retry context wrong shape", body: `{"Metadata":{"RetryContext":"` + pii + `"}}`, use: func(inv azfunc.Invocation) error { _, err := inv.Retry(); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := azfunc.DecodeInvocation(envelopeRequest(tt.body))
			if tt.use != nil {
				require.NoError(t, err)
				err = tt.use(inv)
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, azfunc.ErrMalformed)
			assert.NotContains(t, err.Error(), "alice")
		})
	}
}

func TestMetadataString(t *testing.T) {
	inv, err := azfunc.DecodeInvocation(envelopeRequest(`{"Metadata":{
		"double":"\"abc\"", "single":"abc", "number":"1", "bare":42, "quoted json":"\"\\\"x\\\"\"",
		"null":null, "object":{}}}`))
	require.NoError(t, err)

	for key, want := range map[string]string{
		"double": "abc", "single": "abc", "number": "1", "bare": "42", "quoted json": `"x"`, "null": "", "missing": "",
	} {
		t.Run(key, func(t *testing.T) {
			got, err := inv.MetadataString(key)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	t.Run("object", func(t *testing.T) {
		_, err := inv.MetadataString("object")
		assert.ErrorIs(t, err, azfunc.ErrMalformed)
	})
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2025-01-15T10:04:58Z", utc(2025, 1, 15, 10, 4, 58, 0)},
		{"2025-01-15T10:04:58.7316625Z", utc(2025, 1, 15, 10, 4, 58, 731662500)},
		{"2025-01-15T10:04:58+00:00", utc(2025, 1, 15, 10, 4, 58, 0)},
		{"2025-01-15T10:00:00.0031854+00:00", utc(2025, 1, 15, 10, 0, 0, 3185400)},
		{"2025-01-15T11:04:58+01:00", utc(2025, 1, 15, 10, 4, 58, 0)},
		{"2025-01-15T10:04:58", utc(2025, 1, 15, 10, 4, 58, 0)},
		{"2025-01-15T10:04:58.123", utc(2025, 1, 15, 10, 4, 58, 123000000)},
		{"0001-01-01T00:00:00", time.Time{}},
		{"0001-01-01T00:00:00+00:00", time.Time{}},
		{"0001-01-01T01:00:00+01:00", time.Time{}},
		{"0001-01-01T00:00:00-05:00", time.Time{}},
		{"0002-01-01T00:30:00+01:00", time.Time{}}, // year 1 in UTC: it would read back as never
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := azfunc.ParseTime(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}

	for _, bad := range []string{"", "yesterday", "2025-01-15", "15/01/2025 10:04:58", "2025-01-15T25:00:00", "0000-06-01T00:00:00Z"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			_, err := azfunc.ParseTime(bad)
			assert.Error(t, err)
		})
	}
}
