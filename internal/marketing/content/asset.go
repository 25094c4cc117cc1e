package content

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// MaxFileSize is the largest file an asset may hold (20 MiB): large enough
// for a slide deck as PDF, small enough to keep in a database row.
const MaxFileSize = 20 << 20

// Kinds of asset.
var Kinds = []string{"case_study", "white_paper", "slides", "link", "video", "other"}

// Stages of the funnel an asset serves.
var Stages = []string{"awareness", "consideration", "decision"}

// Statuses: only published assets have a public page.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusArchived  = "archived"
)

// Statuses lists the statuses in order.
var Statuses = []string{StatusDraft, StatusPublished, StatusArchived}

// MaxTopics bounds an asset's topic tags.
const MaxTopics = 20

// Service runs the content library's use cases.
type Service struct {
	DB     *db.DB
	Clock  clock.Clock
	CRM    *crm.Service
	Notify *platform.Notifier // optional: owners are told about views
	Log    *slog.Logger
	// NotifyWindow is how long after telling an owner that a contact viewed
	// an asset further views by that contact of that asset stay quiet
	// (default 30 minutes).
	NotifyWindow time.Duration
}

// New returns the service.
func New(d *db.DB, c clock.Clock, cs *crm.Service, n *platform.Notifier, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{DB: d, Clock: c, CRM: cs, Notify: n, Log: log, NotifyWindow: 30 * time.Minute}
}

// Asset is one item of the library.
type Asset struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key" doc:"the random part of the public page's address (/c/{key})"`
	Kind        string    `json:"kind" doc:"case_study, white_paper, slides, link, video or other"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	URL         string    `json:"url,omitempty" doc:"the external address, for an asset that is not a file"`
	FileName    string    `json:"file_name,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	FileSize    int64     `json:"file_size,omitempty"`
	Topics      []string  `json:"topics"`
	Industry    string    `json:"industry,omitempty"`
	Stage       string    `json:"stage,omitempty" doc:"awareness, consideration or decision"`
	FormID      int64     `json:"form_id,omitempty" doc:"the marketing form that gates the public page"`
	Status      string    `json:"status" doc:"draft, published or archived"`
	Views       int64     `json:"views"`
	CreatedBy   int64     `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// IsFile reports whether the asset is an uploaded file.
func (a Asset) IsFile() bool { return a.FileName != "" }

// Published reports whether the asset has a public page.
func (a Asset) Published() bool { return a.Status == StatusPublished }

// AssetInput creates or changes an asset. On update every field is replaced;
// the file stays unless a new one is given.
type AssetInput struct {
	Kind        string   `json:"kind"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	URL         string   `json:"url,omitempty" doc:"an http(s) address; leave empty for a file uploaded in the UI"`
	Topics      []string `json:"topics,omitempty"`
	Industry    string   `json:"industry,omitempty"`
	Stage       string   `json:"stage,omitempty"`
	FormID      int64    `json:"form_id,omitempty"`
	Status      string   `json:"status,omitempty" doc:"default: draft"`
}

// File is an uploaded file.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// CheckFileSize refuses a file that is empty or larger than MaxFileSize
// before its bytes are read, naming the field.
func CheckFileSize(n int64) error {
	if n <= 0 {
		return errs.Field("file", "the file is empty")
	}
	if n > MaxFileSize {
		return errs.Field("file", "the file is larger than 20 MB")
	}
	return nil
}

func cleanTopics(in []string) []string {
	out := []string{}
	for _, t := range in {
		for _, p := range strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == '、' || r == '\n' }) {
			p = strings.TrimSpace(p)
			if p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func (in *AssetInput) validate(hasFile bool) error {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.URL = strings.TrimSpace(in.URL)
	in.Industry = strings.TrimSpace(in.Industry)
	in.Topics = cleanTopics(in.Topics)
	if in.Status == "" {
		in.Status = StatusDraft
	}
	switch {
	case !slices.Contains(Kinds, in.Kind):
		return errs.Field("kind", "is not a known kind")
	case in.Title == "":
		return errs.Field("title", "is required")
	case utf8.RuneCountInString(in.Title) > 200:
		return errs.Field("title", "is too long")
	case utf8.RuneCountInString(in.Description) > 5000:
		return errs.Field("description", "is too long")
	case in.Stage != "" && !slices.Contains(Stages, in.Stage):
		return errs.Field("stage", "is not a known stage")
	case !slices.Contains(Statuses, in.Status):
		return errs.Field("status", "is not a known status")
	case len(in.Topics) > MaxTopics:
		return errs.Field("topics", "too many topics")
	case utf8.RuneCountInString(in.Industry) > 100:
		return errs.Field("industry", "is too long")
	}
	for _, t := range in.Topics {
		if utf8.RuneCountInString(t) > 50 {
			return errs.Field("topics", "a topic is too long")
		}
	}
	if in.URL != "" {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.URL) > 2000 {
			return errs.Field("url", "must be an http or https address")
		}
	}
	if in.URL == "" && !hasFile {
		return errs.Field("url", "give an address or upload a file")
	}
	return nil
}

func canEdit(a platform.Actor) error {
	if a.Kind == platform.ActorSystem || a.Kind == platform.ActorCLI || a.UserID != 0 {
		return nil // the library is shared: every signed-in user may add to it
	}
	return errs.E(errs.Forbidden, "", "sign in to edit content")
}

var keyEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

func newKey() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(keyEnc.EncodeToString(b))
}

// safeFileName keeps a file's base name, without path or control characters.
func safeFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return name
}

// safeContentType keeps a parseable media type, else octet-stream. The file
// is only ever served as an attachment with nosniff, so a wrong type cannot
// make the browser run it.
func safeContentType(ct, name string) string {
	if ct == "" || ct == "application/octet-stream" {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt == "" {
		return "application/octet-stream"
	}
	if cs := params["charset"]; cs != "" {
		if t := mime.FormatMediaType(mt, map[string]string{"charset": cs}); t != "" {
			return t
		}
	}
	return mt
}

// Create adds an asset, with its file when f is not nil.
func (s *Service) Create(ctx context.Context, a platform.Actor, in AssetInput, f *File) (Asset, error) {
	return s.save(ctx, a, 0, in, f)
}

// Update replaces an asset's fields and, when f is not nil, its file.
func (s *Service) Update(ctx context.Context, a platform.Actor, id int64, in AssetInput, f *File) (Asset, error) {
	return s.save(ctx, a, id, in, f)
}

func (s *Service) save(ctx context.Context, a platform.Actor, id int64, in AssetInput, f *File) (Asset, error) {
	if err := canEdit(a); err != nil {
		return Asset{}, err
	}
	if f != nil {
		if err := CheckFileSize(int64(len(f.Data))); err != nil {
			return Asset{}, err
		}
		f.Name = safeFileName(f.Name)
		f.ContentType = safeContentType(f.ContentType, f.Name)
	}
	now := s.Clock.Now()
	var out Asset
	err := s.DB.Write(ctx, "content.save", func(tx *db.Tx) error {
		var before Asset
		hasFile := f != nil
		if id != 0 {
			var err error
			if before, err = get(ctx, tx, a.WorkspaceID, "a.id = ?", id); err != nil {
				return err
			}
			hasFile = hasFile || before.IsFile()
		}
		if err := in.validate(hasFile); err != nil {
			return err
		}
		if f != nil {
			in.URL = "" // a new file replaces an address
		}
		if in.FormID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `-- content.save form
				SELECT COUNT(*) FROM forms WHERE workspace_id = ? AND id = ?`, a.WorkspaceID, in.FormID).Scan(&n); err != nil {
				return fmt.Errorf("content.save: %w", err)
			}
			if n == 0 {
				return errs.Field("form_id", "no such form")
			}
		}
		if id == 0 {
			err := tx.QueryRowContext(ctx, `-- content.Create
				INSERT INTO content_assets (workspace_id, key, kind, title, description, url, industry, stage, form_id, status, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				a.WorkspaceID, newKey(), in.Kind, in.Title, in.Description, in.URL, in.Industry, in.Stage, db.NullInt(in.FormID), in.Status,
				a.UserRef(), db.Millis(now), db.Millis(now)).Scan(&id)
			if err != nil {
				return fmt.Errorf("content.Create: %w", err)
			}
		} else {
			fileCols := ""
			if in.URL != "" && f == nil { // an address replaces a file
				fileCols = ", file_name = '', content_type = '', file_size = 0"
				if _, err := tx.ExecContext(ctx, `-- content.Update drop file
					DELETE FROM content_files WHERE workspace_id = ? AND asset_id = ?`, a.WorkspaceID, id); err != nil {
					return fmt.Errorf("content.Update: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, `-- content.Update
				UPDATE content_assets SET kind = ?, title = ?, description = ?, url = ?, industry = ?, stage = ?, form_id = ?, status = ?,
				updated_at = ?`+fileCols+` WHERE workspace_id = ? AND id = ?`,
				in.Kind, in.Title, in.Description, in.URL, in.Industry, in.Stage, db.NullInt(in.FormID), in.Status, db.Millis(now),
				a.WorkspaceID, id); err != nil {
				return fmt.Errorf("content.Update: %w", err)
			}
		}
		if f != nil {
			if _, err := tx.ExecContext(ctx, `-- content.save file
				INSERT INTO content_files (workspace_id, asset_id, data) VALUES (?, ?, ?)
				ON CONFLICT (workspace_id, asset_id) DO UPDATE SET data = excluded.data`, a.WorkspaceID, id, f.Data); err != nil {
				return fmt.Errorf("content.save file: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `-- content.save file meta
				UPDATE content_assets SET file_name = ?, content_type = ?, file_size = ? WHERE workspace_id = ? AND id = ?`,
				f.Name, f.ContentType, len(f.Data), a.WorkspaceID, id); err != nil {
				return fmt.Errorf("content.save file: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `-- content.save topics
			DELETE FROM content_topics WHERE workspace_id = ? AND asset_id = ?`, a.WorkspaceID, id); err != nil {
			return fmt.Errorf("content.save topics: %w", err)
		}
		for _, t := range in.Topics {
			if _, err := tx.ExecContext(ctx, `-- content.save topics
				INSERT INTO content_topics (workspace_id, asset_id, topic) VALUES (?, ?, ?)`, a.WorkspaceID, id, t); err != nil {
				return fmt.Errorf("content.save topics: %w", err)
			}
		}
		var err error
		if out, err = get(ctx, tx, a.WorkspaceID, "a.id = ?", id); err != nil {
			return err
		}
		action := "content.create"
		if before.ID != 0 {
			action = "content.update"
		}
		return platform.Audit(ctx, tx, a, now, action, "content_asset", id, platform.Diff(before, out))
	})
	return out, err
}

// Archive takes an asset out of the library and its public page offline;
// its share links stop working and its history stays.
func (s *Service) Archive(ctx context.Context, a platform.Actor, id int64) (Asset, error) {
	if err := canEdit(a); err != nil {
		return Asset{}, err
	}
	now := s.Clock.Now()
	var out Asset
	err := s.DB.Write(ctx, "content.Archive", func(tx *db.Tx) error {
		before, err := get(ctx, tx, a.WorkspaceID, "a.id = ?", id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `-- content.Archive
			UPDATE content_assets SET status = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			StatusArchived, db.Millis(now), a.WorkspaceID, id); err != nil {
			return fmt.Errorf("content.Archive: %w", err)
		}
		if out, err = get(ctx, tx, a.WorkspaceID, "a.id = ?", id); err != nil {
			return err
		}
		return platform.Audit(ctx, tx, a, now, "content.archive", "content_asset", id, platform.Diff(before, out))
	})
	return out, err
}
