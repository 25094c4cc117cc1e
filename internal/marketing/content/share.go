package content

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// Signed link purposes, distinct from every other link's so a token made for
// one never counts for another. A share link names an asset, a contact and
// the rep who shared it; an access token lets a visitor who passed the page
// (and its form, when gated) fetch the asset itself for a day.
const (
	purposeShare  = "content.share"
	purposeAccess = "content.access"
	shareTTL      = 366 * 24 * time.Hour
	accessTTL     = 24 * time.Hour
)

// View sources.
const (
	SourceShare  = "share"  // a rep's tracked share link
	SourceForm   = "form"   // the public page, after its gating form
	SourcePublic = "public" // the open public page, anonymous
)

// ShareClaim is what a share link carries: signed, not secret.
type ShareClaim struct {
	Asset   int64 `json:"a"`
	Contact int64 `json:"c"`
	User    int64 `json:"u,omitempty"`
}

type accessClaim struct {
	Asset   int64 `json:"a"`
	Contact int64 `json:"c,omitempty"`
}

// ParseShareToken checks a share link's token with the workspace's signing
// key and returns its claim. Anything forged, altered, expired or naming no
// asset and contact is Unauthenticated.
func ParseShareToken(key []byte, token string, now time.Time) (ShareClaim, error) {
	var cl ShareClaim
	if err := platform.VerifyLink(key, purposeShare, token, now, &cl); err != nil {
		return ShareClaim{}, err
	}
	if cl.Asset <= 0 || cl.Contact <= 0 || cl.User < 0 {
		return ShareClaim{}, errs.E(errs.Unauthenticated, "token", "this link is not valid")
	}
	return cl, nil
}

// SharePath is the path of a share link (under the public base URL).
func SharePath(token string) string { return "/c/s/" + token }

// AccessPath is the path that serves the asset itself: the file as a
// download, or a redirect to the asset's stored address.
func AccessPath(token string) string { return "/c/a/" + token }

// PublicPath is the path of an asset's public page.
func PublicPath(x Asset) string { return "/c/" + x.Key }

// TrackedURL returns contact's personal tracked link to an asset, shared by
// user sharedBy (0: nobody in particular, e.g. a marketing email), under
// base (the public base URL, without a trailing slash). Email, salesmail and
// sequences call it to put an asset in a message.
func (s *Service) TrackedURL(ctx context.Context, ws, assetID, contactID, sharedBy int64, base string) (string, error) {
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return "", err
	}
	x, err := get(ctx, s.DB.Reader(), ws, "a.id = ?", assetID)
	if err != nil {
		return "", err
	}
	if x.Status == StatusArchived {
		return "", errs.Rule("asset_id", "this content is archived")
	}
	if contactID <= 0 {
		return "", errs.Field("contact_id", "is required")
	}
	return SignShare(w.SigningKey(), base, ShareClaim{Asset: assetID, Contact: contactID, User: sharedBy}, s.Clock.Now())
}

// SignShare makes a share link for a claim without touching the database:
// a bulk sender checks its assets once (Assets) and then signs one link per
// recipient. key is the workspace's signing key, base the public base URL.
func SignShare(key []byte, base string, cl ShareClaim, now time.Time) (string, error) {
	if cl.Asset <= 0 || cl.Contact <= 0 {
		return "", errs.Field("contact_id", "is required")
	}
	tok, err := platform.SignLink(key, purposeShare, cl, now.Add(shareTTL))
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + SharePath(tok), nil
}

// Share returns the tracked link a rep sends to a contact they may see.
func (s *Service) Share(ctx context.Context, a platform.Actor, assetID, contactID int64, base string) (string, error) {
	if _, err := s.CRM.GetContact(ctx, s.DB.Reader(), a, contactID); err != nil {
		return "", err
	}
	return s.TrackedURL(ctx, a.WorkspaceID, assetID, contactID, a.UserID, base)
}

// Opened is what a visitor gets when a link checks out.
type Opened struct {
	Asset Asset
	// Access is the token for AccessPath; empty while a gate still stands.
	Access string
	// Gated is true when the visitor must fill in the asset's form first.
	Gated bool
}

func (s *Service) accessToken(ctx context.Context, ws int64, x Asset, contact int64) (string, error) {
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return "", err
	}
	return platform.SignLink(w.SigningKey(), purposeAccess, accessClaim{Asset: x.ID, Contact: contact}, s.Clock.Now().Add(accessTTL))
}

// OpenShare follows a share link: it records the view (event, timeline,
// owner notification) and returns the asset with an access token. The
// contact is known from the link, so a gate does not apply. A forged or
// altered token, or an archived asset, is NotFound and records nothing.
func (s *Service) OpenShare(ctx context.Context, ws int64, token, base string) (Opened, error) {
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return Opened{}, err
	}
	cl, err := ParseShareToken(w.SigningKey(), token, s.Clock.Now())
	if err != nil {
		return Opened{}, errs.NotFoundf("link not found")
	}
	x, err := get(ctx, s.DB.Reader(), ws, "a.id = ?", cl.Asset)
	if err != nil || x.Status == StatusArchived {
		return Opened{}, errs.NotFoundf("link not found")
	}
	if err := s.recordView(ctx, ws, x, cl.Contact, cl.User, SourceShare, base); err != nil {
		return Opened{}, err
	}
	acc, err := s.accessToken(ctx, ws, x, cl.Contact)
	return Opened{Asset: x, Access: acc}, err
}

// OpenPublic opens the public page of a published asset. An ungated one is
// counted as an anonymous view and comes with its access token; a gated one
// comes without, until the form is filled in (Unlock).
func (s *Service) OpenPublic(ctx context.Context, ws int64, key, base string) (Opened, error) {
	x, err := s.ByKey(ctx, ws, key)
	if err != nil || !x.Published() {
		return Opened{}, errs.NotFoundf("content not found")
	}
	if x.FormID != 0 {
		return Opened{Asset: x, Gated: true}, nil
	}
	if err := s.recordView(ctx, ws, x, 0, 0, SourcePublic, base); err != nil {
		return Opened{}, err
	}
	acc, err := s.accessToken(ctx, ws, x, 0)
	return Opened{Asset: x, Access: acc}, err
}

// Unlock records that contact (just made or updated by a valid submission
// of the asset's form) viewed a gated asset, and returns its access token.
func (s *Service) Unlock(ctx context.Context, ws int64, key string, contact int64, base string) (Opened, error) {
	x, err := s.ByKey(ctx, ws, key)
	if err != nil || !x.Published() {
		return Opened{}, errs.NotFoundf("content not found")
	}
	if err := s.recordView(ctx, ws, x, contact, 0, SourceForm, base); err != nil {
		return Opened{}, err
	}
	acc, err := s.accessToken(ctx, ws, x, contact)
	return Opened{Asset: x, Access: acc}, err
}

// Resolve checks an access token and returns the asset it opens. The
// caller serves the file or redirects to the asset's own stored address:
// a link never carries where it leads.
func (s *Service) Resolve(ctx context.Context, ws int64, token string) (Asset, error) {
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return Asset{}, err
	}
	var cl accessClaim
	if err := platform.VerifyLink(w.SigningKey(), purposeAccess, token, s.Clock.Now(), &cl); err != nil || cl.Asset <= 0 {
		return Asset{}, errs.NotFoundf("link not found")
	}
	x, err := get(ctx, s.DB.Reader(), ws, "a.id = ?", cl.Asset)
	if err != nil || x.Status == StatusArchived {
		return Asset{}, errs.NotFoundf("link not found")
	}
	return x, nil
}

// recordView counts a view (base is the public base URL the visitor used,
// for the event's URL; the workspace's when empty); for a known contact it also stores a
// content_view event (asset_id and topics in its properties, for interest
// profiles; the event store puts it on the timeline) and tells the
// contact's owner, at most once per NotifyWindow per contact and asset.
func (s *Service) recordView(ctx context.Context, ws int64, x Asset, contact, sharedBy int64, source, base string) error {
	now := s.Clock.Now()
	if base == "" {
		w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
		if err != nil {
			return err
		}
		base = w.PublicBaseURL
	}
	pageURL := ""
	if base != "" {
		pageURL = strings.TrimSuffix(base, "/") + PublicPath(x)
	}
	return s.DB.Write(ctx, "content.recordView", func(tx *db.Tx) error {
		var ct crm.Contact
		if contact > 0 {
			c, err := s.CRM.GetContact(ctx, tx, platform.System(ws), contact)
			switch {
			case errs.Is(err, errs.NotFound):
				contact = 0 // deleted since the link was sent: count the view only
			case err != nil:
				return err
			default:
				ct = c
			}
		}
		var viewID int64
		if err := tx.QueryRowContext(ctx, `-- content.recordView
			INSERT INTO content_views (workspace_id, asset_id, contact_id, shared_by, source, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			ws, x.ID, db.NullInt(contact), db.NullInt(sharedBy), source, db.Millis(now)).Scan(&viewID); err != nil {
			return fmt.Errorf("content.recordView: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `-- content.recordView count
			UPDATE content_assets SET views = views + 1 WHERE workspace_id = ? AND id = ?`, ws, x.ID); err != nil {
			return fmt.Errorf("content.recordView: %w", err)
		}
		if contact == 0 {
			return nil
		}
		props := map[string]any{"asset_id": x.ID, "topics": x.Topics, "title": x.Title, "kind": x.Kind, "source": source}
		if sharedBy != 0 {
			props["shared_by"] = sharedBy
		}
		// One event per contact, asset and minute: a reload is not a new view.
		uid := fmt.Sprintf("content:%d:%d:%d", x.ID, contact, now.Unix()/60)
		_, rejected, err := platform.StoreEvents(ctx, tx, ws, []platform.EventInput{{ID: uid, Kind: platform.EventContentView,
			ContactID: contact, URL: pageURL, Properties: props}}, now)
		if err != nil {
			return err
		}
		if len(rejected) > 0 {
			return fmt.Errorf("content.recordView: %s %s", rejected[0].Field, rejected[0].Message)
		}
		return s.notifyOwner(ctx, tx, ws, x, ct, sharedBy, viewID, now)
	})
}

func (s *Service) notifyOwner(ctx context.Context, tx *db.Tx, ws int64, x Asset, ct crm.Contact, sharedBy, viewID int64, now time.Time) error {
	if s.Notify == nil || ct.OwnerID == 0 {
		return nil
	}
	var recent int
	if err := tx.QueryRowContext(ctx, `-- content.notifyOwner recent
		SELECT COUNT(*) FROM content_views WHERE workspace_id = ? AND contact_id = ? AND asset_id = ? AND at > ? AND id <> ?`,
		ws, ct.ID, x.ID, db.Millis(now.Add(-s.NotifyWindow)), viewID).Scan(&recent); err != nil {
		return fmt.Errorf("content.notifyOwner: %w", err)
	}
	if recent > 0 {
		return nil
	}
	owner, err := platform.GetUser(ctx, tx, ws, ct.OwnerID)
	if err != nil {
		return err
	}
	lang, _ := i18n.Parse(owner.Locale)
	who := i18n.PersonName(lang, ct.FamilyName, ct.GivenName)
	if who == "" {
		who = ct.Email
	}
	title := i18n.T(lang, "notify.content_viewed", "contact", who, "asset", x.Title)
	if sharedBy != 0 {
		if rep, err := platform.GetUser(ctx, tx, ws, sharedBy); err == nil {
			title = i18n.T(lang, "notify.content_viewed_shared", "contact", who, "asset", x.Title, "rep", rep.Name)
		}
	}
	_, _, err = s.Notify.Notify(ctx, tx, ws, ct.OwnerID, platform.Notification{Kind: "content.viewed", Title: title,
		Link: fmt.Sprintf("/contacts/%d", ct.ID), DedupeKey: fmt.Sprintf("content.viewed:%d", viewID)})
	return err
}
