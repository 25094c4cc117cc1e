package web

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/platform"
)

// Page is what every page's data carries: the language, the user, and the
// helpers templates format with. Page structs embed it.
type Page struct {
	Lang    i18n.Lang
	Title   string
	Section string // highlights the navigation entry
	Tab     string // highlights a tab within the section
	User    platform.User
	Loc     *time.Location
	Now     time.Time
	Unread  int
	Flash   string
	Users   map[int64]platform.User
	Version string
	static  func(string) string
}

func (s *Server) base(c *rctx, lang i18n.Lang, titleKey, section string) Page {
	p := Page{Lang: lang, Title: i18n.T(lang, titleKey), Section: section, Loc: time.FixedZone("JST", 9*3600), Now: s.Clock.Now(),
		Version: s.Version, static: s.staticURL, Users: map[int64]platform.User{}}
	if c != nil {
		p.User, p.Loc, p.Now, p.Unread, p.Flash = c.User, c.Loc, c.Now, c.Unread, c.Flash
		if us, err := platform.ListUsers(context.Background(), s.DB.Reader(), c.Actor.WorkspaceID); err == nil {
			for _, u := range us {
				p.Users[u.ID] = u
			}
		}
	}
	return p
}

// T translates a catalogue key with name/value arguments.
func (p Page) T(key string, args ...any) string { return i18n.T(p.Lang, key, args...) }

// Static returns the hashed URL of an embedded asset.
func (p Page) Static(name string) string { return p.static(name) }

// Date formats a date in the user's time zone.
func (p Page) Date(t any) string {
	switch v := t.(type) {
	case time.Time:
		return i18n.Date(p.Lang, v.In(p.Loc))
	case *time.Time:
		if v == nil {
			return ""
		}
		return i18n.Date(p.Lang, v.In(p.Loc))
	case string:
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return v
		}
		return i18n.Date(p.Lang, d)
	}
	return ""
}

// DateTime formats a moment in the user's time zone.
func (p Page) DateTime(t time.Time) string { return i18n.DateTime(p.Lang, t, p.Loc) }

// Ago formats how long ago a moment was.
func (p Page) Ago(t any) string {
	switch v := t.(type) {
	case time.Time:
		return i18n.Relative(p.Lang, v, p.Now, p.Loc)
	case *time.Time:
		if v == nil {
			return ""
		}
		return i18n.Relative(p.Lang, *v, p.Now, p.Loc)
	}
	return ""
}

// Money formats an amount in major units of a currency.
func (p Page) Money(amount float64, currency string) string { return i18n.Money(amount, currency) }

// Num formats an integer with separators.
func (p Page) Num(n any) string {
	switch v := n.(type) {
	case int:
		return i18n.Number(int64(v))
	case int64:
		return i18n.Number(v)
	case *int64:
		if v == nil {
			return ""
		}
		return i18n.Number(*v)
	}
	return fmt.Sprint(n)
}

// Person shows a contact's name in the page's language (family name first in
// Japanese), or the email when there is no name.
func (p Page) Person(c crm.Contact) string {
	if n := i18n.PersonName(p.Lang, c.FamilyName, c.GivenName); n != "" {
		return n
	}
	return c.Email
}

// Kana shows a contact's furigana reading, family name first.
func (p Page) Kana(c crm.Contact) string {
	return strings.TrimSpace(c.FamilyNameKana + " " + c.GivenNameKana)
}

// UserName is the name of a user id, or "unassigned".
func (p Page) UserName(id int64) string {
	if u, ok := p.Users[id]; ok {
		return u.Name
	}
	return p.T("common.unassigned")
}

// Initials are the one or two letters in an avatar.
func Initials(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return "?"
	}
	r, _ := utf8.DecodeRuneInString(name)
	if r > 0x3000 { // Japanese: the first character of the family name
		return string(r)
	}
	out := string(r)
	if i := strings.LastIndex(name, " "); i > 0 && i+1 < len(name) {
		r2, _ := utf8.DecodeRuneInString(name[i+1:])
		out += string(r2)
	}
	return strings.ToUpper(out)
}

// Stage is the label of a lifecycle stage.
func (p Page) Stage(s platform.Stage) string { return p.T("stage." + string(s)) }

// Stages lists the lifecycle stages for selects.
func (p Page) Stages() []platform.Stage { return platform.Stages }

// Channel is the label of a channel key.
func (p Page) Channel(k string) string {
	if k == "" {
		return ""
	}
	return p.T("channel." + k)
}

// UserList returns the users sorted by name, for owner selects.
func (p Page) UserList() []platform.User {
	out := make([]platform.User, 0, len(p.Users))
	for _, u := range p.Users {
		if u.Active {
			out = append(out, u)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

var funcs = template.FuncMap{
	"initials": Initials,
	"eq2":      func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	// with sets or replaces query parameters of a URL: {{with2 "/contacts?q=a" "cursor" "x"}}.
	"with2": func(base string, kv ...string) string {
		u, err := url.Parse(base)
		if err != nil {
			return base
		}
		q := u.Query()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				q.Del(kv[i])
			} else {
				q.Set(kv[i], kv[i+1])
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	},
	"icon": icon,
	// dict2 pairs a page with one item for a partial: {{template "who" (dict2 $.Page .)}}.
	"dict2":   func(p Page, item any) map[string]any { return map[string]any{"P": p, "I": item} },
	"min100":  func(n int) int { return min(max(n, 0), 100) },
	"min100f": func(x float64) float64 { return min(max(x, 0), 100) },
	"slice3":  func(a, b, c string) []string { return []string{a, b, c} },
	"fcat":    crm.EffectiveForecastCategory,
	"fcats":   func() []string { return crm.ForecastCategories },
	"list":    func(v ...string) []string { return v },
	"list2":   func(a, b any) []any { return []any{a, b} },
	"sub":     func(a, b int) int { return a - b },
	"add":     func(a, b int) int { return a + b },
	"add64":   func(a, b int64) int64 { return a + b },
	"ints":    func(v ...int) []int { return v },
	"subf":    func(a, b float64) float64 { return a - b },
	"addf":    func(a, b float64) float64 { return a + b },
	"divf":    func(a, b float64) float64 { return a / b },
	// patternKeys are the fill patterns every bar chart defines.
	"patternKeys": func() []int { return PatternKeys },
	"divi":        func(a, b int) int { return a / b },
	"chartOf":     func(p any, c Chart) map[string]any { return map[string]any{"P": p, "C": c} },
	"mod":         func(a, b int) int { return a % b },
	// roundf rounds a float to the nearest whole number.
	"roundf": func(x float64) int64 { return int64(math.Round(x)) },
	// mul100 turns a share (0–1) into a percentage.
	"mul100": func(x float64) float64 { return 100 * x },
	// bulk builds the data of the bulk-action bar partial.
	"bulk": func(p Page, action, back string) map[string]any {
		return map[string]any{"Page": p, "Action": action, "Back": back}
	},
	"pct": func(a, b float64) int {
		if b == 0 {
			return 0
		}
		return int(a * 100 / b)
	},
}

// pageTemplate is one page's template set (its layout, the partials and
// the page), parsed when first rendered.
type pageTemplate struct {
	files []string
	once  sync.Once
	t     *template.Template
	err   error
}

func (p *pageTemplate) load(name string) (*template.Template, error) {
	p.once.Do(func() {
		p.t, p.err = template.New(name).Funcs(funcs).ParseFS(assets, p.files...)
	})
	return p.t, p.err
}

// parse checks that every page template parses with the layout it belongs
// to, so a broken template stops the start. Each page is parsed again when
// first rendered and kept from then on: every page parses the partials
// anew, and all of them held at once took about 40 MB of heap that a server
// only sending mail (or showing a few screens) never uses.
func (s *Server) parse() error {
	s.pages = map[string]*pageTemplate{}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue // layouts and partials
		}
		layout := "templates/_layout.html"
		if strings.HasSuffix(name, "_public") || strings.HasPrefix(name, "login") || name == "setup" {
			layout = "templates/_auth.html"
		}
		if strings.HasPrefix(name, "mail_") {
			layout = "templates/_email.html" // an email: inline styles, no script
		}
		if strings.HasPrefix(name, "quote_doc") {
			layout = "templates/_print.html" // a document to print: no app shell
		}
		if strings.HasPrefix(name, "form_hosted") || strings.HasPrefix(name, "email_hosted") || strings.HasPrefix(name, "content_hosted") {
			layout = "templates/_hosted.html" // a visitor's page: no app shell, no script
		}
		files := []string{layout, "templates/_partials.html", n}
		if _, err := template.New(name).Funcs(funcs).ParseFS(assets, files...); err != nil {
			return fmt.Errorf("web: parse %s: %w", n, err)
		}
		s.pages[name] = &pageTemplate{files: files}
	}
	return nil
}

// page returns the parsed template set of page name.
func (s *Server) page(name string) (*template.Template, error) {
	p, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("web: no template %q", name)
	}
	t, err := p.load(name)
	if err != nil {
		return nil, fmt.Errorf("web: parse %s: %w", name, err)
	}
	return t, nil
}

// Templates lists the names of every page template (for the test that each
// is rendered by some test).
func (s *Server) Templates() []string {
	out := make([]string, 0, len(s.pages))
	for n := range s.pages {
		out = append(out, n)
	}
	return out
}

// period reads the ?period= and ?offset= of a report (def when absent or
// not a period) in the workspace loaded with the session, and the offset
// that applies.
func (c *rctx) period(q url.Values, def string) (insight.Period, int, error) {
	off, _ := strconv.Atoi(q.Get("offset"))
	name := q.Get("period")
	if name == "" {
		name = def
	}
	p, err := insight.PeriodOf(c.WS, name, off, c.Now)
	if err != nil {
		off = 0
		p, err = insight.PeriodOf(c.WS, def, 0, c.Now)
	}
	return p, off, err
}
