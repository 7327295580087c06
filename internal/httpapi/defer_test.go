package httpapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
)

// TestDeferral: a job that failed as unavailable comes back later, each time twice as late up
// to an hour, and at most maxDeferrals times (review fix 3 of #13: throttling must not burn a
// message's deliveries in seconds).
func TestDeferral(t *testing.T) {
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	msg := azfunc.ServiceBusMessage{MessageID: "erase:acme:m_1:R-ERASE-5:1", Body: []byte(`{"job":1}`)}
	var waits []time.Duration
	for range maxDeferrals {
		next, ok := deferral("gdpr-erasure", msg, now)
		require.True(t, ok)
		require.Equal(t, msg.Body, next.Body, "the same job")
		waits = append(waits, next.NotBefore.Sub(now))
		msg.MessageID = next.ID
	}
	require.Equal(t, "erase:acme:m_1:R-ERASE-5:1~deferred8", msg.MessageID)
	require.Equal(t, []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour}, waits)
	_, ok := deferral("gdpr-erasure", msg, now)
	require.False(t, ok, "past maxDeferrals the failure stands")
	_, ok = deferral("gdpr-erasure", azfunc.ServiceBusMessage{}, now)
	require.False(t, ok, "a message without an id cannot be deduplicated, so it is not copied")
}
