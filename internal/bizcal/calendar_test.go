package bizcal

import (
	"testing"
	"time"
)

var jst = time.FixedZone("JST", 9*3600)

func at(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, jst) }

func TestCalendar_AddBusinessTime(t *testing.T) {
	c := Standard(jst)
	cases := []struct {
		name  string
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"within the day", at(2026, 11, 24, 10, 0), time.Hour, at(2026, 11, 24, 11, 0)},
		{"carries to the next morning", at(2026, 11, 24, 17, 30), time.Hour, at(2026, 11, 25, 9, 30)},
		{"before opening starts at 9", at(2026, 11, 24, 7, 0), time.Hour, at(2026, 11, 24, 10, 0)},
		{"friday evening to monday", at(2026, 11, 27, 17, 0), 2 * time.Hour, at(2026, 11, 30, 10, 0)},
		{"skips the substitute holiday", at(2026, 5, 1, 17, 0), 2 * time.Hour, at(2026, 5, 7, 10, 0)},
		{"skips 年末年始", at(2026, 12, 28, 17, 0), 2 * time.Hour, at(2027, 1, 4, 10, 0)},
		{"one business day", at(2026, 11, 24, 9, 0), 9 * time.Hour, at(2026, 11, 24, 18, 0)},
		{"zero", at(2026, 11, 24, 12, 0), 0, at(2026, 11, 24, 12, 0)},
	}
	for _, tc := range cases {
		if got := c.Add(tc.start, tc.d); !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCalendar_BetweenIsTheInverseOfAdd(t *testing.T) {
	c := Standard(jst)
	for _, start := range []time.Time{at(2026, 11, 24, 10, 0), at(2026, 12, 25, 16, 0), at(2026, 4, 28, 20, 0)} {
		for _, d := range []time.Duration{30 * time.Minute, time.Hour, 9 * time.Hour, 40 * time.Hour} {
			end := c.Add(start, d)
			got := c.Between(maxTime(start, c.Add(start, 0)), end)
			if got != d {
				t.Errorf("Between(%v, Add(%v, %v)=%v) = %v", start, start, d, end, got)
			}
		}
	}
	if c.Between(at(2026, 11, 24, 12, 0), at(2026, 11, 24, 11, 0)) != 0 {
		t.Error("negative span")
	}
}

func TestCalendar_WorkingDayAndValidate(t *testing.T) {
	c := Standard(jst)
	for _, d := range []time.Time{at(2026, 11, 23, 12, 0), at(2026, 11, 22, 12, 0), at(2027, 1, 2, 12, 0)} {
		if c.WorkingDay(d) {
			t.Errorf("%v should be a day off", d)
		}
	}
	if !c.WorkingDay(at(2026, 11, 24, 12, 0)) {
		t.Error("an ordinary Tuesday is a working day")
	}
	if err := (Calendar{Loc: jst, Open: 9 * time.Hour, Close: 18 * time.Hour}).Validate(); err == nil {
		t.Error("a calendar with no working weekday validated")
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
