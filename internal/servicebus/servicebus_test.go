package servicebus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestToMessage(t *testing.T) {
	body := []byte(`{"userId":"u1"}`)

	t.Run("now", func(t *testing.T) {
		msg, _, schedule := toMessage(gdpr.Message{ID: "erase-u1", Body: body}, t0)
		require.False(t, schedule)
		require.Equal(t, "erase-u1", *msg.MessageID)
		require.Equal(t, "application/json", *msg.ContentType)
		require.Equal(t, body, msg.Body)
		require.Nil(t, msg.ScheduledEnqueueTime, "scheduling goes through ScheduleMessages, not the field")
	})

	t.Run("past or present NotBefore sends now", func(t *testing.T) {
		for _, nb := range []time.Time{t0, t0.Add(-time.Hour)} {
			_, _, schedule := toMessage(gdpr.Message{ID: "x", NotBefore: nb}, t0)
			require.False(t, schedule)
		}
	})

	t.Run("future NotBefore schedules, in UTC", func(t *testing.T) {
		paris := time.FixedZone("CET", 3600)
		nb := t0.Add(30 * 24 * time.Hour).In(paris)
		_, at, schedule := toMessage(gdpr.Message{ID: "x", NotBefore: nb}, t0)
		require.True(t, schedule)
		require.True(t, at.Equal(nb))
		require.Equal(t, time.UTC, at.Location())
	})

	t.Run("empty ID gets a fresh one", func(t *testing.T) {
		a, _, _ := toMessage(gdpr.Message{Body: body}, t0)
		b, _, _ := toMessage(gdpr.Message{Body: body}, t0)
		require.NotEmpty(t, *a.MessageID)
		require.NotEqual(t, *a.MessageID, *b.MessageID)
	})
}

func TestMessageIDFitsServiceBus(t *testing.T) {
	short := strings.Repeat("a", maxMessageID)
	require.Equal(t, short, messageID(short))

	long := "erase:" + strings.Repeat("b", 63) + ":" + strings.Repeat("u", 64) + ":brand_contract_end:1"
	got := messageID(long)
	require.LessOrEqual(t, len(got), maxMessageID)
	require.Equal(t, got, messageID(long), "same id, same MessageId: deduplication holds")
	require.NotEqual(t, got, messageID(long+"2"))

	msg, _, _ := toMessage(gdpr.Message{ID: long}, t0)
	require.Equal(t, got, *msg.MessageID)
}

func TestParseRef(t *testing.T) {
	for ref, want := range map[string]int64{"0": 0, "42": 42, "9223372036854775807": 1<<63 - 1} {
		seq, ok := parseRef(ref)
		require.True(t, ok, ref)
		require.Equal(t, want, seq)
		require.Equal(t, ref, formatRef(seq))
	}
	for _, ref := range []string{"", "abc", "4 2", "1.5", "0x10", "9223372036854775808"} {
		_, ok := parseRef(ref)
		require.False(t, ok, ref)
	}
}

// call is one request the fake sender received.
type call struct {
	Queue string
	Op    string                  // send, sendBatch, schedule, cancel, close
	Msg   *azservicebus.Message   // send
	Msgs  []*azservicebus.Message // sendBatch, schedule
	At    time.Time
	Seqs  []int64
}

// fakeBus hands out senders that record every request, in order, and answer with sequence
// numbers counting up from nextSeq, or with err when set. Its batches hold batchCap messages
// (0: any number) and refuse a body longer than maxBody bytes even when empty (0: no limit).
// Like the service, it answers a cancel of a sequence number it does not hold as scheduled
// with "not found".
type fakeBus struct {
	mu        sync.Mutex
	calls     []call
	created   []string
	nextSeq   int64
	err       error
	batchCap  int
	maxBody   int
	batches   int                             // NewMessageBatch calls
	seqOf     map[*azservicebus.Message]int64 // the sequence number each scheduled message got
	scheduled map[int64]bool                  // sequence numbers scheduled and not cancelled
}

func (b *fakeBus) newSender(queue string) (sender[*fakeBatch], error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.created = append(b.created, queue)
	return &fakeSender{bus: b, queue: queue}, nil
}

func (b *fakeBus) record(c call) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, c)
	return b.err
}

type fakeSender struct {
	bus   *fakeBus
	queue string
}

// fakeBatch stands in for *azservicebus.MessageBatch, whose size limit a test cannot set.
type fakeBatch struct {
	capacity, maxBody int
	msgs              []*azservicebus.Message
}

func (b *fakeBatch) AddMessage(m *azservicebus.Message, _ *azservicebus.AddMessageOptions) error {
	if (b.maxBody > 0 && len(m.Body) > b.maxBody) || (b.capacity > 0 && len(b.msgs) == b.capacity) {
		return azservicebus.ErrMessageTooLarge
	}
	b.msgs = append(b.msgs, m)
	return nil
}

func (s *fakeSender) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	return s.bus.record(call{Queue: s.queue, Op: "send", Msg: m})
}

func (s *fakeSender) NewMessageBatch(context.Context, *azservicebus.MessageBatchOptions) (*fakeBatch, error) {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	s.bus.batches++
	return &fakeBatch{capacity: s.bus.batchCap, maxBody: s.bus.maxBody}, nil
}

func (s *fakeSender) SendMessageBatch(_ context.Context, b *fakeBatch, _ *azservicebus.SendMessageBatchOptions) error {
	return s.bus.record(call{Queue: s.queue, Op: "sendBatch", Msgs: b.msgs})
}

func (s *fakeSender) ScheduleMessages(_ context.Context, ms []*azservicebus.Message, at time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	if err := s.bus.record(call{Queue: s.queue, Op: "schedule", Msgs: ms, At: at}); err != nil {
		return nil, err
	}
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if s.bus.seqOf == nil {
		s.bus.seqOf, s.bus.scheduled = map[*azservicebus.Message]int64{}, map[int64]bool{}
	}
	seqs := make([]int64, len(ms))
	for i, m := range ms {
		s.bus.nextSeq++
		seqs[i] = s.bus.nextSeq
		s.bus.seqOf[m], s.bus.scheduled[seqs[i]] = seqs[i], true
	}
	return seqs, nil
}

func (s *fakeSender) CancelScheduledMessages(_ context.Context, seqs []int64, _ *azservicebus.CancelScheduledMessagesOptions) error {
	if err := s.bus.record(call{Queue: s.queue, Op: "cancel", Seqs: seqs}); err != nil {
		return err
	}
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	for _, seq := range seqs {
		if !s.bus.scheduled[seq] {
			return &azservicebus.Error{Code: azservicebus.CodeNotFound}
		}
		delete(s.bus.scheduled, seq)
	}
	return nil
}

func (s *fakeSender) Close(context.Context) error {
	return s.bus.record(call{Queue: s.queue, Op: "close"})
}

func newTestPublisher() (*Publisher, *fakeBus) {
	bus := &fakeBus{nextSeq: 41}
	return newPublisher(bus.newSender, func() time.Time { return t0 }), bus
}

func TestPublishNow(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()

	ref, err := p.Publish(ctx, gdpr.QueueMail, gdpr.Message{ID: "m1", Body: []byte(`{}`)})
	require.NoError(t, err)
	require.Empty(t, ref, "nothing to cancel once sent")

	require.Len(t, bus.calls, 1)
	c := bus.calls[0]
	require.Equal(t, gdpr.QueueMail, c.Queue)
	require.Equal(t, "send", c.Op)
	require.Equal(t, "m1", *c.Msg.MessageID)
	require.Equal(t, "application/json", *c.Msg.ContentType)
	require.Equal(t, []byte(`{}`), c.Msg.Body)

	require.NoError(t, p.Cancel(ctx, gdpr.QueueMail, ref))
	require.Len(t, bus.calls, 1, "cancelling an empty ref makes no request")
}

func TestPublishScheduledThenCancel(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()
	nb := t0.Add(24 * time.Hour)

	ref, err := p.Publish(ctx, gdpr.QueueErasure, gdpr.Message{ID: "e1", Body: []byte(`{}`), NotBefore: nb})
	require.NoError(t, err)
	require.Equal(t, "42", ref)

	require.NoError(t, p.Cancel(ctx, gdpr.QueueErasure, ref))
	require.Equal(t, []call{
		{Queue: gdpr.QueueErasure, Op: "schedule", Msgs: bus.calls[0].Msgs, At: nb},
		{Queue: gdpr.QueueErasure, Op: "cancel", Seqs: []int64{42}},
	}, bus.calls)
	require.Len(t, bus.calls[0].Msgs, 1)
	require.Equal(t, "e1", *bus.calls[0].Msgs[0].MessageID)
}

func TestCancel(t *testing.T) {
	ctx := context.Background()

	t.Run("non-numeric ref is a no-op", func(t *testing.T) {
		p, bus := newTestPublisher()
		require.NoError(t, p.Cancel(ctx, gdpr.QueueMail, "m1"))
		require.Empty(t, bus.calls)
		require.Empty(t, bus.created, "no sender opened for nothing")
	})

	t.Run("not found is success", func(t *testing.T) {
		p, bus := newTestPublisher()
		bus.err = fmt.Errorf("wrapped: %w", &azservicebus.Error{Code: azservicebus.CodeNotFound})
		require.NoError(t, p.Cancel(ctx, gdpr.QueueMail, "7"))
		require.Len(t, bus.calls, 1)
	})

	t.Run("other errors are returned", func(t *testing.T) {
		p, bus := newTestPublisher()
		bus.err = &azservicebus.Error{Code: azservicebus.CodeConnectionLost}
		err := p.Cancel(ctx, gdpr.QueueMail, "7")
		require.ErrorIs(t, err, bus.err)
	})
}

func TestPublishErrors(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()
	bus.err = errors.New("boom")

	_, err := p.Publish(ctx, gdpr.QueueMail, gdpr.Message{ID: "m1"})
	require.ErrorIs(t, err, bus.err)
	_, err = p.Publish(ctx, gdpr.QueueMail, gdpr.Message{ID: "m1", NotBefore: t0.Add(time.Hour)})
	require.ErrorIs(t, err, bus.err)
	_, err = p.Publish(ctx, "", gdpr.Message{ID: "m1"})
	require.Error(t, err)
	require.Len(t, bus.calls, 2, "an empty queue name is refused before any request")
}

// One sender per queue, shared by concurrent publishers; Close closes each once.
func TestSendersCachedAndClosed(t *testing.T) {
	ctx := context.Background()
	p, bus := newTestPublisher()

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			q := []string{gdpr.QueueMail, gdpr.QueueErasure}[i%2]
			_, err := p.Publish(ctx, q, gdpr.Message{ID: fmt.Sprint(i)})
			assert.NoError(t, err) // not require: FailNow must not run off the test goroutine
		})
	}
	wg.Wait()
	require.ElementsMatch(t, []string{gdpr.QueueMail, gdpr.QueueErasure}, bus.created)

	bus.calls = nil
	require.NoError(t, p.Close(ctx))
	require.ElementsMatch(t, []call{
		{Queue: gdpr.QueueMail, Op: "close"},
		{Queue: gdpr.QueueErasure, Op: "close"},
	}, bus.calls)

	_, err := p.Publish(ctx, gdpr.QueueMail, gdpr.Message{ID: "late"})
	require.Error(t, err)
	require.NoError(t, p.Close(ctx), "Close is idempotent")
}

// The constructors connect lazily, so they can be exercised without a namespace.
func TestConstructorsAreLazy(t *testing.T) {
	cred, err := azidentity.NewClientSecretCredential("00000000-0000-0000-0000-000000000000", "client", "secret", nil)
	require.NoError(t, err)
	client, err := NewClientWithCredential("popsell-test.servicebus.windows.net", cred)
	require.NoError(t, err)
	p := New(client)
	s, err := p.sender(gdpr.QueueMail)
	require.NoError(t, err)
	require.IsType(t, anyBatch[*azservicebus.MessageBatch]{}, s)
	require.IsType(t, &azservicebus.Sender{}, s.(anyBatch[*azservicebus.MessageBatch]).sender)
	require.NoError(t, p.Close(context.Background()))
	require.NoError(t, client.Close(context.Background()))
}
