package azfunc

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed six-field NCRONTAB expression, the format of a
// timerTrigger's "schedule". In Azure the Functions host fires timers; local
// mode has no host and fires them itself at the times Next returns, so Next
// has to agree with the host on when a schedule fires.
//
// When both day and day-of-week are restricted, a time must match both.
// That is how NCrontab — the library the host uses — evaluates them, unlike
// Vixie cron, which accepts either; following the host keeps Next honest.
type Schedule struct {
	expr                                            string
	seconds, minutes, hours, days, months, weekdays uint64 // bit n set: value n allowed
}

type cronField struct {
	name     string
	min, max int
}

var cronFields = [6]cronField{
	{"second", 0, 59},
	{"minute", 0, 59},
	{"hour", 0, 23},
	{"day", 1, 31},
	{"month", 1, 12},
	{"day-of-week", 0, 6}, // 0 is Sunday
}

// daysInMonth allows February 29, which leap years reach.
var daysInMonth = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// ParseSchedule parses "{second} {minute} {hour} {day} {month} {day-of-week}".
// Each field takes *, a number, a range a-b, a step */n, a-b/n or a/n (a to
// the maximum), and comma-separated lists of those. Month and day names are
// not supported. A schedule that can never fire, such as February 30, is
// rejected here rather than leaving Next to search forever.
func ParseSchedule(expr string) (Schedule, error) {
	fields := strings.Fields(expr)
	if len(fields) != len(cronFields) {
		return Schedule{}, fmt.Errorf("azfunc: schedule %q: want 6 fields {second} {minute} {hour} {day} {month} {day-of-week}, got %d", expr, len(fields))
	}
	var sets [6]uint64
	for i, f := range cronFields {
		set, err := f.parse(fields[i])
		if err != nil {
			return Schedule{}, fmt.Errorf("azfunc: schedule %q: %s field %q: %w", expr, f.name, fields[i], err)
		}
		sets[i] = set
	}
	s := Schedule{expr, sets[0], sets[1], sets[2], sets[3], sets[4], sets[5]}
	if !s.anyDayExists() {
		return Schedule{}, fmt.Errorf("azfunc: schedule %q: no month has the days it names", expr)
	}
	return s, nil
}

func (f cronField) parse(field string) (uint64, error) {
	var set uint64
	for part := range strings.SplitSeq(field, ",") {
		lo, hi, step := f.min, f.max, 1
		rng, stepText, hasStep := strings.Cut(part, "/")
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("step %q is not a positive number", stepText)
			}
			// A step past the field's range selects only where it starts;
			// capping it keeps v += step below from overflowing into a
			// negative shift.
			step = min(n, f.max+1)
		}
		if rng != "*" {
			first, last, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(first); err != nil {
				return 0, err
			}
			switch {
			case isRange:
				if hi, err = f.value(last); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, fmt.Errorf("range %d-%d runs backwards", lo, hi)
				}
			case !hasStep:
				hi = lo
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

func (f cronField) value(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is outside %d-%d", n, f.min, f.max)
	}
	return n, nil
}

func (s Schedule) anyDayExists() bool {
	for m := 1; m <= 12; m++ {
		if has(s.months, m) && s.days&(1<<(daysInMonth[m]+1)-1) != 0 {
			return true
		}
	}
	return false
}

func has(set uint64, v int) bool { return set&(1<<v) != 0 }

// String returns the expression as written.
func (s Schedule) String() string { return s.expr }

// Next returns the first time strictly after after, in UTC, that the
// schedule fires. Timer schedules are evaluated in UTC unless the app sets
// WEBSITE_TIME_ZONE, which this does not model. It returns the zero time for
// the zero Schedule, which matches nothing.
func (s Schedule) Next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Second).Add(time.Second)
	// The Gregorian calendar repeats every 400 years, so a schedule that
	// ParseSchedule accepted fires within them.
	for limit := t.Year() + 400; t.Year() <= limit; {
		y, mon, d := t.Date()
		switch {
		case !has(s.months, int(mon)):
			t = time.Date(y, mon+1, 1, 0, 0, 0, 0, time.UTC)
		case !has(s.days, d) || !has(s.weekdays, int(t.Weekday())):
			t = time.Date(y, mon, d+1, 0, 0, 0, 0, time.UTC)
		case !has(s.hours, t.Hour()):
			t = t.Truncate(time.Hour).Add(time.Hour)
		case !has(s.minutes, t.Minute()):
			t = t.Truncate(time.Minute).Add(time.Minute)
		case !has(s.seconds, t.Second()):
			t = t.Add(time.Second)
		default:
			return t
		}
	}
	return time.Time{}
}
