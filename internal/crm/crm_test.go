package crm_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

// fixture is a migrated database with a workspace, an admin and a sales rep.
type fixture struct {
	db    *db.DB
	clock *clock.Fake
	crm   *crm.Service
	admin platform.Actor
	rep   platform.Actor
}

func setup(t *testing.T, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, 1, "Test", t0); err != nil {
		t.Fatal(err)
	}
	cli := platform.CLI(1)
	admin, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "admin@example.com", Name: "Admin", Role: platform.RoleAdmin}, t0)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := platform.CreateUser(ctx, d, cli, platform.NewUser{Email: "rep@example.com", Name: "Rep", Role: platform.RoleSales}, t0)
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(t0)
	return fixture{db: d, clock: fc, crm: crm.New(d, fc), admin: admin.Actor(1, platform.ActorUser), rep: rep.Actor(1, platform.ActorUser)}
}

func ptr[T any](v T) *T { return &v }

func TestContacts_CreateGetUpdateRecordsLifecycleAndAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		co, err := f.crm.CreateCompany(ctx, f.admin, crm.CompanyInput{Name: ptr("株式会社ＡＢＣ商事"), CorporateNumber: ptr("7000012050002")})
		if err != nil {
			t.Fatal(err)
		}
		if co.NameNormalized != "abc商事" {
			t.Errorf("normalized name = %q", co.NameNormalized)
		}
		c, err := f.crm.CreateContact(ctx, f.rep, crm.ContactInput{Email: ptr(" Taro.Yamada@Example.COM "), FamilyName: ptr("山田"),
			GivenName: ptr("太郎"), FamilyNameKana: ptr("ヤマダ"), CompanyID: &co.ID, OriginalChannel: ptr("organic_search")})
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "taro.yamada@example.com" || c.OwnerID != f.rep.UserID || c.LifecycleStage != platform.StageLead {
			t.Fatalf("created contact = %+v", c)
		}
		f.clock.Advance(time.Hour)
		c, err = f.crm.UpdateContact(ctx, f.admin, c.ID, crm.ContactInput{LifecycleStage: ptr(platform.StageMQL)}, platform.Cause{Kind: "rule", Ref: "test"})
		if err != nil {
			t.Fatal(err)
		}
		h, err := platform.LifecycleHistory(ctx, d.Reader(), 1, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 2 || h[1].From != platform.StageLead || h[1].To != platform.StageMQL || h[1].CauseKind != "rule" {
			t.Fatalf("history = %+v", h)
		}
		tl, err := platform.ListTimeline(ctx, d.Reader(), 1, platform.TimelineQuery{Subject: "contact", ID: c.ID})
		if err != nil || len(tl) != 3 || tl[0].Kind != "lifecycle.changed" {
			t.Fatalf("timeline = %+v, %v", tl, err)
		}
		audit, err := platform.ListAudit(ctx, d.Reader(), 1, platform.AuditFilter{ObjectType: "contact", ObjectID: c.ID})
		if err != nil || len(audit) != 2 || audit[0].Action != "update" {
			t.Fatalf("audit = %+v, %v", audit, err)
		}
	})
}

func TestContacts_DuplicateEmailConflictNamesExisting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("a@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("A@EXAMPLE.com")})
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Conflict || e.ExistingID != c.ID || e.Field != "email" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestContacts_InvalidReferencesAreRejected(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		cases := []struct {
			name  string
			in    crm.ContactInput
			kind  errs.Kind
			field string
		}{
			{"bad email", crm.ContactInput{Email: ptr("not-an-email")}, errs.Invalid, "email"},
			{"no name or email", crm.ContactInput{Title: ptr("CEO")}, errs.Invalid, "email"},
			{"unknown company", crm.ContactInput{Email: ptr("x@example.com"), CompanyID: ptr(int64(999))}, errs.Unprocessable, "company_id"},
			{"unknown owner", crm.ContactInput{Email: ptr("x@example.com"), OwnerID: ptr(int64(999))}, errs.Unprocessable, "owner_id"},
			{"unknown channel", crm.ContactInput{Email: ptr("x@example.com"), OriginalChannel: ptr("tv")}, errs.Unprocessable, "original_channel"},
			{"bad stage", crm.ContactInput{Email: ptr("x@example.com"), LifecycleStage: ptr(platform.Stage("hot"))}, errs.Invalid, "lifecycle_stage"},
			{"unknown prop", crm.ContactInput{Email: ptr("x@example.com"), Props: map[string]any{"nope": 1}}, errs.Invalid, "props.nope"},
		}
		for _, c := range cases {
			_, err := f.crm.CreateContact(ctx, f.admin, c.in)
			e, ok := errs.As(err)
			if !ok || e.Kind != c.kind || e.Field != c.field {
				t.Errorf("%s: err = %v, want %s on %s", c.name, err, c.kind, c.field)
			}
		}
		p, _ := f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{})
		if len(p.Items) != 0 {
			t.Errorf("failed creates left %d contacts", len(p.Items))
		}
	})
}

func TestContacts_ListFiltersSearchesAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.crm.SaveProperty(ctx, f.admin, 0, crm.PropertyDefinition{ObjectType: "contact", Key: "budget", LabelEN: "Budget", Type: crm.PropNumber}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.crm.SaveProperty(ctx, f.admin, 0, crm.PropertyDefinition{ObjectType: "contact", Key: "vip", LabelEN: "VIP", Type: crm.PropBool}); err != nil {
			t.Fatal(err)
		}
		names := []string{"田中", "佐藤", "鈴木", "高橋", "田村"}
		for i, n := range names {
			f.clock.Advance(time.Minute)
			owner := f.admin.UserID
			if i%2 == 0 {
				owner = f.rep.UserID
			}
			_, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{FamilyName: ptr(n), GivenName: ptr("花子"), OwnerID: &owner,
				Props: map[string]any{"budget": float64(i * 100), "vip": i == 3}})
			if err != nil {
				t.Fatal(err)
			}
		}
		check := func(name string, f2 crm.ContactFilter, want int) {
			t.Helper()
			p, err := f.crm.ListContacts(ctx, f.admin, f2)
			if err != nil || len(p.Items) != want {
				t.Errorf("%s: got %d items, %v; want %d", name, len(p.Items), err, want)
			}
		}
		check("all", crm.ContactFilter{}, 5)
		check("owner", crm.ContactFilter{OwnerID: f.rep.UserID}, 3)
		check("japanese partial", crm.ContactFilter{Q: "田"}, 2)
		check("full name", crm.ContactFilter{Q: "田中花子"}, 1)
		check("mid-string", crm.ContactFilter{Q: "中花子"}, 1)
		check("given name first", crm.ContactFilter{Q: "花子 佐藤"}, 1)
		check("no match", crm.ContactFilter{Q: "存在しない"}, 0)
		check("quotes are safe", crm.ContactFilter{Q: `"田中`}, 0)
		check("prop number", crm.ContactFilter{Props: map[string]string{"budget": "200"}}, 1)
		check("prop bool", crm.ContactFilter{Props: map[string]string{"vip": "true"}}, 1)
		check("stage", crm.ContactFilter{Stage: platform.StageLead}, 5)
		// Pages of two cover all five exactly once.
		seen := map[int64]bool{}
		cur := ""
		for i := 0; i < 5; i++ {
			p, err := f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{Sort: "-created_at", Limit: 2, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Items {
				if seen[c.ID] {
					t.Fatalf("contact %d seen twice", c.ID)
				}
				seen[c.ID] = true
			}
			if cur = p.NextCursor; cur == "" {
				break
			}
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %d contacts, want 5", len(seen))
		}
		// Sales limited to own records.
		own := f.rep
		own.OwnRecordsOnly = true
		p, _ := f.crm.ListContacts(ctx, own, crm.ContactFilter{})
		if len(p.Items) != 3 {
			t.Errorf("own-records list = %d, want 3", len(p.Items))
		}
	})
}

func TestNormalizeCompanyName_FoldsLegalFormsAndWidth(t *testing.T) {
	cases := map[string]string{
		"株式会社ＡＢＣ":          "abc",
		"ABC(株)":           "abc",
		"ＡＢＣ㈱":             "abc",
		"（株）ABC":           "abc",
		"ABC Co., Ltd.":    "abc",
		"Acme Inc.":        "acme",
		"ｱｸﾒ 株式会社":         "アクメ",
		"合同会社 Ryorin Labs": "ryorinlabs",
	}
	for in, want := range cases {
		if got := crm.NormalizeCompanyName(in); got != want {
			t.Errorf("NormalizeCompanyName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidCorporateNumber_ChecksCheckDigit(t *testing.T) {
	if !crm.ValidCorporateNumber("7000012050002") {
		t.Error("国税庁's number rejected")
	}
	if crm.ValidCorporateNumber("8000012050002") || crm.ValidCorporateNumber("700001205000") {
		t.Error("bad numbers accepted")
	}
}

func TestNormalizePhone_FoldsFullWidth(t *testing.T) {
	if got := crm.NormalizePhone("０３－１２３４－５６７８"); got != "0312345678" {
		t.Errorf("got %q", got)
	}
	if got := crm.NormalizePhone("+81 3-1234-5678"); got != "+81312345678" {
		t.Errorf("got %q", got)
	}
}

func TestDeals_StageTotalsStayInStepWithEveryWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if err := f.crm.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		p, err := f.crm.DefaultPipeline(ctx, d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := 0; i < 6; i++ {
			amt := float64(100000 * (i + 1))
			cur := "JPY"
			if i%3 == 2 {
				cur = "USD"
			}
			st := p.Stages[i%4].ID
			owner := f.admin.UserID
			if i%2 == 0 {
				owner = f.rep.UserID
			}
			dl, err := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("d"), Amount: &amt, Currency: &cur, StageID: &st, OwnerID: &owner})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, dl.ID)
		}
		won, lost := p.Stages[4].ID, p.Stages[5].ID
		steps := []crm.DealInput{
			{StageID: &p.Stages[2].ID},
			{Amount: ptr(777.0)},
			{OwnerID: &f.admin.UserID},
			{StageID: &won},
			{StageID: &lost, LostReason: ptr("価格")},
			{Currency: ptr("EUR")},
		}
		for i, in := range steps {
			if _, err := f.crm.UpdateDeal(ctx, f.admin, ids[i], in); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if _, err := f.crm.UpdateDeal(ctx, f.admin, ids[3], crm.DealInput{StageID: &p.Stages[1].ID}); err != nil { // reopen
			t.Fatal(err)
		}
		if err := f.crm.DeleteDeal(ctx, f.admin, ids[5]); err != nil {
			t.Fatal(err)
		}
		drift, err := f.crm.StageTotalsDrift(ctx, 1)
		if err != nil || len(drift) > 0 {
			t.Fatalf("running totals drifted: %v, %v", drift, err)
		}
		totals, err := f.crm.BoardTotals(ctx, f.admin, crm.DealFilter{PipelineID: p.ID})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tt := range totals {
			n += tt.Count
		}
		if n != 5 {
			t.Fatalf("board counts %d deals, want 5 (one deleted)", n)
		}
		own := f.rep
		own.OwnRecordsOnly = true
		mine, _ := f.crm.BoardTotals(ctx, own, crm.DealFilter{PipelineID: p.ID})
		m := 0
		for _, tt := range mine {
			m += tt.Count
		}
		if m == 0 || m >= n {
			t.Fatalf("own-records board counts %d of %d", m, n)
		}
	})
}

func TestDeals_AmountsOutsideTheRangeOrNotANumberAreRefusedByField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if err := f.crm.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			in    crm.DealInput
			field string
		}{
			{"NaN amount", crm.DealInput{Amount: ptr(math.NaN())}, "amount"},
			{"infinite amount", crm.DealInput{Amount: ptr(math.Inf(1))}, "amount"},
			{"negative amount", crm.DealInput{Amount: ptr(-1.0)}, "amount"},
			{"amount over 10^15", crm.DealInput{Amount: ptr(1e16)}, "amount"},
			{"NaN recurring amount", crm.DealInput{RecurringAmount: ptr(math.NaN()), RecurringInterval: ptr("month")}, "recurring_amount"},
		}
		for _, c := range cases {
			c.in.Name = ptr("d")
			_, err := f.crm.CreateDeal(ctx, f.admin, c.in)
			var fe *errs.Error
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("%s: got %v, want an error on field %q", c.name, err, c.field)
			}
		}
		if _, err := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("ok"), Amount: ptr(1e15)}); err != nil {
			t.Errorf("the largest allowed amount was refused: %v", err)
		}
	})
}

func TestContacts_PagingThroughTiesVisitsEveryContactOnceInOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var ids []int64
		for i := 0; i < 23; i++ {
			// Three names only, so the name order is mostly ties too.
			c, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{FamilyName: ptr([]string{"佐藤", "鈴木", "高橋"}[i%3]), GivenName: ptr("一郎")})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		// Five contacts get activity at two different times; the rest stay tied.
		for i, id := range []int64{ids[3], ids[7], ids[11], ids[15], ids[19]} {
			at := t0.Add(time.Duration(1+i%2) * time.Hour)
			if _, err := f.crm.LogActivity(ctx, f.admin, crm.ActivityInput{Kind: ptr("note"), Body: ptr("x"), ContactID: ptr(id), OccurredAt: &at}); err != nil {
				t.Fatal(err)
			}
		}
		for _, sort := range []string{"-last_activity_at", "name", "-created_at"} {
			all, err := f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{Sort: sort, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			var walked []int64
			cur := ""
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatalf("%s: paging does not end", sort)
				}
				p, err := f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{Sort: sort, Limit: 4, Cursor: cur})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range p.Items {
					walked = append(walked, c.ID)
				}
				if cur = p.NextCursor; cur == "" {
					break
				}
			}
			if len(all.Items) != 23 || len(walked) != len(all.Items) {
				t.Fatalf("%s: one page holds %d, pages of 4 walked %d, want 23", sort, len(all.Items), len(walked))
			}
			for i, c := range all.Items {
				if walked[i] != c.ID {
					t.Fatalf("%s: row %d is %d walking pages, %d in one page", sort, i, walked[i], c.ID)
				}
			}
		}
	})
}

func TestDeals_AnEditAgainstAnOldVersionIsRefusedAndSavesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if err := f.crm.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		dl, err := f.crm.CreateDeal(ctx, f.admin, crm.DealInput{Name: ptr("商談"), Amount: ptr(100000.0)})
		if err != nil {
			t.Fatal(err)
		}
		opened := dl.Version() // both reps open the form
		f.clock.Advance(time.Minute)
		if _, err := f.crm.UpdateDeal(ctx, f.rep, dl.ID, crm.DealInput{Amount: ptr(200000.0), IfVersion: &opened}); err != nil {
			t.Fatalf("the first save: %v", err)
		}
		f.clock.Advance(time.Minute)
		_, err = f.crm.UpdateDeal(ctx, f.admin, dl.ID, crm.DealInput{Name: ptr("上書き"), IfVersion: &opened})
		if e, ok := errs.As(err); !ok || e.Kind != errs.Conflict || e.Field != "version" {
			t.Fatalf("the second save against the old version: %v, want a conflict on version", err)
		}
		got, _ := f.crm.GetDeal(ctx, d.Reader(), f.admin, dl.ID)
		if got.Name != "商談" || got.Amount != 200000 {
			t.Errorf("after the refused save: %q %v, want the first save kept", got.Name, got.Amount)
		}
		now := got.Version()
		if _, err := f.crm.UpdateDeal(ctx, f.admin, dl.ID, crm.DealInput{Name: ptr("上書き"), IfVersion: &now}); err != nil {
			t.Errorf("a save against the current version: %v", err)
		}
	})
}

// Scores live in contact_scores (written by the lead scorer); every way of
// reading contacts carries them, and deleting a contact deletes its row.
func TestContacts_EveryReadCarriesScoresFromTheirOwnTable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		scored, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("scored@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		// Ten contacts between them, so a read of just these two is not a
		// run of ids (fillScores reads a run as one range).
		for i := range 10 {
			if _, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr(fmt.Sprintf("between%d@example.com", i))}); err != nil {
				t.Fatal(err)
			}
		}
		plain, err := f.crm.CreateContact(ctx, f.admin, crm.ContactInput{Email: ptr("plain@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, "test scores", func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO contact_scores (workspace_id, contact_id, fit_score, fit_grade, engagement_score, half_life_days, scored_at, scored_version)
				VALUES (1, ?, 45, 'B', 12.5, 14, ?, 1)`, scored.ID, db.Millis(t0))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		check := func(how string, c crm.Contact) {
			t.Helper()
			switch c.ID {
			case scored.ID:
				if c.Score.Fit != 45 || c.Score.FitGrade != "B" || c.Score.Engagement != 12.5 || c.Score.ScoredAt == nil || len(c.Score.Lines) != 0 {
					t.Errorf("%s: scored contact's score = %+v", how, c.Score)
				}
			case plain.ID:
				if c.Score.Fit != 0 || c.Score.FitGrade != "" || c.Score.ScoredAt != nil {
					t.Errorf("%s: unscored contact's score = %+v", how, c.Score)
				}
			}
		}
		got, err := f.crm.GetContact(ctx, d.Reader(), f.admin, scored.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("GetContact", got)
		got, err = f.crm.ContactByEmail(ctx, d.Reader(), f.admin, "scored@example.com")
		if err != nil {
			t.Fatal(err)
		}
		check("ContactByEmail", got)
		page, err := f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{})
		if err != nil || len(page.Items) != 12 {
			t.Fatalf("list = %+v, %v", page, err)
		}
		for _, c := range page.Items {
			check("ListContacts", c)
		}
		n := 0
		if err := f.crm.EachContact(ctx, f.admin, crm.ContactFilter{}, func(cs []crm.Contact) error {
			for _, c := range cs {
				check("EachContact", c)
				n++
			}
			return nil
		}); err != nil || n != 12 {
			t.Fatalf("each: %d contacts, %v", n, err)
		}
		byID, err := f.crm.ContactsByIDs(ctx, d.Reader(), 1, []int64{scored.ID, plain.ID})
		if err != nil || len(byID) != 2 {
			t.Fatalf("by ids = %v, %v", byID, err)
		}
		for _, c := range byID {
			check("ContactsByIDs", c)
		}
		// Two half-lives later, with no new events, every read shows the
		// engagement decayed (fit does not decay).
		f.clock.Advance(28 * 24 * time.Hour)
		got, err = f.crm.GetContact(ctx, d.Reader(), f.admin, scored.ID)
		if err != nil || got.Score.Engagement != 3.1 || got.Score.Fit != 45 {
			t.Errorf("score 28 days later = %+v, %v; want engagement 12.5/4 = 3.1, fit 45", got.Score, err)
		}
		page, err = f.crm.ListContacts(ctx, f.admin, crm.ContactFilter{})
		for _, c := range page.Items {
			if c.ID == scored.ID && c.Score.Engagement != 3.1 {
				t.Errorf("listed 28 days later: engagement %v, want 3.1 (%v)", c.Score.Engagement, err)
			}
		}
		if err := f.crm.DeleteContact(ctx, f.admin, scored.ID); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := d.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM contact_scores`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("scores rows after the delete: %d, %v", left, err)
		}
	})
}

func TestDecayedEngagement_HalvesPerHalfLifeAndMatchesTheSQLForm(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		e    float64
		age  time.Duration
		half int
		want float64
	}{
		{"no time passed", 40, 0, 14, 40},
		{"one half-life", 40, 14 * day, 14, 20},
		{"two half-lives", 40, 28 * day, 14, 10},
		{"half a half-life", 40, 7 * day, 14, 28.3},
		{"no half-life kept: no decay", 40, 100 * day, 0, 40},
		{"scored in the future: no growth", 40, -day, 14, 40},
		{"zero stays zero", 0, 10 * day, 14, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := crm.DecayedEngagement(tc.e, t0, tc.half, t0.Add(tc.age)); got != tc.want {
				t.Errorf("DecayedEngagement = %v, want %v", got, tc.want)
			}
		})
	}
	// The SQL form gives the same figures on both engines.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for _, tc := range []struct {
			e    float64
			age  time.Duration
			half int
		}{{40, 14 * day, 14}, {40, 7 * day, 14}, {73.4, 3 * day, 30}, {40, 100 * day, 0}, {40, -day, 14}} {
			var got float64
			err := d.Reader().QueryRowContext(ctx, `SELECT `+crm.EngagementSQL("s", t0.Add(tc.age))+
				` FROM (SELECT CAST(? AS DOUBLE PRECISION) AS engagement_score, CAST(? AS INTEGER) AS half_life_days, CAST(? AS BIGINT) AS scored_at) s`,
				tc.e, tc.half, db.Millis(t0)).Scan(&got)
			if want := crm.DecayedEngagement(tc.e, t0, tc.half, t0.Add(tc.age)); err != nil || math.Abs(got-want) > 1e-9 {
				t.Errorf("SQL decay of %v after %v (half-life %d) = %v, %v; want %v", tc.e, tc.age, tc.half, got, err, want)
			}
		}
	})
}
