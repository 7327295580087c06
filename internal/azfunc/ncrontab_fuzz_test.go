package azfunc

import (
	"testing"
	"time"
)

// FuzzParseSchedule: whatever the expression, ParseSchedule does not panic,
// and a schedule it accepts keeps its promise that Next finds a time: the
// next few firings after any instant each come strictly later than the one
// before, and each is a time the schedule names. Local mode's scheduler
// waits for Next, so a zero or past time would fire it in a loop.
func FuzzParseSchedule(f *testing.F) {
	for _, expr := range []string{
		"0 */5 * * * *", // the fixtures' and functions/' schedules
		"0 0 2 * * *",
		"*/30 * * * * *",
		"5/15 * * * * *",
		"0 15,45 8 * * *",
		"0 0 9-17/4 * * 1-5",
		"0 0 0 29 2 *",
		"0 0 0 13 * 5",
		"0 0 12 31 * *",
		"0 0 0 30 2 *",
		"*/0 * * * * *",
		"0 5-1 * * * *",
		"0 0 0 1,,2 * *",
	} {
		f.Add(expr, int64(1736935500)) // 2025-01-15T10:05:00Z
	}
	f.Add("0 0 0 29 2 1", int64(-62135596800)) // year 1
	f.Add("59 59 23 31 12 *", int64(253402300799))

	// Instants from year 1 to 9999: what a host timestamp can hold.
	const first, last = -62135596800, 253402300799
	f.Fuzz(func(t *testing.T, expr string, unix int64) {
		s, err := ParseSchedule(expr)
		if err != nil {
			return
		}
		if s.String() != expr {
			t.Fatalf("String() = %q, want %q", s.String(), expr)
		}
		if unix < first || unix > last {
			unix = first + (unix%(last-first)+(last-first))%(last-first)
		}
		after := time.Unix(unix, 0).UTC()
		for range 3 {
			next := s.Next(after)
			if !next.After(after) {
				t.Fatalf("%q: Next(%v) = %v, not after it", expr, after, next)
			}
			if !s.matches(next) {
				t.Fatalf("%q: Next(%v) = %v, which it does not name", expr, after, next)
			}
			after = next
		}
	})
}

func (s Schedule) matches(t time.Time) bool {
	return t.Location() == time.UTC && t.Nanosecond() == 0 &&
		has(s.seconds, t.Second()) && has(s.minutes, t.Minute()) && has(s.hours, t.Hour()) &&
		has(s.days, t.Day()) && has(s.months, int(t.Month())) && has(s.weekdays, int(t.Weekday()))
}
