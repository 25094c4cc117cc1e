package email

import (
	"fmt"
	"html"
	"strconv"
	"strings"
)

// The compiled HTML is what mail clients handle best: nested tables for
// layout, every style inline, at most 600px wide, no script, no external
// style sheet. The one <style> rule only stacks columns on narrow screens;
// clients that drop it still get a readable (side by side) layout.
const (
	font       = `font-family:-apple-system,'Helvetica Neue',Arial,'Hiragino Sans','Hiragino Kaku Gothic ProN',Meiryo,sans-serif`
	docHead    = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><style>@media (max-width:480px){.rc{display:block!important;width:100%!important}}</style></head>` + "\n"
	bodyOpen   = `<body style="margin:0;padding:0;background:#f3f4f6"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6"><tr><td align="center" style="padding:16px 8px">` + "\n" + `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;background:#ffffff">` + "\n"
	bodyClose  = `</table>` + "\n" + `</td></tr></table></body></html>` + "\n"
	cellPad    = `padding:8px 24px;`
	textStyle  = `margin:0 0 12px;font-size:15px;line-height:1.7;color:#1f2937;`
	headStyle  = `margin:0;font-size:22px;line-height:1.4;color:#111827;font-weight:bold;`
	buttonCell = `border-radius:6px;background:#2563eb;`
	buttonLink = `display:inline-block;padding:12px 24px;font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px;`
	cardBox    = `border:1px solid #e5e7eb;border-radius:8px;background:#f9fafb;`
	cardKind   = `margin:0 0 4px;font-size:12px;line-height:1.4;color:#6b7280;letter-spacing:0.05em;`
	cardTitle  = `margin:0 0 8px;font-size:18px;line-height:1.4;color:#111827;font-weight:bold;`
)

// ContentCard is what a content block shows of its asset, read when the
// campaign is saved: the kind already in the workspace's language, and the
// label of the button when the block names none.
type ContentCard struct {
	Kind        string
	Title       string
	Description string
	Button      string
}

// CompileBlocks turns a validated document into the HTML and plain-text
// parts of t (the subject stays as given). Both parts are Go templates over
// Fields, so they go through the same personalisation, link tracking and
// footer as a raw-HTML template. Literal text is escaped here; merge fields
// are escaped by html/template when rendered. cards are the content blocks'
// assets by id; a content block's link is {{.ContentLink id}}, the
// recipient's own share link, filled in per recipient at send time.
func CompileBlocks(d BlockDoc, subject string, cards map[int64]ContentCard) Template {
	var h, t strings.Builder
	h.WriteString(docHead)
	h.WriteString(bodyOpen)
	c := compiler{cards: cards}
	c.html(&h, d.Blocks, 24)
	h.WriteString(bodyClose)
	c.text(&t, d.Blocks)
	return Template{Subject: subject, HTML: h.String(), Text: strings.TrimSpace(t.String()) + "\n"}
}

type compiler struct {
	cards map[int64]ContentCard
}

// card returns a content block's card and its button label.
func (c compiler) card(b Block) (ContentCard, string) {
	cd := c.cards[b.AssetID]
	label := b.Label
	if strings.TrimSpace(label) == "" {
		label = cd.Button
	}
	return cd, label
}

// html writes blocks as table rows; pad is the side padding (less
// inside columns).
func (c compiler) html(w *strings.Builder, bs []Block, pad int) {
	cell := func(extra string) {
		fmt.Fprintf(w, `<tr><td style="padding:8px %dpx;%s">`, pad, extra)
	}
	for _, b := range bs {
		switch b.Type {
		case BlockHeading:
			cell(font)
			fmt.Fprintf(w, `<h2 style="%s">%s</h2></td></tr>`+"\n", headStyle, mergeHTML(b.Text))
		case BlockText:
			cell(font)
			for _, para := range paragraphs(b.Text) {
				fmt.Fprintf(w, `<p style="%s">%s</p>`, textStyle, strings.ReplaceAll(mergeLinkedHTML(para), "\n", "<br>"))
			}
			w.WriteString("</td></tr>\n")
		case BlockImage:
			cell(`text-align:center;`)
			img := fmt.Sprintf(`<img src="%s" alt="%s" width="100%%" style="display:block;max-width:100%%;height:auto;border:0;">`, attrURL(b.URL), attr(b.Alt))
			if strings.TrimSpace(b.Link) != "" {
				img = fmt.Sprintf(`<a href="%s" target="_blank">%s</a>`, attrURL(b.Link), img)
			}
			w.WriteString(img + "</td></tr>\n")
		case BlockButton:
			cell(`text-align:center;` + font)
			fmt.Fprintf(w, `<table role="presentation" cellpadding="0" cellspacing="0" border="0" align="center"><tr><td style="%s"><a href="%s" target="_blank" style="%s">%s</a></td></tr></table></td></tr>`+"\n",
				buttonCell, attrURL(b.URL), buttonLink, mergeHTML(b.Label))
		case BlockDivider:
			cell("")
			w.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="border-top:1px solid #e5e7eb;font-size:0;line-height:0;height:1px;">&nbsp;</td></tr></table></td></tr>` + "\n")
		case BlockSpacer:
			fmt.Fprintf(w, `<tr><td style="height:%dpx;font-size:0;line-height:0;">&nbsp;</td></tr>`+"\n", b.Height)
		case BlockColumns:
			fmt.Fprintf(w, `<tr><td style="padding:0 %dpx;"><table role="presentation" width="100%%" cellpadding="0" cellspacing="0" border="0"><tr>`, max(pad-12, 0))
			width := 100 / len(b.Columns)
			for _, col := range b.Columns {
				fmt.Fprintf(w, `<td class="rc" width="%d%%" valign="top" style="width:%d%%;vertical-align:top;"><table role="presentation" width="100%%" cellpadding="0" cellspacing="0" border="0">`+"\n", width, width)
				c.html(w, col, 12)
				w.WriteString("</table></td>")
			}
			w.WriteString("</tr></table></td></tr>\n")
		case BlockVariant:
			compileVariant(w, b, func(bs []Block) { c.html(w, bs, pad) })
		case BlockContent:
			cd, label := c.card(b)
			cell(font)
			fmt.Fprintf(w, `<table role="presentation" width="100%%" cellpadding="0" cellspacing="0" border="0" style="%s"><tr><td style="padding:16px 20px;">`, cardBox)
			if cd.Kind != "" {
				fmt.Fprintf(w, `<p style="%s">%s</p>`, cardKind, attr(cd.Kind))
			}
			fmt.Fprintf(w, `<p style="%s">%s</p>`, cardTitle, attr(cd.Title))
			if strings.TrimSpace(cd.Description) != "" {
				fmt.Fprintf(w, `<p style="%s">%s</p>`, textStyle, strings.ReplaceAll(attr(cd.Description), "\n", "<br>"))
			}
			fmt.Fprintf(w, `<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td style="%s"><a href="{{.ContentLink %d}}" target="_blank" style="%s">%s</a></td></tr></table>`,
				buttonCell, b.AssetID, buttonLink, mergeHTML(label))
			w.WriteString("</td></tr></table></td></tr>\n")
		}
	}
}

// compileVariant writes the options as one if / else if chain over Fields,
// so which option a recipient gets is decided when rendering for them.
func compileVariant(w *strings.Builder, b Block, body func([]Block)) {
	for i, o := range b.Options {
		if i > 0 {
			w.WriteString("{{else if ")
		} else {
			w.WriteString("{{if ")
		}
		if b.By == VariantBySegment {
			fmt.Fprintf(w, ".InSegment %d}}", o.SegmentID)
		} else {
			fmt.Fprintf(w, "eq .TopInterest %s}}", strconv.Quote(strings.TrimSpace(o.Topic)))
		}
		body(o.Blocks)
	}
	w.WriteString("{{else}}")
	body(b.Default)
	w.WriteString("{{end}}\n")
}

func (c compiler) text(w *strings.Builder, bs []Block) {
	for _, b := range bs {
		switch b.Type {
		case BlockHeading:
			line := mergeText(b.Text)
			w.WriteString(line + "\n\n")
		case BlockText:
			for _, para := range paragraphs(b.Text) {
				w.WriteString(mergeText(para) + "\n\n")
			}
		case BlockImage:
			if strings.TrimSpace(b.Link) != "" {
				w.WriteString(strings.ReplaceAll(b.Alt, "{", `{{"{"}}`) + ": " + textURL(b.Link) + "\n\n")
			}
		case BlockButton:
			w.WriteString(mergeText(b.Label) + ": " + textURL(b.URL) + "\n\n")
		case BlockDivider:
			w.WriteString("----------------------------------------\n\n")
		case BlockColumns:
			for _, col := range b.Columns {
				c.text(w, col)
			}
		case BlockVariant:
			compileVariant(w, b, func(bs []Block) { c.text(w, bs) })
		case BlockContent:
			cd, label := c.card(b)
			lit := func(s string) string { return strings.ReplaceAll(s, "{", `{{"{"}}`) }
			if cd.Kind != "" {
				w.WriteString("[" + lit(cd.Kind) + "] ")
			}
			w.WriteString(lit(cd.Title) + "\n")
			if d := strings.TrimSpace(cd.Description); d != "" {
				w.WriteString(lit(d) + "\n")
			}
			fmt.Fprintf(w, "%s: {{.ContentLink %d}}\n\n", mergeText(label), b.AssetID)
		}
	}
}

// paragraphs splits text at blank lines.
func paragraphs(s string) []string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var out []string
	for _, p := range strings.Split(s, "\n\n") {
		if p = strings.Trim(p, "\n"); strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// mergeHTML escapes literal text (and every "{", so nothing in it can open
// a template action) and turns merge fields into actions.
func mergeHTML(s string) string {
	return merge(s, func(lit string) string {
		return strings.ReplaceAll(html.EscapeString(lit), "{", "&#123;")
	})
}

// mergeLinkedHTML is mergeHTML that also makes a text block's http(s) URLs
// links, so they are click-tracked in the HTML part as in the text part (a
// mail client would otherwise link them itself, untracked).
func mergeLinkedHTML(s string) string {
	esc := func(lit string) string { return strings.ReplaceAll(html.EscapeString(lit), "{", "&#123;") }
	return merge(s, func(lit string) string {
		var b strings.Builder
		last := 0
		for _, sp := range TextURLs(lit) {
			u := lit[sp[0]:sp[1]]
			fmt.Fprintf(&b, `%s<a href="%s" target="_blank" style="color:#2563eb;">%s</a>`, esc(lit[last:sp[0]]), attrURL(u), esc(u))
			last = sp[1]
		}
		b.WriteString(esc(lit[last:]))
		return b.String()
	})
}

// mergeText is mergeHTML for the plain-text part: "{" is printed by an
// action instead of appearing in the template source.
func mergeText(s string) string {
	return merge(s, func(lit string) string { return strings.ReplaceAll(lit, "{", `{{"{"}}`) })
}

func merge(s string, lit func(string) string) string {
	var b strings.Builder
	last := 0
	for _, m := range mergeRe.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(lit(s[last:m[0]]))
		field := s[m[2]:m[3]]
		if m[4] >= 0 && strings.TrimSpace(s[m[4]:m[5]]) != "" {
			fmt.Fprintf(&b, "{{or .%s %s}}", field, strconv.Quote(strings.TrimSpace(s[m[4]:m[5]])))
		} else {
			fmt.Fprintf(&b, "{{.%s}}", field)
		}
		last = m[1]
	}
	b.WriteString(lit(s[last:]))
	return b.String()
}

// attr escapes an attribute value written into the template source.
func attr(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "{", "&#123;")
}

// attrURL escapes a validated URL for an href or src attribute; braces are
// percent-encoded so they can never open a template action.
func attrURL(s string) string {
	return html.EscapeString(braces(strings.TrimSpace(s)))
}

func textURL(s string) string { return braces(strings.TrimSpace(s)) }

func braces(s string) string {
	return strings.NewReplacer("{", "%7B", "}", "%7D").Replace(s)
}
