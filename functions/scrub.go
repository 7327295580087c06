package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Scrub timing: erased values leave the write-ahead log once erasures have paused for
// scrubQuiet, and at least every scrubMax while they keep coming. One checkpoint costs a few
// fsyncs and ~30 ms of the single writer, so doing it after every erasure would cap the worker
// at a few dozen per second. The quiet time outlasts the gap between two erasure batches
// (~30-60 ms): at 50 ms a burst was "quiet" seven times a second and the scrubs took a
// quarter of the writer's time (BenchmarkErasureWorkerLocalMode).
const (
	scrubQuiet = 250 * time.Millisecond
	scrubMax   = time.Second
)

// scrubber checkpoints the embedded store after bursts of erasures (erased means
// gone from storage, WAL included).
type scrubber struct {
	store scrubbable
	log   *slog.Logger
	kick  chan struct{}

	mu    sync.Mutex
	since time.Time // first unscrubbed erasure; zero when clean
	gen   uint64    // counts requests, so a checkpoint knows what it covered
}

// scrubbable is a store that can make erased values unrecoverable from its own files (the
// embedded store zeroes free pages and truncates its write-ahead log). Managed services such
// as Cosmos DB guarantee this themselves, so only local mode has one.
type scrubbable interface {
	Scrub(ctx context.Context) error
}

func newScrubber(store scrubbable, log *slog.Logger) *scrubber {
	return &scrubber{store: store, log: log, kick: make(chan struct{}, 1)}
}

// request notes an erasure whose values must leave the log.
func (s *scrubber) request() {
	s.mu.Lock()
	if s.since.IsZero() {
		s.since = time.Now()
	}
	s.gen++
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// retry wakes the loop to scrub again what a failed scrub left.
func (s *scrubber) retry() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// pending reports erasures not yet scrubbed.
func (s *scrubber) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.since.IsZero()
}

func (s *scrubber) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			s.scrub(context.Background()) // the last erasures before a shutdown
			return
		case <-s.kick:
		}
		// Wait for a quiet moment, but no longer than scrubMax after the first request.
	quiet:
		for {
			s.mu.Lock()
			deadline := s.since.Add(scrubMax)
			s.mu.Unlock()
			wait := min(scrubQuiet, time.Until(deadline))
			select {
			case <-ctx.Done():
				break quiet
			case <-s.kick:
				if time.Until(deadline) <= 0 {
					break quiet
				}
			case <-time.After(max(wait, 0)):
				break quiet
			}
		}
		s.scrub(ctx)
	}
}

func (s *scrubber) scrub(ctx context.Context) {
	s.mu.Lock()
	since, gen := s.since, s.gen
	s.mu.Unlock()
	if since.IsZero() {
		return
	}
	if err := s.store.Scrub(ctx); err != nil {
		s.log.Warn("scrub failed; retrying", "err", err)
		time.AfterFunc(scrubQuiet, s.retry)
		return
	}
	s.mu.Lock()
	if s.gen == gen {
		s.since = time.Time{}
	} else {
		s.retry() // erasures arrived during the checkpoint; scrub again for them
	}
	s.mu.Unlock()
}
