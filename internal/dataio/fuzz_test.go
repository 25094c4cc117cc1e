package dataio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
)

// FuzzReader feeds arbitrary bytes through the encoding detection, the CSV
// reader and the row parser: nothing may panic, rows come out as valid UTF-8
// with increasing line numbers, and every row becomes a record or a reason.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"email,name\na@example.jp,山田 太郎\n",
		"\xef\xbb\xbfメール,氏名\n\"x@y.jp\",\"a\nb\"\n",
		"\x83\x81\x81[\x83\x8b,\x8e\x81\x96\xbc\n\x8eR\x93c,x\n", // Shift_JIS
		"a,b\n\"unterminated\n",
		"a\n\n\n\"\"\"\n",
		"email,作成日,従業員数\nz@z.jp,令和元年5月1日,１，２００\n,45383,abc\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		rc := rowContext{Object: Contacts, Mapping: Guess(Contacts, rd.Header, ""), Fields: fieldMap(FieldsFor(Contacts)), Loc: time.UTC}
		last := 0
		for i := 0; i < 1000; i++ {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return
			}
			if row.Line < last {
				t.Fatalf("line %d after %d", row.Line, last)
			}
			last = row.Line
			for _, v := range row.Fields {
				if rd.Encoding == ShiftJIS && !utf8.ValidString(v) {
					t.Fatalf("decoded field is not UTF-8: %q", v)
				}
			}
			if _, rerr := rc.toRecord(row); rerr != nil && rerr.Reason == "" {
				t.Fatal("a bad row without a reason")
			}
		}
	})
}

// FuzzParseDate checks the date parser never panics and that what it accepts
// is a real date it would read the same way again.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-04-01", "2024/4/1", "2024年4月1日", "令和6年4月1日", "平成元年1月8日", "R6.4.1", "45383.25",
		"4/1/2024", "2024-04-01T10:00:00+09:00", "20240229", "昭和64年1月7日 23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDate(s, time.UTC)
		if err != nil {
			return
		}
		if got.Year() < 1800 || got.Year() > 9999 {
			t.Fatalf("ParseDate(%q) = %v: out of range", s, got)
		}
		again, err := ParseDate(got.Format(time.RFC3339), time.UTC)
		if err != nil || !again.Equal(got) {
			t.Fatalf("ParseDate(%q) = %v, which reads back as %v, %v", s, got, again, err)
		}
	})
}

// FuzzDealValues feeds arbitrary cells to the parsers of a deal row (amount,
// contact emails, deal type, interval, stage by name) and whole rows through
// toRecord: nothing may panic, an accepted amount is in range and reads back
// the same, accepted emails are normalised, a found stage is the pipeline's.
func FuzzDealValues(f *testing.F) {
	for _, s := range []string{"¥1,200,000", "３，０００，０００円", "$1,234.50", "-5", "1e9", "NaN", "0x10", "JPY 100", "1,000円",
		"a@x.jp; 山田 <B@X.JP>", "Taro (t@x.jp)、c@x.jp", "Closed Won", "受注", "closedlost", "デモ", "", "newbusiness", "月額", "年"} {
		f.Add(s)
	}
	p := crm.Pipeline{ID: 1, Name: "新規営業", IsDefault: true, Stages: []crm.PipelineStage{{ID: 10, Name: "デモ", Kind: "open"},
		{ID: 11, Name: "受注", Kind: "won"}, {ID: 12, Name: "失注", Kind: "lost"}}}
	ix := newPipelineIndex([]crm.Pipeline{p})
	header := []string{"案件名", "金額", "ステージ", "メールアドレス", "種別", "継続間隔", "完了予定日", "外部ID"}
	rc := rowContext{Object: Deals, Mapping: Guess(Deals, header, ""), Fields: fieldMap(FieldsFor(Deals)), Loc: time.UTC,
		Pipelines: ix, Currency: "JPY"}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseAmount(s); err == nil {
			if a < 0 || a > 1e15 || math.IsNaN(a) {
				t.Fatalf("ParseAmount(%q) = %v", s, a)
			}
			if again, err := ParseAmount(strconv.FormatFloat(a, 'f', -1, 64)); err != nil || again != a {
				t.Fatalf("ParseAmount(%q) = %v reads back as %v, %v", s, a, again, err)
			}
		}
		if es, err := parseEmails(s); err == nil {
			for _, e := range es {
				if n, ok := platform.NormalizeEmail(e); !ok || n != e {
					t.Fatalf("parseEmails(%q) gave %q", s, e)
				}
			}
		}
		parseDealType(s)
		parseInterval(s)
		if st, ok := stageOf(&p, s); ok && !slices.Contains(p.Stages, st) {
			t.Fatalf("stageOf(%q) = %+v", s, st)
		}
		row := Row{Num: 1, Line: 2, Fields: []string{"案件", s, s, s, s, s, s, s}}
		if _, rerr := rc.toRecord(row); rerr != nil && rerr.Reason == "" {
			t.Fatal("a bad row without a reason")
		}
	})
}

// FuzzActivityValues feeds arbitrary cells to the parsers of an activity
// row (kind, call outcome, done) and whole rows through toRecord: nothing
// may panic, what is accepted is one of crm's values.
func FuzzActivityValues(f *testing.F) {
	for _, s := range []string{"電話", "CALL", "Logged call", "商談", "打ち合わせ", "メモ", "タスク", "不在", "受付止まり", "担当者接続",
		"アポ獲得", "留守電", "番号違い", "Left voicemail", "Busy", "完了", "Not Started", "はい", "2024/4/1 10:00", "", "x@y.jp"} {
		f.Add(s)
	}
	header := []string{"種別", "件名", "内容", "日時", "通話結果", "メールアドレス", "会社名", "案件名", "期限", "完了", "案件ID"}
	rc := rowContext{Object: Activities, Mapping: Guess(Activities, header, ""), Fields: fieldMap(FieldsFor(Activities)), Loc: time.UTC}
	f.Fuzz(func(t *testing.T, s string) {
		if k, ok := parseActivityKind(s); ok && !slices.Contains(crm.ActivityKinds, k) {
			t.Fatalf("parseActivityKind(%q) = %q", s, k)
		}
		if o, ok := parseCallOutcome(s); ok && !slices.Contains(crm.CallOutcomes, o) {
			t.Fatalf("parseCallOutcome(%q) = %q", s, o)
		}
		parseDone(s)
		for _, kind := range []string{"電話", "タスク", s} {
			row := Row{Num: 1, Line: 2, Fields: []string{kind, s, s, s, s, s, s, s, s, s, s}}
			rec, rerr := rc.toRecord(row)
			if rerr != nil {
				if rerr.Reason == "" {
					t.Fatal("a bad row without a reason")
				}
				continue
			}
			if k, _ := rec.Cols["kind"].(string); !slices.Contains(crm.ActivityKinds, k) {
				t.Fatalf("kind %q accepted", k)
			}
		}
	})
}
