package azfunc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"popsell-gdpr/internal/jsondepth"
)

// ErrMalformed marks an envelope the handler cannot use. Redelivering it will
// not help, so callers may want to log and give up rather than ask for a retry.
// Errors wrapping it name the binding or metadata key at fault, never the
// payload: envelopes can carry personal data and errors end up in logs.
var ErrMalformed = errors.New("azfunc: malformed invocation")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// MaxInvocationBytes bounds the envelope DecodeInvocation reads. It is sized
// for the largest envelope a Service Bus Standard namespace can cause, whose
// messages, body and properties together, are at most 256 KiB. The host
// serializes a string body once on its own and again with the envelope, so
// one byte becomes at most 7 (a control character: \u001f, then \\u001f).
// Everything a message carries appears at most twice: the body in Data and
// its top-level properties in Metadata, the application properties as both
// ApplicationProperties and UserProperties. That is 2 × 7 × 256 KiB =
// 3.5 MiB, plus a few KiB of fixed Metadata; timer envelopes are under
// 1 KiB. Moving to Premium, whose messages reach 100 MB, needs this raised.
//
// A front end that limits request bodies (httpapi's 1 MiB for its own
// routes) should let function routes through up to this size, or a large but
// valid message fails every delivery and ends up dead-lettered.
const MaxInvocationBytes = 4 << 20

// ErrTooLarge marks an envelope over MaxInvocationBytes, or over a limit a
// caller put on the request body with http.MaxBytesReader, so that the
// caller can answer 413. Errors wrapping it also wrap ErrMalformed: no
// redelivery makes the envelope smaller.
var ErrTooLarge = errors.New("azfunc: invocation too large")

// tooLargeError says which limit was passed without being a new sentinel.
type tooLargeError struct{ limit int64 }

func (e tooLargeError) Error() string {
	return fmt.Sprintf("azfunc: invocation body exceeds %d bytes", e.limit)
}

func (e tooLargeError) Is(target error) bool {
	return target == ErrTooLarge || target == ErrMalformed
}

// MaxEnvelopeDepth bounds how deeply an envelope nests. The host's envelopes are 4 levels
// deep at most (Metadata.sys, a timer's ScheduleStatus, a JSON body's properties merged into
// Metadata); a Service Bus body travels as a string, whose nesting its handler bounds.
const MaxEnvelopeDepth = 32

// ErrTooDeep marks an envelope nested deeper than MaxEnvelopeDepth, so that the caller can
// answer 400. Errors wrapping it also wrap ErrMalformed: no redelivery makes it shallower.
var ErrTooDeep = errors.New("azfunc: invocation nested too deeply")

type tooDeepError struct{ limit int }

func (e tooDeepError) Error() string {
	return fmt.Sprintf("azfunc: invocation body is nested deeper than %d levels", e.limit)
}

func (e tooDeepError) Is(target error) bool {
	return target == ErrTooDeep || target == ErrMalformed
}

// Invocation is one POST /{FunctionName} envelope from the host. Values are
// kept raw because their encoding depends on the binding; use the helpers.
type Invocation struct {
	// ID is the host's X-Azure-Functions-InvocationId: the key for
	// correlating our logs with the host's.
	ID string
	// Data holds the trigger value and input bindings by binding name.
	Data map[string]json.RawMessage
	// Metadata holds the trigger's binding data (MessageId,
	// DeliveryCount, …), "sys", and RetryContext under a retry policy.
	Metadata map[string]json.RawMessage
}

// DecodeInvocation reads the envelope, at most MaxInvocationBytes of it; a
// larger one is an error wrapping ErrTooLarge, one nested deeper than
// MaxEnvelopeDepth an error wrapping ErrTooDeep. The host sends it chunked,
// without a Content-Length, so the body is read to EOF.
func DecodeInvocation(r *http.Request) (Invocation, error) {
	if r.ContentLength > MaxInvocationBytes {
		return Invocation{}, tooLargeError{MaxInvocationBytes}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxInvocationBytes+1))
	if maxErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return Invocation{}, tooLargeError{maxErr.Limit}
	}
	if err != nil {
		return Invocation{}, fmt.Errorf("azfunc: read invocation body: %w", err)
	}
	if len(body) > MaxInvocationBytes {
		return Invocation{}, tooLargeError{MaxInvocationBytes}
	}
	if body = bytes.TrimSpace(body); len(body) == 0 || body[0] != '{' {
		return Invocation{}, malformed("body is not a JSON object")
	}
	if jsondepth.Check(body, MaxEnvelopeDepth) != nil {
		return Invocation{}, tooDeepError{MaxEnvelopeDepth}
	}
	var env struct {
		Data     map[string]json.RawMessage
		Metadata map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Invocation{}, malformed("body is not a {Data,Metadata} envelope")
	}
	return Invocation{
		ID:       r.Header.Get("X-Azure-Functions-InvocationId"),
		Data:     env.Data,
		Metadata: env.Metadata,
	}, nil
}

// DecodeData unmarshals the object bound to binding into v, for bindings the
// host sends as plain JSON objects (timer info, HTTP request envelopes).
func (inv Invocation) DecodeData(binding string, v any) error {
	raw, ok := inv.Data[binding]
	if !ok || string(raw) == "null" {
		return malformed("Data has no binding %q", binding)
	}
	if raw[0] != '{' {
		return malformed("Data.%s is not a JSON object", binding)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return malformed("Data.%s does not have the expected shape", binding)
	}
	return nil
}

// MetadataString returns a scalar metadata value as text. The host serializes
// strings and numbers once more before the envelope itself ("\"abc\"", "1");
// this undoes that, and also takes values that were sent plainly. The host
// omits null properties, so a missing key is simply "".
func (inv Invocation) MetadataString(key string) (string, error) {
	raw, ok := inv.Metadata[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '{', '[':
		return "", malformed("Metadata.%s is not a scalar", key)
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", malformed("Metadata.%s is not a JSON string", key)
		}
		if inner, ok := unquote(s); ok {
			return inner, nil
		}
		return s, nil
	default: // a bare number or bool
		return string(raw), nil
	}
}

// unquote decodes s if it is itself a JSON string literal.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	var inner string
	if json.Unmarshal([]byte(s), &inner) != nil {
		return "", false
	}
	return inner, true
}

func (inv Invocation) metadataInt(key string) (int64, error) {
	s, err := inv.MetadataString(key)
	if err != nil || s == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, malformed("Metadata.%s is not an integer", key)
	}
	return n, nil
}

func (inv Invocation) metadataTime(key string) (time.Time, error) {
	s, err := inv.MetadataString(key)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, malformed("Metadata.%s is not a timestamp", key)
	}
	return t, nil
}

// RetryContext is present only when the function has a retry policy, which
// lets a handler tell the last attempt from the ones that will be retried.
type RetryContext struct {
	RetryCount    int
	MaxRetryCount int
}

// Retry returns nil when the host sent no RetryContext.
func (inv Invocation) Retry() (*RetryContext, error) {
	raw, ok := inv.Metadata["RetryContext"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var rc RetryContext
	if err := json.Unmarshal(raw, &rc); err != nil {
		return nil, malformed("Metadata.RetryContext is not a retry context")
	}
	return &rc, nil
}

// ServiceBusMessage is a Service Bus trigger's message with the properties a
// handler needs for idempotency and poison handling.
//
// Only the body is required. The properties are best-effort: one that is
// missing or cannot be decoded is left zero and named in MetadataErr, and the
// message is still returned. Nothing in a message's properties is worth
// failing its delivery for — that would only redeliver the same properties
// until Service Bus dead-letters a job that could have run — and the host
// writes a JSON body's top-level fields over the properties of the same name,
// so a body is enough to make them malformed.
type ServiceBusMessage struct {
	Body           []byte
	MessageID      string
	DeliveryCount  int
	SequenceNumber int64
	EnqueuedTime   time.Time
	ContentType    string
	// MetadataErr, when not nil, wraps ErrMalformed and names each property
	// that was present but could not be decoded (never its value). It is
	// for logging: the handler should run the message anyway.
	MetadataErr error
}

// ServiceBusMessage decodes the trigger of a function with the default
// dataType. The host hands the body over as a .NET string, serializes that,
// and then serializes the envelope, so Data.<binding> is a JSON string whose
// content is the JSON string literal of the body. An error means the body is
// missing or undecodable; see ServiceBusMessage.MetadataErr for the rest.
//
// The host also merges a JSON body's top-level properties into Metadata,
// overwriting keys of the same name: a message schema with a field called
// MessageId or DeliveryCount would shadow the real ones.
func (inv Invocation) ServiceBusMessage(binding string) (ServiceBusMessage, error) {
	return inv.serviceBusMessage(binding, func(s string) ([]byte, bool) {
		body, ok := unquote(s)
		return []byte(body), ok
	})
}

// ServiceBusBinaryMessage decodes the trigger of a function whose binding has
// dataType "binary": the host sends the bytes base64-encoded, once. Metadata
// is decoded as by ServiceBusMessage, best-effort.
func (inv Invocation) ServiceBusBinaryMessage(binding string) (ServiceBusMessage, error) {
	return inv.serviceBusMessage(binding, func(s string) ([]byte, bool) {
		body, err := base64.StdEncoding.DecodeString(s)
		return body, err == nil
	})
}

func (inv Invocation) serviceBusMessage(binding string, decode func(string) ([]byte, bool)) (ServiceBusMessage, error) {
	raw, ok := inv.Data[binding]
	if !ok || string(raw) == "null" {
		return ServiceBusMessage{}, malformed("Data has no binding %q", binding)
	}
	var body []byte
	switch raw[0] {
	case '{':
		// Not what today's host sends, but a JSON object can only mean
		// the body itself.
		body = bytes.Clone(raw)
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return ServiceBusMessage{}, malformed("Data.%s is not a JSON string", binding)
		}
		if body, ok = decode(s); !ok {
			return ServiceBusMessage{}, malformed("Data.%s is not in the encoding its dataType implies", binding)
		}
	default:
		return ServiceBusMessage{}, malformed("Data.%s is neither a string nor an object", binding)
	}

	// Each accessor returns the zero value with its error, so a property that
	// fails is simply left unset.
	var errs [5]error
	var deliveries int64
	msg := ServiceBusMessage{Body: body}
	msg.MessageID, errs[0] = inv.MetadataString("MessageId")
	msg.ContentType, errs[1] = inv.MetadataString("ContentType")
	deliveries, errs[2] = inv.metadataInt("DeliveryCount")
	msg.SequenceNumber, errs[3] = inv.metadataInt("SequenceNumber")
	msg.EnqueuedTime, errs[4] = inv.enqueuedTime()
	if deliveries >= 0 && deliveries <= math.MaxInt32 {
		msg.DeliveryCount = int(deliveries)
	} else {
		errs[2] = malformed("Metadata.DeliveryCount is out of range")
	}
	msg.MetadataErr = errors.Join(errs[:]...)
	return msg, nil
}

// enqueuedTime prefers EnqueuedTime, which carries an offset, over its
// zone-less EnqueuedTimeUtc twin, which it also falls back to when
// EnqueuedTime is malformed (reporting that).
func (inv Invocation) enqueuedTime() (time.Time, error) {
	t, err := inv.metadataTime("EnqueuedTime")
	if err == nil && !t.IsZero() {
		return t, nil
	}
	utc, errUTC := inv.metadataTime("EnqueuedTimeUtc")
	return utc, errors.Join(err, errUTC)
}

// TimerInfo is a timer trigger. Last and Next come from the schedule monitor's
// stored status as it was before this run (so Next is about now) and are zero
// when there is none: the first run, or useMonitor false.
type TimerInfo struct {
	IsPastDue bool
	Last      time.Time
	Next      time.Time
}

// Timer decodes a timer trigger.
func (inv Invocation) Timer(binding string) (TimerInfo, error) {
	var raw struct {
		IsPastDue      bool
		ScheduleStatus *struct{ Last, Next string }
	}
	if err := inv.DecodeData(binding, &raw); err != nil {
		return TimerInfo{}, err
	}
	info := TimerInfo{IsPastDue: raw.IsPastDue}
	if st := raw.ScheduleStatus; st != nil {
		var err error
		if info.Last, err = parseOptionalTime(st.Last); err != nil {
			return TimerInfo{}, malformed("Data.%s.ScheduleStatus.Last is not a timestamp", binding)
		}
		if info.Next, err = parseOptionalTime(st.Next); err != nil {
			return TimerInfo{}, malformed("Data.%s.ScheduleStatus.Next is not a timestamp", binding)
		}
	}
	return info, nil
}

func parseOptionalTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return ParseTime(s)
}
