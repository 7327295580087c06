package azfunctest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"popsell-gdpr/internal/azfunc"
)

// Envelope is the body of a non-HTTP invocation. The maps are plain so a
// test can add or break whatever it likes before invoking.
type Envelope struct {
	Data     map[string]any `json:"Data"`
	Metadata map[string]any `json:"Metadata"`
}

// WithRetry adds the RetryContext the host sends when a retry policy is
// configured; retryCount is 0 on the first attempt.
func (e Envelope) WithRetry(retryCount, maxRetryCount int) Envelope {
	e.Metadata["RetryContext"] = map[string]any{
		"RetryCount":    retryCount,
		"MaxRetryCount": maxRetryCount,
		"Exception":     nil,
	}
	return e
}

// quoted is how the host sends a string or number in Metadata and a
// string-typed trigger value in Data: serialized once on its own, and
// again with the envelope.
func quoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ServiceBus builds the envelope the host sends for a Service Bus trigger
// with the default dataType, from exactly what
// azfunc.(Invocation).ServiceBusMessage should give back. Zero values get
// the host's defaults for a fresh message: DeliveryCount 1, SequenceNumber
// 1, a random MessageId, enqueued now.
func ServiceBus(binding string, m azfunc.ServiceBusMessage) Envelope {
	if m.DeliveryCount == 0 {
		m.DeliveryCount = 1
	}
	if m.SequenceNumber == 0 {
		m.SequenceNumber = 1
	}
	if m.MessageID == "" {
		m.MessageID = newGUID()
	}
	if m.EnqueuedTime.IsZero() {
		m.EnqueuedTime = time.Now()
	}
	enqueued := m.EnqueuedTime.UTC().Truncate(time.Second)
	expires := enqueued.Add(14 * 24 * time.Hour)
	const zoneless, withOffset = "2006-01-02T15:04:05", "2006-01-02T15:04:05-07:00"

	meta := map[string]any{
		"MessageReceiver": map[string]any{},
		"MessageSession":  map[string]any{},
		"MessageActions":  map[string]any{},
		"SessionActions":  map[string]any{},
		"ReceiveActions":  map[string]any{},
		"Client": map[string]any{
			"FullyQualifiedNamespace": "azfunctest.servicebus.windows.net",
			"IsClosed":                false,
			"TransportType":           0,
			"Identifier":              "azfunctest.servicebus.windows.net-" + newGUID(),
		},
		"DeliveryCount":         strconv.Itoa(m.DeliveryCount),
		"LockToken":             quoted(newGUID()),
		"ExpiresAtUtc":          expires.Format(zoneless),
		"ExpiresAt":             expires.Format(withOffset),
		"EnqueuedTimeUtc":       enqueued.Format(zoneless),
		"EnqueuedTime":          enqueued.Format(withOffset),
		"MessageId":             quoted(m.MessageID),
		"SequenceNumber":        strconv.FormatInt(m.SequenceNumber, 10),
		"ApplicationProperties": map[string]any{},
		"UserProperties":        map[string]any{},
	}
	if m.ContentType != "" { // the host omits null properties
		meta["ContentType"] = quoted(m.ContentType)
	}
	mergeBodyProperties(meta, m.Body)

	return Envelope{
		Data:     map[string]any{binding: quoted(string(m.Body))},
		Metadata: meta,
	}
}

// mergeBodyProperties copies a JSON object body's top-level properties into
// Metadata, overwriting what is there, as the host's ApplyBindingData does:
// objects stay objects, arrays and nulls are dropped, and everything else
// becomes its .NET string form, quoted.
func mergeBodyProperties(meta map[string]any, body []byte) {
	var props map[string]json.RawMessage
	if json.Unmarshal(body, &props) != nil {
		return
	}
	for k, v := range props {
		switch {
		case v[0] == '{':
			meta[k] = v
		case v[0] == '[' || bytes.Equal(v, []byte("null")):
		case v[0] == '"':
			var s string
			_ = json.Unmarshal(v, &s)
			meta[k] = quoted(s)
		case bytes.Equal(v, []byte("true")):
			meta[k] = quoted("True")
		case bytes.Equal(v, []byte("false")):
			meta[k] = quoted("False")
		default: // a number
			meta[k] = quoted(string(v))
		}
	}
}

// Timer builds the envelope the host sends for a timer trigger, from exactly
// what azfunc.(Invocation).Timer should give back. With Last and Next both
// zero, ScheduleStatus is null, as with useMonitor false; with only Last
// zero it is a first run, and Last is .NET's DateTime.MinValue.
func Timer(binding string, info azfunc.TimerInfo) Envelope {
	var status any // JSON null
	if !info.Last.IsZero() || !info.Next.IsZero() {
		format := func(t time.Time) string {
			return t.UTC().Format("2006-01-02T15:04:05.9999999-07:00")
		}
		last := "0001-01-01T00:00:00+00:00"
		if !info.Last.IsZero() {
			last = format(info.Last)
		}
		status = map[string]any{"Last": last, "Next": format(info.Next), "LastUpdated": last}
	}
	return Envelope{
		Data: map[string]any{binding: map[string]any{
			"Schedule":       map[string]any{"AdjustForDST": true},
			"ScheduleStatus": status,
			"IsPastDue":      info.IsPastDue,
		}},
		Metadata: map[string]any{},
	}
}
