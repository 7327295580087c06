package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestManual(t *testing.T) {
	var _ gdpr.Clock = clocktest.New(t0)

	t.Run("stands_still_until_moved", func(t *testing.T) {
		c := clocktest.New(t0)
		require.Equal(t, t0, c.Now())
		require.Equal(t, t0, c.Now())
		c.Advance(time.Hour)
		require.Equal(t, t0.Add(time.Hour), c.Now())
		c.Set(t0.AddDate(1, 0, 0))
		require.Equal(t, t0.AddDate(1, 0, 0), c.Now())
	})
	t.Run("stepping_moves_on_after_each_reading", func(t *testing.T) {
		c := clocktest.Stepping(t0, time.Second)
		require.Equal(t, t0, c.Now())
		require.Equal(t, t0.Add(time.Second), c.Now())
	})
	t.Run("concurrent_use_is_race-free", func(t *testing.T) {
		c := clocktest.New(t0)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { c.Advance(time.Second); _ = c.Now() })
		}
		wg.Wait()
		require.Equal(t, t0.Add(8*time.Second), c.Now())
	})
}
