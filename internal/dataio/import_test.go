package dataio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	db    *db.DB
	clock *clock.Fake
	crm   *crm.Service
	io    *dataio.Service
	admin platform.Actor
}

func setup(t *testing.T, d *db.DB) fixture { return setupB(t, d) }

func setupB(t testing.TB, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	u, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "admin@example.com", Name: "管理 花子", Role: platform.RoleAdmin}, t0)
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	c := crm.New(d, fc)
	return fixture{db: d, clock: fc, crm: c, io: dataio.New(d, fc, c, nil), admin: u.Actor(1, platform.ActorUser)}
}

func ptr[T any](v T) *T { return &v }

// load uploads a file and starts it with the guessed mapping.
func (f fixture) load(t *testing.T, object, data, mode string) dataio.Import {
	t.Helper()
	ctx := context.Background()
	im, err := f.io.Create(ctx, f.admin, object, "test.csv", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if im, err = f.io.Start(ctx, f.admin, im.ID, nil, mode); err != nil {
		t.Fatal(err)
	}
	return im
}

// importCSV uploads, starts and runs an import to its end.
func (f fixture) importCSV(t *testing.T, object, data, mode string) dataio.Import {
	t.Helper()
	ctx := context.Background()
	im := f.load(t, object, data, mode)
	if err := f.io.Run(ctx, 1, im.ID, dataio.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	im, err := f.io.Get(ctx, f.db.Reader(), 1, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func counts(im dataio.Import) string {
	return fmt.Sprintf("created %d updated %d skipped %d failed %d", im.Created, im.Updated, im.Skipped, im.Failed)
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const dedupeCSV = "メールアドレス,姓,名,役職\n" +
	"Old@Example.jp,山田,太郎,部長\n" + // line 2: an existing contact, new title
	"new@example.jp,佐藤,花子,課長\n" + // line 3: new
	"NEW@example.jp,佐藤,花子,主任\n" + // line 4: the same email again in the file
	"not-an-email,鈴木,一郎,\n" + // line 5: bad
	",田中,次郎,担当\n" // line 6: no email, a name: always new

func TestImport_DedupeModes(t *testing.T) {
	cases := []struct {
		mode      string
		counts    string
		oldTitle  string
		newTitle  string
		badLines  []int
		contacts  int
		errReason string
	}{
		{dataio.ModeUpdate, "created 2 updated 2 skipped 0 failed 1", "部長", "主任", []int{5}, 3, "not a valid email"},
		{dataio.ModeSkip, "created 2 updated 0 skipped 2 failed 1", "", "課長", []int{5}, 3, "not a valid email"},
		{dataio.ModeCreate, "created 2 updated 0 skipped 0 failed 3", "", "課長", []int{2, 4, 5}, 3, "already exists"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := setup(t, d)
				ctx := context.Background()
				old, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("old@example.jp"), FamilyName: ptr("山田")})
				if err != nil {
					t.Fatal(err)
				}
				im := f.importCSV(t, dataio.Contacts, dedupeCSV, c.mode)
				if got := counts(im); got != c.counts || im.Status != dataio.StatusDone || im.RowsDone != 5 {
					t.Fatalf("%s, status %s, rows %d; want %s", got, im.Status, im.RowsDone, c.counts)
				}
				o, _ := f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
				if o.Title != c.oldTitle {
					t.Errorf("existing contact's title = %q, want %q", o.Title, c.oldTitle)
				}
				n, err := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "new@example.jp")
				if err != nil || n.Title != c.newTitle || n.FamilyName != "佐藤" {
					t.Errorf("new contact = %+v, %v; want title %q", n, err, c.newTitle)
				}
				if got := count(t, d, `SELECT COUNT(*) FROM contacts`); got != c.contacts {
					t.Errorf("%d contacts, want %d", got, c.contacts)
				}
				var buf bytes.Buffer
				if err := f.io.ErrorsCSV(ctx, &buf, 1, im.ID, "en"); err != nil {
					t.Fatal(err)
				}
				report := strings.TrimPrefix(buf.String(), "\ufeff")
				lines := strings.Split(strings.TrimSpace(report), "\n")
				if len(lines) != 1+len(c.badLines) || lines[0] != "line,field,error,メールアドレス,姓,名,役職" {
					t.Fatalf("error report:\n%s", report)
				}
				for i, l := range c.badLines {
					if !strings.HasPrefix(lines[1+i], fmt.Sprintf("%d,email,", l)) {
						t.Errorf("error line %d = %q, want line %d", i, lines[1+i], l)
					}
				}
				if !strings.Contains(report, c.errReason) {
					t.Errorf("report does not say %q:\n%s", c.errReason, report)
				}
			})
		})
	}
}

func TestImport_LinksContactsToCompaniesCreatingMissingOnes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		abc, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("株式会社ＡＢＣ商事"), CorporateNumber: ptr("7000012050002")})
		if err != nil {
			t.Fatal(err)
		}
		dom, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("ドメイン工業"), Domain: ptr("domain.example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		data := "email,company,法人番号,website\n" +
			"a@abc.jp,ABC商事(株),,\n" + // by normalised name
			"b@abc.jp,別名,7000012050002,\n" + // by corporate number
			"c@dom.jp,違う名前,,https://www.domain.example.jp/about\n" + // by domain
			"d@new.jp,新会社株式会社,,\n" +
			"e@new.jp,㈱新会社,,\n" + // same new company, written differently
			"f@none.jp,,,\n"
		im := f.importCSV(t, dataio.Contacts, data, dataio.ModeUpdate)
		if counts(im) != "created 6 updated 0 skipped 0 failed 0" || im.CompaniesCreated != 1 {
			t.Fatalf("%s, companies %d", counts(im), im.CompaniesCreated)
		}
		want := map[string]int64{"a@abc.jp": abc.ID, "b@abc.jp": abc.ID, "c@dom.jp": dom.ID, "f@none.jp": 0}
		for email, co := range want {
			c, err := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, email)
			if err != nil || c.CompanyID != co {
				t.Errorf("%s: company %d, %v; want %d", email, c.CompanyID, err, co)
			}
		}
		d1, _ := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "d@new.jp")
		e1, _ := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "e@new.jp")
		if d1.CompanyID == 0 || d1.CompanyID != e1.CompanyID {
			t.Fatalf("new company links: %d, %d", d1.CompanyID, e1.CompanyID)
		}
		co, err := f.crm.GetCompany(ctx, d.Reader(), f.admin, d1.CompanyID)
		if err != nil || co.Name != "新会社株式会社" || co.NameNormalized != "新会社" {
			t.Errorf("created company = %+v, %v", co, err)
		}
		// The new company is found by name search, like one made in the UI.
		page, err := f.crm.ListCompanies(ctx, f.admin, crm.CompanyFilter{Q: "新会社"})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("search found %d, %v", len(page.Items), err)
		}
	})
}

// A company name seen in an earlier batch is linked from the run's memory:
// the same company, never a second one, also when written differently.
func TestImport_LinksCompaniesAcrossBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		abc, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("株式会社ＡＢＣ商事")})
		if err != nil {
			t.Fatal(err)
		}
		// A threshold the import must put back when it ends (SQLite).
		prev, err := d.SetWALAutocheckpoint(ctx, 1234)
		if err != nil {
			t.Fatal(err)
		}
		data := "email,company\n" +
			"a@abc.jp,ABC商事(株)\n" +
			"b@new.jp,新会社株式会社\n" +
			"c@abc.jp,ABC商事(株)\n" + // from memory
			"d@new.jp,新会社株式会社\n" + // created two batches ago, from memory
			"e@new.jp,㈱新会社\n" // another spelling: looked up, the same company
		im := f.load(t, dataio.Contacts, data, dataio.ModeUpdate)
		if err := f.io.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 1}); err != nil {
			t.Fatal(err)
		}
		im, _ = f.io.Get(ctx, d.Reader(), 1, im.ID)
		if counts(im) != "created 5 updated 0 skipped 0 failed 0" || im.CompaniesCreated != 1 {
			t.Fatalf("%s, companies %d", counts(im), im.CompaniesCreated)
		}
		ids := map[string]int64{}
		for _, email := range []string{"a@abc.jp", "b@new.jp", "c@abc.jp", "d@new.jp", "e@new.jp"} {
			c, err := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, email)
			if err != nil {
				t.Fatal(err)
			}
			ids[email] = c.CompanyID
		}
		if ids["a@abc.jp"] != abc.ID || ids["c@abc.jp"] != abc.ID {
			t.Errorf("ABC links %d, %d; want %d", ids["a@abc.jp"], ids["c@abc.jp"], abc.ID)
		}
		if n := ids["b@new.jp"]; n == 0 || n == abc.ID || ids["d@new.jp"] != n || ids["e@new.jp"] != n {
			t.Errorf("new company links %v", ids)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies WHERE workspace_id = 1`); n != 2 {
			t.Errorf("%d companies, want 2", n)
		}
		// The writer's checkpoint threshold, raised for the import on SQLite, is back.
		if after, err := d.SetWALAutocheckpoint(ctx, prev); err != nil || (d.Dialect == db.SQLite && after != 1234) {
			t.Errorf("threshold after the import %d, %v; want 1234", after, err)
		}
	})
}

func TestImport_ShiftJISFileWithHeadingsInJapanese(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		text := "氏名,フリガナ,メールアドレス,電話番号,作成日,ライフサイクルステージ\r\n" +
			"山田 太郎,ヤマダ タロウ,taro@example.jp,０３－１２３４－５６７８,令和6年4月1日,MQL\r\n" +
			"鈴木 花子,スズキ ハナコ,hanako@example.jp,03ー9999ー0000,45383,顧客\r\n" +
			"佐藤 一郎,サトウ イチロウ,ichiro@example.jp,,2024年13月1日,リード\r\n"
		sjis, err := japanese.ShiftJIS.NewEncoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		im := f.importCSV(t, dataio.Contacts, sjis, dataio.ModeUpdate)
		if im.Encoding != dataio.ShiftJIS || counts(im) != "created 2 updated 0 skipped 0 failed 1" {
			t.Fatalf("encoding %s, %s", im.Encoding, counts(im))
		}
		c, err := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "taro@example.jp")
		if err != nil {
			t.Fatal(err)
		}
		if c.FamilyName != "山田" || c.GivenName != "太郎" || c.FamilyNameKana != "ヤマダ" || c.Phone != "03-1234-5678" ||
			c.LifecycleStage != platform.StageMQL || c.CreatedAt.In(time.FixedZone("", 9*3600)).Format(time.DateOnly) != "2024-04-01" {
			t.Errorf("contact = %+v", c)
		}
		h, _ := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "hanako@example.jp")
		if h.Phone != "03-9999-0000" || h.LifecycleStage != platform.StageCustomer {
			t.Errorf("second contact = %+v", h)
		}
		// The phone search finds the folded number.
		page, err := f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{Q: "0312345678"})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("phone search: %d, %v", len(page.Items), err)
		}
		hist, err := platform.LifecycleHistory(ctx, d.Reader(), 1, c.ID)
		if err != nil || len(hist) != 1 || hist[0].To != platform.StageMQL || hist[0].CauseKind != "import" {
			t.Errorf("lifecycle history = %+v, %v", hist, err)
		}
	})
}

func TestImport_RefusesFilesWithoutRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		for name, data := range map[string]string{"empty": "", "header only": "email,name\n", "binary": "\x00\x01PK"} {
			if _, err := f.io.Create(context.Background(), f.admin, dataio.Contacts, "x.csv", strings.NewReader(data)); err == nil {
				t.Errorf("%s: want an error", name)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM imports`); n != 0 {
			t.Errorf("%d imports left behind", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM import_chunks`); n != 0 {
			t.Errorf("%d chunks left behind", n)
		}
	})
}

func bigCSV(n int) string {
	var b strings.Builder
	b.WriteString("email,family_name,given_name,company\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "c%d@example.jp,姓%d,名,会社%d\n", i, i, i%7)
		if i%100 == 0 {
			b.WriteString("broken,,,\n")
		}
	}
	return b.String()
}

func TestImport_ResumesAfterACrashWithEveryRowExactlyOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		im := f.load(t, dataio.Contacts, bigCSV(1000), dataio.ModeUpdate)
		// The first worker commits three batches and dies holding the lease.
		err := f.io.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101, StopAfterBatches: 3})
		if !errors.Is(err, dataio.ErrStopped) {
			t.Fatalf("run 1: %v", err)
		}
		mid, _ := f.io.Get(ctx, d.Reader(), 1, im.ID)
		if mid.RowsDone != 303 || mid.Status != dataio.StatusRunning || mid.Created+mid.Failed != 303 {
			t.Fatalf("after the crash: %+v", mid)
		}
		// Another worker (a restarted server) waits for the lease to run out…
		other := dataio.New(d, f.clock, f.crm, nil)
		if err := other.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101}); err == nil {
			t.Fatal("a second worker ran the import while the first one's lease was live")
		}
		f.clock.Advance(3 * time.Minute)
		// …then resumes after the last committed row.
		if err := other.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101}); err != nil {
			t.Fatal(err)
		}
		done, _ := f.io.Get(ctx, d.Reader(), 1, im.ID)
		if done.Status != dataio.StatusDone || counts(done) != "created 1000 updated 0 skipped 0 failed 10" || done.RowsDone != 1010 {
			t.Fatalf("done: %s %s rows %d", done.Status, counts(done), done.RowsDone)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM contacts`); n != 1000 {
			t.Errorf("%d contacts, want 1000", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM import_errors WHERE import_id = ?`, im.ID); n != 10 {
			t.Errorf("%d error rows, want 10", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies`); n != 7 {
			t.Errorf("%d companies, want 7", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM lifecycle_history`); n != 1000 {
			t.Errorf("%d lifecycle rows, want 1000", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM import_chunks`); n != 0 {
			t.Errorf("the file's %d chunks were not removed", n)
		}
		// One audit and one timeline entry for the whole import.
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'import'`); n != 1 {
			t.Errorf("%d audit entries", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE kind = 'import.done' AND ref_id = ?`, im.ID); n != 1 {
			t.Errorf("%d timeline entries", n)
		}
		// Running it again does nothing.
		if err := other.Run(ctx, 1, im.ID, dataio.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM contacts`); n != 1000 {
			t.Errorf("%d contacts after a second run", n)
		}
	})
}

func TestImport_UndoDeletesCreatedRecordsAndRevertsUpdates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		old, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("old@example.jp"), FamilyName: ptr("山田"), Title: ptr("部長")})
		if err != nil {
			t.Fatal(err)
		}
		co, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("既存株式会社")})
		if err != nil {
			t.Fatal(err)
		}
		data := "email,姓,役職,会社名,stage\nold@example.jp,山本,社長,新規商事,customer\nnew@example.jp,佐藤,,既存,\nold@example.jp,,会長,,\n"
		im := f.importCSV(t, dataio.Contacts, data, dataio.ModeUpdate)
		if counts(im) != "created 1 updated 2 skipped 0 failed 0" || im.CompaniesCreated != 1 {
			t.Fatalf("%s", counts(im))
		}
		c, _ := f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
		if c.FamilyName != "山本" || c.Title != "会長" || c.CompanyID == 0 || c.CompanyID == co.ID || c.LifecycleStage != platform.StageCustomer {
			t.Fatalf("updated contact = %+v", c)
		}
		if _, err := f.io.Undo(ctx, f.admin, im.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.io.Undo(ctx, f.admin, im.ID); err == nil {
			t.Error("undoing twice should be refused")
		}
		if err := f.io.RunUndo(ctx, 1, im.ID); err != nil {
			t.Fatal(err)
		}
		c, _ = f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
		if c.FamilyName != "山田" || c.Title != "部長" || c.CompanyID != 0 || c.LifecycleStage != platform.StageLead {
			t.Errorf("reverted contact = %+v", c)
		}
		if _, err := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "new@example.jp"); err == nil {
			t.Error("the created contact is still there")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies`); n != 1 {
			t.Errorf("%d companies, want only the one that existed", n)
		}
		// Name search reflects the reverted name.
		page, _ := f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{Q: "山本"})
		if len(page.Items) != 0 {
			t.Errorf("search still finds the imported name")
		}
		im, _ = f.io.Get(ctx, d.Reader(), 1, im.ID)
		if im.Status != dataio.StatusUndone || im.UndoneAt == nil {
			t.Errorf("status %s", im.Status)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'import'`); n != 2 {
			t.Errorf("%d audit entries, want import + undo", n)
		}
	})
}

func TestImport_CompaniesDedupeByCorporateNumberDomainAndName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		a, _ := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("株式会社エー"), CorporateNumber: ptr("7000012050002")})
		b, _ := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("ビー株式会社"), Domain: ptr("b.example.jp")})
		data := "会社名,法人番号,ドメイン,従業員数,業種\n" +
			"エー新社名,7000012050002,,１，２００名,製造\n" + // by corporate number
			"別名,,www.b.example.jp,50,\n" + // by domain
			"(株)ビー,,,,小売\n" + // by normalised name
			"シー,,,abc,\n" + // bad number
			"ディー,,d.example.jp,10,\n"
		im := f.importCSV(t, dataio.Companies, data, dataio.ModeUpdate)
		if counts(im) != "created 1 updated 3 skipped 0 failed 1" {
			t.Fatalf("%s", counts(im))
		}
		ga, _ := f.crm.GetCompany(ctx, d.Reader(), f.admin, a.ID)
		if ga.Name != "エー新社名" || ga.Employees == nil || *ga.Employees != 1200 || ga.Industry != "製造" {
			t.Errorf("company a = %+v", ga)
		}
		gb, _ := f.crm.GetCompany(ctx, d.Reader(), f.admin, b.ID)
		if gb.Name != "(株)ビー" || gb.Industry != "小売" {
			t.Errorf("company b = %+v", gb)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies`); n != 3 {
			t.Errorf("%d companies", n)
		}
	})
}

func TestImport_RunsAsADurableJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		jobs := platform.NewJobs(d, f.clock, nil)
		f.io.Register(jobs)
		im := f.load(t, dataio.Contacts, bigCSV(50), dataio.ModeUpdate)
		if im.Status != dataio.StatusQueued {
			t.Fatalf("status %s", im.Status)
		}
		if _, err := jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		im, _ = f.io.Get(ctx, d.Reader(), 1, im.ID)
		if im.Status != dataio.StatusDone || im.Created != 50 {
			t.Fatalf("%s %s", im.Status, counts(im))
		}
		if _, err := f.io.Undo(ctx, f.admin, im.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM contacts`); n != 0 {
			t.Errorf("%d contacts after undo", n)
		}
	})
}

func TestImport_StartChecksTheMapping(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		im, err := f.io.Create(ctx, f.admin, dataio.Contacts, "x.csv", strings.NewReader("a,b\n1,2\n"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range [][]string{{"email"}, {"email", "email"}, {"email", "nonsense"}, {"title", ""}} {
			if _, err := f.io.Start(ctx, f.admin, im.ID, m, "update"); err == nil {
				t.Errorf("mapping %q accepted", m)
			}
		}
		if _, err := f.io.Start(ctx, f.admin, im.ID, []string{"email", "title"}, "merge"); err == nil {
			t.Error("mode merge accepted")
		}
		m, err := f.io.MappingFromHeaders(ctx, 1, im, map[string]string{"a": "email", "B": "title"})
		if err != nil || strings.Join(m, ",") != "email,title" {
			t.Fatalf("mapping %q, %v", m, err)
		}
		if _, err := f.io.Start(ctx, f.admin, im.ID, m, "skip"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestImport_AnUnreadableFileFailsTheImportAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		jobs := platform.NewJobs(d, f.clock, nil)
		f.io.Register(jobs)
		im := f.load(t, dataio.Contacts, bigCSV(20), dataio.ModeUpdate)
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM import_chunks`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		im, _ = f.io.Get(ctx, d.Reader(), 1, im.ID)
		if im.Status != dataio.StatusFailed || !strings.Contains(im.Error, "empty") {
			t.Errorf("status %s, error %q", im.Status, im.Error)
		}
	})
}

func TestImport_CustomPropertiesAreParsedByTypeMergedAndUndone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for _, p := range []crm.PropertyDefinition{
			{ObjectType: "contact", Key: "budget", LabelEN: "Budget", LabelJA: "予算", Type: crm.PropNumber},
			{ObjectType: "contact", Key: "interest", LabelEN: "Interest", LabelJA: "関心", Type: crm.PropMultiChoice,
				Options: []crm.Option{{Value: "crm", LabelEN: "CRM", LabelJA: "顧客管理"}, {Value: "ma", LabelEN: "MA", LabelJA: "MA"}}},
			{ObjectType: "contact", Key: "newsletter", LabelEN: "Newsletter", LabelJA: "メルマガ", Type: crm.PropBool},
			{ObjectType: "contact", Key: "met_on", LabelEN: "Met on", LabelJA: "面談日", Type: crm.PropDate},
			{ObjectType: "contact", Key: "segment", LabelEN: "Segment", LabelJA: "セグメント", Type: crm.PropSingleChoice, Required: true,
				Options: []crm.Option{{Value: "smb", LabelEN: "SMB", LabelJA: "中小"}, {Value: "ent", LabelEN: "Enterprise", LabelJA: "大企業"}}},
		} {
			if _, err := f.crm.SaveProperty(ctx, f.admin, 0, p); err != nil {
				t.Fatal(err)
			}
		}
		old, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("old@example.jp"), FamilyName: ptr("山田"),
			Props: map[string]any{"budget": 5.0, "segment": "smb"}})
		if err != nil {
			t.Fatal(err)
		}
		data := "メール,予算,関心,メルマガ,面談日,セグメント\n" +
			"new@example.jp,\"１，２００\",顧客管理、MA,はい,令和6年4月1日,大企業\n" +
			"nosegment@example.jp,10,,,,\n" + // required property missing on a new contact
			"old@example.jp,,CRM,いいえ,,\n" + // existing contact: only the given properties change
			"badbool@example.jp,,,たぶん,,中小\n"
		im := f.importCSV(t, dataio.Contacts, data, dataio.ModeUpdate)
		if strings.Join(im.Mapping, ",") != "email,prop.budget,prop.interest,prop.newsletter,prop.met_on,prop.segment" {
			t.Fatalf("mapping %q", im.Mapping)
		}
		if counts(im) != "created 1 updated 1 skipped 0 failed 2" {
			t.Fatalf("%s", counts(im))
		}
		n, _ := f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "new@example.jp")
		want := map[string]any{"budget": 1200.0, "interest": []any{"crm", "ma"}, "newsletter": true, "met_on": "2024-04-01", "segment": "ent"}
		if fmt.Sprint(n.Props) != fmt.Sprint(want) {
			t.Errorf("new contact's props = %v, want %v", n.Props, want)
		}
		o, _ := f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
		if fmt.Sprint(o.Props) != fmt.Sprint(map[string]any{"budget": 5.0, "interest": []any{"crm"}, "newsletter": false, "segment": "smb"}) {
			t.Errorf("updated props = %v", o.Props)
		}
		var buf bytes.Buffer
		_ = f.io.ErrorsCSV(ctx, &buf, 1, im.ID, "en")
		if !strings.Contains(buf.String(), "3,prop.segment,is required") || !strings.Contains(buf.String(), "5,prop.newsletter,") {
			t.Errorf("errors:\n%s", buf.String())
		}
		if _, err := f.io.Undo(ctx, f.admin, im.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.io.RunUndo(ctx, 1, im.ID); err != nil {
			t.Fatal(err)
		}
		o, _ = f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
		if fmt.Sprint(o.Props) != fmt.Sprint(map[string]any{"budget": 5.0, "segment": "smb"}) {
			t.Errorf("props after undo = %v", o.Props)
		}
	})
}

func TestImport_DraftsCanBeDeletedAndOldOnesArePruned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		a, err := f.io.Create(ctx, f.admin, dataio.Contacts, "a.csv", strings.NewReader(bigCSV(5)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.io.Create(ctx, f.admin, dataio.Contacts, "b.csv", strings.NewReader(bigCSV(5)))
		if err != nil {
			t.Fatal(err)
		}
		started := f.load(t, dataio.Contacts, bigCSV(5), dataio.ModeUpdate)
		if err := f.io.DeleteDraft(ctx, f.admin, started.ID); err == nil {
			t.Error("a started import was deleted")
		}
		if err := f.io.DeleteDraft(ctx, f.admin, a.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(25 * time.Hour)
		if n, err := f.io.PruneDrafts(ctx, 24*time.Hour); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		if _, err := f.io.Get(ctx, d.Reader(), 1, b.ID); err == nil {
			t.Error("the old draft is still there")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM imports`); n != 1 {
			t.Errorf("%d imports left, want the started one", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM import_chunks WHERE import_id <> ?`, started.ID); n != 0 {
			t.Errorf("%d chunks of deleted drafts left", n)
		}
	})
}

func TestImport_LongImportsRunInSlicesSoOtherJobsGetTurns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		jobs := platform.NewJobs(d, f.clock, nil)
		f.io.Register(jobs)
		f.io.Slice = time.Nanosecond // every batch ends a slice
		im := f.load(t, dataio.Contacts, bigCSV(1000), dataio.ModeUpdate)
		if _, err := jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		im, _ = f.io.Get(ctx, d.Reader(), 1, im.ID)
		if im.Status != dataio.StatusDone || im.Created != 1000 || im.Failed != 10 {
			t.Fatalf("%s %s", im.Status, counts(im))
		}
		if n := count(t, d, `SELECT COUNT(*) FROM jobs WHERE kind = 'import.run' AND status = 'done'`); n < 2 {
			t.Errorf("%d import jobs: the import did not hand over between slices", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM contacts`); n != 1000 {
			t.Errorf("%d contacts", n)
		}
	})
}

// A large import on PostgreSQL refreshes the planner's statistics of the
// tables it wrote when it ends (autovacuum's come minutes later); a small one
// leaves that to autovacuum, and a table it did not write is left alone.
// SQLite: nothing to check.
func TestImport_ALargeImportRefreshesPostgreSQLsStatistics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Dialect != db.Postgres {
			t.Skip("PostgreSQL only")
		}
		analyzed := func(table string) bool {
			t.Helper()
			var at *time.Time
			if err := d.Reader().QueryRowContext(context.Background(),
				`SELECT last_analyze FROM pg_stat_user_tables WHERE relname = ?`, table).Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at != nil
		}
		f := setup(t, d)
		f.io.AnalyzeAfter = 50
		f.importCSV(t, dataio.Contacts, bigCSV(20), dataio.ModeUpdate)
		if analyzed("contacts") {
			t.Fatal("an import of 20 rows refreshed the statistics; want that left to autovacuum")
		}
		f.importCSV(t, dataio.Contacts, bigCSV(60), dataio.ModeUpdate)
		for _, table := range []string{"contacts", "lifecycle_history"} {
			if !analyzed(table) {
				t.Errorf("%s: no ANALYZE after an import of 60 rows, want one", table)
			}
		}
		// Its companies were all created by the first import.
		if analyzed("companies") {
			t.Error("companies: analyzed after an import that created none")
		}
	})
}
