package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

// csvRows reads a CSV download (after its byte-order mark).
func csvRows(t *testing.T, body string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v in %q", err, body)
	}
	return rows
}

// chartSVG returns the SVG of the chart with the test id and checks it is
// well-formed XML.
func chartSVG(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `data-testid="chart-`+id+`"`)
	if i < 0 {
		t.Fatalf("no chart %s", id)
	}
	rest := body[i:]
	start, end := strings.Index(rest, "<svg"), strings.Index(rest, "</svg>")
	if start < 0 || end < start {
		t.Fatalf("chart %s has no svg", id)
	}
	svg := rest[start : end+len("</svg>")]
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart %s is not well-formed: %v\n%s", id, err, svg)
		}
	}
	if !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, "<title id=") || !strings.Contains(svg, "<desc id=") {
		t.Errorf("chart %s lacks its accessible title and description", id)
	}
	return svg
}

// Two contacts created today — a from email (owned by the admin, with a won
// deal of ¥300,000, a call and a demo), b from paid search (an email) — and
// social figures entered and imported. Each filtered screen, its CSV and
// its chart count only what the filter keeps.
func TestReports_FiltersChartsAndSocialFiguresAgreeOnScreenAndInCSV(t *testing.T) {
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
		cb, err := e.crm.CreateContact(ctx, a, crm.ContactInput{Email: s("b@example.jp"), OriginalChannel: s("paid_search"), OwnerID: &owner})
		if err != nil {
			t.Fatal(err)
		}
		amt := 300000.0
		dl, err := e.crm.CreateDeal(ctx, a, crm.DealInput{Name: s("案件"), Amount: &amt, OwnerID: &owner, Contacts: &[]crm.DealContact{{ContactID: ca.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := e.crm.Pipelines(ctx, d.Reader(), 1)
		won := ps[0].Stages[4].ID
		if _, err := e.crm.UpdateDeal(ctx, a, dl.ID, crm.DealInput{StageID: &won}); err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct {
			kind    string
			contact int64
		}{{"call", ca.ID}, {"demo", ca.ID}, {"email", cb.ID}} {
			if _, err := e.crm.LogActivity(ctx, a, crm.ActivityInput{Kind: s(x.kind), ContactID: &x.contact, OwnerID: &owner}); err != nil {
				t.Fatal(err)
			}
		}

		// Funnel: the filtered CSV's total row counts the email contact only.
		total := func(path string) []string {
			t.Helper()
			code, body := e.get(path)
			if code != 200 {
				t.Fatalf("%s: %d %.200s", path, code, body)
			}
			rows := csvRows(t, body)
			return rows[len(rows)-1]
		}
		if got := total("/reports/funnel?months=1&format=csv"); got[1] != "2" {
			t.Errorf("funnel created, unfiltered: %v", got)
		}
		if got := total("/reports/funnel?months=1&channel=email&format=csv"); got[1] != "1" {
			t.Errorf("funnel created, email: %v", got)
		}
		_, body := e.get("/reports/funnel?months=1&channel=email&pipeline_id=1")
		if !strings.Contains(body, `data-testid="filter-na"`) || !strings.Contains(body, `href="/reports/funnel?months=1&amp;format=csv&amp;channel=email"`) {
			t.Errorf("funnel page: no note that the pipeline does not apply, or a CSV link without the filter")
		}
		svg := chartSVG(t, body, "funnel")
		if !strings.Contains(svg, ">Contacts created</text>") || !strings.Contains(svg, ">1</text>") {
			t.Errorf("funnel chart lacks its labels or values:\n%s", svg)
		}

		// Channel quality: the email filter keeps one channel row and the total.
		code, body := e.get("/reports/channels?period=month&channel=email&format=csv")
		rows := csvRows(t, body)
		if code != 200 || len(rows) != 3 || rows[1][0] != "Email" || rows[1][2] != "1" || rows[2][2] != "1" || rows[2][12] != "300000" {
			t.Errorf("channels CSV, email: %d %v", code, rows)
		}
		if got := total("/reports/channels?period=month&format=csv"); got[2] != "2" {
			t.Errorf("channels CSV, all leads: %v", got)
		}
		_, body = e.get("/reports/channels?period=month&channel=email")
		svg = chartSVG(t, body, "channel-leads")
		if !strings.Contains(svg, ">Email</text>") || strings.Contains(svg, ">Paid search</text>") {
			t.Errorf("channel chart with the email filter:\n%s", svg)
		}
		if !strings.Contains(body, `data-testid="report-filtered"`) || !strings.Contains(body, "Visits are narrowed by channel only") {
			t.Errorf("channel report does not say how the filter narrows it")
		}
		if !strings.Contains(body, "<td>Email</td><td class=\"num\">1</td>") {
			t.Errorf("channel chart's table lacks the email row")
		}

		// Rep performance: activities by kind, on contacts of a channel.
		repRow := func(path string) map[string]string {
			t.Helper()
			code, body := e.get(path)
			rows := csvRows(t, body)
			if code != 200 || len(rows) < 2 {
				t.Fatalf("%s: %d %v", path, code, rows)
			}
			out := map[string]string{}
			for i, h := range rows[0] {
				out[h] = rows[1][i]
			}
			return out
		}
		if r := repRow("/reports/reps?period=month&format=csv"); r["Call"] != "1" || r["Demo"] != "1" || r["Email"] != "1" || r["Won"] != "1" {
			t.Errorf("reps CSV: %v", r)
		}
		if r := repRow("/reports/reps?period=month&channel=paid_search&format=csv"); r["Call"] != "0" || r["Demo"] != "0" || r["Email"] != "1" || r["Won"] != "0" {
			t.Errorf("reps CSV, paid search: %v", r)
		}
		_, body = e.get("/reports/reps?period=month")
		svg = chartSVG(t, body, "rep-activities")
		for _, want := range []string{">山田 太郎</text>", ">3</text>", "山田 太郎 · Call: 1", "山田 太郎 · Demo: 1", `fill="url(#rep-activities-p1)"`} {
			if !strings.Contains(svg, want) {
				t.Errorf("rep chart lacks %q:\n%s", want, svg)
			}
		}
		if !strings.Contains(body, `<th>Call</th><th>Email</th><th>Meeting</th><th>Demo</th>`) || !strings.Contains(body, `<td>山田 太郎</td><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">1</td>`) {
			t.Errorf("rep chart's table lacks the counts by kind")
		}

		// Social figures: entered in the form, imported as CSV, shown and exported.
		ws, _ := platform.GetWorkspace(ctx, d.Reader(), 1)
		month := e.clock.Now().In(ws.Location()).Format("2006-01")
		if code, body, at := e.post("/reports/social", url.Values{"month": {month}, "network": {"x"}, "channel": {"social"}, "impressions": {"10,000"}, "engagements": {"300"}, "followers_gained": {"12"}, "clicks": {"40"}}); code != 200 || at != "/reports/social" {
			t.Fatalf("save social: %d at %s %.300s", code, at, body)
		}
		if code, body, _ := e.post("/reports/social", url.Values{"month": {"2026-13"}, "network": {"x"}}); code != 422 || !strings.Contains(body, `data-testid="social-error"`) {
			t.Errorf("bad month: %d", code)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "social.csv")
		_, _ = io.WriteString(fw, "month,network,impressions,engagements\n"+month+",linkedin,5000,200\n")
		_ = mw.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+"/reports/social/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, err := e.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), "1 rows saved.") {
			t.Errorf("import: %d %.300s", res.StatusCode, b)
		}
		got := total("/reports/social?period=month&format=csv")
		if got[1] != "15000" || got[2] != "500" || got[3] != "3.33" {
			t.Errorf("social CSV total: %v, want 15000 impressions, 500 engagements, 3.33 %%", got)
		}
		_, body = e.get("/reports/social?period=month")
		svg = chartSVG(t, body, "social-engagements")
		if !strings.Contains(svg, ">LinkedIn</text>") || !strings.Contains(svg, ">300</text>") {
			t.Errorf("social chart:\n%s", svg)
		}
		_, body = e.get("/reports?period=month")
		if !strings.Contains(body, "Social engagement rate") || !strings.Contains(body, "3.3%") || !strings.Contains(body, "engagements ÷ impressions of the same entries") {
			t.Errorf("KPI screen lacks the social engagement KPI with its formula")
		}
		if _, body = e.get("/reports?period=month&channel=email"); !strings.Contains(body, `title="engagements = sum`) {
			t.Errorf("KPI screen, email: no social KPI")
		}
	})
}
