package dataio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

var jst = time.FixedZone("JST", 9*3600)

func TestParseDate_FormatsPeopleAndSpreadsheetsWrite(t *testing.T) {
	cases := []struct {
		in   string
		want string // RFC 3339, or "" for an error
	}{
		{"2024-04-01", "2024-04-01T00:00:00+09:00"},
		{"2024/4/1", "2024-04-01T00:00:00+09:00"},
		{"2024.04.01", "2024-04-01T00:00:00+09:00"},
		{"２０２４／４／１", "2024-04-01T00:00:00+09:00"},
		{"2024年4月1日", "2024-04-01T00:00:00+09:00"},
		{"2024年 4月 1日 10:30", "2024-04-01T10:30:00+09:00"},
		{"令和6年4月1日", "2024-04-01T00:00:00+09:00"},
		{"令和元年5月1日", "2019-05-01T00:00:00+09:00"},
		{"平成31年4月30日", "2019-04-30T00:00:00+09:00"},
		{"昭和64年1月7日", "1989-01-07T00:00:00+09:00"},
		{"R6.4.1", "2024-04-01T00:00:00+09:00"},
		{"H1/1/8", "1989-01-08T00:00:00+09:00"},
		{"㋿6年4月1日", "2024-04-01T00:00:00+09:00"},
		{"20240401", "2024-04-01T00:00:00+09:00"},
		{"4/1/2024", "2024-04-01T00:00:00+09:00"},
		{"2024-04-01T10:30:15Z", "2024-04-01T10:30:15Z"},
		{"2024-04-01 10:30:15+02:00", "2024-04-01T10:30:15+02:00"},
		{"2024/04/01 9:05", "2024-04-01T09:05:00+09:00"},
		{"45383", "2024-04-01T00:00:00+09:00"},
		{"45383.5", "2024-04-01T12:00:00+09:00"},
		{"1", "1900-01-01T00:00:00+09:00"},
		{"61", "1900-03-01T00:00:00+09:00"},
		{"60", ""},         // Excel's 29 February 1900 never happened
		{"2023-02-29", ""}, // not a leap year
		{"2024-13-01", ""}, // no month 13
		{"令和0年1月1日", ""},   // no year 0
		{"yesterday", ""},
		{"", ""},
		{"2024-04-01 25:00", ""},
	}
	for _, c := range cases {
		got, err := ParseDate(c.in, jst)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParseDate(%q) = %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDate(%q): %v", c.in, err)
			continue
		}
		if s := got.Format(time.RFC3339); s != c.want {
			t.Errorf("ParseDate(%q) = %s, want %s", c.in, s, c.want)
		}
	}
}

func TestParseInt_FullWidthSeparatorsAndUnits(t *testing.T) {
	cases := map[string]int64{"1200": 1200, "１，２００": 1200, "1,200名": 1200, "¥3,000": 3000, "５００人": 500, "12.0": 12, " 7 ": 7}
	for in, want := range cases {
		if got, err := ParseInt(in); err != nil || got != want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1.5", "十"} {
		if _, err := ParseInt(in); err == nil {
			t.Errorf("ParseInt(%q) should fail", in)
		}
	}
}

func TestCleanPhone_FoldsWidthAndDashes(t *testing.T) {
	cases := map[string]string{"０３－１２３４－５６７８": "03-1234-5678", "03ー1234ー5678": "03-1234-5678", "+81 3 1234 5678": "+81 3 1234 5678"}
	for in, want := range cases {
		if got, err := CleanPhone(in); err != nil || got != want {
			t.Errorf("CleanPhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := CleanPhone("n/a"); err == nil {
		t.Error("a phone with no digit should fail")
	}
}

func TestSplitName(t *testing.T) {
	cases := map[string][2]string{"山田 太郎": {"山田", "太郎"}, "山田　太郎": {"山田", "太郎"}, "Taro Yamada": {"Yamada", "Taro"},
		"Yamada, Taro": {"Yamada", "Taro"}, "山田太郎": {"山田太郎", ""}, "Mary Ann Smith": {"Smith", "Mary Ann"}}
	for in, want := range cases {
		if f, g := SplitName(in); f != want[0] || g != want[1] {
			t.Errorf("SplitName(%q) = %q, %q; want %q", in, f, g, want)
		}
	}
}

func readAll(t *testing.T, data []byte) (*Reader, []Row) {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rd, rows
		}
		if err != nil {
			t.Fatal(err)
		}
		r.Fields = append([]string(nil), r.Fields...)
		rows = append(rows, r)
	}
}

func TestReader_DetectsAndDecodesEncodings(t *testing.T) {
	text := "会社名,氏名,メールアドレス\n株式会社テスト,山田 太郎,taro@example.jp\n"
	sjis, err := japanese.ShiftJIS.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, enc string
		data      []byte
	}{
		{"utf-8", UTF8, []byte(text)},
		{"utf-8 with BOM", UTF8BOM, append(append([]byte{}, bom...), text...)},
		{"shift_jis", ShiftJIS, []byte(sjis)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rd, rows := readAll(t, c.data)
			if rd.Encoding != c.enc {
				t.Errorf("encoding = %s, want %s", rd.Encoding, c.enc)
			}
			if strings.Join(rd.Header, "|") != "会社名|氏名|メールアドレス" {
				t.Errorf("header = %q", rd.Header)
			}
			if len(rows) != 1 || rows[0].Fields[1] != "山田 太郎" || rows[0].Line != 2 {
				t.Errorf("rows = %+v", rows)
			}
		})
	}
}

func TestDetectEncoding_HeadCutMidCharacterIsStillUTF8(t *testing.T) {
	b := []byte("名前,メール\n山田")
	if got := DetectEncoding(b[:len(b)-1]); got != UTF8 {
		t.Errorf("got %s", got)
	}
}

func TestReader_QuotedNewlinesKeepLineNumbers(t *testing.T) {
	data := "name,note\n\"A\",\"line one\nline two\"\n\nB,plain\n\"C\",\"x\"y\"\n"
	_, rows := readAll(t, []byte(data))
	if len(rows) != 3 {
		t.Fatalf("rows = %+v", rows)
	}
	if rows[0].Fields[1] != "line one\nline two" || rows[0].Line != 2 {
		t.Errorf("row 1 = %+v", rows[0])
	}
	if rows[1].Fields[0] != "B" || rows[1].Line != 5 || rows[1].Num != 2 {
		t.Errorf("row 2 = %+v", rows[1])
	}
	if rows[2].Line != 6 {
		t.Errorf("row 3 = %+v", rows[2])
	}
}

func TestReader_RefusesEmptyAndBinaryFiles(t *testing.T) {
	for name, data := range map[string][]byte{"empty": nil, "blank": []byte(" \n\n"), "bom only": bom, "binary": {0x89, 'P', 'N', 'G', 0, 0, 1}} {
		if _, err := NewReader(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestGuess_PresetsAndHeadings(t *testing.T) {
	cases := []struct {
		name, object string
		header       []string
		preset       string
		want         []string
	}{
		{"hubspot", Contacts, []string{"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name", "Lifecycle Stage", "Create Date"},
			"hubspot", []string{"", "given_name", "family_name", "email", "phone", "company_name", "lifecycle_stage", "created_at"}},
		{"salesforce", Contacts, []string{"Id", "FirstName", "LastName", "Email", "MobilePhone", "Title", "Account.Name", "LeadSource"},
			"salesforce", []string{"", "given_name", "family_name", "email", "mobile", "title", "company_name", "original_source"}},
		{"eight", Contacts, []string{"会社名", "部署名", "役職", "姓", "名", "e-mail", "郵便番号", "住所", "TEL会社", "TEL部門", "TEL直通", "Fax", "携帯電話", "URL", "名刺交換日"},
			"eight", []string{"company_name", "department", "title", "family_name", "given_name", "email", "", "", "", "", "phone", "", "mobile", "company_domain", "created_at"}},
		{"sansan", Contacts, []string{"名刺交換日", "会社名", "部署名", "役職", "氏名", "メールアドレス", "電話番号", "携帯電話"},
			"sansan", []string{"created_at", "company_name", "department", "title", "full_name", "email", "phone", "mobile"}},
		{"japanese headings", Contacts, []string{"メールアドレス", "姓", "名", "セイ", "メイ", "会社名", "法人番号", "備考"},
			"", []string{"email", "family_name", "given_name", "family_name_kana", "given_name_kana", "company_name", "company_corporate_number", ""}},
		{"english headings, width and case folded", Contacts, []string{"ＥＭＡＩＬ", "first_name", "Last Name", "Job Title"},
			"", []string{"email", "given_name", "family_name", "title"}},
		{"companies", Companies, []string{"会社名", "法人番号", "ウェブサイト", "従業員数", "都道府県"},
			"", []string{"name", "corporate_number", "domain", "employees", "prefecture"}},
		{"a field is used once", Contacts, []string{"Email", "E-mail"}, "", []string{"email", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if p := DetectPreset(c.header); p != c.preset {
				t.Errorf("preset = %q, want %q", p, c.preset)
			}
			got := Guess(c.object, c.header, "")
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("guess = %q\nwant    %q", got, c.want)
			}
		})
	}
}
