package dataio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// withPipeline gives the workspace its default Japanese pipeline
// (初回接触, デモ, 提案・見積, 価格交渉, 受注 = won, 失注 = lost).
func withPipeline(t *testing.T, f fixture) {
	t.Helper()
	if err := f.crm.EnsureDefaults(context.Background(), 1, "ja"); err != nil {
		t.Fatal(err)
	}
}

type dealRow struct {
	ID, Company, Owner   int64
	Name, Stage, Status  string
	Amount               int64
	Currency, Close, Ext string
	ClosedAt             *int64
	Contacts             int
	Type, Lost, Interval string
	Recurring            int64
}

func dealByExt(t *testing.T, d *db.DB, ext string) dealRow {
	t.Helper()
	var r dealRow
	err := d.Reader().QueryRowContext(context.Background(), `SELECT d.id, COALESCE(d.company_id, 0), COALESCE(d.owner_id, 0), d.name,
		s.name, d.status, d.amount, d.currency, COALESCE(d.close_date, ''), d.external_id, d.closed_at, d.deal_type, d.lost_reason,
		d.recurring_interval, d.recurring_amount,
		(SELECT COUNT(*) FROM deal_contacts dc WHERE dc.deal_id = d.id)
		FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.external_id = ?`, ext).Scan(&r.ID, &r.Company, &r.Owner,
		&r.Name, &r.Stage, &r.Status, &r.Amount, &r.Currency, &r.Close, &r.Ext, &r.ClosedAt, &r.Type, &r.Lost, &r.Interval, &r.Recurring, &r.Contacts)
	if err != nil {
		t.Fatalf("deal %s: %v", ext, err)
	}
	return r
}

// totalsMatch checks the deal board's running totals against the deals.
func totalsMatch(t *testing.T, d *db.DB) {
	t.Helper()
	want := count(t, d, `SELECT COUNT(*) FROM deals WHERE status = 'open'`)
	got := count(t, d, `SELECT COALESCE(SUM(deal_count), 0) FROM deal_stage_totals`)
	wantAmt := count(t, d, `SELECT COALESCE(SUM(amount), 0) FROM deals WHERE status = 'open'`)
	gotAmt := count(t, d, `SELECT COALESCE(SUM(amount), 0) FROM deal_stage_totals`)
	if got != want || gotAmt != wantAmt {
		t.Errorf("board totals: %d deals %d yen, deals table: %d deals %d yen", got, gotAmt, want, wantAmt)
	}
}

const dealsCSV = "外部ID,案件名,金額,ステージ,完了予定日,担当者,会社名,メールアドレス,種別,失注理由\n" +
	"D-1,大型案件,\"¥1,200,000\",デモ,2024/4/1,admin@example.com,株式会社テスト,old@example.jp,新規,\n" + // 2: new company
	"D-2,受注案件,\"３，０００，０００円\",Closed Won,令和6年4月1日,,既存商事,\"a@x.jp; 山田 <OLD@example.jp>\",upsell,\n" + // 3: won
	"D-3,金額不正,abc,デモ,,,,,,\n" + // 4: bad amount
	"D-4,ステージ不正,100,存在しない,,,,,,\n" + // 5: bad stage
	"D-5,失注案件,500,失注,45383,,,,,\n" + // 6: lost without a reason
	"D-6,,100,デモ,,,,,,\n" + // 7: no name
	"D-1,大型案件,\"1,500,000\",,,,,,,\n" + // 8: the same external id again: its values win
	"D-7,失注2,500,closedlost,45383,,,,renewal,価格\n" // 9: lost with a reason, Excel date

func TestImportDeals_GoodRowsInBadRowsReportedByLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		withPipeline(t, f)
		ctx := context.Background()
		old, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("old@example.jp"), FamilyName: ptr("山田")})
		if err != nil {
			t.Fatal(err)
		}
		co, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("既存商事株式会社")})
		if err != nil {
			t.Fatal(err)
		}
		im := f.importCSV(t, dataio.Deals, dealsCSV, dataio.ModeUpdate)
		if got := counts(im); got != "created 3 updated 1 skipped 0 failed 4" || im.CompaniesCreated != 1 || im.Status != dataio.StatusDone {
			t.Fatalf("%s, %d companies, %s", got, im.CompaniesCreated, im.Status)
		}
		d1 := dealByExt(t, d, "D-1")
		if d1.Name != "大型案件" || d1.Amount != 1500000 || d1.Currency != "JPY" || d1.Stage != "デモ" || d1.Status != "open" ||
			d1.Close != "2024-04-01" || d1.ClosedAt != nil || d1.Owner != f.admin.UserID || d1.Company == 0 || d1.Company == co.ID || d1.Contacts != 1 {
			t.Errorf("D-1 = %+v", d1)
		}
		d2 := dealByExt(t, d, "D-2")
		w, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		if d2.Status != "won" || d2.Stage != "受注" || d2.Amount != 3000000 || d2.Company != co.ID || d2.Contacts != 1 || d2.Type != "upsell" ||
			d2.ClosedAt == nil || !time.UnixMilli(*d2.ClosedAt).Equal(time.Date(2024, 4, 1, 0, 0, 0, 0, w.Location())) || d2.Close != "2024-04-01" {
			t.Errorf("D-2 = %+v", d2)
		}
		d7 := dealByExt(t, d, "D-7")
		if d7.Status != "lost" || d7.Lost != "価格" || d7.Close != "2024-04-01" || d7.Type != "renewal" {
			t.Errorf("D-7 = %+v", d7)
		}
		// The contact of the won deal became a customer, as crm moves it.
		c, _ := f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
		if c.LifecycleStage != platform.StageCustomer {
			t.Errorf("linked contact's stage = %s", c.LifecycleStage)
		}
		totalsMatch(t, d)
		var buf bytes.Buffer
		if err := f.io.ErrorsCSV(ctx, &buf, 1, im.ID, "en"); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{"\n4,amount,", "\n5,stage,", "\n6,lost_reason,", "\n7,name,"} {
			if !strings.Contains(out, want) {
				t.Errorf("error CSV lacks %q:\n%s", want, out)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE kind = 'import.done'`); n != 1 {
			t.Errorf("%d timeline entries", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline WHERE kind = 'deal.created'`); n != 0 {
			t.Errorf("%d per-deal timeline entries, want only the summary", n)
		}
		// Importing the file again: create mode refuses the known ids, skip mode skips them.
		again := f.importCSV(t, dataio.Deals, dealsCSV, dataio.ModeCreate)
		if got := counts(again); got != "created 0 updated 0 skipped 0 failed 8" {
			t.Errorf("again, create mode: %s", got)
		}
		again = f.importCSV(t, dataio.Deals, dealsCSV, dataio.ModeSkip)
		if got := counts(again); got != "created 0 updated 0 skipped 4 failed 4" {
			t.Errorf("again, skip mode: %s", got)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM deals`); n != 3 {
			t.Errorf("%d deals", n)
		}
	})
}

func TestImportDeals_UndoDeletesDealsAndCompaniesAndRestoresContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		withPipeline(t, f)
		ctx := context.Background()
		old, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("old@example.jp"), FamilyName: ptr("山田")})
		if err != nil {
			t.Fatal(err)
		}
		mine, err := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("手で作った案件"), Amount: ptr(1000.0)})
		if err != nil {
			t.Fatal(err)
		}
		im := f.importCSV(t, dataio.Deals, dealsCSV, dataio.ModeUpdate)
		if im.Created != 3 {
			t.Fatalf("%s", counts(im))
		}
		if _, err := f.io.Undo(ctx, f.admin, im.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.io.RunUndo(ctx, 1, im.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM deals`); n != 1 {
			t.Errorf("%d deals left, want the one made by hand", n)
		}
		if _, err := f.crm.GetDeal(ctx, d.Reader(), f.admin, mine.ID); err != nil {
			t.Error(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies`); n != 0 {
			t.Errorf("%d companies left", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM deal_contacts`); n != 0 {
			t.Errorf("%d deal contacts left", n)
		}
		c, _ := f.crm.GetContact(ctx, d.Reader(), f.admin, old.ID)
		if c.LifecycleStage != platform.StageLead {
			t.Errorf("contact's stage after undo = %s", c.LifecycleStage)
		}
		totalsMatch(t, d)
		im, _ = f.io.Get(ctx, d.Reader(), 1, im.ID)
		if im.Status != dataio.StatusUndone {
			t.Errorf("status %s", im.Status)
		}
	})
}

func bigDealsCSV(n int) string {
	var b strings.Builder
	b.WriteString("Record ID,Deal Name,Amount,Deal Stage,Close Date,Associated Company\n")
	for i := 1; i <= n; i++ {
		stage := []string{"初回接触", "デモ", "受注", "提案・見積"}[i%4]
		fmt.Fprintf(&b, "%d,案件%d,\"%d,000\",%s,2024-05-%02d,会社%d\n", i, i, i, stage, i%28+1, i%7)
		if i%100 == 0 {
			b.WriteString("x,壊れた行,-5,デモ,,\n")
		}
	}
	return b.String()
}

func TestImportDeals_ResumesAfterACrashWithEveryRowExactlyOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		withPipeline(t, f)
		ctx := context.Background()
		im := f.load(t, dataio.Deals, bigDealsCSV(1000), dataio.ModeUpdate)
		if im.Preset != "hubspot" {
			t.Errorf("preset %q", im.Preset)
		}
		err := f.io.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101, StopAfterBatches: 3})
		if !errors.Is(err, dataio.ErrStopped) {
			t.Fatalf("run 1: %v", err)
		}
		other := dataio.New(d, f.clock, f.crm, nil)
		if err := other.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101}); err == nil {
			t.Fatal("a second worker ran the import while the first one's lease was live")
		}
		f.clock.Advance(3 * time.Minute)
		if err := other.Run(ctx, 1, im.ID, dataio.RunOptions{BatchRows: 101}); err != nil {
			t.Fatal(err)
		}
		done, _ := f.io.Get(ctx, d.Reader(), 1, im.ID)
		if done.Status != dataio.StatusDone || counts(done) != "created 1000 updated 0 skipped 0 failed 10" || done.CompaniesCreated != 7 {
			t.Fatalf("done: %s %s companies %d", done.Status, counts(done), done.CompaniesCreated)
		}
		if n := count(t, d, `SELECT COUNT(DISTINCT external_id) FROM deals`); n != 1000 {
			t.Errorf("%d distinct deals", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM deals`); n != 1000 {
			t.Errorf("%d deals, want 1000", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM deals WHERE status = 'won'`); n != 250 {
			t.Errorf("%d won deals", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies`); n != 7 {
			t.Errorf("%d companies", n)
		}
		totalsMatch(t, d)
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'import'`); n != 1 {
			t.Errorf("%d audit entries", n)
		}
	})
}

func TestImportDeals_PresetsMapHubSpotAndSalesforceHeaders(t *testing.T) {
	cases := []struct {
		name, preset string
		header       []string
		want         []string
	}{
		{"hubspot", "hubspot",
			[]string{"Record ID", "Deal Name", "Deal Stage", "Close Date", "Pipeline", "Deal owner", "Amount", "Associated Company", "Deal Type", "Closed Lost Reason", "Associated Company IDs"},
			[]string{"external_id", "name", "stage", "close_date", "pipeline", "owner", "amount", "company_name", "type", "lost_reason", ""}},
		{"salesforce report", "salesforce",
			[]string{"Opportunity Name", "Account Name", "Amount", "Stage", "Close Date", "Opportunity Owner", "Type", "Probability (%)", "Opportunity ID"},
			[]string{"name", "company_name", "amount", "stage", "close_date", "owner", "type", "", "external_id"}},
		{"salesforce api", "salesforce",
			[]string{"Id", "Name", "AccountId", "Amount", "StageName", "CloseDate", "Owner.Email"},
			[]string{"external_id", "name", "", "amount", "stage", "close_date", "owner"}},
		{"japanese", "",
			[]string{"案件名", "金額", "フェーズ", "受注予定日", "取引先名", "担当者", "メールアドレス"},
			[]string{"name", "amount", "stage", "close_date", "company_name", "owner", "contact_emails"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if p := dataio.DetectPresetFor(dataio.Deals, c.header); p != c.preset {
				t.Errorf("preset %q, want %q", p, c.preset)
			}
			got := dataio.Guess(dataio.Deals, c.header, "")
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("guess\n got %q\nwant %q", got, c.want)
			}
		})
	}
	// A HubSpot contact export is still read as contacts.
	if got := dataio.Guess(dataio.Contacts, []string{"Record ID", "First Name", "Last Name", "Email"}, ""); strings.Join(got, ",") != ",given_name,family_name,email" {
		t.Errorf("contacts guess %q", got)
	}
}

func TestImportDeals_ShiftJISFileWithPipelineByName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		withPipeline(t, f)
		ctx := context.Background()
		_, err := f.crm.SavePipeline(ctx, f.admin, 0, crm.PipelineInput{Name: "更新案件", Stages: []crm.PipelineStage{
			{Name: "更新確認", Probability: 50}, {Name: "更新済み", Kind: "won"}, {Name: "解約", Kind: "lost"}}})
		if err != nil {
			t.Fatal(err)
		}
		text := "案件名,パイプライン,ステージ,金額,通貨,継続金額,継続間隔,完了予定日\r\n" +
			"保守更新,更新案件,受注,\"１２，０００\",円,1000,月額,2025年3月31日\r\n" +
			"年間契約,更新案件,更新確認,50000,USD,600,年,R7.3.31\r\n" +
			"不明,存在しないパイプライン,,1,,,,\r\n" +
			"継続,更新案件,,1,,1000,,\r\n"
		sjis, err := japanese.ShiftJIS.NewEncoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		im := f.importCSV(t, dataio.Deals, sjis, dataio.ModeUpdate)
		if im.Encoding != dataio.ShiftJIS || counts(im) != "created 2 updated 0 skipped 0 failed 2" {
			t.Fatalf("%s %s", im.Encoding, counts(im))
		}
		var status, stage, cur, interval, closeDate string
		var amount, rec int64
		err = d.Reader().QueryRowContext(ctx, `SELECT d.status, s.name, d.currency, d.amount, d.recurring_amount, d.recurring_interval, d.close_date
			FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.name = '保守更新'`).Scan(&status, &stage, &cur, &amount, &rec, &interval, &closeDate)
		if err != nil || status != "won" || stage != "更新済み" || cur != "JPY" || amount != 12000 || rec != 1000 || interval != "month" || closeDate != "2025-03-31" {
			t.Errorf("保守更新: %s %s %s %d %d %s %s %v", status, stage, cur, amount, rec, interval, closeDate, err)
		}
		err = d.Reader().QueryRowContext(ctx, `SELECT d.currency, d.amount, d.recurring_interval FROM deals d WHERE d.name = '年間契約'`).Scan(&cur, &amount, &interval)
		if err != nil || cur != "USD" || amount != 5000000 || interval != "year" {
			t.Errorf("年間契約: %s %d %s %v", cur, amount, interval, err)
		}
		totalsMatch(t, d)
	})
}

func TestImportDeals_UpdateModeChangesFieldsNotStagesAndUndoRestores(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		withPipeline(t, f)
		ctx := context.Background()
		first := f.importCSV(t, dataio.Deals, dealsCSV, dataio.ModeUpdate)
		if first.Created != 3 {
			t.Fatalf("%s", counts(first))
		}
		data := "外部ID,案件名,金額,ステージ,種別,会社名\n" +
			"D-1,大型案件（改）,\"2,000,000\",受注,upsell,別会社\n" + // the stage is not moved by an import
			"D-2,受注案件,\"3,500,000\",,,\n" +
			"D-9,新規,10,,,\n"
		im := f.importCSV(t, dataio.Deals, data, dataio.ModeUpdate)
		if got := counts(im); got != "created 1 updated 2 skipped 0 failed 0" || im.CompaniesCreated != 1 {
			t.Fatalf("%s, %d companies", got, im.CompaniesCreated)
		}
		d1 := dealByExt(t, d, "D-1")
		if d1.Name != "大型案件（改）" || d1.Amount != 2000000 || d1.Stage != "デモ" || d1.Status != "open" || d1.Type != "upsell" {
			t.Errorf("updated D-1 = %+v", d1)
		}
		if d2 := dealByExt(t, d, "D-2"); d2.Amount != 3500000 || d2.Status != "won" {
			t.Errorf("updated D-2 = %+v", d2)
		}
		totalsMatch(t, d)
		if n := count(t, d, `SELECT COUNT(*) FROM deals WHERE search_text = ?`, crm.DealSearchText("大型案件（改）")); n != 1 {
			t.Errorf("%d deals have the new name's search text", n)
		}
		if _, err := f.io.Undo(ctx, f.admin, im.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.io.RunUndo(ctx, 1, im.ID); err != nil {
			t.Fatal(err)
		}
		d1 = dealByExt(t, d, "D-1")
		if d1.Name != "大型案件" || d1.Amount != 1500000 || d1.Type != "new" {
			t.Errorf("restored D-1 = %+v", d1)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM companies WHERE name = '別会社'`); n != 0 {
			t.Errorf("the company the update created is still there")
		}
		if d1.Company == 0 {
			t.Errorf("restored D-1 lost its company")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM deals`); n != 3 {
			t.Errorf("%d deals after undo", n)
		}
		totalsMatch(t, d)
	})
}

func TestImportDeals_CustomDealPropertiesByType(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		withPipeline(t, f)
		ctx := context.Background()
		for _, p := range []crm.PropertyDefinition{
			{ObjectType: "deal", Key: "licenses", LabelEN: "Licenses", LabelJA: "ライセンス数", Type: crm.PropNumber},
			{ObjectType: "deal", Key: "channel", LabelEN: "Channel", LabelJA: "販路", Type: crm.PropSingleChoice,
				Options: []crm.Option{{Value: "direct", LabelEN: "Direct", LabelJA: "直販"}, {Value: "partner", LabelEN: "Partner", LabelJA: "代理店"}}},
		} {
			if _, err := f.crm.SaveProperty(ctx, f.admin, 0, p); err != nil {
				t.Fatal(err)
			}
		}
		data := "案件名,ライセンス数,販路\n年間契約,\"１，２００\",代理店\n不正,10,通販\n"
		im := f.importCSV(t, dataio.Deals, data, dataio.ModeUpdate)
		if strings.Join(im.Mapping, ",") != "name,prop.licenses,prop.channel" || counts(im) != "created 1 updated 0 skipped 0 failed 1" {
			t.Fatalf("%q %s", im.Mapping, counts(im))
		}
		var id int64
		if err := d.Reader().QueryRowContext(ctx, `SELECT id FROM deals WHERE name = '年間契約'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		deal, err := f.crm.GetDeal(ctx, d.Reader(), f.admin, id)
		if err != nil || deal.Props["licenses"] != 1200.0 || deal.Props["channel"] != "partner" {
			t.Errorf("props = %v, %v", deal.Props, err)
		}
	})
}
