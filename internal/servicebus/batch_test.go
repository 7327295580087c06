package servicebus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

func messageIDs(ms []*azservicebus.Message) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = *m.MessageID
	}
	return ids
}

// Due messages share one batch; scheduled ones are grouped by instant, one request per group in
// order of first appearance; each ref lands at its message's position.
func TestPublishBatchGroupsAndOrdersRefs(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()
	t1, t2 := t0.Add(time.Hour), t0.Add(48*time.Hour)
	paris := time.FixedZone("CET", 3600)

	refs, err := p.PublishBatch(ctx, gdpr.QueueErasure, []gdpr.Message{
		{ID: "a"},                        // now
		{ID: "b", NotBefore: t1},         // t1
		{ID: "c", NotBefore: t0},         // due exactly now: sent
		{ID: "d", NotBefore: t2},         // t2
		{ID: "e", NotBefore: t1},         // t1 again
		{ID: "f", NotBefore: t0.Add(-1)}, // past: sent
		{ID: "g", NotBefore: t1.In(paris)},
		{ID: "h", NotBefore: t1.Add(time.Millisecond)}, // a distinct instant
	})
	require.NoError(t, err)

	require.Len(t, bus.calls, 4)
	require.Equal(t, "sendBatch", bus.calls[0].Op)
	require.Equal(t, []string{"a", "c", "f"}, messageIDs(bus.calls[0].Msgs))
	for i, want := range []struct {
		at  time.Time
		ids []string
	}{
		{t1, []string{"b", "e", "g"}},
		{t2, []string{"d"}},
		{t1.Add(time.Millisecond), []string{"h"}},
	} {
		c := bus.calls[i+1]
		require.Equal(t, gdpr.QueueErasure, c.Queue)
		require.Equal(t, "schedule", c.Op)
		require.True(t, c.At.Equal(want.at), c.At)
		require.Equal(t, time.UTC, c.At.Location())
		require.Equal(t, want.ids, messageIDs(c.Msgs))
	}
	require.Equal(t, 1, bus.batches)
	// The fake numbers messages 42, 43, … in request order: b e g, then d, then h.
	require.Equal(t, []string{"", "42", "", "45", "43", "", "44", "46"}, refs)

	require.NoError(t, p.Cancel(ctx, gdpr.QueueErasure, refs[4]))
	require.Equal(t, []int64{43}, bus.calls[len(bus.calls)-1].Seqs, "a batch ref cancels its own message")
}

func TestPublishBatchSplitsFullBatches(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()
	bus.batchCap = 3
	var msgs []gdpr.Message
	var want []string
	for i := range 8 {
		id := fmt.Sprintf("m%d", i)
		msgs = append(msgs, gdpr.Message{ID: id, Body: []byte(`{}`)})
		want = append(want, id)
	}

	refs, err := p.PublishBatch(ctx, gdpr.QueueMail, msgs)
	require.NoError(t, err)
	require.Equal(t, make([]string, 8), refs, "sent messages have nothing to cancel")

	var sizes []int
	var got []string
	for _, c := range bus.calls {
		require.Equal(t, "sendBatch", c.Op)
		sizes = append(sizes, len(c.Msgs))
		got = append(got, messageIDs(c.Msgs)...)
	}
	require.Equal(t, []int{3, 3, 2}, sizes)
	require.Equal(t, want, got, "each message once, in order")
	require.Equal(t, 3, bus.batches)

	t.Run("exactly full", func(t *testing.T) {
		p, bus := newTestPublisher()
		bus.batchCap = 4
		_, err := p.PublishBatch(ctx, gdpr.QueueMail, msgs)
		require.NoError(t, err)
		require.Len(t, bus.calls, 2)
		require.Equal(t, 2, bus.batches, "no empty batch is made or sent")
	})
}

func TestPublishBatchMessageTooLargeAlone(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()
	bus.maxBody = 10

	_, err := p.PublishBatch(ctx, gdpr.QueueMail, []gdpr.Message{
		{ID: "small", Body: []byte(`{}`)},
		{ID: "huge", Body: []byte(strings.Repeat("x", 11))},
		{ID: "after", Body: []byte(`{}`)},
	})
	require.ErrorIs(t, err, azservicebus.ErrMessageTooLarge)
	require.ErrorContains(t, err, "message 2 of 3")
	require.NotContains(t, err.Error(), "huge", "errors name positions, not ids")
	// The batch before it went out: the port allows a partial publish, and ids make the retry
	// harmless.
	require.Len(t, bus.calls, 1)
	require.Equal(t, []string{"small"}, messageIDs(bus.calls[0].Msgs))

	_, err = p.PublishBatch(ctx, gdpr.QueueMail, []gdpr.Message{{ID: "huge", Body: []byte(strings.Repeat("x", 11))}})
	require.ErrorIs(t, err, azservicebus.ErrMessageTooLarge)
	require.Len(t, bus.calls, 1, "nothing sent")
}

// The MessageId rule of Publish holds for batches: an id over 128 characters becomes its hash,
// the same one Publish would send, whether the message is sent or scheduled.
func TestPublishBatchLongIDs(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()
	long := "erase:" + strings.Repeat("b", 63) + ":" + strings.Repeat("u", 64) + ":brand_contract_end:1"
	require.Greater(t, len(long), maxMessageID)
	short := strings.Repeat("s", maxMessageID)

	_, err := p.PublishBatch(ctx, gdpr.QueueErasure, []gdpr.Message{
		{ID: long},
		{ID: short},
		{ID: long + "2", NotBefore: t0.Add(time.Hour)},
		{ID: ""},
	})
	require.NoError(t, err)
	require.Len(t, bus.calls, 2)
	sent := messageIDs(bus.calls[0].Msgs)
	require.Equal(t, messageID(long), sent[0])
	require.Equal(t, short, sent[1])
	require.NotEmpty(t, sent[2], "an empty id gets a fresh one")
	require.Equal(t, []string{messageID(long + "2")}, messageIDs(bus.calls[1].Msgs))
	for _, id := range append(sent, messageIDs(bus.calls[1].Msgs)...) {
		require.LessOrEqual(t, len(id), maxMessageID)
	}

	single, _, _ := toMessage(gdpr.Message{ID: long}, t0)
	require.Equal(t, *single.MessageID, sent[0], "Publish and PublishBatch agree")
}

func TestPublishBatchEmpty(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()
	for _, msgs := range [][]gdpr.Message{nil, {}} {
		refs, err := p.PublishBatch(ctx, gdpr.QueueMail, msgs)
		require.NoError(t, err)
		require.Nil(t, refs)
	}
	_, err := p.PublishBatch(ctx, "", []gdpr.Message{{ID: "m1"}})
	require.Error(t, err)
	require.Empty(t, bus.calls)
	require.Empty(t, bus.created, "no sender opened for nothing")
}

func TestPublishBatchErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")

	t.Run("send", func(t *testing.T) {
		p, bus := newTestPublisher()
		bus.err = boom
		refs, err := p.PublishBatch(ctx, gdpr.QueueMail, []gdpr.Message{{ID: "m1"}, {ID: "m2", NotBefore: t0.Add(time.Hour)}})
		require.ErrorIs(t, err, boom)
		require.Nil(t, refs)
		require.Len(t, bus.calls, 1, "stops at the first failure")
	})

	t.Run("schedule", func(t *testing.T) {
		p, bus := newTestPublisher()
		bus.err = boom
		_, err := p.PublishBatch(ctx, gdpr.QueueMail, []gdpr.Message{{ID: "m1", NotBefore: t0.Add(time.Hour)}})
		require.ErrorIs(t, err, boom)
		require.ErrorContains(t, err, "schedule on "+gdpr.QueueMail)
	})

	t.Run("closed", func(t *testing.T) {
		p, _ := newTestPublisher()
		require.NoError(t, p.Close(ctx))
		_, err := p.PublishBatch(ctx, gdpr.QueueMail, []gdpr.Message{{ID: "m1"}})
		require.Error(t, err)
	})
}
