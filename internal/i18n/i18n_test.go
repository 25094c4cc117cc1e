package i18n

import (
	"testing"
	"time"
)

func TestCatalogues_HaveTheSameKeys(t *testing.T) {
	ja, en := map[string]bool{}, map[string]bool{}
	for _, k := range Keys(JA) {
		ja[k] = true
	}
	for _, k := range Keys(EN) {
		en[k] = true
	}
	for k := range ja {
		if !en[k] {
			t.Errorf("%s is in ja.json but not en.json", k)
		}
	}
	for k := range en {
		if !ja[k] {
			t.Errorf("%s is in en.json but not ja.json", k)
		}
	}
}

func TestT_FillsPlaceholdersAndPlurals(t *testing.T) {
	if got := T(EN, "contact.count", "count", 1); got != "1 contact" {
		t.Errorf("one: %q", got)
	}
	if got := T(EN, "contact.count", "count", 3); got != "3 contacts" {
		t.Errorf("other: %q", got)
	}
	if got := T(JA, "contact.count", "count", 1); got != "1 件のコンタクト" {
		t.Errorf("ja: %q", got)
	}
	if got := T(JA, "no.such.key"); got != "no.such.key" {
		t.Errorf("missing: %q", got)
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	cases := map[string]Lang{"": JA, "en-US,en;q=0.9": EN, "ja,en;q=0.8": JA, "fr-FR,en;q=0.5,ja;q=0.4": EN, "de": JA}
	for h, want := range cases {
		if got := FromAcceptLanguage(h, JA); got != want {
			t.Errorf("%q: %s, want %s", h, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	d := time.Date(2026, 4, 1, 9, 5, 0, 0, time.UTC)
	tokyo := time.FixedZone("JST", 9*3600)
	cases := []struct{ got, want string }{
		{Date(JA, d), "2026年4月1日"},
		{Date(EN, d), "Apr 1, 2026"},
		{DateTime(JA, d, tokyo), "2026年4月1日 18:05"},
		{Money(1200000, "JPY"), "¥1,200,000"},
		{Money(1234.5, "USD"), "$1,234.50"},
		{Money(-5, "JPY"), "-¥5"},
		{Number(-1234567), "-1,234,567"},
		{PersonName(JA, "山田", "太郎"), "山田 太郎"},
		{PersonName(EN, "山田", "太郎"), "山田 太郎"},
		{PersonName(EN, "Smith", "Anna"), "Anna Smith"},
		{PersonName(JA, "Smith", "Anna"), "Anna Smith"},
		{Relative(EN, d, d.Add(3*time.Minute), tokyo), "3 min ago"},
		{Relative(JA, d, d.Add(26*time.Hour), tokyo), "1日前"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
