package gdpr

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Period is a calendar duration: "3 years" is the 3-year mark of the calendar (R-RET-1), not
// 3×365 days, so years, months and days are kept apart from the exact part.
type Period struct {
	Years, Months, Days int
	Exact               time.Duration // hours, minutes and seconds, which the calendar does not stretch
}

// AddTo returns t moved forward by p.
func (p Period) AddTo(t time.Time) time.Time {
	return t.AddDate(p.Years, p.Months, p.Days).Add(p.Exact)
}

// SubFrom returns t moved back by p.
func (p Period) SubFrom(t time.Time) time.Time {
	return t.AddDate(-p.Years, -p.Months, -p.Days).Add(-p.Exact)
}

// Longer reports whether p lasts longer than q from any instant of this century: calendar
// parts are compared where they are longest (a month of 31 days, a leap year).
func (p Period) Longer(q Period) bool {
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	return p.AddTo(ref).Sub(ref) > q.AddTo(ref).Sub(ref)
}

// IsZero reports an empty period.
func (p Period) IsZero() bool { return p == Period{} }

// Positive reports a period that moves time forward.
func (p Period) Positive() bool {
	return !p.IsZero() && p.Years >= 0 && p.Months >= 0 && p.Days >= 0 && p.Exact >= 0
}

// maxCount is the largest count of one designator: nine digits, as ParsePeriod reads them.
const maxCount = 999_999_999

// ParsePeriod accepts ISO 8601 durations ("P3Y", "P1Y2M10DT2H30M", "P2W", "PT24H") and Go
// durations ("72h", "90m").
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "P") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return Period{}, fmt.Errorf("not an ISO 8601 or Go duration")
		}
		if d%time.Second != 0 {
			return Period{}, fmt.Errorf("durations are counted in whole seconds")
		}
		if d < 0 {
			return Period{}, fmt.Errorf("durations are not negative")
		}
		return Period{Exact: d}, nil
	}
	var p Period
	rest, inTime, seen, seenTime := s[1:], false, false, false
	// Each designator at most once, in ISO 8601's order: "P1Y1Y" or "PT1S1H" is refused, not
	// summed or reordered, so a period reads back as it was written.
	order, last := "YMWD", -1
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return Period{}, fmt.Errorf("repeated T in ISO 8601 duration")
			}
			inTime, rest, order, last = true, rest[1:], "HMS", -1
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 9 {
			return Period{}, fmt.Errorf("malformed ISO 8601 duration")
		}
		n, _ := strconv.Atoi(rest[:i])
		unit := rest[i]
		rest = rest[i+1:]
		if at := strings.IndexByte(order, unit); at >= 0 {
			if at <= last {
				return Period{}, fmt.Errorf("ISO 8601 duration designators must appear once each, in order")
			}
			last = at
		}
		seen, seenTime = true, inTime
		addClock := func(u time.Duration) error {
			if time.Duration(n) > (math.MaxInt64-p.Exact)/u {
				return fmt.Errorf("ISO 8601 duration too long")
			}
			p.Exact += time.Duration(n) * u
			return nil
		}
		var err error
		switch {
		case !inTime && unit == 'Y':
			p.Years += n
		case !inTime && unit == 'M':
			p.Months += n
		case !inTime && unit == 'W':
			p.Days += 7 * n
		case !inTime && unit == 'D':
			p.Days += n
		case inTime && unit == 'H':
			err = addClock(time.Hour)
		case inTime && unit == 'M':
			err = addClock(time.Minute)
		case inTime && unit == 'S':
			err = addClock(time.Second)
		default:
			return Period{}, fmt.Errorf("unknown unit in ISO 8601 duration (Y, M, W, D, then T and H, M, S)")
		}
		if err != nil {
			return Period{}, err
		}
	}
	if inTime && !seenTime {
		return Period{}, fmt.Errorf("T without a time part in ISO 8601 duration")
	}
	if !seen {
		return Period{}, fmt.Errorf("empty ISO 8601 duration")
	}
	if p.Days > maxCount {
		// Weeks are kept as days: P170000000W would be more days than a period writes back.
		return Period{}, fmt.Errorf("ISO 8601 duration too long")
	}
	return p, nil
}

// String renders ISO 8601.
func (p Period) String() string {
	if p.IsZero() {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	for _, f := range []struct {
		n    int
		unit byte
	}{{p.Years, 'Y'}, {p.Months, 'M'}, {p.Days, 'D'}} {
		if f.n != 0 {
			fmt.Fprintf(&b, "%d%c", f.n, f.unit)
		}
	}
	if p.Exact != 0 {
		b.WriteByte('T')
		d := p.Exact
		h, m, sec := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
		if h != 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m != 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if sec != 0 || (h == 0 && m == 0) {
			fmt.Fprintf(&b, "%dS", sec)
		}
	}
	return b.String()
}

func (p Period) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

func (p *Period) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Errorf(CodeInvalid, "durations must be strings")
	}
	v, err := ParsePeriod(s)
	if err != nil {
		return Errorf(CodeInvalid, "%s", err) // the rule broken, never the value
	}
	*p = v
	return nil
}
