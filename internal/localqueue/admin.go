package localqueue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// Counts is the state of one queue, as GET /api/admin/queues shows it.
type Counts struct {
	Ready        int `json:"ready"`        // due by the service clock and not locked
	Scheduled    int `json:"scheduled"`    // not yet due, including retries waiting out a backoff
	InFlight     int `json:"inFlight"`     // locked by a running delivery
	DeadLettered int `json:"deadLettered"` // gave up on; kept until requeued
}

// Stats returns the counts of every queue that holds a message or has a consumer, so an idle
// but served queue shows up as zeros rather than missing.
func (q *Queue) Stats(ctx context.Context) (map[string]Counts, error) {
	if q.isClosed() {
		return nil, ErrClosed
	}
	rows, err := q.db.QueryContext(ctx,
		`SELECT queue,
		   SUM(state = 'pending' AND COALESCE(lease_until, 0) >  ?2),
		   SUM(state = 'pending' AND COALESCE(lease_until, 0) <= ?2 AND not_before <= ?1),
		   SUM(state = 'pending' AND COALESCE(lease_until, 0) <= ?2 AND not_before >  ?1),
		   SUM(state = 'dead')
		 FROM messages GROUP BY queue`,
		q.opts.Now().UnixMilli(), time.Now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("localqueue: stats: %w", err)
	}
	defer rows.Close()
	out := map[string]Counts{}
	for rows.Next() {
		var name string
		var c Counts
		if err := rows.Scan(&name, &c.InFlight, &c.Ready, &c.Scheduled, &c.DeadLettered); err != nil {
			return nil, fmt.Errorf("localqueue: stats: %w", err)
		}
		out[name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("localqueue: stats: %w", err)
	}
	q.mu.Lock()
	for name := range q.consumed {
		if _, ok := out[name]; !ok {
			out[name] = Counts{}
		}
	}
	q.mu.Unlock()
	return out, nil
}

// WaitIdle blocks until none of the queues (all queues if none are named) has a ready or
// in-flight message, so tests and the test-clock flow can wait for a chain of jobs instead of
// sleeping. Scheduled messages do not count, and that includes retries waiting out a backoff.
// One snapshot covers all the named queues, and a handler publishes its follow-up jobs before
// it returns, so a chain across queues is never seen idle half-way.
// Ready messages with no consumer keep it waiting until ctx ends.
func (q *Queue) WaitIdle(ctx context.Context, queues ...string) error {
	for {
		changed := q.changed.wait()
		if q.isClosed() {
			return ErrClosed
		}
		busy, err := q.busy(ctx, queues)
		if err != nil {
			return err
		}
		if !busy {
			return nil
		}
		t := time.NewTimer(q.opts.PollInterval) // a clock jump makes messages ready silently
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-q.closing:
			t.Stop()
			return ErrClosed
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// busy reports whether any of queues has a due or locked message. It runs on every state
// change while someone waits, so unlike Stats it reads indexes only and stops at the first hit.
func (q *Queue) busy(ctx context.Context, queues []string) (bool, error) {
	now, wall := q.opts.Now().UnixMilli(), time.Now().UnixMilli()
	in, args := "", []any{now, wall}
	if len(queues) > 0 {
		marks := make([]string, len(queues))
		for i, name := range queues {
			marks[i] = "?" + strconv.Itoa(i+3) // numbered: the list appears twice
			args = append(args, name)
		}
		in = " AND queue IN (" + strings.Join(marks, ", ") + ")"
	}
	var busy bool
	err := q.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM messages WHERE state = 'pending' AND not_before <= ?1`+in+`)
		     OR EXISTS (SELECT 1 FROM messages INDEXED BY messages_leased WHERE lease_until > ?2`+in+`)`,
		args...).Scan(&busy)
	if err != nil {
		return false, fmt.Errorf("localqueue: wait idle: %w", err)
	}
	return busy, nil
}

// DeadLetter describes a message that exhausted its deliveries. It carries the failure class,
// not the error: the error text could name the subject, and a dead letter outlives erasure.
type DeadLetter struct {
	Ref            string    `json:"ref"`
	ID             string    `json:"id"`
	DeliveryCount  int       `json:"deliveryCount"`
	LastError      string    `json:"lastError"` // one of the Class* constants
	EnqueuedAt     time.Time `json:"enqueuedAt"`
	DeadLetteredAt time.Time `json:"deadLetteredAt"`
}

// DeadLetters lists the dead letters of queue, oldest first.
func (q *Queue) DeadLetters(ctx context.Context, queue string) ([]DeadLetter, error) {
	if q.isClosed() {
		return nil, ErrClosed
	}
	rows, err := q.db.QueryContext(ctx,
		`SELECT ref, id, delivery_count, COALESCE(last_error, ''), enqueued_at, COALESCE(dead_at, 0)
		 FROM messages WHERE queue = ? AND state = 'dead' ORDER BY ref`, queue)
	if err != nil {
		return nil, fmt.Errorf("localqueue: dead letters: %w", err)
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		var (
			d              DeadLetter
			ref            int64
			enqueued, dead int64
		)
		if err := rows.Scan(&ref, &d.ID, &d.DeliveryCount, &d.LastError, &enqueued, &dead); err != nil {
			return nil, fmt.Errorf("localqueue: dead letters: %w", err)
		}
		d.Ref = strconv.FormatInt(ref, 10)
		d.EnqueuedAt = time.UnixMilli(enqueued).UTC()
		d.DeadLetteredAt = time.UnixMilli(dead).UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("localqueue: dead letters: %w", err)
	}
	return out, nil
}

// Requeue gives a dead letter a fresh set of deliveries, due now, once whatever killed it is
// fixed. If a message with the same id is pending again, that one does the job and the dead
// letter is dropped. A ref that is not a dead letter of queue is gdpr.ErrNotFound.
func (q *Queue) Requeue(ctx context.Context, queue, ref string) error {
	id, ok := parseRef(ref)
	if !ok {
		return gdpr.Errorf(gdpr.CodeNotFound, "dead letter not found")
	}
	if q.isClosed() {
		return ErrClosed
	}
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("localqueue: requeue: %w", err)
	}
	defer tx.Rollback()
	var msgID string
	err = tx.QueryRowContext(ctx,
		`SELECT id FROM messages WHERE ref = ? AND queue = ? AND state = 'dead'`, id, queue).Scan(&msgID)
	if errors.Is(err, sql.ErrNoRows) {
		return gdpr.Errorf(gdpr.CodeNotFound, "dead letter not found")
	}
	if err != nil {
		return fmt.Errorf("localqueue: requeue: %w", err)
	}
	var pending int
	if err := tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM messages WHERE queue = ? AND id = ? AND state = 'pending'`,
		queue, msgID).Scan(&pending); err != nil {
		return fmt.Errorf("localqueue: requeue: %w", err)
	}
	if pending > 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM messages WHERE ref = ?`, id)
	} else {
		_, err = tx.ExecContext(ctx,
			`UPDATE messages SET state = 'pending', delivery_count = 0, not_before = ?,
			 last_error = NULL, dead_at = NULL WHERE ref = ?`,
			q.opts.Now().UnixMilli(), id)
	}
	if err != nil {
		return fmt.Errorf("localqueue: requeue: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("localqueue: requeue: %w", err)
	}
	q.wakeQueue(queue)
	q.changed.notify()
	return nil
}
