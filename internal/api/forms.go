package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
)

// PublicForm is what a custom front end needs to show a form and post it.
type PublicForm struct {
	Key             string        `json:"key"`
	Name            string        `json:"name"`
	Fields          []forms.Field `json:"fields"`
	ConsentEnabled  bool          `json:"consent_enabled"`
	ConsentRequired bool          `json:"consent_required"`
	ConsentTextJA   string        `json:"consent_text_ja,omitempty"`
	ConsentTextEN   string        `json:"consent_text_en,omitempty"`
	Token           string        `json:"token" doc:"send it back with the submission; a post sooner than a few seconds after it was issued is dropped as spam"`
}

// PublicSubmission is a visitor's post sent as JSON.
type PublicSubmission struct {
	Values    map[string]any    `json:"values" doc:"field key → value: a string, a list of strings for multi-choice properties, true for a ticked checkbox"`
	Token     string            `json:"token" doc:"from GET /api/v1/public/forms/{key}"`
	Consent   bool              `json:"consent" doc:"the consent checkbox was ticked"`
	VisitorID string            `json:"visitor_id,omitempty" doc:"the tracking visitor id (ryorin_vid)"`
	PageURL   string            `json:"page_url,omitempty"`
	Referrer  string            `json:"referrer,omitempty"`
	UTM       map[string]string `json:"utm,omitempty" doc:"utm_source, utm_medium, utm_campaign, utm_term, utm_content"`
	Lang      string            `json:"lang,omitempty" doc:"ja or en: the language of error messages and of the consent text stored"`
	Redirect  string            `json:"redirect,omitempty" doc:"where to go next; used only when on the form's allowed domains"`
	Website   string            `json:"website,omitempty" doc:"honeypot: leave empty"`
}

// SubmitResult says what a submission did. Field errors come back with 422.
type SubmitResult struct {
	OK           bool              `json:"ok"`
	SubmissionID int64             `json:"submission_id,omitempty"`
	Status       string            `json:"status,omitempty" doc:"received, or pending when a double opt-in email was sent"`
	Replayed     bool              `json:"replayed,omitempty" doc:"the same submission was already stored"`
	Message      string            `json:"message,omitempty" doc:"the thank-you message in the visitor's language"`
	Redirect     string            `json:"redirect,omitempty"`
	Errors       map[string]string `json:"errors,omitempty" doc:"input name → message in the visitor's language"`

	status int
}

// HTTPStatus is 422 when the visitor has mistakes to correct.
func (r SubmitResult) HTTPStatus() int { return r.status }

var formEditors = []platform.Role{platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing}

func (s *Server) formRoutes() []op {
	return []op{
		{Method: "GET", Path: "/api/v1/forms", ID: "listForms", Summary: "List forms with their submission counts", Tag: "Forms", Resp: []forms.Form{}, H: s.listForms},
		{Method: "POST", Path: "/api/v1/forms", ID: "createForm", Summary: "Create a form", Tag: "Forms", Body: forms.FormInput{}, Resp: forms.Form{}, Status: http.StatusCreated, Roles: formEditors, Idempotent: true, H: s.createForm},
		{Method: "GET", Path: "/api/v1/forms/{id}", ID: "getForm", Summary: "Get a form", Tag: "Forms", Resp: forms.Form{}, H: s.getForm},
		{Method: "PUT", Path: "/api/v1/forms/{id}", ID: "updateForm", Summary: "Replace a form's definition", Tag: "Forms", Body: forms.FormInput{}, Resp: forms.Form{}, Roles: formEditors, H: s.updateForm},
		{Method: "DELETE", Path: "/api/v1/forms/{id}", ID: "deleteForm", Summary: "Delete a form and its submissions", Tag: "Forms", Status: http.StatusNoContent, Roles: formEditors, H: s.deleteForm},
		{Method: "GET", Path: "/api/v1/forms/{id}/submissions", ID: "listFormSubmissions", Summary: "A form's submissions, newest first", Tag: "Forms", Resp: forms.SubmissionPage{}, Query: listParams, H: s.listFormSubmissions},
		{Method: "GET", Path: "/api/v1/public/forms/{key}", ID: "getPublicForm", Summary: "A form's public definition and a render token (no authentication)", Tag: "Forms", Resp: PublicForm{}, Public: true, H: s.getPublicForm},
		{Method: "POST", Path: "/api/v1/public/forms/{key}/submissions", ID: "submitForm", Summary: "Submit a form as JSON (no authentication; honours Idempotency-Key; CORS open)", Tag: "Forms", Body: PublicSubmission{}, Resp: SubmitResult{}, Public: true, MaxBody: 64 << 10, H: s.submitForm},
	}
}

func (s *Server) listForms(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	return s.Forms.List(r.Context(), a)
}

func (s *Server) createForm(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in forms.FormInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Forms.Create(r.Context(), a, in)
}

func (s *Server) getForm(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Forms.Get(r.Context(), a, id)
}

func (s *Server) updateForm(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in forms.FormInput
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return s.Forms.Update(r.Context(), a, id, in)
}

func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return nil, s.Forms.Delete(r.Context(), a, id)
}

func (s *Server) listFormSubmissions(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	limit, err := queryLimit(r)
	if err != nil {
		return nil, err
	}
	return s.Forms.ListSubmissions(r.Context(), a, id, r.URL.Query().Get("cursor"), limit)
}

func (s *Server) getPublicForm(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-store")
	f, err := s.Forms.ByKey(r.Context(), s.Workspace, r.PathValue("key"))
	if err == nil && f.Archived {
		err = errs.NotFoundf("form %q is closed", f.Key)
	}
	if err != nil {
		return nil, err
	}
	tok, err := s.Forms.RenderToken(r.Context(), f)
	if err != nil {
		return nil, err
	}
	return PublicForm{Key: f.Key, Name: f.Name, Fields: f.Fields, ConsentEnabled: f.ConsentEnabled, ConsentRequired: f.ConsentRequired,
		ConsentTextJA: f.ConsentTextJA, ConsentTextEN: f.ConsentTextEN, Token: tok}, nil
}

// submitForm takes a JSON submission from a custom front end. Field errors
// are a 422 whose body names each input, in the visitor's language.
func (s *Server) submitForm(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	var in PublicSubmission
	if err := httpx.Decode(w, r, 64<<10, &in); err != nil {
		return nil, err
	}
	v, err := submissionValues(in)
	if err != nil {
		return nil, err
	}
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), s.Workspace)
	if err != nil {
		return nil, err
	}
	def, _ := i18n.Parse(ws.DefaultLocale)
	lang, ok := i18n.Parse(in.Lang)
	if !ok {
		lang = i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"), def)
	}
	base := ws.PublicBaseURL
	if base == "" {
		base = "http://" + r.Host
		if r.TLS != nil || s.SecureCookies {
			base = "https://" + r.Host
		}
	}
	out, err := s.Forms.Submit(r.Context(), forms.SubmitRequest{Workspace: s.Workspace, Key: r.PathValue("key"), Values: v, Lang: lang,
		IP: a.IP, UserAgent: r.UserAgent(), Referer: r.Referer(), BaseURL: base, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return nil, err
	}
	res := SubmitResult{OK: out.Errors == nil, Message: out.Message, Redirect: out.Redirect, Errors: out.Errors, Replayed: out.Replayed}
	if out.Submission != nil {
		res.SubmissionID, res.Status = out.Submission.ID, out.Submission.Status
	}
	if out.Errors != nil {
		res.Message, res.Redirect, res.status = "", "", http.StatusUnprocessableEntity
	}
	return res, nil
}

// submissionValues turns a JSON submission into the form post the parser reads.
func submissionValues(in PublicSubmission) (url.Values, error) {
	v := url.Values{}
	for k, x := range in.Values {
		switch t := x.(type) {
		case string:
			v.Set(k, t)
		case float64:
			v.Set(k, fmt.Sprint(t))
		case bool:
			if t {
				v.Set(k, "1")
			}
		case []any:
			for _, e := range t {
				s, ok := e.(string)
				if !ok {
					return nil, errs.Field("values."+k, "must be a string or a list of strings")
				}
				v.Add(k, s)
			}
		case nil:
		default:
			return nil, errs.Field("values."+k, "must be a string, a number, true/false or a list of strings")
		}
	}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set(forms.InputToken, in.Token)
	set(forms.InputVisitor, in.VisitorID)
	set(forms.InputPageURL, in.PageURL)
	set(forms.InputReferrer, in.Referrer)
	set(forms.InputRedirect, in.Redirect)
	set(forms.InputHoneypot, in.Website)
	for _, k := range forms.UTMInputs {
		set(k, in.UTM[k])
	}
	if in.Consent {
		v.Set(forms.InputConsent, "1")
	}
	return v, nil
}
