package privacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/privacy"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestPrivacy_ExportHoldsEverythingAndEraseLeavesOnlyCounts(t *testing.T) {
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
		admin, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "admin@example.com", Name: "管理者", Role: platform.RoleAdmin}, t0)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := platform.CreateUser(ctx, d, platform.CLI(1), platform.NewUser{Email: "rep@example.com", Name: "営業", Role: platform.RoleSales}, t0)
		if err != nil {
			t.Fatal(err)
		}
		a := admin.Actor(1, platform.ActorUser)
		granted := "granted"
		person, err := cs.CreateContact(ctx, a, crm.ContactInput{Email: new("hanako@example.jp"), FamilyName: new("山田"), GivenName: new("花子"),
			ConsentEmail: &granted, ConsentSource: new("import")})
		if err != nil {
			t.Fatal(err)
		}
		other, err := cs.CreateContact(ctx, a, crm.ContactInput{Email: new("other@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		var evs []platform.EventInput
		for i := range 4500 { // more than two erase batches
			evs = append(evs, platform.EventInput{ID: fmt.Sprintf("e%d", i), Kind: "page_view", ContactID: person.ID, URL: "https://x.example/pricing"})
		}
		evs = append(evs, platform.EventInput{ID: "o1", Kind: "page_view", ContactID: other.ID})
		for i := 0; i < len(evs); i += 1000 {
			if _, err := platform.IngestEvents(ctx, d, platform.System(1), evs[i:min(i+1000, len(evs))], t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := cs.LogActivity(ctx, a, crm.ActivityInput{Kind: new("call"), ContactID: &person.ID, Subject: new("初回ヒアリング")}); err != nil {
			t.Fatal(err)
		}
		deal, err := cs.CreateDeal(ctx, a, crm.DealInput{Name: new("案件"), Contacts: &[]crm.DealContact{{ContactID: person.ID}, {ContactID: other.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		// A message to each: its body (a table of its own) is exported and
		// erased with it; the other's stays.
		m := &platform.Mailer{DB: d, Clock: fc}
		if err := d.Write(ctx, "test.queue", func(tx *db.Tx) error {
			for _, to := range []string{"hanako@example.jp", "other@example.jp"} {
				if _, err := m.Queue(ctx, tx, 1, platform.OutboundMessage{Kind: "campaign", To: to, Subject: "ご案内",
					Text: "本文 for " + to, Headers: map[string]string{"List-Unsubscribe": "<https://x.example/u>"}}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		svc := &privacy.Service{DB: d, CRM: cs, Clock: fc}
		if _, err := svc.ExportContact(ctx, rep.Actor(1, platform.ActorUser), person.ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a rep exported personal data: %v", err)
		}
		ex, err := svc.ExportContact(ctx, a, person.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ex)
		for _, want := range []string{"hanako@example.jp", "初回ヒアリング", `"events"`, `"timeline"`, `"deal_contacts"`, "本文 for hanako@example.jp"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("export lacks %s", want)
			}
		}
		if n := len(ex.Tables["events"]); n != 4500 {
			t.Errorf("exported %d events", n)
		}
		if len(ex.Consent) != 1 || ex.Consent[0].Status != "granted" || ex.Consent[0].Source != "import" {
			t.Errorf("consent records: %+v", ex.Consent)
		}
		er, err := svc.EraseContact(ctx, a, person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "other@example.jp") {
			t.Errorf("the export holds someone else's message")
		}
		if er.Counts["events"] != 4500 || er.Counts["contacts"] != 1 || er.Counts["activities"] != 1 || er.Counts["deal_contacts"] != 1 ||
			er.Counts["mail_messages"] != 1 || er.Counts["mail_bodies"] != 1 {
			t.Fatalf("erasure counts: %+v", er.Counts)
		}
		count := func(q string, args ...any) int {
			var n int
			if err := d.Reader().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT COUNT(*) FROM events WHERE contact_id = ?`, person.ID); n != 0 {
			t.Errorf("%d events left", n)
		}
		if n := count(`SELECT COUNT(*) FROM timeline WHERE contact_id = ?`, person.ID); n != 0 {
			t.Errorf("%d timeline entries left", n)
		}
		if n := count(`SELECT COUNT(*) FROM events WHERE contact_id = ?`, other.ID); n != 1 {
			t.Errorf("someone else's events were touched: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM mail_bodies b JOIN mail_messages m ON m.workspace_id = b.workspace_id AND m.id = b.mail_id
			WHERE m.to_addr = 'other@example.jp'`); n != 1 {
			t.Errorf("someone else's message body was touched: %d", n)
		}
		if n := count(`SELECT COUNT(*) FROM mail_bodies`); n != 1 {
			t.Errorf("%d message bodies left, want the other's one", n)
		}
		if n := count(`SELECT COUNT(*) FROM deal_contacts WHERE deal_id = ?`, deal.ID); n != 1 {
			t.Errorf("the deal lost its other contact: %d links", n)
		}
		if n := count(`SELECT COUNT(*) FROM audit_log WHERE object_type = 'contact' AND object_id = ? AND changes IS NOT NULL AND action <> 'erase'`, person.ID); n != 0 {
			t.Errorf("%d audit entries still hold their contents", n)
		}
		var raw string
		if err := d.Reader().QueryRowContext(ctx, `SELECT CAST(counts AS TEXT) FROM erasures WHERE id = ?`, er.ID).Scan(&raw); err != nil || strings.Contains(raw, "hanako") {
			t.Errorf("erasure record: %q %v", raw, err)
		}
		if _, err := cs.GetContact(ctx, d.Reader(), a, person.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("the contact is still there: %v", err)
		}
	})
}
