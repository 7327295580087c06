package azfunc

import (
	"errors"
	"time"
)

// hostTimeLayouts are the shapes .NET puts on the wire. DateTimeOffset
// values carry an offset ("+00:00"); DateTime values such as
// EnqueuedTimeUtc lose their zone on the way, and Go's parser takes
// fractional seconds whether or not a layout mentions them.
var hostTimeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
}

// ParseTime reads a timestamp from the host and returns it in UTC. Zone-less
// values are UTC: Azure hosts run on UTC and the zone-less fields are the
// …Utc ones. .NET's DateTime.MinValue ("0001-01-01T00:00:00", with or
// without an offset) means "never" and becomes the zero time, so IsZero
// works as callers expect.
//
// Any time in year 1, by its own offset or in UTC, is taken for MinValue
// shifted by a zone: nothing real happened then, and a year-1 instant
// returned as is would read back as "never" once formatted in UTC. Years
// before 1 are outside what .NET can send.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range hostTimeLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		switch {
		case t.Year() < 1:
			return time.Time{}, errNotHostTime
		case t.Year() == 1 || t.UTC().Year() <= 1:
			return time.Time{}, nil
		}
		return t.UTC(), nil
	}
	return time.Time{}, errNotHostTime
}

var errNotHostTime = errors.New("azfunc: not a host timestamp")
