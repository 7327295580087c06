package queuetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The suite's checks of NotBefore rest on a clock that moves only when told, and by exactly
// what it is told.
func TestClockMovesOnlyWhenAdvanced(t *testing.T) {
	c := NewClock()
	start := c.Now()
	assert.Equal(t, time.UTC, start.Location())
	assert.Equal(t, start, c.Now())
	c.Advance(time.Millisecond)
	c.Advance(3 * 365 * 24 * time.Hour)
	assert.Equal(t, start.Add(time.Millisecond+3*365*24*time.Hour), c.Now())
}
