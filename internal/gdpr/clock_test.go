package gdpr_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

func TestSystemClock(t *testing.T) {
	t.Run("system_clock_is_UTC_and_current", func(t *testing.T) {
		before := time.Now()
		got := gdpr.SystemClock{}.Now()
		after := time.Now()
		require.Equal(t, time.UTC, got.Location())
		require.False(t, got.Before(before.Truncate(time.Microsecond)))
		require.False(t, got.After(after))
	})
}

func TestTestClock(t *testing.T) {
	var _ gdpr.Clock = gdpr.NewTestClock()
	target := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

	t.Run("R-RET-1_starts_at_the_wall_clock", func(t *testing.T) {
		c := gdpr.NewTestClock()
		got := c.Now()
		require.WithinDuration(t, time.Now(), got, time.Second)
		require.Equal(t, time.UTC, got.Location())
	})
	t.Run("R-RET-1_Set_moves_Now", func(t *testing.T) {
		c := gdpr.NewTestClock()
		require.NoError(t, c.Set(target))
		got := c.Now()
		require.False(t, got.Before(target), "Now %v before the set instant", got)
		require.WithinDuration(t, target, got, time.Second)
		require.Equal(t, time.UTC, got.Location())
	})
	t.Run("R-RET-1_Set_to_the_past_and_back", func(t *testing.T) {
		c := gdpr.NewTestClock()
		past := time.Date(2019, 7, 1, 0, 0, 0, 0, time.UTC)
		require.NoError(t, c.Set(past))
		require.WithinDuration(t, past, c.Now(), time.Second)
		require.NoError(t, c.Set(target))
		require.WithinDuration(t, target, c.Now(), time.Second)
	})
	t.Run("R-RET-1_Set_in_another_zone_reads_back_in_UTC", func(t *testing.T) {
		c := gdpr.NewTestClock()
		require.NoError(t, c.Set(target.In(time.FixedZone("CEST", 2*3600))))
		got := c.Now()
		require.Equal(t, time.UTC, got.Location())
		require.WithinDuration(t, target, got, time.Second)
	})
	t.Run("R-RET-1_keeps_running_after_Set", func(t *testing.T) {
		c := gdpr.NewTestClock()
		require.NoError(t, c.Set(target))
		first := c.Now()
		time.Sleep(20 * time.Millisecond)
		second := c.Now()
		require.True(t, second.After(first), "the test clock must keep running: %v then %v", first, second)
		require.GreaterOrEqual(t, second.Sub(first), 15*time.Millisecond)
	})
	t.Run("refuses_an_instant_it_cannot_hold_instead_of_clamping", func(t *testing.T) {
		c := gdpr.NewTestClock()
		require.NoError(t, c.Set(target))
		for _, far := range []time.Time{time.Now().AddDate(300, 0, 0), time.Now().AddDate(-300, 0, 0), {}} {
			err := c.Set(far)
			require.Error(t, err)
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
			require.WithinDuration(t, target, c.Now(), time.Minute, "a refused Set leaves the clock where it was")
		}
	})
	t.Run("R-RET-1_concurrent_Set_and_Now_are_race-free", func(t *testing.T) {
		c := gdpr.NewTestClock()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 200 {
					if (i+j)%4 == 0 {
						_ = c.Set(target.AddDate(0, 0, j))
					} else {
						_ = c.Now()
					}
				}
			})
		}
		wg.Wait()
		got := c.Now()
		require.False(t, got.Before(target), "%v", got)
		require.True(t, got.Before(target.AddDate(0, 0, 200)), "%v", got)
	})
}
