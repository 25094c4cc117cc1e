package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

// formInt parses an optional integer form or query value.
func formInt(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// formTime parses a datetime-local value in loc; zero when empty or bad.
func formTime(v string, loc *time.Location) *time.Time {
	if v == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return &t
		}
	}
	return nil
}

func encodeCursor(at, id int64) string {
	return strconv.FormatInt(at, 36) + "." + strconv.FormatInt(id, 36)
}

func decodeCursor(s string) (at, id int64, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	at, err1 := strconv.ParseInt(a, 36, 64)
	id, err2 := strconv.ParseInt(b, 36, 64)
	return at, id, err1 == nil && err2 == nil && id > 0
}
