package localqueue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Delivery is one attempt at handling a message.
type Delivery struct {
	Queue string
	Ref   string
	ID    string
	Body  []byte
	// DeliveryCount is 1 on the first delivery, as in Service Bus, so a handler can tell a
	// retry and decide, say, to re-check state before acting again.
	DeliveryCount int
	EnqueuedAt    time.Time
}

// Handler processes a delivery. Returning nil completes the message; an error or a panic
// schedules a retry. The context ends when the consumer stops or the message's lock runs out.
type Handler func(ctx context.Context, d Delivery) error

// Failure classes recorded on a message instead of the error text, which may hold personal
// data.
const (
	ClassHandlerError = "handler error" // the handler returned an error
	ClassPanic        = "panic"         // the handler panicked
	ClassTimeout      = "timeout"       // the handler gave up when its lock ran out
	ClassLeaseExpired = "lease expired" // no outcome before the lock lapsed: a crash or hang
)

var errPanic = errors.New("handler panicked")

// Consume delivers the due messages of queue to handler, running up to concurrency handlers
// at once, until ctx ends or the Queue is closed. It then waits for running handlers, whose
// contexts are cancelled too, for at most DrainTimeout, and returns nil. Several Consume calls
// may serve the same queue; each message goes to one of them at a time.
func (q *Queue) Consume(ctx context.Context, queue string, handler Handler, concurrency int) error {
	if queue == "" || handler == nil {
		return errors.New("localqueue: consume: queue name and handler are required")
	}
	if concurrency < 1 {
		concurrency = 1
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.consumers.Add(1)
	q.consumed[queue]++
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		if q.consumed[queue]--; q.consumed[queue] == 0 {
			delete(q.consumed, queue)
		}
		q.mu.Unlock()
		q.consumers.Done()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-q.closing:
			cancel()
		case <-ctx.Done():
		}
	}()

	c := &consumer{q: q, queue: queue, handler: handler, slots: make(chan struct{}, concurrency)}
	c.loop(ctx)
	c.drain()
	return nil
}

type consumer struct {
	q       *Queue
	queue   string
	handler Handler
	slots   chan struct{}
	running sync.WaitGroup
}

func (c *consumer) loop(ctx context.Context) {
	wake := c.q.wakeSignal(c.queue)
	for {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		for {
			woken := wake.wait()
			d, token, next, err := c.q.claim(ctx, c.queue)
			if err != nil {
				if ctx.Err() != nil {
					<-c.slots
					return
				}
				c.q.log.Error("localqueue: claim failed", "queue", c.queue, "error", err)
			}
			if d != nil {
				if ctx.Err() != nil {
					c.q.release(d.Queue, d.Ref, token)
					<-c.slots
					return
				}
				c.running.Add(1)
				go c.run(ctx, *d, token)
				break
			}
			if !c.sleep(ctx, woken, next) {
				<-c.slots
				return
			}
		}
	}
}

// sleep waits for a publish, the next due time or the poll interval, whichever comes first.
// The poll is what notices a jump of the service clock.
func (c *consumer) sleep(ctx context.Context, woken <-chan struct{}, next time.Duration) bool {
	wait := c.q.opts.PollInterval
	if next > 0 && next < wait {
		wait = next
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-woken:
	case <-t.C:
	}
	return true
}

func (c *consumer) drain() {
	done := make(chan struct{})
	go func() {
		c.running.Wait()
		close(done)
	}()
	t := time.NewTimer(c.q.opts.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		c.q.log.Warn("localqueue: handlers still running after drain timeout", "queue", c.queue)
	}
}

func (c *consumer) run(ctx context.Context, d Delivery, token int64) {
	defer c.running.Done()
	defer func() { <-c.slots }()

	hctx, cancel := context.WithTimeout(ctx, c.q.opts.VisibilityTimeout)
	err := call(hctx, c.handler, d)
	timedOut := errors.Is(hctx.Err(), context.DeadlineExceeded)
	cancel()

	switch {
	case err == nil:
		c.q.complete(d, token)
	case ctx.Err() != nil:
		// Stopping, not failing: the handler most likely returned because its context ended.
		// Give the attempt back so shutdowns do not push messages towards the dead-letter state.
		c.q.release(d.Queue, d.Ref, token)
	default:
		class := ClassHandlerError
		switch {
		case errors.Is(err, errPanic):
			class = ClassPanic
		case timedOut:
			class = ClassTimeout
		}
		c.q.fail(d, token, class)
	}
}

// call runs h and turns a panic into errPanic. The panic value is dropped, not logged: it may
// be built from the message's subject.
func call(ctx context.Context, h Handler, d Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errPanic
		}
	}()
	return h(ctx, d)
}

// claim locks the next due message of queue and returns it with its lease token. With nothing
// due it returns how long until the earliest scheduled message is due by the service clock
// (0 if none), so the consumer can sleep exactly that long when it is sooner than a poll.
func (q *Queue) claim(ctx context.Context, queue string) (*Delivery, int64, time.Duration, error) {
	for {
		now := q.opts.Now().UnixMilli()
		wall := time.Now()
		token := q.tokens.Add(1)
		var (
			ref, enqueued int64
			id            string
			body          []byte
			count         int
		)
		err := q.db.QueryRowContext(ctx,
			`UPDATE messages SET lease_until = ?, lease_token = ?, delivery_count = delivery_count + 1
			 WHERE ref = (
			   SELECT ref FROM messages
			   WHERE queue = ? AND state = 'pending' AND not_before <= ?
			     AND (lease_until IS NULL OR lease_until <= ?)
			   ORDER BY not_before, ref LIMIT 1)
			 RETURNING ref, id, body, delivery_count, enqueued_at`,
			wall.Add(q.opts.VisibilityTimeout).UnixMilli(), token, queue, now, wall.UnixMilli(),
		).Scan(&ref, &id, &body, &count, &enqueued)
		if errors.Is(err, sql.ErrNoRows) {
			var next sql.NullInt64
			err = q.db.QueryRowContext(ctx,
				`SELECT MIN(not_before) FROM messages WHERE queue = ? AND state = 'pending' AND not_before > ?`,
				queue, now).Scan(&next)
			if err != nil || !next.Valid {
				return nil, 0, 0, err
			}
			return nil, 0, time.Duration(next.Int64-now) * time.Millisecond, nil
		}
		if err != nil {
			return nil, 0, 0, err
		}
		q.changed.notify()
		d := Delivery{
			Queue:         queue,
			Ref:           strconv.FormatInt(ref, 10),
			ID:            id,
			Body:          body,
			DeliveryCount: count,
			EnqueuedAt:    time.UnixMilli(enqueued).UTC(),
		}
		if count <= q.opts.MaxDeliveries {
			return &d, token, 0, nil
		}
		// Its last allowed delivery ended without an outcome: the lock lapsed or the process
		// died. Undo this delivery's count so the dead letter shows the deliveries made.
		ok, err := q.settle(
			`UPDATE messages SET state = 'dead', last_error = ?, dead_at = ?, delivery_count = delivery_count - 1,
			 lease_until = NULL, lease_token = NULL WHERE ref = ? AND lease_token = ?`,
			ClassLeaseExpired, now, ref, token)
		if err != nil {
			return nil, 0, 0, err
		}
		if ok {
			q.log.Error("localqueue: message dead-lettered", "queue", queue, "ref", d.Ref,
				"deliveries", count-1, "class", ClassLeaseExpired)
		}
	}
}

// settle runs an outcome update outside the consumer's context, which may already be
// cancelled: an outcome that is not written is a redelivery later.
func (q *Queue) settle(query string, args ...any) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := q.db.ExecContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	q.changed.notify()
	return n > 0, err
}

func (q *Queue) complete(d Delivery, token int64) {
	ok, err := q.settle(`DELETE FROM messages WHERE ref = ? AND lease_token = ?`, d.Ref, token)
	q.logSettle("complete", d.Queue, d.Ref, ok, err)
}

// release gives a delivery back unused: ready again at once, the attempt not counted.
func (q *Queue) release(queue, ref string, token int64) {
	ok, err := q.settle(
		`UPDATE messages SET lease_until = NULL, lease_token = NULL, delivery_count = delivery_count - 1
		 WHERE ref = ? AND lease_token = ?`, ref, token)
	q.logSettle("release", queue, ref, ok, err)
	if ok {
		q.wakeQueue(queue)
	}
}

func (q *Queue) fail(d Delivery, token int64, class string) {
	now := q.opts.Now()
	if d.DeliveryCount >= q.opts.MaxDeliveries {
		ok, err := q.settle(
			`UPDATE messages SET state = 'dead', last_error = ?, dead_at = ?, lease_until = NULL, lease_token = NULL
			 WHERE ref = ? AND lease_token = ?`, class, now.UnixMilli(), d.Ref, token)
		q.logSettle("dead-letter", d.Queue, d.Ref, ok, err)
		if ok {
			q.log.Error("localqueue: message dead-lettered", "queue", d.Queue, "ref", d.Ref,
				"deliveries", d.DeliveryCount, "class", class)
		}
		return
	}
	delay := q.backoff(d.DeliveryCount)
	ok, err := q.settle(
		`UPDATE messages SET not_before = ?, last_error = ?, lease_until = NULL, lease_token = NULL
		 WHERE ref = ? AND lease_token = ?`, now.Add(delay).UnixMilli(), class, d.Ref, token)
	q.logSettle("retry", d.Queue, d.Ref, ok, err)
	if ok {
		q.log.Warn("localqueue: delivery failed, will retry", "queue", d.Queue, "ref", d.Ref,
			"deliveries", d.DeliveryCount, "class", class, "retry_in", delay)
	}
}

// backoff doubles from BaseBackoff per failed delivery so a failing dependency is not
// hammered, and caps at MaxBackoff so a recovered one is noticed soon.
func (q *Queue) backoff(deliveries int) time.Duration {
	d := q.opts.BaseBackoff
	for i := 1; i < deliveries && d < q.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.opts.MaxBackoff)
}

func (q *Queue) logSettle(op, queue, ref string, ok bool, err error) {
	switch {
	case err != nil:
		q.log.Error(fmt.Sprintf("localqueue: %s failed; the message will be delivered again", op),
			"queue", queue, "ref", ref, "error", err)
	case !ok:
		q.log.Warn(fmt.Sprintf("localqueue: %s skipped: the lock was lost and the message redelivered", op),
			"queue", queue, "ref", ref)
	}
}
