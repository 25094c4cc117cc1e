package email

import (
	"strings"
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

// FuzzParseBlocks: any block document is either refused as Invalid or
// compiles to a template that parses and renders, with no script and no
// link other than http, https or mailto.
func FuzzParseBlocks(f *testing.F) {
	for _, s := range []string{
		`{"blocks":[{"type":"text","text":"{{Salutation}}\n\nこんにちは {{GivenName|皆様}}"}]}`,
		`{"blocks":[{"type":"heading","text":"{{ {{.Email}} }}"},{"type":"divider"},{"type":"spacer","height":20}]}`,
		`{"blocks":[{"type":"image","url":"https://x.example/a.png","alt":"a","link":"https://x.example"}]}`,
		`{"blocks":[{"type":"button","label":"<b>x</b>","url":"mailto:a@example.com"}]}`,
		`{"blocks":[{"type":"button","label":"x","url":"javascript:alert(1)"}]}`,
		`{"blocks":[{"type":"columns","columns":[[{"type":"text","text":"a"}],[{"type":"text","text":"b"}]]}]}`,
		`{"blocks":[{"type":"variant","by":"interest","options":[{"topic":"pricing\"}}{{.Email","blocks":[{"type":"text","text":"p"}]}],"default":[{"type":"text","text":"d"}]}]}`,
		`{"blocks":[{"type":"variant","by":"segment","options":[{"segment_id":3,"blocks":[]}]}]}`,
		`{"blocks":[{"type":"text","text":"{{FamilyName|}}}}{{{"}]}`,
		`{"blocks":[{"type":"content","asset_id":7,"label":"{{GivenName|皆様}}へ"},{"type":"columns","columns":[[{"type":"content","asset_id":8}],[]]}]}`,
		`{"blocks":null}`, `[]`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := ParseBlocks(src)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("ParseBlocks error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		// Card texts come from the library, written by anyone signed in.
		cards, links := map[int64]ContentCard{}, map[int64]string{}
		for _, id := range d.Assets() {
			cards[id] = ContentCard{Kind: "{{.Email}}", Title: "</p><script>x</script>{{", Description: "a\n{{end}}", Button: "<b>"}
			links[id] = "https://r.example/c/s/tok"
		}
		tpl := CompileBlocks(d, "s", cards)
		p, err := Parse(tpl)
		if err != nil {
			t.Fatalf("a valid document compiled to a template that does not parse: %v\n%s", err, tpl.HTML)
		}
		r, err := p.Render(Fields{FamilyName: "<script>", TopInterest: "pricing", Segments: []int64{3}, ContentLinks: links})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		low := strings.ToLower(r.HTML)
		if strings.Contains(low, "<script") || strings.Contains(low, "javascript:") {
			t.Fatalf("compiled HTML has a script:\n%s", r.HTML)
		}
	})
}
