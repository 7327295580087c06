package azfunc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
	"popsell-gdpr/internal/azfunc/azfunctest"
)

// envelopeOfSize is a Service Bus envelope of exactly n bytes, its body padding.
func envelopeOfSize(n int) string {
	const head, tail = `{"Data":{"msg":"\"`, `\""}}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

// endless is a body that never ends, counting what was read of it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

// unreadable fails the test if anyone reads it.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("body read although its announced length was over the limit")
	return 0, io.EOF
}

func TestDecodeInvocationLimit(t *testing.T) {
	t.Run("an envelope of exactly the limit decodes", func(t *testing.T) {
		inv, err := azfunc.DecodeInvocation(envelopeRequest(envelopeOfSize(azfunc.MaxInvocationBytes)))
		require.NoError(t, err)
		msg, err := inv.ServiceBusMessage("msg")
		require.NoError(t, err)
		assert.Len(t, msg.Body, azfunc.MaxInvocationBytes-len(`{"Data":{"msg":"\"\""}}`))
	})

	t.Run("one byte more is too large", func(t *testing.T) {
		_, err := azfunc.DecodeInvocation(envelopeRequest(envelopeOfSize(azfunc.MaxInvocationBytes + 1)))
		require.ErrorIs(t, err, azfunc.ErrTooLarge)
		assert.ErrorIs(t, err, azfunc.ErrMalformed, "no redelivery makes it smaller")
		assert.NotContains(t, err.Error(), "aaaa")
	})

	t.Run("an announced length over the limit is refused unread", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/Fn", unreadable{t})
		r.ContentLength = azfunc.MaxInvocationBytes + 1
		_, err := azfunc.DecodeInvocation(r)
		assert.ErrorIs(t, err, azfunc.ErrTooLarge)
	})

	t.Run("a body that never ends is read no further than the limit", func(t *testing.T) {
		body := &endless{}
		r := httptest.NewRequest(http.MethodPost, "/Fn", body)
		r.ContentLength = -1
		_, err := azfunc.DecodeInvocation(r)
		assert.ErrorIs(t, err, azfunc.ErrTooLarge)
		assert.LessOrEqual(t, body.read, int64(azfunc.MaxInvocationBytes+1))
	})

	t.Run("a caller's own smaller limit is reported the same way", func(t *testing.T) {
		r := envelopeRequest(envelopeOfSize(4 << 10))
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1<<10)
		_, err := azfunc.DecodeInvocation(r)
		require.ErrorIs(t, err, azfunc.ErrTooLarge)
		assert.Contains(t, err.Error(), "1024 bytes")
	})
}

// TestMaxInvocationBytesFitsAStandardMessage builds the largest envelope a
// Service Bus Standard message (256 KiB) can become: a JSON body whose one
// property is all '<', which each serialization escapes (\u003c, then
// \\u003c), and which the host sends twice, in Data and merged into Metadata.
func TestMaxInvocationBytesFitsAStandardMessage(t *testing.T) {
	const standardMax = 256 << 10
	const head, tail = `{"p":"`, `"}`
	body := head + strings.Repeat("<", standardMax-len(head)-len(tail)) + tail

	env, err := json.Marshal(azfunctest.ServiceBus("msg", azfunc.ServiceBusMessage{Body: []byte(body)}))
	require.NoError(t, err)
	require.Greater(t, len(env), 13*standardMax, "the envelope is not the worst case the limit is sized for")
	require.LessOrEqual(t, len(env), azfunc.MaxInvocationBytes)

	inv, err := azfunc.DecodeInvocation(envelopeRequest(string(env)))
	require.NoError(t, err)
	msg, err := inv.ServiceBusMessage("msg")
	require.NoError(t, err)
	assert.Equal(t, body, string(msg.Body))
}

// TestDeeplyNestedEnvelopeRefused is finding 1 of issue 24 for the host's envelopes: one
// nested deeper than MaxEnvelopeDepth is an error wrapping ErrTooDeep and ErrMalformed, which
// names the bound and quotes nothing.
func TestDeeplyNestedEnvelopeRefused(t *testing.T) {
	for _, body := range []string{
		`{"Data":{"msg":` + strings.Repeat("[", 60_000),
		`{"Data":{"msg":"\"alice@example.com\""},"Metadata":{"sys":` + strings.Repeat(`{"alice@example.com":`, azfunc.MaxEnvelopeDepth) + `1` + strings.Repeat("}", azfunc.MaxEnvelopeDepth) + `}}`,
	} {
		_, err := azfunc.DecodeInvocation(httptest.NewRequest(http.MethodPost, "/Fn", strings.NewReader(body)))
		require.ErrorIs(t, err, azfunc.ErrTooDeep)
		require.ErrorIs(t, err, azfunc.ErrMalformed)
		require.NotErrorIs(t, err, azfunc.ErrTooLarge)
		require.Equal(t, "azfunc: invocation body is nested deeper than 32 levels", err.Error())
	}
	deepest := `{"Data":{"msg":"\"x\""},"Metadata":{"sys":` + strings.Repeat(`{"a":`, azfunc.MaxEnvelopeDepth-2) + `1` + strings.Repeat("}", azfunc.MaxEnvelopeDepth-2) + `}}`
	_, err := azfunc.DecodeInvocation(httptest.NewRequest(http.MethodPost, "/Fn", strings.NewReader(deepest)))
	require.NoError(t, err, "an envelope at the bound decodes")
}
