package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
)

func (s *Server) contentRoutes() {
	if s.Content == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /content", s.signedIn(s.contentList))
	m.HandleFunc("GET /content/new", s.signedIn(s.newContent))
	m.HandleFunc("POST /content", s.signedIn(s.createContent))
	m.HandleFunc("GET /content/{id}", s.signedIn(s.contentAsset))
	m.HandleFunc("GET /content/{id}/edit", s.signedIn(s.editContent))
	m.HandleFunc("POST /content/{id}", s.signedIn(s.updateContent))
	m.HandleFunc("POST /content/{id}/archive", s.signedIn(s.archiveContent))
	m.HandleFunc("GET /content/{id}/file", s.signedIn(s.contentFile))
	m.HandleFunc("POST /competitors/{id}/battle-cards", s.signedIn(s.battleCard))
	s.contentPublicRoutes()
}

// ContentListPage is the library with its filters.
type ContentListPage struct {
	Page
	Items    []content.Asset
	Facets   content.Facets
	F        content.Filter
	Kinds    []string
	Stages   []string
	Statuses []string
}

func (s *Server) contentList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	q := r.URL.Query()
	f := content.Filter{Kind: q.Get("kind"), Topic: q.Get("topic"), Industry: q.Get("industry"), Stage: q.Get("stage"), Status: q.Get("status"), Q: q.Get("q")}
	data := &ContentListPage{Page: s.base(c, c.Lang, "content.title", "content"), F: f, Kinds: content.Kinds, Stages: content.Stages, Statuses: content.Statuses}
	var err error
	if data.Items, err = s.Content.List(r.Context(), c.Actor, f); err != nil {
		return err
	}
	if data.Facets, err = s.Content.ListFacets(r.Context(), c.Actor); err != nil {
		return err
	}
	return s.show(w, c, "content", data)
}

// ContentEditPage is the form to add or change an asset.
type ContentEditPage struct {
	Page
	A        content.Asset // the asset being edited (ID 0 when new)
	In       content.AssetInput
	Topics   string
	Forms    []forms.Form
	Errors   map[string]string
	Action   string
	Kinds    []string
	Stages   []string
	Statuses []string
}

func (s *Server) contentEdit(r *http.Request, c *rctx, x content.Asset, in content.AssetInput) (*ContentEditPage, error) {
	data := &ContentEditPage{Page: s.base(c, c.Lang, "content.new", "content"), A: x, In: in, Topics: strings.Join(in.Topics, ", "),
		Errors: map[string]string{}, Action: "/content", Kinds: content.Kinds, Stages: content.Stages, Statuses: content.Statuses}
	if x.ID != 0 {
		data.Title = i18n.T(c.Lang, "content.edit_title")
		data.Action = fmt.Sprintf("/content/%d", x.ID)
	}
	if s.Forms != nil {
		fs, err := s.Forms.List(r.Context(), c.Actor)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if !f.Archived || f.ID == in.FormID {
				data.Forms = append(data.Forms, f)
			}
		}
	}
	return data, nil
}

func (s *Server) newContent(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.contentEdit(r, c, content.Asset{}, content.AssetInput{Kind: "case_study", Status: content.StatusDraft})
	if err != nil {
		return err
	}
	return s.show(w, c, "content_edit", data)
}

func (s *Server) editContent(w http.ResponseWriter, r *http.Request, c *rctx) error {
	x, err := s.Content.Get(r.Context(), c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	data, err := s.contentEdit(r, c, x, content.AssetInput{Kind: x.Kind, Title: x.Title, Description: x.Description, URL: x.URL, Topics: x.Topics,
		Industry: x.Industry, Stage: x.Stage, FormID: x.FormID, Status: x.Status})
	if err != nil {
		return err
	}
	return s.show(w, c, "content_edit", data)
}

// readContentForm reads the asset form and its optional file. A file over
// the limit is a field error, found before its bytes are held.
func readContentForm(w http.ResponseWriter, r *http.Request) (content.AssetInput, *content.File, error) {
	r.Body = http.MaxBytesReader(w, r.Body, content.MaxFileSize+1<<20)
	var in content.AssetInput
	if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return in, nil, content.CheckFileSize(content.MaxFileSize + 1)
		}
		return in, nil, errs.Field("file", "bad upload")
	}
	in = content.AssetInput{Kind: r.PostFormValue("kind"), Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		URL: r.PostFormValue("url"), Topics: []string{r.PostFormValue("topics")}, Industry: r.PostFormValue("industry"),
		Stage: r.PostFormValue("stage"), FormID: formInt(r.PostFormValue("form_id")), Status: r.PostFormValue("status")}
	if r.MultipartForm == nil {
		return in, nil, nil
	}
	fh := r.MultipartForm.File["file"]
	if len(fh) == 0 || fh[0].Filename == "" {
		return in, nil, nil
	}
	if err := content.CheckFileSize(fh[0].Size); err != nil {
		return in, nil, err
	}
	f, err := fh[0].Open()
	if err != nil {
		return in, nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, content.MaxFileSize+1))
	if err != nil {
		return in, nil, err
	}
	return in, &content.File{Name: fh[0].Filename, ContentType: fh[0].Header.Get("Content-Type"), Data: b}, nil
}

func (s *Server) createContent(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.saveContent(w, r, c, 0)
}

func (s *Server) updateContent(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.saveContent(w, r, c, formInt(r.PathValue("id")))
}

func (s *Server) saveContent(w http.ResponseWriter, r *http.Request, c *rctx, id int64) error {
	in, file, err := readContentForm(w, r)
	var x content.Asset
	if err == nil {
		if id == 0 {
			x, err = s.Content.Create(r.Context(), c.Actor, in, file)
		} else {
			x, err = s.Content.Update(r.Context(), c.Actor, id, in, file)
		}
	}
	if field, msg, ok := formError(err); ok {
		var before content.Asset
		if id != 0 {
			if before, err = s.Content.Get(r.Context(), c.Actor, id); err != nil {
				return err
			}
		}
		data, lerr := s.contentEdit(r, c, before, in)
		if lerr != nil {
			return lerr
		}
		if field == "" {
			field = "_form"
		}
		data.Errors[field] = localize(c.Lang, msg)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "content_edit", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/content/%d", x.ID))
}

func (s *Server) archiveContent(w http.ResponseWriter, r *http.Request, c *rctx) error {
	x, err := s.Content.Archive(r.Context(), c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "content.archived", fmt.Sprintf("/content/%d", x.ID))
}

// ContentViewer is one line of an asset's recent viewers.
type ContentViewer struct {
	content.ViewRecord
	Name string // the contact's name, empty for an anonymous or hidden one
}

// ContentAssetPage is one asset with its views.
type ContentAssetPage struct {
	Page
	A         content.Asset
	Viewers   []ContentViewer
	PublicURL string
	FormName  string
}

// SizeKB shows a file size in kilobytes.
func (p Page) SizeKB(n int64) string { return p.T("content.size_kb", "n", i18n.Number((n+1023)/1024)) }

func (s *Server) contentAsset(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	x, err := s.Content.Get(ctx, c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	data := &ContentAssetPage{Page: s.base(c, c.Lang, "content.title", "content"), A: x}
	data.Title = x.Title
	if x.Published() {
		data.PublicURL = s.publicBase(r, c.WS) + content.PublicPath(x)
	}
	if x.FormID != 0 && s.Forms != nil {
		if f, err := s.Forms.Get(ctx, c.Actor, x.FormID); err == nil {
			data.FormName = f.Name
		}
	}
	views, err := s.Content.RecentViews(ctx, c.Actor, x.ID, 20)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, v := range views {
		cv := ContentViewer{ViewRecord: v}
		if v.ContactID != 0 {
			if _, ok := names[v.ContactID]; !ok {
				if ct, err := s.CRM.GetContact(ctx, s.DB.Reader(), c.Actor, v.ContactID); err == nil {
					names[v.ContactID] = data.Person(ct)
				} else {
					names[v.ContactID] = ""
				}
			}
			cv.Name = names[v.ContactID]
		}
		data.Viewers = append(data.Viewers, cv)
	}
	return s.show(w, c, "content_asset", data)
}

// contentFile lets a signed-in user download an asset's file.
func (s *Server) contentFile(w http.ResponseWriter, r *http.Request, c *rctx) error {
	x, err := s.Content.Get(r.Context(), c.Actor, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	return s.serveAssetFile(w, r, x)
}

// serveAssetFile sends an asset's bytes as an attachment that the browser
// never sniffs or renders in Ryorin's origin.
func (s *Server) serveAssetFile(w http.ResponseWriter, r *http.Request, x content.Asset) error {
	if !x.IsFile() {
		return notFound()
	}
	b, err := s.Content.FileData(r.Context(), s.Workspace, x.ID)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", x.ContentType)
	h.Set("Content-Disposition", attachment(x.FileName))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", fmt.Sprint(len(b)))
	_, err = w.Write(b)
	return err
}

// attachment is a Content-Disposition for a download named name: an ASCII
// fallback and the UTF-8 name (RFC 6266), so Japanese names survive.
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	var enc strings.Builder
	for _, b := range []byte(name) {
		if (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || strings.IndexByte("!#$&+-.^_`|~", b) >= 0 {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + enc.String()
}

// ContentShareBox is the "share content" form on a contact's or a deal's
// page, with the tracked link just made.
type ContentShareBox struct {
	Page      Page
	Action    string
	Assets    []content.Asset
	Contacts  []crm.Contact // a deal's contacts to choose from (one on a contact's page)
	ContactID int64         // the chosen contact
	Chosen    int64         // the chosen asset
	Link      string
	Contact   string // the chosen contact's name
}

// contentShareBox loads the share form for one of contacts (the first by
// default); with ?share_asset=<id> (and ?share_contact=<id>) it also makes
// that contact's tracked link (a signed link: nothing is written).
func (s *Server) contentShareBox(r *http.Request, c *rctx, p Page, contacts []crm.Contact, action string) (*ContentShareBox, error) {
	if s.Content == nil || len(contacts) == 0 {
		return nil, nil
	}
	assets, err := s.Content.List(r.Context(), c.Actor, content.Filter{Limit: 300})
	if err != nil {
		return nil, err
	}
	box := &ContentShareBox{Page: p, Action: action, Assets: assets, Contacts: contacts, ContactID: contacts[0].ID}
	q := r.URL.Query()
	for _, ct := range contacts {
		if ct.ID == formInt(q.Get("share_contact")) {
			box.ContactID = ct.ID
		}
	}
	for _, ct := range contacts {
		if ct.ID == box.ContactID {
			box.Contact = p.Person(ct)
		}
	}
	if id := formInt(q.Get("share_asset")); id != 0 {
		box.Chosen = id
		link, err := s.Content.Share(r.Context(), c.Actor, id, box.ContactID, s.publicBase(r, c.WS))
		if err != nil && errs.KindOf(err) == errs.Internal {
			return nil, err
		}
		box.Link = link
	}
	return box, nil
}

// BattleCardBox is the battle-card panel on a competitor's page.
type BattleCardBox struct {
	Page         Page
	CompetitorID int64
	Cards        []content.Asset
	Options      []content.Asset
}

func (s *Server) battleCardBox(r *http.Request, c *rctx, p Page, competitorID int64) (*BattleCardBox, error) {
	if s.Content == nil {
		return nil, nil
	}
	cards, err := s.Content.BattleCards(r.Context(), c.Actor, competitorID)
	if err != nil {
		return nil, err
	}
	all, err := s.Content.List(r.Context(), c.Actor, content.Filter{Limit: 300})
	if err != nil {
		return nil, err
	}
	box := &BattleCardBox{Page: p, CompetitorID: competitorID, Cards: cards}
	linked := map[int64]bool{}
	for _, x := range cards {
		linked[x.ID] = true
	}
	for _, x := range all {
		if !linked[x.ID] {
			box.Options = append(box.Options, x)
		}
	}
	return box, nil
}

func (s *Server) battleCard(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	err := s.Content.LinkBattleCard(r.Context(), c.Actor, id, formInt(r.PostFormValue("asset_id")), r.PostFormValue("op") != "remove")
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, fmt.Sprintf("/competitors/%d", id), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/competitors/%d", id))
}

// sysActor is the workspace's system actor (public pages have no user).
func (s *Server) sysActor() platform.Actor { return platform.System(s.Workspace) }
