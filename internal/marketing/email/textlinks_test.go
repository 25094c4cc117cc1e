package email

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTextURLs_EndAtJapanesePunctuationAndUnopenedBrackets(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"資料はこちら「https://example.co.jp/a?x=1」をご覧ください。", []string{"https://example.co.jp/a?x=1"}},
		{"詳しくはhttps://example.co.jp/b。次に、https://example.co.jp/c、以上", []string{"https://example.co.jp/b", "https://example.co.jp/c"}},
		{"(see https://example.com/d) and (https://example.com/Go_(lang))", []string{"https://example.com/d", "https://example.com/Go_(lang)"}},
		{"（https://example.com/e）全角括弧", []string{"https://example.com/e"}},
		{"End: HTTP://Example.com/F. Next: https://example.com/g?, then https://", []string{"HTTP://Example.com/F", "https://example.com/g"}},
		{"『http://example.com/h』【https://example.com/i】", []string{"http://example.com/h", "https://example.com/i"}},
		{"https://ja.wikipedia.org/wiki/両輪 の記事", []string{"https://ja.wikipedia.org/wiki/両輪"}},
		{"xhttps://example.com/no mailto:a@example.com ftp://example.com http:/x", nil},
	} {
		var got []string
		for _, sp := range TextURLs(tc.in) {
			got = append(got, tc.in[sp[0]:sp[1]])
		}
		if strings.Join(got, " | ") != strings.Join(tc.want, " | ") {
			t.Errorf("TextURLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTrackText_LeavesUnsubscribeAndTrackedLinksAlone(t *testing.T) {
	lk := linker{key: []byte("0123456789abcdef0123456789abcdef"), base: "https://ryorin.example", now: time.Unix(1e9, 0), campaign: 4}
	unsub := "https://ryorin.example/e/u/tok"
	in := "事例「https://example.co.jp/case」。\n停止: " + unsub + "\n既に: https://ryorin.example/e/c/abc\n"
	out, err := lk.trackText(in, 9, unsub)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "https://example.co.jp/case") || !strings.Contains(out, "事例「https://ryorin.example/e/c/") || !strings.Contains(out, "」。\n停止: "+unsub+"\n") ||
		!strings.Contains(out, "既に: https://ryorin.example/e/c/abc\n") {
		t.Errorf("trackText:\n%s", out)
	}
}

// FuzzTextURLs: every URL found is inside the text, parses with a host and
// holds no white space or Japanese punctuation; rewriting never panics.
func FuzzTextURLs(f *testing.F) {
	for _, s := range []string{
		"「https://example.co.jp/a」。", "https://example.com/(x)）、", "(https://e.example)", "https://", "httphttps://a.b",
		"https://例え.jp/パス、次", "https://e.example/\xff」", "HTTPS://E.EXAMPLE/?a=1&b=2.", "https://e.example/[x]]",
	} {
		f.Add(s)
	}
	lk := linker{key: []byte("0123456789abcdef0123456789abcdef"), base: "https://ryorin.example", now: time.Unix(1e9, 0)}
	f.Fuzz(func(t *testing.T, s string) {
		last := 0
		for _, sp := range TextURLs(s) {
			if sp[0] < last || sp[1] <= sp[0] || sp[1] > len(s) {
				t.Fatalf("bad span %v in %q", sp, s)
			}
			last = sp[1]
			u := s[sp[0]:sp[1]]
			if p, err := url.Parse(u); err != nil || p.Host == "" || !strings.HasPrefix(strings.ToLower(u), "http") {
				t.Fatalf("not a URL: %q", u)
			}
			for _, r := range u {
				if urlStop(r) {
					t.Fatalf("%q holds %q", u, r)
				}
			}
			if !utf8.ValidString(u) {
				t.Fatalf("invalid UTF-8 in %q", u)
			}
		}
		if _, err := lk.trackText(s, 1, ""); err != nil {
			t.Fatal(err)
		}
	})
}
