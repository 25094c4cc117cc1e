package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/marketing/segments"
	"github.com/ryorin/ryorin/internal/platform"
)

// segmentRoutes lists the segment editor's and the lists' pages.
func (s *Server) segmentRoutes() {
	if s.Segments == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /segments", s.signedIn(s.segmentsIndex))
	m.HandleFunc("GET /segments/new", s.signedIn(s.segmentEditor))
	m.HandleFunc("POST /segments", s.signedIn(s.segmentEditorPost))
	m.HandleFunc("POST /segments/count", s.signedIn(s.segmentCount))
	m.HandleFunc("GET /segments/{id}", s.signedIn(s.segmentEditor))
	m.HandleFunc("POST /segments/{id}", s.signedIn(s.segmentEditorPost))
	m.HandleFunc("POST /segments/{id}/delete", s.signedIn(s.deleteSegment))
	m.HandleFunc("POST /lists", s.signedIn(s.createList))
	m.HandleFunc("GET /lists/{id}", s.signedIn(s.listPage))
	m.HandleFunc("POST /lists/{id}", s.signedIn(s.renameList))
	m.HandleFunc("POST /lists/{id}/delete", s.signedIn(s.deleteList))
	m.HandleFunc("POST /lists/{id}/remove", s.signedIn(s.removeFromList))
	m.HandleFunc("POST /contacts/{id}/lists", s.signedIn(s.contactAddToList))
}

// SegmentsPage is the segments and lists overview.
type SegmentsPage struct {
	Page
	Segments []segments.Segment
	Lists    []segments.List
	CanEdit  bool
	Errors   map[string]string
}

// Conditions counts a segment's conditions.
func (p SegmentsPage) Conditions(sg segments.Segment) int {
	n := 0
	for _, g := range sg.Definition.Groups {
		n += len(g.Conditions)
	}
	return n
}

func (s *Server) segmentsIndex(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.showSegmentsIndex(w, r, c, nil)
}

func (s *Server) showSegmentsIndex(w http.ResponseWriter, r *http.Request, c *rctx, errors map[string]string) error {
	ctx, q := r.Context(), s.DB.Reader()
	data := &SegmentsPage{Page: s.base(c, c.Lang, "segments.title", "segments"), CanEdit: canEditForms(c.Actor), Errors: errors}
	var err error
	if data.Segments, err = s.Segments.Segments(ctx, q, c.Actor.WorkspaceID); err != nil {
		return err
	}
	if data.Lists, err = s.Segments.Lists(ctx, q, c.Actor.WorkspaceID); err != nil {
		return err
	}
	return s.show(w, c, "segments", data)
}

// EdField is one field the editor offers.
type EdField struct {
	Key, Label, Group string
	Kind              segments.FieldKind
}

// EdCond is one condition row of the editor.
type EdCond struct {
	G, I int
	segments.Condition
	Kind segments.FieldKind
	Ops  []string
	Err  string
}

// EdGroup is one group of the editor.
type EdGroup struct {
	G     int
	Conds []EdCond
	Err   string
}

// SegmentEditPage is the segment editor: the definition as rows, the live
// count and a preview of the first contacts, and the stored members.
type SegmentEditPage struct {
	Page
	ID          int64
	Name        string
	Description string
	Groups      []EdGroup
	Fields      []EdField
	FieldGroups []string
	Lists       []segments.List
	Grades      []string
	Channels    []platform.Channel
	Props       map[string]crm.PropertyDefinition
	Preview     *segments.Preview
	Saved       *segments.Segment
	Members     segments.MemberPage
	Errors      map[string]string
	Error       string
	CanEdit     bool
}

// FieldLabel names a field in the page's language.
func (p *SegmentEditPage) FieldLabel(key string) string {
	for _, f := range p.Fields {
		if f.Key == key {
			return f.Label
		}
	}
	return key
}

// PropOptions lists a choice property's options as value → label.
func (p *SegmentEditPage) PropOptions(key string) []crm.Option {
	d, ok := p.Props[strings.TrimPrefix(key, "prop.")]
	if !ok {
		return nil
	}
	return d.Options
}

// OptLabel is a property option's label in the page's language.
func (p *SegmentEditPage) OptLabel(o crm.Option) string {
	if p.Lang == i18n.JA && o.LabelJA != "" {
		return o.LabelJA
	}
	return o.LabelEN
}

// MemberName is a member's name, or their email.
func (p Page) MemberName(m segments.Member) string {
	if n := i18n.PersonName(p.Lang, m.FamilyName, m.GivenName); n != "" {
		return n
	}
	return m.Email
}

func fieldGroup(f segments.Field) string {
	switch {
	case strings.HasPrefix(f.Key, "prop."):
		return "custom"
	case strings.HasPrefix(f.Key, "company."):
		return "company"
	case f.Kind == segments.KindBehavior:
		return "behavior"
	case f.Key == "fit_grade" || f.Key == "fit_score" || f.Key == "engagement_score":
		return "score"
	case f.Key == "list":
		return "membership"
	}
	return "contact"
}

// editorPage builds the editor's data around a definition.
func (s *Server) editorPage(r *http.Request, c *rctx, id int64, name, desc string, d segments.Definition) (*SegmentEditPage, error) {
	ctx, q := r.Context(), s.DB.Reader()
	p := &SegmentEditPage{Page: s.base(c, c.Lang, "segments.title", "segments"), ID: id, Name: name, Description: desc, Errors: map[string]string{},
		Grades: []string{"A", "B", "C", "D"}, Props: map[string]crm.PropertyDefinition{}, CanEdit: canEditForms(c.Actor),
		FieldGroups: []string{"contact", "company", "score", "membership", "behavior", "custom"}}
	props, err := s.CRM.Properties(ctx, q, c.Actor.WorkspaceID, "contact")
	if err != nil {
		return nil, err
	}
	for _, pd := range props {
		p.Props[pd.Key] = pd
	}
	for _, f := range segments.Fields(props) {
		label := p.T("segments.field." + f.Key)
		if pd, ok := p.Props[strings.TrimPrefix(f.Key, "prop.")]; ok && strings.HasPrefix(f.Key, "prop.") {
			label = PropFilter{Page: p.Page}.Label(pd)
		}
		p.Fields = append(p.Fields, EdField{Key: f.Key, Label: label, Group: fieldGroup(f), Kind: f.Kind})
	}
	if p.Lists, err = s.Segments.Lists(ctx, q, c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	if p.Channels, err = platform.ListChannels(ctx, q, c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	kinds := map[string]segments.FieldKind{}
	for _, f := range p.Fields {
		kinds[f.Key] = f.Kind
	}
	for gi, g := range d.Groups {
		eg := EdGroup{G: gi}
		for ci, cd := range g.Conditions {
			k, ok := kinds[cd.Field]
			if !ok {
				k = segments.KindText
			}
			ops := segments.Ops[k]
			if !contains(ops, cd.Op) {
				cd.Op = ops[0]
			}
			eg.Conds = append(eg.Conds, EdCond{G: gi, I: ci, Condition: cd, Kind: k, Ops: ops})
		}
		p.Groups = append(p.Groups, eg)
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// newDefinition is what a new segment starts from.
func newDefinition() segments.Definition {
	return segments.Definition{Groups: []segments.Group{{Conditions: []segments.Condition{{Field: "lifecycle_stage", Op: "eq", Value: "lead"}}}}}
}

func (s *Server) segmentEditor(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := segments.MayListMembers(c.Actor); err != nil {
		return err
	}
	id := formInt(r.PathValue("id"))
	if r.PathValue("id") != "" && id == 0 {
		return notFound()
	}
	d, name, desc := newDefinition(), "", ""
	var saved *segments.Segment
	if id != 0 {
		sg, err := s.Segments.GetSegment(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, id)
		if err != nil {
			return err
		}
		d, name, desc, saved = sg.Definition, sg.Name, sg.Description, &sg
	}
	p, err := s.editorPage(r, c, id, name, desc, d)
	if err != nil {
		return err
	}
	p.Saved = saved
	if id != 0 {
		p.Title = name
		if p.Members, err = s.Segments.SegmentMembers(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, id, formInt(r.URL.Query().Get("after")), 50); err != nil {
			return err
		}
	}
	s.preview(r, c, p, d)
	return s.show(w, c, "segment_edit", p)
}

// preview counts the definition and lists its first contacts, or shows why
// it cannot.
func (s *Server) preview(r *http.Request, c *rctx, p *SegmentEditPage, d segments.Definition) {
	raw, _ := json.Marshal(d)
	d, err := s.Segments.ParseDefinition(r.Context(), c.Actor.WorkspaceID, raw)
	if err == nil {
		var pv segments.Preview
		if pv, err = s.Segments.PreviewDefinition(r.Context(), c.Actor.WorkspaceID, d); err == nil {
			p.Preview = &pv
			return
		}
	}
	s.editorError(p, err)
}

// editorError puts a domain error beside the row or input it names.
func (s *Server) editorError(p *SegmentEditPage, err error) {
	field, msg, ok := formError(err)
	if !ok {
		p.Error = p.T("segments.err.preview")
		s.Log.Error("segment preview", "err", err)
		return
	}
	if field == "name" || field == "description" {
		p.Errors[field] = localize(p.Lang, msg)
		if errs.KindOf(err) == errs.Conflict {
			p.Errors[field] = p.T("segments.err.name_taken")
		}
		return
	}
	var g, i int
	var part string
	if n, _ := fmt.Sscanf(strings.NewReplacer("[", " ", "]", " ", ".", " ").Replace(field), "groups %d conditions %d %s", &g, &i, &part); n == 3 {
		key := "segments.err." + part
		text := p.T(key)
		if text == key {
			text = p.T("segments.err.value")
		}
		if g < len(p.Groups) && i < len(p.Groups[g].Conds) {
			p.Groups[g].Conds[i].Err = text
			return
		}
	}
	p.Error = p.T("segments.err.empty")
}

// definitionFromForm reads the editor's rows: c.<group>.<row>.<part>.
func definitionFromForm(r *http.Request) segments.Definition {
	type key struct{ g, i int }
	rows := map[key]*segments.Condition{}
	for k, v := range r.PostForm {
		parts := strings.Split(k, ".")
		if len(parts) != 4 || parts[0] != "c" || len(v) == 0 {
			continue
		}
		g, err1 := strconv.Atoi(parts[1])
		i, err2 := strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil || g < 0 || i < 0 || g >= segments.MaxGroups || i >= segments.MaxConditions {
			continue
		}
		cd := rows[key{g, i}]
		if cd == nil {
			cd = &segments.Condition{}
			rows[key{g, i}] = cd
		}
		val := strings.TrimSpace(v[0])
		switch parts[3] {
		case "field":
			cd.Field = val
		case "op":
			cd.Op = val
		case "value":
			cd.Value = val
		case "count":
			cd.Count, _ = strconv.Atoi(val)
		case "days":
			cd.Days, _ = strconv.Atoi(val)
		case "path":
			cd.Path = val
		}
	}
	keys := make([]key, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].g != keys[b].g {
			return keys[a].g < keys[b].g
		}
		return keys[a].i < keys[b].i
	})
	var d segments.Definition
	lastG := -1
	for _, k := range keys {
		if k.g != lastG {
			d.Groups = append(d.Groups, segments.Group{})
			lastG = k.g
		}
		d.Groups[len(d.Groups)-1].Conditions = append(d.Groups[len(d.Groups)-1].Conditions, *rows[k])
	}
	return d
}

// tidy keeps each row consistent with its field, so switching a row's field
// without JavaScript never shows an error for the old field's operator.
func tidy(d *segments.Definition, fields []EdField) {
	kinds := map[string]segments.FieldKind{}
	for _, f := range fields {
		kinds[f.Key] = f.Kind
	}
	for gi := range d.Groups {
		for ci := range d.Groups[gi].Conditions {
			cd := &d.Groups[gi].Conditions[ci]
			k, ok := kinds[cd.Field]
			if !ok {
				continue
			}
			if !contains(segments.Ops[k], cd.Op) {
				cd.Op = segments.Ops[k][0]
			}
			if k == segments.KindBehavior {
				cd.Value = ""
				if cd.Days == 0 {
					cd.Days = 30
				}
				if cd.Op == "none" {
					cd.Count = 0
				} else if cd.Count == 0 {
					cd.Count = 1
				}
			} else {
				cd.Count, cd.Days, cd.Path = 0, 0, ""
			}
			if cd.Op == "empty" || cd.Op == "not_empty" {
				cd.Value = ""
			}
		}
	}
}

// segmentEditorPost handles every button of the editor: add or remove a
// row or group and preview (re-render), or save.
func (s *Server) segmentEditorPost(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	id := formInt(r.PathValue("id"))
	d := definitionFromForm(r)
	name, desc := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("description"))
	do := r.PostFormValue("do")
	switch {
	case strings.HasPrefix(do, "add:"):
		g := int(formInt(strings.TrimPrefix(do, "add:")))
		if g >= 0 && g < len(d.Groups) && len(d.Groups[g].Conditions) < segments.MaxConditions {
			d.Groups[g].Conditions = append(d.Groups[g].Conditions, segments.Condition{Field: "visited_page", Op: "at_least", Count: 1, Days: 30})
		}
	case do == "addgroup":
		if len(d.Groups) < segments.MaxGroups {
			d.Groups = append(d.Groups, segments.Group{Conditions: []segments.Condition{{Field: "lifecycle_stage", Op: "eq", Value: "lead"}}})
		}
	case strings.HasPrefix(do, "remove:"):
		var g, i int
		if n, _ := fmt.Sscanf(do, "remove:%d:%d", &g, &i); n == 2 && g >= 0 && g < len(d.Groups) && i >= 0 && i < len(d.Groups[g].Conditions) {
			d.Groups[g].Conditions = append(d.Groups[g].Conditions[:i], d.Groups[g].Conditions[i+1:]...)
			if len(d.Groups[g].Conditions) == 0 {
				d.Groups = append(d.Groups[:g], d.Groups[g+1:]...)
			}
		}
	}
	p, err := s.editorPage(r, c, id, name, desc, segments.Definition{})
	if err != nil {
		return err
	}
	tidy(&d, p.Fields)
	if p, err = s.editorPage(r, c, id, name, desc, d); err != nil {
		return err
	}
	if do == "save" {
		raw, _ := json.Marshal(d)
		in := segments.SegmentInput{Name: name, Description: desc, Definition: raw}
		var sg segments.Segment
		if id == 0 {
			sg, err = s.Segments.CreateSegment(r.Context(), c.Actor, in)
		} else {
			sg, err = s.Segments.UpdateSegment(r.Context(), c.Actor, id, in)
		}
		if err == nil {
			flash(w, i18n.T(c.Lang, "segments.saved"))
			http.Redirect(w, r, fmt.Sprintf("/segments/%d", sg.ID), http.StatusSeeOther)
			return nil
		}
		if _, _, ok := formError(err); !ok {
			return err
		}
		s.editorError(p, err)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "segment_edit", p)
	}
	if id != 0 {
		if sg, err := s.Segments.GetSegment(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, id); err == nil {
			p.Saved = &sg
		}
	}
	s.preview(r, c, p, d)
	return s.show(w, c, "segment_edit", p)
}

// segmentCount answers the editor's live count as JSON.
func (s *Server) segmentCount(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := segments.MayListMembers(c.Actor); err != nil {
		return err
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		return errs.Field("", "bad form")
	}
	d := definitionFromForm(r)
	out := map[string]any{}
	raw, _ := json.Marshal(d)
	d, err := s.Segments.ParseDefinition(r.Context(), c.Actor.WorkspaceID, raw)
	if err == nil {
		var n int64
		if n, err = s.Segments.Count(r.Context(), c.Actor.WorkspaceID, d); err == nil {
			out["count"], out["display"] = n, i18n.Number(n)
		}
	}
	if err != nil {
		if _, _, ok := formError(err); !ok {
			return err
		}
		out["error"] = i18n.T(c.Lang, "segments.err.incomplete")
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.Segments.DeleteSegment(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.deleted"))
	http.Redirect(w, r, "/segments", http.StatusSeeOther)
	return nil
}

// ListPage is one static list and its members.
type ListPage struct {
	Page
	L       segments.List
	Members segments.MemberPage
	CanEdit bool
	Errors  map[string]string
}

func (s *Server) listPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.showList(w, r, c, formInt(r.PathValue("id")), nil)
}

func (s *Server) showList(w http.ResponseWriter, r *http.Request, c *rctx, id int64, errors map[string]string) error {
	if err := segments.MayListMembers(c.Actor); err != nil {
		return err
	}
	ctx, q := r.Context(), s.DB.Reader()
	l, err := s.Segments.GetList(ctx, q, c.Actor.WorkspaceID, id)
	if err != nil {
		return err
	}
	data := &ListPage{Page: s.base(c, c.Lang, "segments.title", "segments"), L: l, CanEdit: canEditForms(c.Actor), Errors: errors}
	data.Title = l.Name
	if data.Members, err = s.Segments.ListMembers(ctx, q, c.Actor.WorkspaceID, id, formInt(r.URL.Query().Get("after")), 50); err != nil {
		return err
	}
	return s.show(w, c, "list", data)
}

func (s *Server) createList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	l, err := s.Segments.CreateList(r.Context(), c.Actor, segments.ListInput{Name: r.PostFormValue("name"), Description: r.PostFormValue("description")})
	if field, msg, ok := formError(err); ok {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.showSegmentsIndex(w, r, c, map[string]string{"list_" + field: listErr(c.Lang, err, msg)})
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/lists/%d", l.ID), http.StatusSeeOther)
	return nil
}

func listErr(lang i18n.Lang, err error, msg string) string {
	if errs.KindOf(err) == errs.Conflict {
		return i18n.T(lang, "segments.err.list_taken")
	}
	return localize(lang, msg)
}

func (s *Server) renameList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	_, err := s.Segments.UpdateList(r.Context(), c.Actor, id, segments.ListInput{Name: r.PostFormValue("name"), Description: r.PostFormValue("description")})
	if field, msg, ok := formError(err); ok {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.showList(w, r, c, id, map[string]string{field: listErr(c.Lang, err, msg)})
	}
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/lists/%d", id), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.Segments.DeleteList(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.deleted"))
	http.Redirect(w, r, "/segments", http.StatusSeeOther)
	return nil
}

func postedIDs(r *http.Request) []int64 {
	var ids []int64
	for _, v := range r.PostForm["id"] {
		if id := formInt(v); id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *Server) removeFromList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	id := formInt(r.PathValue("id"))
	n, err := s.Segments.RemoveFromList(r.Context(), c.Actor, id, postedIDs(r))
	if err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "segments.removed", "n", n))
	back := fmt.Sprintf("/lists/%d", id)
	if b := r.PostFormValue("back"); b != "" {
		back = localPath(b)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// contactAddToList adds the contact on the page to the chosen list.
func (s *Server) contactAddToList(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if _, err := s.Segments.AddToList(r.Context(), c.Actor, formInt(r.PostFormValue("list_id")), []int64{id}); err != nil {
		return err
	}
	flash(w, i18n.T(c.Lang, "common.saved"))
	http.Redirect(w, r, fmt.Sprintf("/contacts/%d", id), http.StatusSeeOther)
	return nil
}

// Memberships is the contact page's lists-and-segments panel.
type Memberships struct {
	Page      Page
	ContactID int64
	Lists     []segments.List
	Segments  []segments.Segment
	AllLists  []segments.List
}

// memberships loads a contact's lists and segments for the contact page.
func (s *Server) memberships(r *http.Request, c *rctx, p Page, id int64) (*Memberships, error) {
	if s.Segments == nil {
		return nil, nil
	}
	ctx, q := r.Context(), s.DB.Reader()
	m := &Memberships{Page: p, ContactID: id}
	var err error
	if m.Lists, err = s.Segments.ContactLists(ctx, q, c.Actor.WorkspaceID, id); err != nil {
		return nil, err
	}
	if m.Segments, err = s.Segments.ContactSegments(ctx, q, c.Actor.WorkspaceID, id); err != nil {
		return nil, err
	}
	if m.AllLists, err = s.Segments.Lists(ctx, q, c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	return m, nil
}
