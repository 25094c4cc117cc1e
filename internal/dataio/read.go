package dataio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/ryorin/ryorin/internal/errs"
)

// Encodings a file can be in.
const (
	UTF8    = "utf-8"
	UTF8BOM = "utf-8-bom"
	// ShiftJIS is Shift_JIS as Windows writes it (CP932): Excel's default for
	// "CSV" on a Japanese PC.
	ShiftJIS = "shift_jis"
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// DetectEncoding tells UTF-8 (with or without a byte-order mark) from
// Shift_JIS by the head of a file: text that is not valid UTF-8 is taken as
// Shift_JIS, which is what Japanese spreadsheets write otherwise.
func DetectEncoding(head []byte) string {
	if bytes.HasPrefix(head, bom) {
		return UTF8BOM
	}
	if utf8.Valid(trimPartialRune(head)) {
		return UTF8
	}
	return ShiftJIS
}

// trimPartialRune drops a UTF-8 sequence cut off at the end of a buffer, so
// a head that ends mid-character still counts as valid UTF-8.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// Row is one data record of a CSV file.
type Row struct {
	Num    int64    // 1-based index among data rows (the header is not counted)
	Line   int      // line of the file the record starts on (the header is line 1)
	Fields []string // valid until the next call to Next
	Err    error    // a record the CSV syntax could not read; Fields is empty
}

// Reader reads a CSV file of any supported encoding as rows of UTF-8 text.
// Quoted fields may hold commas and newlines. Memory stays bounded whatever
// the file's size.
type Reader struct {
	Encoding string
	Header   []string
	csv      *csv.Reader
	n        int64
}

const headSize = 64 << 10

// NewReader detects the encoding, decodes, and reads the header. A file that
// is empty or binary is an Invalid error naming "file".
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, headSize)
	head, err := br.Peek(headSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("dataio.NewReader: %w", err)
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(head, bom))) == 0 {
		return nil, errs.Field("file", "the file is empty")
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, errs.Field("file", "the file is not CSV text (it holds binary data)")
	}
	rd := &Reader{Encoding: DetectEncoding(head)}
	var src io.Reader = br
	switch rd.Encoding {
	case UTF8BOM:
		_, _ = br.Discard(len(bom))
	case ShiftJIS:
		src = transform.NewReader(br, japanese.ShiftJIS.NewDecoder())
	}
	rd.csv = csv.NewReader(src)
	rd.csv.FieldsPerRecord = -1
	rd.csv.LazyQuotes = true // spreadsheets write bare quotes inside unquoted fields
	rd.csv.ReuseRecord = true
	h, err := rd.csv.Read()
	if err != nil {
		return nil, errs.Field("file", "the header line cannot be read as CSV: %v", err)
	}
	rd.Header = make([]string, len(h))
	named := false
	for i, v := range h {
		rd.Header[i] = strings.TrimSpace(strings.TrimPrefix(v, "\ufeff"))
		named = named || rd.Header[i] != ""
	}
	if !named {
		return nil, errs.Field("file", "the first line must name the columns")
	}
	return rd, nil
}

// Next returns the next data row, or io.EOF at the end. A record the CSV
// syntax cannot read comes back as a Row with Err set, and reading goes on.
// Blank lines are skipped and not counted.
func (r *Reader) Next() (Row, error) {
	for {
		rec, err := r.csv.Read()
		if errors.Is(err, io.EOF) {
			return Row{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			r.n++
			return Row{Num: r.n, Line: pe.StartLine, Err: pe.Err}, nil
		}
		if err != nil {
			return Row{}, fmt.Errorf("dataio.Reader: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		r.n++
		line, _ := r.csv.FieldPos(0)
		return Row{Num: r.n, Line: line, Fields: rec}, nil
	}
}

// CountRows reads a file to its end and returns how many data rows it has.
func CountRows(r io.Reader) (*Reader, int64, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, 0, err
	}
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rd, rd.n, nil
		}
		if err != nil {
			return rd, rd.n, err
		}
	}
}
