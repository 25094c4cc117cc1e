package web

import (
	"fmt"
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dedupe"
	"github.com/ryorin/ryorin/internal/platform"
)

// DuplicatesPage lists likely duplicates to review and recent merges.
type DuplicatesPage struct {
	Page
	Groups    []dedupe.Group
	Contacts  map[int64]crm.Contact
	Companies map[int64]crm.Company
	Merges    []dedupe.Merge
	CanMerge  bool
}

func (s *Server) dedupe() *dedupe.Service { return &dedupe.Service{DB: s.DB, Clock: s.Clock} }

func (s *Server) duplicates(w http.ResponseWriter, r *http.Request, c *rctx) error {
	ctx := r.Context()
	data := &DuplicatesPage{Page: s.base(c, c.Lang, "dup.title", "contacts"), Contacts: map[int64]crm.Contact{}, Companies: map[int64]crm.Company{},
		CanMerge: c.Actor.Is(platform.RoleAdmin, platform.RoleManager)}
	var err error
	if data.Groups, err = s.dedupe().Duplicates(ctx, s.DB.Reader(), c.Actor.WorkspaceID, 50); err != nil {
		return err
	}
	for _, g := range data.Groups {
		for _, id := range g.IDs {
			if g.Object == "contact" {
				if ct, err := s.CRM.GetContact(ctx, s.DB.Reader(), c.Actor, id); err == nil {
					data.Contacts[id] = ct
				}
			} else if co, err := s.CRM.GetCompany(ctx, s.DB.Reader(), c.Actor, id); err == nil {
				data.Companies[id] = co
			}
		}
	}
	if data.Merges, err = s.dedupe().Recent(ctx, c.Actor.WorkspaceID, 20); err != nil {
		return err
	}
	return s.show(w, c, "duplicates", data)
}

// mergeGroup merges every chosen record of a group into the one kept.
func (s *Server) mergeGroup(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	object, kept := r.PostFormValue("object"), formInt(r.PostFormValue("keep"))
	n := 0
	for _, v := range r.PostForm["id"] {
		id := formInt(v)
		if id == 0 || id == kept {
			continue
		}
		if _, err := s.dedupe().MergeRecords(r.Context(), c.Actor, object, kept, id); err != nil {
			if _, msg, ok := formError(err); ok {
				flash(w, localize(c.Lang, msg))
				http.Redirect(w, r, "/duplicates", http.StatusSeeOther)
				return nil
			}
			return err
		}
		n++
	}
	flash(w, i18nT(c, "dup.merged", "n", n))
	back := "/duplicates"
	if r.PostFormValue("open") == "1" {
		back = fmt.Sprintf("/%ss/%d", map[string]string{"contact": "contact", "company": "companie"}[object], kept)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

func (s *Server) undoMerge(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.dedupe().Undo(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		if _, msg, ok := formError(err); ok {
			flash(w, localize(c.Lang, msg))
			http.Redirect(w, r, "/duplicates", http.StatusSeeOther)
			return nil
		}
		return err
	}
	return s.saved(w, r, c, "dup.undone", "/duplicates")
}
