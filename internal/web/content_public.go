package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/content"
	"github.com/ryorin/ryorin/internal/marketing/forms"
	"github.com/ryorin/ryorin/internal/platform"
)

// The public content pages need no session. A share link (/c/s/{token})
// carries only a signed asset, contact and rep; an access link
// (/c/a/{token}) only a signed asset. Where a link leads is always the
// asset's stored address, so no link is an open redirect. A forged or
// altered token is a plain 404 and records nothing.

func (s *Server) contentPublicRoutes() {
	m := s.mux
	m.HandleFunc("GET /c/s/{token}", s.contentShared)
	m.HandleFunc("GET /c/a/{token}", s.contentAccess)
	m.HandleFunc("GET /c/{key}", s.contentPublic)
	m.HandleFunc("POST /c/{key}", s.contentUnlock)
}

// ContentHostedPage is an asset's public page: the asset, then either its
// gating form or the link to open it.
type ContentHostedPage struct {
	Page
	A      content.Asset
	Form   *HostedFormPage // the gate, while it stands
	Access string          // where to open or download the asset
	Ready  bool            // the gate was just passed
}

// contentLimited applies the per-IP limit of the public links; it answers
// 429 itself and returns false when the client is over it.
func (s *Server) contentLimited(w http.ResponseWriter, r *http.Request) (platform.Workspace, bool) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), s.Workspace)
	if err != nil {
		s.fail(w, r, nil, err)
		return ws, false
	}
	if !s.emailLinkAllowed(r, ws) {
		http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
		return ws, false
	}
	return ws, true
}

func (s *Server) contentFail(w http.ResponseWriter, r *http.Request, err error) {
	if errs.KindOf(err) != errs.Internal {
		err = errs.NotFoundf("page not found")
	}
	s.fail(w, r, nil, err)
}

func (s *Server) renderContentHosted(w http.ResponseWriter, status int, data *ContentHostedPage) {
	data.Title = data.A.Title
	w.Header().Set("X-Robots-Tag", "noindex")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(status)
	_ = s.render(w, "content_hosted", data)
}

// contentShared follows a rep's share link: the view is recorded, then the
// asset's page is shown with its open or download button.
func (s *Server) contentShared(w http.ResponseWriter, r *http.Request) {
	ws, ok := s.contentLimited(w, r)
	if !ok {
		return
	}
	op, err := s.Content.OpenShare(r.Context(), s.Workspace, r.PathValue("token"), s.publicBase(r, ws))
	if err != nil {
		s.contentFail(w, r, err)
		return
	}
	lang := s.publicLang(r, ws, r.URL.Query().Get("lang"))
	s.renderContentHosted(w, http.StatusOK, &ContentHostedPage{Page: s.base(nil, lang, "content.title", ""), A: op.Asset, Access: content.AccessPath(op.Access)})
}

// contentPublic shows a published asset's public page: the gating form, or
// the asset itself.
func (s *Server) contentPublic(w http.ResponseWriter, r *http.Request) {
	ws, ok := s.contentLimited(w, r)
	if !ok {
		return
	}
	op, err := s.Content.OpenPublic(r.Context(), s.Workspace, r.PathValue("key"), s.publicBase(r, ws))
	if err != nil {
		s.contentFail(w, r, err)
		return
	}
	lang := s.publicLang(r, ws, r.URL.Query().Get("lang"))
	data := &ContentHostedPage{Page: s.base(nil, lang, "content.title", ""), A: op.Asset}
	if !op.Gated {
		data.Access = content.AccessPath(op.Access)
		s.renderContentHosted(w, http.StatusOK, data)
		return
	}
	f, err := s.gateForm(r, op.Asset)
	if err != nil {
		s.contentFail(w, r, err)
		return
	}
	hidden := map[string]string{}
	if r.Referer() != "" {
		hidden[forms.InputReferrer] = r.Referer()
	}
	for _, k := range append([]string{forms.InputVisitor}, forms.UTMInputs...) {
		if v := r.URL.Query().Get(k); v != "" {
			hidden[k] = v
		}
	}
	if data.Form, err = s.gatePage(r, f, op.Asset, lang, url.Values{}, nil, hidden); err != nil {
		s.contentFail(w, r, err)
		return
	}
	s.renderContentHosted(w, http.StatusOK, data)
}

// gateForm returns the open form that gates x.
func (s *Server) gateForm(r *http.Request, x content.Asset) (forms.Form, error) {
	if s.Forms == nil {
		return forms.Form{}, errs.NotFoundf("form not found")
	}
	f, err := s.Forms.Get(r.Context(), s.sysActor(), x.FormID)
	if err == nil && f.Archived {
		err = errs.NotFoundf("form closed")
	}
	return f, err
}

// gatePage renders the forms package's hosted form, posting back to the
// asset's page.
func (s *Server) gatePage(r *http.Request, f forms.Form, x content.Asset, lang i18n.Lang, v url.Values, fe forms.FieldErrors, hidden map[string]string) (*HostedFormPage, error) {
	tok, err := s.Forms.RenderToken(r.Context(), f)
	if err != nil {
		return nil, err
	}
	return &HostedFormPage{Page: s.base(nil, lang, "forms.public.title", ""), Form: f, Action: content.PublicPath(x), Inputs: publicInputs(f, lang, v, fe),
		Token: tok, Hidden: hidden, ConsentText: f.ConsentText(lang), Consent: v.Get(forms.InputConsent) != "", ConsentErr: fe[forms.InputConsent],
		FormErr: fe[forms.FormError], Honeypot: forms.InputHoneypot}, nil
}

// contentUnlock takes the gating form's post. A valid submission creates or
// updates the contact as any form post does; the visitor then gets the
// asset. The page posts to itself (same origin), so unlike the embeddable
// form endpoint it stays under the cross-origin check; the form's spam
// traps, rate limit and size limit apply as on any form post.
func (s *Server) contentUnlock(w http.ResponseWriter, r *http.Request) {
	ws, ok := s.contentLimited(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	x, err := s.Content.ByKey(ctx, s.Workspace, r.PathValue("key"))
	if err != nil || !x.Published() || x.FormID == 0 {
		s.contentFail(w, r, errs.NotFoundf("content not found"))
		return
	}
	f, err := s.gateForm(r, x)
	if err != nil {
		s.contentFail(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormPost)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, nil, errs.E(errs.TooLarge, "", "the form post is too large or malformed"))
		return
	}
	lang := s.publicLang(r, ws, r.PostForm.Get(forms.InputLang))
	vid := ""
	if ck, err := r.Cookie("ryorin_vid"); err == nil {
		vid = ck.Value
	}
	base := s.publicBase(r, ws)
	out, err := s.Forms.Submit(ctx, forms.SubmitRequest{Workspace: s.Workspace, Key: f.Key, Values: r.PostForm, Lang: lang,
		IP: httpx.ClientIP(r, ws.TrustedProxies), UserAgent: r.UserAgent(), VisitorCookie: vid, Referer: r.Referer(), BaseURL: base})
	if err != nil && !errs.Is(err, errs.RateLimited) {
		s.contentFail(w, r, err)
		return
	}
	status := http.StatusUnprocessableEntity
	if err != nil {
		out.Errors = forms.FieldErrors{forms.FormError: i18n.T(lang, "forms.err.rate_limited")}
		status = http.StatusTooManyRequests
	}
	data := &ContentHostedPage{Page: s.base(nil, lang, "content.title", ""), A: x}
	if out.Errors != nil {
		hidden := map[string]string{}
		for _, k := range append([]string{forms.InputPageURL, forms.InputReferrer, forms.InputVisitor}, forms.UTMInputs...) {
			if v := r.PostForm.Get(k); v != "" {
				hidden[k] = v
			}
		}
		if data.Form, err = s.gatePage(r, f, x, lang, r.PostForm, out.Errors, hidden); err != nil {
			s.contentFail(w, r, err)
			return
		}
		s.renderContentHosted(w, status, data)
		return
	}
	data.Ready = true
	if out.Spam { // bots see the usual thanks and learn nothing, but get no asset
		s.renderContentHosted(w, http.StatusOK, data)
		return
	}
	var contact int64
	if out.Submission != nil {
		contact = out.Submission.ContactID
	}
	op, err := s.Content.Unlock(ctx, s.Workspace, x.Key, contact, base)
	if err != nil {
		s.contentFail(w, r, err)
		return
	}
	data.Access = content.AccessPath(op.Access)
	s.renderContentHosted(w, http.StatusOK, data)
}

// contentAccess opens the asset an access token names: its file as a
// download, or a redirect to its stored address.
func (s *Server) contentAccess(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.contentLimited(w, r); !ok {
		return
	}
	x, err := s.Content.Resolve(r.Context(), s.Workspace, r.PathValue("token"))
	if err != nil {
		s.contentFail(w, r, err)
		return
	}
	if x.IsFile() {
		if err := s.serveAssetFile(w, r, x); err != nil {
			s.contentFail(w, r, err)
		}
		return
	}
	u, err := url.Parse(x.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(x.URL, "\r\n") {
		s.contentFail(w, r, errs.NotFoundf("content not found"))
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusFound)
}
