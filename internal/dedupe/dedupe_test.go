package dedupe_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/dedupe"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestDedupe_FindMergeAndUndoTwoContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		if err := cs.EnsureDefaults(ctx, 1, "ja"); err != nil {
			t.Fatal(err)
		}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		sys := platform.System(1)
		co, _ := cs.CreateCompany(ctx, sys, crm.CompanyInput{Name: new("株式会社ひかり")})
		kept, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new("taro@hikari.example.jp"), FamilyName: new("山田"), GivenName: new("太郎"),
			CompanyID: &co.ID, Phone: new("03-1234-5678")})
		if err != nil {
			t.Fatal(err)
		}
		removed, err := cs.CreateContact(ctx, sys, crm.ContactInput{Email: new("t.yamada@gmail.example.com"), FamilyName: new("山田"), GivenName: new("太郎"),
			CompanyID: &co.ID, Phone: new("０３－１２３４－５６７８"), Title: new("部長")})
		if err != nil {
			t.Fatal(err)
		}
		svc := &dedupe.Service{DB: d, Clock: fc}
		groups, err := svc.Duplicates(ctx, d.Reader(), 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[string]bool{}
		for _, g := range groups {
			if g.Object == "contact" && len(g.IDs) == 2 {
				reasons[g.Reason] = true
			}
		}
		if !reasons["phone"] || !reasons["name_company"] {
			t.Fatalf("duplicates found: %+v", groups)
		}
		var evs []platform.EventInput
		for i := range 1500 { // more than one move batch
			evs = append(evs, platform.EventInput{ID: fmt.Sprintf("e%d", i), Kind: "page_view", ContactID: removed.ID})
		}
		evs[7].Kind = "email_click" // a re-engagement signal: the kept contact's once merged
		if _, err := platform.IngestEvents(ctx, d, sys, evs[:1000], t0); err != nil {
			t.Fatal(err)
		}
		if _, err := platform.IngestEvents(ctx, d, sys, evs[1000:], t0); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.LogActivity(ctx, admin, crm.ActivityInput{Kind: new("call"), ContactID: &removed.ID}); err != nil {
			t.Fatal(err)
		}
		both, _ := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("共通"), Contacts: &[]crm.DealContact{{ContactID: kept.ID}, {ContactID: removed.ID, Role: "user"}}})
		only, _ := cs.CreateDeal(ctx, sys, crm.DealInput{Name: new("片方"), Contacts: &[]crm.DealContact{{ContactID: removed.ID, Role: "decision_maker"}}})
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO contact_lists (workspace_id, name, created_at, updated_at) VALUES (1, '展示会', 0, 0)`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO customer_issues (workspace_id, subject, contact_id, created_at, updated_at) VALUES (1, '不具合', ?, 0, 0)`, removed.ID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO list_members (workspace_id, list_id, contact_id, added_at) SELECT 1, id, ?, 0 FROM contact_lists`, removed.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.MergeRecords(ctx, platform.Actor{WorkspaceID: 1, Role: platform.RoleSales, Kind: platform.ActorUser}, "contact", kept.ID, removed.ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a rep merged: %v", err)
		}
		m, err := svc.MergeRecords(ctx, admin, "contact", kept.ID, removed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Moved["events"] != 1500 || m.Moved["activities"] != 1 || m.Moved["deal_contacts"] != 2 || m.Moved["customer_issues"] != 1 {
			t.Fatalf("moved: %+v", m.Moved)
		}
		count := func(q string, args ...any) int {
			var n int
			if err := d.Reader().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT COUNT(*) FROM events WHERE contact_id = ?`, kept.ID); n != 1500 {
			t.Fatalf("kept has %d events", n)
		}
		if _, err := cs.GetContact(ctx, d.Reader(), admin, removed.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("the removed contact remains: %v", err)
		}
		k, _ := cs.GetContact(ctx, d.Reader(), admin, kept.ID)
		if k.Title != "部長" || k.Email != "taro@hikari.example.jp" {
			t.Fatalf("kept after the merge: title %q email %q", k.Title, k.Email)
		}
		dl, _ := cs.GetDeal(ctx, d.Reader(), admin, only.ID)
		if len(dl.Contacts) != 1 || dl.Contacts[0].ContactID != kept.ID || dl.Contacts[0].Role != "decision_maker" {
			t.Fatalf("deal link: %+v", dl.Contacts)
		}
		if n := count(`SELECT COUNT(*) FROM list_members WHERE contact_id = ?`, kept.ID); n != 1 {
			t.Fatalf("the list membership did not follow: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM contact_signals WHERE contact_id = ?`, kept.ID); n != 1 {
			t.Fatalf("the removed contact's signal did not follow: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM timeline WHERE contact_id = ? AND kind = 'contact.merged'`, kept.ID); n != 1 {
			t.Fatalf("merge on the timeline: %d", n)
		}
		// Undo brings everything back.
		fc.Advance(24 * time.Hour)
		if err := svc.Undo(ctx, admin, m.ID); err != nil {
			t.Fatal(err)
		}
		r, err := cs.GetContact(ctx, d.Reader(), admin, removed.ID)
		if err != nil || r.Email != "t.yamada@gmail.example.com" || r.Title != "部長" {
			t.Fatalf("restored: %+v %v", r, err)
		}
		if n := count(`SELECT COUNT(*) FROM events WHERE contact_id = ?`, removed.ID); n != 1500 {
			t.Fatalf("events back: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM contact_signals WHERE contact_id IN (?, ?)`, kept.ID, removed.ID); n != 1 ||
			count(`SELECT COUNT(*) FROM contact_signals WHERE contact_id = ?`, removed.ID) != 1 {
			t.Fatalf("the signal did not go back to the restored contact: %d rows", n)
		}
		if n := count(`SELECT COUNT(*) FROM customer_issues WHERE contact_id = ?`, removed.ID); n != 1 {
			t.Fatalf("customer issue back: %d", n)
		}
		k, _ = cs.GetContact(ctx, d.Reader(), admin, kept.ID)
		if k.Title != "" {
			t.Fatalf("kept's title not restored: %q", k.Title)
		}
		bd, _ := cs.GetDeal(ctx, d.Reader(), admin, both.ID)
		if len(bd.Contacts) != 2 {
			t.Fatalf("the shared deal's links: %+v", bd.Contacts)
		}
		if err := svc.Undo(ctx, admin, m.ID); !errs.Is(err, errs.Unprocessable) {
			t.Fatalf("undo twice: %v", err)
		}
	})
}
