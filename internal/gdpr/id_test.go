package gdpr_test

import (
	"encoding/base32"
	"encoding/binary"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// The id alphabet (Crockford-like, lower case): decoding with it recovers the timestamp.
var idTestEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

var idShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{26}$`)

func TestNewID(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

	t.Run("prefix_then_26_characters", func(t *testing.T) {
		for _, prefix := range []string{"m_", "er_", ""} {
			id := gdpr.NewID(prefix, now)
			require.True(t, strings.HasPrefix(id, prefix), id)
			require.Len(t, id, len(prefix)+26)
			require.Regexp(t, idShape, strings.TrimPrefix(id, prefix))
		}
	})
	t.Run("R-OPS-1_carries_the_creation_millisecond_and_nothing_personal", func(t *testing.T) {
		id := gdpr.NewID("m_", now)
		b, err := idTestEncoding.DecodeString(strings.TrimPrefix(id, "m_"))
		require.NoError(t, err)
		require.Len(t, b, 16)
		var ts [8]byte
		copy(ts[2:], b[:6])
		require.Equal(t, uint64(now.UnixMilli()), binary.BigEndian.Uint64(ts[:]))
	})
	t.Run("unique_over_10k_ids_in_the_same_millisecond", func(t *testing.T) {
		seen := make(map[string]struct{}, 10_000)
		for range 10_000 {
			id := gdpr.NewID("m_", now)
			_, dup := seen[id]
			require.False(t, dup, "duplicate id %s", id)
			seen[id] = struct{}{}
		}
	})
	t.Run("random_part_differs_within_a_millisecond", func(t *testing.T) {
		a, b := gdpr.NewID("", now), gdpr.NewID("", now)
		require.NotEqual(t, a, b)
		// 48 bits of time are the first 9.6 characters: the first 9 are shared.
		require.Equal(t, a[:9], b[:9])
	})
	t.Run("time-sortable_across_milliseconds", func(t *testing.T) {
		var ids []string
		at := now
		for i := range 2_000 {
			// Steps of 1 ms, with larger jumps now and then (over a day).
			step := time.Millisecond
			if i%100 == 99 {
				step = 24*time.Hour + 7*time.Millisecond
			}
			at = at.Add(step)
			ids = append(ids, gdpr.NewID("m_", at))
		}
		require.True(t, sort.StringsAreSorted(ids), "ids must sort by creation time")
	})
	t.Run("one_millisecond_later_sorts_after", func(t *testing.T) {
		for i := range 1_000 {
			a := gdpr.NewID("", now)
			b := gdpr.NewID("", now.Add(time.Millisecond))
			require.Less(t, a, b, "iteration %d", i)
		}
	})
}
