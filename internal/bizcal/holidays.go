// Package bizcal knows Japanese public holidays for any year from 2000 to
// 2099 (computed from the law's rules, substitute and citizens' holidays
// included) and counts business time on a calendar with working hours and
// company closures such as 年末年始. SLA timers and "today" views use it. It
// imports nothing of ours.
package bizcal

import (
	"math"
	"sort"
	"time"
)

// Holiday is one Japanese public holiday.
type Holiday struct {
	Date time.Time // midnight, in the location asked for
	Name string    // Japanese name, e.g. 元日
}

// FirstYear and LastYear bound the years whose holidays are computed: the
// equinox formulas used are valid there, and the rules since 2000 (Happy
// Monday) apply throughout.
const (
	FirstYear = 2000
	LastYear  = 2099
)

// Holidays returns the public holidays of a year in date order, in loc.
// Years outside FirstYear–LastYear return nil.
func Holidays(year int, loc *time.Location) []Holiday {
	if year < FirstYear || year > LastYear {
		return nil
	}
	d := func(m time.Month, day int) time.Time { return time.Date(year, m, day, 0, 0, 0, 0, loc) }
	nthMonday := func(m time.Month, n int) time.Time {
		t := d(m, 1)
		for t.Weekday() != time.Monday {
			t = t.AddDate(0, 0, 1)
		}
		return t.AddDate(0, 0, 7*(n-1))
	}
	y := float64(year - 1980)
	spring := int(math.Floor(20.8431 + 0.242194*y - math.Floor(y/4)))
	autumn := int(math.Floor(23.2488 + 0.242194*y - math.Floor(y/4)))

	hs := []Holiday{
		{d(time.January, 1), "元日"},
		{nthMonday(time.January, 2), "成人の日"},
		{d(time.February, 11), "建国記念の日"},
		{d(time.March, spring), "春分の日"},
		{d(time.May, 3), "憲法記念日"},
		{d(time.May, 5), "こどもの日"},
		{d(time.September, autumn), "秋分の日"},
		{d(time.November, 3), "文化の日"},
		{d(time.November, 23), "勤労感謝の日"},
	}
	switch {
	case year >= 2020:
		hs = append(hs, Holiday{d(time.February, 23), "天皇誕生日"})
	case year <= 2018:
		hs = append(hs, Holiday{d(time.December, 23), "天皇誕生日"})
	}
	if year >= 2007 {
		hs = append(hs, Holiday{d(time.April, 29), "昭和の日"}, Holiday{d(time.May, 4), "みどりの日"})
	} else {
		hs = append(hs, Holiday{d(time.April, 29), "みどりの日"})
	}
	// Marine Day, Mountain Day and Sports Day moved for the Tokyo Olympics.
	switch year {
	case 2020:
		hs = append(hs, Holiday{d(time.July, 23), "海の日"}, Holiday{d(time.August, 10), "山の日"}, Holiday{d(time.July, 24), "スポーツの日"})
	case 2021:
		hs = append(hs, Holiday{d(time.July, 22), "海の日"}, Holiday{d(time.August, 8), "山の日"}, Holiday{d(time.July, 23), "スポーツの日"})
	default:
		if year >= 2003 {
			hs = append(hs, Holiday{nthMonday(time.July, 3), "海の日"})
		} else {
			hs = append(hs, Holiday{d(time.July, 20), "海の日"})
		}
		if year >= 2016 {
			hs = append(hs, Holiday{d(time.August, 11), "山の日"})
		}
		name := "スポーツの日"
		if year < 2020 {
			name = "体育の日"
		}
		hs = append(hs, Holiday{nthMonday(time.October, 2), name})
	}
	if year >= 2003 {
		hs = append(hs, Holiday{nthMonday(time.September, 3), "敬老の日"})
	} else {
		hs = append(hs, Holiday{d(time.September, 15), "敬老の日"})
	}
	if year == 2019 {
		hs = append(hs, Holiday{d(time.May, 1), "即位の日"}, Holiday{d(time.October, 22), "即位礼正殿の儀の行われる日"})
	}

	is := map[time.Time]bool{}
	for _, h := range hs {
		is[h.Date] = true
	}
	// 国民の休日: a day between two holidays is one (it cannot be a Sunday).
	var extra []Holiday
	for _, h := range hs {
		mid, next := h.Date.AddDate(0, 0, 1), h.Date.AddDate(0, 0, 2)
		if !is[mid] && is[next] && mid.Weekday() != time.Sunday {
			extra = append(extra, Holiday{mid, "国民の休日"})
		}
	}
	for _, h := range extra {
		is[h.Date] = true
	}
	hs = append(hs, extra...)
	// 振替休日: a holiday on a Sunday moves to the next day that is not a holiday.
	var subs []Holiday
	for _, h := range hs {
		if h.Date.Weekday() != time.Sunday {
			continue
		}
		t := h.Date.AddDate(0, 0, 1)
		for is[t] {
			t = t.AddDate(0, 0, 1)
		}
		if t.Year() == year {
			subs = append(subs, Holiday{t, "振替休日"})
			is[t] = true
		}
	}
	hs = append(hs, subs...)
	sort.Slice(hs, func(i, j int) bool { return hs[i].Date.Before(hs[j].Date) })
	return hs
}

// IsHoliday reports whether the calendar date of t (in t's location) is a
// Japanese public holiday, and its name.
func IsHoliday(t time.Time) (string, bool) {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	for _, h := range Holidays(t.Year(), t.Location()) {
		if h.Date.Equal(day) {
			return h.Name, true
		}
	}
	return "", false
}
