// Package queuetest is the conformance suite of the gdpr.Queue port, in the manner of go-cloud's
// pubsub/drivertest: every implementation runs Run, so the domain can rely on the contract in
// internal/gdpr/ports.go and nothing more.
//
// The port only publishes and cancels; what a queue then does with a message shows either in
// its deliveries or, for an adapter whose broker is out of reach, in the requests it makes to
// that broker. So a harness is one of two kinds, and says which by the interface it implements:
//
//   - A Deliverer consumes (localqueue). The suite sees every delivery and decides its outcome,
//     and shows end to end: publish and consume, deduplication by id, NotBefore scheduling,
//     cancel, the order of a batch's refs, redelivery after a failed handler, dead-lettering
//     after the delivery limit.
//   - A Recorder cannot consume, because no broker is reachable (Service Bus in tests), and
//     records instead what reached the broker's client library. The suite shows the mapping
//     the broker's behaviour rests on: the message id becomes the broker's message id, a
//     future NotBefore becomes the scheduled enqueue time, a ref cancels that message's
//     scheduled sequence number, a batch's refs and messages keep their order. What only a
//     broker can show is skipped, each skip quoting the reason the harness gives; nothing that
//     was not checked passes.
//
// Nothing sleeps. The service clock is the harness's and moves only when the suite moves it,
// and every wait is for a condition, bounded only by go test's -timeout: how long a delivery
// takes depends on how loaded the machine is, which no test can know.
package queuetest

import (
	"context"
	"testing"
	"time"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
)

// Harness is what every implementation supplies for one subtest; it must also be a Deliverer
// or a Recorder.
type Harness interface {
	// Queue is the implementation under test, fresh for this subtest.
	Queue() gdpr.Queue
	// Now is the service clock the queue decides due times by. It stands still until Advance
	// moves it; Clock is one ready to embed.
	Now() time.Time
	Advance(d time.Duration)
}

// Deliverer is a harness whose queue delivers what it is given.
type Deliverer interface {
	Harness
	// Consume delivers the messages of queue to handle until the subtest ends. An error or a
	// panic from handle fails the delivery; nil completes the message.
	Consume(t *testing.T, queue string, handle Handler)
	// Drain waits until queue has no message that is due by Now and not yet settled: each has
	// been delivered and its outcome recorded. A message waiting out its retry delay is not
	// due. It returns ctx's error if ctx ends first.
	Drain(ctx context.Context, queue string) error
	// RetryDelay is the longest a failed delivery waits, by the service clock, before the
	// message is due again.
	RetryDelay() time.Duration
	// MaxDeliveries is how many deliveries a message gets before it is dead-lettered.
	MaxDeliveries() int
	// DeadLetters lists the messages of queue that were given up on.
	DeadLetters(ctx context.Context, queue string) ([]DeadLetter, error)
}

// Recorder is a harness that cannot deliver and records what its queue asked of the broker.
type Recorder interface {
	Harness
	// NoDelivery says why this harness cannot deliver, such as "no broker is reachable from
	// tests". Every check it skips quotes it; it must not be empty.
	NoDelivery() string
	// Sent lists the messages that publishes to queue handed to the broker, in request order.
	Sent(queue string) []Sent
	// Cancelled lists, in order, the refs of the scheduled messages that Cancel asked the
	// broker to withdraw from queue, whether or not the broker still held them.
	Cancelled(queue string) []string
}

// Sent is one message as a Recorder's broker received it.
type Sent struct {
	// MessageID is what the broker deduplicates by.
	MessageID string
	Body      []byte
	// EnqueueAt is when the broker is to make the message available: zero for a message sent
	// for delivery now, else its scheduled enqueue time.
	EnqueueAt time.Time
	// Ref is the reference of a scheduled message as the port spells it (for Service Bus, its
	// sequence number); "" for a message sent now, which there is nothing left to cancel of.
	Ref string
}

// Delivery is one attempt at handling a message.
type Delivery struct {
	ID   string
	Body []byte
	// DeliveryCount is 1 on the first delivery of the message.
	DeliveryCount int
}

// Handler handles a delivery; see Deliverer.Consume.
type Handler func(ctx context.Context, d Delivery) error

// DeadLetter is a message a Deliverer gave up on.
type DeadLetter struct {
	ID            string
	DeliveryCount int
}

// NewClock is the service clock a harness embeds: one that stands at a whole second in UTC
// and moves only when the suite advances it (clocktest.Manual, the tests' one clock).
func NewClock() *clocktest.Manual {
	return clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

// check is one behaviour of the port, shown by delivery, by recorded requests, or both. A nil
// record means only a broker can show it, and a Recorder skips it.
type check struct {
	name    string
	deliver func(t *testing.T, h Deliverer)
	record  func(t *testing.T, h Recorder)
	// needs names what record cannot show, for the skip message.
	needs string
}

var checks = []check{
	{name: "PublishConsume", deliver: deliverPublish, record: recordPublish},
	{name: "DedupByID", deliver: deliverDedup, record: recordDedup},
	{name: "NotBefore", deliver: deliverNotBefore, record: recordNotBefore},
	{name: "Cancel", deliver: deliverCancel, record: recordCancel},
	{name: "PublishBatchRefsInOrder", deliver: deliverBatch, record: recordBatch},
	{name: "RedeliveryAfterFailedHandler", deliver: deliverRedelivery,
		needs: "redelivery after a failed handler is the broker's doing"},
	{name: "DeadLetterAfterDeliveryLimit", deliver: deliverDeadLetter,
		needs: "dead-lettering after the delivery limit is the broker's doing"},
}

// Run runs the suite, each check in a parallel subtest on a harness of its own from
// newHarness. A harness that is both a Deliverer and a Recorder is taken as a Deliverer.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			switch h := newHarness(t).(type) {
			case Deliverer:
				c.deliver(t, h)
			case Recorder:
				if h.NoDelivery() == "" {
					t.Fatalf("%T cannot deliver and does not say why: NoDelivery is empty", h)
				}
				if c.record == nil {
					t.Skipf("%s, and %T cannot deliver: %s", c.needs, h, h.NoDelivery())
				}
				c.record(t, h)
			default:
				t.Fatalf("%T is neither a Deliverer nor a Recorder: the suite could observe nothing", h)
			}
		})
	}
}

// needsBroker marks, as a skipped subtest, a part of a check that a Recorder cannot show, so
// that the test output lists it rather than passing it silently.
func needsBroker(t *testing.T, h Recorder, what string) {
	t.Helper()
	t.Run(what, func(t *testing.T) {
		t.Skipf("only a broker can show this, and %T cannot deliver: %s", h, h.NoDelivery())
	})
}

// waitContext bounds a wait by go test's own -timeout and by nothing else. It ends a little
// before the test binary's deadline, so that a wait that never ends fails the test naming
// what it waited for, instead of a panic dumping every goroutine.
func waitContext(t *testing.T) (context.Context, context.CancelFunc) {
	if deadline, ok := t.Deadline(); ok {
		return context.WithDeadline(context.Background(), deadline.Add(-time.Until(deadline)/20))
	}
	return context.WithCancel(context.Background()) // no -timeout: wait as long as it takes
}
