package dataio

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// eras are the Japanese eras a date may be written in, with the Gregorian
// year of their first year (元年).
var eras = map[string]int{
	"令和": 2019, "R": 2019,
	"平成": 1989, "H": 1989,
	"昭和": 1926, "S": 1926,
	"大正": 1912, "T": 1912,
	"明治": 1868, "M": 1868,
}

var (
	reEra     = regexp.MustCompile(`^(令和|平成|昭和|大正|明治|[RHSTM])\s*(元|\d{1,2})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?` + reTimeTail)
	reKanji   = regexp.MustCompile(`^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日` + reTimeTail)
	reYMD     = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})` + reTimeTail)
	reMDY     = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})` + reTimeTail)
	reCompact = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	reSerial  = regexp.MustCompile(`^\d{1,5}(\.\d+)?$`)
)

// reTimeTail is an optional time of day after a date: " 10:30", "T10:30:15Z",
// " 10:30:15+09:00". The groups are hour, minute, second, zone.
const reTimeTail = `(?:(?:\s+|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$`

// ParseDate reads a date (and optional time of day) as people and
// spreadsheets write it: 2024-04-01, 2024/4/1, 2024年4月1日, 令和6年4月1日
// (also 平成, 昭和, 大正, 明治, 元年, and R6.4.1), 20240401, 4/1/2024 (month
// first, as US exports write it), ISO 8601 with a time, and Excel serial day
// numbers (45383). Full-width digits are accepted. Times without a zone are
// in loc.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(norm.NFKC.String(s))
	if s == "" {
		return time.Time{}, fmt.Errorf("is empty")
	}
	if m := reEra.FindStringSubmatch(s); m != nil {
		y := 1
		if m[2] != "元" {
			y, _ = strconv.Atoi(m[2])
		}
		if y < 1 {
			return time.Time{}, fmt.Errorf("%q is not a date", s)
		}
		return civil(eras[m[1]]+y-1, m[3], m[4], m[5:], loc, s)
	}
	if m := reKanji.FindStringSubmatch(s); m != nil {
		return civil(atoi(m[1]), m[2], m[3], m[4:], loc, s)
	}
	if m := reYMD.FindStringSubmatch(s); m != nil {
		return civil(atoi(m[1]), m[2], m[3], m[4:], loc, s)
	}
	if m := reMDY.FindStringSubmatch(s); m != nil {
		return civil(atoi(m[3]), m[1], m[2], m[4:], loc, s)
	}
	if m := reCompact.FindStringSubmatch(s); m != nil {
		return civil(atoi(m[1]), m[2], m[3], []string{"", "", "", ""}, loc, s)
	}
	if reSerial.MatchString(s) {
		return excelSerial(s, loc)
	}
	return time.Time{}, fmt.Errorf("%q is not a date", s)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// civil builds a date from year, month, day and the optional time groups
// (hour, minute, second, zone), refusing dates that do not exist.
func civil(y int, mo, d string, tm []string, loc *time.Location, src string) (time.Time, error) {
	m, dd := atoi(mo), atoi(d)
	h, mi, sec := atoi(tm[0]), atoi(tm[1]), atoi(tm[2])
	if y < 1800 || y > 9999 || m < 1 || m > 12 || dd < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("%q is not a date", src)
	}
	if z := tm[3]; z != "" {
		if z == "Z" {
			loc = time.UTC
		} else {
			z = strings.ReplaceAll(z, ":", "")
			off := (atoi(z[1:3])*60 + atoi(z[3:5])) * 60
			if z[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
	}
	t := time.Date(y, time.Month(m), dd, h, mi, sec, 0, loc)
	if t.Day() != dd || int(t.Month()) != m {
		return time.Time{}, fmt.Errorf("%q is not a date", src)
	}
	return t, nil
}

// excelSerial converts a spreadsheet's day number: day 1 is 1900-01-01, and
// day 60 is the 29 February 1900 that Lotus 1-2-3 invented and Excel kept.
func excelSerial(s string, loc *time.Location) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 1 || f >= 100000 || int(f) == 60 {
		return time.Time{}, fmt.Errorf("%q is not a date", s)
	}
	days := int(math.Floor(f))
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, loc)
	if days < 60 {
		base = base.AddDate(0, 0, 1)
	}
	secs := int(math.Round((f - float64(days)) * 86400))
	return base.AddDate(0, 0, days).Add(time.Duration(secs) * time.Second), nil
}

// ParseInt reads a whole number as spreadsheets write it: full-width digits,
// thousands separators and a unit or currency sign ("１，２００名", "¥3,000",
// "500人") are accepted.
func ParseInt(s string) (int64, error) {
	v := strings.TrimSpace(norm.NFKC.String(s))
	v = strings.TrimLeft(v, "¥$￥約")
	v = strings.TrimRight(v, "名人円社件 ")
	v = strings.NewReplacer(",", "", " ", "", "_", "", "、", "").Replace(v)
	if v == "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return int64(f), nil
		}
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

var dashes = strings.NewReplacer("ー", "-", "−", "-", "‐", "-", "—", "-", "–", "-", "―", "-", "ｰ", "-")

// CleanPhone folds a phone number for display: full-width digits and the many
// dashes people type (ー, −, ‐, —) become ASCII. It fails when there is no
// digit at all.
func CleanPhone(s string) (string, error) {
	v := strings.TrimSpace(dashes.Replace(norm.NFKC.String(s)))
	if v == "" {
		return "", nil
	}
	for _, r := range v {
		if r >= '0' && r <= '9' {
			return v, nil
		}
	}
	return "", fmt.Errorf("%q is not a phone number", s)
}

// SplitName splits a full name into family and given names: Japanese (and
// other CJK) names are family name first ("山田 太郎"); Latin names are given
// name first ("Taro Yamada") unless written "Yamada, Taro". A name with no
// space is all family name.
func SplitName(s string) (family, given string) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\u3000", " "))
	if f, g, ok := strings.Cut(s, ","); ok {
		return strings.TrimSpace(f), strings.TrimSpace(g)
	}
	i := strings.LastIndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	cjk := false
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			cjk = true
			break
		}
	}
	if cjk {
		j := strings.IndexFunc(s, unicode.IsSpace)
		return strings.TrimSpace(s[:j]), strings.TrimSpace(s[j:])
	}
	return strings.TrimSpace(s[i:]), strings.TrimSpace(s[:i])
}
