package gdpr

import (
	"sync"
	"time"
)

// Clock is the service's notion of now. Retention, token expiry and scheduling read it, so a
// test clock can move a whole schedule through years in seconds.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC() }

// TestClock is set to an instant and then runs on from there at wall-clock speed, like the test
// clocks of payment providers: setting it does not freeze time, so timeouts still elapse.
type TestClock struct {
	mu     sync.Mutex
	offset time.Duration
	wall   func() time.Time
}

// NewTestClock starts at the wall clock.
func NewTestClock() *TestClock { return &TestClock{wall: time.Now} }

func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wallNow().Add(c.offset).UTC()
}

// Set moves the clock to t; it runs on from there. An instant further than a duration can
// reach from now (about 292 years) is refused rather than silently clamped.
func (c *TestClock) Set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.wallNow()
	offset := t.Sub(wall)
	if !wall.Add(offset).Equal(t) {
		return Errorf(CodeInvalid, "the test clock can move at most about 290 years from now")
	}
	c.offset = offset
	return nil
}

// wallNow makes the zero TestClock usable too.
func (c *TestClock) wallNow() time.Time {
	if c.wall == nil {
		return time.Now()
	}
	return c.wall()
}

// latest is the last of some instants, the zero time if none is set.
func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
