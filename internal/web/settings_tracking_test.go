package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/track"
)

func TestTrackingSettings_ShowTheSnippetSaveRulesAndShowErrorsByTheField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		code, body := e.get("/settings/tracking")
		if code != 200 || !strings.Contains(body, "/t.js&#34;&gt;&lt;/script&gt;") || !strings.Contains(body, "ryorin_vid") {
			t.Fatalf("page: %d %.500s", code, body)
		}
		e.mustPost("/settings/tracking", url.Values{"consent_required": {"1"}, "retention_days": {"90"},
			"allowed_origins": {"https://www.example.jp\nhttps://shop.example.jp"},
			"channel_rules":   {"utm_source = PRTimes → referral\nreferrer_host = partner.example.com -> events_offline\n"}}, "/settings/tracking")
		set, err := track.GetSettings(context.Background(), d.Reader(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if !set.ConsentRequired || set.RetentionDays != 90 || len(set.AllowedOrigins) != 2 || len(set.ChannelRules) != 2 ||
			set.ChannelRules[0] != (track.ChannelRule{Field: "utm_source", Value: "prtimes", Channel: "referral"}) {
			t.Fatalf("saved %+v", set)
		}
		if _, body := e.get("/settings/tracking"); !strings.Contains(body, "referrer_host = partner.example.com → events_offline") {
			t.Fatal("saved rules are not shown back")
		}
		for field, form := range map[string]url.Values{
			"retention_days":  {"retention_days": {"0"}},
			"channel_rules":   {"retention_days": {"30"}, "channel_rules": {"utm_source = x → no_such_channel"}},
			"allowed_origins": {"retention_days": {"30"}, "allowed_origins": {"example.jp"}},
		} {
			code, body, _ := e.post("/settings/tracking", form)
			i := strings.Index(body, "field bad")
			if code != 422 || i < 0 || !strings.Contains(body[i:min(len(body), i+400)], `name="`+field+`"`) {
				t.Errorf("%s: %d %.300s", field, code, body)
			}
		}
		if set2, _ := track.GetSettings(context.Background(), d.Reader(), 1); set2.RetentionDays != 90 {
			t.Fatalf("a refused form changed the settings: %+v", set2)
		}
	})
}
