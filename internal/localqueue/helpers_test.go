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

	"popsell-gdpr/internal/clocktest"
)

// clockedOptions are fastOptions whose service clock is a fake one the test moves.
func clockedOptions() (*clocktest.Manual, Options) {
	clock, opts := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)), fastOptions()
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
			wait, cancelWait := waitContext(t)
			defer cancelWait()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-wait.Done():
				t.Error("Consume did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitContext bounds a wait in these tests by go test's own -timeout, and by nothing else: how
// long a delivery takes depends on how loaded the machine is (five `make test` side by side on
// two cores made 1,000 deliveries take over 10 s), so a fixed budget fails a correct queue.
// It ends a little before the binary's deadline, so a wait that never ends fails the test
// naming what it waited for instead of a panic dumping every goroutine. It is not t.Context(),
// which ends before cleanups run, and a consumer is stopped in a cleanup.
func waitContext(t testing.TB) (context.Context, context.CancelFunc) {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			return context.WithDeadline(context.Background(), deadline.Add(-time.Until(deadline)/20))
		}
	}
	return context.WithCancel(context.Background()) // no -timeout: wait as long as it takes
}

// waitIdle waits until none of queues has a ready or in-flight message.
func waitIdle(t testing.TB, q *Queue, queues ...string) {
	t.Helper()
	ctx, cancel := waitContext(t)
	defer cancel()
	require.NoError(t, q.WaitIdle(ctx, queues...))
}

// waitFor polls Stats-derived conditions that WaitIdle does not cover, such as a dead letter
// appearing after retries that count as scheduled in between.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := waitContext(t)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s: the test binary's deadline is near", what)
		case <-time.After(time.Millisecond):
		}
	}
}

// receive waits for a value on ch, for as long as waitContext allows.
func receive[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	ctx, cancel := waitContext(t)
	defer cancel()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("gave up waiting for %s: the test binary's deadline is near", what)
		var zero T
		return zero
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
