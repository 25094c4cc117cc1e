package email

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/platform"
)

// maxTopics bounds the topics of one campaign.
const maxTopics = 20

// compile normalises the campaign's topics and, for a block campaign,
// validates the document (and the segments its variants name) and compiles
// it into the template's HTML and text parts.
func (in *CampaignInput) compile(ctx context.Context, q db.Querier, ws int64) error {
	var topics []string
	for _, t := range in.Topics {
		t = interest.NormalizeTopic(t)
		if t == "" || slices.Contains(topics, t) {
			continue
		}
		if len(t) > 100 || strings.ContainsAny(t, ",\"") {
			return errs.Field("topics", "a topic is at most 100 characters, without commas or quotes")
		}
		topics = append(topics, t)
	}
	if len(topics) > maxTopics {
		return errs.Field("topics", "at most %d topics", maxTopics)
	}
	in.Topics = topics
	raw := bytes.TrimSpace(in.Blocks)
	if len(raw) == 0 || string(raw) == "null" {
		in.Blocks = nil
		return nil
	}
	doc, err := ParseBlocks(raw)
	if err != nil {
		return err
	}
	for _, ref := range segmentRefs(doc.Blocks, "blocks") {
		var one int
		err := q.QueryRowContext(ctx, `-- email.CampaignInput.compile segment
			SELECT 1 FROM segments WHERE workspace_id = ? AND id = ?`, ws, ref.id).Scan(&one)
		if db.NoRows(err) {
			return errs.Field(ref.path, "no such segment")
		}
		if err != nil {
			return fmt.Errorf("email.compile: %w", err)
		}
	}
	cards, err := contentCards(ctx, q, ws, doc)
	if err != nil {
		return err
	}
	in.Template = CompileBlocks(doc, in.Template.Subject, cards)
	// Stored as re-encoded: what is kept is exactly what was validated.
	if in.Blocks, err = json.Marshal(doc); err != nil {
		return fmt.Errorf("email.compile: %w", err)
	}
	return nil
}

// contentCards checks that every content block names a published asset of
// the workspace (an error names the block's asset_id) and returns what the
// cards show, in the workspace's language.
func contentCards(ctx context.Context, q db.Querier, ws int64, doc BlockDoc) (map[int64]ContentCard, error) {
	ids := doc.Assets()
	if len(ids) == 0 {
		return nil, nil
	}
	xs, err := content.Assets(ctx, q, ws, ids)
	if err != nil {
		return nil, err
	}
	var bad error
	walkBlocks(doc.Blocks, "blocks", func(b Block, p string) {
		if b.Type != BlockContent || bad != nil {
			return
		}
		x, ok := xs[b.AssetID]
		switch {
		case !ok:
			bad = errs.Field(p+".asset_id", "no such content item")
		case !x.Published():
			bad = errs.Field(p+".asset_id", "this content item is not published")
		}
	})
	if bad != nil {
		return nil, bad
	}
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	lang := i18n.Lang(w.DefaultLocale)
	cards := make(map[int64]ContentCard, len(xs))
	for id, x := range xs {
		cards[id] = ContentCard{Kind: i18n.T(lang, "content.kind."+x.Kind), Title: x.Title, Description: x.Description,
			Button: i18n.T(lang, "email.content_block.button")}
	}
	return cards, nil
}

// checkContent refuses to start a send whose content blocks name an asset
// archived or unpublished since the campaign was saved: every recipient
// would be skipped for it. The error names the block.
func checkContent(ctx context.Context, q db.Querier, ws int64, blocks json.RawMessage) error {
	if len(blocks) == 0 {
		return nil
	}
	doc, err := ParseBlocks(blocks)
	if err != nil {
		return err
	}
	_, err = contentCards(ctx, q, ws, doc)
	return err
}

type segmentRef struct {
	path string
	id   int64
}

// segmentRefs lists the segments variant options name, with their paths.
func segmentRefs(bs []Block, path string) []segmentRef {
	var out []segmentRef
	for i, b := range bs {
		p := fmt.Sprintf("%s[%d]", path, i)
		for j, col := range b.Columns {
			out = append(out, segmentRefs(col, fmt.Sprintf("%s.columns[%d]", p, j))...)
		}
		if b.Type != BlockVariant {
			continue
		}
		for j, o := range b.Options {
			op := fmt.Sprintf("%s.options[%d]", p, j)
			if b.By == VariantBySegment {
				out = append(out, segmentRef{path: op + ".segment_id", id: o.SegmentID})
			}
			out = append(out, segmentRefs(o.Blocks, op+".blocks")...)
		}
		out = append(out, segmentRefs(b.Default, p+".default")...)
	}
	return out
}

func topicsJSON(ts []string) string {
	if len(ts) == 0 {
		return ""
	}
	b, _ := json.Marshal(ts)
	return string(b)
}

// personalise loads what the variant and content blocks of a block document
// need about a batch of recipients: their memberships among the segments it
// names (one query), their top interest (interest.Profiles: one query for
// the batch) and their links to its content (one query for the assets, then
// a signed share link per recipient, no query). A raw-HTML campaign needs
// nothing. In a preview the content links are the assets' public pages, so
// following one does not count as the contact's view.
func personalise(ctx context.Context, q db.Querier, ws int64, blocks json.RawMessage, rs []recipient, lk *linker, preview bool) error {
	if len(blocks) == 0 || len(rs) == 0 {
		return nil
	}
	now := lk.now
	doc, err := ParseBlocks(blocks)
	if err != nil {
		return err
	}
	if err := contentLinks(ctx, q, ws, doc, rs, lk, preview); err != nil {
		return err
	}
	segs, wantInterest := doc.Needs()
	ids := make([]int64, len(rs))
	at := make(map[int64]int, len(rs))
	for i, r := range rs {
		ids[i] = r.ContactID
		at[r.ContactID] = i
	}
	if len(segs) > 0 {
		args := []any{ws}
		for _, s := range segs {
			args = append(args, s)
		}
		for _, id := range ids {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `-- email.personalise segments
			SELECT contact_id, segment_id FROM segment_members
			WHERE workspace_id = ? AND segment_id IN (`+db.Placeholders(len(segs))+`) AND contact_id IN (`+db.Placeholders(len(ids))+`)`, args...)
		if err != nil {
			return fmt.Errorf("email.personalise: %w", err)
		}
		for rows.Next() {
			var c, s int64
			if err := rows.Scan(&c, &s); err != nil {
				rows.Close()
				return fmt.Errorf("email.personalise: %w", err)
			}
			if i, ok := at[c]; ok {
				rs[i].Segments = append(rs[i].Segments, s)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("email.personalise: %w", err)
		}
	}
	if wantInterest {
		ps, err := interest.Profiles(ctx, q, ws, ids, now)
		if err != nil {
			return err
		}
		for c, p := range ps {
			if i, ok := at[c]; ok {
				rs[i].TopInterest = p.Top()
			}
		}
	}
	return nil
}

// contentLinks gives every recipient a link to each published asset of the
// document's content blocks, and the linker the assets' public pages (what
// the report counts a click on a share link as).
func contentLinks(ctx context.Context, q db.Querier, ws int64, doc BlockDoc, rs []recipient, lk *linker, preview bool) error {
	ids := doc.Assets()
	if len(ids) == 0 {
		return nil
	}
	xs, err := content.Assets(ctx, q, ws, ids)
	if err != nil {
		return err
	}
	lk.pages = make(map[string]string, len(xs)*len(rs))
	for i := range rs {
		rs[i].ContentLinks = make(map[int64]string, len(xs))
	}
	for id, x := range xs {
		if !x.Published() {
			continue // its cards fail to render: the recipient is skipped as render_error
		}
		page := lk.base + content.PublicPath(x)
		for i := range rs {
			link := page
			if !preview && rs[i].ContactID > 0 {
				if link, err = content.SignShare(lk.key, lk.base, content.ShareClaim{Asset: id, Contact: rs[i].ContactID}, lk.now); err != nil {
					return err
				}
				lk.pages[link] = page
			}
			rs[i].ContentLinks[id] = link
		}
	}
	return nil
}

// PreviewDraft renders a campaign that is being edited (not yet saved) for
// one contact (0: a sample person), with what its variant blocks would show
// them. An invalid block document is an Invalid error naming the block.
func (s *Service) PreviewDraft(ctx context.Context, a platform.Actor, in CampaignInput, contactID int64, baseURL string) (Rendered, error) {
	if err := canEdit(a); err != nil {
		return Rendered{}, err
	}
	q := s.DB.Reader()
	ws := a.WorkspaceID
	if err := in.compile(ctx, q, ws); err != nil {
		return Rendered{}, err
	}
	p, err := Parse(in.Template)
	if err != nil {
		return Rendered{}, err
	}
	w, err := platform.GetWorkspace(ctx, q, ws)
	if err != nil {
		return Rendered{}, err
	}
	rs := []recipient{{Email: sample.Email, FamilyName: sample.FamilyName, GivenName: sample.GivenName, Company: sample.Company}}
	if contactID != 0 {
		if rs, err = loadRecipients(ctx, q, ws, `c.id = ?`, contactID); err != nil {
			return Rendered{}, err
		}
		if len(rs) == 0 {
			return Rendered{}, errs.NotFoundf("contact %d not found", contactID)
		}
	}
	lk := linker{key: w.SigningKey(), base: publicBase(w, baseURL), now: s.Clock.Now(), lang: i18n.Lang(w.DefaultLocale), smtp: w.SMTP()}
	if err := personalise(ctx, q, ws, in.Blocks, rs, &lk, true); err != nil {
		return Rendered{}, err
	}
	r, _, err := lk.render(p, rs[0])
	return r, err
}

// PreviewContact is a contact offered by the editor's "preview as" picker.
type PreviewContact struct {
	ID    int64
	Name  string
	Email string
	// TopInterest is shown next to the name, so a marketer can pick
	// contacts that see different variants.
	TopInterest string
}

// PreviewContacts returns up to limit contacts with an address (the newest
// first) and their top interest, for previewing a campaign as one of them.
func (s *Service) PreviewContacts(ctx context.Context, a platform.Actor, limit int) ([]PreviewContact, error) {
	if err := canEdit(a); err != nil {
		return nil, err
	}
	q := s.DB.Reader()
	rows, err := q.QueryContext(ctx, `-- email.PreviewContacts
		SELECT id, family_name, given_name, email FROM contacts
		WHERE workspace_id = ? AND email IS NOT NULL AND email <> '' ORDER BY id DESC LIMIT ?`, a.WorkspaceID, limit)
	if err != nil {
		return nil, fmt.Errorf("email.PreviewContacts: %w", err)
	}
	var out []PreviewContact
	var ids []int64
	for rows.Next() {
		var c PreviewContact
		var family, given string
		if err := rows.Scan(&c.ID, &family, &given, &c.Email); err != nil {
			rows.Close()
			return nil, fmt.Errorf("email.PreviewContacts: %w", err)
		}
		c.Name = strings.TrimSpace(family + " " + given)
		out = append(out, c)
		ids = append(ids, c.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("email.PreviewContacts: %w", err)
	}
	ps, err := interest.Profiles(ctx, q, a.WorkspaceID, ids, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].TopInterest = ps[out[i].ID].Top()
	}
	return out, nil
}
