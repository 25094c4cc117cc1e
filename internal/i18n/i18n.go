// Package i18n holds Ryorin's Japanese and English catalogues and the
// locale-aware formatting of dates, numbers, money and names. Every
// user-facing string goes through T; a test checks that both catalogues have
// the same keys and that every key the templates use exists. It imports
// nothing of ours.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Lang is a supported UI language.
type Lang string

// The supported languages; Japanese is the default.
const (
	JA Lang = "ja"
	EN Lang = "en"
)

// Langs lists the supported languages.
var Langs = []Lang{JA, EN}

//go:embed ja.json en.json
var files embed.FS

var catalogues = map[Lang]map[string]string{}

func init() {
	for _, l := range Langs {
		b, err := files.ReadFile(string(l) + ".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("i18n: %s.json: %v", l, err))
		}
		catalogues[l] = m
	}
}

// Parse returns the supported language for a tag such as "ja-JP" or "en",
// and false when it is not supported.
func Parse(tag string) (Lang, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	switch {
	case tag == "ja" || strings.HasPrefix(tag, "ja-"):
		return JA, true
	case tag == "en" || strings.HasPrefix(tag, "en-"):
		return EN, true
	}
	return JA, false
}

// FromAcceptLanguage picks the best supported language from an
// Accept-Language header, by quality; fallback when none matches.
func FromAcceptLanguage(header string, fallback Lang) Lang {
	type cand struct {
		l Lang
		q float64
	}
	var cs []cand
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if l, ok := Parse(tag); ok {
			cs = append(cs, cand{l, q - float64(i)*1e-6})
		}
	}
	if len(cs) == 0 {
		return fallback
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].l
}

// T returns the message key in lang with {name} placeholders filled from
// args given as name, value pairs. A "count" argument selects a ".one"
// variant in English when it is 1. A missing key shows as the key itself, so
// it is visible and the catalogue test fails.
func T(lang Lang, key string, args ...any) string {
	cat := catalogues[lang]
	if cat == nil {
		cat = catalogues[JA]
	}
	msg, ok := "", false
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "count" && lang == EN {
			if n, isInt := toInt(args[i+1]); isInt && n == 1 {
				msg, ok = cat[key+".one"]
			}
		}
	}
	if !ok {
		msg, ok = cat[key]
	}
	if !ok {
		return key
	}
	if len(args) < 2 || !strings.Contains(msg, "{") {
		return msg
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// Has reports whether key exists in every catalogue.
func Has(key string) bool {
	for _, l := range Langs {
		if _, ok := catalogues[l][key]; !ok {
			if _, ok := catalogues[l][key+".one"]; !ok || l != EN {
				return false
			}
		}
	}
	return true
}

// Keys returns the keys of a catalogue (for tests).
func Keys(l Lang) []string {
	out := make([]string, 0, len(catalogues[l]))
	for k := range catalogues[l] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	}
	return 0, false
}

// Date formats a calendar date: 2026年4月1日 / Apr 1, 2026.
func Date(lang Lang, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if lang == JA {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	}
	return t.Format("Jan 2, 2006")
}

// DateTime formats a moment in loc: 2026年4月1日 9:05 / Apr 1, 2026 9:05 AM.
func DateTime(lang Lang, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(loc)
	if lang == JA {
		return fmt.Sprintf("%d年%d月%d日 %d:%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
	}
	return t.Format("Jan 2, 2006 3:04 PM")
}

// Relative formats how long ago t was: 3分前 / 3 min ago; older than a week
// falls back to the date.
func Relative(lang Lang, t, now time.Time, loc *time.Location) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute && d > -time.Minute:
		return T(lang, "time.just_now")
	case d < time.Hour && d > 0:
		return T(lang, "time.minutes_ago", "count", int(d.Minutes()))
	case d < 24*time.Hour && d > 0:
		return T(lang, "time.hours_ago", "count", int(d.Hours()))
	case d < 7*24*time.Hour && d > 0:
		return T(lang, "time.days_ago", "count", int(d.Hours()/24))
	}
	return Date(lang, t.In(loc))
}

// Number formats an integer with thousands separators.
func Number(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

var symbols = map[string]string{"JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "CNY": "CN¥", "KRW": "₩", "SGD": "S$", "AUD": "A$", "TWD": "NT$", "HKD": "HK$"}

// Money formats an amount in major units: ¥1,200,000 / $1,234.56. Yen show
// no decimals. Japanese adds 円 style only through the symbol, as invoices do.
func Money(amount float64, currency string) string {
	sym, ok := symbols[currency]
	if !ok {
		sym = currency + " "
	}
	neg := amount < 0
	amount = math.Abs(amount)
	var s string
	if currency == "JPY" || currency == "KRW" || currency == "VND" {
		s = Number(int64(math.Round(amount)))
	} else {
		whole := int64(amount)
		cents := int64(math.Round((amount - float64(whole)) * 100))
		if cents == 100 {
			whole, cents = whole+1, 0
		}
		s = fmt.Sprintf("%s.%02d", Number(whole), cents)
	}
	if neg {
		return "-" + sym + s
	}
	return sym + s
}

// PersonName shows a person's name the way readers expect: Japanese (and
// other CJK) names family name first in either language (山田 太郎), Western
// names given name first in either (David Smith), as Japanese business
// documents write them.
func PersonName(lang Lang, family, given string) string {
	family, given = strings.TrimSpace(family), strings.TrimSpace(given)
	if hasCJK(family) || hasCJK(given) {
		return strings.TrimSpace(family + " " + given)
	}
	return strings.TrimSpace(given + " " + family)
}

func hasCJK(s string) bool {
	for _, r := range s {
		if r >= 0x3040 && r <= 0x9FFF {
			return true
		}
	}
	return false
}
