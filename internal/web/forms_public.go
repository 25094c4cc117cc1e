package web

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
)

// maxFormPost bounds a public form post.
const maxFormPost = 64 << 10

// PublicInput is one input of a public form as rendered.
type PublicInput struct {
	Key          string          `json:"key"`
	Label        string          `json:"label"`
	Type         string          `json:"type"` // text, email, tel, textarea, select, checkbox, checkboxes, number, date
	Required     bool            `json:"required"`
	AutoComplete string          `json:"autocomplete,omitempty"`
	Value        string          `json:"-"`
	Values       map[string]bool `json:"-"`
	Options      []PublicOption  `json:"options,omitempty"`
	Error        string          `json:"-"`
}

// PublicOption is one choice of a select or checkbox group.
type PublicOption struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// publicInputs describes f's inputs in lang, with a post's values and errors.
func publicInputs(f forms.Form, lang i18n.Lang, v url.Values, fe forms.FieldErrors) []PublicInput {
	out := make([]PublicInput, 0, len(f.Fields))
	for _, fl := range f.Fields {
		in := PublicInput{Key: fl.Key, Required: fl.Required, Value: v.Get(fl.Key), Error: fe[fl.Key], Values: map[string]bool{}, Type: "text"}
		for _, x := range v[fl.Key] {
			in.Values[x] = true
		}
		std := i18n.T(lang, "forms.field."+fl.Key)
		if d, ok := f.Prop(fl.Key); ok {
			std = pick(lang, d.LabelJA, d.LabelEN)
			switch d.Type {
			case crm.PropNumber:
				in.Type = "number"
			case crm.PropDate:
				in.Type = "date"
			case crm.PropBool:
				in.Type = "checkbox"
			case crm.PropSingleChoice:
				in.Type = "select"
			case crm.PropMultiChoice:
				in.Type = "checkboxes"
			case crm.PropText:
				in.Type = "textarea"
			}
			for _, o := range d.Options {
				in.Options = append(in.Options, PublicOption{o.Value, pick(lang, o.LabelJA, o.LabelEN)})
			}
		} else {
			for _, sf := range forms.StandardFields {
				if sf.Key == fl.Key {
					in.Type, in.AutoComplete = sf.Input, sf.AutoComplete
				}
			}
			if fl.Key == "prefecture" {
				for _, p := range forms.Prefectures {
					in.Options = append(in.Options, PublicOption{p.JA, p.Name(lang)})
				}
			}
		}
		in.Label = fl.Label(lang, std)
		out = append(out, in)
	}
	return out
}

// HostedFormPage is the data of a form's hosted page.
type HostedFormPage struct {
	Page
	Form        forms.Form
	Action      string
	Inputs      []PublicInput
	Token       string
	Hidden      map[string]string
	ConsentText string
	Consent     bool
	ConsentErr  string
	FormErr     string
	Honeypot    string
	OtherLang   i18n.Lang
	OtherURL    string // this page in the other language, keeping its parameters
}

// HostedDonePage is the data of the thank-you and confirmation pages.
type HostedDonePage struct {
	Page
	Heading string
	Lines   []string
}

// publicLang picks a visitor's language: the lang parameter, else the
// browser's Accept-Language, else the workspace default.
func (s *Server) publicLang(r *http.Request, ws platform.Workspace, param string) i18n.Lang {
	if l, ok := i18n.Parse(param); ok {
		return l
	}
	def, _ := i18n.Parse(ws.DefaultLocale)
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"), def)
}

func (s *Server) publicForm(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	ctx := r.Context()
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), s.Workspace)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	script := strings.HasSuffix(key, ".js")
	f, err := s.Forms.ByKey(ctx, s.Workspace, strings.TrimSuffix(key, ".js"))
	if err == nil && f.Archived {
		err = errs.NotFoundf("form closed")
	}
	if err != nil {
		if script {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.fail(w, r, nil, err)
		return
	}
	lang := s.publicLang(r, ws, r.URL.Query().Get("lang"))
	if script {
		s.formScript(w, r, ws, f, lang)
		return
	}
	hidden := map[string]string{}
	q := r.URL.Query()
	// A link to the hosted page may carry the page it came from, UTM
	// parameters and the tracking visitor id (ryorin_vid).
	for _, k := range append([]string{forms.InputPageURL, forms.InputReferrer, forms.InputVisitor}, forms.UTMInputs...) {
		if v := q.Get(k); v != "" {
			hidden[k] = v
		}
	}
	if hidden[forms.InputReferrer] == "" && r.Referer() != "" {
		hidden[forms.InputReferrer] = r.Referer()
	}
	if err := s.renderHosted(w, r, http.StatusOK, f, lang, url.Values{}, nil, hidden); err != nil {
		s.fail(w, r, nil, err)
	}
}

// renderHosted shows the hosted form, with a fresh render token, the
// visitor's input and their errors.
func (s *Server) renderHosted(w http.ResponseWriter, r *http.Request, status int, f forms.Form, lang i18n.Lang, v url.Values, fe forms.FieldErrors, hidden map[string]string) error {
	tok, err := s.Forms.RenderToken(r.Context(), f)
	if err != nil {
		return err
	}
	data := &HostedFormPage{Page: s.base(nil, lang, "forms.public.title", ""), Form: f, Action: "/f/" + f.Key, Inputs: publicInputs(f, lang, v, fe),
		Token: tok, Hidden: hidden, ConsentText: f.ConsentText(lang), Consent: v.Get(forms.InputConsent) != "", ConsentErr: fe[forms.InputConsent],
		FormErr: fe[forms.FormError], Honeypot: forms.InputHoneypot, OtherLang: i18n.EN}
	data.Title = f.Name
	if lang == i18n.EN {
		data.OtherLang = i18n.JA
	}
	q := r.URL.Query()
	q.Set(forms.InputLang, string(data.OtherLang))
	data.OtherURL = "/f/" + f.Key + "?" + q.Encode()
	w.Header().Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	return s.render(w, "form_hosted", data)
}

// submitPublicForm takes a post from the hosted page, a plain-HTML embed or
// the script embed (which asks for JSON). It is exempt from the cross-origin
// check: spam traps, a rate limit and a size limit protect it instead.
func (s *Server) submitPublicForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	if asJSON {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	ws, err := platform.GetWorkspace(ctx, s.DB.Reader(), s.Workspace)
	if err != nil {
		s.publicFail(w, r, asJSON, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormPost)
	if err := r.ParseForm(); err != nil {
		s.publicFail(w, r, asJSON, errs.E(errs.TooLarge, "", "the form post is too large or malformed"))
		return
	}
	lang := s.publicLang(r, ws, r.PostForm.Get(forms.InputLang))
	vid := ""
	if ck, err := r.Cookie("ryorin_vid"); err == nil {
		vid = ck.Value
	}
	out, err := s.Forms.Submit(ctx, forms.SubmitRequest{Workspace: s.Workspace, Key: r.PathValue("key"), Values: r.PostForm, Lang: lang,
		IP: httpx.ClientIP(r, ws.TrustedProxies), UserAgent: r.UserAgent(), VisitorCookie: vid, Referer: r.Referer(), BaseURL: s.publicBase(r, ws)})
	if err != nil && !errs.Is(err, errs.RateLimited) {
		s.publicFail(w, r, asJSON, err)
		return
	}
	if err != nil { // rate limited: say so next to the form
		out.Errors = forms.FieldErrors{forms.FormError: i18n.T(lang, "forms.err.rate_limited")}
	}
	status := http.StatusOK
	if out.Errors != nil {
		status = http.StatusUnprocessableEntity
		if err != nil {
			status = http.StatusTooManyRequests
		}
	}
	if asJSON {
		httpx.WriteJSON(w, status, map[string]any{"ok": out.Errors == nil, "message": out.Message, "redirect": out.Redirect, "errors": out.Errors})
		return
	}
	if out.Errors != nil {
		hidden := map[string]string{}
		for _, k := range append([]string{forms.InputPageURL, forms.InputReferrer, forms.InputRedirect, forms.InputVisitor}, forms.UTMInputs...) {
			if v := r.PostForm.Get(k); v != "" {
				hidden[k] = v
			}
		}
		if err := s.renderHosted(w, r, status, out.Form, lang, r.PostForm, out.Errors, hidden); err != nil {
			s.fail(w, r, nil, err)
		}
		return
	}
	if out.Redirect != "" {
		http.Redirect(w, r, out.Redirect, http.StatusSeeOther)
		return
	}
	data := &HostedDonePage{Page: s.base(nil, lang, "forms.public.thanks_title", ""), Heading: out.Form.Name, Lines: strings.Split(out.Message, "\n")}
	_ = s.render(w, "form_hosted_done", data)
}

// publicFail answers a public post that could not be taken.
func (s *Server) publicFail(w http.ResponseWriter, r *http.Request, asJSON bool, err error) {
	if asJSON {
		httpx.WriteError(w, r, s.Log, err)
		return
	}
	s.fail(w, r, nil, err)
}

// confirmPublicForm records a double opt-in from the emailed link.
func (s *Server) confirmPublicForm(w http.ResponseWriter, r *http.Request) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), s.Workspace)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	conf, err := s.Forms.Confirm(r.Context(), s.Workspace, r.PathValue("token"))
	lang := s.publicLang(r, ws, conf.Submission.Lang)
	data := &HostedDonePage{Page: s.base(nil, lang, "forms.public.confirm_title", "")}
	switch {
	case errs.Is(err, errs.Unauthenticated):
		data.Heading = data.T("forms.public.confirm_title")
		data.Lines = []string{data.T("forms.public.confirm_invalid")}
		w.WriteHeader(http.StatusBadRequest)
	case err != nil:
		s.fail(w, r, nil, err)
		return
	case conf.Already:
		data.Heading, data.Lines = conf.Form.Name, []string{data.T("forms.public.confirm_already")}
	default:
		data.Heading, data.Lines = conf.Form.Name, []string{data.T("forms.public.confirmed")}
	}
	_ = s.render(w, "form_hosted_done", data)
}

// htmlEmbed is the plain-HTML snippet of a form: it works with no
// JavaScript at all, posting to the form's endpoint.
func htmlEmbed(f forms.Form, lang i18n.Lang, base, token string) string {
	e := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, "<form action=\"%s/f/%s\" method=\"post\" accept-charset=\"utf-8\">\n", e(base), e(f.Key))
	for _, in := range publicInputs(f, lang, url.Values{}, nil) {
		req := ""
		if in.Required {
			req = " required"
		}
		id := "ryorin-" + f.Key + "-" + in.Key
		switch in.Type {
		case "select":
			fmt.Fprintf(&b, "  <p><label for=\"%s\">%s</label><br>\n  <select id=\"%s\" name=\"%s\"%s><option value=\"\"></option>", e(id), e(in.Label), e(id), e(in.Key), req)
			for _, o := range in.Options {
				fmt.Fprintf(&b, "<option value=\"%s\">%s</option>", e(o.Value), e(o.Label))
			}
			b.WriteString("</select></p>\n")
		case "checkbox":
			fmt.Fprintf(&b, "  <p><label><input type=\"checkbox\" name=\"%s\" value=\"1\"%s> %s</label></p>\n", e(in.Key), req, e(in.Label))
		case "checkboxes":
			fmt.Fprintf(&b, "  <fieldset><legend>%s</legend>", e(in.Label))
			for _, o := range in.Options {
				fmt.Fprintf(&b, "<label><input type=\"checkbox\" name=\"%s\" value=\"%s\"> %s</label> ", e(in.Key), e(o.Value), e(o.Label))
			}
			b.WriteString("</fieldset>\n")
		case "textarea":
			fmt.Fprintf(&b, "  <p><label for=\"%s\">%s</label><br>\n  <textarea id=\"%s\" name=\"%s\"%s></textarea></p>\n", e(id), e(in.Label), e(id), e(in.Key), req)
		default:
			fmt.Fprintf(&b, "  <p><label for=\"%s\">%s</label><br>\n  <input id=\"%s\" type=\"%s\" name=\"%s\" autocomplete=\"%s\"%s></p>\n", e(id), e(in.Label), e(id), e(in.Type), e(in.Key), e(in.AutoComplete), req)
		}
	}
	if f.ConsentEnabled {
		req := ""
		if f.ConsentRequired {
			req = " required"
		}
		fmt.Fprintf(&b, "  <p><label><input type=\"checkbox\" name=\"%s\" value=\"1\"%s> %s</label></p>\n", forms.InputConsent, req, e(f.ConsentText(lang)))
	}
	fmt.Fprintf(&b, "  <div style=\"position:absolute;left:-10000px\" aria-hidden=\"true\"><input type=\"text\" name=\"%s\" tabindex=\"-1\" autocomplete=\"off\"></div>\n", forms.InputHoneypot)
	fmt.Fprintf(&b, "  <input type=\"hidden\" name=\"%s\" value=\"%s\">\n  <input type=\"hidden\" name=\"%s\" value=\"%s\">\n", forms.InputToken, e(token), forms.InputLang, lang)
	fmt.Fprintf(&b, "  <button type=\"submit\">%s</button>\n</form>", e(i18n.T(lang, "forms.public.submit")))
	return b.String()
}

// scriptConfig is what the script embed renders from.
type scriptConfig struct {
	Key         string        `json:"key"`
	Action      string        `json:"action"`
	Lang        i18n.Lang     `json:"lang"`
	Token       string        `json:"token"`
	Inputs      []PublicInput `json:"inputs"`
	Consent     string        `json:"consent,omitempty"`
	ConsentReq  bool          `json:"consent_required"`
	Honeypot    string        `json:"honeypot"`
	Submit      string        `json:"submit"`
	Sending     string        `json:"sending"`
	Failed      string        `json:"failed"`
	RequiredTag string        `json:"required_tag"`
}

// formScript serves /f/{key}.js: the form rendered into the embedding page,
// posting with fetch (a CORS simple request, so no preflight).
func (s *Server) formScript(w http.ResponseWriter, r *http.Request, ws platform.Workspace, f forms.Form, lang i18n.Lang) {
	tok, err := s.Forms.RenderToken(r.Context(), f)
	if err != nil {
		s.Log.Error("form script: token", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	cfg := scriptConfig{Key: f.Key, Action: s.publicBase(r, ws) + "/f/" + f.Key, Lang: lang, Token: tok, Inputs: publicInputs(f, lang, url.Values{}, nil),
		Honeypot: forms.InputHoneypot, Submit: i18n.T(lang, "forms.public.submit"), Sending: i18n.T(lang, "forms.public.sending"),
		Failed: i18n.T(lang, "forms.public.failed"), RequiredTag: i18n.T(lang, "forms.public.required")}
	if f.ConsentEnabled {
		cfg.Consent, cfg.ConsentReq = f.ConsentText(lang), f.ConsentRequired
	}
	js, _ := json.Marshal(cfg) // escapes <, > and &, so it is safe inside a script
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "%s(%s);\n", embedScript, js)
}
