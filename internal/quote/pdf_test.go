package quote

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/pdftest"
)

func sample(lang string) Document {
	lines := []Line{
		{Description: "クラウド年間ライセンス（100ユーザー）", QuantityMilli: 3000, UnitPrice: 120000, Billing: Yearly, TaxCategory: Standard, DiscountKind: DiscountPercent, DiscountValue: 1000},
		{Description: "導入支援・初期設定・データ移行・操作研修（オンサイト2日間、交通費込み）", QuantityMilli: 1000, UnitPrice: 500000, Billing: OneTime, TaxCategory: Standard, DiscountKind: DiscountAmount, DiscountValue: 50000},
		{Description: "会議用お弁当", QuantityMilli: 20000, UnitPrice: 1080, Billing: OneTime, TaxCategory: Reduced},
	}
	return Document{Number: "Q-000012", Version: 2, Lang: lang, IssueDate: "2026-04-01", ValidUntil: "2026-04-30", Currency: "JPY",
		Customer: "株式会社テスト", Subject: "基幹システム刷新", Seller: Party{Name: "株式会社りょうりん", Address: "東京都千代田区丸の内1-1-1", RegistrationNumber: "T1234567890123"},
		Rounding: Floor, Lines: lines, Totals: Compute(lines, Floor)}
}

// TestWritePDF_JapaneseQuoteIsAValidPDFWithTheFontEmbedded renders a quote
// in both languages and checks the file's structure: the header and trailer,
// the embedded TrueType subset of BIZ UDGothic (a real sfnt, small), the
// Japanese text in the page content (as UTF-16 code units, which the font's
// identity ToUnicode map turns back into text), and a byte-identical second run.
func TestWritePDF_JapaneseQuoteIsAValidPDFWithTheFontEmbedded(t *testing.T) {
	at := time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)
	for _, lang := range []string{"ja", "en"} {
		var buf bytes.Buffer
		if err := sample(lang).WritePDF(&buf, at); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		pdf := buf.Bytes()
		if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.Contains(pdf[len(pdf)-64:], []byte("%%EOF")) {
			t.Fatalf("%s: not a PDF: %q … %q", lang, pdf[:16], pdf[len(pdf)-32:])
		}
		for _, want := range []string{"/FontFile2", "/FontName /utf8bizudgothic", "/Type /Catalog", "xref", "/ToUnicode", "/Adobe-Identity-UCS"} {
			if !bytes.Contains(pdf, []byte(want)) {
				t.Errorf("%s: PDF lacks %s", lang, want)
			}
		}
		// Every xref offset points at its object.
		checkXref(t, pdf)
		streams := pdftest.Inflate(pdf)
		texts := map[string][]string{"ja": {"御見積書", "株式会社テスト 御中", "登録番号", "¥874,728", "印", "※"}, "en": {"Quotation", "株式会社テスト", "Registration No.", "¥874,728", "Seal"}}[lang]
		for _, txt := range texts {
			if !bytes.Contains(streams, pdftest.UTF16BE(txt)) {
				t.Errorf("%s: %q is not in the page content", lang, txt)
			}
		}
		if !bytes.Contains(streams, []byte{0, 1, 0, 0}) || !bytes.Contains(streams, []byte("glyf")) {
			t.Errorf("%s: no TrueType font program embedded", lang)
		}
		if len(pdf) > 400_000 {
			t.Errorf("%s: %d bytes: the font is not subset", lang, len(pdf))
		}
		var again bytes.Buffer
		_ = sample(lang).WritePDF(&again, at)
		if !bytes.Equal(pdf, again.Bytes()) {
			t.Errorf("%s: two renderings differ", lang)
		}
	}
}

var xrefEntry = regexp.MustCompile(`(\d{10}) 00000 n`)

func checkXref(t *testing.T, pdf []byte) {
	t.Helper()
	i := bytes.LastIndex(pdf, []byte("\nxref\n"))
	if i < 0 {
		t.Fatal("no xref table")
	}
	for n, m := range xrefEntry.FindAllSubmatch(pdf[i:], -1) {
		off := 0
		for _, c := range m[1] {
			off = off*10 + int(c-'0')
		}
		if off >= len(pdf) || !regexp.MustCompile(`^\d+ 0 obj`).Match(pdf[off:]) {
			t.Fatalf("xref entry %d (offset %d) does not point at an object", n+1, off)
		}
	}
}

func TestWritePDF_LongQuoteBreaksPagesAndRepeatsHeadings(t *testing.T) {
	d := sample("ja")
	for i := 0; i < 80; i++ {
		d.Lines = append(d.Lines, Line{Description: "追加オプション（長い品名が折り返されても行が崩れないことを確かめるための説明文）", QuantityMilli: 1000, UnitPrice: 1000, Billing: OneTime, TaxCategory: Standard})
	}
	d.Totals = Compute(d.Lines, Floor)
	var buf bytes.Buffer
	if err := d.WritePDF(&buf, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)`).FindSubmatch(buf.Bytes())
	if m == nil || string(m[1]) < "3" || len(m[1]) != 1 {
		t.Fatalf("pages: %q", m)
	}
	if n := bytes.Count(pdftest.Inflate(buf.Bytes()), pdftest.UTF16BE("単価")); n < 3 {
		t.Errorf("column headings drawn %d times, want one per page", n)
	}
	checkXref(t, buf.Bytes())
}

// BenchmarkWritePDF renders a Japanese quote of 3 lines and one of 83 lines
// (three pages): the issue asks for a quote PDF in under 500 ms.
func BenchmarkWritePDF(b *testing.B) {
	long := sample("ja")
	for i := 0; i < 80; i++ {
		long.Lines = append(long.Lines, Line{Description: "追加オプション（長い品名が折り返されても行が崩れないことを確かめるための説明文）", QuantityMilli: 1000, UnitPrice: 1000, Billing: OneTime, TaxCategory: Standard})
	}
	long.Totals = Compute(long.Lines, Floor)
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		d    Document
	}{{"3 lines", sample("ja")}, {"83 lines", long}} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := c.d.WritePDF(&buf, at); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}
