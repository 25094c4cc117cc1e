// Package pdftest reads the PDFs Ryorin writes, for tests: the decompressed
// content streams and text as fpdf encodes it (UTF-16BE with a UTF-8 font).
package pdftest

import (
	"bytes"
	"compress/zlib"
	"io"
	"unicode/utf16"
)

// UTF16BE is s as fpdf writes text drawn with a UTF-8 font.
func UTF16BE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// Inflate returns every stream of the file, decompressed where it is.
func Inflate(pdf []byte) []byte {
	var out []byte
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte(">>\nstream\n"))
		if i < 0 {
			return out
		}
		rest = rest[i+len(">>\nstream\n"):]
		end := bytes.Index(rest, []byte("\nendstream"))
		if end < 0 {
			return out
		}
		if r, err := zlib.NewReader(bytes.NewReader(rest[:end])); err == nil {
			b, _ := io.ReadAll(r)
			out = append(out, b...)
		} else {
			out = append(out, rest[:end]...)
		}
		rest = rest[end:]
	}
}
