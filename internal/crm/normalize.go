package crm

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold applies NFKC (full-width ASCII to half width, half-width kana to full
// width, ㈱ to (株)) and lowercases, so Japanese and Latin text compares the
// way people expect.
func Fold(s string) string {
	return strings.ToLower(norm.NFKC.String(s))
}

var jaLegalForms = []string{
	"特定非営利活動法人", "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人", "社会福祉法人",
	"株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "医療法人", "学校法人", "npo法人",
	"(株)", "(有)", "(同)", "(資)", "(名)", "(社)", "(財)", "(医)", "(学)", "(福)",
}

var enLegalForms = map[string]bool{
	"inc": true, "co": true, "ltd": true, "corp": true, "corporation": true, "kk": true, "k.k": true,
	"llc": true, "gk": true, "limited": true, "plc": true, "gmbh": true, "company": true,
}

// NormalizeCompanyName folds a company name for matching: width and case are
// folded, legal forms (株式会社, (株), ㈱, Inc., Co., Ltd. …) and spaces and
// punctuation are removed. "株式会社ＡＢＣ" and "ABC(株)" both become "abc".
func NormalizeCompanyName(name string) string {
	s := Fold(name)
	for _, f := range jaLegalForms {
		s = strings.ReplaceAll(s, f, " ")
	}
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == '、' || r == '・' || r == '.' || r == '·'
	})
	var b strings.Builder
	for _, f := range fields {
		if enLegalForms[strings.Trim(f, ".")] {
			continue
		}
		for _, r := range f {
			if unicode.IsLetter(r) || unicode.IsNumber(r) || r == '&' {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// NormalizePhone keeps digits and a leading plus, after folding full-width
// digits and hyphens: "０３－１２３４－５６７８" becomes "0312345678".
func NormalizePhone(p string) string {
	p = norm.NFKC.String(strings.TrimSpace(p))
	var b strings.Builder
	for i, r := range p {
		if r >= '0' && r <= '9' || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NormalizeDomain lowercases a domain or URL and strips scheme, "www." and path.
func NormalizeDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(norm.NFKC.String(d)))
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	if i := strings.IndexAny(d, "/?#"); i >= 0 {
		d = d[:i]
	}
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		d = d[i+1:]
	}
	d = strings.TrimPrefix(d, "www.")
	return strings.TrimSuffix(d, ".")
}

// ValidCorporateNumber checks a 13-digit Japanese corporate number (法人番号),
// including its leading check digit.
func ValidCorporateNumber(n string) bool {
	if len(n) != 13 {
		return false
	}
	sum := 0
	for i := 1; i <= 12; i++ { // i-th digit counted from the right of the 12-digit base
		c := n[13-i]
		if c < '0' || c > '9' {
			return false
		}
		q := 1
		if i%2 == 0 {
			q = 2
		}
		sum += int(c-'0') * q
	}
	if n[0] < '0' || n[0] > '9' {
		return false
	}
	return int(n[0]-'0') == 9-sum%9
}

// searchText builds the folded text that name search matches against.
func searchText(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Fold(p))
	}
	return b.String()
}

// likePattern escapes a user's query for LIKE … ESCAPE '\'.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(Fold(strings.TrimSpace(q))) + "%"
}
