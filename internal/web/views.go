package web

import (
	"github.com/ryorin/ryorin/internal/i18n"
	"html/template"
	"net/http"
	"net/url"

	"github.com/ryorin/ryorin/internal/platform"
)

// ViewsBar is the data of the saved-views bar above a list.
type ViewsBar struct {
	Page   Page
	Object string // contact, company, deal
	Path   string // the list's path, e.g. /contacts
	Query  string // the list's current query
	Views  []platform.SavedView
	InTeam bool
}

// Link is a view's list URL. The query was normalised by url.Values.Encode
// when the view was saved, so it is safe to use as it is.
func (b ViewsBar) Link(v platform.SavedView) template.URL {
	q, err := url.ParseQuery(v.Query)
	if err != nil {
		return template.URL(b.Path)
	}
	return template.URL(b.Path + "?" + q.Encode())
}

func (s *Server) viewsBar(r *http.Request, c *rctx, p Page, object, path string) ViewsBar {
	vs, err := platform.ListViews(r.Context(), s.DB.Reader(), c.Actor, object)
	if err != nil {
		s.Log.Error("saved views", "err", err)
	}
	q := r.URL.Query()
	q.Del("cursor")
	return ViewsBar{Page: p, Object: object, Path: path, Query: q.Encode(), Views: vs, InTeam: c.User.TeamID != 0}
}

func (s *Server) saveView(w http.ResponseWriter, r *http.Request, c *rctx) error {
	object, query := r.PostFormValue("object_type"), r.PostFormValue("query")
	v, err := platform.SaveView(r.Context(), s.DB, c.Actor, object, r.PostFormValue("name"), query, r.PostFormValue("shared") == "1", s.Clock.Now())
	if err != nil {
		return err
	}
	path := map[string]string{"contact": "/contacts", "company": "/companies", "deal": "/deals"}[object]
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, localPath(path+"?"+v.Query), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteView(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := platform.DeleteView(r.Context(), s.DB, c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	back := localPath(r.PostFormValue("back"))
	if _, err := url.Parse(back); err != nil {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
