package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/platform"
)

// ShareRequest names the contact a tracked link is for.
type ShareRequest struct {
	ContactID int64 `json:"contact_id"`
}

// ShareLink is a contact's tracked link to an asset.
type ShareLink struct {
	URL string `json:"url" doc:"the contact's personal tracked link; each view is an event on their timeline and notifies their owner"`
}

var contentQ = []param{{"kind", "string", "case_study, white_paper, slides, link, video or other"}, {"topic", "string", "one topic tag"},
	{"industry", "string", "industry"}, {"stage", "string", "awareness, consideration or decision"},
	{"status", "string", "draft, published or archived (default: all but archived)"}, {"q", "string", "partial match on title or description"},
	{"limit", "integer", "1–500 (default 200)"}}

func (s *Server) contentRoutes() []op {
	if s.Content == nil {
		return nil
	}
	return []op{
		{Method: "GET", Path: "/api/v1/content", ID: "listContent", Summary: "The content library, most recently changed first", Tag: "Content", Resp: []content.Asset{}, Query: contentQ, H: s.listContent},
		{Method: "POST", Path: "/api/v1/content", ID: "createContent", Summary: "Add an asset (an address; upload a file with PUT …/file)", Tag: "Content", Body: content.AssetInput{}, Resp: content.Asset{}, Status: http.StatusCreated, Idempotent: true, H: s.createContent},
		{Method: "GET", Path: "/api/v1/content/{id}", ID: "getContent", Summary: "Get an asset", Tag: "Content", Resp: content.Asset{}, H: s.getContent},
		{Method: "PATCH", Path: "/api/v1/content/{id}", ID: "updateContent", Summary: "Replace an asset's fields (its file stays unless an address is given)", Tag: "Content", Body: content.AssetInput{}, Resp: content.Asset{}, H: s.updateContent},
		{Method: "POST", Path: "/api/v1/content/{id}/archive", ID: "archiveContent", Summary: "Archive an asset: its public page and links stop working", Tag: "Content", Resp: content.Asset{}, H: s.archiveContent},
		{Method: "PUT", Path: "/api/v1/content/{id}/file", ID: "putContentFile", Summary: "Upload an asset's file (the raw bytes, at most 20 MB; ?name= gives its file name)", Tag: "Content",
			Query: []param{{"name", "string", "the file name shown on download"}}, Consumes: "application/octet-stream", Resp: content.Asset{}, MaxBody: content.MaxFileSize + 1, H: s.putContentFile},
		{Method: "GET", Path: "/api/v1/content/{id}/views", ID: "listContentViews", Summary: "An asset's latest views, newest first", Tag: "Content", Resp: []content.ViewRecord{}, Query: []param{{"limit", "integer", "1–200 (default 20)"}}, H: s.listContentViews},
		{Method: "POST", Path: "/api/v1/content/{id}/share", ID: "shareContent", Summary: "Make a contact's tracked link to an asset", Tag: "Content", Body: ShareRequest{}, Resp: ShareLink{}, H: s.shareContent},
		{Method: "GET", Path: "/api/v1/competitors/{id}/battle-cards", ID: "listBattleCards", Summary: "A competitor's battle cards from the content library", Tag: "Deals", Resp: []content.Asset{}, H: s.listBattleCards},
		{Method: "PUT", Path: "/api/v1/competitors/{id}/battle-cards/{asset_id}", ID: "linkBattleCard", Summary: "Link an asset to a competitor as a battle card", Tag: "Deals", Status: http.StatusNoContent, H: s.linkBattleCard(true)},
		{Method: "DELETE", Path: "/api/v1/competitors/{id}/battle-cards/{asset_id}", ID: "unlinkBattleCard", Summary: "Unlink a battle card", Tag: "Deals", Status: http.StatusNoContent, H: s.linkBattleCard(false)},
	}
}

func (s *Server) listContent(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	var limit int64
	if err := queryInts(r, "limit", &limit); err != nil {
		return nil, err
	}
	return s.Content.List(r.Context(), a, content.Filter{Kind: q.Get("kind"), Topic: q.Get("topic"), Industry: q.Get("industry"), Stage: q.Get("stage"),
		Status: q.Get("status"), Q: q.Get("q"), Limit: int(limit)})
}

func (s *Server) createContent(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in content.AssetInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Content.Create(r.Context(), a, in, nil)
}

func (s *Server) getContent(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Content.Get(r.Context(), a, id)
}

func (s *Server) updateContent(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in content.AssetInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Content.Update(r.Context(), a, id, in, nil)
}

func (s *Server) archiveContent(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Content.Archive(r.Context(), a, id)
}

func (s *Server) putContentFile(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if r.ContentLength > content.MaxFileSize {
		return nil, content.CheckFileSize(r.ContentLength)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, content.MaxFileSize))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, content.CheckFileSize(content.MaxFileSize + 1)
	}
	if err != nil {
		return nil, errs.Field("file", "could not read the upload")
	}
	x, err := s.Content.Get(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = x.FileName
	}
	in := content.AssetInput{Kind: x.Kind, Title: x.Title, Description: x.Description, Topics: x.Topics, Industry: x.Industry, Stage: x.Stage, FormID: x.FormID, Status: x.Status}
	return s.Content.Update(r.Context(), a, id, in, &content.File{Name: name, ContentType: r.Header.Get("Content-Type"), Data: b})
}

func (s *Server) listContentViews(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var limit int64
	if err := queryInts(r, "limit", &limit); err != nil {
		return nil, err
	}
	if _, err := s.Content.Get(r.Context(), a, id); err != nil {
		return nil, err
	}
	return s.Content.RecentViews(r.Context(), a, id, int(limit))
}

func (s *Server) shareContent(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in ShareRequest
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	base := publicBase(r)
	if ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID); err == nil && ws.PublicBaseURL != "" {
		base = ws.PublicBaseURL
	}
	u, err := s.Content.Share(r.Context(), a, id, in.ContactID, base)
	return ShareLink{URL: u}, err
}

func (s *Server) listBattleCards(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Content.BattleCards(r.Context(), a, id)
}

func (s *Server) linkBattleCard(link bool) handler {
	return func(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
		id, err := pathID(r, "id")
		if err != nil {
			return nil, err
		}
		asset, err := pathID(r, "asset_id")
		if err != nil {
			return nil, err
		}
		return nil, s.Content.LinkBattleCard(r.Context(), a, id, asset, link)
	}
}
