package quotemail_test

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/sales"
	"github.com/ryorin/ryorin/internal/sales/quotemail"
	"github.com/ryorin/ryorin/internal/salesmail"
	"github.com/ryorin/ryorin/internal/smtptest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var jst = time.FixedZone("JST", 9*3600)

// t0 is Monday 6 April 2026, 10:00 in Tokyo.
var t0 = time.Date(2026, 4, 6, 10, 0, 0, 0, jst)

func ptr[T any](v T) *T { return &v }

type fixture struct {
	d       *db.DB
	clock   *clock.Fake
	crm     *crm.Service
	sm      *salesmail.Service
	qm      *quotemail.Service
	jobs    *platform.Jobs
	srv     *smtptest.Server
	rep     platform.Actor
	deal    crm.Deal
	contact crm.Contact
	quote   sales.Quote
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	cs := crm.New(d, fc)
	if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	rp, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@ryorin.example", Name: "伊藤 さくら", Role: platform.RoleSales, Locale: "ja"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	rep := rp.Actor(1, platform.ActorUser)
	jobs := platform.NewJobs(d, fc, nil)
	m := &platform.Mailer{DB: d, Clock: fc, Jobs: jobs, Timeout: 5 * time.Second}
	m.Register()
	srv := smtptest.Start(t)
	if _, err := platform.SetSMTP(ctx, d, cli, platform.SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: "none",
		FromAddress: "sales@ryorin.example", FromName: "両輪"}, t0); err != nil {
		t.Fatal(err)
	}
	n := &platform.Notifier{DB: d, Clock: fc, Jobs: jobs}
	ss := sales.New(d, fc, lead.New(d, fc), n)
	ss.CRM = cs
	sm := salesmail.New(d, fc, cs, m, nil)
	f := &fixture{d: d, clock: fc, crm: cs, sm: sm, qm: quotemail.New(d, fc, cs, ss, sm, n), jobs: jobs, srv: srv, rep: rep}
	co, err := cs.CreateCompany(ctx, rep, crm.CompanyInput{Name: ptr("株式会社テスト")})
	if err != nil {
		t.Fatal(err)
	}
	if f.contact, err = cs.CreateContact(ctx, rep, crm.ContactInput{FamilyName: ptr("山本"), GivenName: ptr("健"), Email: ptr("ken@customer.example"),
		CompanyID: &co.ID, OwnerID: &rep.UserID}); err != nil {
		t.Fatal(err)
	}
	if f.deal, err = cs.CreateDeal(ctx, rep, crm.DealInput{Name: ptr("基幹システム刷新"), CompanyID: &co.ID, OwnerID: &rep.UserID,
		Contacts: &[]crm.DealContact{{ContactID: f.contact.ID}}}); err != nil {
		t.Fatal(err)
	}
	admin := platform.System(1)
	if _, err := ss.SaveQuoteSettings(ctx, admin, sales.QuoteSettings{SellerName: "株式会社両輪", RegistrationNumber: "T1234567890123", ValidDays: 30}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ss.SaveLineItems(ctx, rep, f.deal.ID, []sales.LineItemInput{{Description: ptr("年間ライセンス"), Quantity: 2, UnitPrice: ptr(500000.0)}}); err != nil {
		t.Fatal(err)
	}
	if f.quote, err = ss.IssueQuote(ctx, rep, f.deal.ID, sales.IssueInput{Lang: "ja"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) runJobs(t *testing.T) {
	t.Helper()
	for range 10 {
		n, err := f.jobs.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

var clickRe = regexp.MustCompile(`https://crm\.example/e/sc/([A-Za-z0-9_.-]+)`)

// mailedLink follows the tracked link of the one message sent and returns
// the public quote link it leads to.
func (f *fixture) mailedLink(t *testing.T) string {
	t.Helper()
	msgs := f.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages sent, want 1", len(msgs))
	}
	if msgs[0].To[0] != "ken@customer.example" {
		t.Fatalf("to = %v", msgs[0].To)
	}
	raw := strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(string(msgs[0].Data))
	m := clickRe.FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("no tracked link in:\n%s", raw)
	}
	dest, err := f.sm.Click(context.Background(), 1, m[1])
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dest)
	if err != nil || u.Host != "crm.example" || !strings.HasPrefix(u.Path, "/q/") {
		t.Fatalf("tracked link leads to %q", dest)
	}
	return u.Path
}

func TestSend_MailsTrackedSignedLinkOnceAndViewsNotifyOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		in := quotemail.SendInput{Version: 1, ContactID: f.contact.ID, IdempotencyKey: "form:n1", BaseURL: "https://crm.example"}
		s1, err := f.qm.Send(ctx, f.rep, f.deal.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := f.qm.Send(ctx, f.rep, f.deal.ID, in)
		if err != nil || s2.ID != s1.ID {
			t.Fatalf("resend = %+v, %v; want send %d", s2, err, s1.ID)
		}
		if s1.Number != f.quote.Number || s1.Version != 1 || s1.SalesEmailID == 0 || s1.Views != 0 {
			t.Fatalf("send = %+v", s1)
		}
		f.runJobs(t)
		path := f.mailedLink(t)
		// The email is a logged, tracked email activity on the deal, in Japanese.
		if n := count(t, d, `SELECT COUNT(*) FROM activities WHERE kind = 'email' AND deal_id = ? AND contact_id = ? AND subject LIKE '御見積書%'`,
			f.deal.ID, f.contact.ID); n != 1 {
			t.Fatalf("email activities = %d", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE deal_id = ? AND kind = 'quote.sent'`, f.deal.ID); n != 1 {
			t.Fatalf("quote.sent entries = %d", n)
		}

		tok, pdf, ok := quotemail.ParsePath(strings.TrimPrefix(path, "/q/"))
		if !ok || pdf {
			t.Fatalf("ParsePath(%q) = %q %v %v", path, tok, pdf, ok)
		}
		// A tampered token shows nothing and records nothing.
		bad := tok[:len(tok)-2] + "AA"
		if bad == tok {
			bad = tok[:len(tok)-2] + "BB"
		}
		if _, err := f.qm.View(ctx, 1, bad); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("tampered: %v", err)
		}
		if n := count(t, d, `SELECT views FROM quote_sends WHERE id = ?`, s1.ID); n != 0 {
			t.Fatalf("views after a tampered token = %d", n)
		}
		f.clock.Advance(time.Hour)
		q, err := f.qm.View(ctx, 1, tok)
		if err != nil || q.ID != f.quote.ID || q.Document.Totals.Total != f.quote.Document.Totals.Total {
			t.Fatalf("view = %+v, %v", q, err)
		}
		// A reload and the PDF a minute later are the same visit.
		f.clock.Advance(time.Minute)
		if _, err := f.qm.View(ctx, 1, tok); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE kind = 'quote_view' AND contact_id = ?`, f.contact.ID); n != 1 {
			t.Fatalf("quote_view events = %d", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE deal_id = ? AND kind = 'quote.viewed'`, f.deal.ID); n != 1 {
			t.Fatalf("quote.viewed entries = %d", n)
		}
		ns, err := platform.ListNotifications(ctx, d.Reader(), 1, f.rep.UserID, false, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var told []string
		for _, n := range ns {
			if n.Kind == "quote.viewed" {
				told = append(told, n.Title)
			}
		}
		if len(told) != 1 || !strings.Contains(told[0], "山本 健") || !strings.Contains(told[0], f.quote.Number+"-1") {
			t.Fatalf("notifications = %q", told)
		}
		// The rep's today page lists the view as re-engagement, naming the
		// quote, above the click on the mail's link that led to it.
		day, err := f.qm.Sales.TodayFor(ctx, d.Reader(), 1, f.rep.UserID, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if len(day.Hot) != 1 || day.Hot[0].ContactID != f.contact.ID || len(day.Hot[0].Signals) != 2 || day.Hot[0].Signals[1].Kind != "email_click" {
			t.Fatalf("hot leads = %+v", day.Hot)
		}
		if sg := day.Hot[0].Signals[0]; sg.Kind != quotemail.EventQuoteView || sg.Detail != f.quote.Number+"-1" || sg.DealID != f.deal.ID {
			t.Errorf("today's signal = %+v", sg)
		}
		// A later visit counts again.
		f.clock.Advance(2 * quotemail.ViewWindow)
		if _, err := f.qm.View(ctx, 1, tok); err != nil {
			t.Fatal(err)
		}
		sends, err := f.qm.Sends(ctx, d.Reader(), f.rep, f.deal.ID)
		if err != nil || len(sends) != 1 || sends[0].Views != 3 || sends[0].FirstViewedAt == nil || !sends[0].LastViewedAt.Equal(f.clock.Now()) {
			t.Fatalf("sends = %+v, %v", sends, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE deal_id = ? AND kind = 'quote.viewed'`, f.deal.ID); n != 2 {
			t.Fatalf("quote.viewed entries after a later visit = %d", n)
		}
	})
}

func TestSend_RefusesContactNotOnDealAndUnknownVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		other, err := f.crm.CreateContact(ctx, f.rep, crm.ContactInput{FamilyName: ptr("他人"), Email: ptr("x@other.example")})
		if err != nil {
			t.Fatal(err)
		}
		for field, in := range map[string]quotemail.SendInput{
			"contact_id": {Version: 1, ContactID: other.ID, BaseURL: "https://crm.example"},
			"version":    {Version: 9, ContactID: f.contact.ID, BaseURL: "https://crm.example"},
			"base_url":   {Version: 1, ContactID: f.contact.ID},
		} {
			_, err := f.qm.Send(ctx, f.rep, f.deal.ID, in)
			if e, ok := errs.As(err); !ok || e.Field != field {
				t.Errorf("%s: %v", field, err)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM quote_sends`); n != 0 {
			t.Fatalf("refused sends left %d rows", n)
		}
	})
}

func TestDraft_FollowsQuoteLanguage(t *testing.T) {
	q := sales.Quote{Number: "Q-000007", Version: 2, Lang: "en", ValidUntil: "2026-05-06"}
	q.Document.Subject = "ERP renewal"
	subj, body := quotemail.Draft(q, "Sakura Ito")
	if subj != "Quotation Q-000007-2: ERP renewal" || !strings.Contains(body, quotemail.LinkPlaceholder) || !strings.Contains(body, "2026-05-06") {
		t.Fatalf("en draft = %q / %q", subj, body)
	}
	q.Lang = "ja"
	subj, body = quotemail.Draft(q, "伊藤 さくら")
	if !strings.HasPrefix(subj, "御見積書 Q-000007-2") || !strings.Contains(body, quotemail.LinkPlaceholder) || !strings.HasSuffix(body, "伊藤 さくら") {
		t.Fatalf("ja draft = %q / %q", subj, body)
	}
}

func TestSend_MeetsTheQuoteSentExitCriterion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		p, err := f.crm.GetPipeline(ctx, d.Reader(), 1, f.deal.PipelineID)
		if err != nil {
			t.Fatal(err)
		}
		var from, next int64
		for i, st := range p.Stages {
			if st.ID == f.deal.StageID && i+1 < len(p.Stages) {
				from, next = st.ID, p.Stages[i+1].ID
			}
		}
		if _, err := f.crm.SetStageGuide(ctx, platform.System(1), crm.StageGuide{StageID: from, Criteria: []string{"quote_sent"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.crm.UpdateDeal(ctx, f.rep, f.deal.ID, crm.DealInput{StageID: &next}); errs.KindOf(err) != errs.Unprocessable || !strings.Contains(err.Error(), "quote_sent") {
			t.Fatalf("move before the quote is sent: %v", err)
		}
		if _, err := f.qm.Send(ctx, f.rep, f.deal.ID, quotemail.SendInput{Version: 1, ContactID: f.contact.ID, BaseURL: "https://crm.example"}); err != nil {
			t.Fatal(err)
		}
		if moved, err := f.crm.UpdateDeal(ctx, f.rep, f.deal.ID, crm.DealInput{StageID: &next}); err != nil || moved.StageID != next {
			t.Fatalf("move after the quote is sent: %+v, %v", moved.StageID, err)
		}
	})
}
