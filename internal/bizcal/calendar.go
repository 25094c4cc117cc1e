package bizcal

import (
	"fmt"
	"time"
)

// Closure is a yearly company closure, e.g. 年末年始 from December 29 to
// January 3 (it may wrap the year end).
type Closure struct {
	Name       string
	FromMonth  time.Month
	FromDay    int
	UntilMonth time.Month
	UntilDay   int // inclusive
}

// NewYear is the usual 年末年始 closure, December 29 to January 3.
var NewYear = Closure{Name: "年末年始", FromMonth: time.December, FromDay: 29, UntilMonth: time.January, UntilDay: 3}

// Calendar says when a team works: opening hours on working weekdays, minus
// Japanese public holidays (when observed) and company closures.
type Calendar struct {
	Loc      *time.Location
	Open     time.Duration // from midnight, e.g. 9h
	Close    time.Duration // from midnight, e.g. 18h
	Weekdays [7]bool       // indexed by time.Weekday
	Holidays bool          // observe Japanese public holidays
	Closures []Closure
}

// Standard is a Japanese office calendar: 9:00–18:00, Monday to Friday,
// public holidays and 年末年始 off.
func Standard(loc *time.Location) Calendar {
	c := Calendar{Loc: loc, Open: 9 * time.Hour, Close: 18 * time.Hour, Holidays: true, Closures: []Closure{NewYear}}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Weekdays[d] = true
	}
	return c
}

// Validate reports a calendar that could never be open.
func (c Calendar) Validate() error {
	if c.Loc == nil {
		return fmt.Errorf("bizcal: calendar has no time zone")
	}
	if c.Open < 0 || c.Close > 24*time.Hour || c.Close <= c.Open {
		return fmt.Errorf("bizcal: opening hours must be a range within the day")
	}
	for _, w := range c.Weekdays {
		if w {
			return nil
		}
	}
	return fmt.Errorf("bizcal: calendar has no working weekday")
}

func (c Calendar) closed(day time.Time) bool {
	md := int(day.Month())*100 + day.Day()
	for _, cl := range c.Closures {
		from, until := int(cl.FromMonth)*100+cl.FromDay, int(cl.UntilMonth)*100+cl.UntilDay
		if (from <= until && md >= from && md <= until) || (from > until && (md >= from || md <= until)) {
			return true
		}
	}
	return false
}

// WorkingDay reports whether the calendar day of t is a working day.
func (c Calendar) WorkingDay(t time.Time) bool {
	t = t.In(c.Loc)
	if !c.Weekdays[t.Weekday()] || c.closed(t) {
		return false
	}
	if c.Holidays {
		if _, ok := IsHoliday(t); ok {
			return false
		}
	}
	return true
}

// window returns the opening hours of t's day, or ok=false on a day off.
func (c Calendar) window(t time.Time) (open, close time.Time, ok bool) {
	t = t.In(c.Loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Loc)
	if !c.WorkingDay(day) {
		return time.Time{}, time.Time{}, false
	}
	return day.Add(c.Open), day.Add(c.Close), true
}

// maxDays bounds the day-by-day walks (a calendar open one day a year still
// finishes).
const maxDays = 3 * 366

// Add returns the moment d of business time after start. A start outside
// opening hours begins counting at the next opening.
func (c Calendar) Add(start time.Time, d time.Duration) time.Time {
	t := start.In(c.Loc)
	for i := 0; i < maxDays; i++ {
		open, close, ok := c.window(t)
		if ok && t.Before(close) {
			if t.Before(open) {
				t = open
			}
			if left := close.Sub(t); d <= left {
				return t.Add(d)
			} else {
				d -= left
			}
		}
		next := t.AddDate(0, 0, 1)
		t = time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, c.Loc)
	}
	return t
}

// Between returns the business time from a to b (zero when b is not after a).
func (c Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	t := a.In(c.Loc)
	for i := 0; i < maxDays && t.Before(b); i++ {
		if open, close, ok := c.window(t); ok {
			from, to := maxTime(t, open), minTime(b, close)
			if to.After(from) {
				sum += to.Sub(from)
			}
		}
		next := t.AddDate(0, 0, 1)
		t = time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, c.Loc)
	}
	return sum
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
