package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/platform"
)

// written is returned by handlers that wrote their response themselves
// (file downloads).
type written struct{}

var (
	importers = []platform.Role{platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing}
	importQ   = []param{{"object_type", "string", "contact (default), company, deal or activity"}, {"mode", "string", "what a row matching an existing record does: update (default), skip or create"},
		{"map", "string", "column=field, repeatable: overrides the guessed mapping (field \"\" drops the column)"},
		{"mapping", "string", "the whole mapping as a JSON array, one field per column"},
		{"draft", "boolean", "true: store and guess only; start later from the UI"}}
	exportQ = []param{{"col", "string", "a list column to include, repeatable, in order"}, {"lang", "string", "column headings: en (default) or ja"}}
)

// maxUpload bounds an uploaded CSV file.
const maxUpload = 2 << 30

func (s *Server) importRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/imports", ID: "listImports", Summary: "List CSV imports, newest first", Tag: "Imports", Resp: []dataio.Import{}, Roles: importers, H: s.listImports},
		{Method: "POST", Path: "/api/v1/imports", ID: "createImport", Summary: "Upload a CSV file (multipart field \"file\", or the request body as text/csv) and start importing it", Tag: "Imports",
			Resp: dataio.Import{}, Status: http.StatusAccepted, Query: importQ, Consumes: "multipart/form-data", Roles: importers, H: s.createImport},
		{Method: "GET", Path: "/api/v1/imports/{id}", ID: "getImport", Summary: "An import's status, progress and counts", Tag: "Imports", Resp: dataio.Import{}, Roles: importers, H: s.getImport},
		{Method: "GET", Path: "/api/v1/imports/{id}/errors", ID: "importErrors", Summary: "The rows that were not imported, with line numbers and reasons (CSV)", Tag: "Imports",
			Query: []param{{"lang", "string", "column headings: en (default) or ja"}}, Produces: "text/csv", Roles: importers, H: s.importErrors},
		{Method: "DELETE", Path: "/api/v1/imports/{id}", ID: "deleteImport", Summary: "Delete an import that was uploaded as a draft and never started", Tag: "Imports",
			Status: http.StatusNoContent, Roles: importers, H: s.deleteImport},
		{Method: "POST", Path: "/api/v1/imports/{id}/undo", ID: "undoImport", Summary: "Undo an import: delete what it created, restore what it changed", Tag: "Imports",
			Resp: dataio.Import{}, Status: http.StatusAccepted, Roles: importers, H: s.undoImport},
		{Method: "GET", Path: "/api/v1/contacts/export", ID: "exportContacts", Summary: "Export the contacts a list filter selects (CSV, UTF-8 with BOM)", Tag: "Contacts",
			Query: append(append([]param{}, contactQ[:len(contactQ)-2]...), exportQ...), Produces: "text/csv", H: s.exportContacts},
		{Method: "GET", Path: "/api/v1/companies/export", ID: "exportCompanies", Summary: "Export the companies a list filter selects (CSV, UTF-8 with BOM)", Tag: "Companies",
			Query: append(append([]param{}, companyQ[:len(companyQ)-2]...), exportQ...), Produces: "text/csv", H: s.exportCompanies},
	}
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.IO.List(r.Context(), a.WorkspaceID, 100)
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.IO.Get(r.Context(), s.DB.Reader(), a.WorkspaceID, id)
}

func (s *Server) deleteImport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.IO.DeleteDraft(r.Context(), a, id)
}

func (s *Server) undoImport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.IO.Undo(r.Context(), a, id)
}

// createImport stores the upload, applies the mapping and starts the job.
// Options come from the query or from form fields sent before the file.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	opts := r.URL.Query()
	httpx.LongRequest(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	var file io.Reader
	name := "upload.csv"
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, errs.Field("file", "bad multipart body: %v", err)
		}
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, uploadError(err)
			}
			if p.FormName() == "file" {
				file = p
				if p.FileName() != "" {
					name = p.FileName()
				}
				break
			}
			v, _ := io.ReadAll(io.LimitReader(p, 1<<20))
			opts.Add(p.FormName(), string(v))
		}
		if file == nil {
			return nil, errs.Field("file", "send the CSV file in the multipart field \"file\"")
		}
	} else {
		file = r.Body
	}
	object := opts.Get("object_type")
	if object == "" {
		object = dataio.Contacts
	}
	im, err := s.IO.Create(r.Context(), a, object, name, file)
	if err != nil {
		return nil, uploadError(err)
	}
	mapping := im.Mapping
	if js := opts.Get("mapping"); js != "" {
		mapping = nil
		if err := json.Unmarshal([]byte(js), &mapping); err != nil {
			return nil, errs.Field("mapping", "must be a JSON array of field names")
		}
	}
	if pairs := opts["map"]; len(pairs) > 0 {
		m := map[string]string{}
		for _, p := range pairs {
			col, field, ok := strings.Cut(p, "=")
			if !ok {
				return nil, errs.Field("map", "%q is not column=field", p)
			}
			m[col] = field
		}
		im.Mapping = mapping
		if mapping, err = s.IO.MappingFromHeaders(r.Context(), a.WorkspaceID, im, m); err != nil {
			return nil, err
		}
	}
	if opts.Get("draft") == "true" {
		return im, nil
	}
	return s.IO.Start(r.Context(), a, im.ID, mapping, opts.Get("mode"))
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errs.E(errs.TooLarge, "file", "the file is larger than %d bytes", mbe.Limit)
	}
	return err
}

func (s *Server) importErrors(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.download(w, "import-errors.csv", func(d *httpx.Download) error {
		return s.IO.ErrorsCSV(r.Context(), d, a.WorkspaceID, id, r.URL.Query().Get("lang"))
	})
}

func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	f := crm.ContactFilter{Stage: platform.Stage(q.Get("lifecycle_stage")), Q: q.Get("q"), Email: q.Get("email"), Sort: q.Get("sort"), Props: queryProps(r)}
	if err := queryInts(r, "owner_id", &f.OwnerID, "company_id", &f.CompanyID); err != nil {
		return nil, err
	}
	o := dataio.ExportOptions{Cols: q["col"], Lang: q.Get("lang"), Loc: s.location(r)}
	return s.download(w, "contacts-"+s.Clock.Now().Format("20060102")+".csv", func(d *httpx.Download) error {
		_, err := s.IO.ExportContacts(r.Context(), d, a, f, o)
		return err
	})
}

func (s *Server) exportCompanies(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	q := r.URL.Query()
	f := crm.CompanyFilter{Q: q.Get("q"), Domain: q.Get("domain"), CorporateNumber: q.Get("corporate_number"), Sort: q.Get("sort"), Props: queryProps(r)}
	if err := queryInts(r, "owner_id", &f.OwnerID); err != nil {
		return nil, err
	}
	o := dataio.ExportOptions{Cols: q["col"], Lang: q.Get("lang"), Loc: s.location(r)}
	return s.download(w, "companies-"+s.Clock.Now().Format("20060102")+".csv", func(d *httpx.Download) error {
		_, err := s.IO.ExportCompanies(r.Context(), d, a, f, o)
		return err
	})
}

func (s *Server) location(r *http.Request) *time.Location {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), s.Workspace)
	if err != nil {
		return time.UTC
	}
	return ws.Location()
}

// download runs produce into a streamed CSV response. An error before the
// first bytes went out is answered as usual; after, it cuts the file short
// (and is logged), since the status has been sent.
func (s *Server) download(w http.ResponseWriter, name string, produce func(*httpx.Download) error) (any, error) {
	d := httpx.NewDownload(w, "text/csv; charset=utf-8", name)
	err := produce(d)
	if err != nil && !d.Started() {
		return nil, err
	}
	if err == nil {
		err = d.Close()
	}
	if err != nil {
		s.Log.Error("download cut short", "file", name, "err", err)
	}
	return written{}, nil
}
