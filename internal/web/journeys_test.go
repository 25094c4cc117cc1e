package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestJourneysUI_EditorFlowViewAndTimelineInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		s := func(v string) *string { return &v }
		ct, err := e.crm.CreateContact(ctx, platform.CLI(1), crm.ContactInput{FamilyName: s("鈴木"), Email: s("suzuki@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		if code, body, at := e.post("/lists", url.Values{"name": {"育成済み"}}); code != 200 || at != "/lists/1" {
			t.Fatalf("create list: %d at %s %.300s", code, at, body)
		}
		form := url.Values{"name": {"ウェビナー後のフォロー"}, "trigger_kind": {"event"}, "trigger_event": {"webinar_attended"},
			"steps.0.id": {"w"}, "steps.0.type": {"wait"}, "steps.0.duration": {""},
			"steps.1.id": {"l"}, "steps.1.type": {"add_to_list"}, "steps.1.list_id": {"1"},
			"steps.2.id": {""}, "steps.2.type": {""}}
		// A wait without a duration, time or business hours is refused naming the step, input kept.
		code, body, _ := e.post("/journeys", form)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "steps[0].wait") || !strings.Contains(body, "ウェビナー後のフォロー") {
			t.Fatalf("bad journey: %d %.800s", code, body)
		}
		form.Set("steps.0.duration", "1d")
		if code, body, at := e.post("/journeys", form); code != 200 || at != "/journeys/1" {
			t.Fatalf("create: %d at %s %.600s", code, at, body)
		}
		if code, body, at := e.post("/journeys/1/activate", nil); code != 200 || at != "/journeys/1" || !strings.Contains(body, `data-testid="pause-journey"`) {
			t.Fatalf("activate: %d at %s %.300s", code, at, body)
		}
		if _, err := e.jy.Enrol(ctx, platform.CLI(1), 1, ct.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.jy.Tick(ctx, 1); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(25 * time.Hour)
		if _, _, err := e.jy.Tick(ctx, 1); err != nil {
			t.Fatal(err)
		}
		_, body = e.get("/journeys/1")
		if strings.Count(body, `data-testid="step-card"`) != 2 || strings.Count(body, `<b data-testid="stat-passed">1</b>`) != 2 ||
			!strings.Contains(body, `<b data-testid="stat-exited">1</b>`) {
			t.Errorf("flow view lacks the step cards and their counts:\n%.3000s", body)
		}
		if code, _, at := e.post("/journeys/1/pause", nil); code != 200 || at != "/journeys/1" {
			t.Errorf("pause: %d at %s", code, at)
		}
		// An email step's automated campaign has its report page, reached from the flow view.
		if _, err := platform.SetSMTP(ctx, d, platform.CLI(1), platform.SMTPSettings{Host: "127.0.0.1", Port: 25, TLS: "none",
			FromAddress: "news@example.jp"}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		tpl, err := e.email.Create(ctx, platform.CLI(1), email.CampaignInput{Name: "ご案内", AudienceKind: email.AudienceList, AudienceID: 1,
			Template: email.Template{Subject: "{{.Salutation}}", Text: "{{.Salutation}}\n本文"}})
		if err != nil {
			t.Fatal(err)
		}
		mail := url.Values{"name": {"メール付き"}, "trigger_kind": {"recycled"}, "steps.0.id": {"m"}, "steps.0.type": {"email"},
			"steps.0.template_id": {strconv.FormatInt(tpl.ID, 10)}}
		if code, body, at := e.post("/journeys", mail); code != 200 || at != "/journeys/2" {
			t.Fatalf("create with email: %d at %s %.600s", code, at, body)
		}
		_, body = e.get("/journeys/2")
		if strings.Contains(body, `data-testid="step-report"`) {
			t.Errorf("a draft's email step links to a report")
		}
		_, body, _ = e.post("/journeys/2/activate", nil)
		m := regexp.MustCompile(`href="/email/campaigns/(\d+)" data-testid="step-report"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no report link on the active journey:\n%.3000s", body)
		}
		report := "/email/campaigns/" + m[1]
		c2, err := e.crm.CreateContact(ctx, platform.CLI(1), crm.ContactInput{FamilyName: s("佐藤"), Email: s("sato@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := e.jy.Enrol(ctx, platform.CLI(1), 2, c2.ID); err != nil || !ok {
			t.Fatalf("enrol: %v %v", ok, err)
		}
		if _, body := e.get("/journeys/2"); !strings.Contains(body, `action="/journeys/2/enrolments/2/remove"`) {
			t.Errorf("no remove button for a running enrolment")
		}
		if code, body, at := e.post("/journeys/2/enrolments/2/remove", nil); code != 200 || at != "/journeys/2" || strings.Contains(body, `data-testid="remove-enrolment"`) {
			t.Errorf("remove: %d at %s", code, at)
		}
		if _, body := e.get("/email/campaigns"); strings.Contains(body, `href="`+report+`"`) {
			t.Errorf("the journey's campaign is listed with the campaigns")
		}
		for _, lang := range []string{"ja", "en"} {
			if code, _, _ := e.post("/settings/language", url.Values{"lang": {lang}}); code != 200 {
				t.Fatalf("set language %s: %d", lang, code)
			}
			for _, p := range []string{"/journeys", "/journeys/new", "/journeys/1", "/journeys/1/edit", "/journeys/2", "/contacts/1", "/contacts/1?tl=marketing", report} {
				code, body := e.get(p)
				if code != 200 || strings.Contains(body, "ZgotmplZ") || strings.Contains(body, "journeys.") || strings.Contains(body, "timeline.journey") {
					t.Errorf("%s %s: %d %.500s", lang, p, code, body)
				}
			}
			if _, body := e.get(report); !strings.Contains(body, "メール付き") || strings.Contains(body, "/delete") || strings.Contains(body, "email.status") {
				t.Errorf("%s: the step's report page: %.1500s", lang, body)
			}
			_, body := e.get("/contacts/1?tl=marketing")
			want := map[string]string{"ja": "ジャーニー「ウェビナー後のフォロー」のステップ l を実行", "en": "Journey “ウェビナー後のフォロー”: ran step l"}[lang]
			if !strings.Contains(body, want) {
				t.Errorf("%s: the contact's timeline lacks %q", lang, want)
			}
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, n := range []string{"journeys", "journey", "journey_edit"} {
			if !e.renders[n] {
				t.Errorf("template %s not rendered", n)
			}
		}
	})
}
