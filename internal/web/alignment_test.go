package web_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/pdftest"
	"github.com/ryorin/ryorin/internal/platform"
)

// The fixture, hand-checked: this month, contact a came from email and
// brought a won deal of ¥300,000; contact b came from paid search and
// brought nothing. Filtered by channel, the alignment report's KPIs,
// funnel and channel quality count that channel's contact only; the
// sections the filter does not narrow say so and still show the deal; the
// links, the printable page and the PDF keep the filter.
func TestAlignment_FilteredByChannelShowsOnlyThatChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		e.post("/settings/language", url.Values{"lang": {"en"}})
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		owner := int64(1)
		ca, err := e.crm.CreateContact(ctx, a, crm.ContactInput{Email: s("a@example.jp"), OriginalChannel: s("email"), OwnerID: &owner})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.crm.CreateContact(ctx, a, crm.ContactInput{Email: s("b@example.jp"), OriginalChannel: s("paid_search"), OwnerID: &owner}); err != nil {
			t.Fatal(err)
		}
		amt := 300000.0
		dl, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: s("基幹刷新"), Amount: &amt, OwnerID: &owner, Contacts: &[]crm.DealContact{{ContactID: ca.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := e.crm.Pipelines(ctx, d.Reader(), 1)
		won := ps[0].Stages[4].ID
		if _, err := e.crm.UpdateDeal(ctx, a, dl.ID, crm.DealInput{StageID: &won}); err != nil {
			t.Fatal(err)
		}
		card := func(body, label string) string {
			t.Helper()
			i := strings.Index(body, `<div class="l">`+label+`</div><div class="v">`)
			if i < 0 {
				t.Fatalf("no %s card", label)
			}
			rest := body[i+len(`<div class="l">`+label+`</div><div class="v">`):]
			return rest[:strings.Index(rest, "<")]
		}
		get := func(path string) string {
			t.Helper()
			code, body := e.get(path)
			if code != 200 {
				t.Fatalf("%s: %d %.300s", path, code, body)
			}
			return body
		}

		all := get("/reports/alignment?period=month&offset=0")
		if card(all, "New contacts") != "2" || card(all, "Deals won") != "1" {
			t.Errorf("unfiltered cards: new %s, won %s", card(all, "New contacts"), card(all, "Deals won"))
		}
		if strings.Contains(all, `data-testid="align-note"`) || strings.Contains(all, `data-testid="align-filter"`) {
			t.Errorf("unfiltered report carries filter notes")
		}
		if !strings.Contains(all, `data-testid="align-scope"`) {
			t.Errorf("the page does not say which sections the filter leaves out")
		}

		for _, x := range []struct {
			channel, name, other, contacts, won, revenue string
		}{
			{"email", "Email", "Paid search", "1", "1", "¥300,000"},
			{"paid_search", "Paid search", "Email", "1", "0", "¥0"},
		} {
			body := get("/reports/alignment?period=month&offset=0&channel=" + x.channel)
			if g := card(body, "New contacts"); g != x.contacts {
				t.Errorf("%s: new contacts %s, want %s", x.channel, g, x.contacts)
			}
			if g := card(body, "Deals won"); g != x.won {
				t.Errorf("%s: deals won %s, want %s", x.channel, g, x.won)
			}
			if g := card(body, "Revenue"); g != x.revenue {
				t.Errorf("%s: revenue %s, want %s", x.channel, g, x.revenue)
			}
			// The funnel chart counts the channel's one contact.
			svg := chartSVG(t, body, "funnel")
			if !strings.Contains(svg, ">Contacts created</text>") || !strings.Contains(svg, ">1</text>") || strings.Contains(svg, ">2</text>") {
				t.Errorf("%s: funnel chart:\n%s", x.channel, svg)
			}
			// Channel quality: the chart and the table have the one channel.
			svg = chartSVG(t, body, "channel-leads")
			if !strings.Contains(svg, ">"+x.name+"</text>") || strings.Contains(svg, ">"+x.other+"</text>") {
				t.Errorf("%s: channel chart:\n%s", x.channel, svg)
			}
			sec := body[strings.Index(body, `data-testid="align-channels"`):]
			sec = sec[:strings.Index(sec, `data-testid="align-sla"`)]
			if !strings.Contains(sec, "<td>"+x.name+"</td>") || strings.Contains(sec, "<td>"+x.other+"</td>") {
				t.Errorf("%s: channel table:\n%s", x.channel, sec)
			}
			// The closed deals are the workspace's, and say so.
			if !strings.Contains(body, "基幹刷新") || !strings.Contains(body, ">Not filtered</span>") {
				t.Errorf("%s: the won deal or the unfiltered notes are missing", x.channel)
			}
			if !strings.Contains(body, `<p class="align-filter" data-testid="align-filter"><strong>Filtered:</strong> Channel: `+x.name+`</p>`) {
				t.Errorf("%s: the printable page does not name the filter", x.channel)
			}
			for _, link := range []string{
				`href="/reports/alignment?period=month&amp;offset=0&amp;channel=` + x.channel + `&amp;format=pdf"`,
				`href="/reports/funnel?months=3&amp;channel=` + x.channel + `"`,
				`href="/reports/funnel?months=3&amp;format=csv&amp;channel=` + x.channel + `"`,
				`href="/reports/channels?period=month&amp;offset=0&amp;format=csv&amp;channel=` + x.channel + `"`,
				`href="/reports/channels?period=month&amp;offset=0&amp;channel=` + x.channel + `"`,
				`href="/reports/trend.csv?unit=month&amp;n=12&amp;key=new_contacts&amp;key=new_mqls&amp;key=new_sqls&amp;key=deals_won&amp;key=revenue&amp;channel=` + x.channel + `"`,
			} {
				if !strings.Contains(body, link) {
					t.Errorf("%s: no link %s", x.channel, link)
				}
			}
		}

		// The trend link's CSV counts the channel's contact only: this
		// month's row (the last) has one new contact.
		rows := csvRows(t, get("/reports/trend.csv?unit=month&n=12&key=new_contacts&channel=email"))
		if last := rows[len(rows)-1]; last[1] != "1" {
			t.Errorf("trend CSV, email: %v", rows)
		}
		rows = csvRows(t, get("/reports/trend.csv?unit=month&n=12&key=new_contacts"))
		if last := rows[len(rows)-1]; last[1] != "2" {
			t.Errorf("trend CSV, unfiltered: %v", rows)
		}

		// The PDF keeps the filter, names it and still renders.
		code, pdf := e.get("/reports/alignment?period=month&offset=0&channel=email&format=pdf")
		if code != 200 || !strings.HasPrefix(pdf, "%PDF-") || !strings.Contains(pdf, "%%EOF") {
			t.Fatalf("filtered PDF: %d %.40q", code, pdf)
		}
		text := pdftest.Inflate([]byte(pdf))
		for _, want := range []string{"Filtered: Channel: Email", "Not filtered", "Contacts created", "基幹刷新"} {
			if !bytes.Contains(text, pdftest.UTF16BE(want)) {
				t.Errorf("filtered PDF does not show %q", want)
			}
		}
	})
}
