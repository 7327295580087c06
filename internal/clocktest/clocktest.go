// Package clocktest is the one clock of the tests: it stands still until a test moves it, so
// schedules, expiries and retention periods are decided by the test and never by how fast the
// machine runs. It satisfies gdpr.Clock, and its Now method fits the adapters that take a
// func() time.Time.
package clocktest

import (
	"sync"
	"time"
)

// Manual is a clock the test moves by hand. The zero value reads the zero time; it is safe
// for concurrent use.
type Manual struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// New returns a clock standing at t.
func New(t time.Time) *Manual { return &Manual{now: t} }

// Stepping returns a clock standing at t that moves on by step after each reading, so that
// consecutive readings differ and sort in the order they were taken.
func Stepping(t time.Time, step time.Duration) *Manual { return &Manual{now: t, step: step} }

// Now reads the clock.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now
	c.now = c.now.Add(c.step)
	return now
}

// Set moves the clock to t.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock on by d.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
