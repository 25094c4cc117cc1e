package web

import (
	"regexp"
	"strings"

	"github.com/ryorin/ryorin/internal/i18n"
)

// localize returns a domain error message in the user's language. The
// domain's messages are English sentences; the catalogue holds their
// translations under "errmsg.<message>". A message with a value in it (a
// number, a name) is matched by its leading words where a general version
// exists; anything not in the catalogue is shown as the domain wrote it.
func localize(lang i18n.Lang, msg string) string {
	if t := i18n.T(lang, "errmsg."+msg); t != "errmsg."+msg {
		return t
	}
	if rest, ok := strings.CutPrefix(msg, "exit criteria not met: "); ok {
		var names []string
		for _, k := range strings.Split(rest, ", ") {
			names = append(names, i18n.T(lang, "guide.c."+k))
		}
		return i18n.T(lang, "guide.unmet", "list", strings.Join(names, i18n.T(lang, "guide.sep")))
	}
	if m := ruleAt.FindStringSubmatch(msg); m != nil {
		return i18n.T(lang, "errmsg.rule_at", "line", m[1], "column", m[2], "msg", localize(lang, m[3]))
	}
	for prefix, key := range map[string]string{"is longer than": "errmsg.is too long", "unknown property": "err.unknown_property"} {
		if strings.HasPrefix(msg, prefix) {
			return i18n.T(lang, key)
		}
	}
	return msg
}

// ruleAt is a rule-language error with its position.
var ruleAt = regexp.MustCompile(`^line (\d+), column (\d+): (.*)$`)
