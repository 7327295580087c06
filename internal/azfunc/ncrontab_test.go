package azfunc_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/azfunc"
)

func TestScheduleNext(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name, expr, after, want string
	}{
		{"daily 02:00 later today", "0 0 2 * * *", "2025-01-15T01:59:59.5Z", "2025-01-15T02:00:00Z"},
		{"daily 02:00 tomorrow", "0 0 2 * * *", "2025-01-15T10:05:00Z", "2025-01-16T02:00:00Z"},
		{"strictly after an occurrence", "0 0 2 * * *", "2025-01-15T02:00:00Z", "2025-01-16T02:00:00Z"},
		{"every five minutes", "0 */5 * * * *", "2025-01-15T10:05:00Z", "2025-01-15T10:10:00Z"},
		{"every five minutes mid-interval", "0 */5 * * * *", "2025-01-15T10:07:31Z", "2025-01-15T10:10:00Z"},
		{"every 30 seconds", "*/30 * * * * *", "2025-01-15T10:00:00Z", "2025-01-15T10:00:30Z"},
		{"every 30 seconds into next minute", "*/30 * * * * *", "2025-01-15T10:00:45Z", "2025-01-15T10:01:00Z"},
		{"step from a start value", "5/15 * * * * *", "2025-01-15T10:00:21Z", "2025-01-15T10:00:35Z"},
		{"step past the range fires at its start only", "5/9223372036854775807 * * * * *", "2025-01-15T10:00:05Z", "2025-01-15T10:01:05Z"},
		{"list of minutes", "0 15,45 8 * * *", "2025-01-15T08:20:00Z", "2025-01-15T08:45:00Z"},
		{"stepped hour range on weekdays skips the weekend", "0 0 9-17/4 * * 1-5", "2025-01-17T17:00:00Z", "2025-01-20T09:00:00Z"},
		{"sunday is 0", "0 0 0 * * 0", "2025-01-13T00:00:00Z", "2025-01-19T00:00:00Z"},
		{"month rollover", "0 0 0 1 * *", "2025-01-31T12:00:00Z", "2025-02-01T00:00:00Z"},
		{"year rollover", "0 0 0 1 1 *", "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		{"skips months without a 31st", "0 0 12 31 * *", "2025-04-01T00:00:00Z", "2025-05-31T12:00:00Z"},
		{"leap day", "0 0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"day and weekday must both match, as in NCrontab", "0 0 0 13 * 5", "2025-01-01T00:00:00Z", "2025-06-13T00:00:00Z"},
		{"other zones are read as the instant they name", "0 0 2 * * *", "2025-01-15T03:30:00+02:00", "2025-01-15T02:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := azfunc.ParseSchedule(tt.expr)
			require.NoError(t, err)
			got := s.Next(at(tt.after))
			assert.Equal(t, at(tt.want).UTC(), got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}

	t.Run("zero schedule never fires", func(t *testing.T) {
		assert.True(t, azfunc.Schedule{}.Next(at("2025-01-15T00:00:00Z")).IsZero())
	})
}

func TestParseScheduleRejects(t *testing.T) {
	tests := []struct {
		name, expr, wantErr string
	}{
		{"empty", "", "want 6 fields"},
		{"five-field unix cron", "0 */5 * * *", "got 5"},
		{"seven fields", "0 0 0 1 1 * 2025", "got 7"},
		{"timespan form", "00:05:00", "got 1"},
		{"second 60", "60 * * * * *", `second field "60": 60 is outside 0-59`},
		{"hour 24", "0 0 24 * * *", `hour field "24": 24 is outside 0-23`},
		{"day 0", "0 0 0 0 * *", `day field "0": 0 is outside 1-31`},
		{"month 13", "0 0 0 * 13 *", `month field "13": 13 is outside 1-12`},
		{"weekday 7", "0 0 0 * * 7", `day-of-week field "7": 7 is outside 0-6`},
		{"zero step", "*/0 * * * * *", `step "0" is not a positive number`},
		{"backwards range", "0 5-1 * * * *", "range 5-1 runs backwards"},
		{"month name", "0 0 0 * JAN *", `"JAN" is not a number`},
		{"empty list item", "0 0 0 1,,2 * *", `"" is not a number`},
		{"february 30", "0 0 0 30 2 *", "no month has the days it names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := azfunc.ParseSchedule(tt.expr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestScheduleString(t *testing.T) {
	s, err := azfunc.ParseSchedule("0 */5 * * * *")
	require.NoError(t, err)
	assert.Equal(t, "0 */5 * * * *", s.String())
}
