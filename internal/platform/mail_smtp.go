package platform

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// The SMTP conversation: go-mail opens the connection (TLS or STARTTLS,
// authentication); Ryorin then writes the encoded messages itself. When
// the server offers PIPELINING (RFC 2920) a message costs one round trip:
// its content, then the next message's MAIL FROM, RCPT TO and DATA, go out
// in one write and their four replies are read together. Connections are
// kept open between batches (smtpIdle at most), so a campaign does not
// open one connection per batch. See docs/adr/0020-bulk-mail-batches.md.

// smtpIdle is how long an idle connection is kept for the next batch.
const smtpIdle = 10 * time.Second

// smtpConn is an open, authenticated SMTP connection between messages.
type smtpConn struct {
	sc         *smtp.Client
	pipelining bool
	carried    int // messages handed over on it
	idleSince  time.Time
}

// smtpPool keeps idle connections per SMTP settings.
type smtpPool struct {
	mu     sync.Mutex
	idle   map[SMTPSettings][]*smtpConn
	reaper *time.Timer
}

// take returns an idle connection for s, or nil.
func (p *smtpPool) take(s SMTPSettings) *smtpConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.idle[s]
	for len(cs) > 0 {
		c := cs[len(cs)-1]
		cs = cs[:len(cs)-1]
		p.idle[s] = cs
		if time.Since(c.idleSince) < smtpIdle {
			return c
		}
		go quit(c)
	}
	return nil
}

// put keeps c for the next batch.
func (p *smtpPool) put(s SMTPSettings, c *smtpConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[SMTPSettings][]*smtpConn{}
	}
	c.idleSince = time.Now()
	p.idle[s] = append(p.idle[s], c)
	if p.reaper == nil {
		p.reaper = time.AfterFunc(smtpIdle, p.reap)
	}
}

// reap says goodbye on the connections idle for smtpIdle and looks again
// later while any are left.
func (p *smtpPool) reap() {
	p.mu.Lock()
	var old []*smtpConn
	left := 0
	for s, cs := range p.idle {
		keep := cs[:0]
		for _, c := range cs {
			if time.Since(c.idleSince) >= smtpIdle {
				old = append(old, c)
			} else {
				keep = append(keep, c)
			}
		}
		p.idle[s] = keep
		left += len(keep)
	}
	p.reaper = nil
	if left > 0 {
		p.reaper = time.AfterFunc(smtpIdle, p.reap)
	}
	p.mu.Unlock()
	for _, c := range old {
		quit(c)
	}
}

// closeAll says goodbye on every idle connection.
func (p *smtpPool) closeAll() {
	p.mu.Lock()
	var all []*smtpConn
	for s, cs := range p.idle {
		all = append(all, cs...)
		delete(p.idle, s)
	}
	if p.reaper != nil {
		p.reaper.Stop()
		p.reaper = nil
	}
	p.mu.Unlock()
	for _, c := range all {
		quit(c)
	}
}

func quit(c *smtpConn) {
	_ = c.sc.UpdateDeadline(5 * time.Second)
	if err := c.sc.Quit(); err != nil {
		_ = c.sc.Close()
	}
}

// Close says goodbye on the SMTP connections kept open between batches.
func (m *Mailer) Close() { m.pool.closeAll() }

func (m *Mailer) timeout() time.Duration {
	if m.Timeout <= 0 {
		return 30 * time.Second
	}
	return m.Timeout
}

// dial opens and authenticates a connection to the server of s.
func (m *Mailer) dial(ctx context.Context, s SMTPSettings) (*smtpConn, error) {
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(m.timeout())}
	switch s.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s:%d: %w", s.Host, s.Port, err)
	}
	pipe, _ := sc.Extension("PIPELINING")
	return &smtpConn{sc: sc, pipelining: pipe}, nil
}

// deliveryError is why one message was not accepted.
type deliveryError struct {
	step string // the command refused or cut off: "MAIL FROM", "RCPT TO", "DATA" or "message"
	code int    // the server's reply; 0 when the connection failed first
	text string
	// handed is true when the content was (partly) written and no reply
	// came: the server may have taken the message.
	handed bool
	err    error // the connection's error (code 0)
}

func (e *deliveryError) Error() string {
	switch {
	case e.code != 0:
		return fmt.Sprintf("%s refused: %d %s", e.step, e.code, e.text)
	case e.handed:
		return fmt.Sprintf("the connection failed after the message was handed over: %v", e.err)
	}
	return fmt.Sprintf("the connection failed before the message was handed over: %v", e.err)
}

var smtpCodeRe = regexp.MustCompile(`\b([45])\d\d\b`)

// classify sorts a message's delivery error: a 5xx reply is permanent (a
// bounce when it refused the recipient); a connection lost after the content
// was handed over is unknown (it may have been delivered); everything else
// (4xx, connection refused, timeouts before the content) is temporary.
func classify(err error) (c smtpClass, bounce bool) {
	var de *deliveryError
	if !errors.As(err, &de) {
		return smtpTemporary, false
	}
	switch {
	case de.code >= 500:
		return smtpPermanent, de.step == "RCPT TO"
	case de.code != 0:
		return smtpTemporary, false
	case de.handed:
		return smtpUnknown, false
	}
	// Refused while connecting (e.g. a 5xx to AUTH): permanent.
	if mm := smtpCodeRe.FindStringSubmatch(de.err.Error()); mm != nil && mm[1] == "5" {
		return smtpPermanent, false
	}
	return smtpTemporary, false
}

func (e *deliveryError) Unwrap() error { return e.err }

// deliver hands msgs over in order on a connection to the server of s,
// kept open afterwards for the next batch. outs[i] is nil when the server
// accepted msgs[i] and why not otherwise; err is the connection's error,
// if it failed (the messages it kept from being tried say so too).
//
// A connection that fails before a message's content was written (a kept
// connection the server closed meanwhile, a server that closes after so
// many messages) is replaced once, and the messages not tried yet go over
// the new one: nothing of them reached the server.
func (m *Mailer) deliver(ctx context.Context, s SMTPSettings, msgs []wireMessage) (outs []error, err error) {
	outs = make([]error, len(msgs))
	from := 0 // the first message without an outcome
	c := m.pool.take(s)
	for redials := 0; ; redials++ {
		if c == nil {
			if c, err = m.dial(ctx, s); err != nil {
				for i := from; i < len(msgs); i++ {
					outs[i] = &deliveryError{step: "connect", err: err}
				}
				return outs, err
			}
		}
		part, cerr := c.converse(msgs[from:], m.timeout())
		copy(outs[from:], part)
		m.after(s, c, cerr)
		if cerr == nil {
			return outs, nil
		}
		k := untriedFrom(part)
		if k == len(part) || redials >= 1 {
			return outs, cerr
		}
		from, c, err = from+k, nil, cerr
	}
}

// untriedFrom returns the index from which no message got past its first
// command because the connection failed (len(outs): none such).
func untriedFrom(outs []error) int {
	k := len(outs)
	for k > 0 {
		var de *deliveryError
		if !errors.As(outs[k-1], &de) || de.code != 0 || de.handed {
			break
		}
		k--
	}
	return k
}

// maxPerConn is how many messages one connection carries before it is
// closed: servers limit messages per connection (Exim: 1,000 by default).
const maxPerConn = 500

// after keeps a healthy connection for the next batch and closes a failed one.
func (m *Mailer) after(s SMTPSettings, c *smtpConn, err error) {
	if err != nil {
		_ = c.sc.Close()
		return
	}
	if c.carried >= maxPerConn {
		go quit(c)
		return
	}
	m.pool.put(s, c)
}

// converse runs the transactions of msgs. It leaves the connection ready
// for a new transaction unless it returns an error.
func (c *smtpConn) converse(msgs []wireMessage, timeout time.Duration) ([]error, error) {
	outs := make([]error, len(msgs))
	t := c.sc.Text
	// cut records the connection's failure for every message from i on
	// that has no outcome yet.
	cut := func(i int, handed int, err error) ([]error, error) {
		for k := i; k < len(msgs); k++ {
			if outs[k] == nil {
				outs[k] = &deliveryError{step: "message", handed: k == handed, err: err}
			}
		}
		return outs, err
	}
	reply := func() (int, string, error) {
		code, text, err := t.ReadResponse(0)
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code, te.Msg, nil
		}
		return code, text, err
	}
	ready := -1   // the message whose content goes first in the next write
	open := false // the server holds a transaction (MAIL accepted) to reset
	settled := 0  // the messages before this one have their outcome
	for i := 0; i < len(msgs) || ready >= 0; {
		if err := c.sc.UpdateDeadline(timeout); err != nil {
			return cut(settled, -1, err)
		}
		w := t.W
		sent := ready // its content is in this write
		if ready >= 0 {
			_, _ = w.Write(msgs[ready].data)
			ready = -1
			c.carried++
		}
		next := -1 // its commands are in this write
		var cmds []string
		if i < len(msgs) {
			next, i = i, i+1
			if open {
				cmds = append(cmds, "RSET")
			}
			cmds = append(cmds, "MAIL FROM:<"+msgs[next].from+">", "RCPT TO:<"+msgs[next].to+">", "DATA")
		}
		// Without PIPELINING every command waits for its reply.
		group := len(cmds)
		if !c.pipelining {
			group = 0
		}
		for _, cmd := range cmds[:group] {
			_, _ = w.WriteString(cmd + "\r\n")
		}
		if err := w.Flush(); err != nil {
			return cut(settled, sent, err)
		}
		if sent >= 0 {
			code, text, err := reply()
			if err != nil {
				return cut(settled, sent, err)
			}
			if code/100 != 2 {
				outs[sent] = &deliveryError{step: "message", code: code, text: text}
			}
			settled = sent + 1
		}
		if next < 0 {
			break
		}
		codes := make([]int, len(cmds))
		texts := make([]string, len(cmds))
		for k, cmd := range cmds {
			if k >= group {
				_, _ = w.WriteString(cmd + "\r\n")
				if err := w.Flush(); err != nil {
					return cut(settled, -1, err)
				}
			}
			code, text, err := reply()
			if err != nil {
				return cut(settled, -1, err)
			}
			codes[k], texts[k] = code, text
			if k >= group && cmd != "RSET" && cmd != "DATA" && code/100 != 2 {
				break // not pipelined: no use going on with this message
			}
		}
		if open {
			if codes[0]/100 != 2 {
				return cut(settled, -1, fmt.Errorf("RSET refused: %d %s", codes[0], texts[0]))
			}
			codes, texts, open = codes[1:], texts[1:], false
		}
		if codes[2] == 354 && (codes[0]/100 != 2 || codes[1]/100 != 2) {
			// A server that takes DATA without a recipient: end the empty
			// message before going on.
			_, _ = w.WriteString(".\r\n")
			if err := w.Flush(); err != nil {
				return cut(settled, -1, err)
			}
			if _, _, err := reply(); err != nil {
				return cut(settled, -1, err)
			}
			codes[2] = 0
		}
		switch {
		case codes[0]/100 != 2:
			outs[next] = &deliveryError{step: "MAIL FROM", code: codes[0], text: texts[0]}
		case codes[1]/100 != 2:
			outs[next] = &deliveryError{step: "RCPT TO", code: codes[1], text: texts[1]}
			open = true
		case codes[2] != 354:
			outs[next] = &deliveryError{step: "DATA", code: codes[2], text: texts[2]}
			open = true
		default:
			ready = next
			continue
		}
		settled = next + 1
	}
	return outs, nil
}
