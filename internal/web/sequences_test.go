package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/platform"
)

func TestSequencesUI_EditEnrolEndAndFieldErrorsInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d, true)
		e.login()
		ctx := context.Background()
		a := platform.Actor{WorkspaceID: 1, UserID: 1, Role: platform.RoleAdmin, Kind: platform.ActorUser}
		s := func(v string) *string { return &v }
		ct, err := e.crm.CreateContact(ctx, a, crm.ContactInput{FamilyName: s("鈴木"), GivenName: s("一郎"), Email: s("ichiro@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		// A bad delay: refused naming the step's field, the typed rows kept.
		form := url.Values{"name": {"初回フォロー"}, "steps.0.action": {"email"}, "steps.0.delay_days": {"0"}, "steps.0.subject": {"{{.FamilyName}}様"},
			"steps.0.body": {"資料をお送りします"}, "steps.1.action": {"call"}, "steps.1.delay_days": {"-3"}, "steps.2.action": {""}}
		if code, body, _ := e.post("/sequences", form); code != 422 || !strings.Contains(body, "steps[1].delay_days") || !strings.Contains(body, "資料をお送りします") {
			t.Fatalf("bad delay: %d %.300s", code, body)
		}
		form.Set("steps.1.delay_days", "2")
		form.Set("steps.2.action", "task")
		form.Set("steps.2.delay_days", "3")
		form.Set("steps.2.note", "事例を送る")
		if code, body, at := e.post("/sequences", form); code != 200 || at != "/sequences/1" {
			t.Fatalf("save: %d at %s %.300s", code, at, body)
		}
		// Remove the task row.
		form.Set("steps.2.remove", "1")
		if _, _, at := e.post("/sequences/1", form); at != "/sequences/1" {
			t.Fatalf("update went to %s", at)
		}
		if sq, err := e.seq.Get(ctx, a, 1); err != nil || len(sq.Steps) != 2 {
			t.Fatalf("after removing a row: %+v, %v", sq, err)
		}
		if _, body := e.get("/contacts/" + itoa(ct.ID)); !strings.Contains(body, `data-testid="enrol-sequence"`) {
			t.Fatalf("no enrol form on the contact page")
		}
		if _, _, at := e.post("/contacts/"+itoa(ct.ID)+"/sequences", url.Values{"sequence_id": {"1"}}); at != "/contacts/"+itoa(ct.ID) {
			t.Fatalf("enrol went to %s", at)
		}
		if _, body, _ := e.post("/contacts/"+itoa(ct.ID)+"/sequences", url.Values{"sequence_id": {"1"}}); !strings.Contains(body, "flash") {
			t.Errorf("enrolling twice shows no message")
		}
		for _, lang := range []string{"ja", "en"} {
			e.post("/settings/language", url.Values{"lang": {lang}})
			for _, p := range []string{"/sequences", "/sequences/new", "/sequences/1", "/contacts/" + itoa(ct.ID)} {
				if code, body := e.get(p); code != 200 || strings.Contains(body, "ZgotmplZ") {
					t.Errorf("%s %s: %d", lang, p, code)
				}
			}
			_, body := e.get("/contacts/" + itoa(ct.ID))
			want := map[string]string{"ja": "シーケンス「初回フォロー」に登録", "en": "Enrolled in sequence “初回フォロー”"}[lang]
			if !strings.Contains(body, want) || !strings.Contains(body, `data-testid="contact-enrolment"`) {
				t.Errorf("%s: contact page lacks the enrolment and its timeline entry %q", lang, want)
			}
		}
		if _, body := e.get("/sequences/1"); !strings.Contains(body, `data-testid="end-enrolment"`) || !strings.Contains(body, "鈴木 一郎") {
			t.Fatalf("the sequence page does not list the enrolment")
		}
		if _, _, at := e.post("/sequences/1/enrolments/1/end", nil); at != "/sequences/1" {
			t.Fatalf("end went to %s", at)
		}
		if en, err := e.seq.GetEnrolment(ctx, a, 1); err != nil || en.Status != "ended" {
			t.Fatalf("after end: %+v, %v", en, err)
		}
		if _, body := e.get("/sequences"); !strings.Contains(body, "初回フォロー") || !strings.Contains(body, "0%") {
			t.Errorf("the list lacks the sequence and its reply rate")
		}
	})
}
