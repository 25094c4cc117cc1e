package web

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// UsersPage is the data of the user list.
type UsersPage struct {
	Page
	List       []platform.User
	Teams      []platform.Team
	TeamNames  map[int64]string
	Roles      []platform.Role
	In         map[string]string // the add-user form
	Errors     FormErrors
	Edit       int64 // the user whose row is a form
	EditIn     map[string]string
	EditErrors FormErrors
}

// Role is the label of a role.
func (p Page) Role(r platform.Role) string { return p.T("settings.role." + string(r)) }

func (s *Server) loadUsers(r *http.Request, c *rctx) (*UsersPage, error) {
	if err := adminOnly(c); err != nil {
		return nil, err
	}
	ctx, q := r.Context(), s.DB.Reader()
	data := &UsersPage{Page: s.base(c, c.Lang, "settings.users.title", "settings"), Roles: platform.Roles, TeamNames: map[int64]string{},
		In: map[string]string{"role": string(platform.RoleSales)}, Errors: FormErrors{}, EditErrors: FormErrors{}}
	var err error
	if data.List, err = platform.ListUsers(ctx, q, c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	if data.Teams, err = platform.ListTeams(ctx, q, c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	for _, t := range data.Teams {
		data.TeamNames[t.ID] = t.Name
	}
	data.Edit = formInt(r.URL.Query().Get("edit"))
	for _, u := range data.List {
		if u.ID == data.Edit {
			data.EditIn = map[string]string{"name": u.Name, "role": string(u.Role), "team_id": fmt.Sprint(u.TeamID), "active": fmt.Sprint(u.Active)}
		}
	}
	return data, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadUsers(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_users", data)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	in := platform.NewUser{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: platform.Role(r.PostFormValue("role")),
		TeamID: formInt(r.PostFormValue("team_id")), Locale: r.PostFormValue("locale"), Password: r.PostFormValue("password")}
	_, err := platform.CreateUser(r.Context(), s.DB, c.Actor, in, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "email", "name", "role", "team_id", "locale", "password"); ok {
		data, lerr := s.loadUsers(r, c)
		if lerr != nil {
			return lerr
		}
		data.In, data.Errors = formValues(r, "password"), fe
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_users", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "settings.users.added", "/settings/users")
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	name, role, team, active := r.PostFormValue("name"), platform.Role(r.PostFormValue("role")), formInt(r.PostFormValue("team_id")), r.PostFormValue("active") == "true"
	p := platform.UserPatch{Name: &name, Role: &role, TeamID: &team, Active: &active}
	_, err := platform.UpdateUser(r.Context(), s.DB, c.Actor, id, p, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "name", "role", "team_id"); ok {
		data, lerr := s.loadUsers(r, c)
		if lerr != nil {
			return lerr
		}
		data.Edit, data.EditIn, data.EditErrors = id, formValues(r), fe
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_users", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/users")
}

// TeamsPage is the data of the team list.
type TeamsPage struct {
	Page
	Teams      []platform.Team
	Members    map[int64]int
	Functions  []string
	In         map[string]string
	Errors     FormErrors
	Edit       int64
	EditIn     map[string]string
	EditErrors FormErrors
}

var teamFunctions = []string{"marketing", "sales", "other"}

func (s *Server) loadTeams(r *http.Request, c *rctx) (*TeamsPage, error) {
	if err := adminOnly(c); err != nil {
		return nil, err
	}
	data := &TeamsPage{Page: s.base(c, c.Lang, "settings.teams.title", "settings"), Functions: teamFunctions, Members: map[int64]int{},
		In: map[string]string{"function": "sales"}, Errors: FormErrors{}, EditErrors: FormErrors{}}
	var err error
	if data.Teams, err = platform.ListTeams(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	for _, u := range data.Users {
		if u.TeamID != 0 {
			data.Members[u.TeamID]++
		}
	}
	data.Edit = formInt(r.URL.Query().Get("edit"))
	for _, t := range data.Teams {
		if t.ID == data.Edit {
			data.EditIn = map[string]string{"name": t.Name, "function": t.Function, "manager_id": fmt.Sprint(t.ManagerID)}
		}
	}
	return data, nil
}

func (s *Server) teamsPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadTeams(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_teams", data)
}

func (s *Server) saveTeam(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	in := platform.NewTeam{Name: r.PostFormValue("name"), Function: r.PostFormValue("function"), ManagerID: formInt(r.PostFormValue("manager_id"))}
	_, err := platform.SaveTeam(r.Context(), s.DB, c.Actor, id, in, s.Clock.Now())
	if fe, ok := formErrors(c.Lang, err, "name", "function", "manager_id"); ok {
		data, lerr := s.loadTeams(r, c)
		if lerr != nil {
			return lerr
		}
		if id == 0 {
			data.In, data.Errors = formValues(r), fe
		} else {
			data.Edit, data.EditIn, data.EditErrors = id, formValues(r), fe
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_teams", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/teams")
}

// PipelinesPage is the data of the pipeline list.
type PipelinesPage struct {
	Page
	Pipelines []crm.Pipeline
}

func (s *Server) pipelinesPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	data := &PipelinesPage{Page: s.base(c, c.Lang, "settings.pipelines.title", "settings")}
	var err error
	if data.Pipelines, err = s.CRM.Pipelines(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return err
	}
	return s.show(w, c, "settings_pipelines", data)
}

// StageRow is one row of the pipeline form, as typed.
type StageRow struct {
	ID          int64
	Name        string
	Probability string
	Kind        string
	Pos         string
	Remove      bool
}

// PipelineFormPage is the data of the form that creates or edits a pipeline.
type PipelineFormPage struct {
	Page
	ID        int64
	Name      string
	IsDefault bool
	Rows      []StageRow
	Kinds     []string
	Errors    FormErrors
	Stages    []crm.PipelineStage      // saved stages, for the playbook forms
	Guides    map[int64]crm.StageGuide // by stage id
	Criteria  []string
}

// HasCriterion reports whether a stage's guide requires a criterion.
func (p *PipelineFormPage) HasCriterion(stage int64, c string) bool {
	return slices.Contains(p.Guides[stage].Criteria, c)
}

// blankStages is how many empty rows the form offers for new stages.
const blankStages = 2

func (s *Server) pipelineForm(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	data := &PipelineFormPage{Page: s.base(c, c.Lang, "settings.pipelines.new", "settings"), Kinds: []string{"open", "won", "lost"}, Errors: FormErrors{}}
	if id := formInt(r.PathValue("id")); id != 0 {
		p, err := s.CRM.GetPipeline(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, id)
		if err != nil {
			return err
		}
		data.Title, data.ID, data.Name, data.IsDefault = p.Name, p.ID, p.Name, p.IsDefault
		for i, st := range p.Stages {
			data.Rows = append(data.Rows, StageRow{ID: st.ID, Name: st.Name, Probability: strconv.Itoa(st.Probability), Kind: st.Kind, Pos: strconv.Itoa(i + 1)})
			if st.Kind == "open" {
				data.Stages = append(data.Stages, st)
			}
		}
		if data.Guides, err = s.CRM.StageGuides(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
			return err
		}
		data.Criteria = crm.ExitCriteria
	} else {
		for _, k := range []string{"open", "open", "won", "lost"} {
			data.Rows = append(data.Rows, StageRow{Kind: k, Pos: strconv.Itoa(len(data.Rows) + 1)})
		}
	}
	for i := 0; i < blankStages; i++ {
		data.Rows = append(data.Rows, StageRow{Kind: "open", Pos: strconv.Itoa(len(data.Rows) + 1)})
	}
	return s.show(w, c, "settings_pipeline", data)
}

// stageRows reads the pipeline form's rows s0…sN.
func stageRows(r *http.Request) []StageRow {
	n := int(formInt(r.PostFormValue("n")))
	if n > 200 {
		n = 200
	}
	var rows []StageRow
	for i := 0; i < n; i++ {
		f := func(k string) string { return r.PostFormValue(fmt.Sprintf("s%d.%s", i, k)) }
		rows = append(rows, StageRow{ID: formInt(f("id")), Name: f("name"), Probability: f("probability"), Kind: f("kind"), Pos: f("pos"), Remove: f("remove") != ""})
	}
	return rows
}

func (s *Server) savePipeline(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	rows := stageRows(r)
	in := crm.PipelineInput{Name: r.PostFormValue("name"), IsDefault: r.PostFormValue("is_default") != ""}
	if id != 0 {
		old, err := s.CRM.GetPipeline(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, id)
		if err != nil {
			return err
		}
		in.Position = old.Position
	}
	// Kept and new rows, ordered by the position typed (ties keep form order).
	type keyed struct {
		pos int
		st  crm.PipelineStage
	}
	var ks []keyed
	bad := ""
	for i, row := range rows {
		if row.Remove || (row.ID == 0 && strings.TrimSpace(row.Name) == "") {
			continue
		}
		prob, err := strconv.Atoi(strings.TrimSpace(row.Probability))
		if err != nil && row.Kind == "open" {
			bad = i18nT(c, "settings.pipelines.prob_bad", "name", row.Name)
		}
		pos, err := strconv.Atoi(strings.TrimSpace(row.Pos))
		if err != nil {
			pos = i + 1
		}
		ks = append(ks, keyed{pos, crm.PipelineStage{ID: row.ID, Name: row.Name, Probability: prob, Kind: row.Kind}})
	}
	sort.SliceStable(ks, func(a, b int) bool { return ks[a].pos < ks[b].pos })
	for _, k := range ks {
		in.Stages = append(in.Stages, k.st)
	}
	var err error
	if bad == "" {
		_, err = s.CRM.SavePipeline(r.Context(), c.Actor, id, in)
	}
	fe, ok := formErrors(c.Lang, err, "name")
	if bad != "" {
		fe, ok = FormErrors{"": bad}, true
	}
	if ok {
		data := &PipelineFormPage{Page: s.base(c, c.Lang, "settings.pipelines.new", "settings"), ID: id, Name: in.Name, IsDefault: in.IsDefault,
			Rows: rows, Kinds: []string{"open", "won", "lost"}, Errors: fe}
		if id != 0 {
			data.Title = in.Name
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_pipeline", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/pipelines")
}

// PropertiesPage is the data of the custom property definitions.
type PropertiesPage struct {
	Page
	Objects    []string
	Types      []crm.PropertyType
	ByObject   map[string][]crm.PropertyDefinition
	In         map[string]string
	Errors     FormErrors
	Edit       int64
	EditIn     map[string]string
	EditErrors FormErrors
}

var propertyObjects = []string{"contact", "company", "deal"}

var propertyTypes = []crm.PropertyType{crm.PropText, crm.PropNumber, crm.PropDate, crm.PropSingleChoice, crm.PropMultiChoice, crm.PropBool}

// PropLabel is a property's label in the page's language.
func (p Page) PropLabel(d crm.PropertyDefinition) string {
	if p.Lang == "en" {
		return d.LabelEN
	}
	return d.LabelJA
}

// OptionsText shows a choice property's options one per line, as the form
// takes them: value=label, or value=日本語|English when the labels differ.
func OptionsText(opts []crm.Option) string {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString(o.Value)
		switch {
		case o.LabelJA == o.LabelEN && o.LabelJA != o.Value:
			b.WriteString("=" + o.LabelJA)
		case o.LabelJA != o.LabelEN:
			b.WriteString("=" + o.LabelJA + "|" + o.LabelEN)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parseOptions reads the options textarea: value=label or value=日本語|English.
func parseOptions(s string) []crm.Option {
	var out []crm.Option
	for _, l := range lines(s) {
		v, label, _ := strings.Cut(l, "=")
		o := crm.Option{Value: strings.TrimSpace(v)}
		ja, en, two := strings.Cut(label, "|")
		o.LabelJA, o.LabelEN = strings.TrimSpace(ja), strings.TrimSpace(ja)
		if two {
			o.LabelEN = strings.TrimSpace(en)
		}
		out = append(out, o)
	}
	return out
}

func (s *Server) loadProperties(r *http.Request, c *rctx) (*PropertiesPage, error) {
	if err := adminOnly(c); err != nil {
		return nil, err
	}
	data := &PropertiesPage{Page: s.base(c, c.Lang, "settings.properties.title", "settings"), Objects: propertyObjects, Types: propertyTypes,
		ByObject: map[string][]crm.PropertyDefinition{}, In: map[string]string{"object_type": "contact", "type": "text"},
		Errors: FormErrors{}, EditErrors: FormErrors{}}
	defs, err := s.CRM.Properties(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, "")
	if err != nil {
		return nil, err
	}
	data.Edit = formInt(r.URL.Query().Get("edit"))
	for _, d := range defs {
		data.ByObject[d.ObjectType] = append(data.ByObject[d.ObjectType], d)
		if d.ID == data.Edit {
			data.EditIn = map[string]string{"label_ja": d.LabelJA, "label_en": d.LabelEN, "options": OptionsText(d.Options),
				"required": fmt.Sprint(d.Required), "type": string(d.Type)}
		}
	}
	return data, nil
}

func (s *Server) propertiesPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadProperties(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_properties", data)
}

func (s *Server) saveProperty(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	in := crm.PropertyDefinition{ObjectType: r.PostFormValue("object_type"), Key: strings.TrimSpace(r.PostFormValue("key")),
		LabelJA: strings.TrimSpace(r.PostFormValue("label_ja")), LabelEN: strings.TrimSpace(r.PostFormValue("label_en")),
		Type: crm.PropertyType(r.PostFormValue("type")), Options: parseOptions(r.PostFormValue("options")), Required: r.PostFormValue("required") != ""}
	if id != 0 {
		defs, err := s.CRM.Properties(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, "")
		if err != nil {
			return err
		}
		for _, d := range defs {
			if d.ID == id {
				in.Position = d.Position // keep its place
			}
		}
	}
	_, err := s.CRM.SaveProperty(r.Context(), c.Actor, id, in)
	if fe, ok := formErrors(c.Lang, err, "object_type", "key", "label_ja", "label_en", "type", "options"); ok {
		if strings.HasPrefix(fe[""], "options[") {
			fe = FormErrors{"options": fe[""]}
		}
		data, lerr := s.loadProperties(r, c)
		if lerr != nil {
			return lerr
		}
		if id == 0 {
			data.In, data.Errors = formValues(r), fe
		} else {
			data.Edit, data.EditErrors = id, fe
			for k, v := range formValues(r) {
				data.EditIn[k] = v
			}
			if r.PostFormValue("required") == "" {
				data.EditIn["required"] = "false"
			}
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_properties", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/properties")
}

func (s *Server) deleteProperty(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := s.CRM.DeleteProperty(r.Context(), c.Actor, formInt(r.PathValue("id"))); err != nil {
		return err
	}
	return s.saved(w, r, c, "common.deleted", "/settings/properties")
}

// saveStageGuide stores one stage's playbook from the pipeline page.
func (s *Server) saveStageGuide(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	pid := formInt(r.PathValue("id"))
	rot, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("rot_days")))
	_, err := s.CRM.SetStageGuide(r.Context(), c.Actor, crm.StageGuide{StageID: formInt(r.PathValue("stage")), Guidance: r.PostFormValue("guidance"),
		Criteria: r.PostForm["criteria"], RotDays: rot})
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, fmt.Sprintf("/settings/pipelines/%d", pid), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", fmt.Sprintf("/settings/pipelines/%d", pid))
}
