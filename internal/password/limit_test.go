package password

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// gatedHasher blocks every hash until the test opens the gate, and counts those running.
type gatedHasher struct {
	gate    chan struct{}
	mu      sync.Mutex
	running int
	entered chan struct{}
}

func newGatedHasher() *gatedHasher {
	return &gatedHasher{gate: make(chan struct{}), entered: make(chan struct{}, 100)}
}

func (g *gatedHasher) Hash(ctx context.Context, pw string) (string, error) {
	g.mu.Lock()
	g.running++
	g.mu.Unlock()
	g.entered <- struct{}{}
	<-g.gate
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	return "hash", nil
}

// TestLimitedBoundsHashing is review finding 4 of #10: a signup flood may not run more
// hashes than there are slots, may queue only a few more, and refuses the rest at once with
// an "unavailable" error (503 and Retry-After at the HTTP layer), whoever they are for.
func TestLimitedBoundsHashing(t *testing.T) {
	g := newGatedHasher()
	l := NewLimited(g, 2, 3, time.Hour)
	ctx := t.Context()
	results := make(chan error, 10)
	for range 5 { // 2 run, 3 queue
		go func() { _, err := l.Hash(ctx, "pw"); results <- err }()
	}
	<-g.entered
	<-g.entered
	require.Eventually(t, func() bool { return len(l.queue) == 3 }, time.Minute, time.Millisecond, "three wait")

	for range 3 { // past the queue: refused at once, without waiting for the gate
		_, err := l.Hash(ctx, "pw")
		require.Error(t, err)
		require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))
	}
	g.mu.Lock()
	require.Equal(t, 2, g.running, "never more hashes than slots")
	g.mu.Unlock()

	close(g.gate)
	for range 5 {
		require.NoError(t, <-results, "the queued ones are served")
	}
}

func TestLimitedWaitIsBounded(t *testing.T) {
	g := newGatedHasher()
	defer close(g.gate)
	l := NewLimited(g, 1, 1, time.Millisecond)
	go func() { _, _ = l.Hash(t.Context(), "pw") }()
	<-g.entered
	_, err := l.Hash(t.Context(), "pw") // queues, and gives up after maxWait
	require.Equal(t, gdpr.CodeUnavailable, gdpr.ErrorCode(err))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	l = NewLimited(g, 1, 1, time.Hour)
	go func() { _, _ = l.Hash(t.Context(), "pw") }()
	<-g.entered
	_, err = l.Hash(ctx, "pw")
	require.ErrorIs(t, err, context.Canceled, "a client that left stops waiting")
}
