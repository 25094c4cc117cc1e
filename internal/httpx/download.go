package httpx

import (
	"bufio"
	"mime"
	"net/http"
	"time"
)

// Download is a file response written as it is produced. Nothing reaches the
// client until the first 64 KiB are ready (or Close), so an error found while
// producing the start of the file can still be answered with an error status.
type Download struct {
	w           http.ResponseWriter
	contentType string
	fileName    string
	buf         *bufio.Writer
	started     bool
}

// LongRequest lifts the server's read and write deadlines for one request:
// uploading a large file or streaming a large export may take longer than
// an ordinary request is allowed. The request still ends with its context.
func LongRequest(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

// NewDownload starts a download of a file named fileName (and lifts the
// request's deadlines: see LongRequest).
func NewDownload(w http.ResponseWriter, contentType, fileName string) *Download {
	LongRequest(w)
	d := &Download{w: w, contentType: contentType, fileName: fileName}
	d.buf = bufio.NewWriterSize(downloadSink{d}, 64<<10)
	return d
}

type downloadSink struct{ d *Download }

func (s downloadSink) Write(p []byte) (int, error) {
	d := s.d
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", d.contentType)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.fileName}))
		h.Set("Cache-Control", "no-store")
		d.w.WriteHeader(http.StatusOK)
	}
	n, err := d.w.Write(p)
	if f, ok := d.w.(http.Flusher); ok {
		f.Flush()
	}
	return n, err
}

// Write buffers p.
func (d *Download) Write(p []byte) (int, error) { return d.buf.Write(p) }

// Started reports whether the response has begun (an error can then only
// cut it short, not replace it).
func (d *Download) Started() bool { return d.started }

// Close sends what is buffered.
func (d *Download) Close() error { return d.buf.Flush() }
