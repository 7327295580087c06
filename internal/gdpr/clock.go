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

// Set moves the clock to t; it runs on from there.
func (c *TestClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = t.Sub(c.wallNow())
}

// wallNow makes the zero TestClock usable too.
func (c *TestClock) wallNow() time.Time {
	if c.wall == nil {
		return time.Now()
	}
	return c.wall()
}
