package forms

import (
	"github.com/ryorin/ryorin/internal/track"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// The names of the inputs every rendered form carries besides its fields.
const (
	InputToken     = "_t"         // the signed render token (time trap, idempotency)
	InputHoneypot  = "website"    // hidden from people; bots fill it
	InputConsent   = "consent"    // the consent checkbox
	InputVisitor   = "ryorin_vid" // the tracking visitor id, when not in a cookie
	InputRedirect  = "_redirect"  // an embed's own thank-you page (allowed domains only)
	InputLang      = "lang"
	InputPageURL   = "page_url"
	InputReferrer  = "referrer"
	maxValue       = 500
	maxTextValue   = 5000
	maxHiddenValue = 2000
)

// UTMInputs are the hidden UTM inputs captured with every submission.
var UTMInputs = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// Post is a visitor's post read against a form: the values of its fields and
// what the hidden inputs carried.
type Post struct {
	Values    map[string]string // standard field key → value (trimmed; email normalized; prefecture as its Japanese name)
	Props     map[string]any    // custom property key → typed value
	Consent   bool
	Honeypot  string
	Token     string
	VisitorID string
	PageURL   string
	Referrer  string
	UTM       map[string]string
	Redirect  string
	Lang      i18n.Lang
}

// FieldErrors are the visitor's mistakes, by input name, in their language.
type FieldErrors map[string]string

// ParsePost reads and validates a post against f. It never fails on
// malformed input: whatever cannot be read is a field error in lang, and
// inputs the form does not have are ignored. It is the fuzz target.
func ParsePost(f Form, v url.Values, lang i18n.Lang) (Post, FieldErrors) {
	p := Post{Values: map[string]string{}, Props: map[string]any{}, UTM: map[string]string{}, Lang: lang}
	fe := FieldErrors{}
	get := func(name string) string {
		if vs := v[name]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	hidden := func(name string) string {
		s := get(name)
		if len(s) > maxHiddenValue || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
			return ""
		}
		return s
	}
	p.Token, p.Honeypot, p.Redirect = hidden(InputToken), get(InputHoneypot), hidden(InputRedirect)
	p.VisitorID = hidden(InputVisitor)
	if !track.ValidVisitorID(p.VisitorID) { // the same rule as the tracker's cookie
		p.VisitorID = ""
	}
	p.PageURL, p.Referrer = httpURL(hidden(InputPageURL)), httpURL(hidden(InputReferrer))
	for _, k := range UTMInputs {
		if s := hidden(k); s != "" {
			p.UTM[k] = trimTo(s, 256)
		}
	}
	if p.PageURL != "" { // UTM parameters on the page's own URL count when no hidden input carried them
		if u, err := url.Parse(p.PageURL); err == nil {
			for _, k := range UTMInputs {
				if s := u.Query().Get(k); s != "" && p.UTM[k] == "" && utf8.ValidString(s) {
					p.UTM[k] = trimTo(s, 256)
				}
			}
		}
	}
	msg := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
	for _, fl := range f.Fields {
		raw := get(fl.Key)
		if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
			fe[fl.Key] = msg("forms.err.unreadable")
			continue
		}
		if d, ok := f.Prop(fl.Key); ok {
			val, errKey := propValue(d, raw, v[fl.Key])
			switch {
			case errKey != "":
				fe[fl.Key] = msg(errKey)
			case val == nil && fl.Required:
				fe[fl.Key] = msg("forms.err.required")
			case val != nil:
				p.Props[d.Key] = val
			}
			continue
		}
		if raw == "" {
			if fl.Required {
				fe[fl.Key] = msg("forms.err.required")
			}
			continue
		}
		if len(raw) > maxValue {
			fe[fl.Key] = msg("forms.err.too_long", "max", maxValue)
			continue
		}
		switch fl.Key {
		case "email":
			e, ok := platform.NormalizeEmail(raw)
			if !ok {
				fe[fl.Key] = msg("forms.err.email")
				continue
			}
			raw = e
		case "phone":
			if n := strings.TrimPrefix(crm.NormalizePhone(raw), "+"); len(n) < 8 || len(n) > 15 || strings.IndexFunc(n, notDigit) >= 0 {
				fe[fl.Key] = msg("forms.err.phone")
				continue
			}
		case "family_name_kana", "given_name_kana":
			if !isKana(raw) {
				fe[fl.Key] = msg("forms.err.kana")
				continue
			}
		case "prefecture":
			pv, ok := prefectureValue(raw)
			if !ok {
				fe[fl.Key] = msg("forms.err.choice")
				continue
			}
			raw = pv
		}
		p.Values[fl.Key] = raw
	}
	if f.ConsentEnabled {
		p.Consent = get(InputConsent) != ""
		if f.ConsentRequired && !p.Consent {
			fe[InputConsent] = msg("forms.err.consent")
		}
	}
	if len(fe) == 0 {
		return p, nil
	}
	return p, fe
}

// propValue reads a custom property's input into the value the contact
// stores; nil means empty. The error is a catalogue key.
func propValue(d crm.PropertyDefinition, raw string, all []string) (any, string) {
	allowed := func(s string) bool {
		for _, o := range d.Options {
			if o.Value == s {
				return true
			}
		}
		return false
	}
	switch d.Type {
	case crm.PropBool:
		if raw == "" {
			return nil, ""
		}
		return true, ""
	case crm.PropMultiChoice:
		var out []any
		for _, s := range all {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if !allowed(s) {
				return nil, "forms.err.choice"
			}
			out = append(out, s)
			if len(out) > 100 {
				return nil, "forms.err.choice"
			}
		}
		if len(out) == 0 {
			return nil, ""
		}
		return out, ""
	}
	if raw == "" {
		return nil, ""
	}
	switch d.Type {
	case crm.PropNumber:
		n, err := strconv.ParseFloat(strings.ReplaceAll(crm.Fold(raw), ",", ""), 64)
		if err != nil || n != n || n > 1e15 || n < -1e15 {
			return nil, "forms.err.number"
		}
		return n, ""
	case crm.PropDate:
		if _, err := time.Parse(time.DateOnly, raw); err != nil {
			return nil, "forms.err.date"
		}
		return raw, ""
	case crm.PropSingleChoice:
		if !allowed(raw) {
			return nil, "forms.err.choice"
		}
		return raw, ""
	}
	if len(raw) > maxTextValue {
		return nil, "forms.err.too_long"
	}
	return raw, ""
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// isKana reports whether s is written in kana (furigana): hiragana,
// katakana (full or half width), the long-vowel mark, spaces and middle dots.
func isKana(s string) bool {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
		case r == 'ー' || r == 'ｰ' || r == '・' || r == '･' || r == ' ' || r == '　' || r == '゛' || r == '゜' || r == 'ﾞ' || r == 'ﾟ':
		default:
			return false
		}
	}
	return true
}

// httpURL keeps s only when it is an absolute http(s) URL.
func httpURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

func trimTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
