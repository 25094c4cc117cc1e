package email_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/platform"
)

// interestDoc varies a case study by top interest and a note by segment.
func interestDoc(segment int64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"blocks":[
		{"type":"heading","text":"{{Salutation}}"},
		{"type":"text","text":"いつもお世話になっております。"},
		{"type":"variant","by":"interest","options":[
			{"topic":"pricing","blocks":[{"type":"button","label":"料金プランを見る","url":"https://example.co.jp/pricing?from=mail&x=1"}]},
			{"topic":"case_studies","blocks":[{"type":"button","label":"導入事例を読む","url":"https://example.co.jp/cases/acme"}]}
		],"default":[{"type":"text","text":"最新情報をお届けします"}]},
		{"type":"variant","by":"segment","options":[{"segment_id":%d,"blocks":[{"type":"text","text":"マーケ部門の皆様へ"}]}],"default":[]}
	]}`, segment))
}

func (f *fixture) events(t *testing.T, in ...platform.EventInput) {
	t.Helper()
	ctx := context.Background()
	for i := range in {
		in[i].ID = fmt.Sprintf("ev-%d-%d", in[i].ContactID, i)
	}
	if err := f.d.Write(ctx, "test", func(tx *db.Tx) error {
		_, rej, err := platform.StoreEvents(ctx, tx, 1, in, f.clock.Now())
		if len(rej) > 0 {
			return fmt.Errorf("rejected %+v", rej)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSend_BlockVariantsByInterestDifferPerRecipient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		day := -24 * time.Hour
		old := f.clock.Now().Add(60 * day) // two half-lives: 2 × ¼ < a page view today
		f.events(t,
			platform.EventInput{Kind: "page_view", ContactID: f.ids["yamada"], URL: "https://example.co.jp/pricing"},
			platform.EventInput{Kind: "content_view", ContactID: f.ids["yamada"], OccurredAt: &old, Properties: map[string]any{"topics": []string{"case_studies"}}},
			platform.EventInput{Kind: "content_view", ContactID: f.ids["noname"], Properties: map[string]any{"topics": []string{"case_studies", "security"}}},
		)
		in := campaignInput(sg)
		in.Template = email.Template{Subject: "{{.Salutation}} 4月のご案内"}
		in.Blocks = interestDoc(sg.ID)
		in.Topics = []string{" Pricing", "pricing", "case_studies"}
		c, err := f.email.Create(ctx, f.mkt, in)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(c.Topics, ",") != "pricing,case_studies" || len(c.Blocks) == 0 || !strings.Contains(c.Template.HTML, "max-width:600px") {
			t.Fatalf("saved campaign: topics %v, blocks %s", c.Topics, c.Blocks)
		}
		// Preview as a contact shows what they will get.
		pv, err := f.email.Preview(ctx, f.mkt, c.ID, f.ids["noname"], "https://ryorin.example")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(pv.HTML, "導入事例を読む") || strings.Contains(pv.HTML, "料金プラン") {
			t.Errorf("preview as noname:\n%s", pv.HTML)
		}
		if _, err := f.email.Send(ctx, f.mkt, c.ID, "https://ryorin.example"); err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		got := f.received(t)
		if len(got) != 2 {
			t.Fatalf("%d messages, want 2 (yamada, noname)", len(got))
		}
		y, n := got["yamada@example.jp"], got["noname@example.jp"]
		if !strings.Contains(y.body, "料金プランを見る") || strings.Contains(y.body, "導入事例") || strings.Contains(y.body, "最新情報") {
			t.Errorf("yamada (pricing) got:\n%s", y.body)
		}
		if !strings.Contains(n.body, "導入事例を読む") || strings.Contains(n.body, "料金プラン") {
			t.Errorf("noname (case studies) got:\n%s", n.body)
		}
		for _, m := range []received{y, n} {
			if !strings.Contains(m.body, "マーケ部門の皆様へ") {
				t.Errorf("%s: the segment variant is missing", m.to)
			}
			// The button's link goes through click tracking in the HTML part.
			if strings.Contains(m.body, `href="https://example.co.jp/`) || !strings.Contains(m.body, `href="https://ryorin.example/e/c/`) {
				t.Errorf("%s: links are not tracked:\n%s", m.to, m.body)
			}
			if !strings.Contains(m.body, "/e/u/") {
				t.Errorf("%s: no unsubscribe link", m.to)
			}
		}
		if !strings.Contains(y.body, "株式会社両輪 山田様") {
			t.Errorf("salutation missing:\n%s", y.body)
		}
	})
}

func TestCreate_BlockErrorsNameThePathAndRefuseScripts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sg := f.audience(t)
		for _, tc := range []struct {
			doc, field string
		}{
			{`{"blocks":[{"type":"text","text":"a"},{"type":"columns","columns":[[{"type":"text","text":"b"}],[{"type":"button","label":"x","url":"javascript:alert(1)"}]]}]}`,
				"blocks[1].columns[1][0].url"},
			{`{"blocks":[{"type":"variant","by":"segment","options":[{"segment_id":99999,"blocks":[]}]}]}`, "blocks[0].options[0].segment_id"},
		} {
			in := campaignInput(sg)
			in.Blocks = json.RawMessage(tc.doc)
			_, err := f.email.Create(ctx, f.mkt, in)
			if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || e.Field != tc.field {
				t.Errorf("%s: %v", tc.doc, err)
			}
		}
		// Raw HTML campaigns are unchanged.
		c, err := f.email.Create(ctx, f.mkt, campaignInput(sg))
		if err != nil || c.Blocks != nil || !strings.Contains(c.Template.HTML, "事例を読む") {
			t.Errorf("raw campaign: %+v %v", c, err)
		}
	})
}
