package email

import (
	"strings"
	"testing"

	"github.com/ryorin/ryorin/internal/errs"
)

func TestParseBlocks_ErrorsNameTheBlockPath(t *testing.T) {
	for _, tc := range []struct {
		doc, field string
	}{
		{`{"blocks":[]}`, "blocks"},
		{`{"blocks":[{"type":"text","text":"a"}],"x":1}`, "blocks"},
		{`not json`, "blocks"},
		{`{"blocks":[{"type":"text","text":"a"},{"type":"video"}]}`, "blocks[1].type"},
		{`{"blocks":[{}]}`, "blocks[0].type"},
		{`{"blocks":[{"type":"text","text":"{{Nope}}"}]}`, "blocks[0].text"},
		{`{"blocks":[{"type":"image","url":"https://x.example/a.png"}]}`, "blocks[0].alt"},
		{`{"blocks":[{"type":"image","url":"/a.png","alt":"a"}]}`, "blocks[0].url"},
		{`{"blocks":[{"type":"button","label":"Go","url":"javascript:alert(1)"}]}`, "blocks[0].url"},
		{`{"blocks":[{"type":"button","label":"Go","url":" JavaScript:alert(1)"}]}`, "blocks[0].url"},
		{`{"blocks":[{"type":"image","url":"data:image/png;base64,xx","alt":"a"}]}`, "blocks[0].url"},
		{`{"blocks":[{"type":"spacer","height":500}]}`, "blocks[0].height"},
		{`{"blocks":[{"type":"columns","columns":[[]]}]}`, "blocks[0].columns"},
		{`{"blocks":[{"type":"divider"},{"type":"divider"},{"type":"columns","columns":[[{"type":"text","text":"a"}],[{"type":"button","label":"x","url":"ftp://x"}]]}]}`,
			"blocks[2].columns[1][0].url"},
		{`{"blocks":[{"type":"variant","by":"mood","options":[{"topic":"a","blocks":[]}]}]}`, "blocks[0].by"},
		{`{"blocks":[{"type":"variant","by":"segment","options":[{"topic":"a","blocks":[]}]}]}`, "blocks[0].options[0].segment_id"},
		{`{"blocks":[{"type":"variant","by":"interest","options":[{"topic":"a","blocks":[{"type":"heading"}]}]}]}`, "blocks[0].options[0].blocks[0].text"},
		{`{"blocks":[{"type":"variant","by":"interest","options":[{"topic":"a","blocks":[]}],"default":[{"type":"image"}]}]}`, "blocks[0].default[0].url"},
	} {
		_, err := ParseBlocks([]byte(tc.doc))
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid || e.Field != tc.field {
			t.Errorf("%s: want an Invalid error at %s, got %v (%+v)", tc.doc, tc.field, err, e)
		}
	}
}

func TestCompileBlocks_EscapesTextAndMergeFields(t *testing.T) {
	doc, err := ParseBlocks([]byte(`{"blocks":[
		{"type":"heading","text":"<b>新製品</b> {{Salutation}}"},
		{"type":"text","text":"{{GivenName|皆様}}、こんにちは。\n\n<script>alert(1)</script> {{ {{.Email}} {{FamilyName}}"},
		{"type":"image","url":"https://cdn.example/a.png?x=1&y={2}","alt":"\"quoted\" <alt>","link":"https://example.com/l"},
		{"type":"columns","columns":[[{"type":"button","label":"詳しく","url":"https://example.com/more?a=1&b=2"}],[{"type":"spacer","height":10}],[{"type":"divider"}]]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	tpl := CompileBlocks(doc, "{{.Salutation}}", nil)
	p, err := Parse(tpl)
	if err != nil {
		t.Fatalf("compiled template does not parse: %v\n%s", err, tpl.HTML)
	}
	r, err := p.Render(Fields{FamilyName: `<img src=x onerror=alert(1)>`, Company: "A&B", Salutation: `A&B <i>様</i>`})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<b>", "<img src=x", "<i>", "onerror=alert(1)>"} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("HTML contains %q unescaped:\n%s", bad, r.HTML)
		}
	}
	for _, want := range []string{"&lt;b&gt;新製品&lt;/b&gt;", "A&amp;B &lt;i&gt;様&lt;/i&gt;", "皆様、こんにちは。", "&lt;script&gt;", "&#123;&#123; &#123;&#123;.Email}}",
		`&lt;img src=x onerror=alert(1)&gt;`, `alt="&#34;quoted&#34; &lt;alt&gt;"`, `href="https://example.com/more?a=1&amp;b=2"`, "max-width:600px",
		`role="presentation"`, "%7B2%7D"} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
		}
	}
	for _, want := range []string{"皆様、こんにちは。", "<script>alert(1)</script> {{ {{.Email}} <img src=x onerror=alert(1)>", "詳しく: https://example.com/more?a=1&b=2",
		"\"quoted\" <alt>: https://example.com/l"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, r.Text)
		}
	}
}

func TestCompileBlocks_VariantsChoosePerRecipient(t *testing.T) {
	doc, err := ParseBlocks([]byte(`{"blocks":[
		{"type":"variant","by":"segment","options":[{"segment_id":7,"blocks":[{"type":"text","text":"seg7"}]},{"segment_id":8,"blocks":[{"type":"text","text":"seg8"}]}],"default":[{"type":"text","text":"noseg"}]},
		{"type":"variant","by":"interest","options":[{"topic":"pricing","blocks":[{"type":"text","text":"price"}]}],"default":[]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	segs, in := doc.Needs()
	if len(segs) != 2 || !in {
		t.Errorf("Needs: %v %v", segs, in)
	}
	p, err := Parse(CompileBlocks(doc, "s", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    Fields
		want []string
		not  []string
	}{
		{Fields{Segments: []int64{8, 7}}, []string{"seg7"}, []string{"seg8", "noseg", "price"}},
		{Fields{Segments: []int64{8}, TopInterest: "pricing"}, []string{"seg8", "price"}, []string{"seg7", "noseg"}},
		{Fields{}, []string{"noseg"}, []string{"seg7", "seg8", "price"}},
	} {
		r, err := p.Render(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.HTML, w) || !strings.Contains(r.Text, w) {
				t.Errorf("%+v: lacks %q", tc.f, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(r.HTML, w) || strings.Contains(r.Text, w) {
				t.Errorf("%+v: has %q", tc.f, w)
			}
		}
	}
}
