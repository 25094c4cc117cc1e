package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// importRoutes adds the CSV import and export pages.
func (s *Server) importRoutes() {
	m := s.mux
	m.HandleFunc("GET /imports", s.signedIn(s.importsPage))
	m.HandleFunc("POST /imports", s.signedIn(s.uploadImport))
	m.HandleFunc("GET /imports/{id}", s.signedIn(s.importPage))
	m.HandleFunc("POST /imports/{id}/start", s.signedIn(s.startImport))
	m.HandleFunc("POST /imports/{id}/undo", s.signedIn(s.undoImport))
	m.HandleFunc("POST /imports/{id}/delete", s.signedIn(s.deleteImport))
	m.HandleFunc("GET /imports/{id}/errors.csv", s.signedIn(s.importErrors))
	m.HandleFunc("GET /contacts/export", s.signedIn(s.exportContacts))
	m.HandleFunc("GET /companies/export", s.signedIn(s.exportCompanies))
}

var importRoles = []platform.Role{platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing}

func mayImport(c *rctx) error {
	if !c.Actor.Is(importRoles...) {
		return errs.E(errs.Forbidden, "", "your role may not import data")
	}
	return nil
}

// ImportsPage is the data of the imports list with the upload form.
type ImportsPage struct {
	Page
	Items  []dataio.Import
	Object string
	Error  string
}

func (s *Server) importsPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := mayImport(c); err != nil {
		return err
	}
	return s.showImports(w, r, c, "", http.StatusOK)
}

func (s *Server) showImports(w http.ResponseWriter, r *http.Request, c *rctx, msg string, status int) error {
	items, err := s.IO.List(r.Context(), c.Actor.WorkspaceID, 50)
	if err != nil {
		return err
	}
	obj := r.URL.Query().Get("object")
	if !dataio.ValidObject(obj) {
		obj = dataio.Contacts
	}
	data := &ImportsPage{Page: s.base(c, c.Lang, "import.title", "imports"), Items: items, Object: obj, Error: msg}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	return s.show(w, c, "imports", data)
}

// maxUpload bounds an uploaded file.
const maxUpload = 2 << 30

func (s *Server) uploadImport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := mayImport(c); err != nil {
		return err
	}
	httpx.LongRequest(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return errs.Field("file", "upload the file with the form")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errs.Field("file", "bad upload: %v", err)
	}
	object := dataio.Contacts
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return s.showImports(w, r, c, i18n.T(c.Lang, "import.choose_file"), http.StatusUnprocessableEntity)
		}
		if err != nil {
			return err
		}
		if p.FormName() == "object_type" {
			v, _ := io.ReadAll(io.LimitReader(p, 64))
			object = string(v)
			continue
		}
		if p.FormName() != "file" {
			continue
		}
		if p.FileName() == "" {
			return s.showImports(w, r, c, i18n.T(c.Lang, "import.choose_file"), http.StatusUnprocessableEntity)
		}
		im, err := s.IO.Create(r.Context(), c.Actor, object, p.FileName(), p)
		if _, msg, ok := formError(err); ok {
			return s.showImports(w, r, c, localize(c.Lang, msg), http.StatusUnprocessableEntity)
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return s.showImports(w, r, c, i18n.T(c.Lang, "import.too_large"), http.StatusRequestEntityTooLarge)
		}
		if err != nil {
			return err
		}
		http.Redirect(w, r, fmt.Sprintf("/imports/%d", im.ID), http.StatusSeeOther)
		return nil
	}
}

// ImportPage is the data of one import: the mapping screen of a draft, the
// progress of a running import, the result of a finished one.
type ImportPage struct {
	Page
	Im      dataio.Import
	Fields  []dataio.Field
	Samples [][]string
	Error   string
}

// Sample returns the sample values of column i.
func (p ImportPage) Sample(i int) []string {
	var out []string
	for _, row := range p.Samples {
		if i < len(row) && row[i] != "" {
			out = append(out, row[i])
		}
	}
	return out
}

// FieldLabel is a field's name in the page's language.
func (p ImportPage) FieldLabel(f dataio.Field) string { return f.Label(string(p.Lang)) }

// Running reports whether the page should refresh itself.
func (p ImportPage) Running() bool {
	switch p.Im.Status {
	case dataio.StatusQueued, dataio.StatusRunning, dataio.StatusUndoing:
		return true
	}
	return false
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := mayImport(c); err != nil {
		return err
	}
	return s.showImport(w, r, c, "", nil, http.StatusOK)
}

func (s *Server) showImport(w http.ResponseWriter, r *http.Request, c *rctx, msg string, mapping []string, status int) error {
	ctx := r.Context()
	im, err := s.IO.Get(ctx, s.DB.Reader(), c.Actor.WorkspaceID, formInt(r.PathValue("id")))
	if err != nil {
		return err
	}
	fields, err := s.IO.Fields(ctx, c.Actor.WorkspaceID, im.ObjectType)
	if err != nil {
		return err
	}
	data := &ImportPage{Page: s.base(c, c.Lang, "import.title", "imports"), Im: im, Fields: fields, Error: msg}
	if mapping != nil {
		data.Im.Mapping = mapping
	}
	name := "import"
	if im.Status == dataio.StatusDraft {
		name = "import_mapping"
		data.Title = i18n.T(c.Lang, "import.mapping_title")
		if data.Samples, err = s.IO.Sample(ctx, c.Actor.WorkspaceID, im.ID, 3); err != nil {
			return err
		}
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	return s.show(w, c, name, data)
}

func (s *Server) startImport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := mayImport(c); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	id := formInt(r.PathValue("id"))
	im, err := s.IO.Get(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, id)
	if err != nil {
		return err
	}
	mapping := make([]string, len(im.Header))
	for i := range mapping {
		mapping[i] = r.PostFormValue("map_" + strconv.Itoa(i))
	}
	_, err = s.IO.Start(r.Context(), c.Actor, id, mapping, r.PostFormValue("mode"))
	if _, msg, ok := formError(err); ok {
		return s.showImport(w, r, c, localize(c.Lang, msg), mapping, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "import.started"))
	http.Redirect(w, r, fmt.Sprintf("/imports/%d", id), http.StatusSeeOther)
	return nil
}

func (s *Server) undoImport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := mayImport(c); err != nil {
		return err
	}
	id := formInt(r.PathValue("id"))
	if _, err := s.IO.Undo(r.Context(), c.Actor, id); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "import.undo_started"))
	http.Redirect(w, r, fmt.Sprintf("/imports/%d", id), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteImport(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := mayImport(c); err != nil {
		return err
	}
	if err := s.IO.DeleteDraft(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	http.Redirect(w, r, "/imports", http.StatusSeeOther)
	return nil
}

func (s *Server) importErrors(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := mayImport(c); err != nil {
		return err
	}
	id := formInt(r.PathValue("id"))
	return s.download(w, fmt.Sprintf("import-%d-errors.csv", id), func(d *httpx.Download) error {
		return s.IO.ErrorsCSV(r.Context(), d, c.Actor.WorkspaceID, id, string(c.Lang))
	})
}

// exportContacts streams exactly what the contacts list shows: its filters
// and its chosen columns, every page of it.
func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request, c *rctx) error {
	q := r.URL.Query()
	f := crm.ContactFilter{Q: q.Get("q"), Stage: platform.Stage(q.Get("stage")), OwnerID: formInt(q.Get("owner")), Sort: q.Get("sort")}
	var err error
	if _, f.Props, err = s.propFilter(r, c, s.base(c, c.Lang, "nav.contacts", "contacts"), "contact"); err != nil {
		return err
	}
	cols := q["col"]
	if len(cols) == 0 {
		cols = defaultContactColumns
	}
	o := dataio.ExportOptions{Cols: cols, Lang: string(c.Lang), Loc: c.Loc}
	return s.download(w, "contacts-"+c.Now.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
		_, err := s.IO.ExportContacts(r.Context(), d, c.Actor, f, o)
		return err
	})
}

// exportCompanies streams exactly what the companies list shows.
func (s *Server) exportCompanies(w http.ResponseWriter, r *http.Request, c *rctx) error {
	q := r.URL.Query()
	f := crm.CompanyFilter{Q: q.Get("q"), OwnerID: formInt(q.Get("owner"))}
	var err error
	if _, f.Props, err = s.propFilter(r, c, s.base(c, c.Lang, "nav.companies", "companies"), "company"); err != nil {
		return err
	}
	cols := q["col"]
	if len(cols) == 0 {
		cols = defaultCompanyColumns
	}
	o := dataio.ExportOptions{Cols: cols, Lang: string(c.Lang), Loc: c.Loc}
	return s.download(w, "companies-"+c.Now.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
		_, err := s.IO.ExportCompanies(r.Context(), d, c.Actor, f, o)
		return err
	})
}

func (s *Server) download(w http.ResponseWriter, name string, produce func(*httpx.Download) error) error {
	d := httpx.NewDownload(w, "text/csv; charset=utf-8", name)
	err := produce(d)
	if err != nil && !d.Started() {
		return err
	}
	if err == nil {
		err = d.Close()
	}
	if err != nil {
		s.Log.Error("download cut short", "file", name, "err", err)
	}
	return nil
}

// exportURL is the export link of a list: the same query without the page cursor.
func exportURL(path string, q url.Values) string {
	q = cloneValues(q)
	q.Del("cursor")
	if len(q) == 0 {
		return path + "/export"
	}
	return path + "/export?" + q.Encode()
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// MayImport reports whether the signed-in user may import data.
func (p Page) MayImport() bool {
	for _, r := range importRoles {
		if p.User.Role == r {
			return true
		}
	}
	return false
}
