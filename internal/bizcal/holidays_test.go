package bizcal

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func list(year int) string {
	var out []string
	for _, h := range Holidays(year, time.UTC) {
		out = append(out, h.Date.Format("01-02"))
	}
	return strings.Join(out, " ")
}

// The expected lists are the Cabinet Office's published holidays.
func TestHolidays_MatchThePublishedCalendars(t *testing.T) {
	cases := map[int]string{
		2019: "01-01 01-14 02-11 03-21 04-29 04-30 05-01 05-02 05-03 05-04 05-05 05-06 07-15 08-11 08-12 09-16 09-23 10-14 10-22 11-03 11-04 11-23",
		2020: "01-01 01-13 02-11 02-23 02-24 03-20 04-29 05-03 05-04 05-05 05-06 07-23 07-24 08-10 09-21 09-22 11-03 11-23",
		2021: "01-01 01-11 02-11 02-23 03-20 04-29 05-03 05-04 05-05 07-22 07-23 08-08 08-09 09-20 09-23 11-03 11-23",
		2024: "01-01 01-08 02-11 02-12 02-23 03-20 04-29 05-03 05-04 05-05 05-06 07-15 08-11 08-12 09-16 09-22 09-23 10-14 11-03 11-04 11-23",
		2025: "01-01 01-13 02-11 02-23 02-24 03-20 04-29 05-03 05-04 05-05 05-06 07-21 08-11 09-15 09-23 10-13 11-03 11-23 11-24",
		2026: "01-01 01-12 02-11 02-23 03-20 04-29 05-03 05-04 05-05 05-06 07-20 08-11 09-21 09-22 09-23 10-12 11-03 11-23",
	}
	for year, want := range cases {
		if got := list(year); got != want {
			t.Errorf("%d:\n got %s\nwant %s", year, got, want)
		}
	}
}

func TestHolidays_NamesAndRange(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	if n, ok := IsHoliday(time.Date(2026, 9, 22, 15, 0, 0, 0, tokyo)); !ok || n != "国民の休日" {
		t.Errorf("2026-09-22: %q %v", n, ok)
	}
	if n, ok := IsHoliday(time.Date(2026, 5, 6, 9, 0, 0, 0, tokyo)); !ok || n != "振替休日" {
		t.Errorf("2026-05-06: %q %v", n, ok)
	}
	if _, ok := IsHoliday(time.Date(2026, 5, 7, 9, 0, 0, 0, tokyo)); ok {
		t.Error("2026-05-07 is a working day")
	}
	if Holidays(1999, tokyo) != nil || Holidays(2100, tokyo) != nil {
		t.Error("years outside the supported range must return nil")
	}
	for y := FirstYear; y <= LastYear; y++ {
		hs := Holidays(y, tokyo)
		if len(hs) < 15 || len(hs) > 24 {
			t.Errorf("%d has %d holidays", y, len(hs))
		}
		seen := map[string]bool{}
		for _, h := range hs {
			k := fmt.Sprint(h.Date)
			if seen[k] {
				t.Errorf("%d: %s twice", y, k)
			}
			seen[k] = true
		}
	}
}
