package quote

import (
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// fontTTF is BIZ UDGothic Regular (SIL Open Font License 1.1, see
// font/OFL.txt), cut down once with pyftsubset to ASCII, Latin-1, general
// punctuation, Japanese punctuation, kana, full/half-width forms and the JIS
// X 0208 level 1 and 2 kanji. fpdf subsets it again per document, so a PDF
// carries only the glyphs it uses. See ADR 0011.
//
//go:embed font/BIZUDGothic-Regular.ttf
var fontTTF []byte

// fontFamily is the name the PDF uses for the embedded font.
const fontFamily = "BIZUDGothic"

// A4 portrait, in millimetres.
const (
	pageW    = 210.0
	margin   = 15.0
	contentW = pageW - 2*margin
)

// WritePDF writes the document as an A4 PDF with the Japanese font embedded.
// created is stamped as the PDF's creation date (the issue time), so the same
// quote always gives the same file.
func (d Document) WritePDF(w io.Writer, created time.Time) error {
	// The number and version and the page on every page: 「Q-000012-2　1 / 3」.
	p, font := NewA4(d.T("quote.doc.title")+" "+d.Number, fmt.Sprintf("%s-%d", d.Number, d.Version), created)
	d.pdfHead(p, font)
	d.pdfLines(p, font)
	d.pdfTotals(p, font)
	return p.Output(w)
}

// pdfHead draws the title, number and dates, the addressee and the amount,
// and the seller with the seal box.
func (d Document) pdfHead(p *fpdf.Fpdf, font func(float64)) {
	// Title.
	font(20)
	p.CellFormat(contentW, 12, d.T("quote.doc.title"), "", 1, "C", false, 0, "")
	p.Ln(2)

	// Number and dates, right-aligned.
	font(9)
	top := p.GetY()
	for _, kv := range [][2]string{
		{d.T("quote.doc.number"), fmt.Sprintf("%s-%d", d.Number, d.Version)},
		{d.T("quote.doc.issue_date"), d.date(d.IssueDate)},
		{d.T("quote.doc.valid_until"), d.date(d.ValidUntil)},
	} {
		p.SetX(pageW - margin - 70)
		p.CellFormat(28, 5, kv[0], "", 0, "L", false, 0, "")
		p.CellFormat(42, 5, kv[1], "", 1, "R", false, 0, "")
	}

	// Addressee, subject and the amount, left.
	p.SetXY(margin, top)
	font(14)
	if a := d.Addressee(); a != "" {
		p.CellFormat(100, 9, a, "B", 1, "L", false, 0, "")
	}
	font(9)
	p.Ln(2)
	p.MultiCell(100, 5, d.T("quote.doc.subject")+": "+d.Subject, "", "L", false)
	p.MultiCell(100, 5, d.T("quote.doc.lead"), "", "L", false)
	p.Ln(2)
	font(13)
	p.SetFillColor(240, 240, 240)
	p.CellFormat(40, 10, d.T("quote.doc.amount"), "1", 0, "C", true, 0, "")
	p.CellFormat(60, 10, d.Money(d.Totals.Total)+" "+d.T("quote.doc.tax_included"), "1", 1, "R", false, 0, "")
	afterLeft := p.GetY()

	// Seller and the seal box (押印欄), right.
	sy := top + 20
	font(10)
	p.SetXY(pageW-margin-70, sy)
	p.MultiCell(48, 5, d.Seller.Name, "", "L", false)
	font(8)
	if d.Seller.Address != "" {
		p.SetX(pageW - margin - 70)
		p.MultiCell(50, 4, d.Seller.Address, "", "L", false)
	}
	if d.Seller.RegistrationNumber != "" {
		p.SetX(pageW - margin - 70)
		p.CellFormat(70, 5, d.T("quote.doc.registration")+": "+d.Seller.RegistrationNumber, "", 1, "L", false, 0, "")
	}
	sealX, sealY := pageW-margin-20, sy+8
	p.Rect(sealX, sealY, 20, 20, "D")
	font(6)
	p.SetXY(sealX, sealY+1)
	p.CellFormat(20, 3, d.T("quote.doc.seal"), "", 0, "C", false, 0, "")
	p.SetY(max(afterLeft, sealY+22, p.GetY()) + 4)
}

// pdfLines draws the table of lines, repeating its headings on each page.
func (d Document) pdfLines(p *fpdf.Fpdf, font func(float64)) {
	cols := []struct {
		key   string
		w     float64
		align string
	}{{"quote.doc.col.no", 9, "C"}, {"quote.doc.col.item", 71, "L"}, {"quote.doc.col.qty", 16, "R"}, {"quote.doc.col.unit_price", 28, "R"},
		{"quote.doc.col.discount", 24, "R"}, {"quote.doc.col.amount", 32, "R"}}
	font(8)
	header := func() {
		p.SetFillColor(230, 230, 230)
		for i, c := range cols {
			ln := 0
			if i == len(cols)-1 {
				ln = 1
			}
			p.CellFormat(c.w, 7, d.T(c.key), "1", ln, "C", true, 0, "")
		}
	}
	header()
	for i, l := range d.Lines {
		desc := l.Description
		if l.TaxCategory == Reduced {
			desc += " ※"
		}
		if l.Billing != OneTime {
			desc += " (" + d.T("quote.doc.billing."+string(l.Billing)) + ")"
		}
		wrapped := wrap(p, desc, cols[1].w-2)
		h := 6.0 * float64(len(wrapped))
		if p.GetY()+h > 297-margin-10 {
			p.AddPage()
			header() // each page repeats the column headings
		}
		x, y := p.GetX(), p.GetY()
		disc := ""
		if l.Discount() != 0 {
			disc = "-" + d.Money(l.Discount())
			if l.DiscountKind == DiscountPercent {
				disc = fmt.Sprintf("%s%%", FormatQuantity(l.DiscountValue*10))
			}
		}
		cells := []string{fmt.Sprint(i + 1), "", d.Qty(l), d.Money(l.UnitPrice), disc, d.Money(l.Total())}
		for j, c := range cols {
			p.SetXY(x, y)
			p.CellFormat(c.w, h, cells[j], "1", 0, c.align, false, 0, "")
			if j == 1 {
				for k, s := range wrapped {
					p.SetXY(x, y+6*float64(k))
					p.CellFormat(c.w, 6, s, "", 0, "L", false, 0, "")
				}
			}
			x += c.w
		}
		p.SetXY(margin, y+h)
	}
}

// pdfTotals draws the subtotal and tax per rate (tax once per rate), the
// totals and the notes.
func (d Document) pdfTotals(p *fpdf.Fpdf, font func(float64)) {
	p.Ln(3)
	font(9)
	row := func(label, value string, fill bool) {
		p.SetX(pageW - margin - 90)
		p.CellFormat(55, 6, label, "1", 0, "L", fill, 0, "")
		p.CellFormat(35, 6, value, "1", 1, "R", fill, 0, "")
	}
	for _, r := range d.Totals.Rates {
		row(d.T("quote.doc.rate_subtotal", "rate", r.RatePercent), d.Money(r.Subtotal), false)
		row(d.T("quote.doc.rate_tax", "rate", r.RatePercent), d.Money(r.Tax), false)
	}
	row(d.T("quote.doc.subtotal"), d.Money(d.Totals.Subtotal), false)
	row(d.T("quote.doc.tax"), d.Money(d.Totals.Tax), false)
	p.SetFillColor(240, 240, 240)
	row(d.T("quote.doc.total"), d.Money(d.Totals.Total), true)
	p.Ln(3)
	font(8)
	if d.HasReduced() {
		p.MultiCell(contentW, 4, d.T("quote.doc.reduced_note"), "", "L", false)
	}
	p.MultiCell(contentW, 4, d.T("quote.doc.rounding_note", "rule", d.T("quote.rounding."+string(d.Rounding))), "", "L", false)
}

// date shows YYYY-MM-DD as 2026年4月1日 in Japanese, 1 Apr 2026 in English.
func (d Document) date(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	if d.Language() == "ja" {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	}
	return t.Format("2 Jan 2006")
}

// Date is the document's way of showing a date (for the HTML view too).
func (d Document) Date(s string) string { return d.date(s) }

// wrap breaks s into lines no wider than w in the current font; Japanese
// text breaks between any two characters, other text at spaces where it can.
func wrap(p *fpdf.Fpdf, s string, w float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := []rune{}
		lastSpace := -1
		for _, r := range para {
			line = append(line, r)
			if r == ' ' {
				lastSpace = len(line) - 1
			}
			if p.GetStringWidth(string(line)) > w && len(line) > 1 {
				cut := len(line) - 1
				if lastSpace > 0 && r < 0x2E80 {
					cut = lastSpace + 1
				}
				out = append(out, strings.TrimRight(string(line[:cut]), " "))
				line = append([]rune{}, line[cut:]...)
				lastSpace = -1
			}
		}
		out = append(out, string(line))
	}
	return out
}

// NewA4 starts an A4 portrait document with the embedded Japanese font and
// a page number in the footer, for other reports that are downloaded as PDF
// (the alignment report). footer is printed before the page number on
// every page; font sets the font size.
func NewA4(title, footer string, created time.Time) (p *fpdf.Fpdf, font func(size float64)) {
	p = fpdf.New("P", "mm", "A4", "")
	p.SetCreationDate(created)
	p.SetModificationDate(created)
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(true, margin)
	p.AddUTF8FontFromBytes(fontFamily, "", fontTTF)
	p.SetTitle(title, true)
	p.SetCreator("Ryorin", true)
	font = func(size float64) { p.SetFont(fontFamily, "", size) }
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-10)
		font(7)
		p.CellFormat(contentW, 4, fmt.Sprintf("%s    %d / {nb}", footer, p.PageNo()), "", 0, "R", false, 0, "")
	})
	p.AddPage()
	return p, font
}

// ContentWidth is the width between the margins of an A4 page, in mm.
const ContentWidth = contentW

// Wrap breaks s into lines no wider than w in p's current font.
func Wrap(p *fpdf.Fpdf, s string, w float64) []string { return wrap(p, s, w) }
