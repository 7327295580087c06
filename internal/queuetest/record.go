package queuetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// sentWithID returns what the broker received for the message id, in request order.
func sentWithID(h Recorder, id string) []Sent {
	var out []Sent
	for _, s := range h.Sent(queue) {
		if s.MessageID == id {
			out = append(out, s)
		}
	}
	return out
}

// recordPublish: a message goes to the broker under its id, with its body, for delivery now
// when its NotBefore is unset, now or past.
func recordPublish(t *testing.T, h Recorder) {
	msgs := []gdpr.Message{
		{ID: "job-1", Body: []byte(`{"userId":"u_1"}`)},
		{ID: "job-2"}, // no body
		{ID: "job-3", Body: []byte("3"), NotBefore: h.Now()},
		{ID: "job-4", Body: []byte("4"), NotBefore: h.Now().Add(-time.Hour)},
	}
	for _, m := range msgs {
		publish(t, h, m)
	}
	require.Len(t, h.Sent(queue), len(msgs))
	for _, m := range msgs {
		s := sentWithID(h, m.ID)
		require.Len(t, s, 1, "%s sent once, under its id", m.ID)
		assert.Equal(t, string(m.Body), string(s[0].Body), m.ID)
		assert.True(t, s[0].EnqueueAt.IsZero(), "%s scheduled for %v, not sent now", m.ID, s[0].EnqueueAt)
	}
	needsBroker(t, h, "delivered once, with its id and body")
}

// recordDedup: every publish of an id reaches the broker under that same message id, which is
// what the broker's duplicate detection goes by, so that a job published twice runs once.
func recordDedup(t *testing.T, h Recorder) {
	publish(t, h, gdpr.Message{ID: "job", Body: []byte("first")})
	publish(t, h, gdpr.Message{ID: "job", Body: []byte("second")})
	publish(t, h, gdpr.Message{ID: "later", Body: []byte("first"), NotBefore: h.Now().Add(time.Hour)})
	publish(t, h, gdpr.Message{ID: "later", Body: []byte("second")})
	_, err := h.Queue().PublishBatch(context.Background(), queue, []gdpr.Message{
		{ID: "twice", Body: []byte("first")}, {ID: "once"}, {ID: "twice", Body: []byte("second")},
	})
	require.NoError(t, err)

	for _, id := range []string{"job", "later", "twice"} {
		s := sentWithID(h, id)
		require.Len(t, s, 2, "both publishes of %s carry its id as the message id", id)
		assert.Equal(t, "first", string(s[0].Body), "%s: the first publish reaches the broker first", id)
	}
	assert.Len(t, sentWithID(h, "once"), 1)
	assert.Len(t, h.Sent(queue), 7, "no publish went out under another id")
	needsBroker(t, h, "the second publish of a queued id changes nothing")
}

// recordNotBefore: a message whose NotBefore is in the future by the service clock is
// scheduled for exactly that instant, and its ref is the broker's reference to it; one due now
// is sent (an erasure job waits out the grace period, R-ERASE-5).
func recordNotBefore(t *testing.T, h Recorder) {
	for _, delay := range []time.Duration{time.Millisecond, time.Hour, 3 * 365 * 24 * time.Hour} {
		id := fmt.Sprintf("in-%v", delay)
		at := h.Now().Add(delay)
		ref := publish(t, h, gdpr.Message{ID: id, Body: []byte(id), NotBefore: at})
		s := sentWithID(h, id)
		require.Len(t, s, 1)
		assert.True(t, s[0].EnqueueAt.Equal(at), "%s scheduled for %v, want %v", id, s[0].EnqueueAt, at)
		assert.Equal(t, id, string(s[0].Body))
		assert.NotEmpty(t, ref, "%s: a scheduled message has a ref to cancel it by", id)
		assert.Equal(t, ref, s[0].Ref, "%s: the ref is the broker's reference to this message", id)
	}
	publish(t, h, gdpr.Message{ID: "due", NotBefore: h.Now()})
	s := sentWithID(h, "due")
	require.Len(t, s, 1)
	assert.True(t, s[0].EnqueueAt.IsZero(), "a message due now is sent, not scheduled")
	needsBroker(t, h, "not delivered before NotBefore, delivered once after")
}

// recordCancel: Cancel asks the broker to withdraw exactly the message its ref names (a restore
// within the grace period withdraws the erasure, R-ERASE-5); a ref the broker does not hold,
// or has delivered, is not an error.
func recordCancel(t *testing.T, h Recorder) {
	ctx := context.Background()
	at := h.Now().Add(24 * time.Hour)
	cancelled := publish(t, h, gdpr.Message{ID: "cancelled", NotBefore: at})
	kept := publish(t, h, gdpr.Message{ID: "kept", NotBefore: at})
	require.NotEqual(t, cancelled, kept)
	require.NoError(t, h.Queue().Cancel(ctx, queue, cancelled))
	require.Equal(t, []string{cancelled}, h.Cancelled(queue))

	require.NoError(t, h.Queue().Cancel(ctx, queue, cancelled), "cancelling twice")
	for _, ref := range []string{"", "999999999", "not-a-ref"} {
		require.NoError(t, h.Queue().Cancel(ctx, queue, ref), "unknown ref %q", ref)
	}
	now := publish(t, h, gdpr.Message{ID: "now"})
	require.NoError(t, h.Queue().Cancel(ctx, queue, now), "the ref of a message sent now")
	assert.NotContains(t, h.Cancelled(queue), kept, "cancel withdrew a message it was not given")
	needsBroker(t, h, "a cancelled message is never delivered")
}

// recordBatch: PublishBatch hands each message to the broker as Publish would, those due now
// in their order, and returns one ref per message, in order, each naming its own message.
func recordBatch(t *testing.T, h Recorder) {
	ctx := context.Background()
	msgs := batchMessages(h.Now())
	refs, err := h.Queue().PublishBatch(ctx, queue, msgs)
	require.NoError(t, err)
	require.Len(t, refs, len(msgs))
	for i, m := range msgs {
		s := sentWithID(h, m.ID)
		require.Len(t, s, 1, "message %d", i)
		assert.True(t, s[0].EnqueueAt.Equal(m.NotBefore), "message %d scheduled for %v, want %v", i, s[0].EnqueueAt, m.NotBefore)
		assert.Equal(t, string(m.Body), string(s[0].Body), "message %d", i)
		assert.NotEmpty(t, refs[i], "message %d", i)
		assert.Equal(t, s[0].Ref, refs[i], "ref %d is not its message's", i)
	}
	var want []string
	for _, i := range batchCancelled {
		require.NoError(t, h.Queue().Cancel(ctx, queue, refs[i]))
		want = append(want, refs[i])
	}
	assert.Equal(t, want, h.Cancelled(queue))

	before := len(h.Sent(queue))
	_, err = h.Queue().PublishBatch(ctx, queue, []gdpr.Message{{ID: "now-a"}, {ID: "now-b"}, {ID: "now-c"}})
	require.NoError(t, err)
	var order []string
	for _, s := range h.Sent(queue)[before:] {
		order = append(order, s.MessageID)
		assert.True(t, s.EnqueueAt.IsZero(), "%s is due now", s.MessageID)
	}
	assert.Equal(t, []string{"now-a", "now-b", "now-c"}, order, "messages due now go out in order")

	before = len(h.Sent(queue))
	refs, err = h.Queue().PublishBatch(ctx, queue, nil)
	require.NoError(t, err, "an empty batch")
	assert.Empty(t, refs)
	assert.Len(t, h.Sent(queue), before, "an empty batch sends nothing")
	needsBroker(t, h, "the messages not cancelled are delivered, the cancelled ones never")
}
