// Package servicebus publishes gdpr jobs to Azure Service Bus queues: the gdpr.Queue port in
// Azure mode. Consumers are Azure Functions triggered by the same queues.
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
	_ gdpr.Queue = (*Publisher)(nil)
	_ sender     = (*azservicebus.Sender)(nil)
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

// sender is the part of *azservicebus.Sender the Publisher uses, so tests can fake it.
type sender interface {
	SendMessage(ctx context.Context, m *azservicebus.Message, o *azservicebus.SendMessageOptions) error
	ScheduleMessages(ctx context.Context, ms []*azservicebus.Message, at time.Time, o *azservicebus.ScheduleMessagesOptions) ([]int64, error)
	CancelScheduledMessages(ctx context.Context, seqs []int64, o *azservicebus.CancelScheduledMessagesOptions) error
	Close(ctx context.Context) error
}

// Publisher implements gdpr.Queue. It keeps one sender per queue, since a sender holds an
// AMQP link that is costly to open; it is safe for concurrent use.
type Publisher struct {
	newSender func(queue string) (sender, error)
	now       func() time.Time

	mu      sync.Mutex
	senders map[string]sender
	closed  bool
}

// New returns a Publisher on client. The caller owns client: Close closes the senders only.
func New(client *azservicebus.Client) *Publisher {
	return newPublisher(func(queue string) (sender, error) {
		return client.NewSender(queue, nil)
	}, time.Now)
}

func newPublisher(newSender func(string) (sender, error), now func() time.Time) *Publisher {
	return &Publisher{newSender: newSender, now: now, senders: map[string]sender{}}
}

// Publish sends m now, or schedules it when m.NotBefore is in the future. A scheduled message's
// ref is its sequence number, which Cancel takes; a message sent now has ref "", since there
// is nothing left to cancel.
//
// m.ID becomes the Service Bus MessageID, so with duplicate detection on the queue a repeated
// Publish of a queued id is dropped. A repeated schedule is dropped too, but still gets a
// sequence number of its own: cancelling that one does not cancel the first.
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
	seqs, err := s.ScheduleMessages(ctx, []*azservicebus.Message{msg}, at, nil)
	if err != nil {
		return "", fmt.Errorf("servicebus: schedule on %s: %w", queue, err)
	}
	if len(seqs) != 1 {
		return "", fmt.Errorf("servicebus: schedule on %s: got %d sequence numbers for 1 message", queue, len(seqs))
	}
	return formatRef(seqs[0]), nil
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

// Close closes every sender. Publish and Cancel fail afterwards.
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
func (p *Publisher) sender(queue string) (sender, error) {
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
