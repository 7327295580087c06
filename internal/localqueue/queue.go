package localqueue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"popsell-gdpr/internal/gdpr"
)

var _ gdpr.Queue = (*Queue)(nil)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("localqueue: closed")

// Options tune a Queue. The zero value is production-like; tests shrink the durations.
type Options struct {
	// Now is the service clock that decides when a scheduled message is due. Default time.Now.
	Now func() time.Time
	// Logger receives failures, identified by queue and ref only. Default: discard.
	Logger *slog.Logger
	// PollInterval bounds how long a consumer waits before looking again. Publishing wakes
	// consumers at once, but a jump of the service clock does not, so this is how long a
	// scheduled message can wait after the clock passes its due time. Default 100ms.
	PollInterval time.Duration
	// BaseBackoff is the delay after a message's first failed delivery; it doubles with each
	// further failure up to MaxBackoff. Defaults 1s and 5min.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxDeliveries is how many deliveries a message gets before it is dead-lettered. Default
	// 10, the Service Bus default.
	MaxDeliveries int
	// VisibilityTimeout is how long a delivery locks its message. The handler's context ends
	// then, because the message is about to be delivered again. Default 5min, the longest lock
	// Service Bus grants.
	VisibilityTimeout time.Duration
	// DrainTimeout bounds how long Consume waits for running handlers once it is told to
	// stop, so a handler that ignores its context cannot hold up shutdown; its message is
	// released when the file is next opened. Default 30s.
	DrainTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 10
	}
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = 5 * time.Minute
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	return o
}

// Queue is a durable queue in one SQLite file. It is safe for concurrent use.
type Queue struct {
	db   *sql.DB
	opts Options
	log  *slog.Logger

	tokens atomic.Int64 // lease tokens; unique within the process, which is all that holds leases
	stmts  sync.Map     // query → *sql.Stmt, see stmt

	mu        sync.Mutex
	closed    bool
	wake      map[string]*signal // per queue: a message became ready
	consumed  map[string]int     // queues with running consumers, so Stats lists them at zero
	changed   signal             // any message changed state; WaitIdle listens
	closing   chan struct{}
	consumers sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

const schemaVersion = 1

// The partial unique index is the deduplication rule: one pending message per id and queue,
// while completed messages are gone and dead ones do not block a fresh publish.
// AUTOINCREMENT keeps refs from being reused, so a stale ref can never cancel a newer message.
const schema = `
CREATE TABLE IF NOT EXISTS messages (
	ref            INTEGER PRIMARY KEY AUTOINCREMENT,
	queue          TEXT    NOT NULL,
	id             TEXT    NOT NULL,
	body           BLOB    NOT NULL,
	enqueued_at    INTEGER NOT NULL,
	not_before     INTEGER NOT NULL,
	delivery_count INTEGER NOT NULL DEFAULT 0,
	state          TEXT    NOT NULL DEFAULT 'pending',
	lease_until    INTEGER,
	lease_token    INTEGER,
	last_error     TEXT,
	dead_at        INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_pending_id ON messages(queue, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS messages_due ON messages(queue, state, not_before);
CREATE INDEX IF NOT EXISTS messages_leased ON messages(lease_until) WHERE lease_until IS NOT NULL;
`

// Open opens or creates the queue file at path and releases every lock left in it: the file
// is held exclusively, so any lock found belongs to a process that is gone.
func Open(path string, opts Options) (*Queue, error) {
	if path == "" {
		return nil, errors.New("localqueue: empty path")
	}
	// Created here rather than by SQLite, whose default is 0644 less the umask, so that the
	// file is private like the store's: job bodies name the subjects they act on. SQLite gives
	// the -wal file the mode of the database. A file that exists keeps its mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localqueue: open: %w", err)
	}
	f.Close()
	// locking_mode comes first (the driver applies _pragma before _journal_mode) so that WAL
	// runs without shared memory and the exclusive lock keeps other processes out.
	// synchronous=NORMAL survives a process crash, which is the failure local mode has; it can
	// lose the last commits on power loss, which local mode can afford.
	q := url.Values{}
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	q.Add("_pragma", "secure_delete(ON)")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("localqueue: open: %w", err)
	}
	// One connection: the exclusive lock is per connection, and a single writer never sees
	// SQLITE_BUSY. Statements are short; handlers run outside them.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	if err := initSchema(db); err != nil {
		db.Close()
		return nil, err
	}
	opts = opts.withDefaults()
	return &Queue{
		db:       db,
		opts:     opts,
		log:      opts.Logger,
		wake:     map[string]*signal{},
		consumed: map[string]int{},
		closing:  make(chan struct{}),
	}, nil
}

func initSchema(db *sql.DB) error {
	ctx := context.Background()
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("localqueue: open: %w", err)
	}
	if v != 0 && v != schemaVersion {
		return fmt.Errorf("localqueue: open: unknown schema version %d", v)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("localqueue: create schema: %w", err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(schemaVersion)); err != nil {
		return fmt.Errorf("localqueue: set schema version: %w", err)
	}
	if _, err := db.ExecContext(ctx,
		`UPDATE messages SET lease_until = NULL, lease_token = NULL WHERE lease_until IS NOT NULL`); err != nil {
		return fmt.Errorf("localqueue: release stale locks: %w", err)
	}
	return nil
}

// Close stops every consumer, waits for them (each bounded by DrainTimeout), and closes the
// file. It truncates the write-ahead log first, so completed messages, zeroed in the database
// by secure_delete, do not linger in old log frames either.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.mu.Lock()
		q.closed = true
		close(q.closing)
		q.mu.Unlock()
		q.consumers.Wait()
		if _, err := q.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			q.log.Warn("localqueue: checkpoint on close failed")
		}
		q.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
		q.closeErr = q.db.Close()
	})
	return q.closeErr
}

// Publish stores m. A message with the same ID still pending in queue (scheduled, ready or
// being delivered) wins: nothing changes and its ref is returned, which is how a job enqueued
// twice after a crash runs once.
func (q *Queue) Publish(ctx context.Context, queue string, m gdpr.Message) (string, error) {
	refs, err := q.publish(ctx, queue, []gdpr.Message{m})
	if err != nil {
		return "", err
	}
	return refs[0], nil
}

// PublishBatch stores msgs in one transaction, each by Publish's rules, and returns their refs
// in order. An ID repeated within msgs is stored once, the first body winning, and every
// position holding it gets the same ref. The batch applies whole or not at all; an empty one
// is a no-op that returns nil refs.
func (q *Queue) PublishBatch(ctx context.Context, queue string, msgs []gdpr.Message) ([]string, error) {
	return q.publish(ctx, queue, msgs)
}

// publish is Publish and PublishBatch: one write transaction for all of msgs, since the commit
// costs far more than a row, and one wake-up for the consumers.
func (q *Queue) publish(ctx context.Context, queue string, msgs []gdpr.Message) ([]string, error) {
	if queue == "" {
		return nil, errors.New("localqueue: publish: empty queue name")
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	if q.isClosed() {
		return nil, ErrClosed
	}
	refs, stored, due, err := q.insert(ctx, queue, msgs, q.opts.Now())
	if err != nil {
		return nil, fmt.Errorf("localqueue: publish: %w", err)
	}
	if due {
		q.wakeQueue(queue)
	}
	if stored {
		q.changed.notify()
	}
	return refs, nil
}

// insert stores msgs in one transaction. It reports whether it stored any message (the others
// were pending already) and whether any it stored is due at now.
func (q *Queue) insert(ctx context.Context, queue string, msgs []gdpr.Message, now time.Time) (refs []string, stored, due bool, err error) {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, false, err
	}
	defer tx.Rollback()
	// The insert changes nothing when the id is pending already, stored before or earlier in
	// msgs; those ids are looked up together at the end (a daily sweep repeats many). The
	// transaction holds the only connection, so no message is settled in between. Exec rather
	// than RETURNING: a query inside a database/sql transaction starts a goroutine per call,
	// and measured twice the time per row.
	ins, err := tx.PrepareContext(ctx,
		`INSERT INTO messages (queue, id, body, enqueued_at, not_before) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (queue, id) WHERE state = 'pending' DO NOTHING`)
	if err != nil {
		return nil, false, false, err
	}
	defer ins.Close()
	refs = make([]string, len(msgs))
	var pending []int // positions in msgs whose id was pending already
	for i, m := range msgs {
		if m.ID == "" {
			m.ID = gdpr.NewID("msg_", now) // fresh, so never pending
		}
		notBefore := now
		if !m.NotBefore.IsZero() {
			notBefore = m.NotBefore
		}
		body := m.Body
		if body == nil {
			body = []byte{}
		}
		res, err := ins.ExecContext(ctx, queue, m.ID, body, now.UnixMilli(), notBefore.UnixMilli())
		if err != nil {
			return nil, false, false, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, false, false, err
		}
		if n == 0 {
			pending = append(pending, i)
			continue
		}
		ref, err := res.LastInsertId()
		if err != nil {
			return nil, false, false, err
		}
		refs[i] = strconv.FormatInt(ref, 10)
		stored = true
		due = due || notBefore.UnixMilli() <= now.UnixMilli()
	}
	for len(pending) > 0 {
		chunk := pending[:min(len(pending), maxLookup)]
		pending = pending[len(chunk):]
		args := []any{queue}
		for _, i := range chunk {
			args = append(args, msgs[i].ID)
		}
		found, err := pendingRefs(ctx, tx, args)
		if err != nil {
			return nil, false, false, err
		}
		for _, i := range chunk {
			ref, ok := found[msgs[i].ID]
			if !ok {
				return nil, false, false, fmt.Errorf("message %d of %d: id neither stored nor pending", i+1, len(msgs))
			}
			refs[i] = ref
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, false, false, err
	}
	return refs, stored, due, nil
}

// maxLookup bounds the ids of one pendingRefs query, well below SQLite's 32,766 parameters.
const maxLookup = 500

// pendingRefs returns the refs of the pending messages of queue, args[0], with the ids in
// args[1:], by id.
func pendingRefs(ctx context.Context, tx *sql.Tx, args []any) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx,
		`SELECT id, ref FROM messages WHERE queue = ? AND state = 'pending' AND id IN (?`+
			strings.Repeat(", ?", len(args)-2)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[string]string, len(args)-1)
	for rows.Next() {
		var id string
		var ref int64
		if err := rows.Scan(&id, &ref); err != nil {
			return nil, err
		}
		found[id] = strconv.FormatInt(ref, 10)
	}
	return found, rows.Err()
}

// Cancel deletes a pending message that no handler holds. A held one is left to finish: the
// handler re-checks state anyway, and deleting under it would only hide its outcome.
func (q *Queue) Cancel(ctx context.Context, queue, ref string) error {
	id, ok := parseRef(ref)
	if !ok {
		return nil
	}
	if q.isClosed() {
		return ErrClosed
	}
	res, err := q.db.ExecContext(ctx,
		`DELETE FROM messages WHERE ref = ? AND queue = ? AND state = 'pending'
		 AND (lease_until IS NULL OR lease_until <= ?)`,
		id, queue, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("localqueue: cancel: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		q.changed.notify()
	}
	return nil
}

func parseRef(ref string) (int64, bool) {
	id, err := strconv.ParseInt(ref, 10, 64)
	return id, err == nil && id > 0
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// wakeSignal returns the signal consumers of queue wait on.
func (q *Queue) wakeSignal(queue string) *signal {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.wake[queue]
	if s == nil {
		s = &signal{}
		q.wake[queue] = s
	}
	return s
}

func (q *Queue) wakeQueue(queue string) {
	q.mu.Lock()
	s := q.wake[queue]
	q.mu.Unlock()
	if s != nil {
		s.notify()
	}
}

// signal is a broadcast that can fire any number of times. A waiter takes the channel before
// it checks the condition, so a notify between the check and the wait is never lost.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
