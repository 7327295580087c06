package localqueue

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// idOfRef reads the id stored under ref, to check that refs come back in input order.
func idOfRef(t testing.TB, q *Queue, ref string) string {
	t.Helper()
	var id string
	require.NoError(t, q.db.QueryRow(`SELECT id FROM messages WHERE ref = ?`, ref).Scan(&id))
	return id
}

func TestPublishBatchThousandThenAllConsumed(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	ctx := context.Background()
	const n = 1000
	msgs := make([]gdpr.Message, n)
	for i := range msgs {
		msgs[i] = gdpr.Message{ID: fmt.Sprintf("erase:b_1:u_%04d", i), Body: []byte(strconv.Itoa(i))}
	}

	refs, err := q.PublishBatch(ctx, qA, msgs)
	require.NoError(t, err)
	require.Len(t, refs, n)
	assert.Equal(t, Counts{Ready: n}, stats(t, q, qA))

	var mu sync.Mutex
	got := map[string]Delivery{}
	consume(t, q, qA, func(_ context.Context, d Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		got[d.Ref] = d
		return nil
	}, 4)
	waitIdle(t, q, qA)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, n, "each message delivered, once")
	for i, ref := range refs {
		d, ok := got[ref]
		require.True(t, ok, "ref %s (message %d) not delivered", ref, i)
		assert.Equal(t, msgs[i].ID, d.ID, "refs are in input order")
		assert.Equal(t, string(msgs[i].Body), string(d.Body))
		assert.Equal(t, 1, d.DeliveryCount)
	}
	assert.Zero(t, rowCount(t, q))
}

func TestPublishBatchRefsInOrder(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	msgs := []gdpr.Message{{ID: "c"}, {ID: "a"}, {}, {ID: "b"}, {}}
	refs, err := q.PublishBatch(context.Background(), qA, msgs)
	require.NoError(t, err)
	require.Len(t, refs, len(msgs))
	for i, m := range msgs {
		id := idOfRef(t, q, refs[i])
		if m.ID != "" {
			assert.Equal(t, m.ID, id, "position %d", i)
		} else {
			assert.NotEmpty(t, id, "position %d: an id is generated", i)
		}
	}
	assert.NotEqual(t, idOfRef(t, q, refs[2]), idOfRef(t, q, refs[4]), "empty ids never collide")
	assert.Equal(t, len(msgs), rowCount(t, q))
}

func TestPublishBatchDedup(t *testing.T) {
	clock, opts := clockedOptions()
	q, _ := openTemp(t, opts)
	ctx := context.Background()

	scheduled, err := q.Publish(ctx, qA, gdpr.Message{ID: "scheduled", Body: []byte("old"), NotBefore: clock.Now().Add(time.Hour)})
	require.NoError(t, err)
	inFlight, err := q.Publish(ctx, qA, gdpr.Message{ID: "in-flight", Body: []byte("old")})
	require.NoError(t, err)
	claimOne(t, q, qA)
	otherQueue, err := q.Publish(ctx, qB, gdpr.Message{ID: "x"})
	require.NoError(t, err)

	refs, err := q.PublishBatch(ctx, qA, []gdpr.Message{
		{ID: "x", Body: []byte("first")},
		{ID: "scheduled", Body: []byte("new")},
		{ID: "x", Body: []byte("second")},
		{ID: "in-flight", Body: []byte("new")},
		{ID: "y"},
		{}, {},
	})
	require.NoError(t, err)
	require.Len(t, refs, 7)

	assert.Equal(t, refs[0], refs[2], "an id repeated in the batch is published once")
	assert.Equal(t, scheduled, refs[1], "an id already scheduled keeps its message")
	assert.Equal(t, inFlight, refs[3], "an id in delivery keeps its message")
	assert.NotEqual(t, otherQueue, refs[0], "ids are per queue")
	assert.NotEqual(t, refs[5], refs[6])
	// scheduled, in-flight and x in qB, then x, y and the two generated ones.
	assert.Equal(t, 3+4, rowCount(t, q))

	var body string
	require.NoError(t, q.db.QueryRow(`SELECT body FROM messages WHERE ref = ?`, refs[0]).Scan(&body))
	assert.Equal(t, "first", body, "the first body wins, as with Publish")
	require.NoError(t, q.db.QueryRow(`SELECT body FROM messages WHERE ref = ?`, scheduled).Scan(&body))
	assert.Equal(t, "old", body)

	again, err := q.PublishBatch(ctx, qA, []gdpr.Message{{ID: "y"}, {ID: "x"}})
	require.NoError(t, err)
	assert.Equal(t, []string{refs[4], refs[0]}, again, "a retried batch changes nothing")
	assert.Equal(t, 7, rowCount(t, q))
}

// A retried batch larger than one lookup query finds every message it published before.
func TestPublishBatchRepublishedWhole(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	ctx := context.Background()
	n := 2*maxLookup + 7
	msgs := make([]gdpr.Message, n)
	for i := range msgs {
		msgs[i] = gdpr.Message{ID: fmt.Sprintf("job-%04d", i)}
	}
	first, err := q.PublishBatch(ctx, qA, msgs)
	require.NoError(t, err)

	again, err := q.PublishBatch(ctx, qA, append(msgs, gdpr.Message{ID: "new"}))
	require.NoError(t, err)
	require.Equal(t, first, again[:n])
	assert.Equal(t, "new", idOfRef(t, q, again[n]))
	assert.Equal(t, n+1, rowCount(t, q))
}

func TestPublishBatchScheduledAndImmediate(t *testing.T) {
	clock, opts := clockedOptions()
	q, _ := openTemp(t, opts)
	ctx := context.Background()
	now := clock.Now()

	msgs := []gdpr.Message{
		{ID: "now"},
		{ID: "in-1h", NotBefore: now.Add(time.Hour)},
		{ID: "past", NotBefore: now.Add(-time.Hour)},
		{ID: "in-2h", NotBefore: now.Add(2 * time.Hour)},
		{ID: "exactly-now", NotBefore: now},
	}
	refs, err := q.PublishBatch(ctx, qA, msgs)
	require.NoError(t, err)
	assert.Equal(t, Counts{Ready: 3, Scheduled: 2}, stats(t, q, qA))

	var mu sync.Mutex
	var got []string
	consume(t, q, qA, func(_ context.Context, d Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d.ID)
		return nil
	}, 1)
	delivered := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	waitIdle(t, q, qA)
	assert.ElementsMatch(t, []string{"now", "past", "exactly-now"}, delivered())
	assert.Equal(t, Counts{Scheduled: 2}, stats(t, q, qA))

	clock.Advance(time.Hour)
	waitFor(t, "in-1h delivered", func() bool { return len(delivered()) == 4 })
	clock.Advance(time.Hour)
	waitFor(t, "in-2h delivered", func() bool { return len(delivered()) == 5 })
	waitIdle(t, q, qA)
	assert.Equal(t, []string{"in-1h", "in-2h"}, delivered()[3:])
	assert.Equal(t, Counts{}, stats(t, q, qA))

	// A scheduled message can be cancelled by the ref its batch returned.
	refs, err = q.PublishBatch(ctx, qA, []gdpr.Message{{ID: "later", NotBefore: clock.Now().Add(time.Hour)}})
	require.NoError(t, err)
	require.NoError(t, q.Cancel(ctx, qA, refs[0]))
	assert.Zero(t, rowCount(t, q))
}

// Only the wake-up can deliver here: the poll interval is far longer than the test.
func TestPublishBatchWakesConsumer(t *testing.T) {
	opts := fastOptions()
	opts.PollInterval = time.Hour
	q, _ := openTemp(t, opts)
	got := make(chan string, 10)
	consume(t, q, qA, func(_ context.Context, d Delivery) error { got <- d.ID; return nil }, 1)
	waitFor(t, "consumer registered", func() bool { _, ok := mustStats(t, q)[qA]; return ok })
	time.Sleep(5 * time.Millisecond) // let it find the queue empty and sleep

	_, err := q.PublishBatch(context.Background(), qA, []gdpr.Message{
		{ID: "later", NotBefore: time.Now().Add(time.Hour)},
		{ID: "due"},
	})
	require.NoError(t, err)
	// However long this takes on a loaded machine, the hour-long poll cannot have delivered it.
	assert.Equal(t, "due", receive(t, "the consumer to be woken by PublishBatch", got))
}

func TestPublishBatchEmpty(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	ctx := context.Background()
	for _, msgs := range [][]gdpr.Message{nil, {}} {
		refs, err := q.PublishBatch(ctx, qA, msgs)
		require.NoError(t, err)
		assert.Nil(t, refs)
	}
	assert.Zero(t, rowCount(t, q))
	assert.NotContains(t, mustStats(t, q), qA)

	_, err := q.PublishBatch(ctx, "", []gdpr.Message{{ID: "a"}})
	require.Error(t, err, "an empty queue name is refused")
	_, err = q.PublishBatch(ctx, "", nil)
	require.Error(t, err, "even with nothing to publish")
}

// The batch is one transaction: a message that fails to store leaves none of the batch behind.
func TestPublishBatchIsAtomic(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	ctx := context.Background()
	_, err := q.db.Exec(`CREATE TEMP TRIGGER poison BEFORE INSERT ON messages
		WHEN NEW.id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`)
	require.NoError(t, err)

	refs, err := q.PublishBatch(ctx, qA, []gdpr.Message{{ID: "a"}, {ID: "b"}, {ID: "poison"}, {ID: "c"}})
	require.ErrorContains(t, err, "poisoned")
	assert.Nil(t, refs)
	assert.Zero(t, rowCount(t, q), "nothing of a failed batch is stored")

	refs, err = q.PublishBatch(ctx, qA, []gdpr.Message{{ID: "a"}, {ID: "b"}})
	require.NoError(t, err)
	assert.Len(t, refs, 2)
}

func TestPublishBatchAfterClose(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	require.NoError(t, q.Close())
	_, err := q.PublishBatch(context.Background(), qA, []gdpr.Message{{ID: "a"}})
	require.ErrorIs(t, err, ErrClosed)
}

// TestConsumeBatchesSettlesEachMessage: a batch handler gets due messages together, at most
// size at a time, in publishing order; each message is settled by its own outcome, so a
// failed one is retried alone and the others complete.
func TestConsumeBatchesSettlesEachMessage(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	ctx := context.Background()
	const n, size = 250, 100
	msgs := make([]gdpr.Message, n)
	for i := range msgs {
		msgs[i] = gdpr.Message{ID: fmt.Sprintf("job-%03d", i), Body: []byte(strconv.Itoa(i))}
	}
	_, err := q.PublishBatch(ctx, qA, msgs)
	require.NoError(t, err)

	var mu sync.Mutex
	var sizes []int
	deliveries := map[string][]int{} // id → delivery counts seen
	consumeBatches(t, q, qA, func(_ context.Context, ds []Delivery) []error {
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(ds))
		errs := make([]error, len(ds))
		for i, d := range ds {
			deliveries[d.ID] = append(deliveries[d.ID], d.DeliveryCount)
			if d.ID == "job-007" && d.DeliveryCount == 1 {
				errs[i] = fmt.Errorf("transient")
			}
		}
		return errs
	}, size, 1)
	waitFor(t, "every message completed, the retried one too", func() bool { return rowCount(t, q) == 0 })

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, deliveries, n, "every message delivered")
	for id, counts := range deliveries {
		if id == "job-007" {
			assert.Equal(t, []int{1, 2}, counts, "the failed message alone is retried")
		} else {
			assert.Equal(t, []int{1}, counts, "%s completed with its batch", id)
		}
	}
	for _, s := range sizes {
		assert.LessOrEqual(t, s, size)
	}
	assert.Equal(t, []int{100, 100}, sizes[:2], "due messages are taken a batch at a time")
	assert.Zero(t, rowCount(t, q))
}

// TestConsumeBatchesInPublishingOrder: within a batch, messages come oldest first.
func TestConsumeBatchesInPublishingOrder(t *testing.T) {
	q, _ := openTemp(t, fastOptions())
	for i := range 50 {
		_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: strconv.Itoa(i), Body: []byte(strconv.Itoa(i))})
		require.NoError(t, err)
	}
	got := make(chan []string, 10)
	consumeBatches(t, q, qA, func(_ context.Context, ds []Delivery) []error {
		var ids []string
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		got <- ids
		return make([]error, len(ds))
	}, 50, 1)
	waitIdle(t, q, qA)
	first := <-got
	require.Len(t, first, 50)
	for i, id := range first {
		assert.Equal(t, strconv.Itoa(i), id)
	}
}

// TestConsumeBatchesPanicOrMissingOutcomesFailAll: a handler that panics, or does not answer
// for every message, fails the whole batch; each message is retried, none is lost.
func TestConsumeBatchesPanicOrMissingOutcomesFailAll(t *testing.T) {
	for _, broken := range []string{"panic", "short"} {
		t.Run(broken, func(t *testing.T) {
			q, _ := openTemp(t, fastOptions())
			for i := range 3 {
				_, err := q.Publish(context.Background(), qA, gdpr.Message{ID: strconv.Itoa(i)})
				require.NoError(t, err)
			}
			var mu sync.Mutex
			seen := map[string]int{}
			consumeBatches(t, q, qA, func(_ context.Context, ds []Delivery) []error {
				mu.Lock()
				defer mu.Unlock()
				first := true
				for _, d := range ds {
					seen[d.ID]++
					first = first && d.DeliveryCount == 1
				}
				if first && broken == "panic" {
					panic("subject m_123")
				}
				if first {
					return nil
				}
				return make([]error, len(ds))
			}, 10, 1)
			waitFor(t, "the retries completed", func() bool { return rowCount(t, q) == 0 })
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, map[string]int{"0": 2, "1": 2, "2": 2}, seen)
			assert.Zero(t, rowCount(t, q))
		})
	}
}
