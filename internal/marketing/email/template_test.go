package email_test

import (
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/email"
)

func TestSalutation_CompanyAndFamilyNameWithFallback(t *testing.T) {
	for _, c := range []struct{ company, family, want string }{
		{"株式会社両輪", "山田", "株式会社両輪 山田様"},
		{"", "山田", "山田様"},
		{"株式会社両輪", "", "株式会社両輪 ご担当者様"},
		{"", " ", "ご担当者様"},
	} {
		if got := email.Salutation(c.company, c.family); got != c.want {
			t.Errorf("Salutation(%q, %q) = %q, want %q", c.company, c.family, got, c.want)
		}
	}
}

func TestParse_RefusesBrokenTemplatesNamingTheLine(t *testing.T) {
	for _, c := range []struct {
		name  string
		tpl   email.Template
		field string
		line  string
	}{
		{"unclosed action", email.Template{Subject: "Hi", HTML: "<p>ok</p>\n<p>{{.FamilyName</p>"}, "html", "line 2"},
		{"unknown field", email.Template{Subject: "Hi", Text: "a\nb\n{{.Nickname}}"}, "text", "line 3"},
		{"bad subject", email.Template{Subject: "{{if}}", Text: "x"}, "subject", "line 1"},
		{"missing end", email.Template{Subject: "Hi", HTML: "{{if .Email}}\n<p>x</p>"}, "html", "line"},
	} {
		_, err := email.Parse(c.tpl)
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid || e.Field != c.field || !strings.Contains(e.Message, c.line) {
			t.Errorf("%s: err = %#v", c.name, err)
		}
	}
	if _, err := email.Parse(email.Template{Subject: "Hi"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("no body: %v", err)
	}
}

func TestRender_EscapesFieldsInHTMLAndUsesFallbacks(t *testing.T) {
	p, err := email.Parse(email.Template{Subject: "{{.Salutation}} ご案内", HTML: `<p>{{.Salutation}}</p><p>{{or .GivenName "皆様"}}</p>`,
		Text: "{{.Salutation}}\n{{or .GivenName \"皆様\"}}"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Render(email.Fields{FamilyName: `<b>山田</b>`, Salutation: email.Salutation("", `<b>山田</b>`)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<b>") || !strings.Contains(r.HTML, "&lt;b&gt;山田&lt;/b&gt;様") || !strings.Contains(r.HTML, "皆様") {
		t.Errorf("html = %s", r.HTML)
	}
	if r.Subject != "<b>山田</b>様 ご案内" || !strings.Contains(r.Text, "皆様") {
		t.Errorf("subject %q text %q", r.Subject, r.Text)
	}
}
