package email

import (
	"testing"

	"github.com/ryorin/ryorin/internal/errs"
)

// FuzzParse: any template text is either refused as Invalid or renders for
// any recipient; the parser never panics and never returns another kind.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "Hello", "{{.FamilyName}}様", `{{or .GivenName "皆様"}}`, "{{if .Company}}{{.Company}}{{end}}",
		"{{.Nope}}", "{{", "{{template \"x\"}}", "{{range .Email}}{{end}}", "<a href=\"{{.UnsubscribeURL}}\">x</a>", "{{define \"a\"}}{{end}}"} {
		f.Add("件名 {{.Salutation}}", s, s)
	}
	f.Fuzz(func(t *testing.T, subject, html, text string) {
		p, err := Parse(Template{Subject: subject, HTML: html, Text: text})
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("Parse error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if _, err := p.Render(Fields{}); err != nil && !errs.Is(err, errs.Invalid) {
			t.Fatalf("Render error of kind %v: %v", errs.KindOf(err), err)
		}
	})
}
