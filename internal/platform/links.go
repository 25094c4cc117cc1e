package platform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
)

// Signed links carry a small payload (a recipient id, a message id…) in a URL
// that Ryorin can trust when it comes back, without a database lookup: open
// tracking, click tracking, unsubscribe. A token is
//
//	base64url(expiry as 8 big-endian bytes of Unix seconds ‖ payload JSON) "." base64url(HMAC-SHA256)
//
// The MAC covers a version tag, the purpose, the expiry and the payload, so a
// token made for one purpose never verifies for another, and neither the
// payload nor the expiry can be changed. The payload is signed, not
// encrypted: put no secrets in it.

// maxLinkToken bounds the tokens VerifyLink looks at, so a hostile URL cannot
// make it allocate much.
const maxLinkToken = 4096

var linkEnc = base64.RawURLEncoding.Strict()

// SignLink returns a URL-safe token carrying payload for purpose, valid until
// expires. key is the workspace's SigningKey().
func SignLink(key []byte, purpose string, payload any, expires time.Time) (string, error) {
	if len(key) < 16 {
		return "", fmt.Errorf("platform.SignLink: signing key too short (%d bytes)", len(key))
	}
	if purpose == "" || strings.ContainsRune(purpose, 0) {
		return "", fmt.Errorf("platform.SignLink: purpose %q is not valid", purpose)
	}
	if expires.IsZero() {
		return "", fmt.Errorf("platform.SignLink(%s): every link must expire", purpose)
	}
	js, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("platform.SignLink(%s): %w", purpose, err)
	}
	body := make([]byte, 8, 8+len(js))
	binary.BigEndian.PutUint64(body, uint64(expires.Unix()))
	body = append(body, js...)
	tok := linkEnc.EncodeToString(body) + "." + linkEnc.EncodeToString(linkMAC(key, purpose, body))
	if len(tok) > maxLinkToken {
		return "", fmt.Errorf("platform.SignLink(%s): payload too large for a link", purpose)
	}
	return tok, nil
}

// VerifyLink checks a token made by SignLink for the same purpose and key,
// and that it has not expired at now, then decodes its payload into dst. A
// forged, altered, truncated or wrong-purpose token is Unauthenticated
// ("this link is not valid"); an expired one is Unauthenticated too, with a
// message saying so.
func VerifyLink(key []byte, purpose string, token string, now time.Time, dst any) error {
	invalid := errs.E(errs.Unauthenticated, "token", "this link is not valid")
	if len(key) < 16 || purpose == "" || len(token) > maxLinkToken {
		return invalid
	}
	b64body, b64mac, ok := strings.Cut(token, ".")
	if !ok {
		return invalid
	}
	body, err := linkEnc.DecodeString(b64body)
	if err != nil || len(body) < 8 {
		return invalid
	}
	mac, err := linkEnc.DecodeString(b64mac)
	if err != nil || !hmac.Equal(mac, linkMAC(key, purpose, body)) {
		return invalid
	}
	exp := int64(binary.BigEndian.Uint64(body[:8]))
	if now.Unix() >= exp {
		return errs.E(errs.Unauthenticated, "token", "this link has expired")
	}
	if dst != nil {
		if err := json.Unmarshal(body[8:], dst); err != nil {
			return invalid
		}
	}
	return nil
}

func linkMAC(key []byte, purpose string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("ryorin-link-v1\x00"))
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}
