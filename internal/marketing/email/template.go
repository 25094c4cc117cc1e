// Package email owns marketing email: templates personalised per contact,
// campaigns to a list or segment sent by one durable job with a send log,
// the suppression list, open/click tracking and unsubscribe by signed links,
// and the per-campaign report. It sends through platform.Mailer and records
// events through platform.StoreEvents; it never imports web, api, httpx or app.
package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/ryorin/ryorin/internal/errs"
)

// MaxTemplate bounds each part of a template.
const MaxTemplate = 256 << 10

// Template is an email's subject, HTML body and plain-text body. Each is a Go
// template over Fields; the HTML body is escaped by html/template, so a
// contact's name can never inject markup. Fallbacks use the builtin "or":
// {{or .FamilyName "お客様"}}.
type Template struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

// Fields are what a template can use about its recipient.
type Fields struct {
	Email      string
	FamilyName string
	GivenName  string
	Company    string
	Title      string
	Department string
	// Salutation is the Japanese business salutation:
	// 「{会社名} {姓}様」, 「{姓}様」 without a company, and 「ご担当者様」
	// (after the company when known) without a family name.
	Salutation string
	// UnsubscribeURL is the recipient's signed unsubscribe link.
	UnsubscribeURL string
	// TopInterest is the recipient's strongest interest topic ("" when
	// unknown); variant blocks choose by it.
	TopInterest string
	// Segments are the recipient's memberships among the segments the
	// template asks about (InSegment).
	Segments []int64
	// ContentLinks are the recipient's links to the assets of the
	// template's content blocks, by asset id (ContentLink).
	ContentLinks map[int64]string
	// trial marks the sample Fields a template is test-rendered with before
	// it is saved: every content link exists then.
	trial bool
}

// ContentLink returns the recipient's link to content-library asset id;
// content blocks compile to {{.ContentLink id}}. An asset that is gone or no
// longer published has no link, and rendering fails rather than send a
// dead one.
func (f Fields) ContentLink(id int64) (string, error) {
	if u, ok := f.ContentLinks[id]; ok {
		return u, nil
	}
	if f.trial {
		return fmt.Sprintf("https://example.com/c/sample-%d", id), nil
	}
	return "", fmt.Errorf("content %d is not available (deleted or not published)", id)
}

// InSegment reports whether the recipient is in segment id; variant blocks
// compile to {{if .InSegment id}}.
func (f Fields) InSegment(id int64) bool {
	for _, s := range f.Segments {
		if s == id {
			return true
		}
	}
	return false
}

// Salutation returns the Japanese salutation for a company and family name.
func Salutation(company, family string) string {
	company, family = strings.TrimSpace(company), strings.TrimSpace(family)
	name := "ご担当者様"
	if family != "" {
		name = family + "様"
	}
	if company != "" {
		return company + " " + name
	}
	return name
}

// Parsed is a template ready to render.
type Parsed struct {
	subject *texttemplate.Template
	html    *htmltemplate.Template
	text    *texttemplate.Template
}

// sample is what a template is executed with before it is saved, so a
// reference to a field that does not exist is refused then, not at send time.
var sample = Fields{Email: "sample@example.com", FamilyName: "山田", GivenName: "太郎", Company: "株式会社サンプル",
	Salutation: "株式会社サンプル 山田様", UnsubscribeURL: "https://example.com/e/u/sample", trial: true}

// Parse parses and test-renders t. An error is Invalid, names the part
// (subject, html, text) and, from the template package, the line.
func Parse(t Template) (*Parsed, error) {
	if strings.TrimSpace(t.Subject) == "" {
		return nil, errs.Field("subject", "is required")
	}
	if strings.TrimSpace(t.HTML) == "" && strings.TrimSpace(t.Text) == "" {
		return nil, errs.Field("text", "an HTML or a plain-text body is required")
	}
	for _, p := range []struct{ name, src string }{{"subject", t.Subject}, {"html", t.HTML}, {"text", t.Text}} {
		if len(p.src) > MaxTemplate {
			return nil, errs.Field(p.name, "is longer than %d bytes", MaxTemplate)
		}
	}
	var p Parsed
	var err error
	if p.subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(t.Subject); err != nil {
		return nil, errs.Field("subject", "%s", cleanErr(err))
	}
	if p.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(t.HTML); err != nil {
		return nil, errs.Field("html", "%s", cleanErr(err))
	}
	if p.text, err = texttemplate.New("text").Option("missingkey=error").Parse(t.Text); err != nil {
		return nil, errs.Field("text", "%s", cleanErr(err))
	}
	if _, err := p.Render(sample); err != nil {
		return nil, err
	}
	return &p, nil
}

// Rendered is a template rendered for one recipient.
type Rendered struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

// Render executes the template with f. An error is Invalid and names the
// part and line.
func (p *Parsed) Render(f Fields) (Rendered, error) {
	var r Rendered
	var b bytes.Buffer
	if err := p.subject.Execute(&b, f); err != nil {
		return r, errs.Field("subject", "%s", cleanErr(err))
	}
	// A subject is one header line.
	r.Subject = strings.Join(strings.Fields(b.String()), " ")
	if r.Subject == "" {
		return r, errs.Field("subject", "renders empty")
	}
	b.Reset()
	if err := p.html.Execute(&b, f); err != nil {
		return r, errs.Field("html", "%s", cleanErr(err))
	}
	r.HTML = b.String()
	b.Reset()
	if err := p.text.Execute(&b, f); err != nil {
		return r, errs.Field("text", "%s", cleanErr(err))
	}
	r.Text = b.String()
	return r, nil
}

// cleanErr turns "template: html:3:7: executing …" into "line 3:7: …".
func cleanErr(err error) string {
	s := err.Error()
	for _, part := range []string{"subject", "html", "text"} {
		if rest, ok := strings.CutPrefix(s, "template: "+part+":"); ok {
			return "line " + rest
		}
		if rest, ok := strings.CutPrefix(s, "html/template:"+part+":"); ok {
			return "line " + rest
		}
	}
	return fmt.Sprint(strings.TrimPrefix(s, "template: "))
}
