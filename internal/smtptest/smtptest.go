// Package smtptest runs a real SMTP server on 127.0.0.1 for tests: it keeps
// every message it accepts and can be told to refuse recipients with a
// temporary (4xx) or permanent (5xx) error. It imports nothing of ours.
package smtptest

import (
	"errors"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running test SMTP server. It is safe for concurrent use.
type Server struct {
	srv  *smtp.Server
	addr string

	mu       sync.Mutex
	msgs     []Message
	failCode int
	failMsg  string
	refuse   map[string]int // recipient → reply code
	conns    int
	open     []*smtp.Conn
	perConn  int // 0: no limit
}

// Start starts a server on 127.0.0.1:0; it stops when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.conns++
		s.open = append(s.open, c)
		s.mu.Unlock()
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.srv, s.addr = srv, ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Addr returns host:port.
func (s *Server) Addr() string { return s.addr }

// Host returns the host the server listens on.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

// Port returns the port the server listens on.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Messages returns a copy of the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// FailTemporarily makes the server refuse every recipient with 451 until
// Succeed is called.
func (s *Server) FailTemporarily() { s.setFail(451, "try again later") }

// FailPermanently makes the server refuse every recipient with 550 until
// Succeed is called.
func (s *Server) FailPermanently() { s.setFail(550, "no such user here") }

// Succeed makes the server accept messages again (refusals of single
// recipients stay).
func (s *Server) Succeed() { s.setFail(0, "") }

// Refuse makes the server answer RCPT for one address with code (e.g. 550
// or 451); 0 accepts it again.
func (s *Server) Refuse(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse == nil {
		s.refuse = map[string]int{}
	}
	s.refuse[addr] = code
}

// Connections returns how many SMTP connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// MaxPerConnection makes the server hang up on a connection that has
// carried n messages when the next one starts (0: no limit).
func (s *Server) MaxPerConnection(n int) {
	s.mu.Lock()
	s.perConn = n
	s.mu.Unlock()
}

// DropConnections closes every connection the server has accepted, as a
// server does with clients idle for too long.
func (s *Server) DropConnections() {
	s.mu.Lock()
	open := s.open
	s.open = nil
	s.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

func (s *Server) setFail(code int, msg string) {
	s.mu.Lock()
	s.failCode, s.failMsg = code, msg
	s.mu.Unlock()
}

type session struct {
	s        *Server
	conn     *smtp.Conn
	from     string
	to       []string
	accepted int // messages taken on this connection
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.s.mu.Lock()
	limit := x.s.perConn
	x.s.mu.Unlock()
	if limit > 0 && x.accepted >= limit {
		_ = x.conn.Close() // as a server that hangs up after so many messages
		return errors.New("too many messages on this connection")
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	code, msg := x.s.failCode, x.s.failMsg
	if c := x.s.refuse[to]; c != 0 {
		code, msg = c, "refused for this recipient"
	}
	x.s.mu.Unlock()
	if code != 0 {
		ec := smtp.EnhancedCode{code / 100, 0, 0}
		return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(x.to) == 0 {
		return errors.New("no recipients")
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: append([]string(nil), x.to...), Data: b})
	x.s.mu.Unlock()
	x.accepted++
	return nil
}
