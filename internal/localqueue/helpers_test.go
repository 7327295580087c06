package localqueue

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock stands still until advanced, like a test clock that has been set.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// clockedOptions are fastOptions whose service clock is a fake one the test moves.
func clockedOptions() (*fakeClock, Options) {
	clock, opts := newFakeClock(), fastOptions()
	opts.Now = clock.Now
	return clock, opts
}

// fastOptions keeps every wait in the tests to milliseconds.
func fastOptions() Options {
	return Options{
		PollInterval:  2 * time.Millisecond,
		BaseBackoff:   time.Millisecond,
		MaxBackoff:    4 * time.Millisecond,
		DrainTimeout:  5 * time.Second,
		MaxDeliveries: 10,
	}
}

func openTemp(t testing.TB, opts Options) (*Queue, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	return q, path
}

// consume runs a consumer until the returned stop is called (or the test ends).
func consume(t testing.TB, q *Queue, queue string, h Handler, n int) (stop func()) {
	t.Helper()
	return run(t, func(ctx context.Context) error { return q.Consume(ctx, queue, h, n) })
}

// consumeBatches runs ConsumeBatches until the test ends or stop is called.
func consumeBatches(t testing.TB, q *Queue, queue string, h BatchHandler, size, n int) (stop func()) {
	t.Helper()
	return run(t, func(ctx context.Context) error { return q.ConsumeBatches(ctx, queue, h, size, n) })
}

func run(t testing.TB, consume func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- consume(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Error("Consume did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitIdle(t testing.TB, q *Queue, queues ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, q.WaitIdle(ctx, queues...))
}

// waitFor polls Stats-derived conditions that WaitIdle does not cover, such as a dead letter
// appearing after retries that count as scheduled in between.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func stats(t testing.TB, q *Queue, queue string) Counts {
	t.Helper()
	s, err := q.Stats(context.Background())
	require.NoError(t, err)
	return s[queue]
}

func rowCount(t testing.TB, q *Queue) int {
	t.Helper()
	var n int
	require.NoError(t, q.db.QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&n))
	return n
}

// syncBuffer is a log sink that handlers on several goroutines can write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func captureLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
