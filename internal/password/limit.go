package password

import (
	"context"
	"time"

	"popsell-gdpr/internal/gdpr"
)

// Limited bounds how many passwords are hashed at once. bcrypt is meant to be slow: 300
// concurrent signups on 2 cores made every other route wait its turn behind them (health went
// from 1 ms to 1 s). With the hashing bounded to the cores and a short queue, a flood costs
// the signups beyond it a 503 with Retry-After, and the rest of the API stays fast.
//
// The limit is the same whatever the address: signup hashes before it looks the address up,
// so being refused says nothing about who is a member.
type Limited struct {
	hasher  gdpr.PasswordHasher
	slots   chan struct{} // a token per hash that may run
	queue   chan struct{} // a token per request that may wait for a slot
	maxWait time.Duration
}

var _ gdpr.PasswordHasher = (*Limited)(nil)

// NewLimited lets slots hashes run at once and queue more wait up to maxWait each.
func NewLimited(h gdpr.PasswordHasher, slots, queue int, maxWait time.Duration) *Limited {
	return &Limited{hasher: h, slots: make(chan struct{}, max(1, slots)), queue: make(chan struct{}, max(0, queue)), maxWait: maxWait}
}

// errBusy is the answer past the queue: 503, try again shortly.
var errBusy = gdpr.Errorf(gdpr.CodeUnavailable, "too many sign-ups at once; try again in a moment")

// Hash runs the hash in a free slot, waiting in the queue for one if need be.
func (l *Limited) Hash(ctx context.Context, pw string) (string, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		if err := l.wait(ctx); err != nil {
			return "", err
		}
	}
	defer func() { <-l.slots }()
	return l.hasher.Hash(ctx, pw)
}

// wait queues for a slot, if the queue has room, for at most maxWait.
func (l *Limited) wait(ctx context.Context) error {
	select {
	case l.queue <- struct{}{}:
	default:
		return errBusy
	}
	defer func() { <-l.queue }()
	timer := time.NewTimer(l.maxWait)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}
