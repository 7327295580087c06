package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// queue is the queue every check publishes to; each check has a queue implementation of its own.
const queue = "queuetest"

// markerPrefix starts the ids of the messages the suite publishes to see a consumer at work;
// see consumer.settle.
const markerPrefix = "queuetest-marker-"

var errFailed = errors.New("queuetest: the handler fails this delivery")

// consumer runs a Deliverer's consumer on queue and records what it delivers. outcome decides
// each delivery's fate; markers always complete.
type consumer struct {
	h       Deliverer
	outcome func(d Delivery) error

	mu      sync.Mutex
	got     []Delivery // in delivery order, markers left out
	markers map[string]bool
	changed chan struct{} // closed at each delivery
}

// markers numbers the markers of every consumer, so that no marker is ever a duplicate of one
// still queued.
var markers atomic.Int64

// consume starts a consumer whose handler completes each delivery or fails it as outcome says.
// A nil outcome completes every delivery.
func consume(t *testing.T, h Deliverer, outcome func(d Delivery) error) *consumer {
	t.Helper()
	if outcome == nil {
		outcome = func(Delivery) error { return nil }
	}
	c := &consumer{h: h, outcome: outcome, markers: map[string]bool{}, changed: make(chan struct{})}
	h.Consume(t, queue, c.handle)
	return c
}

func (c *consumer) handle(_ context.Context, d Delivery) error {
	d.Body = slices.Clone(d.Body) // the queue may reuse its buffer once the handler returns
	c.mu.Lock()
	marker := strings.HasPrefix(d.ID, markerPrefix)
	if marker {
		c.markers[d.ID] = true
	} else {
		c.got = append(c.got, d)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	if marker {
		return nil
	}
	return c.outcome(d) // may panic: the queue must take that as a failed delivery
}

// deliveries returns the deliveries so far of the message id, in order.
func (c *consumer) deliveries(id string) []Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Delivery
	for _, d := range c.got {
		if d.ID == id {
			out = append(out, d)
		}
	}
	return out
}

// ids returns the ids of all deliveries so far, in order.
func (c *consumer) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.got))
	for i, d := range c.got {
		out[i] = d.ID
	}
	return out
}

// waitFor waits until cond holds, looking again at each delivery.
func (c *consumer) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := waitContext(t)
	defer cancel()
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s: the test binary's deadline is near; delivered so far: %v", what, c.ids())
		}
	}
}

// waitDeliveries waits until the message id has been delivered n times and the outcome of
// the last delivery is recorded, and returns its deliveries.
func (c *consumer) waitDeliveries(t *testing.T, id string, n int) []Delivery {
	t.Helper()
	c.waitFor(t, fmt.Sprintf("delivery %d of %s", n, id), func() bool { return len(c.deliveries(id)) >= n })
	drain(t, c.h)
	return c.deliveries(id)
}

// settle shows that the consumer has been at work since the clock last moved, and that
// everything due has been settled: it publishes a marker due now, waits for its delivery,
// then drains the queue. A queue that would deliver a message too early, or one that was
// cancelled, has had its chance by then; without the marker the suite could only sleep and
// hope the consumer had looked.
func (c *consumer) settle(t *testing.T) {
	t.Helper()
	id := fmt.Sprintf("%s%d", markerPrefix, markers.Add(1))
	_, err := c.h.Queue().Publish(context.Background(), queue, gdpr.Message{ID: id})
	require.NoError(t, err)
	c.waitFor(t, "the marker "+id, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.markers[id] })
	drain(t, c.h)
}

func drain(t *testing.T, h Deliverer) {
	t.Helper()
	ctx, cancel := waitContext(t)
	defer cancel()
	require.NoError(t, h.Drain(ctx, queue), "drain")
}

func publish(t *testing.T, h Harness, m gdpr.Message) string {
	t.Helper()
	ref, err := h.Queue().Publish(context.Background(), queue, m)
	require.NoError(t, err)
	return ref
}

// deliverPublish: a published message is delivered once, with its id and body, whether its
// NotBefore is unset, now or past.
func deliverPublish(t *testing.T, h Deliverer) {
	c := consume(t, h, nil)
	msgs := []gdpr.Message{
		{ID: "job-1", Body: []byte(`{"userId":"u_1"}`)},
		{ID: "job-2"}, // no body
		{ID: "job-3", Body: []byte("3"), NotBefore: h.Now()},
		{ID: "job-4", Body: []byte("4"), NotBefore: h.Now().Add(-time.Hour)},
	}
	for _, m := range msgs {
		publish(t, h, m)
	}
	c.settle(t)
	for _, m := range msgs {
		ds := c.deliveries(m.ID)
		require.Len(t, ds, 1, "%s delivered once", m.ID)
		assert.Equal(t, string(m.Body), string(ds[0].Body), m.ID)
		assert.Equal(t, 1, ds[0].DeliveryCount, m.ID)
	}
}

// deliverDedup: publishing an id that is still queued changes nothing — not the body, not the
// due time — which is how a job published twice (a sweep repeated after a crash) runs once.
func deliverDedup(t *testing.T, h Deliverer) {
	t.Run("while ready", func(t *testing.T) {
		publish(t, h, gdpr.Message{ID: "job", Body: []byte("first")})
		publish(t, h, gdpr.Message{ID: "job", Body: []byte("second")})
		c := consume(t, h, nil) // only now, so both publishes found the first one queued
		c.settle(t)
		ds := c.deliveries("job")
		require.Len(t, ds, 1, "delivered once")
		assert.Equal(t, "first", string(ds[0].Body), "the first body wins")
	})
	t.Run("while scheduled", func(t *testing.T) {
		c := consume(t, h, nil)
		publish(t, h, gdpr.Message{ID: "later", Body: []byte("first"), NotBefore: h.Now().Add(time.Hour)})
		publish(t, h, gdpr.Message{ID: "later", Body: []byte("second")}) // would be due now
		c.settle(t)
		assert.Empty(t, c.deliveries("later"), "the second publish did not make it due now")
		h.Advance(time.Hour)
		ds := c.waitDeliveries(t, "later", 1)
		c.settle(t)
		require.Len(t, c.deliveries("later"), 1, "delivered once")
		assert.Equal(t, "first", string(ds[0].Body))
	})
	t.Run("within a batch", func(t *testing.T) {
		c := consume(t, h, nil)
		_, err := h.Queue().PublishBatch(context.Background(), queue, []gdpr.Message{
			{ID: "twice", Body: []byte("first")}, {ID: "once"}, {ID: "twice", Body: []byte("second")},
		})
		require.NoError(t, err)
		c.settle(t)
		ds := c.deliveries("twice")
		require.Len(t, ds, 1, "delivered once")
		assert.Equal(t, "first", string(ds[0].Body))
		assert.Len(t, c.deliveries("once"), 1)
	})
}

// deliverNotBefore: a message is not delivered before its NotBefore by the service clock, and
// is once the clock reaches it (an erasure job waits out the grace period, R-ERASE-5), however
// far the clock jumps (the test clock is moved years ahead to show retention).
func deliverNotBefore(t *testing.T, h Deliverer) {
	c := consume(t, h, nil)
	for _, delay := range []time.Duration{time.Hour, 3 * 365 * 24 * time.Hour} {
		id := fmt.Sprintf("in-%v", delay)
		publish(t, h, gdpr.Message{ID: id, Body: []byte(id), NotBefore: h.Now().Add(delay)})
		c.settle(t)
		assert.Empty(t, c.deliveries(id), "delivered at once")

		h.Advance(delay - time.Millisecond)
		c.settle(t)
		assert.Empty(t, c.deliveries(id), "delivered a millisecond early")

		h.Advance(time.Millisecond)
		c.settle(t) // the message is due now: settle's drain waits for its delivery
		ds := c.deliveries(id)
		require.Len(t, ds, 1, "delivered once when due")
		assert.Equal(t, id, string(ds[0].Body))
	}
}

// deliverCancel: a cancelled scheduled message is never delivered (a restore within the grace
// period withdraws the erasure, R-ERASE-5); cancelling an unknown ref, or the ref of a message
// already delivered, is not an error and withdraws nothing else.
func deliverCancel(t *testing.T, h Deliverer) {
	ctx := context.Background()
	c := consume(t, h, nil)
	at := h.Now().Add(24 * time.Hour)
	cancelled := publish(t, h, gdpr.Message{ID: "cancelled", NotBefore: at})
	kept := publish(t, h, gdpr.Message{ID: "kept", NotBefore: at})
	require.NotEqual(t, cancelled, kept)
	require.NoError(t, h.Queue().Cancel(ctx, queue, cancelled))
	require.NoError(t, h.Queue().Cancel(ctx, queue, cancelled), "cancelling twice")
	for _, ref := range []string{"", "999999999", "not-a-ref"} {
		require.NoError(t, h.Queue().Cancel(ctx, queue, ref), "unknown ref %q", ref)
	}
	now := publish(t, h, gdpr.Message{ID: "now"})
	c.waitDeliveries(t, "now", 1)
	require.NoError(t, h.Queue().Cancel(ctx, queue, now), "the ref of a delivered message")

	h.Advance(48 * time.Hour)
	c.settle(t)
	assert.Empty(t, c.deliveries("cancelled"), "a cancelled message was delivered")
	assert.Len(t, c.deliveries("kept"), 1, "cancel withdrew a message it was not given")
	assert.Len(t, c.deliveries("now"), 1)
}

// batchMessages is a batch of scheduled messages at different times, for the batch checks: the
// refs come back in the order of the messages, so cancelling refs[i] withdraws message i.
func batchMessages(now time.Time) []gdpr.Message {
	var msgs []gdpr.Message
	for i, in := range []time.Duration{1, 2, 1, 3, 1, 2} {
		msgs = append(msgs, gdpr.Message{
			ID: fmt.Sprintf("batch-%d", i), Body: []byte(fmt.Sprint(i)), NotBefore: now.Add(in * time.Hour),
		})
	}
	return msgs
}

// batchCancelled are the positions of batchMessages the batch checks cancel.
var batchCancelled = []int{1, 3, 4}

// deliverBatch: PublishBatch returns one ref per message, in order, each cancelling its own
// message; the messages are delivered as Publish's would be.
func deliverBatch(t *testing.T, h Deliverer) {
	ctx := context.Background()
	c := consume(t, h, nil)
	msgs := batchMessages(h.Now())
	refs, err := h.Queue().PublishBatch(ctx, queue, msgs)
	require.NoError(t, err)
	require.Len(t, refs, len(msgs))
	for _, i := range batchCancelled {
		require.NoError(t, h.Queue().Cancel(ctx, queue, refs[i]))
	}
	now, err := h.Queue().PublishBatch(ctx, queue, []gdpr.Message{{ID: "now-a"}, {ID: "now-b"}})
	require.NoError(t, err)
	require.Len(t, now, 2)

	h.Advance(3 * time.Hour)
	c.settle(t)
	for i, m := range msgs {
		want := 1
		if slices.Contains(batchCancelled, i) {
			want = 0
		}
		assert.Len(t, c.deliveries(m.ID), want, "message %d, ref %s", i, refs[i])
	}
	assert.Len(t, c.deliveries("now-a"), 1)
	assert.Len(t, c.deliveries("now-b"), 1)

	refs, err = h.Queue().PublishBatch(ctx, queue, nil)
	require.NoError(t, err, "an empty batch")
	assert.Empty(t, refs)
}

// deliverRedelivery: a delivery whose handler fails — by an error or a panic — is delivered
// again once its retry delay has passed, same id and body, counted; a success ends it.
func deliverRedelivery(t *testing.T, h Deliverer) {
	for _, how := range []string{"error", "panic"} {
		t.Run(how, func(t *testing.T) {
			id := "retried-" + how
			c := consume(t, h, func(d Delivery) error {
				if d.ID != id || d.DeliveryCount > 1 {
					return nil
				}
				if how == "panic" {
					panic("queuetest: the handler panics on this delivery")
				}
				return errFailed
			})
			publish(t, h, gdpr.Message{ID: id, Body: []byte("body")})
			c.waitDeliveries(t, id, 1)
			h.Advance(h.RetryDelay())
			ds := c.waitDeliveries(t, id, 2)
			c.settle(t)
			require.Len(t, c.deliveries(id), 2, "a success ends the deliveries")
			assert.Equal(t, 2, ds[1].DeliveryCount)
			assert.Equal(t, "body", string(ds[1].Body))
		})
	}
}

// deliverDeadLetter: a message whose every delivery fails is delivered MaxDeliveries times,
// then dead-lettered and never delivered again.
func deliverDeadLetter(t *testing.T, h Deliverer) {
	limit := h.MaxDeliveries()
	require.Positive(t, limit)
	c := consume(t, h, func(d Delivery) error {
		if d.ID == "poison" {
			return errFailed
		}
		return nil
	})
	publish(t, h, gdpr.Message{ID: "poison"})
	publish(t, h, gdpr.Message{ID: "fine"})
	for n := 1; n <= limit; n++ {
		ds := c.waitDeliveries(t, "poison", n)
		require.Equal(t, n, ds[n-1].DeliveryCount)
		h.Advance(h.RetryDelay())
	}
	c.settle(t)
	assert.Len(t, c.deliveries("poison"), limit, "delivered again after the last allowed delivery")
	assert.Len(t, c.deliveries("fine"), 1)

	ctx, cancel := waitContext(t)
	defer cancel()
	dead, err := h.DeadLetters(ctx, queue)
	require.NoError(t, err)
	assert.Equal(t, []DeadLetter{{ID: "poison", DeliveryCount: limit}}, dead)
}
