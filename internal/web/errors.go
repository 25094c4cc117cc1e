package web

import (
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
	for prefix, key := range map[string]string{"is longer than": "errmsg.is too long", "unknown property": "err.unknown_property"} {
		if strings.HasPrefix(msg, prefix) {
			return i18n.T(lang, key)
		}
	}
	return msg
}
