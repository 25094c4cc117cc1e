package email

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/platform"
)

// clickLink returns the signed click-tracking link for target: the click
// redirect only ever goes to the URL signed in it, so it is never an open
// redirect. A content share link is reported under its asset's page.
func (l linker) clickLink(contact int64, target string) (string, error) {
	cl := clickClaim{C: l.campaign, K: contact, U: target, R: l.pages[target]}
	tok, err := platform.SignLink(l.key, purposeClick, cl, l.now.Add(trackTTL))
	if err != nil {
		return "", err
	}
	return l.base + "/e/c/" + tok, nil
}

// untracked reports whether a link stays as it is: the unsubscribe link
// (it must work without a detour), and links that already go through
// tracking (a template that pasted one, or a second pass).
func (l linker) untracked(target, unsub string) bool {
	return target == unsub || (l.base != "" && strings.HasPrefix(target, l.base+"/e/"))
}

// trackText rewrites the http and https URLs of a plain-text part into
// click links with the same claims as the HTML part's.
func (l linker) trackText(text string, contact int64, unsub string) (string, error) {
	var b strings.Builder
	last := 0
	for _, sp := range TextURLs(text) {
		target := text[sp[0]:sp[1]]
		if l.untracked(target, unsub) {
			continue
		}
		link, err := l.clickLink(contact, target)
		if err != nil {
			return "", err
		}
		b.WriteString(text[last:sp[0]])
		b.WriteString(link)
		last = sp[1]
	}
	if last == 0 {
		return text, nil
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// TextURLs finds the http(s) URLs of plain text as [start, end) byte
// offsets. A URL ends at white space, at characters that cannot be in one
// (<>"`{}|\^), at Japanese brackets and punctuation (「」『』【】（）。、，．
// and the like: Japanese text puts no space before them) and at trailing
// sentence punctuation; a closing parenthesis stays only when the URL opened
// one (https://ja.wikipedia.org/wiki/Go_(言語)).
func TextURLs(s string) [][2]int {
	var out [][2]int
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		j := strings.Index(lower[i:], "http")
		if j < 0 {
			break
		}
		start := i + j
		rest := lower[start:]
		var scheme int
		switch {
		case strings.HasPrefix(rest, "https://"):
			scheme = len("https://")
		case strings.HasPrefix(rest, "http://"):
			scheme = len("http://")
		default:
			i = start + 4
			continue
		}
		if start > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:start]); r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				i = start + scheme // "xhttp://" is not a URL start
				continue
			}
		}
		end := start + scheme
		for end < len(s) {
			r, size := utf8.DecodeRuneInString(s[end:])
			if urlStop(r) {
				break
			}
			end += size
		}
		end = trimURLEnd(s, start, end)
		i = max(end, start+scheme)
		if u, err := url.Parse(s[start:end]); err != nil || u.Host == "" {
			continue
		}
		out = append(out, [2]int{start, end})
	}
	return out
}

// urlStop reports whether r ends a URL in plain text.
func urlStop(r rune) bool {
	if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
		return true
	}
	switch r {
	case '<', '>', '"', '`', '{', '}', '|', '\\', '^',
		'「', '」', '『', '』', '【', '】', '（', '）', '〈', '〉', '《', '》', '〔', '〕', '［', '］', '｛', '｝',
		'。', '、', '，', '．', '！', '？', '：', '；', '・', '…', '　', '“', '”', '‘', '’':
		return true
	}
	return false
}

// trimURLEnd drops sentence punctuation after a URL, and closing brackets
// the URL did not open.
func trimURLEnd(s string, start, end int) int {
	for end > start {
		c := s[end-1]
		switch c {
		case '.', ',', ':', ';', '!', '?', '\'', '*':
			end--
			continue
		case ')', ']':
			open := byte('(')
			if c == ']' {
				open = '['
			}
			if strings.Count(s[start:end], string(open)) < strings.Count(s[start:end], string(c)) {
				end--
				continue
			}
		}
		break
	}
	return end
}
