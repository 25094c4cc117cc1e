package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// WorkspacePage is the data of the workspace settings: general settings,
// exchange rates and outbound mail, each its own form.
type WorkspacePage struct {
	Page
	In         map[string]string
	Errors     FormErrors
	Rates      []platform.ExchangeRate
	RateIn     map[string]string
	RateErrors FormErrors
	SMTP       platform.SMTPView
	SMTPIn     map[string]string // never holds the password
	SMTPErrors FormErrors
	TestTo     string
	TestErrors FormErrors
	// RetentionDays is how long raw events are kept (0: for ever).
	RetentionDays string
	RetentionErr  string
	Currencies    []string
	TimeZones     []string
	Months        []int
	Weekdays      []int
	TLSModes      []string
}

// Weekday is the name of a day of the week, 0 Sunday.
func (p Page) Weekday(d int) string { return p.T(fmt.Sprintf("settings.weekday.%d", d)) }

func (s *Server) loadWorkspace(r *http.Request, c *rctx) (*WorkspacePage, error) {
	if err := adminOnly(c); err != nil {
		return nil, err
	}
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	data := &WorkspacePage{Page: s.base(c, c.Lang, "settings.workspace.title", "settings"), Errors: FormErrors{}, RateErrors: FormErrors{},
		SMTPErrors: FormErrors{}, TestErrors: FormErrors{}, Currencies: platform.Currencies(), TimeZones: timeZones,
		Months: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Weekdays: []int{0, 1, 2, 3, 4, 5, 6}, TLSModes: []string{"starttls", "tls", "none"}, TestTo: c.User.Email,
		In: map[string]string{"name": ws.Name, "time_zone": ws.TimeZone, "fiscal_year_start_month": strconv.Itoa(ws.FiscalYearStartMonth),
			"week_start": strconv.Itoa(ws.WeekStart), "base_currency": ws.BaseCurrency, "public_base_url": ws.PublicBaseURL,
			"trusted_proxies": strings.Join(ws.TrustedProxies, "\n"), "default_locale": ws.DefaultLocale,
			"sales_own_records_only": strconv.FormatBool(ws.SalesOwnRecordsOnly)},
		RateIn: map[string]string{"valid_from": c.Now.In(c.Loc).Format(time.DateOnly)}}
	sort.Strings(data.Currencies)
	data.SMTP = ws.SMTP().View()
	data.SMTPIn = map[string]string{"host": data.SMTP.Host, "port": "", "username": data.SMTP.Username, "tls": data.SMTP.TLS,
		"from_address": data.SMTP.FromAddress, "from_name": data.SMTP.FromName}
	if data.SMTP.Port != 0 {
		data.SMTPIn["port"] = strconv.Itoa(data.SMTP.Port)
	}
	if data.Rates, err = platform.ListExchangeRates(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	days, err := platform.EventRetention(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	data.RetentionDays = strconv.Itoa(days)
	return data, nil
}

func (s *Server) workspacePage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadWorkspace(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_workspace", data)
}

// workspaceAgain shows the workspace page again with one form's errors.
func (s *Server) workspaceAgain(w http.ResponseWriter, r *http.Request, c *rctx, set func(*WorkspacePage)) error {
	data, err := s.loadWorkspace(r, c)
	if err != nil {
		return err
	}
	set(data)
	w.WriteHeader(http.StatusUnprocessableEntity)
	return s.show(w, c, "settings_workspace", data)
}

func (s *Server) saveWorkspace(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	f := r.PostFormValue
	name, tz, cur, base, locale := f("name"), strings.TrimSpace(f("time_zone")), f("base_currency"), strings.TrimSpace(f("public_base_url")), f("default_locale")
	month, week := int(formInt(f("fiscal_year_start_month"))), int(formInt(f("week_start")))
	proxies := lines(f("trusted_proxies"))
	if proxies == nil {
		proxies = []string{}
	}
	own := f("sales_own_records_only") != ""
	p := platform.WorkspacePatch{Name: &name, TimeZone: &tz, FiscalYearStartMonth: &month, WeekStart: &week, BaseCurrency: &cur,
		PublicBaseURL: &base, TrustedProxies: &proxies, SalesOwnRecordsOnly: &own, DefaultLocale: &locale}
	_, err := platform.UpdateWorkspace(r.Context(), s.DB, c.Actor, p, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "name", "time_zone", "fiscal_year_start_month", "week_start", "base_currency", "public_base_url",
		"trusted_proxies", "default_locale"); ok {
		return s.workspaceAgain(w, r, c, func(d *WorkspacePage) {
			d.In, d.Errors = formValues(r), fe
			d.In["sales_own_records_only"] = strconv.FormatBool(own)
		})
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/workspace")
}

func (s *Server) saveRate(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	rate, perr := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("rate")), 64)
	if perr != nil {
		rate = 0 // the domain refuses it with its own message
	}
	err := platform.SetExchangeRate(r.Context(), s.DB, c.Actor, platform.ExchangeRate{Currency: r.PostFormValue("currency"),
		ValidFrom: r.PostFormValue("valid_from"), Rate: rate}, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "currency", "valid_from", "rate"); ok {
		return s.workspaceAgain(w, r, c, func(d *WorkspacePage) { d.RateIn, d.RateErrors = formValues(r), fe })
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/workspace#rates")
}

func (s *Server) saveSMTP(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	f := r.PostFormValue
	in := platform.SMTPSettings{Host: f("host"), Port: int(formInt(f("port"))), Username: strings.TrimSpace(f("username")), Password: f("password"),
		TLS: f("tls"), FromAddress: f("from_address"), FromName: f("from_name")}
	_, err := platform.SetSMTP(r.Context(), s.DB, c.Actor, in, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "host", "port", "username", "tls", "from_address", "from_name"); ok {
		return s.workspaceAgain(w, r, c, func(d *WorkspacePage) { d.SMTPIn, d.SMTPErrors = formValues(r, "password"), fe })
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/workspace#smtp")
}

// testSMTP sends a test message at once over the stored settings and shows
// the server's answer when it refuses.
func (s *Server) testSMTP(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	to := strings.TrimSpace(r.PostFormValue("to"))
	m := &platform.Mailer{DB: s.DB, Clock: s.Clock, Log: s.Log, Timeout: 20 * time.Second}
	err := m.SendTest(r.Context(), c.Actor.WorkspaceID, to)
	if fe, ok := formErrors(c.Lang, err, "to"); ok {
		return s.workspaceAgain(w, r, c, func(d *WorkspacePage) { d.TestTo, d.TestErrors = to, fe })
	}
	if err != nil {
		return err
	}
	flash(w, i18nT(c, "settings.smtp.test_sent", "to", to))
	http.Redirect(w, r, "/settings/workspace#smtp", http.StatusSeeOther)
	return nil
}

// ChannelsPage is the data of the chat notification channels.
type ChannelsPage struct {
	Page
	Channels []platform.NotificationChannel
	Kinds    []string
	In       map[string]string
	Errors   FormErrors
}

func (s *Server) loadChannels(r *http.Request, c *rctx) (*ChannelsPage, error) {
	data := &ChannelsPage{Page: s.base(c, c.Lang, "settings.channels.title", "settings"), Kinds: []string{platform.ChatSlack, platform.ChatTeams, platform.ChatChatwork},
		In: map[string]string{"kind": platform.ChatSlack}, Errors: FormErrors{}}
	var err error
	data.Channels, err = platform.ListNotificationChannels(r.Context(), s.DB.Reader(), c.Actor)
	return data, err
}

func (s *Server) channelsPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadChannels(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_notifications", data)
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	in := platform.ChannelInput{Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"), URL: r.PostFormValue("url"),
		Token: r.PostFormValue("token"), Kinds: strings.FieldsFunc(r.PostFormValue("kinds"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })}
	_, err := platform.SaveNotificationChannel(r.Context(), s.DB, c.Actor, 0, in, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "kind", "name", "url", "token"); ok {
		if strings.HasPrefix(fe[""], "kinds[") {
			fe = FormErrors{"kinds": fe[""]}
		}
		data, lerr := s.loadChannels(r, c)
		if lerr != nil {
			return lerr
		}
		data.In, data.Errors = formValues(r, "url", "token"), fe // secrets are not echoed
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_notifications", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/notifications")
}

func (s *Server) deleteChannel(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := platform.DeleteNotificationChannel(r.Context(), s.DB, c.Actor, formInt(r.PathValue("id")), s.Clock.Now()); err != nil {
		return err
	}
	return s.saved(w, r, c, "common.deleted", "/settings/notifications")
}

// AuditRow is one audit entry made readable.
type AuditRow struct {
	E       platform.AuditEntry
	Link    string
	Changes []AuditChange
	Raw     string
}

// AuditChange is one field of an audit entry: from → to, or just its value.
type AuditChange struct {
	Field, From, To string
	IsDiff          bool
}

// AuditPage is the data of the audit log.
type AuditPage struct {
	Page
	Rows       []AuditRow
	Types      []string
	ObjectType string
	UserF      int64
	Next       string
	Paged      bool
	URL        string
}

// auditTypes are the object types the audit log filter offers.
var auditTypes = []string{"activity", "api_token", "company", "competitor", "contact", "deal", "exchange_rate", "notification_channel",
	"pipeline", "property", "smtp_settings", "team", "user", "workspace"}

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 50

// ObjectLabel is the label of an audited object type.
func (p Page) ObjectLabel(t string) string {
	key := "settings.audit.type." + t
	if v := p.T(key); v != key {
		return v
	}
	return t
}

// ActorLabel says who made an audited change.
func (p Page) ActorLabel(e platform.AuditEntry) string {
	if e.ActorUserID != 0 {
		name := p.UserName(e.ActorUserID)
		if e.ActorKind == platform.ActorToken {
			name += " (" + p.T("settings.audit.actor.token") + ")"
		}
		return name
	}
	return p.T("settings.audit.actor." + string(e.ActorKind))
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	q := r.URL.Query()
	data := &AuditPage{Page: s.base(c, c.Lang, "settings.audit.title", "settings"), Types: auditTypes, ObjectType: q.Get("type"),
		UserF: formInt(q.Get("user")), Paged: q.Get("before") != "", URL: r.URL.RequestURI()}
	entries, err := platform.ListAudit(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, platform.AuditFilter{ObjectType: data.ObjectType,
		ActorID: data.UserF, BeforeID: formInt(q.Get("before")), Limit: auditPageSize + 1})
	if err != nil {
		return err
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		data.Next = funcs["with2"].(func(string, ...string) string)(data.URL, "before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
	}
	for _, e := range entries {
		row := AuditRow{E: e, Link: auditLink(e)}
		row.Changes, row.Raw = readableChanges(e.Changes)
		data.Rows = append(data.Rows, row)
	}
	return s.show(w, c, "settings_audit", data)
}

// auditLink is the page of an audited record, where there is one.
func auditLink(e platform.AuditEntry) string {
	if e.ObjectID == 0 {
		return ""
	}
	switch e.ObjectType {
	case "contact", "company", "deal":
		plural := map[string]string{"contact": "contacts", "company": "companies", "deal": "deals"}[e.ObjectType]
		return fmt.Sprintf("/%s/%d", plural, e.ObjectID)
	case "pipeline":
		return fmt.Sprintf("/settings/pipelines/%d", e.ObjectID)
	}
	return ""
}

// readableChanges turns the stored changes into rows: a Diff map becomes
// from → to per field; any other object is listed field by field; anything
// else is shown as it is.
func readableChanges(raw json.RawMessage) ([]AuditChange, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, clip(string(raw))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []AuditChange
	for _, k := range keys {
		var ch map[string]json.RawMessage
		if json.Unmarshal(obj[k], &ch) == nil && len(ch) == 2 && ch["from"] != nil && ch["to"] != nil {
			out = append(out, AuditChange{Field: k, From: jsonText(ch["from"]), To: jsonText(ch["to"]), IsDiff: true})
			continue
		}
		if k == "id" || k == "created_at" || k == "updated_at" {
			continue // a snapshot's bookkeeping says nothing the row does not
		}
		out = append(out, AuditChange{Field: k, To: jsonText(obj[k])})
	}
	return out, ""
}

// jsonText shows a JSON value briefly: strings without quotes, null as —.
func jsonText(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" || string(v) == `""` {
		return "—"
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return clip(s)
	}
	// Lists read as "a, b, c"; lists of named things by their names.
	var list []json.RawMessage
	if json.Unmarshal(v, &list) == nil {
		if len(list) == 0 {
			return "—"
		}
		parts := make([]string, 0, len(list))
		for _, x := range list {
			var named struct {
				Name *string `json:"name"`
			}
			if json.Unmarshal(x, &named) == nil && named.Name != nil {
				parts = append(parts, *named.Name)
			} else {
				parts = append(parts, jsonText(x))
			}
		}
		return clip(strings.Join(parts, ", "))
	}
	return clip(string(v))
}

func clip(s string) string {
	if r := []rune(s); len(r) > 160 {
		return string(r[:160]) + "…"
	}
	return s
}

// ActionLabel is the label of an audited action.
func (p Page) ActionLabel(a string) string {
	key := "settings.audit.action." + a
	if v := p.T(key); v != key {
		return v
	}
	return a
}

func (s *Server) saveRetention(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	v := strings.TrimSpace(r.PostFormValue("event_days"))
	days, perr := strconv.Atoi(v)
	err := platform.SetEventRetention(r.Context(), s.DB, c.Actor, days, s.Clock.Now())
	if perr != nil {
		err = errs.Field("event_days", "must be a whole number of days")
	}
	if _, msg, ok := formError(err); ok {
		return s.workspaceAgain(w, r, c, func(d *WorkspacePage) {
			d.RetentionDays, d.RetentionErr = v, localize(c.Lang, msg)
		})
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/workspace#retention")
}
