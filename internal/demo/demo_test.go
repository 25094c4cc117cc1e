package demo_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/demo"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var now = time.Date(2026, 4, 15, 1, 30, 0, 0, time.UTC) // 10:30 in Tokyo

// open prepares the database the way app.Open does: workspace 1 and the
// default pipeline.
func open(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	if err := platform.EnsureWorkspace(ctx, d, platform.DefaultWorkspace, "Ryorin", now); err != nil {
		t.Fatal(err)
	}
	if err := crm.New(d, clock.NewFake(now)).EnsureDefaults(ctx, platform.DefaultWorkspace, "ja"); err != nil {
		t.Fatal(err)
	}
}

func q(t *testing.T, d *db.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Reader().QueryRowContext(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestLoad loads the full data set on SQLite and a tenth of it on PostgreSQL
// (the same code paths, in a fraction of the time), checks that every screen
// has something to show, and that a second load changes nothing.
func TestLoad(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		open(t, d)
		ctx := context.Background()
		scale := 1.0
		if d.Dialect == db.Postgres {
			scale = 0.1
		}
		log := slog.New(slog.DiscardHandler)
		if testing.Verbose() {
			log = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
		sum, err := demo.LoadWith(ctx, d, log, demo.Options{Scale: scale, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s scale %.1f: %+v", d.Dialect, scale, sum)
		if sum.Skipped {
			t.Fatal("first load skipped")
		}
		if ok, err := demo.Loaded(ctx, d); !ok || err != nil {
			t.Errorf("Loaded = %v, %v after a load", ok, err)
		}

		// Social figures: five networks for each of the last twelve months.
		if n := q(t, d, `SELECT COUNT(*) FROM social_stats`); n != 60 {
			t.Errorf("social figures = %d, want 60", n)
		}

		// Sales sequences: two, with enrolments in every state the demo shows.
		if n := q(t, d, `SELECT COUNT(*) FROM sequences`); n != 2 {
			t.Errorf("sequences = %d, want 2", n)
		}
		for _, st := range []string{"active", "replied", "meeting_booked", "finished", "ended"} {
			if n := q(t, d, `SELECT COUNT(*) FROM sequence_enrolments WHERE status = ?`, st); n == 0 {
				t.Errorf("no %s sequence enrolment", st)
			}
		}
		if n := q(t, d, `SELECT COUNT(*) FROM mail_messages WHERE kind = 'sales' AND status <> 'sent'`); n != 0 {
			t.Errorf("%d demo sequence emails left to send", n)
		}

		// Users in every role, sign-in works with the documented password.
		if sum.Users != 10 {
			t.Errorf("users = %d, want 10", sum.Users)
		}
		for _, r := range platform.Roles {
			if n := q(t, d, `SELECT COUNT(*) FROM users WHERE role = ?`, string(r)); n == 0 {
				t.Errorf("no user with role %s", r)
			}
		}
		if n := q(t, d, `SELECT COUNT(*) FROM users WHERE locale = 'en'`); n == 0 {
			t.Error("no English-speaking user")
		}
		admin, err := platform.UserByEmail(ctx, d.Reader(), platform.DefaultWorkspace, demo.AdminEmail)
		if err != nil || admin.Role != platform.RoleAdmin {
			t.Fatalf("admin = %+v, %v", admin, err)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM teams WHERE function = 'sales' AND manager_id IS NOT NULL`); n != 2 {
			t.Errorf("sales teams with a manager = %d, want 2", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM teams WHERE function = 'marketing' AND manager_id IS NOT NULL`); n != 1 {
			t.Errorf("marketing teams with a manager = %d, want 1", n)
		}

		// Daily reports: submitted on most recent working days, some answered
		// by the manager, one rep missing each day, with calls in the summary.
		if n := q(t, d, `SELECT COUNT(*) FROM daily_reports WHERE submitted_at IS NOT NULL`); n != 16 {
			t.Errorf("submitted daily reports = %d, want 16", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM daily_reports WHERE manager_comment <> ''`); n < 8 {
			t.Errorf("daily reports with a manager comment = %d", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM sales_quotas`); n != 18 {
			t.Errorf("quotas = %d, want 4 reps and 2 teams for each of the quarter's three months", n)
		}
		// The forecast's history: four weekly snapshots, with deals that
		// moved between them.
		if n := q(t, d, `SELECT COUNT(DISTINCT taken_on) FROM forecast_snapshots`); n != 4 {
			t.Errorf("forecast snapshots taken on %d days, want 4 weeks", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE forecast_category <> ''`); n == 0 {
			t.Errorf("deals with a rep's forecast category = %d, want several", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM notifications WHERE kind = 'daily_report.comment'`); n < 8 {
			t.Errorf("rep notifications of comments = %d", n)
		}

		// Quotes: a price list and a few open deals with lines and an issued quote.
		if n := q(t, d, `SELECT COUNT(*) FROM products`); n != 5 {
			t.Errorf("products = %d, want 5", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM quotes`); n != 5 {
			t.Errorf("quotes = %d, want 5", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE id IN (SELECT deal_id FROM deal_line_items) AND amount <> (SELECT SUM(subtotal) FROM quotes WHERE quotes.deal_id = deals.id)`); n != 0 {
			t.Errorf("deals whose amount differs from their quote's subtotal: %d", n)
		}
		// One quote mailed to the customer and viewed twice; the closed deals
		// against competitors priced with a discount that keeps their amount.
		if n := q(t, d, `SELECT COUNT(*) FROM quote_sends WHERE views = 2 AND sales_email_id IS NOT NULL`); n != 1 {
			t.Errorf("quotes sent and viewed = %d, want 1", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM timeline WHERE kind = 'quote.viewed'`); n != 2 {
			t.Errorf("quote views on the timeline = %d, want 2", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE status IN ('won', 'lost') AND id IN (SELECT deal_id FROM deal_competitors) AND id IN (SELECT deal_id FROM deal_line_items)`); n < 3 {
			t.Errorf("closed deals against competitors with line items = %d", n)
		}

		// After the sale: last year's contracts renewing soon already have
		// their renewal deal; issues in every status, owners told of them.
		if n := q(t, d, `SELECT COUNT(*) FROM deal_renewals`); n < 1 {
			t.Errorf("renewals created = %d", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE deal_type = 'renewal' AND status = 'won' AND recurring_amount > 0 AND id NOT IN (SELECT source_deal_id FROM deal_renewals)`); n < 1 {
			t.Errorf("contracts still to renew = %d", n)
		}
		if n := q(t, d, `SELECT COUNT(DISTINCT status) FROM customer_issues`); n != 4 {
			t.Errorf("issue statuses = %d, want 4", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM notifications WHERE kind = 'issue.opened'`); n < 1 {
			t.Errorf("issue notifications = %d", n)
		}

		// Companies and contacts.
		minCompanies, minContacts := int(250*scale), int(1800*scale)
		if sum.Companies < minCompanies || sum.Contacts < minContacts {
			t.Errorf("companies = %d, contacts = %d; want at least %d and %d", sum.Companies, sum.Contacts, minCompanies, minContacts)
		}
		var bad int
		rows, err := d.Reader().QueryContext(ctx, `SELECT corporate_number FROM companies WHERE corporate_number IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		numbers := 0
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			numbers++
			if !crm.ValidCorporateNumber(n) {
				bad++
			}
		}
		rows.Close()
		if numbers == 0 || bad > 0 {
			t.Errorf("corporate numbers: %d, %d invalid", numbers, bad)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM companies WHERE country <> 'JP'`); n == 0 || n > sum.Companies/3 {
			t.Errorf("foreign companies = %d of %d", n, sum.Companies)
		}
		for _, s := range platform.Stages {
			if n := q(t, d, `SELECT COUNT(*) FROM contacts WHERE lifecycle_stage = ?`, string(s)); n == 0 {
				t.Errorf("no contact at lifecycle stage %s", s)
			}
		}
		for _, ch := range platform.DefaultChannels {
			if n := q(t, d, `SELECT COUNT(*) FROM contacts WHERE original_channel = ?`, ch.Key); n == 0 {
				t.Errorf("no contact from channel %s", ch.Key)
			}
		}
		// Every campaign has members and spend; sales cost covers each month.
		if n := q(t, d, `SELECT COUNT(*) FROM campaigns c WHERE NOT EXISTS (SELECT 1 FROM campaign_members m WHERE m.workspace_id = c.workspace_id AND m.campaign_id = c.id)
			OR NOT EXISTS (SELECT 1 FROM spend_entries s WHERE s.workspace_id = c.workspace_id AND s.campaign_id = c.id)`); n != 0 || q(t, d, `SELECT COUNT(*) FROM campaigns`) < 5 {
			t.Errorf("%d campaigns without members or spend", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM goal_plans WHERE status = 'active'`); n != 1 {
			t.Errorf("%d active goal plans, want 1", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM sales_costs`); n < 6 {
			t.Errorf("sales cost for %d months", n)
		}
		for _, c := range []string{"granted", "unknown", "revoked"} {
			if n := q(t, d, `SELECT COUNT(*) FROM contacts WHERE consent_email = ?`, c); n == 0 {
				t.Errorf("no contact with consent %s", c)
			}
		}
		if n := q(t, d, `SELECT COUNT(*) FROM contacts WHERE family_name_kana <> ''`); n < sum.Contacts/2 {
			t.Errorf("contacts with furigana = %d of %d", n, sum.Contacts)
		}
		// History is spread over six months, not stamped at load time.
		early := now.Add(-90 * 24 * time.Hour).UnixMilli()
		if n := q(t, d, `SELECT COUNT(*) FROM contacts WHERE created_at < ?`, early); n < sum.Contacts/5 {
			t.Errorf("contacts created more than 90 days ago = %d of %d", n, sum.Contacts)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM lifecycle_history WHERE from_stage <> '' AND at < ?`, early); n == 0 {
			t.Error("no lifecycle change older than 90 days")
		}

		// Deals: every stage of both pipelines, won and lost, lost with reasons.
		ps, err := crm.New(d, clock.NewFake(now)).Pipelines(ctx, d.Reader(), platform.DefaultWorkspace)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 {
			t.Fatalf("pipelines = %d, want 2", len(ps))
		}
		for _, p := range ps {
			for _, st := range p.Stages {
				if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE stage_id = ?`, st.ID); n == 0 {
					t.Errorf("no deal in %s / %s", p.Name, st.Name)
				}
			}
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE status = 'won'`); n == 0 {
			t.Error("no won deal")
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE status = 'lost'`); n == 0 {
			t.Error("no lost deal")
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE status = 'lost' AND lost_reason = ''`); n != 0 {
			t.Errorf("%d lost deals without a reason", n)
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deals WHERE currency = 'USD'`); n == 0 {
			t.Error("no USD deal")
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deal_competitors`); n == 0 {
			t.Error("no deal with a competitor")
		}
		if n := q(t, d, `SELECT COUNT(*) FROM deal_contacts WHERE role <> ''`); n == 0 {
			t.Error("no deal contact with a role")
		}

		// Activities of every kind and call outcome, tasks in every state.
		for _, k := range crm.ActivityKinds {
			if n := q(t, d, `SELECT COUNT(*) FROM activities WHERE kind = ?`, k); n == 0 {
				t.Errorf("no %s activity", k)
			}
		}
		for _, o := range crm.CallOutcomes {
			if n := q(t, d, `SELECT COUNT(*) FROM activities WHERE kind = 'call' AND call_outcome = ?`, o); n == 0 {
				t.Errorf("no call with outcome %s", o)
			}
		}
		ms := now.UnixMilli()
		for name, cond := range map[string]string{
			"done":     `done_at IS NOT NULL`,
			"overdue":  `done_at IS NULL AND due_at < ?`,
			"upcoming": `done_at IS NULL AND due_at > ?`,
		} {
			args := []any{}
			if name != "done" {
				args = append(args, ms)
			}
			if n := q(t, d, `SELECT COUNT(*) FROM activities WHERE kind = 'task' AND `+cond, args...); n == 0 {
				t.Errorf("no %s task", name)
			}
		}

		// Events, some tied to contacts, and notifications.
		if sum.Events == 0 || q(t, d, `SELECT COUNT(*) FROM events WHERE contact_id IS NOT NULL`) == 0 {
			t.Errorf("events = %d, none tied to contacts", sum.Events)
		}
		if q(t, d, `SELECT COUNT(*) FROM events WHERE contact_id IS NULL`) == 0 {
			t.Error("no anonymous event")
		}
		if sum.Notifications == 0 {
			t.Error("no notifications")
		}
		if scale == 1 && (sum.Activities < 3000 || sum.Events < 12000 || sum.Deals < 300) {
			t.Errorf("full data set too small: %+v", sum)
		}

		// A second load is a no-op.
		again, err := demo.LoadWith(ctx, d, log, demo.Options{Scale: scale, Now: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !again.Skipped {
			t.Fatalf("second load did not skip: %+v", again)
		}
		for _, table := range []string{"users", "companies", "contacts", "deals", "activities", "events", "notifications"} {
			before := map[string]int{"users": sum.Users, "companies": sum.Companies, "contacts": sum.Contacts, "deals": sum.Deals,
				"activities": sum.Activities, "events": sum.Events, "notifications": sum.Notifications}[table]
			if n := q(t, d, `SELECT COUNT(*) FROM `+table); n != before {
				t.Errorf("%s: %d after the second load, %d before", table, n, before)
			}
		}
	})
}
