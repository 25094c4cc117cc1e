// Package demo fills an empty workspace with the demo data set: "Ryorin
// Cloud", a company selling a CRM/MA SaaS to Japanese and English-speaking
// businesses, with its users and teams, about 300 companies, 2,000 contacts,
// 400 deals in two pipelines, six months of activities and marketing events,
// and a few notifications. The data set is deterministic (a seeded PCG), so
// every demo install shows the same records, dated relative to the load time.
//
// Everything goes through the domain services (crm.Service, platform
// functions) with a fake clock moved forward through the six months, so the
// timeline, lifecycle history and audit log agree with the records. Each
// service call is its own small transaction.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

// AdminEmail is the demo administrator's sign-in address.
const AdminEmail = "admin@demo.ryorin.example"

// Password is the password every demo user signs in with.
const Password = "ryorin-demo-2026"

// ws is the workspace the demo fills.
const ws = platform.DefaultWorkspace

// History is how far back the demo data set reaches.
const History = 182 * 24 * time.Hour

// Options tunes a load; the zero value is the full data set ending now.
type Options struct {
	// Scale multiplies the number of companies, contacts, deals, activities
	// and events (1 when zero). Users, teams and pipelines do not scale.
	Scale float64
	// Now is when the history ends (the real current time when zero).
	Now time.Time
	// Seed seeds the generator (a fixed default when zero).
	Seed uint64
}

// Summary says what a load did.
type Summary struct {
	Skipped       bool          `json:"skipped"`
	Reason        string        `json:"reason,omitempty"`
	Users         int           `json:"users"`
	Teams         int           `json:"teams"`
	Companies     int           `json:"companies"`
	Contacts      int           `json:"contacts"`
	Deals         int           `json:"deals"`
	Activities    int           `json:"activities"`
	Events        int           `json:"events"`
	Notifications int           `json:"notifications"`
	Duration      time.Duration `json:"duration"`
}

// LogValue lets a Summary be logged as one structured attribute group.
func (s Summary) LogValue() slog.Value {
	if s.Skipped {
		return slog.GroupValue(slog.Bool("skipped", true), slog.String("reason", s.Reason))
	}
	return slog.GroupValue(slog.Int("users", s.Users), slog.Int("teams", s.Teams), slog.Int("companies", s.Companies),
		slog.Int("contacts", s.Contacts), slog.Int("deals", s.Deals), slog.Int("activities", s.Activities),
		slog.Int("events", s.Events), slog.Int("notifications", s.Notifications), slog.Duration("duration", s.Duration))
}

// Load fills workspace 1 with the full demo data set ending now. When the
// database already holds contacts it does nothing and returns a Summary with
// Skipped set, so it is safe to call on every start.
func Load(ctx context.Context, d *db.DB, log *slog.Logger) (Summary, error) {
	return LoadWith(ctx, d, log, Options{})
}

// LoadWith is Load with options (a smaller data set for tests, a fixed end time).
func LoadWith(ctx context.Context, d *db.DB, log *slog.Logger, o Options) (Summary, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var existing int
	err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM contacts LIMIT 1) t`).Scan(&existing)
	if err != nil {
		return Summary{}, fmt.Errorf("demo: check for existing data: %w", err)
	}
	if existing > 0 {
		return Summary{Skipped: true, Reason: "the database already holds contacts"}, nil
	}
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.Now.IsZero() {
		o.Now = clock.System{}.Now()
	}
	if o.Seed == 0 {
		o.Seed = 20260401
	}
	wall := clock.System{}
	began := wall.Now()
	end := o.Now.UTC().Truncate(time.Millisecond)
	fake := clock.NewFake(end.Add(-History))
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		jst = time.FixedZone("JST", 9*3600)
	}
	l := &loader{ctx: ctx, d: d, log: log, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), clk: fake,
		crm: crm.New(d, fake), lead: lead.New(d, fake), start: end.Add(-History), end: end, jst: jst, scale: o.Scale, sys: platform.System(ws),
		emails: map[string]bool{}, domains: map[string]bool{}}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"users and teams", l.setupUsers}, {"settings", l.setupSettings}, {"companies and contacts", l.planCompanies},
		{"deals", l.planDeals}, {"lifecycle and activities", l.planContacts}, {"history", l.runActions},
		{"events", l.loadEvents}, {"notifications", l.loadNotifications}, {"forms", l.loadForms},
		{"daily reports", l.loadDailyReports}, {"campaigns", l.loadCampaigns}, {"goal plan", l.loadPlan}, {"quotes", l.loadQuotes},
		{"after the sale", l.loadAfterSale}, {"forecast history", l.loadForecast}, {"sales sequences", l.loadSequences},
		{"social figures", l.loadSocial},
	}
	for _, s := range steps {
		t := wall.Now()
		if err := s.fn(); err != nil {
			return Summary{}, fmt.Errorf("demo: %s: %w", s.name, err)
		}
		log.Info("demo data: "+s.name+" done", "ms", wall.Now().Sub(t).Milliseconds())
	}
	sum, err := count(ctx, d)
	if err != nil {
		return sum, err
	}
	sum.Duration = wall.Now().Sub(began)
	return sum, nil
}

// count reads the summary's numbers back from the database.
func count(ctx context.Context, d *db.DB) (Summary, error) {
	var s Summary
	for _, c := range []struct {
		table string
		dst   *int
	}{{"users", &s.Users}, {"teams", &s.Teams}, {"companies", &s.Companies}, {"contacts", &s.Contacts}, {"deals", &s.Deals},
		{"activities", &s.Activities}, {"events", &s.Events}, {"notifications", &s.Notifications}} {
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table+` WHERE workspace_id = ?`, ws).Scan(c.dst); err != nil {
			return s, fmt.Errorf("demo: count %s: %w", c.table, err)
		}
	}
	return s, nil
}

// loader holds one load's state: the generator, the fake clock, the records
// created so far and the queue of dated actions.
type loader struct {
	ctx   context.Context
	d     *db.DB
	log   *slog.Logger
	rng   *rand.Rand
	clk   *clock.Fake
	lead  *lead.Service
	crm   *crm.Service
	start time.Time
	end   time.Time
	jst   *time.Location
	scale float64
	sys   platform.Actor

	users        map[string]*demoUser
	admin        *demoUser
	newPipeline  crm.Pipeline
	morePipeline crm.Pipeline
	competitors  []int64
	emails       map[string]bool
	domains      map[string]bool
	companies    []*company
	contacts     []*contact
	deals        []*deal
	actions      []action
	tasksOpen    int
}

// action is one dated call into the domain services.
type action struct {
	at   time.Time
	seq  int
	name string
	fn   func() error
}

// at queues fn to run with the clock at t (clamped to the end of history).
func (l *loader) at(t time.Time, name string, fn func() error) {
	if t.After(l.end) {
		t = l.end
	}
	if t.Before(l.start) {
		t = l.start
	}
	l.actions = append(l.actions, action{at: t.Truncate(time.Millisecond), seq: len(l.actions), name: name, fn: fn})
}

// runActions runs the queued actions in time order.
func (l *loader) runActions() error {
	sort.SliceStable(l.actions, func(i, j int) bool {
		if !l.actions[i].at.Equal(l.actions[j].at) {
			return l.actions[i].at.Before(l.actions[j].at)
		}
		return l.actions[i].seq < l.actions[j].seq
	})
	every := max(len(l.actions)/10, 1)
	for i, a := range l.actions {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		l.clk.Set(a.at)
		if err := a.fn(); err != nil {
			return fmt.Errorf("%s at %s: %w", a.name, a.at.Format(time.RFC3339), err)
		}
		if (i+1)%every == 0 {
			l.log.Info("demo data: history", "done", i+1, "of", len(l.actions), "at", a.at.Format(time.DateOnly))
		}
	}
	l.clk.Set(l.end)
	return nil
}

// ---- random helpers ----

func (l *loader) chance(p float64) bool { return l.rng.Float64() < p }

func (l *loader) intn(lo, hi int) int { return lo + l.rng.IntN(hi-lo+1) }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (l *loader) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := l.rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func (l *loader) n(full int) int { return max(1, int(math.Round(float64(full)*l.scale))) }

func days(n float64) time.Duration { return time.Duration(n * float64(24*time.Hour)) }

// between returns a random time in [a, b).
func (l *loader) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(l.rng.Int64N(int64(b.Sub(a)))))
}

// workTime returns a time in [a, b) during Tokyo business hours on a weekday
// when there is one, else any time in the range.
func (l *loader) workTime(a, b time.Time) time.Time {
	for range 8 {
		t := l.between(a, b).In(l.jst)
		y, m, d := t.Date()
		t = time.Date(y, m, d, l.intn(9, 18), l.intn(0, 59), l.intn(0, 59), 0, l.jst)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday && !t.Before(a) && t.Before(b) {
			return t.UTC()
		}
	}
	return l.between(a, b)
}

// onDuty moves a moment outside office hours (9:00–18:00 JST, weekdays) to
// the next opening plus a little, as a rep would only call then.
func (l *loader) onDuty(t time.Time) time.Time {
	j := t.In(l.jst)
	for range 7 {
		wd := j.Weekday()
		if wd != time.Saturday && wd != time.Sunday && j.Hour() >= 9 && j.Hour() < 18 {
			return j.UTC()
		}
		if j.Hour() >= 9 {
			j = j.AddDate(0, 0, 1)
		}
		j = time.Date(j.Year(), j.Month(), j.Day(), 9, l.intn(0, 59), 0, 0, l.jst)
	}
	return j.UTC()
}

// growthTime is a creation time over the history, more of them recently, as
// marketing ramps up.
func (l *loader) growthTime(from time.Time) time.Time {
	if from.Before(l.start) {
		from = l.start
	}
	span := l.end.Add(-2 * time.Hour).Sub(from)
	t := from.Add(time.Duration(math.Pow(l.rng.Float64(), 0.9) * float64(span)))
	return l.workTime(t, minTime(t.Add(48*time.Hour), l.end.Add(-time.Hour)))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func fmtPhone(format string, n int) string { return fmt.Sprintf(format, n) }

func ptr[T any](v T) *T { return &v }

// ---- users, teams, settings ----

type demoUser struct {
	key, email, name, team, locale string
	role                           platform.Role
	u                              platform.User
}

func (u *demoUser) actor() platform.Actor { return u.u.Actor(ws, platform.ActorUser) }

func (l *loader) user(key string) *demoUser { return l.users[key] }

func (l *loader) setupUsers() error {
	now := l.start.Add(-24 * time.Hour)
	teams := []struct{ name, function, manager string }{
		{"マーケティング部", "marketing", "mkt_mgr"}, {"フィールドセールス", "sales", "fs_mgr"}, {"インサイドセールス", "sales", "is_mgr"},
	}
	teamIDs := map[string]int64{}
	for _, t := range teams {
		tm, err := platform.SaveTeam(l.ctx, l.d, l.sys, 0, platform.NewTeam{Name: t.name, Function: t.function}, now)
		if errs.Is(err, errs.Conflict) {
			tm, err = platform.TeamByName(l.ctx, l.d.Reader(), ws, t.name)
		}
		if err != nil {
			return fmt.Errorf("team %s: %w", t.name, err)
		}
		teamIDs[t.name] = tm.ID
	}
	list := []*demoUser{
		{key: "admin", email: AdminEmail, name: "佐藤 健一", role: platform.RoleAdmin, locale: "ja"},
		{key: "mkt_mgr", email: "misaki.takahashi@demo.ryorin.example", name: "高橋 美咲", role: platform.RoleManager, team: "マーケティング部", locale: "ja"},
		{key: "fs_mgr", email: "makoto.tanaka@demo.ryorin.example", name: "田中 誠", role: platform.RoleManager, team: "フィールドセールス", locale: "ja"},
		{key: "is_mgr", email: "ichiro.suzuki@demo.ryorin.example", name: "鈴木 一郎", role: platform.RoleManager, team: "インサイドセールス", locale: "ja"},
		{key: "mkt1", email: "sakura.ito@demo.ryorin.example", name: "伊藤 さくら", role: platform.RoleMarketing, team: "マーケティング部", locale: "ja"},
		{key: "mkt2", email: "shota.watanabe@demo.ryorin.example", name: "渡辺 翔太", role: platform.RoleMarketing, team: "マーケティング部", locale: "ja"},
		{key: "fs1", email: "taro.yamada@demo.ryorin.example", name: "山田 太郎", role: platform.RoleSales, team: "フィールドセールス", locale: "ja"},
		{key: "fs2", email: "james.wilson@demo.ryorin.example", name: "James Wilson", role: platform.RoleSales, team: "フィールドセールス", locale: "en"},
		{key: "is1", email: "aya.nakamura@demo.ryorin.example", name: "中村 彩", role: platform.RoleSales, team: "インサイドセールス", locale: "ja"},
		{key: "is2", email: "daisuke.kobayashi@demo.ryorin.example", name: "小林 大輔", role: platform.RoleSales, team: "インサイドセールス", locale: "ja"},
	}
	l.users = map[string]*demoUser{}
	for _, du := range list {
		u, err := platform.CreateUser(l.ctx, l.d, l.sys, platform.NewUser{Email: du.email, Name: du.name, Role: du.role,
			TeamID: teamIDs[du.team], Locale: du.locale, Password: Password}, now)
		if errs.Is(err, errs.Conflict) { // a demo load that stopped half way
			u, err = platform.UserByEmail(l.ctx, l.d.Reader(), ws, du.email)
		}
		if err != nil {
			return fmt.Errorf("user %s: %w", du.email, err)
		}
		du.u = u
		l.users[du.key] = du
	}
	l.admin = l.users["admin"]
	for _, t := range teams {
		_, err := platform.SaveTeam(l.ctx, l.d, l.sys, teamIDs[t.name], platform.NewTeam{Name: t.name, Function: t.function,
			ManagerID: l.users[t.manager].u.ID}, now)
		if err != nil {
			return fmt.Errorf("team %s manager: %w", t.name, err)
		}
	}
	return nil
}

func (l *loader) setupSettings() error {
	l.clk.Set(l.start)
	admin := l.admin.actor()
	ctx := l.ctx
	if err := l.lead.EnsureReasons(ctx, l.sys.WorkspaceID); err != nil {
		return err
	}
	props := []crm.PropertyDefinition{
		{ObjectType: "contact", Key: "budget", LabelJA: "予算（円）", LabelEN: "Budget (JPY)", Type: crm.PropNumber, Position: 1},
		{ObjectType: "contact", Key: "product_interest", LabelJA: "関心のある製品", LabelEN: "Product interest", Type: crm.PropMultiChoice, Position: 2,
			Options: []crm.Option{{Value: "ma", LabelEN: "Marketing automation", LabelJA: "MA"}, {Value: "sfa", LabelEN: "Sales force automation", LabelJA: "SFA"},
				{Value: "inside_sales", LabelEN: "Inside sales", LabelJA: "インサイドセールス"}, {Value: "analytics", LabelEN: "Analytics", LabelJA: "分析・レポート"},
				{Value: "api", LabelEN: "API & integrations", LabelJA: "API連携"}}},
		{ObjectType: "company", Key: "plan", LabelJA: "契約プラン", LabelEN: "Plan", Type: crm.PropSingleChoice, Position: 1,
			Options: []crm.Option{{Value: "starter", LabelEN: "Starter", LabelJA: "スターター"}, {Value: "standard", LabelEN: "Standard", LabelJA: "スタンダード"},
				{Value: "enterprise", LabelEN: "Enterprise", LabelJA: "エンタープライズ"}}},
		{ObjectType: "deal", Key: "decision_date", LabelJA: "決裁予定日", LabelEN: "Decision date", Type: crm.PropDate, Position: 1},
	}
	for _, p := range props {
		if _, err := l.crm.SaveProperty(ctx, admin, 0, p); err != nil && !errs.Is(err, errs.Conflict) {
			return fmt.Errorf("property %s.%s: %w", p.ObjectType, p.Key, err)
		}
	}
	existing, err := l.crm.Competitors(ctx, l.d.Reader(), ws)
	if err != nil {
		return err
	}
	byName := map[string]int64{}
	for _, c := range existing {
		byName[c.Name] = c.ID
	}
	for _, c := range []crm.Competitor{{Name: "Salesforce", Website: "https://www.salesforce.com/jp/"},
		{Name: "HubSpot", Website: "https://www.hubspot.jp/"}, {Name: "SATORI", Website: "https://satori.marketing/"},
		{Name: "Adobe Marketo Engage", Website: "https://business.adobe.com/jp/products/marketo.html"},
		{Name: "kintone", Website: "https://kintone.cybozu.co.jp/"}} {
		id, ok := byName[c.Name]
		if !ok {
			got, err := l.crm.CreateCompetitor(ctx, admin, c)
			if err != nil {
				return fmt.Errorf("competitor %s: %w", c.Name, err)
			}
			id = got.ID
		}
		l.competitors = append(l.competitors, id)
	}
	if l.newPipeline, err = l.crm.DefaultPipeline(ctx, l.d.Reader(), ws); err != nil {
		return fmt.Errorf("default pipeline: %w", err)
	}
	ps, err := l.crm.Pipelines(ctx, l.d.Reader(), ws)
	if err != nil {
		return err
	}
	const more = "アップセル・更新"
	for _, p := range ps {
		if p.Name == more {
			l.morePipeline = p
		}
	}
	if l.morePipeline.ID == 0 {
		l.morePipeline, err = l.crm.SavePipeline(ctx, admin, 0, crm.PipelineInput{Name: more, Position: 1, Stages: []crm.PipelineStage{
			{Name: "更新・拡張検討", Probability: 20}, {Name: "提案", Probability: 50}, {Name: "稟議・承認", Probability: 80},
			{Name: "契約締結", Kind: "won"}, {Name: "見送り・解約", Kind: "lost"}}})
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", more, err)
		}
	}
	rate := 149.0
	for m := l.start.AddDate(0, 0, -l.start.Day()+1); !m.After(l.end); m = m.AddDate(0, 1, 0) {
		rate += (l.rng.Float64() - 0.5) * 6
		r := platform.ExchangeRate{Currency: "USD", ValidFrom: m.Format(time.DateOnly), Rate: math.Round(rate*100) / 100}
		if err := platform.SetExchangeRate(ctx, l.d, admin, r, l.start); err != nil {
			return fmt.Errorf("exchange rate: %w", err)
		}
	}
	return nil
}

// Loaded reports whether the demo administrator exists, i.e. whether the
// database holds the demo data set (so its sign-in is worth printing).
func Loaded(ctx context.Context, d *db.DB) (bool, error) {
	_, err := platform.UserByEmail(ctx, d.Reader(), ws, AdminEmail)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("demo.Loaded: %w", err)
	}
	return true, nil
}
