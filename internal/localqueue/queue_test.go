package localqueue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

const qA, qB = "queue-a", "queue-b"

func TestPublishConsume(t *testing.T) {
	clock, opts := clockedOptions()
	q, _ := openTemp(t, opts)
	ctx := context.Background()

	tests := []struct {
		name string
		msg  gdpr.Message
		want []byte
	}{
		{"with id", gdpr.Message{ID: "job-1", Body: []byte(`{"user":"u_1"}`)}, []byte(`{"user":"u_1"}`)},
		{"without id", gdpr.Message{Body: []byte("x")}, []byte("x")},
		{"nil body", gdpr.Message{ID: "job-3"}, []byte{}},
		{"not before in the past", gdpr.Message{ID: "job-4", NotBefore: clock.Now().Add(-time.Hour)}, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan Delivery, 1)
			stop := consume(t, q, qA, func(ctx context.Context, d Delivery) error {
				got <- d
				return nil
			}, 1)
			defer stop()

			ref, err := q.Publish(ctx, qA, tt.msg)
			require.NoError(t, err)
			require.NotEmpty(t, ref)
			waitIdle(t, q, qA)

			d := <-got
			assert.Equal(t, qA, d.Queue)
			assert.Equal(t, ref, d.Ref)
			assert.Equal(t, string(tt.want), string(d.Body))
			assert.Equal(t, 1, d.DeliveryCount)
			assert.True(t, d.EnqueuedAt.Equal(clock.Now().Truncate(time.Millisecond)), d.EnqueuedAt)
			if tt.msg.ID != "" {
				assert.Equal(t, tt.msg.ID, d.ID)
			} else {
				assert.NotEmpty(t, d.ID, "an id is generated")
			}
			assert.Zero(t, rowCount(t, q), "a completed message leaves nothing behind")
		})
	}
}

// Only the wake-up path can deliver here: the poll interval is far longer than the test.
func TestPublishWakesConsumerAtOnce(t *testing.T) {
	opts := fastOptions()
	opts.PollInterval = time.Hour
	q, _ := openTemp(t, opts)
	got := make(chan struct{}, 10)
	consume(t, q, qA, func(context.Context, Delivery) error { got <- struct{}{}; return nil }, 1)

	// Let the consumer find the queue empty and go to sleep first.
	waitFor(t, "consumer registered", func() bool { _, ok := mustStats(t, q)[qA]; return ok })
	time.Sleep(5 * time.Millisecond)

	start := time.Now()
	_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: "m"})
	require.NoError(t, err)
	// However long this takes on a loaded machine, the hour-long poll cannot have delivered it.
	receive(t, "the consumer to be woken by Publish", got)
	t.Logf("publish to handler: %v", time.Since(start))
}

func mustStats(t testing.TB, q *Queue) map[string]Counts {
	t.Helper()
	s, err := q.Stats(context.Background())
	require.NoError(t, err)
	return s
}

func TestScheduledDeliveryOnlyWhenDue(t *testing.T) {
	tests := []struct {
		name  string
		delay time.Duration
	}{
		{"one hour", time.Hour},
		{"three years (test clock jump)", 3 * 365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock, opts := clockedOptions()
			q, _ := openTemp(t, opts)
			var calls atomic.Int32
			consume(t, q, qA, func(context.Context, Delivery) error { calls.Add(1); return nil }, 1)

			_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: "later", NotBefore: clock.Now().Add(tt.delay)})
			require.NoError(t, err)
			assert.Equal(t, Counts{Scheduled: 1}, stats(t, q, qA))
			waitIdle(t, q, qA) // scheduled messages do not keep a queue busy

			clock.Advance(tt.delay - time.Millisecond)
			time.Sleep(20 * time.Millisecond) // ten polls
			assert.Zero(t, calls.Load(), "delivered before due")
			assert.Equal(t, Counts{Scheduled: 1}, stats(t, q, qA))

			// No publish happens: the poll alone must notice the clock has moved.
			clock.Advance(time.Millisecond)
			waitFor(t, "delivery once due", func() bool { return calls.Load() == 1 })
			waitIdle(t, q, qA)
			assert.Equal(t, Counts{}, stats(t, q, qA))
		})
	}
}

func TestDedupByID(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		setup    func(t *testing.T, q *Queue) // runs after the first publish of "dup" to qA
		queue    string
		id       string
		wantSame bool
		wantRows int
	}{
		{name: "same id while scheduled", queue: qA, id: "dup", wantSame: true, wantRows: 1},
		{name: "same id while in flight", queue: qA, id: "dup", wantSame: true, wantRows: 1,
			setup: func(t *testing.T, q *Queue) { claimOne(t, q, qA) }},
		{name: "same id in another queue", queue: qB, id: "dup", wantRows: 2},
		{name: "another id", queue: qA, id: "other", wantRows: 2},
		{name: "empty ids never collide", queue: qA, id: "", wantRows: 2},
		{name: "same id after completion", queue: qA, id: "dup", wantRows: 1,
			setup: func(t *testing.T, q *Queue) {
				d, tok := claimOne(t, q, qA)
				q.complete(d.Queue, []Delivery{d}, tok)
			}},
		{name: "same id after dead-lettering", queue: qA, id: "dup", wantRows: 2,
			setup: func(t *testing.T, q *Queue) {
				d, tok := claimOne(t, q, qA)
				d.DeliveryCount = q.opts.MaxDeliveries
				q.fail(d, tok, ClassHandlerError)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := openTemp(t, fastOptions())
			first, err := q.Publish(ctx, qA, gdpr.Message{ID: "dup", Body: []byte("first")})
			require.NoError(t, err)
			if tt.setup != nil {
				tt.setup(t, q)
			}
			second, err := q.Publish(ctx, tt.queue, gdpr.Message{ID: tt.id, Body: []byte("second")})
			require.NoError(t, err)
			if tt.wantSame {
				assert.Equal(t, first, second)
			} else {
				assert.NotEqual(t, first, second)
			}
			assert.Equal(t, tt.wantRows, rowCount(t, q))
		})
	}
}

// claimOne leases the next message as a consumer would, without handling it: a consumer that
// dies right after taking a message.
func claimOne(t testing.TB, q *Queue, queue string) (Delivery, int64) {
	t.Helper()
	ds, tok, _, err := q.claim(context.Background(), queue, 1)
	require.NoError(t, err)
	require.Len(t, ds, 1, "nothing to claim")
	return ds[0], tok
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		ref        func(t *testing.T, q *Queue, ref string) string
		queue      string
		inFlight   bool
		wantRemain int
	}{
		{name: "scheduled message", queue: qA, wantRemain: 0},
		{name: "wrong queue", queue: qB, wantRemain: 1},
		{name: "message being delivered", queue: qA, inFlight: true, wantRemain: 1},
		{name: "unknown ref", queue: qA, wantRemain: 1,
			ref: func(*testing.T, *Queue, string) string { return "999999" }},
		{name: "malformed ref", queue: qA, wantRemain: 1,
			ref: func(*testing.T, *Queue, string) string { return "not-a-ref" }},
		{name: "empty ref", queue: qA, wantRemain: 1,
			ref: func(*testing.T, *Queue, string) string { return "" }},
		{name: "stale ref of a completed message", queue: qA, wantRemain: 1,
			// The cancelled ref was completed and a new message took its id; the new one stays.
			ref: func(t *testing.T, q *Queue, ref string) string {
				require.NoError(t, q.Cancel(ctx, qA, ref))
				_, err := q.Publish(ctx, qA, gdpr.Message{ID: "job"})
				require.NoError(t, err)
				return ref
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, opts := clockedOptions()
			q, _ := openTemp(t, opts)
			ref, err := q.Publish(ctx, qA, gdpr.Message{ID: "job"})
			require.NoError(t, err)
			if tt.inFlight {
				claimOne(t, q, qA)
			}
			target := ref
			if tt.ref != nil {
				target = tt.ref(t, q, ref)
			}
			require.NoError(t, q.Cancel(ctx, tt.queue, target))
			assert.Equal(t, tt.wantRemain, rowCount(t, q))
		})
	}
}

func TestBackoff(t *testing.T) {
	q := &Queue{opts: Options{BaseBackoff: time.Second, MaxBackoff: 5 * time.Minute}}
	tests := []struct {
		deliveries int
		want       time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{9, 256 * time.Second},
		{10, 5 * time.Minute},
		{1000, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.deliveries), func(t *testing.T) {
			assert.Equal(t, tt.want, q.backoff(tt.deliveries))
		})
	}
}

// The fake clock makes the backoff observable exactly: each retry becomes due only once the
// clock has moved by the doubled delay.
func TestRetryWithBackoffThenSuccess(t *testing.T) {
	clock, opts := clockedOptions()
	opts.BaseBackoff = time.Minute
	opts.MaxBackoff = time.Hour
	q, _ := openTemp(t, opts)

	var mu sync.Mutex
	var counts []int
	consume(t, q, qA, func(_ context.Context, d Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		counts = append(counts, d.DeliveryCount)
		if len(counts) < 3 {
			return errors.New("smtp down")
		}
		return nil
	}, 1)
	calls := func() int { mu.Lock(); defer mu.Unlock(); return len(counts) }

	_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: "mail"})
	require.NoError(t, err)

	for i, delay := range []time.Duration{time.Minute, 2 * time.Minute} {
		waitFor(t, fmt.Sprintf("delivery %d", i+1), func() bool { return calls() == i+1 })
		waitIdle(t, q, qA)
		assert.Equal(t, Counts{Scheduled: 1}, stats(t, q, qA), "retry %d waits out its backoff", i+1)
		clock.Advance(delay - time.Millisecond)
		time.Sleep(10 * time.Millisecond)
		assert.Equal(t, i+1, calls(), "retried before the backoff of %v", delay)
		clock.Advance(time.Millisecond)
	}
	waitFor(t, "third delivery", func() bool { return calls() == 3 })
	waitIdle(t, q, qA)
	mu.Lock()
	assert.Equal(t, []int{1, 2, 3}, counts)
	mu.Unlock()
	assert.Zero(t, rowCount(t, q))
}

func TestDeadLetterAfterMaxDeliveries(t *testing.T) {
	tests := []struct {
		name      string
		handler   func(context.Context, Delivery) error
		wantClass string
	}{
		{"error", func(context.Context, Delivery) error { return errors.New("boom") }, ClassHandlerError},
		{"panic", func(context.Context, Delivery) error { panic("boom") }, ClassPanic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := openTemp(t, fastOptions()) // MaxDeliveries 10, 1ms backoff
			ctx := context.Background()
			var calls atomic.Int32
			consume(t, q, qA, func(ctx context.Context, d Delivery) error {
				calls.Add(1)
				return tt.handler(ctx, d)
			}, 2)

			ref, err := q.Publish(ctx, qA, gdpr.Message{ID: "poison"})
			require.NoError(t, err)
			_, err = q.Publish(ctx, qA, gdpr.Message{ID: "other"}) // fails the same way
			require.NoError(t, err)
			waitFor(t, "dead letters", func() bool { return stats(t, q, qA).DeadLettered == 2 })

			assert.Equal(t, int32(20), calls.Load(), "exactly MaxDeliveries each")
			assert.Equal(t, Counts{DeadLettered: 2}, stats(t, q, qA))
			dl, err := q.DeadLetters(ctx, qA)
			require.NoError(t, err)
			require.Len(t, dl, 2)
			assert.Equal(t, ref, dl[0].Ref)
			assert.Equal(t, "poison", dl[0].ID)
			assert.Equal(t, 10, dl[0].DeliveryCount)
			assert.Equal(t, tt.wantClass, dl[0].LastError)
			assert.False(t, dl[0].DeadLetteredAt.IsZero())

			none, err := q.DeadLetters(ctx, qB)
			require.NoError(t, err)
			assert.Empty(t, none)
		})
	}
}

// TestRejectedDeadLettersAtOnce: a handler that knows no redelivery can succeed (a mail the
// provider refused for good) dead-letters its message on the first delivery.
func TestRejectedDeadLettersAtOnce(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	ctx := context.Background()
	var calls atomic.Int32
	consume(t, q, qA, func(context.Context, Delivery) error {
		calls.Add(1)
		return Reject(errors.New("refused for good"))
	}, 1)
	_, err := q.Publish(ctx, qA, gdpr.Message{ID: "refused"})
	require.NoError(t, err)
	waitFor(t, "the dead letter", func() bool { return stats(t, q, qA).DeadLettered == 1 })
	assert.Equal(t, int32(1), calls.Load(), "one delivery, no retry")
	dl, err := q.DeadLetters(ctx, qA)
	require.NoError(t, err)
	assert.Equal(t, ClassRejected, dl[0].LastError)
	assert.Equal(t, 1, dl[0].DeliveryCount)
}

func TestRequeue(t *testing.T) {
	opts := fastOptions()
	opts.MaxDeliveries = 1
	q, _ := openTemp(t, opts)
	ctx := context.Background()
	var fixed atomic.Bool
	var delivered atomic.Int32
	consume(t, q, qA, func(_ context.Context, d Delivery) error {
		if !fixed.Load() {
			return errors.New("bug")
		}
		delivered.Add(1)
		assert.Equal(t, 1, d.DeliveryCount, "requeue starts a fresh count")
		return nil
	}, 1)

	ref, err := q.Publish(ctx, qA, gdpr.Message{ID: "job"})
	require.NoError(t, err)
	waitFor(t, "dead letter", func() bool { return stats(t, q, qA).DeadLettered == 1 })

	require.True(t, gdpr.ErrorCode(q.Requeue(ctx, qA, "12345")) == gdpr.CodeNotFound)
	require.ErrorIs(t, q.Requeue(ctx, qB, ref), gdpr.ErrNotFound)
	fixed.Store(true)
	require.NoError(t, q.Requeue(ctx, qA, ref))
	waitIdle(t, q, qA)
	assert.Equal(t, int32(1), delivered.Load())
	assert.Equal(t, Counts{}, stats(t, q, qA))
}

func TestRequeueWhenIDIsPendingAgainDropsDeadLetter(t *testing.T) {
	opts := fastOptions()
	opts.MaxDeliveries = 1
	q, _ := openTemp(t, opts)
	ctx := context.Background()
	ref, err := q.Publish(ctx, qA, gdpr.Message{ID: "job"})
	require.NoError(t, err)
	d, tok := claimOne(t, q, qA)
	q.fail(d, tok, ClassHandlerError)
	_, err = q.Publish(ctx, qA, gdpr.Message{ID: "job"})
	require.NoError(t, err)

	require.NoError(t, q.Requeue(ctx, qA, ref))
	assert.Equal(t, 1, rowCount(t, q))
	assert.Equal(t, Counts{Ready: 1}, stats(t, q, qA))
}

// A panic value or error text may name the subject; none of it may reach the logs or the file.
func TestPanicIsRetriedAndLeavesNoTrace(t *testing.T) {
	const secret = "alice@example.com"
	logger, logs := captureLogger()
	opts := fastOptions()
	opts.Logger = logger
	opts.MaxDeliveries = 3
	q, path := openTemp(t, opts)
	ctx := context.Background()

	var calls atomic.Int32
	consume(t, q, qA, func(_ context.Context, d Delivery) error {
		switch calls.Add(1) {
		case 1:
			panic("cannot mail " + secret)
		case 2:
			panic(fmt.Errorf("wrapped: %s", secret))
		case 3:
			return fmt.Errorf("smtp rejected %s", secret)
		}
		return nil
	}, 1)
	_, err := q.Publish(ctx, qA, gdpr.Message{ID: "poison"})
	require.NoError(t, err)
	waitFor(t, "dead letter", func() bool { return stats(t, q, qA).DeadLettered == 1 })
	assert.Equal(t, int32(3), calls.Load(), "a panic is retried like an error")

	dl, err := q.DeadLetters(ctx, qA)
	require.NoError(t, err)
	require.Len(t, dl, 1)
	assert.Equal(t, ClassHandlerError, dl[0].LastError)

	assert.Contains(t, logs.String(), "class=panic")
	assert.NotContains(t, logs.String(), secret)
	assert.NotContains(t, logs.String(), "alice")

	require.NoError(t, q.Close())
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		assert.False(t, bytes.Contains(b, []byte("alice")), "%s holds the panic text", f)
	}
}

func TestSurvivesReopen(t *testing.T) {
	clock, opts := clockedOptions()
	q, path := openTemp(t, opts)
	ctx := context.Background()

	_, err := q.Publish(ctx, qA, gdpr.Message{ID: "ready", Body: []byte("r")})
	require.NoError(t, err)
	_, err = q.Publish(ctx, qA, gdpr.Message{ID: "scheduled", Body: []byte("s"), NotBefore: clock.Now().Add(time.Hour)})
	require.NoError(t, err)
	_, err = q.Publish(ctx, qA, gdpr.Message{ID: "leased", Body: []byte("l")})
	require.NoError(t, err)
	d, _ := claimOne(t, q, qA) // its consumer dies with the process
	require.Equal(t, "ready", d.ID)
	require.NoError(t, q.Close())

	q2, err := Open(path, opts)
	require.NoError(t, err)
	defer q2.Close()
	assert.Equal(t, Counts{Ready: 2, Scheduled: 1}, stats(t, q2, qA), "Open releases the dead process's lock")

	var mu sync.Mutex
	got := map[string]int{}
	consume(t, q2, qA, func(_ context.Context, d Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		got[d.ID] = d.DeliveryCount
		return nil
	}, 2)
	waitIdle(t, q2, qA)
	clock.Advance(time.Hour)
	waitFor(t, "scheduled delivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	waitIdle(t, q2, qA)
	mu.Lock()
	assert.Equal(t, map[string]int{"ready": 2, "leased": 1, "scheduled": 1}, got)
	mu.Unlock()
}

func TestFileIsExclusiveToOneQueue(t *testing.T) {
	_, path := openTemp(t, fastOptions())
	q2, err := Open(path, fastOptions())
	if err == nil {
		q2.Close()
	}
	require.Error(t, err, "a second opener would release the first one's locks")
}

func TestLeaseExpiryRedelivers(t *testing.T) {
	tests := []struct {
		name          string
		maxDeliveries int
		wantDelivered bool
	}{
		{"redelivered", 10, true},
		{"dead-lettered when that was the last delivery", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fastOptions()
			opts.VisibilityTimeout = time.Hour // held until lapseLeases, however slow the machine
			opts.MaxDeliveries = tt.maxDeliveries
			q, _ := openTemp(t, opts)
			ctx := context.Background()
			ref, err := q.Publish(ctx, qA, gdpr.Message{ID: "job"})
			require.NoError(t, err)
			stale, staleTok := claimOne(t, q, qA) // the consumer that dies
			assert.Equal(t, Counts{InFlight: 1}, stats(t, q, qA))
			require.NoError(t, q.Cancel(ctx, qA, ref), "a held message is not cancelled")
			lapseLeases(t, q)

			got := make(chan Delivery, 1)
			consume(t, q, qA, func(_ context.Context, d Delivery) error { got <- d; return nil }, 1)
			if tt.wantDelivered {
				d := receive(t, "redelivery after the lease expired", got)
				assert.Equal(t, ref, d.Ref)
				assert.Equal(t, 2, d.DeliveryCount)
				waitIdle(t, q, qA)
				assert.Zero(t, rowCount(t, q))
			} else {
				waitFor(t, "dead letter", func() bool { return stats(t, q, qA).DeadLettered == 1 })
				dl, err := q.DeadLetters(ctx, qA)
				require.NoError(t, err)
				require.Len(t, dl, 1)
				assert.Equal(t, ClassLeaseExpired, dl[0].LastError)
				assert.Equal(t, 1, dl[0].DeliveryCount)
				assert.Empty(t, got)
			}

			// The dead consumer waking up late changes nothing.
			q.fail(stale, staleTok, ClassHandlerError)
			q.complete(stale.Queue, []Delivery{stale}, staleTok)
			if !tt.wantDelivered {
				assert.Equal(t, 1, stats(t, q, qA).DeadLettered)
			}
		})
	}
}

// lapseLeases ends every lock as the wall clock passing VisibilityTimeout would, so a test can
// hold a lock as long as its assertions take on a loaded machine and still see it lapse.
func lapseLeases(t testing.TB, q *Queue) {
	t.Helper()
	_, err := q.db.Exec(`UPDATE messages SET lease_until = ? WHERE lease_until IS NOT NULL`,
		time.Now().Add(-time.Millisecond).UnixMilli())
	require.NoError(t, err)
}

func TestStaleLeaseCannotTouchRedelivery(t *testing.T) {
	opts := fastOptions()
	opts.VisibilityTimeout = 10 * time.Millisecond
	q, _ := openTemp(t, opts)
	_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: "job"})
	require.NoError(t, err)
	stale, staleTok := claimOne(t, q, qA)
	time.Sleep(15 * time.Millisecond)
	fresh, freshTok := claimOne(t, q, qA)
	require.Equal(t, 2, fresh.DeliveryCount)

	q.complete(stale.Queue, []Delivery{stale}, staleTok)
	q.fail(stale, staleTok, ClassHandlerError)
	assert.Equal(t, 1, rowCount(t, q), "the stale lease settled nothing")
	q.complete(fresh.Queue, []Delivery{fresh}, freshTok)
	assert.Zero(t, rowCount(t, q))
}

func TestHandlerContextEndsWithLease(t *testing.T) {
	opts := fastOptions()
	opts.VisibilityTimeout = 20 * time.Millisecond
	opts.MaxDeliveries = 1
	q, _ := openTemp(t, opts)
	consume(t, q, qA, func(ctx context.Context, _ Delivery) error {
		<-ctx.Done()
		return ctx.Err()
	}, 1)
	_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: "slow"})
	require.NoError(t, err)
	waitFor(t, "dead letter", func() bool { return stats(t, q, qA).DeadLettered == 1 })
	dl, err := q.DeadLetters(context.Background(), qA)
	require.NoError(t, err)
	assert.Equal(t, ClassTimeout, dl[0].LastError)
}

func TestConcurrency(t *testing.T) {
	for _, n := range []int{1, 4, 16} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			q, _ := openTemp(t, fastOptions())
			ctx := context.Background()
			var running, peak atomic.Int32
			release := make(chan struct{})
			consume(t, q, qA, func(context.Context, Delivery) error {
				r := running.Add(1)
				for {
					p := peak.Load()
					if r <= p || peak.CompareAndSwap(p, r) {
						break
					}
				}
				<-release
				running.Add(-1)
				return nil
			}, n)

			for i := range 3 * n {
				_, err := q.Publish(ctx, qA, gdpr.Message{ID: fmt.Sprint(i)})
				require.NoError(t, err)
			}
			waitFor(t, fmt.Sprintf("%d handlers running", n), func() bool { return running.Load() == int32(n) })
			assert.Equal(t, Counts{Ready: 2 * n, InFlight: n}, stats(t, q, qA))
			time.Sleep(5 * time.Millisecond) // would a consumer exceed its slots?
			assert.Equal(t, int32(n), peak.Load())
			close(release)
			waitIdle(t, q, qA)
			assert.Equal(t, int32(n), peak.Load())
			assert.Zero(t, rowCount(t, q))
		})
	}
}

func TestStats(t *testing.T) {
	clock, opts := clockedOptions()
	opts.MaxDeliveries = 1
	q, _ := openTemp(t, opts)
	ctx := context.Background()
	pub := func(queue, id string, in time.Duration) {
		t.Helper()
		_, err := q.Publish(ctx, queue, gdpr.Message{ID: id, NotBefore: clock.Now().Add(in)})
		require.NoError(t, err)
	}

	pub(qA, "inflight", 0)
	claimOne(t, q, qA)
	pub(qA, "dead", 0)
	d, tok := claimOne(t, q, qA)
	q.fail(d, tok, ClassHandlerError)
	pub(qA, "ready-1", 0)
	pub(qA, "ready-2", -time.Hour)
	pub(qA, "scheduled", time.Hour)
	pub(qB, "scheduled", 2*time.Hour)

	got := mustStats(t, q)
	assert.Equal(t, map[string]Counts{
		qA: {Ready: 2, Scheduled: 1, InFlight: 1, DeadLettered: 1},
		qB: {Scheduled: 1},
	}, got)

	clock.Advance(2 * time.Hour)
	assert.Equal(t, Counts{Ready: 1}, stats(t, q, qB), "due by the service clock")
	assert.Equal(t, Counts{Ready: 3, InFlight: 1, DeadLettered: 1}, stats(t, q, qA))

	// A served but empty queue is listed.
	consume(t, q, "empty", func(context.Context, Delivery) error { return nil }, 1)
	waitFor(t, "consumer listed", func() bool { _, ok := mustStats(t, q)["empty"]; return ok })
	assert.Equal(t, Counts{}, mustStats(t, q)["empty"])
}

func TestWaitIdleFollowsChainsAcrossQueues(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	ctx := context.Background()
	var mails atomic.Int32
	consume(t, q, qA, func(ctx context.Context, d Delivery) error {
		time.Sleep(2 * time.Millisecond)
		_, err := q.Publish(ctx, qB, gdpr.Message{ID: "mail-" + d.ID})
		return err
	}, 1)
	consume(t, q, qB, func(context.Context, Delivery) error {
		time.Sleep(2 * time.Millisecond)
		mails.Add(1)
		return nil
	}, 1)
	for i := range 5 {
		_, err := q.Publish(ctx, qA, gdpr.Message{ID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	waitIdle(t, q, qA, qB)
	assert.Equal(t, int32(5), mails.Load())
}

func TestWaitIdleHonoursContext(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: "nobody consumes"})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, q.WaitIdle(ctx, qA), context.DeadlineExceeded)
	waitIdle(t, q, qB) // other queues are idle
}

func TestGracefulStop(t *testing.T) {
	tests := []struct {
		name         string
		handler      func(ctx context.Context, started chan<- struct{}, unblock <-chan struct{}) error
		drainTimeout time.Duration
		wantReady    int
		wantInFlight int
		wantCount    int // delivery_count left on the message
	}{
		{
			name: "handler honours cancellation: attempt given back",
			handler: func(ctx context.Context, started chan<- struct{}, _ <-chan struct{}) error {
				started <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			},
			// Never reached: Consume must wait for the handler however long it takes to return.
			drainTimeout: time.Hour,
			wantReady:    1, wantCount: 0,
		},
		{
			name: "handler finishes its work: completed",
			handler: func(ctx context.Context, started chan<- struct{}, _ <-chan struct{}) error {
				started <- struct{}{}
				<-ctx.Done()
				return nil
			},
			drainTimeout: time.Hour,
		},
		{
			name: "handler ignores cancellation: stop bounded by drain timeout",
			handler: func(ctx context.Context, started chan<- struct{}, unblock <-chan struct{}) error {
				started <- struct{}{}
				<-unblock
				return errors.New("too late")
			},
			drainTimeout: 100 * time.Millisecond,
			wantInFlight: 1, wantCount: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fastOptions()
			opts.DrainTimeout = tt.drainTimeout
			q, _ := openTemp(t, opts)
			started := make(chan struct{}, 1)
			unblock, finished := make(chan struct{}), make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- q.Consume(ctx, qA, func(ctx context.Context, _ Delivery) error {
					defer close(finished)
					return tt.handler(ctx, started, unblock)
				}, 1)
			}()
			_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: "job"})
			require.NoError(t, err)
			<-started
			cancel()
			require.NoError(t, receive(t, "Consume to stop", done))
			assert.Equal(t, Counts{Ready: tt.wantReady, InFlight: tt.wantInFlight}, stats(t, q, qA))
			if tt.wantReady+tt.wantInFlight > 0 {
				var n int
				require.NoError(t, q.db.QueryRow(`SELECT delivery_count FROM messages`).Scan(&n))
				assert.Equal(t, tt.wantCount, n)
			}
			close(unblock)
			<-finished // a straggler outlives Consume, not the test
		})
	}
}

func TestCloseStopsConsumers(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(context.Background(), qA, func(context.Context, Delivery) error { return nil }, 2)
	}()
	waitFor(t, "consumer", func() bool { _, ok := mustStats(t, q)[qA]; return ok })
	require.NoError(t, q.Close())
	require.NoError(t, receive(t, "Consume to return after Close", done))
	_, err := q.Publish(context.Background(), qA, gdpr.Message{})
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, q.Consume(context.Background(), qA, func(context.Context, Delivery) error { return nil }, 1), ErrClosed)
	assert.NoError(t, q.Close(), "Close is idempotent")
}
