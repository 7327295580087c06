package localqueue

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// BatchHandler processes deliveries together and returns one outcome per delivery, in order,
// each with Handler's meaning. A panic fails them all.
type BatchHandler func(ctx context.Context, ds []Delivery) []error

// Failure classes recorded on a message instead of the error text, which may hold personal
// data.
const (
	ClassHandlerError = "handler error" // the handler returned an error
	ClassPanic        = "panic"         // the handler panicked
	ClassTimeout      = "timeout"       // the handler gave up when its lock ran out
	ClassLeaseExpired = "lease expired" // no outcome before the lock lapsed: a crash or hang
	ClassRejected     = "rejected"      // the handler said no delivery can ever succeed
)

var errPanic = errors.New("handler panicked")

// errRejected marks a handler error that no redelivery can cure.
var errRejected = errors.New("rejected")

// Reject wraps a handler error to dead-letter its message at once instead of retrying it: a
// mail the provider refused for good fails the same way every time.
func Reject(err error) error { return errors.Join(errRejected, err) }

// Consume delivers the due messages of queue to handler, running up to concurrency handlers
// at once, until ctx ends or the Queue is closed. It then waits for running handlers, whose
// contexts are cancelled too, for at most DrainTimeout, and returns nil. Several Consume calls
// may serve the same queue; each message goes to one of them at a time.
func (q *Queue) Consume(ctx context.Context, queue string, handler Handler, concurrency int) error {
	if handler == nil {
		return errors.New("localqueue: consume: queue name and handler are required")
	}
	return q.ConsumeBatches(ctx, queue, func(ctx context.Context, ds []Delivery) []error {
		return []error{handler(ctx, ds[0])}
	}, 1, concurrency)
}

// ConsumeBatches is Consume for a handler that takes up to size due messages at once: each
// batch shares one lock acquisition and one completion write, which is what lets a handler
// share its own writes across the batch. Messages are settled one by one from the outcomes.
func (q *Queue) ConsumeBatches(ctx context.Context, queue string, handler BatchHandler, size, concurrency int) error {
	if queue == "" || handler == nil {
		return errors.New("localqueue: consume: queue name and handler are required")
	}
	size, concurrency = max(size, 1), max(concurrency, 1)
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

	c := &consumer{q: q, queue: queue, handler: handler, size: size, slots: make(chan struct{}, concurrency)}
	c.loop(ctx)
	c.drain()
	return nil
}

type consumer struct {
	q       *Queue
	queue   string
	handler BatchHandler
	size    int
	slots   chan struct{}
	running sync.WaitGroup
}

// loop hands due messages to handlers until ctx ends: it takes a handler slot, then waits for
// messages to fill it, so no more than concurrency batches are ever claimed and unsettled.
func (c *consumer) loop(ctx context.Context) {
	wake := c.q.wakeSignal(c.queue)
	for {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if !c.dispatch(ctx, wake) {
			<-c.slots
			return
		}
	}
}

// dispatch claims the next due messages and starts a handler on them in the slot the caller
// holds, sleeping while nothing is due. It reports false when ctx ended first, the slot
// still the caller's.
func (c *consumer) dispatch(ctx context.Context, wake *signal) bool {
	for {
		woken := wake.wait() // before the claim, so a publish during it is not missed
		ds, token, next, err := c.q.claim(ctx, c.queue, c.size)
		switch {
		case err != nil && ctx.Err() != nil:
			return false
		case err != nil:
			c.q.log.Error("localqueue: claim failed", "queue", c.queue, "error", err)
		case len(ds) > 0 && ctx.Err() != nil:
			// Stopping: give the messages back uncounted rather than start work now.
			c.q.releaseAll(ds, token)
			return false
		case len(ds) > 0:
			c.running.Add(1)
			go c.run(ctx, ds, token)
			return true
		}
		if !c.sleep(ctx, woken, next) {
			return false
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

func (c *consumer) run(ctx context.Context, ds []Delivery, token int64) {
	defer c.running.Done()
	defer func() { <-c.slots }()

	hctx, cancel := context.WithTimeout(ctx, c.q.opts.VisibilityTimeout)
	errs := call(hctx, c.handler, ds)
	timedOut := errors.Is(hctx.Err(), context.DeadlineExceeded)
	cancel()

	var done []Delivery
	for i, d := range ds {
		err := errs[i]
		switch {
		case err == nil:
			done = append(done, d)
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
			case errors.Is(err, errRejected):
				class = ClassRejected
			}
			c.q.fail(d, token, class)
		}
	}
	c.q.complete(c.queue, done, token)
}

// call runs h and turns a panic into errPanic for every delivery; so does a handler that
// does not answer for each. The panic value is dropped, not logged: it may be built from the
// message's subject.
func call(ctx context.Context, h BatchHandler, ds []Delivery) (errs []error) {
	defer func() {
		if r := recover(); r != nil || len(errs) != len(ds) {
			errs = make([]error, len(ds))
			for i := range errs {
				errs[i] = errPanic
			}
		}
	}()
	return h(ctx, ds)
}

// claim locks up to max due messages of queue, oldest due first, and returns them with
// their lease token. With nothing due it returns how long until the earliest scheduled
// message is due by the service clock (0 if none), so the consumer can sleep exactly that
// long when it is sooner than a poll.
func (q *Queue) claim(ctx context.Context, queue string, max int) ([]Delivery, int64, time.Duration, error) {
	for {
		now, token := q.opts.Now().UnixMilli(), q.tokens.Add(1)
		leased, err := q.lease(ctx, queue, max, now, token)
		if err != nil {
			return nil, 0, 0, err
		}
		if len(leased) == 0 {
			next, err := q.untilNextDue(ctx, queue, now)
			return nil, 0, next, err
		}
		q.changed.notify()
		ds, err := q.deadLetterExhausted(leased, token, now)
		if err != nil {
			return nil, 0, 0, err
		}
		if len(ds) > 0 {
			return ds, token, 0, nil
		}
		// Every message taken had used its last delivery; look again for live ones.
	}
}

// lease locks up to max messages of queue that are due by the service clock (now) and not
// locked, for VisibilityTimeout of wall-clock time, under token, and counts the delivery.
// They come back in publishing order.
func (q *Queue) lease(ctx context.Context, queue string, max int, now, token int64) ([]Delivery, error) {
	st, err := q.stmt(ctx, `UPDATE messages SET lease_until = ?, lease_token = ?, delivery_count = delivery_count + 1
		 WHERE ref IN (
		   SELECT ref FROM messages
		   WHERE queue = ? AND state = 'pending' AND not_before <= ?
		     AND (lease_until IS NULL OR lease_until <= ?)
		   ORDER BY not_before, ref LIMIT ?)
		 RETURNING ref, id, body, delivery_count, enqueued_at`)
	if err != nil {
		return nil, err
	}
	wall := time.Now()
	rows, err := st.QueryContext(ctx, wall.Add(q.opts.VisibilityTimeout).UnixMilli(), token, queue, now, wall.UnixMilli(), max)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows, queue)
}

// untilNextDue returns how long until the earliest scheduled message of queue is due by the
// service clock, or 0 if none is scheduled.
func (q *Queue) untilNextDue(ctx context.Context, queue string, now int64) (time.Duration, error) {
	var next sql.NullInt64
	err := q.db.QueryRowContext(ctx,
		`SELECT MIN(not_before) FROM messages WHERE queue = ? AND state = 'pending' AND not_before > ?`,
		queue, now).Scan(&next)
	if err != nil || !next.Valid {
		return 0, err
	}
	return time.Duration(next.Int64-now) * time.Millisecond, nil
}

// deadLetterExhausted returns the leased messages that may still be delivered, and
// dead-letters the others: their last allowed delivery ended without an outcome, so this lease
// is one past MaxDeliveries.
func (q *Queue) deadLetterExhausted(leased []Delivery, token, now int64) ([]Delivery, error) {
	var ds []Delivery
	for _, d := range leased {
		if d.DeliveryCount <= q.opts.MaxDeliveries {
			ds = append(ds, d)
			continue
		}
		if err := q.deadAfterLapse(d, token, now); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// scanDeliveries reads the messages a lease returned, in publishing order: RETURNING yields
// rows in no set order.
func scanDeliveries(rows *sql.Rows, queue string) ([]Delivery, error) {
	defer rows.Close()
	type row struct {
		ref int64
		d   Delivery
	}
	var got []row
	for rows.Next() {
		var r row
		var enqueued int64
		r.d.Queue = queue
		if err := rows.Scan(&r.ref, &r.d.ID, &r.d.Body, &r.d.DeliveryCount, &enqueued); err != nil {
			return nil, err
		}
		r.d.Ref, r.d.EnqueuedAt = strconv.FormatInt(r.ref, 10), time.UnixMilli(enqueued).UTC()
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(got, func(a, b row) int { return cmp.Compare(a.ref, b.ref) })
	ds := make([]Delivery, len(got))
	for i, r := range got {
		ds[i] = r.d
	}
	return ds, nil
}

// deadAfterLapse dead-letters a message whose last allowed delivery ended without an
// outcome: the lock lapsed or the process died. It undoes this delivery's count so the dead
// letter shows the deliveries made.
func (q *Queue) deadAfterLapse(d Delivery, token, now int64) error {
	ok, err := q.settle(
		`UPDATE messages SET state = 'dead', last_error = ?, dead_at = ?, delivery_count = delivery_count - 1,
		 lease_until = NULL, lease_token = NULL WHERE ref = ? AND lease_token = ?`,
		ClassLeaseExpired, now, d.Ref, token)
	if err != nil {
		return err
	}
	if ok {
		q.log.Error("localqueue: message dead-lettered", "queue", d.Queue, "ref", d.Ref,
			"deliveries", d.DeliveryCount-1, "class", ClassLeaseExpired)
	}
	return nil
}

// settle runs an outcome update outside the consumer's context, which may already be
// cancelled: an outcome that is not written is a redelivery later.
func (q *Queue) settle(query string, args ...any) (bool, error) {
	n, err := q.settleCount(query, args...)
	return n > 0, err
}

// settleCount is settle for an outcome of many messages; it returns how many it changed.
func (q *Queue) settleCount(query string, args ...any) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := q.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	q.changed.notify()
	return n, err
}

// complete deletes the handled messages in one write.
func (q *Queue) complete(queue string, ds []Delivery, token int64) {
	if len(ds) == 0 {
		return
	}
	refs := make([]int64, len(ds))
	for i, d := range ds {
		refs[i], _ = strconv.ParseInt(d.Ref, 10, 64)
	}
	list, _ := json.Marshal(refs) // integers always encode
	n, err := q.settleCount(`DELETE FROM messages WHERE lease_token = ? AND ref IN (SELECT value FROM json_each(?))`, token, list)
	switch {
	case err != nil:
		q.log.Error("localqueue: complete failed; the messages will be delivered again", "queue", queue, "messages", len(ds), "error", err)
	case n < int64(len(ds)):
		q.log.Warn("localqueue: complete skipped: the lock was lost and the messages redelivered", "queue", queue, "messages", len(ds)-int(n))
	}
}

// releaseAll gives back messages claimed under token that no handler will see.
func (q *Queue) releaseAll(ds []Delivery, token int64) {
	for _, d := range ds {
		q.release(d.Queue, d.Ref, token)
	}
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
	if d.DeliveryCount >= q.opts.MaxDeliveries || class == ClassRejected {
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

// stmt prepares a query once: the consumer's claims and outcomes run thousands of times a
// second, and parsing and planning them each time cost more than running them.
func (q *Queue) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := q.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := q.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := q.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}
