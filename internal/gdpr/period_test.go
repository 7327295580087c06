package gdpr_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// Retention durations are per-Brand settings written as ISO 8601 or Go durations (R-TEN-2).

func TestParsePeriodAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want gdpr.Period
	}{
		{"R-RET-1_ISO_3_years", "P3Y", gdpr.Period{Years: 3}},
		{"R-TEN-2_ISO_every_designator", "P1Y2M10DT2H30M", gdpr.Period{Years: 1, Months: 2, Days: 10, Exact: 2*time.Hour + 30*time.Minute}},
		{"R-TEN-2_ISO_weeks_are_7_days", "P2W", gdpr.Period{Days: 14}},
		{"R-SIGNUP-2_ISO_24_hours_stay_clock_time", "PT24H", gdpr.Period{Exact: 24 * time.Hour}},
		{"R-TEN-2_ISO_zero_seconds_is_the_zero_period", "PT0S", gdpr.Period{}},
		{"R-TEN-2_ISO_M_before_T_is_months", "P1M", gdpr.Period{Months: 1}},
		{"R-TEN-2_ISO_M_after_T_is_minutes", "PT1M", gdpr.Period{Exact: time.Minute}},
		{"R-TEN-2_ISO_seconds", "PT90S", gdpr.Period{Exact: 90 * time.Second}},
		{"R-ERASE-8_ISO_6_months", "P6M", gdpr.Period{Months: 6}},
		{"R-TEN-2_surrounding_spaces_trimmed", "  P7D\t", gdpr.Period{Days: 7}},
		{"R-TEN-2_Go_hours", "72h", gdpr.Period{Exact: 72 * time.Hour}},
		{"R-TEN-2_Go_minutes", "90m", gdpr.Period{Exact: 90 * time.Minute}},
		{"R-TEN-2_Go_compound", "1h30m45s", gdpr.Period{Exact: time.Hour + 30*time.Minute + 45*time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gdpr.ParsePeriod(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParsePeriodRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"R-TEN-2_empty", ""},
		{"R-TEN-2_blank", "   "},
		{"R-TEN-2_P_without_designator", "P"},
		{"R-TEN-2_missing_P", "3Y"},
		{"R-TEN-2_T_without_time_part", "PT"},
		{"R-TEN-2_trailing_T_without_time_part", "P1YT"},
		{"R-TEN-2_hours_outside_T", "P1H"},
		{"R-TEN-2_seconds_outside_T", "P1S"},
		{"R-TEN-2_years_inside_T", "PT1Y"},
		{"R-TEN-2_days_inside_T", "PT1D"},
		{"R-TEN-2_repeated_designator_not_summed", "P1Y999999999Y"},
		{"R-TEN-2_designators_out_of_order", "P1D1Y"},
		{"R-TEN-2_repeated_time_designator", "PT1H1H"},
		{"R-TEN-2_weeks_past_what_days_can_write", "P170000000W"},
		{"R-TEN-2_negative_go_duration", "-1h"},
		{"R-TEN-2_fractions_refused", "P1.5Y"},
		{"R-TEN-2_number_without_unit", "P3"},
		{"R-TEN-2_unit_without_number", "PY"},
		{"R-TEN-2_negative_ISO", "P-3D"},
		{"R-TEN-2_repeated_T", "PT1HT2M"},
		{"R-TEN-2_lower_case_ISO", "p3y"},
		{"R-TEN-2_unknown_unit", "P3X"},
		{"R-TEN-2_garbage", "three years"},
		{"R-TEN-2_Go_days_unit_does_not_exist", "3d"},
		{"R-TEN-2_too_many_digits", "P1234567890D"},
		// 6,000,000 h overflows time.Duration (max ≈ 2,562,047 h) and would silently wrap to
		// a positive but unrelated duration.
		{"R-TEN-2_clock_overflow_refused", "PT6000000H"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := gdpr.ParsePeriod(tt.in)
			require.Error(t, err, "parsed %q as %#v", tt.in, p)
			require.Equal(t, gdpr.Period{}, p)
		})
	}
}

func TestPeriodString(t *testing.T) {
	tests := []struct {
		name string
		p    gdpr.Period
		want string
	}{
		{"R-TEN-2_zero_is_PT0S", gdpr.Period{}, "PT0S"},
		{"R-RET-1_years", gdpr.Period{Years: 3}, "P3Y"},
		{"R-ERASE-8_months", gdpr.Period{Months: 6}, "P6M"},
		{"R-ERASE-5_days", gdpr.Period{Days: 7}, "P7D"},
		{"R-SIGNUP-2_hours", gdpr.Period{Exact: 24 * time.Hour}, "PT24H"},
		{"R-TEN-2_minutes_only", gdpr.Period{Exact: 90 * time.Minute}, "PT1H30M"},
		{"R-TEN-2_seconds_only", gdpr.Period{Exact: 45 * time.Second}, "PT45S"},
		{"R-TEN-2_every_part", gdpr.Period{Years: 1, Months: 2, Days: 10, Exact: 2*time.Hour + 30*time.Minute + 5*time.Second}, "P1Y2M10DT2H30M5S"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.p.String())
		})
	}
}

func TestPeriodStringRoundTrips(t *testing.T) {
	for _, in := range []string{
		"P3Y", "P1Y2M10DT2H30M", "P2W", "PT24H", "PT0S", "P6M", "PT1M", "P1M", "PT45S",
		"72h", "90m", "1h30m45s",
	} {
		t.Run("R-TEN-2_"+in, func(t *testing.T) {
			p, err := gdpr.ParsePeriod(in)
			require.NoError(t, err)
			back, err := gdpr.ParsePeriod(p.String())
			require.NoError(t, err, "String() = %q", p.String())
			require.Equal(t, p, back, "String() = %q", p.String())
		})
	}
}

// A sub-second Go duration is either refused by ParsePeriod or survives String (hence JSON and
// the store): "1500ms" must not come back as PT1S, nor "500ms" as PT0S, which WithDefaults
// would then silently replace by the default.
func TestPeriodSubSecondNeverSilentlyTruncated(t *testing.T) {
	for _, in := range []string{"1500ms", "500ms"} {
		t.Run("R-TEN-2_"+in, func(t *testing.T) {
			p, err := gdpr.ParsePeriod(in)
			if err != nil {
				return // refusing sub-second periods is fine
			}
			b, err := json.Marshal(p)
			require.NoError(t, err)
			var back gdpr.Period
			require.NoError(t, json.Unmarshal(b, &back), "marshalled as %s", b)
			require.Equal(t, p, back, "marshalled as %s", b)
		})
	}
}

func TestPeriodJSON(t *testing.T) {
	t.Run("R-TEN-2_marshals_as_an_ISO_string", func(t *testing.T) {
		b, err := json.Marshal(gdpr.Period{Years: 1, Days: 2, Exact: 3 * time.Hour})
		require.NoError(t, err)
		require.JSONEq(t, `"P1Y2DT3H"`, string(b))
	})
	t.Run("R-TEN-2_zero_marshals_as_PT0S", func(t *testing.T) {
		b, err := json.Marshal(gdpr.Period{})
		require.NoError(t, err)
		require.JSONEq(t, `"PT0S"`, string(b))
	})
	t.Run("R-TEN-2_inside_a_struct_round_trips", func(t *testing.T) {
		type holder struct {
			P gdpr.Period `json:"p"`
		}
		in := holder{P: gdpr.Period{Months: 6, Exact: 24 * time.Hour}}
		b, err := json.Marshal(in)
		require.NoError(t, err)
		require.JSONEq(t, `{"p":"P6MT24H"}`, string(b))
		var out holder
		require.NoError(t, json.Unmarshal(b, &out))
		require.Equal(t, in, out)
	})
	t.Run("R-TEN-2_retention_round_trips", func(t *testing.T) {
		in := gdpr.DefaultRetention()
		b, err := json.Marshal(in)
		require.NoError(t, err)
		var out gdpr.Retention
		require.NoError(t, json.Unmarshal(b, &out))
		require.Equal(t, in, out)
	})

	unmarshal := []struct {
		name    string
		in      string
		want    gdpr.Period
		wantErr bool
	}{
		{"R-TEN-2_ISO_string", `"P3Y"`, gdpr.Period{Years: 3}, false},
		{"R-TEN-2_Go_string", `"72h"`, gdpr.Period{Exact: 72 * time.Hour}, false},
		{"R-TEN-2_number_refused", `259200`, gdpr.Period{}, true},
		{"R-TEN-2_object_refused", `{"years":3}`, gdpr.Period{}, true},
		{"R-TEN-2_bad_string_refused", `"3 years"`, gdpr.Period{}, true},
		{"R-TEN-2_empty_string_refused", `""`, gdpr.Period{}, true},
	}
	for _, tt := range unmarshal {
		t.Run("unmarshal/"+tt.name, func(t *testing.T) {
			var p gdpr.Period
			err := json.Unmarshal([]byte(tt.in), &p)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, p)
		})
	}
}

func TestPeriodAddToSubFrom(t *testing.T) {
	utc := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	tests := []struct {
		name string
		p    gdpr.Period
		from time.Time
		add  time.Time // p.AddTo(from)
		sub  time.Time // p.SubFrom(from)
	}{
		{
			// The 3-year mark is a calendar date, not 3×365 days: 2021-01-10 + 3y lands on
			// 2024-01-10 although 2024 is a leap year on the way.
			"R-RET-1_3_years_is_the_calendar_mark",
			gdpr.Period{Years: 3}, utc(2021, 1, 10, 9, 30),
			utc(2024, 1, 10, 9, 30), utc(2018, 1, 10, 9, 30),
		},
		{
			// Go's AddDate normalises 2025-02-29, which does not exist, to 2025-03-01; going
			// back a year from 2024-02-29 likewise gives 2023-03-01.
			"R-RET-1_leap_day_plus_a_year_normalises_like_AddDate",
			gdpr.Period{Years: 1}, utc(2024, 2, 29, 0, 0),
			utc(2025, 3, 1, 0, 0), utc(2023, 3, 1, 0, 0),
		},
		{
			// 2024-04-31 does not exist: AddDate makes it 2024-05-01; 2024-02-31 → 2024-03-02.
			"R-ERASE-8_month_end_overflow_normalises_like_AddDate",
			gdpr.Period{Months: 1}, utc(2024, 3, 31, 12, 0),
			utc(2024, 5, 1, 12, 0), utc(2024, 3, 2, 12, 0),
		},
		{
			"R-RET-1_warning_30_days_before_the_mark",
			gdpr.Period{Days: 30}, utc(2027, 1, 10, 0, 0),
			utc(2027, 2, 9, 0, 0), utc(2026, 12, 11, 0, 0),
		},
		{
			"R-SIGNUP-2_24_hours_of_clock_time",
			gdpr.Period{Exact: 24 * time.Hour}, utc(2024, 12, 31, 18, 0),
			utc(2025, 1, 1, 18, 0), utc(2024, 12, 30, 18, 0),
		},
		{
			// The date part is applied first, then the clock part.
			"R-TEN-2_date_then_clock",
			gdpr.Period{Years: 1, Months: 2, Days: 10, Exact: 2*time.Hour + 30*time.Minute}, utc(2023, 1, 1, 0, 0),
			utc(2024, 3, 11, 2, 30), utc(2021, 10, 21, 21, 30),
		},
		{
			"R-TEN-2_zero_period_moves_nothing",
			gdpr.Period{}, utc(2024, 6, 1, 8, 0),
			utc(2024, 6, 1, 8, 0), utc(2024, 6, 1, 8, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.add, tt.p.AddTo(tt.from))
			require.Equal(t, tt.sub, tt.p.SubFrom(tt.from))
			// The same as AddDate followed by Add, by definition.
			require.Equal(t, tt.from.AddDate(tt.p.Years, tt.p.Months, tt.p.Days).Add(tt.p.Exact), tt.p.AddTo(tt.from))
		})
	}

	t.Run("R-RET-1_calendar_days_across_DST_keep_the_wall_clock", func(t *testing.T) {
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Skip("no tzdata:", err)
		}
		from := time.Date(2024, 3, 30, 10, 0, 0, 0, paris) // the night before DST starts
		got := gdpr.Period{Days: 1}.AddTo(from)
		require.Equal(t, time.Date(2024, 3, 31, 10, 0, 0, 0, paris), got)
		require.Equal(t, 23*time.Hour, got.Sub(from))
	})
}

func TestPeriodIsZeroPositive(t *testing.T) {
	tests := []struct {
		name           string
		p              gdpr.Period
		zero, positive bool
	}{
		{"R-TEN-2_zero", gdpr.Period{}, true, false},
		{"R-TEN-2_years", gdpr.Period{Years: 3}, false, true},
		{"R-TEN-2_clock", gdpr.Period{Exact: time.Hour}, false, true},
		{"R-TEN-2_negative_days", gdpr.Period{Days: -1}, false, false},
		{"R-TEN-2_negative_clock", gdpr.Period{Exact: -time.Hour}, false, false},
		{"R-TEN-2_mixed_signs", gdpr.Period{Years: 1, Days: -1}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.zero, tt.p.IsZero())
			require.Equal(t, tt.positive, tt.p.Positive())
		})
	}
}
