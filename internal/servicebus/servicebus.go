// Package servicebus publishes gdpr jobs to Azure Service Bus queues: the gdpr.Queue port in
// Azure mode. Consumers are Azure Functions triggered by the same queues.
//
// Duplicate detection. Every message carries its gdpr.Message.ID as MessageId, but Service Bus
// drops a repeated MessageId only if the queue was created with requiresDuplicateDetection:
// Standard or Premium tier (Basic has none), and only at creation — it cannot be turned on
// for an existing queue, which has to be recreated. The queue then remembers each MessageId
// for duplicateDetectionHistoryTimeWindow (20 s to 7 days) counted from when the message was
// first sent or scheduled, whatever became of it since: a message completed a minute after it
// was sent still blocks its id for the whole window, and a message still scheduled (an
// erasure after a 7-day grace) no longer blocks it once the window has passed. A repeated
// send within the window is accepted and silently dropped. So the id guards against the
// retries of one publish, not against publishing the same job again later: consumers must
// stay idempotent (they re-check state), and without detection on the queue every publish
// is a new message.
//
// The mapping from gdpr.Message to the SDK's message, the choice between sending and
// scheduling, and the parsing of cancel references are pure functions, tested without a
// namespace; the SDK sender sits behind a small interface so tests record what would be sent.
package servicebus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"popsell-gdpr/internal/gdpr"
)

var (
	_ gdpr.Queue                         = (*Publisher)(nil)
	_ sender[*azservicebus.MessageBatch] = (*azservicebus.Sender)(nil)
	_ messageBatch                       = (*azservicebus.MessageBatch)(nil)
	_ sender[messageBatch]               = anyBatch[*azservicebus.MessageBatch]{}
)

// NewClientWithCredential connects to a namespace ("<name>.servicebus.windows.net") with a
// token credential such as a managed identity. The connection is opened lazily, on first use.
func NewClientWithCredential(namespace string, cred azcore.TokenCredential) (*azservicebus.Client, error) {
	c, err := azservicebus.NewClient(namespace, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("servicebus: client: %w", err)
	}
	return c, nil
}

// sender is the part of *azservicebus.Sender the Publisher uses, so tests can fake it. B is the
// message batch type, *azservicebus.MessageBatch in production: a test cannot make one that
// holds a chosen number of messages (its constructor is unexported), so the fake brings its own.
type sender[B messageBatch] interface {
	SendMessage(ctx context.Context, m *azservicebus.Message, o *azservicebus.SendMessageOptions) error
	NewMessageBatch(ctx context.Context, o *azservicebus.MessageBatchOptions) (B, error)
	SendMessageBatch(ctx context.Context, b B, o *azservicebus.SendMessageBatchOptions) error
	ScheduleMessages(ctx context.Context, ms []*azservicebus.Message, at time.Time, o *azservicebus.ScheduleMessagesOptions) ([]int64, error)
	CancelScheduledMessages(ctx context.Context, seqs []int64, o *azservicebus.CancelScheduledMessagesOptions) error
	Close(ctx context.Context) error
}

// messageBatch is the part of *azservicebus.MessageBatch the Publisher uses. AddMessage returns
// azservicebus.ErrMessageTooLarge when the message does not fit in what is left of the batch.
type messageBatch interface {
	AddMessage(m *azservicebus.Message, o *azservicebus.AddMessageOptions) error
}

// anyBatch hides a sender's batch type, so that the Publisher needs no type parameter. Its
// batches come from the sender it wraps, so the assertion in SendMessageBatch always holds.
type anyBatch[B messageBatch] struct{ sender[B] }

func (s anyBatch[B]) NewMessageBatch(ctx context.Context, o *azservicebus.MessageBatchOptions) (messageBatch, error) {
	b, err := s.sender.NewMessageBatch(ctx, o)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (s anyBatch[B]) SendMessageBatch(ctx context.Context, b messageBatch, o *azservicebus.SendMessageBatchOptions) error {
	return s.sender.SendMessageBatch(ctx, b.(B), o)
}

// Publisher implements gdpr.Queue. It keeps one sender per queue, since a sender holds an
// AMQP link that is costly to open; it is safe for concurrent use.
type Publisher struct {
	newSender func(queue string) (sender[messageBatch], error)
	now       func() time.Time

	mu      sync.Mutex
	senders map[string]sender[messageBatch]
	closed  bool
}

// New returns a Publisher on client. The caller owns client: Close closes the senders only.
func New(client *azservicebus.Client) *Publisher {
	return newPublisher(func(queue string) (sender[*azservicebus.MessageBatch], error) {
		return client.NewSender(queue, nil)
	}, time.Now)
}

func newPublisher[B messageBatch](newSender func(string) (sender[B], error), now func() time.Time) *Publisher {
	return &Publisher{
		newSender: func(queue string) (sender[messageBatch], error) {
			s, err := newSender(queue)
			if err != nil {
				return nil, err
			}
			return anyBatch[B]{s}, nil
		},
		now:     now,
		senders: map[string]sender[messageBatch]{},
	}
}

// Publish sends m now, or schedules it when m.NotBefore is in the future. A scheduled message's
// ref is its sequence number, which Cancel takes; a message sent now has ref "", since there
// is nothing left to cancel.
//
// m.ID becomes the Service Bus MessageID, so with duplicate detection on the queue a repeated
// Publish of an id within the detection window of its first send is dropped (see the package
// comment for what the window is and is not). A repeated schedule is dropped too, but still
// gets a sequence number of its own: cancelling that one does not cancel the first.
func (p *Publisher) Publish(ctx context.Context, queue string, m gdpr.Message) (string, error) {
	if queue == "" {
		return "", errors.New("servicebus: publish: empty queue name")
	}
	msg, at, schedule := toMessage(m, p.now())
	s, err := p.sender(queue)
	if err != nil {
		return "", err
	}
	if !schedule {
		if err := s.SendMessage(ctx, msg, nil); err != nil {
			return "", fmt.Errorf("servicebus: send to %s: %w", queue, err)
		}
		return "", nil
	}
	seqs, err := scheduleMessages(ctx, s, queue, []*azservicebus.Message{msg}, at)
	if err != nil {
		return "", err
	}
	return formatRef(seqs[0]), nil
}

// PublishBatch publishes msgs by Publish's rules and returns their refs in order: "" for a
// message sent now, the sequence number for a scheduled one. The messages due now go out in
// as few SDK message batches as their size allows, each batch one request; the scheduled ones
// in one ScheduleMessages request per distinct NotBefore, since a request takes one enqueue
// time. Batches and requests apply one by one, so a failure can leave earlier ones applied;
// the message ids make a prompt retry harmless under duplicate detection.
func (p *Publisher) PublishBatch(ctx context.Context, queue string, msgs []gdpr.Message) ([]string, error) {
	if queue == "" {
		return nil, errors.New("servicebus: publish: empty queue name")
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	now := p.now()
	type group struct {
		at   time.Time
		idx  []int // positions in msgs, for the refs
		msgs []*azservicebus.Message
	}
	var (
		due    []*azservicebus.Message
		groups []*group // in order of first appearance, so requests are deterministic
		byTime = map[time.Time]*group{}
		refs   = make([]string, len(msgs))
	)
	for i, m := range msgs {
		msg, at, scheduled := toMessage(m, now)
		if !scheduled {
			due = append(due, msg)
			continue
		}
		g := byTime[at] // at is in UTC without a monotonic reading, so == is instant equality
		if g == nil {
			g = &group{at: at}
			byTime[at] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
		g.msgs = append(g.msgs, msg)
	}
	s, err := p.sender(queue)
	if err != nil {
		return nil, err
	}
	if err := sendBatches(ctx, s, due); err != nil {
		return nil, fmt.Errorf("servicebus: send to %s: %w", queue, err)
	}
	for _, g := range groups {
		seqs, err := scheduleMessages(ctx, s, queue, g.msgs, g.at)
		if err != nil {
			return nil, err
		}
		for k, i := range g.idx {
			refs[i] = formatRef(seqs[k])
		}
	}
	return refs, nil
}

// sendBatches sends msgs in order, filling each batch until AddMessage finds it full, then
// sending it and starting the next. A message too large for an empty batch is an error.
func sendBatches(ctx context.Context, s sender[messageBatch], msgs []*azservicebus.Message) error {
	var (
		batch messageBatch
		n     int // messages in batch
	)
	for i := 0; i < len(msgs); {
		if batch == nil {
			b, err := s.NewMessageBatch(ctx, nil)
			if err != nil {
				return fmt.Errorf("new message batch: %w", err)
			}
			batch, n = b, 0
		}
		err := batch.AddMessage(msgs[i], nil)
		switch {
		case err == nil:
			n++
			i++
		case errors.Is(err, azservicebus.ErrMessageTooLarge) && n > 0:
			if err := s.SendMessageBatch(ctx, batch, nil); err != nil {
				return err
			}
			batch = nil // msgs[i] goes into the next one
		case errors.Is(err, azservicebus.ErrMessageTooLarge):
			return fmt.Errorf("message %d of %d (%d bytes of body) does not fit in a batch on its own: %w",
				i+1, len(msgs), len(msgs[i].Body), err)
		default:
			return fmt.Errorf("add message to batch: %w", err)
		}
	}
	if n > 0 {
		return s.SendMessageBatch(ctx, batch, nil)
	}
	return nil
}

// scheduleMessages schedules msgs for at and returns their sequence numbers, one per message, in the
// order of msgs.
func scheduleMessages(ctx context.Context, s sender[messageBatch], queue string, msgs []*azservicebus.Message, at time.Time) ([]int64, error) {
	seqs, err := s.ScheduleMessages(ctx, msgs, at, nil)
	if err != nil {
		return nil, fmt.Errorf("servicebus: schedule on %s: %w", queue, err)
	}
	if len(seqs) != len(msgs) {
		return nil, fmt.Errorf("servicebus: schedule on %s: got %d sequence numbers for %d messages", queue, len(seqs), len(msgs))
	}
	return seqs, nil
}

// Cancel withdraws a scheduled message. A ref that is empty or not a sequence number (a
// message that was sent at once) is a no-op. The service answers "not found" (404) for a
// sequence number it does not hold as scheduled — unknown, already enqueued, or already
// cancelled — which the port counts as success.
func (p *Publisher) Cancel(ctx context.Context, queue, ref string) error {
	seq, ok := parseRef(ref)
	if !ok {
		return nil
	}
	s, err := p.sender(queue)
	if err != nil {
		return err
	}
	err = s.CancelScheduledMessages(ctx, []int64{seq}, nil)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("servicebus: cancel on %s: %w", queue, err)
	}
	return nil
}

// Close closes every sender. Publish, PublishBatch and Cancel fail afterwards.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	senders := p.senders
	p.senders, p.closed = nil, true
	p.mu.Unlock()

	var errs []error
	for queue, s := range senders {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("servicebus: close sender for %s: %w", queue, err))
		}
	}
	return errors.Join(errs...)
}

// sender returns the queue's sender, creating it on first use. Creating one does no I/O (the
// SDK opens the link on first send), so holding the lock while doing it is cheap.
func (p *Publisher) sender(queue string) (sender[messageBatch], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("servicebus: publisher closed")
	}
	if s, ok := p.senders[queue]; ok {
		return s, nil
	}
	s, err := p.newSender(queue)
	if err != nil {
		return nil, fmt.Errorf("servicebus: sender for %s: %w", queue, err)
	}
	p.senders[queue] = s
	return s, nil
}

// toMessage maps m to the SDK message and decides whether to schedule it: only when NotBefore
// is after now. Scheduling returns a sequence number to cancel with; sending does not. An
// empty ID gets a fresh one, as in localqueue: such a message has nothing to deduplicate
// against, and every message then carries an id to trace it by.
func toMessage(m gdpr.Message, now time.Time) (msg *azservicebus.Message, at time.Time, schedule bool) {
	id := m.ID
	if id == "" {
		id = gdpr.NewID("msg_", now)
	}
	msg = &azservicebus.Message{
		MessageID:   to.Ptr(messageID(id)),
		ContentType: to.Ptr("application/json"),
		Body:        m.Body,
	}
	if m.NotBefore.After(now) {
		return msg, m.NotBefore.UTC(), true
	}
	return msg, time.Time{}, false
}

// maxMessageID is the longest MessageId Service Bus accepts, in characters.
const maxMessageID = 128

// messageID fits id into a Service Bus MessageId. A longer id (erasure job ids embed a brand
// id, a subject id and more, and can reach about 200 characters) is replaced by its SHA-256:
// still the same for the same id, so duplicate detection keeps working.
func messageID(id string) string {
	if len(id) <= maxMessageID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func formatRef(seq int64) string { return strconv.FormatInt(seq, 10) }

// parseRef reads a sequence number back from a ref; ok is false for "" and anything that is
// not a decimal integer.
func parseRef(ref string) (seq int64, ok bool) {
	seq, err := strconv.ParseInt(ref, 10, 64)
	return seq, err == nil
}

// isNotFound matches the SDK's translation of a 404 from the management link.
func isNotFound(err error) bool {
	var sbErr *azservicebus.Error
	return errors.As(err, &sbErr) && sbErr.Code == azservicebus.CodeNotFound
}
