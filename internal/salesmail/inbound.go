package salesmail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// MaxInbound bounds an inbound post (JSON with an optional raw message).
const MaxInbound = 1 << 20

// InboundMessage is a reply posted to the inbound API: either the fields,
// or Raw (the whole RFC 5322 message as received), whose headers and
// plain-text part fill the fields left empty.
type InboundMessage struct {
	From       string   `json:"from,omitempty" doc:"the sender, e.g. \"Taro Yamada <taro@example.com>\""`
	To         []string `json:"to,omitempty" doc:"the recipients; a rep's reply address attributes the reply to that rep"`
	Subject    string   `json:"subject,omitempty"`
	Text       string   `json:"text,omitempty" doc:"the plain-text body"`
	MessageID  string   `json:"message_id,omitempty" doc:"the reply's Message-ID; a message is logged once per Message-ID"`
	InReplyTo  string   `json:"in_reply_to,omitempty" doc:"the In-Reply-To header: the Message-ID of the email it answers"`
	References string   `json:"references,omitempty"`
	Raw        string   `json:"raw,omitempty" doc:"the whole message as received (RFC 5322), instead of or besides the fields"`
}

// ParseInbound decodes and checks an inbound post. Errors are Invalid and
// name the field.
func ParseInbound(body []byte) (InboundMessage, error) {
	var m InboundMessage
	if len(body) > MaxInbound {
		return m, errs.Field("body", "is larger than %d bytes", MaxInbound)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return m, errs.Field(ute.Field, "has the wrong type")
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return m, errs.Field(strings.Trim(f, `"`), "is not a known field")
		}
		return m, errs.Field("body", "is not valid JSON")
	}
	if m.Raw != "" {
		if err := m.fillFromRaw(); err != nil {
			return m, err
		}
	}
	for _, f := range []struct{ name, v string }{{"from", m.From}, {"subject", m.Subject}, {"message_id", m.MessageID},
		{"in_reply_to", m.InReplyTo}, {"references", m.References}} {
		if strings.ContainsAny(f.v, "\r\n\x00") || !utf8.ValidString(f.v) {
			return m, errs.Field(f.name, "must be one line of UTF-8 text")
		}
	}
	a, err := netmail.ParseAddress(m.From)
	if err != nil || a.Address == "" {
		return m, errs.Field("from", "is not a valid email address")
	}
	m.From = strings.ToLower(a.Address)
	if len(m.To) > 100 {
		return m, errs.Field("to", "has more than 100 addresses")
	}
	for i, t := range m.To {
		a, err := netmail.ParseAddress(t)
		if err != nil {
			return m, errs.Field(fmt.Sprintf("to[%d]", i), "is not a valid email address")
		}
		m.To[i] = strings.ToLower(a.Address)
	}
	m.Subject = strings.TrimSpace(m.Subject)
	if len(m.Subject) > 500 {
		m.Subject = truncate(m.Subject, 500)
	}
	if !utf8.ValidString(m.Text) {
		return m, errs.Field("text", "is not UTF-8 text")
	}
	if len(m.Text) > MaxBody {
		m.Text = truncate(m.Text, MaxBody)
	}
	if len(m.MessageID) > 998 || len(m.InReplyTo) > 998 || len(m.References) > 998*4 {
		return m, errs.Field("message_id", "is too long")
	}
	m.MessageID, m.InReplyTo = strings.TrimSpace(m.MessageID), firstID(m.InReplyTo)
	return m, nil
}

// firstID returns the first <id> of a header holding message ids.
func firstID(h string) string {
	h = strings.TrimSpace(h)
	if i := strings.IndexByte(h, '<'); i >= 0 {
		if j := strings.IndexByte(h[i:], '>'); j > 0 {
			return h[i : i+j+1]
		}
	}
	return h
}

func truncate(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var wordDecoder = mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	if strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "us-ascii") {
		return r, nil
	}
	return nil, fmt.Errorf("charset %q is not supported", charset)
}}

// fillFromRaw reads headers and the first text/plain part of m.Raw into
// the fields left empty.
func (m *InboundMessage) fillFromRaw() error {
	msg, err := netmail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		return errs.Field("raw", "is not an RFC 5322 message")
	}
	h := msg.Header
	dec := func(v string) string {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	if m.From == "" {
		m.From = dec(h.Get("From"))
	}
	if len(m.To) == 0 {
		for _, k := range []string{"To", "Cc", "Delivered-To", "X-Original-To"} {
			if list, err := h.AddressList(k); err == nil {
				for _, a := range list {
					m.To = append(m.To, a.Address)
				}
			}
		}
	}
	if m.Subject == "" {
		m.Subject = dec(h.Get("Subject"))
	}
	if m.MessageID == "" {
		m.MessageID = h.Get("Message-Id")
	}
	if m.InReplyTo == "" {
		m.InReplyTo = h.Get("In-Reply-To")
	}
	if m.References == "" {
		m.References = h.Get("References")
	}
	if m.Text == "" {
		text, err := plainText(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), msg.Body, 0)
		if err != nil {
			return errs.Field("raw", "its body could not be read: %v", err)
		}
		m.Text = text
	}
	return nil
}

// plainText returns the first text/plain part of a body (UTF-8 or ASCII).
func plainText(ctype, cte string, body io.Reader, depth int) (string, error) {
	if depth > 5 {
		return "", errors.New("parts nested too deeply")
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if ctype == "" || err != nil {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if params["boundary"] == "" {
			return "", errors.New("multipart without a boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return "", nil
			}
			if err != nil {
				return "", err
			}
			t, err := plainText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if err != nil || t != "" {
				return t, err
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return "", fmt.Errorf("charset %q is not supported", cs)
	}
	r := io.LimitReader(body, MaxBody+1)
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = newBase64Reader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errors.New("the text part is not UTF-8")
	}
	return string(b), nil
}

// Inbound logs a reply as an inbound email activity on the contact whose
// address sent it, attributed to the rep whose reply address it was sent
// to (else to the outbound email's sender, else to the caller), and linked
// to the outbound email its In-Reply-To names. A message whose Message-ID
// was logged already returns that one.
func (s *Service) Inbound(ctx context.Context, a platform.Actor, m InboundMessage) (Email, error) {
	var out Email
	err := s.DB.Write(ctx, "salesmail.Inbound", func(tx *db.Tx) error {
		ws := a.WorkspaceID
		if m.MessageID != "" {
			if e, err := getBy(ctx, tx, ws, `e.direction = ? AND e.idem_key = ?`, Inbound, m.MessageID); err == nil {
				out = e
				return nil
			} else if !errs.Is(err, errs.NotFound) {
				return err
			}
		}
		sys := platform.System(ws)
		c, err := s.CRM.ContactByEmail(ctx, tx, sys, m.From)
		if errs.Is(err, errs.NotFound) {
			return errs.Rule("from", "no contact has the address %s", m.From)
		}
		if err != nil {
			return err
		}
		w, err := platform.GetWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		st, err := GetSettings(ctx, tx, ws)
		if err != nil {
			return err
		}
		var user, dealID, replyTo int64
		to := ""
		for _, t := range m.To {
			if u := ReplyUser(w.SigningKey(), st.InboundDomain, t); u != 0 {
				if _, err := platform.GetUser(ctx, tx, ws, u); err == nil {
					user, to = u, t
					break
				}
			}
		}
		if m.InReplyTo != "" {
			if orig, err := getBy(ctx, tx, ws, `e.direction = ? AND e.message_id = ?`, Outbound, m.InReplyTo); err == nil {
				replyTo, dealID = orig.ID, orig.DealID
				if user == 0 {
					user = orig.UserID
				}
			} else if !errs.Is(err, errs.NotFound) {
				return err
			}
		}
		if user == 0 {
			user = a.UserID
		}
		if to == "" && len(m.To) > 0 {
			to = m.To[0]
		}
		now := s.Clock.Now()
		var id int64
		err = tx.QueryRowContext(ctx, `-- salesmail.Inbound
			INSERT INTO sales_emails (workspace_id, direction, contact_id, deal_id, user_id, reply_to_id, from_addr, to_addr, subject, body,
				message_id, in_reply_to, idem_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, direction, idem_key) WHERE idem_key <> '' DO NOTHING RETURNING id`, ws, Inbound, c.ID, db.NullInt(dealID),
			db.NullInt(user), db.NullInt(replyTo), m.From, to, m.Subject, m.Text, m.MessageID, m.InReplyTo, m.MessageID, db.Millis(now)).Scan(&id)
		if db.NoRows(err) { // the same Message-ID committed meanwhile
			out, err = getBy(ctx, tx, ws, `e.direction = ? AND e.idem_key = ?`, Inbound, m.MessageID)
			return err
		}
		if err != nil {
			return fmt.Errorf("salesmail.Inbound: %w", err)
		}
		kind, dir := "email", Inbound
		in := crm.ActivityInput{Kind: &kind, Direction: &dir, Subject: &m.Subject, Body: &m.Text, ContactID: &c.ID, DealID: nonZero(dealID)}
		if user != 0 {
			in.OwnerID = &user
		}
		act, err := s.CRM.LogActivityTx(ctx, tx, platform.System(ws), in)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- salesmail.Inbound.activity
			UPDATE sales_emails SET activity_id = ? WHERE workspace_id = ? AND id = ?`, act.ID, ws, id); err != nil {
			return fmt.Errorf("salesmail.Inbound: %w", err)
		}
		out, err = getBy(ctx, tx, ws, `e.id = ?`, id)
		return err
	})
	return out, err
}
