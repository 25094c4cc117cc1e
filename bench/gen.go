// Package bench holds Ryorin's deterministic data generator and the
// benchmark scenarios the numbers are measured with. The generator
// writes straight to the database in bounded batches; the scenarios talk to
// a running server over HTTP, exactly as clients do. See docs/benchmarks.md.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// Size is how much data to generate.
type Size struct {
	Name               string
	Users              int
	Companies          int
	Contacts           int
	Deals              int
	Events             int
	TimelineContacts   int // contacts given TimelinePerContact entries each
	TimelinePerContact int
	Activities         int // calls, emails, meetings and tasks spread over the users
}

// Sizes are the named data sets: S for CI, M for quick local runs, L for the
// issue's targets (1M contacts, 100k companies, 10M events, 200k deals).
var Sizes = map[string]Size{
	"XS": {"XS", 8, 50, 500, 100, 5_000, 3, 1000, 5_000},
	"S":  {"S", 20, 1_000, 10_000, 2_000, 100_000, 20, 1000, 100_000},
	"M":  {"M", 20, 10_000, 100_000, 20_000, 1_000_000, 50, 1000, 1_000_000},
	"L":  {"L", 50, 100_000, 1_000_000, 200_000, 10_000_000, 100, 1000, 5_000_000},
}

// Epoch is the generator's "now": every generated time lies in the six months before it.
var Epoch = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

var (
	familyNames = [][2]string{{"佐藤", "サトウ"}, {"鈴木", "スズキ"}, {"高橋", "タカハシ"}, {"田中", "タナカ"}, {"伊藤", "イトウ"},
		{"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"}, {"小林", "コバヤシ"}, {"加藤", "カトウ"}, {"吉田", "ヨシダ"},
		{"山田", "ヤマダ"}, {"佐々木", "ササキ"}, {"山口", "ヤマグチ"}, {"松本", "マツモト"}, {"井上", "イノウエ"}, {"木村", "キムラ"},
		{"林", "ハヤシ"}, {"斎藤", "サイトウ"}, {"清水", "シミズ"}, {"森", "モリ"}, {"池田", "イケダ"}, {"橋本", "ハシモト"}, {"石川", "イシカワ"}}
	givenNames = [][2]string{{"太郎", "タロウ"}, {"花子", "ハナコ"}, {"翔太", "ショウタ"}, {"陽菜", "ヒナ"}, {"大輔", "ダイスケ"},
		{"美咲", "ミサキ"}, {"健一", "ケンイチ"}, {"由美", "ユミ"}, {"拓也", "タクヤ"}, {"さくら", "サクラ"}, {"直樹", "ナオキ"},
		{"愛", "アイ"}, {"誠", "マコト"}, {"結衣", "ユイ"}, {"蓮", "レン"}, {"葵", "アオイ"}}
	latinFamily = []string{"Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Lee", "Walker"}
	latinGiven  = []string{"James", "Mary", "John", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia", "Chris", "Anna"}
	coWords     = []string{"テクノ", "ソリューションズ", "システム", "商事", "製作所", "ホールディングス", "ネットワーク", "データ",
		"クラウド", "物産", "工業", "電機", "Digital", "Labs", "Works", "Partners"}
	coPlaces   = []string{"東京", "大阪", "名古屋", "横浜", "福岡", "札幌", "仙台", "京都", "神戸", "広島", "Global", "Pacific"}
	industries = []string{"software", "manufacturing", "retail", "finance", "healthcare", "logistics", "education", "construction"}
	prefs      = []string{"東京都", "大阪府", "愛知県", "神奈川県", "福岡県", "北海道", "宮城県", "京都府", "兵庫県", "広島県"}
	stages     = []platform.Stage{platform.StageSubscriber, platform.StageLead, platform.StageLead, platform.StageLead, platform.StageMQL,
		platform.StageSQL, platform.StageOpportunity, platform.StageCustomer, platform.StageDisqualified, platform.StageRecycled}
	titles   = []string{"部長", "課長", "主任", "担当", "代表取締役", "マネージャー", "Director", "Manager", "Engineer", "CEO"}
	channels = []string{"organic_search", "paid_search", "social", "email", "referral", "direct", "events_offline"}
	kinds    = []string{"page_view", "page_view", "page_view", "page_view", "email_open", "email_click", "form_submit", "content_view"}
	paths    = []string{"/", "/pricing", "/features", "/blog/crm-tips", "/blog/ma-basics", "/case-studies", "/demo", "/contact"}
)

// Generate fills an empty, migrated database with a data set of the given
// size. It is deterministic: the same size gives the same data. Writes are
// committed in batches small enough to keep SQLite's writer free.
func Generate(ctx context.Context, d *db.DB, sz Size, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	r := rand.New(rand.NewPCG(42, uint64(sz.Contacts)))
	now := Epoch
	if err := platform.EnsureWorkspace(ctx, d, 1, "Bench", now); err != nil {
		return err
	}
	svc := crm.New(d, fixedClock{now})
	if err := svc.EnsureDefaults(ctx, 1, "ja"); err != nil {
		return err
	}
	p, err := svc.DefaultPipeline(ctx, d.Reader(), 1)
	if err != nil {
		return err
	}
	ago := func() int64 { return now.Add(-time.Duration(r.Int64N(int64(180 * 24 * time.Hour)))).UnixMilli() }

	// Users.
	err = batches(ctx, d, "bench.users", sz.Users, 500, func(i int, b *batch) {
		role := []string{"admin", "manager", "marketing", "sales", "sales", "sales"}[i%6]
		b.row(`INSERT INTO users (workspace_id, email, name, role, created_at, updated_at) VALUES `, "(1, ?, ?, ?, ?, ?)",
			fmt.Sprintf("user%d@bench.example", i+1), fmt.Sprintf("User %d", i+1), role, now.UnixMilli(), now.UnixMilli())
	})
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("users: %d", sz.Users))
	owner := func() int64 { return 1 + r.Int64N(int64(sz.Users)) }

	// Companies.
	err = batches(ctx, d, "bench.companies", sz.Companies, 500, func(i int, b *batch) {
		name := coPlaces[r.IntN(len(coPlaces))] + coWords[r.IntN(len(coWords))] + fmt.Sprint(i+1)
		if r.IntN(2) == 0 {
			name = "株式会社" + name
		} else {
			name += "株式会社"
		}
		c := crm.Company{Name: name, NameNormalized: crm.NormalizeCompanyName(name), Domain: fmt.Sprintf("co%d.example.jp", i+1)}
		b.row(`INSERT INTO companies (workspace_id, name, name_norm, domain, industry, employees, prefecture, owner_id, props, search_text, created_at, updated_at, last_activity_at) VALUES `,
			"(1, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)",
			c.Name, c.NameNormalized, c.Domain, industries[r.IntN(len(industries))], 10+r.IntN(5000), prefs[r.IntN(len(prefs))],
			owner(), crm.CompanySearchText(c), ago(), now.UnixMilli(), ago())
	})
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("companies: %d", sz.Companies))

	// Contacts: 80 % Japanese names, 20 % Latin.
	err = batches(ctx, d, "bench.contacts", sz.Contacts, 400, func(i int, b *batch) {
		var c crm.Contact
		if r.IntN(5) > 0 {
			f, g := familyNames[r.IntN(len(familyNames))], givenNames[r.IntN(len(givenNames))]
			c.FamilyName, c.GivenName, c.FamilyNameKana, c.GivenNameKana = f[0], g[0], f[1], g[1]
		} else {
			c.FamilyName, c.GivenName = latinFamily[r.IntN(len(latinFamily))], latinGiven[r.IntN(len(latinGiven))]
		}
		c.Email = fmt.Sprintf("c%d@co%d.example.jp", i+1, 1+r.IntN(sz.Companies))
		c.Phone = fmt.Sprintf("03-%04d-%04d", r.IntN(10000), r.IntN(10000))
		st := stages[r.IntN(len(stages))]
		b.row(`INSERT INTO contacts (workspace_id, email, family_name, given_name, family_name_kana, given_name_kana, phone, phone_norm, title,
			company_id, owner_id, lifecycle_stage, lifecycle_changed_at, original_channel, props, search_text, created_at, updated_at, last_activity_at) VALUES `,
			"(1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)",
			c.Email, c.FamilyName, c.GivenName, c.FamilyNameKana, c.GivenNameKana, c.Phone, crm.NormalizePhone(c.Phone),
			titles[r.IntN(len(titles))], 1+r.Int64N(int64(sz.Companies)), owner(), string(st), ago(), channels[r.IntN(len(channels))],
			crm.ContactSearchText(c), ago(), now.UnixMilli(), ago())
	})
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("contacts: %d", sz.Contacts))

	// Lifecycle history and a creation entry on every contact's timeline.
	err = batches(ctx, d, "bench.lifecycle", sz.Contacts, 1000, func(i int, b *batch) {
		b.row(`INSERT INTO lifecycle_history (workspace_id, contact_id, at, from_stage, to_stage, cause_kind) VALUES `,
			"(1, ?, ?, '', 'lead', 'import')", i+1, ago())
	})
	if err != nil {
		return err
	}
	err = batches(ctx, d, "bench.timeline", sz.Contacts, 1000, func(i int, b *batch) {
		b.row(`INSERT INTO timeline (workspace_id, at, kind, contact_id, data) VALUES `, `(1, ?, 'contact.created', ?, '{"source":"import"}')`, ago(), i+1)
	})
	if err != nil {
		return err
	}
	// The timeline benchmark's contacts: TimelinePerContact entries each.
	err = batches(ctx, d, "bench.timeline_heavy", sz.TimelineContacts*sz.TimelinePerContact, 1000, func(i int, b *batch) {
		cid := 1 + i/sz.TimelinePerContact
		k := []string{"activity.call", "activity.email", "event.page_view", "event.email_open", "activity.meeting"}[r.IntN(5)]
		b.row(`INSERT INTO timeline (workspace_id, at, kind, contact_id, data) VALUES `, `(1, ?, ?, ?, '{"subject":"フォローアップ"}')`, ago(), k, cid)
	})
	if err != nil {
		return err
	}
	progress("timeline")

	// Deals spread over the stages.
	err = batches(ctx, d, "bench.deals", sz.Deals, 500, func(i int, b *batch) {
		st := p.Stages[r.IntN(len(p.Stages))]
		reason := ""
		if st.Kind == "lost" {
			reason = "price"
		}
		name := fmt.Sprintf("案件 %d", i+1)
		b.row(`INSERT INTO deals (workspace_id, name, pipeline_id, stage_id, company_id, owner_id, amount, currency, status, lost_reason,
			stage_changed_at, close_date, props, search_text, created_at, updated_at) VALUES `,
			"(1, ?, ?, ?, ?, ?, ?, 'JPY', ?, ?, ?, ?, '{}', ?, ?, ?)",
			name, p.ID, st.ID, 1+r.Int64N(int64(sz.Companies)), owner(), int64(100_000*(1+r.IntN(100))), st.Kind, reason, ago(),
			Epoch.AddDate(0, r.IntN(6)-2, r.IntN(28)).Format(time.DateOnly), strings.ToLower(name), ago(), now.UnixMilli())
	})
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("deals: %d", sz.Deals))

	// Activities: calls (with outcomes), emails, meetings and tasks, some
	// tasks open and due around the generator's now, for the today page and
	// the daily report.
	outcomes := append([]string{""}, crm.CallOutcomes...)
	err = batches(ctx, d, "bench.activities", sz.Activities, 1000, func(i int, b *batch) {
		kind := []string{"call", "call", "call", "email", "meeting", "task"}[r.IntN(6)]
		at := ago()
		var due, done any
		outcome := ""
		switch kind {
		case "call":
			outcome = outcomes[r.IntN(len(outcomes))]
		case "task":
			due = at
			if r.IntN(4) == 0 {
				due = now.Add(time.Duration(r.Int64N(int64(14 * 24 * time.Hour)))).UnixMilli()
			} else if r.IntN(3) > 0 {
				done = at
			}
		}
		var deal any
		if r.IntN(3) == 0 {
			deal = 1 + r.Int64N(int64(sz.Deals))
		}
		b.row(`INSERT INTO activities (workspace_id, kind, subject, occurred_at, due_at, done_at, call_outcome, owner_id, contact_id, deal_id, created_at, updated_at) VALUES `,
			"(1, ?, 'フォローアップ', ?, ?, ?, ?, ?, ?, ?, ?, ?)", kind, at, due, done, outcome, owner(), 1+r.Int64N(int64(sz.Contacts)), deal, at, at)
	})
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("activities: %d", sz.Activities))

	// Events: 30 % identified.
	err = batches(ctx, d, "bench.events", sz.Events, 1000, func(i int, b *batch) {
		var contact any
		if r.IntN(10) < 3 {
			contact = 1 + r.Int64N(int64(sz.Contacts))
		}
		path := paths[r.IntN(len(paths))]
		b.row(`INSERT INTO events (workspace_id, event_uid, kind, occurred_at, received_at, contact_id, visitor_id, url, path, channel) VALUES `,
			"(1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			fmt.Sprintf("gen-%d", i+1), kinds[r.IntN(len(kinds))], ago(), now.UnixMilli(), contact, fmt.Sprintf("v%d", r.IntN(sz.Events/5+1)),
			"https://ryorin.example"+path, path, channels[r.IntN(len(channels))])
		if i > 0 && i%1_000_000 == 0 {
			progress(fmt.Sprintf("events: %d", i))
		}
	})
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("events: %d", sz.Events))
	// Each contact's newest re-engagement signal, as the ingest keeps it.
	for from := int64(1); from <= int64(sz.Contacts); from += 20_000 {
		if err := d.Write(ctx, "bench.signals", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO contact_signals (workspace_id, contact_id, owner_id, last_at)
				SELECT 1, c.id, c.owner_id, s.at FROM (
					SELECT contact_id, MAX(occurred_at) AS at FROM events e
					WHERE workspace_id = 1 AND contact_id IS NOT NULL AND contact_id >= ? AND contact_id < ? AND `+platform.SignalCond("e")+`
					GROUP BY contact_id
				) s JOIN contacts c ON c.workspace_id = 1 AND c.id = s.contact_id`, from, from+20_000)
			return err
		}); err != nil {
			return err
		}
	}
	if err := svc.RebuildStageTotals(ctx, 1); err != nil {
		return err
	}
	// Fresh statistics, as a long-running install would have; on PostgreSQL
	// also the visibility map autovacuum would have set by then.
	if d.Dialect == db.Postgres {
		return d.Vacuum(ctx)
	}
	return d.Write(ctx, "bench.analyze", func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, "ANALYZE")
		return err
	})
}

type fixedClock struct{ t time.Time }

func (f fixedClock) Now() time.Time { return f.t }

// batch builds one multi-row INSERT.
type batch struct {
	prefix string
	sb     strings.Builder
	args   []any
	n      int
}

func (b *batch) row(prefix, values string, args ...any) {
	if b.n == 0 {
		b.prefix = prefix
	} else {
		b.sb.WriteString(", ")
	}
	b.sb.WriteString(values)
	b.args = append(b.args, args...)
	b.n++
}

// batches calls fill for rows 0..n-1 and commits every size rows, so no
// transaction holds SQLite's writer for long.
func batches(ctx context.Context, d *db.DB, name string, n, size int, fill func(i int, b *batch)) error {
	for start := 0; start < n; start += size {
		var b batch
		for i := start; i < min(start+size, n); i++ {
			fill(i, &b)
		}
		if b.n == 0 {
			continue
		}
		err := d.Write(ctx, name, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, b.prefix+b.sb.String(), b.args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s rows %d–%d: %w", name, start, start+b.n, err)
		}
	}
	return nil
}
