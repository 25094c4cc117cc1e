package email_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/platform"
)

// contentDoc shows asset id as a card, and a text block whose URL is a
// link only in the plain-text part.
func contentDoc(id int64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"blocks":[
		{"type":"heading","text":"{{Salutation}}"},
		{"type":"content","asset_id":%d},
		{"type":"text","text":"詳しくは「https://example.co.jp/info?a=1」をご覧ください。"}
	]}`, id))
}

var (
	htmlClickRe = regexp.MustCompile(`href="https://ryorin\.example/e/c/([A-Za-z0-9_.-]+)"`)
	textInfoRe  = regexp.MustCompile(`「https://ryorin\.example/e/c/([A-Za-z0-9_.-]+)」をご覧ください。`)
)

func TestSend_ContentBlockGivesEachRecipientTheirOwnTrackedLink(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		n := &platform.Notifier{DB: d, Clock: f.clock, Jobs: f.jobs}
		owner := f.rep.UserID
		if _, err := f.crm.UpdateContact(ctx, f.mkt, f.ids["yamada"], crm.ContactInput{OwnerID: &owner}, platform.Cause{}); err != nil {
			t.Fatal(err)
		}
		cs := content.New(d, f.clock, f.crm, n, nil)
		x, err := cs.Create(ctx, f.mkt, content.AssetInput{Kind: "case_study", Title: "導入事例: 両輪商事", Description: "営業とマーケが同じ顧客を見る",
			URL: "https://example.co.jp/cases/ryorin", Topics: []string{"case_studies"}, Status: content.StatusPublished}, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := campaignInput(sg)
		in.Blocks = contentDoc(x.ID)
		c, err := f.email.Create(ctx, f.mkt, in)
		if err != nil {
			t.Fatal(err)
		}
		// Preview as a contact shows the card, linking the public page (a
		// marketer's click is not the contact's view).
		pv, err := f.email.Preview(ctx, f.mkt, c.ID, f.ids["yamada"], "https://ryorin.example")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(pv.HTML, "導入事例: 両輪商事") || !strings.Contains(pv.HTML, "営業とマーケが同じ顧客を見る") ||
			!strings.Contains(pv.HTML, "導入事例</p>") || strings.Contains(pv.HTML, "/c/s/") || !strings.Contains(pv.Text, "導入事例: 両輪商事") {
			t.Errorf("preview:\n%s\n%s", pv.HTML, pv.Text)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		got := f.received(t)
		if len(got) != 2 {
			t.Fatalf("%d messages, want 2", len(got))
		}
		shares := map[string]string{}
		for _, who := range []string{"yamada", "noname"} {
			m := got[who+"@example.jp"]
			if strings.Contains(m.body, "/c/s/") || strings.Contains(m.body, `href="https://example.co.jp/`) || strings.Contains(m.body, "詳しく見る: https://example") {
				t.Errorf("%s: an untracked link:\n%s", who, m.body)
			}
			// The card's button is the first link of the HTML part.
			hm := htmlClickRe.FindStringSubmatch(m.body)
			if hm == nil || !strings.Contains(m.body, "導入事例: 両輪商事") {
				t.Fatalf("%s: no card link:\n%s", who, m.body)
			}
			dest, err := f.email.Click(ctx, 1, hm[1])
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(dest)
			if err != nil || u.Host != "ryorin.example" || !strings.HasPrefix(u.Path, "/c/s/") {
				t.Fatalf("%s: the card's click goes to %q", who, dest)
			}
			shares[who] = strings.TrimPrefix(u.Path, "/c/s/")
			// The text part's URL is tracked too, and ends before 」.
			tm := textInfoRe.FindStringSubmatch(m.body)
			if tm == nil {
				t.Fatalf("%s: the text part's link is not tracked:\n%s", who, m.body)
			}
			// In the HTML part the text block's URL is a tracked link too.
			if !regexp.MustCompile(`<a href="https://ryorin\.example/e/c/[A-Za-z0-9_.-]+" target="_blank" style="color:#2563eb;">https://example\.co\.jp/info\?a=1</a>」`).MatchString(m.body) {
				t.Errorf("%s: the HTML part's text URL is not a tracked link:\n%s", who, m.body)
			}
			if who == "yamada" {
				if dest, err := f.email.Click(ctx, 1, tm[1]); err != nil || !strings.HasPrefix(dest, "https://example.co.jp/info?") || !strings.Contains(dest, "a=1") {
					t.Errorf("text link click: %q %v", dest, err)
				}
			}
		}
		if shares["yamada"] == shares["noname"] {
			t.Fatalf("both recipients got the same content link %q", shares["yamada"])
		}
		// Following yamada's link is yamada's view of the asset.
		op, err := cs.OpenShare(ctx, 1, shares["yamada"], "https://ryorin.example")
		if err != nil || op.Asset.ID != x.ID {
			t.Fatalf("OpenShare: %+v %v", op, err)
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var k int
			if err := d.Reader().QueryRowContext(ctx, q, args...).Scan(&k); err != nil {
				t.Fatal(err)
			}
			return k
		}
		if k := count(`SELECT COUNT(*) FROM events WHERE kind = 'content_view' AND contact_id = ?`, f.ids["yamada"]); k != 1 {
			t.Errorf("yamada's content views: %d", k)
		}
		if k := count(`SELECT COUNT(*) FROM events WHERE kind = 'content_view' AND contact_id = ?`, f.ids["noname"]); k != 0 {
			t.Errorf("noname's content views: %d", k)
		}
		if k := count(`SELECT COUNT(*) FROM notifications WHERE kind = 'content.viewed'`); k != 1 {
			t.Errorf("owner notifications: %d", k)
		}
		// Both clicks count for the campaign; the report names the asset's
		// page, not each recipient's token.
		if k := count(`SELECT clicks FROM campaign_recipients WHERE campaign_id = ? AND contact_id = ?`, c.ID, f.ids["yamada"]); k != 2 {
			t.Errorf("yamada's campaign clicks: %d", k)
		}
		page := "https://ryorin.example" + content.PublicPath(x)
		if k := count(`SELECT COUNT(*) FROM campaign_clicks WHERE campaign_id = ? AND url = ?`, c.ID, page); k != 2 {
			t.Errorf("clicks on %s: %d", page, k)
		}
		if k := count(`SELECT COUNT(*) FROM campaign_clicks WHERE campaign_id = ? AND url LIKE '%/c/s/%'`, c.ID); k != 0 {
			t.Errorf("share tokens in the click report: %d", k)
		}
	})
}

func TestCreate_ContentBlockErrorsNameThePath(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		cs := content.New(d, f.clock, f.crm, nil, nil)
		draft, err := cs.Create(ctx, f.mkt, content.AssetInput{Kind: "white_paper", Title: "下書き", URL: "https://example.co.jp/wp"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := cs.Create(ctx, f.mkt, content.AssetInput{Kind: "slides", Title: "会社紹介", URL: "https://example.co.jp/deck", Status: content.StatusPublished}, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := campaignInput(sg)
		in.Blocks = json.RawMessage(fmt.Sprintf(`{"blocks":[{"type":"text","text":"a"},{"type":"content","asset_id":%d,"label":"スライドを見る"}]}`, pub.ID))
		c, err := f.email.Create(ctx, f.mkt, in)
		if err != nil {
			t.Fatal(err)
		}
		// Archived after the campaign was saved: the send is refused, naming the block.
		if _, err := cs.Archive(ctx, f.mkt, pub.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err == nil {
			t.Error("a campaign showing an archived asset was sent")
		} else if e, ok := errs.As(err); !ok || e.Field != "blocks[1].asset_id" {
			t.Errorf("sending with an archived asset: %v", err)
		}
		for _, tc := range []struct {
			doc, field string
		}{
			{`{"blocks":[{"type":"text","text":"a"},{"type":"content","asset_id":99999}]}`, "blocks[1].asset_id"},
			{fmt.Sprintf(`{"blocks":[{"type":"columns","columns":[[{"type":"text","text":"b"}],[{"type":"content","asset_id":%d}]]}]}`, draft.ID),
				"blocks[0].columns[1][0].asset_id"},
			{`{"blocks":[{"type":"variant","by":"interest","options":[{"topic":"x","blocks":[{"type":"content"}]}],"default":[]}]}`,
				"blocks[0].options[0].blocks[0].asset_id"},
		} {
			in := campaignInput(sg)
			in.Blocks = json.RawMessage(tc.doc)
			_, err := f.email.Create(ctx, f.mkt, in)
			if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || e.Field != tc.field {
				t.Errorf("%s: %v", tc.doc, err)
			}
		}
	})
}
