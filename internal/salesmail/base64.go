package salesmail

import (
	"encoding/base64"
	"io"
	"strings"
)

// newBase64Reader decodes a base64 body, ignoring the line breaks mail
// bodies carry.
func newBase64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, &stripper{r: r})
}

type stripper struct{ r io.Reader }

func (s *stripper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		if n == 0 {
			return 0, err
		}
		k := 0
		for _, b := range p[:n] {
			if !strings.ContainsRune("\r\n \t", rune(b)) {
				p[k] = b
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}
