package api

import (
	"encoding/base64"
	"fmt"
)

func encodeTimeCursor(at, id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%d", at, id))
}

func decodeTimeCursor(s string) (at, id int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(string(b), "%d:%d", &at, &id); err != nil || id <= 0 {
		return 0, 0, false
	}
	return at, id, true
}
